import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { REGISTRY_FILE } from '../config/loadConfig';

/**
 * Sets `enabled` of one server in registry.yaml, keeping the user's comments and layout (a
 * YAML document edit, not a re-serialisation of the parsed config). Enabling removes the key,
 * since `true` is the default. Returns false when the server is not in the file.
 */
export async function setServerEnabled(configDir: string, server: string, enabled: boolean): Promise<boolean> {
  const file = path.join(configDir, REGISTRY_FILE);
  const doc = parseDocument(await readFile(file, 'utf8'));
  if (doc.errors.length) throw new Error(`${REGISTRY_FILE} does not parse: ${doc.errors[0]?.message ?? ''}`);
  const servers = doc.get('servers');
  if (!isSeq(servers)) return false;
  const entry = servers.items.find((item) => isMap(item) && item.get('name') === server);
  if (!isMap(entry)) return false;
  if (enabled) entry.delete('enabled');
  else entry.set('enabled', false);
  await writeFile(file, doc.toString());
  return true;
}
