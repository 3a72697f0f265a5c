import { open } from 'node:fs/promises';
import type { AuditRecordLike } from './dashboardSource';

const FIRST_WINDOW_BYTES = 64 * 1024;
const MAX_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * The last `limit` records of an audit.jsonl, oldest first, reading only the end of the file
 * (doubling the window while too few lines are in it). Lines that do not parse as a record are
 * skipped: the dashboard lists, `verify` judges. A missing file has no records.
 */
export async function readAuditTail(file: string, limit: number): Promise<AuditRecordLike[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const size = (await handle.stat()).size;
    for (let window = Math.min(size, FIRST_WINDOW_BYTES); ; window = Math.min(size, window * 2, MAX_WINDOW_BYTES)) {
      const start = size - window;
      const buf = Buffer.alloc(window);
      let read = 0;
      while (read < window) {
        const { bytesRead } = await handle.read(buf, read, window - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const lines = buf.subarray(0, read).toString('utf8').split('\n');
      // The first piece is cut mid-line unless the window reaches the start of the file.
      if (start > 0) lines.shift();
      const records = lines.map(parseRecord).filter((r): r is AuditRecordLike => r !== undefined);
      if (records.length >= limit || start === 0 || window >= MAX_WINDOW_BYTES) return records.slice(-limit);
    }
  } finally {
    await handle.close();
  }
}

function parseRecord(line: string): AuditRecordLike | undefined {
  if (!line.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const status = r.status;
  const tier = r.tier;
  if (typeof r.timestamp !== 'string' || typeof r.tool_name !== 'string' || typeof r.server_name !== 'string') return undefined;
  if (status !== 'allowed' && status !== 'denied' && status !== 'error') return undefined;
  if (tier !== 'read' && tier !== 'write' && tier !== 'destructive') return undefined;
  return {
    timestamp: r.timestamp,
    tool_name: r.tool_name,
    server_name: r.server_name,
    status,
    tier,
    duration_ms: typeof r.duration_ms === 'number' ? r.duration_ms : 0,
    ...(typeof r.error === 'string' ? { error: r.error } : {}),
    ...(typeof r.hash === 'string' ? { hash: r.hash } : {}),
  };
}
