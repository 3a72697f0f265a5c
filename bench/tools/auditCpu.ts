/**
 * Main-thread CPU the audit log spends per record, in this process: records shaped like the
 * gateway's echo-call records (the audit layer's input: tier, status, level, duration and the
 * layers' metadata), built and chained.
 *   `AUDIT_MODE=chain` (default): buildAuditBody + chainRecord in a loop, no I/O: the per-record
 *   work alone.
 *   `AUDIT_MODE=log`: `AuditLog.appendLater` through a real log in a scratch folder (fsync off),
 *   flushed every `inFlight` records, as a gateway under load groups them.
 * `process.cpuUsage()` around the run counts work, not wall time. Prints µs per record and a
 * sha256 over every line written, so two builds can be checked to write the same bytes.
 * `node --import tsx bench/tools/auditCpu.ts [records] [inFlight]` (default 50000 16).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock } from '../../extension/common/clock';
import { AuditLog } from '../../extension/gateway/audit/auditLog';
import type { AuditInput } from '../../extension/gateway/audit/auditRecord';
import { buildAuditBody } from '../../extension/gateway/audit/buildAuditBody';
import { chainRecord } from '../../extension/gateway/audit/chainRecord';

const records = Number(process.argv[2] ?? 50000);
const inFlight = Number(process.argv[3] ?? 16);
const mode = process.env.AUDIT_MODE ?? 'chain';
const SESSION = '658b5379-1094-4052-8541-9d1de7436f26';
const START = Date.parse('2026-12-02T11:06:41.706Z');

/** The i-th record's input, as the audit layer builds it for an echo call. */
function input(i: number): AuditInput {
  return {
    session_id: SESSION,
    tool_name: 'echo',
    server_name: 'echo',
    tier: 'read',
    status: i % 50 === 7 ? 'denied' : 'allowed',
    autonomy_level: 'L1',
    duration_ms: i % 23,
    emission_source: 'proxy',
    metadata: { halt_decision: 'absent', halt_at_invocation: null, tier_source: 'annotation', argument_count: 1 + (i % 3) },
  };
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function chainRun(n: number, digest: ReturnType<typeof createHash> | undefined): void {
  let prev = '0'.repeat(64);
  for (let i = 0; i < n; i++) {
    const body = buildAuditBody(input(i), new Date(START + i).toISOString(), SESSION);
    const { record, line } = chainRecord(body, prev);
    prev = record.hash;
    digest?.update(line + '\n');
  }
}

async function logRun(n: number, dir: string): Promise<void> {
  let i = 0;
  const clock = { ...systemClock, now: () => START + i };
  const log = await AuditLog.open({ dir, sessionId: SESSION, fsync: false, clock, lock: { acquire: async () => async () => undefined } });
  for (; i < n; i++) {
    void log.appendLater(() => input(i));
    if (i % inFlight === inFlight - 1) await log.flush();
  }
  await log.close();
}

async function main(): Promise<void> {
  if (mode === 'chain') {
    chainRun(Math.min(records, 5000), undefined);
    const digest = createHash('sha256');
    const c0 = cpuUs();
    chainRun(records, digest);
    const used = cpuUs() - c0;
    console.log(`chain ${(used / records).toFixed(2)} µs CPU/record  lines sha256 ${digest.digest('hex').slice(0, 16)}`);
  } else {
    const warm = mkdtempSync(path.join(tmpdir(), 'auditcpu-'));
    const dir = mkdtempSync(path.join(tmpdir(), 'auditcpu-'));
    try {
      await logRun(Math.min(records, 5000), warm);
      const c0 = cpuUs();
      await logRun(records, dir);
      const used = cpuUs() - c0;
      const lines = readFileSync(path.join(dir, 'audit.jsonl'));
      console.log(`log ${(used / records).toFixed(2)} µs CPU/record  file sha256 ${createHash('sha256').update(lines).digest('hex').slice(0, 16)}`);
    } finally {
      rmSync(warm, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

void main();
