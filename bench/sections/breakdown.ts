/**
 * Section 1b — where a governed call's time goes. One in-process gateway and one echo child;
 * the same call is sent through cumulative slices of the real chain (built from the running
 * Governance's own layers, so nothing is re-implemented here), alternating slice by slice.
 * This is a diagnosis aid for section 1, not a budget: it has no targets.
 */
import { nullLogger } from '../../extension/common/logger';
import { Gateway } from '../../extension/gateway/gateway';
import { AUDIT_GROUP_COMMIT_MS } from '../../extension/gateway/governance';
import type { Middleware } from '../../extension/gateway/chain/chain';
import { call, textOf } from '../lib/clients';
import { scaled } from '../lib/env';
import { startInProcess, type InProcessGateway } from '../lib/inProcess';
import { concurrent, sequential } from '../lib/load';
import { benchPolicy, fixture, makeProject } from '../lib/project';
import { progress, runSection, type SectionOutput } from '../lib/section';
import { fmt, median, quantile } from '../lib/stats';

const CALLS = scaled(600, 80);
const WARMUP = scaled(100, 30);
/** 16 in flight per step: shows which layer limits throughput (the scanner runs one job at a time). */
const CONC_CALLS = scaled(1000, 100);
const CONC_MAX_MS = scaled(3000, 1000);
/** 256 KiB results through three slices: what the scanner costs a large result. */
const BIG_CALLS = scaled(15, 3);
const BIG_BYTES = 256 * 1024;
const BIG_STEPS: Array<{ label: string; layers: number[] | 'pool' }> = [
  { label: '256 KiB result: pool.callTool (no chain)', layers: 'pool' },
  { label: '256 KiB result: chain without redaction and injection scan', layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14] },
  { label: '256 KiB result: full chain', layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] },
];
const ROUNDS = scaled(2, 1);

/**
 * Indices into Governance.layers(), which is ordered outermost first:
 * 0 audit · 1 HALT · 2 withheld tools · 3 withheld prompts · 4 tier · 5 policy · 6 blocked paths ·
 * 7 approval · 8 rate limit · 9 breaker · 10 injection · 11 redact result · 12 result cap ·
 * 13 redact args · 14 dispatch.
 * Checked against the layer count at run time, so a reordering shows up as an error.
 */
const LAYER_COUNT = 15;
const STEPS: Array<{ label: string; layers: number[] | 'pool' | 'mcp' }> = [
  { label: 'pool.callTool (no chain)', layers: 'pool' },
  { label: '+ chain with dispatch only', layers: [14] },
  { label: '+ audit record', layers: [0, 14] },
  { label: '+ HALT probe (watch of the config dir on Linux, open of HALT elsewhere)', layers: [0, 1, 14] },
  { label: '+ withheld, tier, policy, blocked paths, approval, rate limit, breaker, result cap', layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14] },
  { label: '+ redaction (args, result) and injection scan = full chain', layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] },
  { label: '+ MCP server and client (in-memory transport)', layers: 'mcp' },
];

function bigRunner(gw: InProcessGateway, step: (typeof BIG_STEPS)[number], all: readonly Middleware[]): () => Promise<string | undefined> {
  const check = (text: string, isError?: boolean): string | undefined => (isError || text.length !== BIG_BYTES ? `${text.length} characters: ${text.slice(0, 120)}` : undefined);
  if (step.layers === 'pool') return async () => check(textOf(await gw.service.pool.callTool('echo', 'big', { bytes: BIG_BYTES }, { readOnly: true })));
  const gateway = new Gateway({ pool: gw.service.pool, sessionId: gw.service.sessionId, layers: step.layers.map((i) => all[i]!), snapshot: () => gw.service.store.snapshot, logger: nullLogger });
  return async () => {
    const r = await gateway.callTool('echo__big', { bytes: BIG_BYTES });
    return check(textOf(r), r.isError);
  };
}

function runner(gw: InProcessGateway, step: (typeof STEPS)[number], all: readonly Middleware[]): (i: number) => Promise<string | undefined> {
  const check = (text: string, got: string, isError?: boolean): string | undefined => (isError || got !== text ? got.slice(0, 160) : undefined);
  if (step.layers === 'pool') {
    return async (i) => check(`b${i}`, textOf(await gw.service.pool.callTool('echo', 'echo', { text: `b${i}` }, { readOnly: true })));
  }
  if (step.layers === 'mcp') {
    return async (i) => {
      const r = await call(gw.client, 'echo__echo', { text: `b${i}` });
      return check(`b${i}`, textOf(r), r.isError);
    };
  }
  const gateway = new Gateway({
    pool: gw.service.pool,
    sessionId: gw.service.sessionId,
    layers: step.layers.map((i) => all[i]!),
    snapshot: () => gw.service.store.snapshot,
    logger: nullLogger,
  });
  return async (i) => {
    const r = await gateway.callTool('echo__echo', { text: `b${i}` });
    return check(`b${i}`, textOf(r), r.isError);
  };
}

async function body(out: SectionOutput): Promise<void> {
  const gw = await startInProcess(makeProject('breakdown', [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy()));
  try {
    await gw.client.listTools();
    const all = gw.service.governance.layers();
    if (all.length !== LAYER_COUNT) throw new Error(`Governance.layers() has ${all.length} layers, the bench expects ${LAYER_COUNT}: update bench/sections/breakdown.ts`);
    const runners = STEPS.map((s) => runner(gw, s, all));
    // The audit writer drains a burst's records after the burst: settle it between steps, or one
    // step's backlog (write + fsync rounds) is charged to the next step.
    const settle = (): Promise<void> => gw.service.governance.audit.flush();
    for (const r of runners) await sequential(WARMUP, r); // warm every path
    await settle();
    const p50s: number[][] = STEPS.map(() => []);
    const p95s: number[][] = STEPS.map(() => []);
    const rates: number[][] = STEPS.map(() => []);
    const problems: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`breakdown round ${round}/${ROUNDS}`);
      for (let s = 0; s < STEPS.length; s++) {
        const run = await sequential(CALLS, runners[s]!);
        await settle();
        p50s[s]!.push(quantile(run.latencies, 0.5));
        p95s[s]!.push(quantile(run.latencies, 0.95));
        if (run.failures) problems.push(`${STEPS[s]!.label}: ${run.failures} failed (${run.firstFailure})`);
        const conc = await concurrent(CONC_CALLS, 16, runners[s]!, CONC_MAX_MS);
        await settle();
        rates[s]!.push(conc.perSecond);
        if (conc.failures) problems.push(`${STEPS[s]!.label}, 16 in flight: ${conc.failures} failed (${conc.firstFailure})`);
      }
    }
    const rows = out.table(['in-process echo call, cumulative', 'p50', 'added by this step', 'p95', '16 in flight']);
    let previous = 0;
    STEPS.forEach((step, s) => {
      const p50 = median(p50s[s]!);
      rows.push([
        step.label,
        fmt(p50, 'ms'),
        s === 0 ? '—' : `${p50 - previous >= 0 ? '+' : ''}${fmt(p50 - previous, 'ms')}`,
        fmt(median(p95s[s]!), 'ms'),
        fmt(median(rates[s]!), 'calls/s'),
      ]);
      previous = p50;
    });
    const bigRunners = BIG_STEPS.map((s) => bigRunner(gw, s, all));
    for (const r of bigRunners) await sequential(2, r);
    const bigP50s: number[][] = BIG_STEPS.map(() => []);
    for (let round = 1; round <= ROUNDS; round++) {
      for (let s = 0; s < BIG_STEPS.length; s++) {
        const run = await sequential(BIG_CALLS, bigRunners[s]!);
        await settle();
        bigP50s[s]!.push(quantile(run.latencies, 0.5));
        if (run.failures) problems.push(`${BIG_STEPS[s]!.label}: ${run.failures} failed (${run.firstFailure})`);
      }
    }
    const bigRows = out.table(['in-process, large result', 'p50', 'added by this step']);
    let prevBig = 0;
    BIG_STEPS.forEach((step, s) => {
      const p50 = median(bigP50s[s]!);
      bigRows.push([step.label, fmt(p50, 'ms'), s === 0 ? '—' : `${p50 - prevBig >= 0 ? '+' : ''}${fmt(p50 - prevBig, 'ms')}`]);
      prevBig = p50;
    });
    for (const p of problems) out.note(p);
    const audit = gw.service.governance.audit.stats;
    out.note(
      `Audit writer during this section: ${audit.records} records in ${audit.writes} group writes (each write: stat of the file, write, fsync; group commit window ${AUDIT_GROUP_COMMIT_MS} ms) — ` +
        `${(audit.records / Math.max(1, audit.writes)).toFixed(1)} records per write. Scanner budget overruns: ${gw.logger.overruns().total}.`,
    );
    out.note(
      `${ROUNDS} rounds × (${CALLS} sequential calls, then up to ${CONC_CALLS} with 16 in flight) per step, steps alternating; medians per round. ` +
        'The layers are the running Governance\'s own instances; the audit record is queued, not awaited (as in production), so its write and fsync overlap later calls.',
    );
  } finally {
    await gw.close();
  }
}

runSection('breakdown', '1b. Where a governed call spends its time (in-process, no targets)', body);
