import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { replaceFile } from '../platform/replaceFile';
import { restrictToUser } from '../platform/restrictToUser';

/** Name of the discovery file beside the config. */
export const DISCOVERY_FILE_NAME = 'gateway.json';

/** How local clients (the bridge, scripts) find a running gateway. Holds the token: 0600, git-ignored. */
export interface DiscoveryInfo {
  url: string;
  token: string;
  pid: number;
}

/** Runtime files a gateway writes into the config dir; none of them belongs in git. */
const RUNTIME_FILES = ['gateway.json', 'serve.state.json', 'serve.state.json.lock', 'serve.pid', 'serve.children.*.json', 'audit.jsonl', 'audit-*.jsonl', 'audit.anchor', 'HALT', '*.tmp'];

/** Writes the discovery file atomically with mode 0600, and makes sure git ignores it. */
export async function writeDiscoveryFile(dir: string, info: DiscoveryInfo): Promise<string> {
  await mkdir(dir, { recursive: true });
  // Windows ignores 0600: the folder's ACL decides who reads the token (platform/restrictToUser.ts).
  await restrictToUser(dir);
  await ensureGitignore(dir);
  const file = path.join(dir, DISCOVERY_FILE_NAME);
  const tmp = path.join(dir, `.${DISCOVERY_FILE_NAME}.${randomUUID()}.tmp`);
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await replaceFile(tmp, file);
  return file;
}

/** Reads the discovery file; undefined when absent or not ours to parse. */
export async function readDiscoveryFile(dir: string): Promise<DiscoveryInfo | undefined> {
  try {
    const data = JSON.parse(await readFile(path.join(dir, DISCOVERY_FILE_NAME), 'utf8')) as Partial<DiscoveryInfo>;
    if (typeof data.url === 'string' && typeof data.token === 'string' && typeof data.pid === 'number') {
      return { url: data.url, token: data.token, pid: data.pid };
    }
  } catch {
    // absent or corrupt: no gateway to talk to
  }
  return undefined;
}

/** Removes the discovery file if it still describes this process. */
export async function removeDiscoveryFile(dir: string, pid = process.pid): Promise<void> {
  const current = await readDiscoveryFile(dir);
  if (current && current.pid !== pid) return;
  await unlink(path.join(dir, DISCOVERY_FILE_NAME)).catch(() => undefined);
}

/**
 * Keeps runtime files (the token above all) out of git: creates `<dir>/.gitignore`, or adds the
 * missing lines to an existing one without touching the user's own lines.
 */
export async function ensureGitignore(dir: string): Promise<void> {
  const file = path.join(dir, '.gitignore');
  let existing = '';
  try {
    existing = await readFile(file, 'utf8');
  } catch {
    existing = '';
  }
  const present = new Set(existing.split(/\r?\n/).map((l) => l.trim()));
  const missing = RUNTIME_FILES.filter((l) => !present.has(l));
  if (missing.length === 0) return;
  const header = existing ? (existing.endsWith('\n') ? '' : '\n') : '# Written by Gatehouse: runtime files, tokens and logs stay out of git.\n';
  await writeFile(file, `${existing}${header}${missing.join('\n')}\n`);
}
