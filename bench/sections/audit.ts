/**
 * Section 5 — the audit log's append cost against the size of the file it appends to.
 * A valid 200 MB chain is synthesised (bench/lib/auditFile.ts), then, alternating between an
 * empty log and the big one (A B A B):
 *   - AuditLog alone: open (tail recovery), awaited appends one at a time (each is a group write
 *     + fsync), and a burst of appends (group commit);
 *   - the whole gateway in-process: echo calls sequentially and 16 in flight.
 * Policy raises audit.rotation.max_bytes to 1 GiB: with the default (50 MiB) the first append
 * would rotate the 200 MB file away, and the bench would measure an empty file again.
 */
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { AuditLog } from '../../extension/gateway/audit/auditLog';
import { writeAuditChain } from '../lib/auditFile';
import { call, textOf } from '../lib/clients';
import { scaled } from '../lib/env';
import { startInProcess } from '../lib/inProcess';
import { concurrent, sequential } from '../lib/load';
import { benchPolicy, fixture, makeProject, type BenchProject } from '../lib/project';
import { progress, runSection, type SectionOutput } from '../lib/section';
import { fmt, median, MiB, quantile } from '../lib/stats';

const BIG_BYTES = scaled(200, 5) * 1000 * 1000;
const BIG = `${Math.round(BIG_BYTES / 1e6)} MB`;
const ROUNDS = scaled(3, 1);
/** AuditLog-alone samples per size, alternating: cheap, so more of them to see through the noise. */
const LOG_SAMPLES = scaled(6, 1);
const AWAITED_APPENDS = scaled(150, 50);
const BURST_APPENDS = scaled(5_000, 2_000);
const SEQ_CALLS = scaled(800, 60);
const CONC_CALLS = scaled(2_000, 200);

type Size = 'empty' | 'big';

/** AuditLog on its own: open, appends one at a time (each its own write + fsync), a burst. */
interface LogSample {
  openMs: number;
  tailBytes: number;
  appendP50: number;
  burstPerSecond: number;
  chainBreaks: number;
}

/** The whole gateway on top of the log. */
interface GatewaySample {
  seqPerSecond: number;
  seqP50: number;
  concPerSecond: number;
  chainBreaks: number;
  fileMiB: number;
}

/**
 * "Must not grow with the file": an append whose cost depended on the size would be orders of
 * magnitude slower at 200 MB (reading or hashing the file), so these thresholds only need to
 * separate that from the noise of a shared machine, which alone moves paired samples by ±30 %.
 */
const MAX_SLOWDOWN = 1.5;
const MIN_RATE_PCT = 67;

const ROTATION = { max_bytes: 1024 * 1024 * 1024 };
const policy = benchPolicy({ audit: { rotation: ROTATION } });

function auditFile(p: BenchProject): string {
  return path.join(p.configDir, 'audit.jsonl');
}

/** Empties the small log; makes sure the big one is still big (a rotation would make the measurement meaningless). */
function prepare(p: BenchProject, size: Size): void {
  if (size === 'empty') {
    rmSync(auditFile(p), { force: true });
    return;
  }
  const bytes = statSync(auditFile(p)).size;
  if (bytes < BIG_BYTES) throw new Error(`the big audit log is ${bytes} bytes: it was rotated or replaced, the measurement would be of a small file`);
}

async function logSample(p: BenchProject, size: Size): Promise<LogSample> {
  prepare(p, size);
  // The same rotation setting as the gateway's policy: the default would rotate the big file away.
  const t = performance.now();
  const log = await AuditLog.open({ dir: p.configDir, sessionId: 'bench-audit', rotation: () => ROTATION });
  const openMs = performance.now() - t;
  try {
    const input = { tool_name: 'echo', server_name: 'echo', tier: 'read' as const, status: 'allowed' as const, autonomy_level: 'L1' as const, metadata: { argument_count: 1 } };
    const awaited = await sequential(AWAITED_APPENDS, async () => {
      await log.append(input);
      return undefined;
    });
    const b = performance.now();
    await Promise.all(Array.from({ length: BURST_APPENDS }, () => log.append(input)));
    return {
      openMs,
      tailBytes: log.stats.tailBytesRead,
      appendP50: quantile(awaited.latencies, 0.5),
      burstPerSecond: (BURST_APPENDS * 1000) / (performance.now() - b),
      chainBreaks: log.stats.chainBreaks,
    };
  } finally {
    await log.close();
    log.dispose();
  }
}

async function gatewaySample(p: BenchProject, size: Size): Promise<GatewaySample> {
  prepare(p, size);
  const gw = await startInProcess(p);
  try {
    await gw.client.listTools();
    const echo = async (i: number): Promise<string | undefined> => {
      const r = await call(gw.client, 'echo__echo', { text: `a${i}` });
      return r.isError || textOf(r) !== `a${i}` ? textOf(r).slice(0, 160) : undefined;
    };
    await sequential(50, echo);
    const seq = await sequential(SEQ_CALLS, echo);
    const conc = await concurrent(CONC_CALLS, 16, echo);
    await gw.service.governance.audit.flush();
    return {
      seqPerSecond: (seq.latencies.length * 1000) / seq.wallMs,
      seqP50: quantile(seq.latencies, 0.5),
      concPerSecond: conc.perSecond,
      chainBreaks: gw.service.governance.audit.stats.chainBreaks,
      fileMiB: statSync(auditFile(p)).size / MiB,
    };
  } finally {
    await gw.close();
  }
}

async function body(out: SectionOutput): Promise<void> {
  const echo = [{ name: 'echo', script: fixture('echo.mjs') }];
  const projects: Record<Size, BenchProject> = { empty: makeProject('audit-empty', echo, policy), big: makeProject('audit-big', echo, policy) };
  progress(`audit: writing a valid ${Math.round(BIG_BYTES / 1e6)} MB chain`);
  const chain = await writeAuditChain(auditFile(projects.big), BIG_BYTES);
  out.note(`Synthetic chain: ${chain.records} records, ${(chain.bytes / 1e6).toFixed(0)} MB, written in ${chain.seconds.toFixed(1)} s (template checked against canonicalJson and checkAuditLine).`);

  const logs: Record<Size, LogSample[]> = { empty: [], big: [] };
  progress(`audit: AuditLog alone, ${LOG_SAMPLES} samples per size, alternating`);
  for (let i = 0; i < LOG_SAMPLES; i++) {
    for (const size of ['empty', 'big'] as const) logs[size].push(await logSample(projects[size], size));
  }
  const gateways: Record<Size, GatewaySample[]> = { empty: [], big: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const size of ['empty', 'big'] as const) {
      progress(`audit: gateway round ${round}/${ROUNDS}, ${size} log`);
      gateways[size].push(await gatewaySample(projects[size], size));
    }
  }
  const logMed = (size: Size, get: (s: LogSample) => number): number => median(logs[size].map(get));
  const gwMed = (size: Size, get: (s: GatewaySample) => number): number => median(gateways[size].map(get));
  const rows = out.table(['metric', 'log empty', `log ${Math.round(BIG_BYTES / 1e6)} MB`, 'big / empty', 'target', 'result']);
  // Paired ratios (each big sample over the empty one measured just before it), then the median:
  // pairing cancels most of the drift of a shared machine.
  const paired = <T>(list: Record<Size, T[]>, get: (s: T) => number): number => median(list.big.map((b, i) => get(b) / get(list.empty[i]!)));
  const ratio = (get: (s: LogSample) => number): number => paired(logs, get);
  const gwRatio = (get: (s: GatewaySample) => number): number => paired(gateways, get);
  rows.push(['AuditLog.open (tail recovery)', fmt(logMed('empty', (s) => s.openMs), 'ms'), fmt(logMed('big', (s) => s.openMs), 'ms'), `${ratio((s) => s.openMs).toFixed(2)}×`, '—', '—']);
  const tail = Math.max(...logs.big.map((s) => s.tailBytes));
  rows.push([
    'bytes read to find the chain head',
    String(logMed('empty', (s) => s.tailBytes)),
    String(tail),
    '—',
    '≤ 1 MiB (the last line, not the file)',
    out.check(`bytes read at open of a ${BIG} log`, String(tail), '≤ 1 MiB', tail <= MiB),
  ]);
  const appendRatio = ratio((s) => s.appendP50);
  rows.push([
    `awaited append p50 (write + fsync, ${AWAITED_APPENDS} appends × ${LOG_SAMPLES})`,
    fmt(logMed('empty', (s) => s.appendP50), 'ms'),
    fmt(logMed('big', (s) => s.appendP50), 'ms'),
    `${appendRatio.toFixed(2)}×`,
    `≤ ${MAX_SLOWDOWN}× (flat, within noise)`,
    out.check(`audit append p50 at ${BIG} vs empty`, `${appendRatio.toFixed(2)}×`, `≤ ${MAX_SLOWDOWN}×`, appendRatio <= MAX_SLOWDOWN),
  ]);
  const burstRatio = ratio((s) => s.burstPerSecond);
  rows.push([
    `burst of ${BURST_APPENDS} appends (group commit) × ${LOG_SAMPLES}`,
    fmt(logMed('empty', (s) => s.burstPerSecond), 'records/s'),
    fmt(logMed('big', (s) => s.burstPerSecond), 'records/s'),
    `${Math.round(burstRatio * 100)} %`,
    `≥ ${MIN_RATE_PCT} % (flat, within noise)`,
    out.check(`audit burst throughput at ${BIG} vs empty`, `${Math.round(burstRatio * 100)} %`, `≥ ${MIN_RATE_PCT} %`, burstRatio * 100 >= MIN_RATE_PCT),
  ]);
  const seqRatio = gwRatio((s) => s.seqPerSecond);
  rows.push([
    `gateway echo calls, sequential (${SEQ_CALLS})`,
    `${fmt(gwMed('empty', (s) => s.seqPerSecond), 'calls/s')} (p50 ${fmt(gwMed('empty', (s) => s.seqP50), 'ms')})`,
    `${fmt(gwMed('big', (s) => s.seqPerSecond), 'calls/s')} (p50 ${fmt(gwMed('big', (s) => s.seqP50), 'ms')})`,
    `${Math.round(seqRatio * 100)} %`,
    `≥ ${MIN_RATE_PCT} %`,
    out.check(`gateway calls/s at ${BIG} audit log vs empty (sequential)`, `${Math.round(seqRatio * 100)} %`, `≥ ${MIN_RATE_PCT} %`, seqRatio * 100 >= MIN_RATE_PCT),
  ]);
  const concRatio = gwRatio((s) => s.concPerSecond);
  rows.push([
    `gateway echo calls, 16 in flight (${CONC_CALLS})`,
    fmt(gwMed('empty', (s) => s.concPerSecond), 'calls/s'),
    fmt(gwMed('big', (s) => s.concPerSecond), 'calls/s'),
    `${Math.round(concRatio * 100)} %`,
    `≥ ${MIN_RATE_PCT} %`,
    out.check(`gateway calls/s at ${BIG} audit log vs empty (16 in flight)`, `${Math.round(concRatio * 100)} %`, `≥ ${MIN_RATE_PCT} %`, concRatio * 100 >= MIN_RATE_PCT),
  ]);
  // Last, because it archives the big file: what the default policy (rotate at 50 MiB) does with it.
  const rotating = await AuditLog.open({ dir: projects.big.configDir, sessionId: 'bench-audit' });
  const r0 = performance.now();
  await rotating.append({ tool_name: 'echo', server_name: 'echo', tier: 'read', status: 'allowed' });
  const rotateMs = performance.now() - r0;
  const rotations = rotating.stats.rotations;
  await rotating.close();
  rotating.dispose();
  rows.push([
    'first append with the default policy (rotates the big file at 50 MiB)',
    '—',
    `${fmt(rotateMs, 'ms')} (${rotations} rotation${rotations === 1 ? '' : 's'})`,
    '—',
    '—',
    '—',
  ]);
  const breaks = [...logs.empty, ...logs.big, ...gateways.empty, ...gateways.big].reduce((n, s) => n + s.chainBreaks, 0);
  rows.push(['chain breaks recorded while appending', '—', String(breaks), '—', '0', out.check('no chain break appending to the synthetic chain', String(breaks), '0', breaks === 0)]);
  out.note(
    `AuditLog alone: ${LOG_SAMPLES} samples per size; gateway: ${ROUNDS} rounds per size; always alternating empty / big; ` +
      'values are medians, ratios the median of paired ratios. ' +
      'The empty log is deleted before each sample; the big one keeps growing ' +
      `(${gateways.big.map((s) => s.fileMiB.toFixed(0)).join(' → ')} MiB after each gateway round). "Within noise" thresholds: this compares two runs on a shared machine, not an absolute budget.`,
  );
}

runSection('audit', `5. Audit log: append cost at 0 vs ${BIG} of existing records`, body);
