import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';
import type { IDisposable } from '../common/disposable';

/** The young generation's cap for `gatehouse serve`: one semi-space, MiB (V8's default maximum is 16). */
export const GATEWAY_MAX_SEMI_SPACE_MB = 4;

/** What the cap reads and sets; the default is this process's V8. */
export interface YoungGenerationProbe {
  /** The young generation's size now (both semi-spaces), bytes. */
  newSpaceBytes(): number;
  /** Sets V8's factor by which the young generation grows when it is too small. */
  setGrowthFactor(factor: 1 | 2): void;
}

/**
 * Keeps the young generation at or under `maxSemiSpaceMb` per semi-space, at run time.
 *
 * `--max-semi-space-size` is read only when V8 creates its heap, before `gatehouse serve` runs
 * (clients start it as `node dist/cli.js serve`), so it cannot be set from here. What V8 does
 * read at run time is the factor by which it grows the young generation (at a scavenge that
 * finds too much alive); a factor of 1 stops the growth where it is. So after each scavenge:
 * below the cap the factor is V8's default 2, at the cap it is 1. Set again every time, because
 * V8 raises a factor under 2 back to 2 whenever it creates a heap (each worker thread: the
 * config parser's, the scanner's), and once more when a worker comes online. V8 still shrinks the young generation when it judges so
 * (after a quiet full GC), and it grows back up to the cap.
 *
 * Why: with 200 calls in flight the young generation grew to its 32 MB maximum (two 16 MiB
 * semi-spaces) and stayed there. Capped at 4 MiB, the same load (bench section 7's, twice each,
 * a loaded machine): RSS peak 125 and 136 MB instead of 148 and 150 (at 8 MiB: 137 and 150).
 * The price is more, smaller scavenges: gateway CPU per call at 16 in flight 0.43 ms instead of
 * 0.38 (means of 6 alternating runs on a loaded machine, each ±15 %); sequential calls and 200 in
 * flight showed no difference above the noise. `--max-semi-space-size=16` restores V8's default.
 * The gateway's work arrives in small tasks, so the observer runs between them; one task that
 * allocated tens of MB could still grow it past the cap before the next adjustment.
 */
export class YoungGenerationCap implements IDisposable {
  private readonly capBytes: number;
  private observer: PerformanceObserver | undefined;
  private readonly onWorker = (worker: Worker): void => {
    worker.once('online', () => this.adjust());
  };

  constructor(
    maxSemiSpaceMb = GATEWAY_MAX_SEMI_SPACE_MB,
    private readonly probe: YoungGenerationProbe = processYoungGeneration,
  ) {
    this.capBytes = 2 * maxSemiSpaceMb * 1024 * 1024;
  }

  /** Adjusts now and after every scavenge. */
  start(): this {
    this.adjust();
    if (!this.observer) {
      this.observer = new PerformanceObserver((list) => {
        if (list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)) this.adjust();
      });
      this.observer.observe({ entryTypes: ['gc'] });
      process.on('worker', this.onWorker);
    }
    return this;
  }

  /** Sets the growth factor for the young generation's size now; returns the factor set. */
  adjust(): 1 | 2 {
    const factor = this.probe.newSpaceBytes() >= this.capBytes ? 1 : 2;
    this.probe.setGrowthFactor(factor);
    return factor;
  }

  dispose(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    process.off('worker', this.onWorker);
  }
}

/** True when the user sized the young generation on node's command line or in `NODE_OPTIONS`: theirs wins. */
export function youngGenerationGiven(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--(max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/.test(a));
}

const processYoungGeneration: YoungGenerationProbe = {
  newSpaceBytes: () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0,
  setGrowthFactor: (factor) => v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`),
};
