/**
 * Section 1b — where a governed call's time goes. One in-process gateway and one echo child;
 * the same call is sent through cumulative slices of the real chain (built from the running
 * Governance's own layers, so nothing is re-implemented here), alternating slice by slice.
 * This is a diagnosis aid for section 1, not a budget: it has no targets.
 */
import { nullLogger } from '../../extension/common/logger';
import { Gateway } from '../../extension/gateway/gateway';
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
const ROUNDS = scaled(2, 1);

/**
 * Indices into Governance.layers(), which is ordered outermost first:
 * 0 audit · 1 HALT · 2 withheld · 3 tier · 4 policy · 5 blocked paths · 6 rate limit ·
 * 7 breaker · 8 injection · 9 redact result · 10 result cap · 11 redact args · 12 dispatch.
 * Checked against the layer count at run time, so a reordering shows up as an error.
 */
const LAYER_COUNT = 13;
const STEPS: Array<{ label: string; layers: number[] | 'pool' | 'mcp' }> = [
  { label: 'pool.callTool (no chain)', layers: 'pool' },
  { label: '+ chain with dispatch only', layers: [12] },
  { label: '+ audit record', layers: [0, 12] },
  { label: '+ HALT probe (open of .gatehouse/HALT)', layers: [0, 1, 12] },
  { label: '+ withheld, tier, policy, blocked paths, rate limit, breaker, result cap', layers: [0, 1, 2, 3, 4, 5, 6, 7, 10, 12] },
  { label: '+ redaction (args, result) and injection scan = full chain', layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
  { label: '+ MCP server and client (in-memory transport)', layers: 'mcp' },
];

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
    for (const p of problems) out.note(p);
    const audit = gw.service.governance.audit.stats;
    out.note(
      `Audit writer during this section: ${audit.records} records in ${audit.writes} group writes (each write: fstat + stat of the file, write, fsync) — ` +
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
