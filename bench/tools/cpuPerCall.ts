/**
 * CPU time the gateway (or a floor) process spends per echo call, read from /proc/<pid>/stat
 * around a run: work counted, not wall time, so it holds on a loaded machine. Per thread too
 * (main, V8 helpers, libuv pool), for the concurrent and the sequential run, and the read and
 * write syscalls per call of the concurrent run (/proc/<pid>/io). Linux only.
 * `node --import tsx bench/tools/cpuPerCall.ts [calls] [inFlight] [modes]` (modes as in
 * bench/lib/clients.ts: floorStdio, sdkStdio, stdio, floorHttp, sdkHttp, http; `SEQ_CALLS=n` sets the
 * sequential run's length). `CPU_PROF_DIR=/tmp/p` also writes a V8 CPU profile of the gateway
 * (stdio or http; `CPU_PROF_INTERVAL=100` samples every 100 µs); `GATEHOUSE_CLI=path/cli.js`
 * measures another build. Needs `GATEHOUSE_BENCH_ROOT` (a scratch folder for the projects).
 */
import { readFileSync } from 'node:fs';
import { call, textOf, type Mode } from '../lib/clients';
import { concurrent, sequential } from '../lib/load';
import { cpuMs, openProfiled, threadName, threadsMs } from '../lib/procCpu';
import { benchPolicy, fixture, makeProject } from '../lib/project';

/** read and write syscalls of a process so far (/proc/<pid>/io). */
function ioCounts(pid: number): { syscr: number; syscw: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return { syscr: Number(/syscr: (\d+)/.exec(io)?.[1]), syscw: Number(/syscw: (\d+)/.exec(io)?.[1]) };
}

/** CPU ms per thread, named as `ps` names them (main thread = `name#main`). */
function namedThreadsMs(pid: number): Map<string, number> {
  return new Map([...threadsMs(pid)].map(([tid, ms]) => [`${threadName(pid, tid)}#${tid === String(pid) ? 'main' : tid}`, ms]));
}

const calls = Number(process.argv[2] ?? 5000);
const inFlight = Number(process.argv[3] ?? 16);
const modes = (process.argv[4] ?? 'floorStdio,stdio').split(',') as Mode[];
async function main(): Promise<void> {
for (const mode of modes) {
  const project = makeProject(`cpu-${mode}`, [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy());
  const endpoint = await openProfiled(mode, project, process.env.CPU_PROF_DIR);
  const tool = endpoint.tool('echo');
  const one = async (i: number) => {
    const text = `call ${i}`;
    const got = textOf(await call(endpoint.client, tool, { text }));
    return got.includes(text) ? undefined : `unexpected answer ${got}`;
  };
  await concurrent(500, inFlight, one);
  const before = cpuMs(endpoint.pid);
  const ioBefore = ioCounts(endpoint.pid);
  const threadsBefore = namedThreadsMs(endpoint.pid);
  const t0 = performance.now();
  const run = await concurrent(calls, inFlight, one);
  const wall = performance.now() - t0;
  const used = cpuMs(endpoint.pid) - before;
  const ioAfter = ioCounts(endpoint.pid);
  const perThread = [...namedThreadsMs(endpoint.pid)].map(([name, ms]) => [name, ms - (threadsBefore.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0);
  console.log(
    `${mode.padEnd(10)} ${((used * 1000) / calls).toFixed(1).padStart(7)} µs CPU/call  ${Math.round((calls * 1000) / wall)} calls/s wall  failures ${run.failures}  syscalls/call read ${((ioAfter.syscr - ioBefore.syscr) / calls).toFixed(2)} write ${((ioAfter.syscw - ioBefore.syscw) / calls).toFixed(2)}`,
  );
  const threadsBeforeSeq = namedThreadsMs(endpoint.pid);
  const seq = await sequential(Number(process.env.SEQ_CALLS ?? Math.min(calls, 2000)), one);
  const seqThreads = [...namedThreadsMs(endpoint.pid)].map(([name, ms]) => [name, ms - (threadsBeforeSeq.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0);
  const sorted = [...seq.latencies].sort((a, b) => a - b);
  const seqCpu = cpuMs(endpoint.pid) - before - used;
  console.log(
    `           sequential p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} ms, ${((seqCpu * 1000) / seq.latencies.length).toFixed(1)} µs CPU/call, failures ${seq.failures}`,
  );
  console.log(`           sequential: ${seqThreads.map(([name, ms]) => `${name} ${((ms * 1000) / seq.latencies.length).toFixed(1)}`).join(' · ')}`);
  console.log(`           ${perThread.map(([name, ms]) => `${name} ${((ms * 1000) / calls).toFixed(1)}`).join(' · ')}`);
  await endpoint.close();
}
}

void main();
