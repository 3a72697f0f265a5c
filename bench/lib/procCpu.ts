/**
 * CPU time of a process and its threads from /proc (Linux): work counted, not wall time, so the
 * bench tools' figures hold on a loaded machine. Also the profiled `gatehouse serve` they measure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { cliPath } from './build';
import { open, spawnHttpGateway, type Endpoint, type Mode } from './clients';
import type { BenchProject } from './project';

/** utime + stime of a process (or of one of its threads: `task` = `/task/<tid>`), in ms. */
export function cpuMs(pid: number, task = ''): number {
  const fields = readFileSync(`/proc/${pid}${task}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
}

/** CPU ms per thread id of a process (the main thread's id is the pid); threads that ended are left out. */
export function threadsMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, cpuMs(pid, `/task/${tid}`));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** A thread's name as `ps` shows it, or `?` once it has ended. */
export function threadName(pid: number, tid: string): string {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * The endpoint a bench tool measures for `mode`: `gatehouse serve` (stdio or `--http`) from
 * `GATEHOUSE_CLI` (another build) or this one, with `--cpu-prof` into `profileDir` when given
 * (the flag is not allowed in NODE_OPTIONS), in the caller's environment (the SDK's default
 * would drop NODE_OPTIONS and GATEHOUSE_SPAWN). Floors and proxies open as the bench opens them.
 */
export async function openProfiled(mode: Mode, project: BenchProject, profileDir: string | undefined): Promise<Endpoint> {
  if (mode !== 'stdio' && mode !== 'http') return open(mode, project);
  const cli = process.env.GATEHOUSE_CLI ?? cliPath;
  // CPU_PROF_INTERVAL (µs, V8's default 1000) samples finer: a call is under a millisecond.
  const interval = process.env.CPU_PROF_INTERVAL ? ['--cpu-prof-interval', process.env.CPU_PROF_INTERVAL] : [];
  const nodeArgs = [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, ...interval] : []), cli];
  // Our environment (NODE_OPTIONS, GATEHOUSE_SPAWN… reach the gateway), minus the tools' own settings.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !['GATEHOUSE_CLI', 'GATEHOUSE_BENCH_ROOT', 'CPU_PROF_DIR', 'CPU_PROF_INTERVAL'].includes(k))) as Record<string, string>;
  if (mode === 'http') return spawnHttpGateway(project, nodeArgs, env);
  const transport = new StdioClientTransport({ command: process.execPath, args: [...nodeArgs, 'serve'], cwd: project.folder, env, stderr: 'ignore' });
  const client = new Client({ name: 'cpu', version: '1' });
  await client.connect(transport);
  return { mode: 'stdio', client, tool: (n) => `echo__${n}`, pid: transport.pid ?? -1, stderr: () => '', overruns: () => ({}) as never, close: () => client.close() };
}
