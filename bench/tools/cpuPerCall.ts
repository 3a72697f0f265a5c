/**
 * CPU time the gateway (or the stdio floor) process spends per echo call, read from
 * /proc/<pid>/stat around a run: work counted, not wall time, so it holds on a loaded machine.
 * Per thread too (main, V8 helpers, libuv pool), for the concurrent and the sequential run.
 * Linux only. `node --import tsx bench/tools/cpuPerCall.ts [calls] [inFlight] [modes]`
 * (`SEQ_CALLS=n` sets the sequential run's length);
 * `CPU_PROF_DIR=/tmp/p` also writes a V8 CPU profile of the gateway; `GATEHOUSE_CLI=path/cli.js`
 * measures another build. Needs `GATEHOUSE_BENCH_ROOT` (a scratch folder for the projects).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { cliPath } from '../lib/build';
import { call, open, textOf, type Endpoint, type Mode } from '../lib/clients';
import { concurrent, sequential } from '../lib/load';
import { benchPolicy, fixture, makeProject } from '../lib/project';

function cpuMs(pid: number, task = ''): number {
  const fields = readFileSync(`/proc/${pid}${task}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

/** CPU ms per thread name (main thread = the pid's own name). */
function threadsMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = `${readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()}#${tid === String(pid) ? 'main' : tid}`;
      out.set(name, (out.get(name) ?? 0) + cpuMs(pid, `/task/${tid}`));
    } catch {
      // the thread ended
    }
  }
  return out;
}

const calls = Number(process.argv[2] ?? 5000);
const inFlight = Number(process.argv[3] ?? 16);
const modes = (process.argv[4] ?? 'floorStdio,stdio').split(',') as Mode[];
/** `gatehouse serve` on stdio from `GATEHOUSE_CLI` (another build) or this one, with `--cpu-prof` when asked (not allowed in NODE_OPTIONS). */
async function serveStdio(folder: string, profileDir: string | undefined): Promise<Endpoint> {
  const cli = process.env.GATEHOUSE_CLI ?? cliPath;
  const args = [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), cli, 'serve'];
  const transport = new StdioClientTransport({ command: process.execPath, args, cwd: folder, stderr: 'ignore' });
  const client = new Client({ name: 'cpu', version: '1' });
  await client.connect(transport);
  return { mode: 'stdio', client, tool: (n) => `echo__${n}`, pid: transport.pid ?? -1, stderr: () => '', overruns: () => ({}) as never, close: () => client.close() };
}

async function main(): Promise<void> {
for (const mode of modes) {
  const project = makeProject(`cpu-${mode}`, [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy());
  const endpoint = mode === 'stdio' ? await serveStdio(project.folder, process.env.CPU_PROF_DIR) : await open(mode, project);
  const tool = endpoint.tool('echo');
  const one = async (i: number) => {
    const text = `call ${i}`;
    const got = textOf(await call(endpoint.client, tool, { text }));
    return got.includes(text) ? undefined : `unexpected answer ${got}`;
  };
  await concurrent(500, inFlight, one);
  const before = cpuMs(endpoint.pid);
  const threadsBefore = threadsMs(endpoint.pid);
  const t0 = performance.now();
  const run = await concurrent(calls, inFlight, one);
  const wall = performance.now() - t0;
  const used = cpuMs(endpoint.pid) - before;
  const perThread = [...threadsMs(endpoint.pid)].map(([name, ms]) => [name, ms - (threadsBefore.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0);
  console.log(
    `${mode.padEnd(10)} ${((used * 1000) / calls).toFixed(1).padStart(7)} µs CPU/call  ${Math.round((calls * 1000) / wall)} calls/s wall  failures ${run.failures}`,
  );
  const threadsBeforeSeq = threadsMs(endpoint.pid);
  const seq = await sequential(Number(process.env.SEQ_CALLS ?? Math.min(calls, 2000)), one);
  const seqThreads = [...threadsMs(endpoint.pid)].map(([name, ms]) => [name, ms - (threadsBeforeSeq.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0);
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
