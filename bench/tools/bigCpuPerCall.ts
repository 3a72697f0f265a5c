/**
 * CPU time the gateway (or the stdio floor) process spends per LARGE echo result, per thread,
 * read from /proc around a run (as cpuPerCall.ts does for small calls): the main thread, the
 * scanner worker and V8's helpers separately, so a change to the large-result path is measured
 * as work, not as wall time on a loaded machine; then the gateway's resident memory (VmRSS, and
 * its peak VmHWM) after the run. Linux only.
 *
 * `node --import tsx bench/tools/bigCpuPerCall.ts [calls] [bytes,bytes] [modes]` (defaults: 40
 * calls of 256 KiB and of 1 MiB, `stdio`); `CPU_PROF_DIR=/tmp/p` also writes a V8 CPU profile of
 * the gateway; `GATEHOUSE_CLI=path/cli.js` measures another build. Needs `GATEHOUSE_BENCH_ROOT`.
 */
import { readFileSync } from 'node:fs';
import { call, textOf, type Mode } from '../lib/clients';
import { sequential } from '../lib/load';
import { openProfiled, threadsMs } from '../lib/procCpu';
import { benchPolicy, fixture, makeProject } from '../lib/project';

/**
 * Per-call CPU of the main thread, of the two busiest other threads (the scanner workers: every
 * thread of Node is named `node`, so they are told apart by their work; a large result's
 * redaction and its raw-text injection scan run on two workers side by side) and of all the rest
 * (V8's GC and compiler helpers, libuv's pool).
 */
function split(pid: number, before: Map<string, number>, after: Map<string, number>, calls: number): Array<[string, number]> {
  const deltas = [...after].map(([tid, ms]) => [tid, (ms - (before.get(tid) ?? 0)) / calls] as const);
  const main = deltas.find(([tid]) => tid === String(pid))?.[1] ?? 0;
  const others = deltas.filter(([tid]) => tid !== String(pid)).sort((a, b) => b[1] - a[1]);
  const rest = others.slice(2).reduce((n, [, ms]) => n + ms, 0);
  return [
    ['main', main],
    ['worker', others[0]?.[1] ?? 0],
    ['next', others[1]?.[1] ?? 0],
    ['helpers', rest],
  ];
}

/** A memory figure of /proc/<pid>/status, in MB. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): string {
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return (kb / 1024).toFixed(1);
}

const calls = Number(process.argv[2] ?? 40);
const sizes = (process.argv[3] ?? `${256 * 1024},${1024 * 1024}`).split(',').map(Number);
const modes = (process.argv[4] ?? 'stdio').split(',') as Mode[];

async function main(): Promise<void> {
  for (const mode of modes) {
    const project = makeProject(`bigcpu-${mode}`, [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy());
    const endpoint = await openProfiled(mode, project, process.env.CPU_PROF_DIR);
    const tool = endpoint.tool('big');
    for (const bytes of sizes) {
      const one = async () => {
        const r = await call(endpoint.client, tool, { bytes });
        return !r.isError && textOf(r).length === bytes ? undefined : `unexpected answer ${textOf(r).slice(0, 200)}`;
      };
      await sequential(5, one);
      const before = threadsMs(endpoint.pid);
      const run = await sequential(calls, one);
      const after = threadsMs(endpoint.pid);
      const sorted = [...run.latencies].sort((a, b) => a - b);
      const per = split(endpoint.pid, before, after, calls);
      const total = per.reduce((n, [, ms]) => n + ms, 0);
      console.log(
        `${mode.padEnd(10)} ${String(bytes).padStart(8)} B  p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} ms  ` +
          `CPU/call ${total.toFixed(2)} ms: ${per.map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(' · ')}  failures ${run.failures}`,
      );
    }
    console.log(`${mode.padEnd(10)} gateway RSS ${statusMb(endpoint.pid, 'VmRSS')} MB, peak ${statusMb(endpoint.pid, 'VmHWM')} MB`);
    await endpoint.close();
  }
}

void main();
