/**
 * Section 3 — responsiveness of the thread the gateway shares with every other extension.
 * In-process GatewayService (as in the extension host) with an in-memory MCP client; the event
 * loop's delay is sampled with perf_hooks.monitorEventLoopDelay while
 *   A. 1 MiB results are fetched, capped, redacted and scanned one after another;
 *   B. 10 servers crash-loop under the default supervisor (measured from the gateway's start:
 *      initial spawns, then 5 crashes each with 500 ms ×2 backoff, then gave_up);
 *   C. B plus back-to-back 1 MiB results;
 *   D. a harsher loop: the 10 servers respawn every ~500 ms and never give up, plus 1 MiB results.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { deserializeMessage, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { CallToolResultSchema, type CallToolResult, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { capResult } from '../../extension/gateway/chain/resultCapLayer';
import { packStrings, transferables } from '../../extension/gateway/scanner/protocol';
import { collectStrings } from '../../extension/gateway/scanner/walk';
import { decodeUtf8 } from '../../extension/platform/decodeUtf8';
import { childLauncher } from '../../extension/pool/childLauncher';
import { call, textOf } from '../lib/clients';
import { quick, repoRoot, scaled } from '../lib/env';
import { startInProcess, type InProcessGateway } from '../lib/inProcess';
import { sleep, waitFor } from '../lib/load';
import { benchPolicy, fixture, makeProject, type BenchServer } from '../lib/project';
import { progress, runSection, type SectionOutput } from '../lib/section';
import { fmt, median, quantile } from '../lib/stats';

const PHASE_MS = scaled(6000, 1000);
const SPAWN_SAMPLES = scaled(15, 5);
const CRASHERS = 10;
const MiB = 1024 * 1024;
/** Histogram timer interval. Every sample includes it, so it is subtracted from what is reported. */
const RESOLUTION_MS = 2;

/** D: the default first backoff (500 ms) without growth and without `gave_up`. */
const stressPolicy = benchPolicy({
  gateway: {
    backoff: { initial_ms: 500, multiplier: 1, max_ms: 500, jitter: 0.2 },
    supervisor: { max_crashes: 1_000_000, crash_window_ms: 1000 },
  },
});

interface Phase {
  label: string;
  p50: number;
  p99: number;
  max: number;
  bigCalls: number;
  bigP50: number;
  respawns: number;
  failures: string[];
}

const echo: BenchServer = { name: 'echo', script: fixture('echo.mjs') };
const crashers: BenchServer[] = Array.from({ length: CRASHERS }, (_, i) => ({ name: `crash${i + 1}`, script: fixture('crashOnStart.mjs') }));

function restarts(gw: InProcessGateway): number {
  return gw.service.store.snapshot.downstreams.filter((d) => d.name !== 'echo').reduce((n, d) => n + d.restarts, 0);
}

function startHistogram(): IntervalHistogram {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  return h;
}

/** Keeps 1 MiB calls going (or just waits) until `end`, then reads the histogram. */
async function load(gw: InProcessGateway, h: IntervalHistogram, end: number, withResults: boolean, label: string, respawnsBefore: number): Promise<Phase> {
  const latencies: number[] = [];
  const failures: string[] = [];
  if (withResults) {
    while (performance.now() < end) {
      const t = performance.now();
      const r = await call(gw.client, 'echo__big', { bytes: MiB });
      latencies.push(performance.now() - t);
      if (r.isError || textOf(r).length !== MiB) failures.push(`${r.isError ? 'isError' : `${textOf(r).length} chars`}: ${textOf(r).slice(0, 160)}`);
    }
  } else {
    await sleep(Math.max(0, end - performance.now()));
  }
  h.disable();
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  return {
    label,
    p50: ms(h.percentile(50)),
    p99: ms(h.percentile(99)),
    max: ms(h.max),
    bigCalls: latencies.length,
    bigP50: quantile(latencies, 0.5),
    respawns: restarts(gw) - respawnsBefore,
    failures,
  };
}

/** A phase on a gateway that is already up (its start is not measured). */
async function steady(gw: InProcessGateway, label: string, withResults: boolean): Promise<Phase> {
  const before = restarts(gw);
  const h = startHistogram();
  return load(gw, h, performance.now() + PHASE_MS, withResults, label, before);
}

/** A phase that includes the gateway's start (its initial spawns and the crash loop that follows). */
async function fromStart(
  label: string,
  withResults: boolean,
  policy: Record<string, unknown>,
): Promise<{ phase: Phase; overruns: { total: number; unattributed: number } }> {
  const h = startHistogram();
  const end = performance.now() + PHASE_MS;
  const gw = await startInProcess(makeProject('responsive', [echo, ...crashers], policy));
  try {
    const phase = await load(gw, h, end, withResults, label, 0);
    return { phase, overruns: gw.logger.overruns() };
  } finally {
    await gw.close();
  }
}

/**
 * How long one `child_process.spawn` holds this thread, spawning the crash fixture the way the
 * pool does (detached, three pipes): Node returns from spawn only once the child has exec'd, so
 * every (re)spawn is a synchronous stall of the extension host's event loop.
 */
async function spawnStall(): Promise<{ p50: number; max: number; rssMiB: number; cpu: number }> {
  const stalls: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < SPAWN_SAMPLES; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    const child = spawn(process.execPath, [path.join(repoRoot, fixture('crashOnStart.mjs'))], { detached: true, stdio: ['pipe', 'pipe', 'pipe'], cwd: process.env.GATEHOUSE_BENCH_ROOT });
    stalls.push(performance.now() - t);
    cpu.push(cpuMs(process.cpuUsage(c)));
    child.stdout?.resume();
    child.stderr?.resume();
    await new Promise((r) => child.once('close', r));
  }
  return { p50: quantile(stalls, 0.5), max: Math.max(...stalls), rssMiB: process.memoryUsage().rss / 1024 / 1024, cpu: quantile(cpu, 0.5) };
}

/** User + system CPU time of a `process.cpuUsage` delta, in ms: work done, whatever the load. */
function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/**
 * The same spawn through the pool's launcher process (pool/childLauncher.ts), as the pool does it
 * on Linux and macOS: the longest event-loop stall of this thread while one child is started
 * (spawn request out, pid and three stdio sockets in) and runs to its exit.
 */
async function launcherStall(): Promise<{ p50: number; max: number; cpu: number }> {
  const stalls: number[] = [];
  const cpu: number[] = [];
  const launch = { command: process.execPath, args: [path.join(repoRoot, fixture('crashOnStart.mjs'))] };
  for (let i = 0; i < SPAWN_SAMPLES; i++) {
    const h = startHistogram();
    const c = process.cpuUsage();
    const started = await childLauncher.start({ launch, env: { PATH: process.env.PATH ?? '' }, cwd: process.env.GATEHOUSE_BENCH_ROOT, cancelled: () => false });
    cpu.push(cpuMs(process.cpuUsage(c)));
    if ('child' in started) {
      started.child.stdout?.resume();
      started.child.stderr?.resume();
      await new Promise((r) => started.child.once('close', r));
    }
    h.disable();
    stalls.push(Math.max(0, h.max / 1e6 - RESOLUTION_MS));
  }
  return { p50: quantile(stalls, 0.5), max: Math.max(...stalls), cpu: quantile(cpu, 0.5) };
}

/**
 * The synchronous stretches a 1 MiB result costs the gateway's thread, each timed in isolation
 * with the project's own functions (median of 10 after 3 warm-ups). The loop-delay phases show
 * the effect; this shows where it comes from. The text is the fixture's ('x' × 1 MiB).
 */
function mainThreadSteps(): Array<[string, number]> {
  const text = 'x'.repeat(MiB);
  const result: CallToolResult = { content: [{ type: 'text', text }] };
  const message = { jsonrpc: '2.0', id: 1, result } as JSONRPCMessage;
  const line = JSON.stringify(message);
  const buf = Buffer.from(`${line}\n`);
  // The packed buffers are transferred to the worker, as postMessage does: kept here instead,
  // each 1 MiB ArrayBuffer would count against this heap until a GC, and the step would time
  // the GCs that this external memory triggers (~10 ms) rather than the encode (~0.3 ms).
  const pack = (): unknown => {
    const packed = packStrings(collectStrings(result, { mcpContent: true }).strings);
    return structuredClone(packed, { transfer: transferables(packed) });
  };
  const steps: Array<[string, () => unknown]> = [
    ['child stdout line → string (ChildProcessTransport, decodeUtf8)', () => decodeUtf8(buf, 0, buf.length - 1)],
    ['deserializeMessage: JSON.parse + JSON-RPC schema (zod)', () => deserializeMessage(line)],
    ["CallToolResultSchema.parse (the gateway's downstream client.request)", () => CallToolResultSchema.parse(result)],
    ['result cap: capResult (sizes the JSON without building it)', () => capResult(result, 4 * MiB)],
    // One job for both: the redaction and the injection scan of a result share one encode.
    ['result scan job (redaction + injection): collectStrings + packStrings (encode for the worker, buffers transferred)', pack],
    ['answer to a stdio/HTTP client: serializeMessage (JSON.stringify)', () => serializeMessage(message)],
  ];
  return steps.map(([label, fn]) => {
    for (let i = 0; i < 3; i++) fn();
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      fn();
      times.push(performance.now() - t);
    }
    return [label, median(times)];
  });
}

async function body(out: SectionOutput): Promise<void> {
  const phases: Phase[] = [];
  const overruns = { total: 0, unattributed: 0 };
  const addOverruns = (gw: InProcessGateway | { total: number; unattributed: number }): void => {
    const o = 'service' in gw ? gw.logger.overruns() : gw;
    overruns.total += o.total;
    overruns.unattributed += o.unattributed;
  };

  progress('responsiveness: idle baseline and A (1 MiB results)');
  const quiet = await startInProcess(makeProject('responsive-a', [echo], benchPolicy()));
  try {
    await quiet.client.listTools();
    await call(quiet.client, 'echo__big', { bytes: MiB }); // warm-up: worker compiled, JIT warm
    phases.push(await steady(quiet, 'idle gateway (baseline, no calls)', false));
    phases.push(await steady(quiet, 'A. 1 MiB results, scanned, back to back', true));
    addOverruns(quiet);
  } finally {
    await quiet.close();
  }

  // B and C include a gateway start and the first seconds of a crash loop: too long for a smoke run.
  if (!quick) {
    progress('responsiveness B: 10 servers crash-looping (default supervisor), from the gateway start');
    const b = await fromStart(`B. gateway start + ${CRASHERS} servers crash-looping (defaults)`, false, benchPolicy());
    phases.push(b.phase);
    progress('responsiveness C: B + 1 MiB results');
    const c = await fromStart(`C. B + 1 MiB results`, true, benchPolicy());
    phases.push(c.phase);
    addOverruns(b.overruns);
    addOverruns(c.overruns);
  }

  progress('responsiveness D: never-ending crash loop + 1 MiB results');
  const busy = await startInProcess(makeProject('responsive-d', [echo, ...crashers], stressPolicy));
  try {
    await waitFor('the crash loop to start', () => (restarts(busy) >= CRASHERS ? true : undefined), 30_000, 20);
    await call(busy.client, 'echo__big', { bytes: MiB });
    phases.push(await steady(busy, `D. ${CRASHERS} servers respawning every ~500 ms + 1 MiB results`, true));
    addOverruns(busy);
  } finally {
    await busy.close();
  }

  // With the gateway's modules loaded, this process has about the RSS of a running gateway.
  const stall = await spawnStall();
  const viaLauncher = childLauncher.usable ? await launcherStall() : undefined;

  const rows = out.table(['phase', 'loop delay p50', 'loop delay p99', 'loop delay max', '1 MiB calls (p50)', 'respawns', 'target', 'result']);
  for (const p of phases) {
    const withResults = p.bigCalls > 0;
    const result = withResults ? out.check(`event-loop delay p99, ${p.label}`, fmt(p.p99, 'ms'), '≤ 20 ms', p.p99 <= 20) : '—';
    rows.push([
      p.label,
      fmt(p.p50, 'ms'),
      fmt(p.p99, 'ms'),
      fmt(p.max, 'ms'),
      withResults ? `${p.bigCalls} (${fmt(p.bigP50, 'ms')})` : '—',
      String(p.respawns),
      withResults ? 'p99 ≤ 20 ms' : '—',
      result,
    ]);
    if (p.failures.length) out.note(`${p.label}: ${p.failures.length} wrong answers, first: ${p.failures[0]}`);
  }
  const steps = mainThreadSteps();
  const stepRows = out.table(['synchronous work on the gateway thread per 1 MiB result (each step timed alone)', 'median'], 'Where phase A\'s delay comes from');
  for (const [label, ms] of steps) stepRows.push([label, fmt(ms, 'ms')]);
  stepRows.push(['total per result (the worker\'s matching runs off-thread and is not included)', fmt(steps.reduce((n, [, ms]) => n + ms, 0), 'ms')]);
  rows.push([
    `one child_process.spawn of a fixture (what every (re)spawn costs this thread; ${SPAWN_SAMPLES} samples, process RSS ${stall.rssMiB.toFixed(0)} MiB)`,
    fmt(stall.p50, 'ms'),
    '—',
    fmt(stall.max, 'ms'),
    '—',
    '—',
    '—',
    '—',
  ]);
  rows.push([
    viaLauncher
      ? `the same spawn through the launcher process, as the pool spawns (longest loop stall of this thread per child, start to exit; ${SPAWN_SAMPLES} samples)`
      : 'the same spawn through the launcher process: off (GATEHOUSE_SPAWN=in-process or not Linux/macOS), the pool forks in this process',
    viaLauncher ? fmt(viaLauncher.p50, 'ms') : '—',
    '—',
    viaLauncher ? fmt(viaLauncher.max, 'ms') : '—',
    '—',
    '—',
    '—',
    '—',
  ]);
  out.note(
    `Each phase ${PHASE_MS / 1000} s. Loop delay = monitorEventLoopDelay sample minus its ${RESOLUTION_MS} ms resolution. ` +
      'The in-memory client runs in the same process (messages passed as objects, no JSON), so its share is included. ' +
      `Scanner budget overruns logged (results withheld, fail-closed): ${overruns.total}, of which ${overruns.unattributed} named no pattern (the worker was not running that job when its budget ran out). ` +
      'Compare every row with the idle baseline: on a machine shared with other work the baseline itself is not zero.',
  );
  out.note(
    `CPU time of this process per spawn (process.cpuUsage, user + system, median; work done, so it holds under load): the spawn call ${fmt(stall.cpu, 'ms')}` +
      (viaLauncher ? `; through the launcher, from the request until the pid and the three sockets are here ${fmt(viaLauncher.cpu, 'ms')}. Both include whatever this process's other threads (GC, JIT) did meanwhile.` : '.'),
  );
  out.note(
    'On Linux and macOS the pool\'s children are forked by a small launcher process (pool/childLauncher.ts) that hands their stdio sockets back over IPC, ' +
      'so a (re)spawn costs this thread a few IPC messages instead of the fork of the row "one child_process.spawn" (which grows with the RSS); ' +
      'phases B-D measure that. With GATEHOUSE_SPAWN=in-process (and on Windows) the pool forks here, one child per event-loop turn (pool/spawnGate.ts), ' +
      'so the longest stall is one fork, not one per server restarting at once.',
  );
}

runSection('responsiveness', '3. Responsiveness: event-loop delay in the gateway process', body);
