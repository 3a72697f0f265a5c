import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { canonicalJson } from '../../extension/gateway/audit/canonicalJson';
import { GENESIS_HASH, sha256Hex } from '../../extension/gateway/audit/auditRecord';
import { checkAuditLine } from '../../extension/gateway/audit/checkAuditLine';

/** What {@link writeAuditChain} produced. */
export interface SyntheticChain {
  bytes: number;
  records: number;
  lastHash: string;
  seconds: number;
}

/**
 * One record as the audit layer writes it for an allowed read call, split around `prev_hash`
 * so that a line costs two string concatenations and one sha256 instead of two canonical-JSON
 * walks. Keys are in canonical (sorted) order; {@link writeAuditChain} checks the template
 * against the project's own canonicalJson before using it, so it cannot drift silently.
 */
function body(i: number, timestamp: string, sessionId: string): Record<string, unknown> {
  return {
    autonomy_level: 'L1',
    duration_ms: i % 7,
    emission_source: 'proxy',
    metadata: { argument_count: 1, halt_at_invocation: null, halt_decision: 'absent', tier_source: 'annotation' },
    server_name: 'echo',
    session_id: sessionId,
    status: 'allowed',
    tier: 'read',
    timestamp,
    tool_name: 'echo',
  };
}

/** The canonical text of `body(i)` with prev_hash and, optionally, hash. */
function fastLine(i: number, timestamp: string, sessionId: string, prevHash: string, hash?: string): string {
  return (
    `{"autonomy_level":"L1","duration_ms":${i % 7},"emission_source":"proxy",` +
    (hash === undefined ? '' : `"hash":"${hash}",`) +
    `"metadata":{"argument_count":1,"halt_at_invocation":null,"halt_decision":"absent","tier_source":"annotation"},` +
    `"prev_hash":"${prevHash}","server_name":"echo","session_id":"${sessionId}","status":"allowed","tier":"read",` +
    `"timestamp":"${timestamp}","tool_name":"echo"}`
  );
}

/**
 * Writes a valid hash chain of about `targetBytes` to `file` (genesis first), as a long-lived
 * gateway would have left it. Timestamps are recent (one record per 10 ms up to now), so an
 * age-based rotation rule does not fire on them.
 */
export async function writeAuditChain(file: string, targetBytes: number): Promise<SyntheticChain> {
  const began = performance.now();
  const sessionId = '00000000-0000-4000-8000-000000000bench';
  const out = createWriteStream(file, { mode: 0o600, highWaterMark: 4 * 1024 * 1024 });
  const lineBytes = fastLine(0, new Date().toISOString(), sessionId, GENESIS_HASH, GENESIS_HASH).length + 1;
  const estimate = Math.ceil(targetBytes / lineBytes);
  const start = Date.now() - estimate * 10;
  let prev = GENESIS_HASH;
  let bytes = 0;
  let records = 0;
  let chunk: string[] = [];
  let chunkBytes = 0;
  for (let i = 0; bytes < targetBytes; i++) {
    const timestamp = new Date(start + i * 10).toISOString();
    const unhashed = fastLine(i, timestamp, sessionId, prev);
    const hash = sha256Hex(unhashed);
    const line = fastLine(i, timestamp, sessionId, prev, hash);
    if (i < 3) {
      // The template must be exactly what the writer would produce, or the bench measures a
      // chain break instead of an append.
      const reference = { ...body(i, timestamp, sessionId), prev_hash: prev };
      if (canonicalJson(reference) !== unhashed || canonicalJson({ ...reference, hash }) !== line || !checkAuditLine(line).ok) {
        throw new Error('synthetic audit record differs from the canonical form; update bench/lib/auditFile.ts');
      }
    }
    chunk.push(line);
    chunkBytes += line.length + 1;
    bytes += line.length + 1;
    records++;
    prev = hash;
    if (chunkBytes >= 4 * 1024 * 1024) {
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
      chunk = [];
      chunkBytes = 0;
    }
  }
  if (chunk.length) out.write(`${chunk.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
  // On disk, like a log an earlier session left: otherwise the gateway's first fsync would
  // flush these hundreds of MB and be charged to the append.
  const handle = await open(file, 'r+');
  await handle.sync();
  await handle.close();
  return { bytes, records, lastHash: prev, seconds: (performance.now() - began) / 1000 };
}
