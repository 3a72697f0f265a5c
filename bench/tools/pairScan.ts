/**
 * Latency and CPU of `Scanner.redactAndScanInjection` on one large tool result, in this process,
 * with the raw-text injection scan on a second worker (paired) and without (one worker, in
 * series): how the pairing threshold `PAIR_MIN_BYTES` was chosen. Blocks of calls alternate
 * between the two scanners, so machine load hits both alike. CPU per thread from /proc (main,
 * the two busiest others — the workers — and the rest): on a loaded machine wall time says
 * little, but the worker CPU on the call's path (single: one worker does both halves; paired:
 * the larger of the two) is what an idle 2-core machine waits for.
 *
 * `node --import tsx bench/tools/pairScan.ts [calls] [bytes,bytes…] [text]` (defaults: 3 × 60 calls;
 * 16, 32, 64, 128, 256 KiB and 1 MiB; text `x`: the bench's `x`-repeated echo, or `prose`).
 */
import { Scanner } from '../../extension/gateway/scanner/scannerClient';
import { threadsMs } from '../lib/procCpu';

const calls = Number(process.argv[2] ?? 60);
const sizes = (process.argv[3] ?? [16, 32, 64, 128, 256, 1024].map((k) => k * 1024).join(',')).split(',').map(Number);
const kind = process.argv[4] ?? 'x';

function textOf(bytes: number): string {
  if (kind === 'x') return 'x'.repeat(bytes);
  return 'The quick brown fox jumps over the lazy dog; {"id": 42, "path": "/usr/lib"} '.repeat(Math.ceil(bytes / 76)).slice(0, bytes);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Per-call CPU ms of the main thread, the two busiest other threads (the workers) and the rest, over a block of calls. */
function perThread(before: Map<string, number>, after: Map<string, number>, n: number): number[] {
  const deltas = [...after].map(([tid, ms]) => [tid, (ms - (before.get(tid) ?? 0)) / n] as const);
  const main = deltas.find(([tid]) => tid === String(process.pid))?.[1] ?? 0;
  const others = deltas.filter(([tid]) => tid !== String(process.pid)).map(([, ms]) => ms).sort((a, b) => b - a);
  return [main, others[0] ?? 0, others[1] ?? 0, others.slice(2).reduce((a, b) => a + b, 0)];
}

async function main(): Promise<void> {
  const scanners = { single: new Scanner({ pairMinBytes: 0, workerIdleStopMs: 0 }), paired: new Scanner({ pairMinBytes: 1, workerIdleStopMs: 0 }) };
  try {
    for (const bytes of sizes) {
      const value = { content: [{ type: 'text', text: textOf(bytes) }] };
      const stats = { single: { wall: [] as number[], cpu: [0, 0, 0, 0] }, paired: { wall: [] as number[], cpu: [0, 0, 0, 0] } };
      const one = async (scanner: Scanner): Promise<number> => {
        const t = performance.now();
        const r = await scanner.redactAndScanInjection(value, { root: 'result', tier: 'read' });
        if (r.injection?.verdict !== 'clean') throw new Error(`unexpected verdict ${JSON.stringify(r.injection)}`);
        return performance.now() - t;
      };
      // Blocks of calls, the two scanners in turn (three rounds), after a warm-up (and the workers' start).
      for (const scanner of Object.values(scanners)) for (let i = 0; i < 5; i++) await one(scanner);
      for (let round = 0; round < 3; round++) {
        for (const name of ['single', 'paired'] as const) {
          const before = threadsMs(process.pid);
          for (let i = 0; i < calls; i++) stats[name].wall.push(await one(scanners[name]));
          perThread(before, threadsMs(process.pid), calls * 3).forEach((ms, k) => (stats[name].cpu[k]! += ms));
        }
      }
      const row = (name: 'single' | 'paired'): string => {
        const [main, w1, w2, rest] = stats[name].cpu as [number, number, number, number];
        return `${name} p50 ${median(stats[name].wall).toFixed(2)} ms, CPU/call ${(main + w1 + w2 + rest).toFixed(2)} (main ${main.toFixed(2)} · workers ${w1.toFixed(2)} + ${w2.toFixed(2)} · rest ${rest.toFixed(2)})`;
      };
      console.log(`${String(bytes).padStart(8)} B ${kind}: ${row('single')} | ${row('paired')}`);
    }
  } finally {
    for (const scanner of Object.values(scanners)) scanner.dispose();
  }
}

void main();
