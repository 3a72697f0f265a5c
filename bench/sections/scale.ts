/**
 * Section 4 — scale. (a) `gatehouse serve` with 50 downstream servers × 100 tools
 * (bench/fixtures/manyTools.mjs): time to the first complete tools/list, the gateway's RSS,
 * tools/list latency with a 5001-tool catalog, and a call's latency at that size.
 * (b) Leak check, in-process with --expose-gc: 10 downstreams × 100 tools, many calls through
 * the full chain, heap and RSS after a forced GC at checkpoints (growth after warm-up).
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ListToolsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { call, openStdioGateway, textOf } from '../lib/clients';
import { scaled } from '../lib/env';
import { startInProcess } from '../lib/inProcess';
import { concurrent, sequential, sleep } from '../lib/load';
import { benchPolicy, makeProject, type BenchServer } from '../lib/project';
import { progress, runSection, type SectionOutput } from '../lib/section';
import { fmt, MiB, quantile } from '../lib/stats';

/** Quick runs start 3 servers: 50 spawns alone take longer than a smoke run should. */
const SERVERS = scaled(50, 3);
const TOOLS = 100;
const LIST_SAMPLES = scaled(20, 3);
const ROUTED_CALLS = scaled(500, 50);
const LEAK_SERVERS = 10;
const LEAK_CALLS = scaled(100_000, 1_000);
const LEAK_WARMUP = scaled(5_000, 300);
const LEAK_CHECKPOINTS = 10;
const LEAK_IN_FLIGHT = 16;
/** Wall-clock cap of the leak run, so a slow machine still finishes; the table says how far it got. */
const LEAK_MAX_MS = scaled(100_000, 3_000);
const BUDGET_MIB = 40;

function servers(count: number, prefix: string): BenchServer[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `${prefix}${String(i + 1).padStart(2, '0')}`;
    return { name, script: 'bench/fixtures/manyTools.mjs', env: { TOOL_COUNT: String(TOOLS), SERVER_LABEL: name } };
  });
}

/** VmRSS / VmHWM of a process, in MiB (Linux /proc). */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

const routedCall = (client: Client, serverCount: number, prefix: string) => async (i: number): Promise<string | undefined> => {
  const server = `${prefix}${String((i % serverCount) + 1).padStart(2, '0')}`;
  const tool = `tool_${String((i * 7) % TOOLS).padStart(3, '0')}`;
  const text = `t${i}`;
  const r = await call(client, `${server}__${tool}`, { text });
  return r.isError || textOf(r) !== text ? `${server}__${tool}: ${textOf(r).slice(0, 160)}` : undefined;
};

async function catalog(out: SectionOutput): Promise<void> {
  const expected = SERVERS * TOOLS + 1; // + gatehouse__health
  const project = makeProject('scale', servers(SERVERS, 'srv'), benchPolicy());
  const began = performance.now();
  const ep = await openStdioGateway(project);
  try {
    const connectedMs = performance.now() - began;
    let list = await ep.client.listTools();
    const firstMs = performance.now() - began;
    const firstCount = list.tools.length;
    while (list.tools.length < expected && performance.now() - began < 120_000) {
      await sleep(50);
      list = await ep.client.listTools();
    }
    const completeMs = performance.now() - began;
    const complete = list.tools.length;
    const rssAfterStart = rssOf(ep.pid);
    const listLatencies: number[] = [];
    let bytes = 0;
    for (let i = 0; i < LIST_SAMPLES; i++) {
      const t = performance.now();
      const l = await ep.client.listTools();
      listLatencies.push(performance.now() - t);
      bytes = JSON.stringify(l).length;
    }
    // The client's own share of a list: the SDK validates the whole answer with zod.
    const parses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      ListToolsResultSchema.parse(list);
      parses.push(performance.now() - t);
    }
    const routed = await sequential(ROUTED_CALLS, routedCall(ep.client, SERVERS, 'srv'));
    const rss = rssOf(ep.pid);
    const rows = out.table([`metric (gatehouse serve, ${SERVERS} servers × ${TOOLS} tools)`, 'value', 'target', 'result']);
    rows.push(['spawn → initialize done', fmt(connectedMs, 'ms'), '—', '—']);
    rows.push([`first tools/list answered (${firstCount} of ${expected} tools)`, fmt(firstMs, 'ms'), '—', '—']);
    rows.push([`first complete tools/list (${complete} tools)`, complete === expected ? fmt(completeMs, 'ms') : `not complete after ${fmt(completeMs, 'ms')}`, '—', '—']);
    rows.push([`tools/list latency p50 / p95 (${LIST_SAMPLES} lists, ${(bytes / MiB).toFixed(2)} MiB JSON)`, `${fmt(quantile(listLatencies, 0.5), 'ms')} / ${fmt(quantile(listLatencies, 0.95), 'ms')}`, '—', '—']);
    rows.push(['… of which the client validating the answer (SDK zod parse, in the bench process)', fmt(quantile(parses, 0.5), 'ms'), '—', '—']);
    rows.push([`routed call p50 / p99 (${ROUTED_CALLS} calls over all servers)`, `${fmt(quantile(routed.latencies, 0.5), 'ms')} / ${fmt(quantile(routed.latencies, 0.99), 'ms')}`, '—', '—']);
    rows.push(['gateway RSS after start / after the calls (peak)', `${fmt(rssAfterStart.rss, 'MiB')} / ${fmt(rss.rss, 'MiB')} (${fmt(rss.peak, 'MiB')})`, '—', '—']);
    if (routed.failures) out.note(`routed calls: ${routed.failures} failed, first: ${routed.firstFailure}`);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${ep.stderr().slice(-2000)}`);
  } finally {
    await ep.close();
  }
}

interface Checkpoint {
  calls: number;
  heap: number;
  rss: number;
}

function measureMemory(): { heap: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass may only promote what a second one frees (weak refs, finalizers).
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / MiB, rss: m.rss / MiB };
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den ? num / den : Number.NaN;
}

async function leak(out: SectionOutput): Promise<void> {
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  const gw = await startInProcess(makeProject('leak', servers(LEAK_SERVERS, 'mem'), benchPolicy()));
  try {
    await gw.client.listTools();
    const fn = routedCall(gw.client, LEAK_SERVERS, 'mem');
    let done = 0;
    let failures = 0;
    let firstFailure: string | undefined;
    const run = async (count: number): Promise<void> => {
      const r = await concurrent(count, LEAK_IN_FLIGHT, (i) => fn(done + i));
      done += count;
      failures += r.failures;
      firstFailure ??= r.firstFailure;
    };
    await run(LEAK_WARMUP);
    const base = measureMemory();
    const points: Checkpoint[] = [{ calls: 0, ...base }];
    const step = Math.ceil(LEAK_CALLS / LEAK_CHECKPOINTS);
    const began = performance.now();
    let measured = 0;
    while (measured < LEAK_CALLS && performance.now() - began < LEAK_MAX_MS) {
      await run(step);
      measured += step;
      points.push({ calls: measured, ...measureMemory() });
      progress(`leak check: ${measured} calls, heap ${points.at(-1)!.heap.toFixed(1)} MiB, rss ${points.at(-1)!.rss.toFixed(1)} MiB`);
    }
    const seconds = (performance.now() - began) / 1000;
    const last = points.at(-1)!;
    const heapGrowth = last.heap - base.heap;
    const rssGrowth = last.rss - base.rss;
    // A trend over a few thousand calls is noise extrapolated 100-fold: only shown for long runs.
    const trend = (get: (c: Checkpoint) => number): string =>
      measured >= 20_000 ? ` (trend ${fmt(slope(points.map((p) => [p.calls, get(p)])) * 100_000, 'MiB')}/100k calls)` : '';
    const rows = out.table([`metric (in-process, ${LEAK_SERVERS} servers × ${TOOLS} tools, full chain, ${LEAK_IN_FLIGHT} in flight)`, 'value', 'target', 'result']);
    rows.push([`calls measured after ${LEAK_WARMUP} warm-up calls`, `${measured} in ${fmt(seconds, 's')} (${fmt(measured / seconds, 'calls/s')})`, `${LEAK_CALLS}`, measured >= LEAK_CALLS ? 'done' : `stopped at the ${LEAK_MAX_MS / 1000} s cap`]);
    rows.push(['heap after warm-up → end (after GC)', `${fmt(base.heap, 'MiB')} → ${fmt(last.heap, 'MiB')}`, '—', '—']);
    rows.push([
      'heap growth',
      `${fmt(heapGrowth, 'MiB')}${trend((c) => c.heap)}`,
      `≤ ${BUDGET_MIB} MiB`,
      out.check('heap growth over the leak run', fmt(heapGrowth, 'MiB'), `≤ ${BUDGET_MIB} MiB`, heapGrowth <= BUDGET_MIB),
    ]);
    rows.push(['RSS after warm-up → end', `${fmt(base.rss, 'MiB')} → ${fmt(last.rss, 'MiB')}`, '—', '—']);
    rows.push([
      'RSS growth',
      `${fmt(rssGrowth, 'MiB')}${trend((c) => c.rss)}`,
      `≤ ${BUDGET_MIB} MiB`,
      out.check('RSS growth over the leak run', fmt(rssGrowth, 'MiB'), `≤ ${BUDGET_MIB} MiB`, rssGrowth <= BUDGET_MIB),
    ]);
    out.note(`Heap checkpoints (MiB, every ${step} calls): ${points.map((p) => p.heap.toFixed(1)).join(' → ')}; RSS: ${points.map((p) => p.rss.toFixed(0)).join(' → ')}.`);
    if (!hasGc) out.note('global.gc was not available (run with --expose-gc): heap numbers include garbage.');
    if (failures) out.note(`leak run: ${failures} failed calls, first: ${firstFailure}`);
    const audit = gw.service.governance.audit.stats;
    out.note(`Leak run process = gateway + in-memory client + the scanner worker's isolate share of RSS; audit records written: ${audit.records}.`);
  } finally {
    await gw.close();
  }
}

async function body(out: SectionOutput): Promise<void> {
  progress(`scale: gatehouse serve with ${SERVERS} × ${TOOLS} tools`);
  await catalog(out);
  progress(`scale: leak check, ${LEAK_CALLS} calls over ${LEAK_SERVERS} servers`);
  await leak(out);
}

runSection('scale', `4. Scale: ${SERVERS} servers × ${TOOLS} tools, and memory over many calls`, body);
