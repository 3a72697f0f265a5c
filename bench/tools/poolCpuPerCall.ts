/**
 * CPU time of the pool's own path per tools/call: `DownstreamPool.callTool` to a real echo child
 * and back (SDK Client, child transport), no chain, no upstream session. This process's CPU only
 * (the child's is its own), so the pool's share is not lost in the gateway's.
 * `POOL_BASE=/work/main` also loads that checkout's pool into this process and alternates the two
 * round by round, so both see the same load on a shared machine.
 * `node --import tsx bench/tools/poolCpuPerCall.ts [calls] [inFlight] [rounds]`
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { concurrent, sequential } from '../lib/load';
import { fixture } from '../lib/project';

interface PoolLike {
  start(): void;
  stop(): Promise<void>;
  connection(name: string): { state: string } | undefined;
  callTool(server: string, tool: string, args: Record<string, unknown>, options?: { readOnly?: boolean }): Promise<{ content?: unknown }>;
}

async function startPool(root: string): Promise<PoolLike> {
  const load = (file: string) => import(path.join(root, 'extension', file)) as Promise<Record<string, unknown>>;
  const { DownstreamPool } = (await load('pool/pool.ts')) as { DownstreamPool: new (...args: unknown[]) => PoolLike };
  const { systemClock } = (await load('common/clock.ts')) as { systemClock: unknown };
  const { nullLogger } = (await load('common/logger.ts')) as { nullLogger: unknown };
  const { resolveTunables } = (await load('config/policySchema.ts')) as { resolveTunables: (x: undefined) => unknown };
  const server = { name: 'echo', command: process.execPath, args: [fixture('echo.mjs')], env: {}, enabled: true, keep_tools_when_down: false };
  const pool = new DownstreamPool(
    { version: '1', servers: [server] },
    { tunables: resolveTunables(undefined), clock: systemClock, hostEnv: process.env, baseDir: root, logger: nullLogger, sessionId: randomUUID() },
  );
  pool.start();
  for (let i = 0; i < 3000 && pool.connection('echo')?.state !== 'ready'; i++) await new Promise((r) => setTimeout(r, 10));
  return pool;
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const calls = Number(process.argv[2] ?? 5000);
const inFlight = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 5);

async function main(): Promise<void> {
  const roots: Array<[string, string]> = [['this', path.resolve(__dirname, '../..')]];
  if (process.env.POOL_BASE) roots.unshift(['base', path.resolve(process.env.POOL_BASE)]);
  const pools = await Promise.all(roots.map(async ([label, root]) => [label, await startPool(root)] as const));
  const figures = new Map<string, { conc: number[]; seq: number[] }>(roots.map(([label]) => [label, { conc: [], seq: [] }]));
  for (let round = 0; round <= rounds; round++) {
    for (const [label, pool] of pools) {
      const one = async (i: number) => {
        const result = await pool.callTool('echo', 'echo', { text: `call ${i}` }, { readOnly: true });
        return JSON.stringify(result.content).includes(`call ${i}"`) ? undefined : 'wrong answer';
      };
      let t = cpuUs();
      const c = await concurrent(calls, inFlight, one);
      const conc = (cpuUs() - t) / calls;
      t = cpuUs();
      const s = await sequential(Math.round(calls / 2), one);
      const seq = (cpuUs() - t) / s.latencies.length;
      if (c.failures || s.failures) throw new Error(`${label}: ${c.firstFailure ?? s.firstFailure}`);
      if (round === 0) continue; // warm-up
      figures.get(label)!.conc.push(conc);
      figures.get(label)!.seq.push(seq);
      console.log(`round ${round} ${label.padEnd(4)} ${inFlight} in flight ${conc.toFixed(1).padStart(6)} µs CPU/call · sequential ${seq.toFixed(1).padStart(6)} µs CPU/call`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [label, f] of figures) console.log(`median ${label.padEnd(4)} ${inFlight} in flight ${median(f.conc).toFixed(1)} µs · sequential ${median(f.seq).toFixed(1)} µs (min ${Math.min(...f.conc).toFixed(1)} / ${Math.min(...f.seq).toFixed(1)})`);
  await Promise.all(pools.map(([, pool]) => pool.stop()));
  process.exit(0);
}

void main();
