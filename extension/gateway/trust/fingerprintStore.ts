import { randomUUID } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { replaceFile } from '../../platform/replaceFile';

export const FINGERPRINTS_FILE_NAME = 'fingerprints.json';

/** `fingerprints.json` as rea writes it (SPEC §10.4). */
export interface FingerprintFile {
  version: '1';
  servers: Record<string, string>;
}

/** The store could not be read: never silently reset (that would turn drift into "first seen"). */
export class FingerprintStoreError extends Error {}

const HEX64 = /^[0-9a-f]{64}$/;

/** Reads the TOFU store; a missing file is a first run (empty); anything malformed throws. */
export async function readFingerprints(dir: string): Promise<FingerprintFile> {
  const file = path.join(dir, FINGERPRINTS_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: '1', servers: {} };
    throw new FingerprintStoreError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new FingerprintStoreError(`${file} is not valid JSON (${(err as Error).message}); fix it, or delete it to trust every server afresh`);
  }
  const d = data as Partial<FingerprintFile> | null;
  if (!d || d.version !== '1' || typeof d.servers !== 'object' || d.servers === null || Array.isArray(d.servers)) {
    throw new FingerprintStoreError(`${file} does not have the shape {"version":"1","servers":{…}}; fix it, or delete it to trust every server afresh`);
  }
  for (const [name, hash] of Object.entries(d.servers)) {
    if (typeof hash !== 'string' || !HEX64.test(hash)) throw new FingerprintStoreError(`${file}: the fingerprint of '${name}' is not 64 hex characters`);
  }
  return { version: '1', servers: { ...d.servers } };
}

/** Writes the store atomically (temp + fsync + rename), mode 0600 (rea wrote neither: §13.1 item 22). */
export async function writeFingerprints(dir: string, store: FingerprintFile): Promise<void> {
  const file = path.join(dir, FINGERPRINTS_FILE_NAME);
  const tmp = path.join(dir, `.${FINGERPRINTS_FILE_NAME}.${randomUUID()}.tmp`);
  const sorted = Object.fromEntries(Object.entries(store.servers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ version: '1', servers: sorted }, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await replaceFile(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
