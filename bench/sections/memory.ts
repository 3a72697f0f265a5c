/**
 * Section 7 — memory under concurrency, and where scanning runs. `gatehouse serve` (stdio) with
 * 200 calls kept in flight for 20 s: the gateway's RSS before, at its peak and 10 s after (issue
 * 15: ≤ 150 MB peak, back near the baseline after). Then an in-process gateway runs a mix of small
 * and large calls and reports how many scan jobs ran inline on the main thread and how many went
 * to the scanner worker.
 */
import { readFileSync } from 'node:fs';
import { call, openStdioGateway, textOf } from '../lib/clients';
import { scaled } from '../lib/env';
import { startInProcess } from '../lib/inProcess';
import { concurrent, sequential, sleep, waitFor } from '../lib/load';
import { benchPolicy, fixture, makeProject } from '../lib/project';
import { progress, runSection, type SectionOutput } from '../lib/section';
import { fmt } from '../lib/stats';

const IN_FLIGHT = 200;
const LOAD_MS = scaled(20_000, 3000);
const SETTLE_MS = scaled(10_000, 2000);
/** Each call echoes 2 KiB: a typical small tool call, big enough that copies held per call show. */
const TEXT = 'm'.repeat(2048);
const PEAK_BUDGET_MB = 150;
/** "Back near the baseline": within this many MB of it. */
const AFTER_SLACK_MB = 30;

/** Resident set size of a process, from /proc (Linux); undefined elsewhere. */
function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function memoryUnderLoad(out: SectionOutput): Promise<void> {
  const project = makeProject('memory', [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy());
  const ep = await openStdioGateway(project);
  try {
    await waitFor('the echo tools in tools/list', async () => ((await ep.client.listTools()).tools.some((t) => t.name === ep.tool('echo')) ? true : undefined));
    const echo = async (i: number): Promise<string | undefined> => {
      const r = await call(ep.client, ep.tool('echo'), { text: TEXT });
      return r.isError || textOf(r) !== TEXT ? `call ${i}: ${textOf(r).slice(0, 200)}` : undefined;
    };
    await sequential(200, echo);
    await sleep(1000);
    const baseline = rssMb(ep.pid);
    if (baseline === undefined) {
      out.note('RSS is read from /proc: not available on this platform, memory not measured.');
      return;
    }
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(ep.pid) ?? 0)), 100);
    progress(`${IN_FLIGHT} calls in flight for ${LOAD_MS / 1000} s`);
    const run = await concurrent(Number.MAX_SAFE_INTEGER, IN_FLIGHT, echo, LOAD_MS);
    clearInterval(sampler);
    await sleep(SETTLE_MS);
    const after = rssMb(ep.pid) ?? NaN;
    const rows = out.table(['gateway RSS (stdio, echo server)', 'measured', 'goal (issue 15)', 'result']);
    rows.push(['before (after 200 warm-up calls)', fmt(baseline, 'MB'), '—', '—']);
    rows.push([`peak, ${IN_FLIGHT} calls in flight for ${LOAD_MS / 1000} s`, fmt(peak, 'MB'), `≤ ${PEAK_BUDGET_MB} MB`, out.check(`gateway RSS peak, ${IN_FLIGHT} in flight`, fmt(peak, 'MB'), `≤ ${PEAK_BUDGET_MB} MB`, peak <= PEAK_BUDGET_MB)]);
    rows.push([
      `${SETTLE_MS / 1000} s after`,
      fmt(after, 'MB'),
      `≤ before + ${AFTER_SLACK_MB} MB`,
      out.check('gateway RSS after the load', fmt(after, 'MB'), `≤ before + ${AFTER_SLACK_MB} MB`, after <= baseline + AFTER_SLACK_MB),
    ]);
    out.note(`${run.calls} calls of 2 KiB echoes completed (${fmt(run.perSecond, 'calls/s')}), ${run.failures} failed${run.firstFailure ? ` (first: ${run.firstFailure})` : ''}. RSS sampled every 100 ms from /proc.`);
  } finally {
    await ep.close();
  }
}

async function scanSplit(out: SectionOutput): Promise<void> {
  const project = makeProject('scan-split', [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy());
  const gw = await startInProcess(project, { stateFile: false });
  try {
    await waitFor('the echo tools in tools/list', async () => ((await gw.client.listTools()).tools.some((t) => t.name === 'echo__echo') ? true : undefined));
    const scanner = gw.service.governance.scanner;
    const rows = out.table(['scan jobs', 'inline (main thread)', 'worker', 'note']);
    const measure = async (label: string, fn: () => Promise<unknown>, times: number): Promise<void> => {
      const before = { ...scanner.split };
      for (let i = 0; i < times; i++) await fn();
      rows.push([label, String(scanner.split.inline - before.inline), String(scanner.split.worker - before.worker), `${times} calls`]);
    };
    await measure('echo "hello" (small arguments and result)', () => call(gw.client, 'echo__echo', { text: 'hello' }), 100);
    await measure('16 KiB result', () => call(gw.client, 'echo__big', { bytes: 16 * 1024 }), 20);
    await measure('256 KiB result', () => call(gw.client, 'echo__big', { bytes: 256 * 1024 }), 10);
    out.note('A call scans its arguments (redaction) and its result (redaction and injection scan): two jobs per call.');
  } finally {
    await gw.close();
  }
}

async function body(out: SectionOutput): Promise<void> {
  progress('memory under concurrency');
  await memoryUnderLoad(out);
  out.save();
  progress('scan inline/worker split');
  await scanSplit(out);
}

runSection('memory', '7. Memory under concurrency; scan inline/worker split', body);
