/**
 * Phases C and D of bench section 3 (responsiveness) alone, for profiling the gateway's thread
 * while its children crash-loop. Same gateway, same fixtures, same policies as the section.
 *
 *   GATEHOUSE_BENCH_ROOT=$(mktemp -d) node --import tsx bench/tools/respawnLoop.ts [A|C|D|ACD] [rounds]
 *
 * Prints each phase's loop delay p50/p99/max (histogram, minus its resolution), the process's
 * CPU time and its main thread's (procfs, Linux) per respawn: work done, which holds on a
 * shared machine where the delays do not. NO_CALLS=1: the crash loop alone, no 1 MiB calls.
 * PROFILE=/tmp/x: a V8 CPU profile of each phase (x.D.cpuprofile; PROFILE_US sampling
 * interval). TRACE=1: the ten longest stalls of a 1 ms timer. PHASE_MS: phase length.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { call, textOf } from '../lib/clients';
import { startInProcess, type InProcessGateway } from '../lib/inProcess';
import { waitFor } from '../lib/load';
import { benchPolicy, fixture, makeProject, type BenchServer } from '../lib/project';

const PHASE_MS = Number(process.env.PHASE_MS ?? 6000);
const MiB = 1024 * 1024;
const RESOLUTION_MS = 2;
const CRASHERS = 10;
const echo: BenchServer = { name: 'echo', script: fixture('echo.mjs') };
const crashers: BenchServer[] = Array.from({ length: CRASHERS }, (_, i) => ({ name: `crash${i + 1}`, script: fixture('crashOnStart.mjs') }));
const stressPolicy = benchPolicy({
  gateway: {
    backoff: { initial_ms: 500, multiplier: 1, max_ms: 500, jitter: 0.2 },
    supervisor: { max_crashes: 1_000_000, crash_window_ms: 1000 },
  },
});

/** CPU time of this process's main thread (its task is the process's own pid), ms; procfs ticks of 10 ms. */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function restarts(gw: InProcessGateway): number {
  return gw.service.store.snapshot.downstreams.filter((d) => d.name !== 'echo').reduce((n, d) => n + d.restarts, 0);
}

/** Stalls of a 1 ms interval longer than 8 ms: when, how long. */
function stallTracer(): { stop(): Array<{ at: number; ms: number }> } {
  const stalls: Array<{ at: number; ms: number }> = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > 8) stalls.push({ at: Math.round(now), ms: Math.round(now - last - 1) });
    last = now;
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      return stalls;
    },
  };
}

async function phase(label: string, gw: InProcessGateway, fromStart: boolean, startedAt: number): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const profile = process.env.PROFILE ? new Session() : undefined;
  if (profile) {
    profile.connect();
    await profile.post('Profiler.enable');
    await profile.post('Profiler.setSamplingInterval', { interval: Number(process.env.PROFILE_US ?? 200) });
    await profile.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const window0 = process.hrtime.bigint() / 1000n;
  const main0 = mainThreadCpuMs();
  const tracer = process.env.TRACE === "1" ? stallTracer() : { stop: () => [] as Array<{ at: number; ms: number }> };
  h.enable();
  const before = fromStart ? 0 : restarts(gw);
  const end = (fromStart ? startedAt : performance.now()) + PHASE_MS;
  let calls = 0;
  const lat: number[] = [];
  const noCalls = process.env.NO_CALLS === '1';
  if (noCalls) await new Promise((r) => setTimeout(r, Math.max(0, end - performance.now())));
  while (!noCalls && performance.now() < end) {
    const t = performance.now();
    const r = await call(gw.client, 'echo__big', { bytes: MiB });
    lat.push(performance.now() - t);
    calls++;
    if (r.isError || textOf(r).length !== MiB) console.log('wrong answer', textOf(r).slice(0, 100));
  }
  h.disable();
  const cpu = process.cpuUsage(cpu0);
  const mainMs = mainThreadCpuMs() - main0;
  if (profile) {
    const { profile: p } = await profile.post('Profiler.stop');
    writeFileSync(`${process.env.PROFILE}.${label}.cpuprofile`, JSON.stringify(p));
    profile.disconnect();
  }
  const stalls = tracer.stop();
  // For cutting a whole-run --cpu-prof to this phase (V8's ticks and hrtime are both CLOCK_MONOTONIC).
  if (process.env.WINDOW) console.log(`${label} window µs ${window0} ${process.hrtime.bigint() / 1000n}`);
  const ms = (ns: number): string => Math.max(0, ns / 1e6 - RESOLUTION_MS).toFixed(1);
  lat.sort((a, b) => a - b);
  console.log(
    `${label}: p50 ${ms(h.percentile(50))} p99 ${ms(h.percentile(99))} max ${ms(h.max)} ms; ${calls} calls (p50 ${lat[Math.floor(lat.length / 2)]?.toFixed(1)} ms); respawns ${restarts(gw) - before}; cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, main thread ${mainMs} ms (${(mainMs / Math.max(1, restarts(gw) - before)).toFixed(1)} per respawn)`,
  );
  const top = [...stalls].sort((a, b) => b.ms - a.ms).slice(0, 10);
  console.log(`  stalls > 8 ms: ${stalls.length}; longest: ${top.map((s) => `${s.ms}@${s.at}`).join(' ')}`);
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'CD';
  const rounds = Number(process.argv[3] ?? 1);
  for (let r = 0; r < rounds; r++) {
    if (which.includes('C')) {
      const t = performance.now();
      const gw = await startInProcess(makeProject('responsive', [echo, ...crashers], benchPolicy()));
      try {
        await phase('C', gw, true, t);
      } finally {
        await gw.close();
      }
    }
    if (which.includes('A')) {
      const gw = await startInProcess(makeProject('responsive-a', [echo], benchPolicy()));
      try {
        await call(gw.client, 'echo__big', { bytes: MiB });
        await phase('A', gw, false, 0);
      } finally {
        await gw.close();
      }
    }
    if (which.includes('D')) {
      const gw = await startInProcess(makeProject('responsive-d', [echo, ...crashers], stressPolicy), { stateFile: process.env.STATE_FILE !== '0' });
      try {
        await waitFor('the crash loop to start', () => (restarts(gw) >= CRASHERS ? true : undefined), 30_000, 20);
        await call(gw.client, 'echo__big', { bytes: MiB });
        await phase('D', gw, false, 0);
      } finally {
        await gw.close();
      }
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
