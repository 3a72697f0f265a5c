import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { IDisposable } from '../common/disposable';

/** What the collector reads and does; the defaults read this process. */
export interface BurstCollectorProbe {
  /** Share of the last period the event loop was busy, 0–1. */
  busy(): number;
  /** Resident set size now, bytes. */
  rss(): number;
  /** One full, compacting GC. */
  collect(): void;
}

export interface BurstCollectorOptions {
  /** How often the loop is looked at; a period under `quietBelow` busy counts as quiet. */
  periodMs: number;
  /** Busy share under which a period is quiet. */
  quietBelow: number;
  /** Quiet periods in a row before a collection. */
  quietPeriods: number;
  /** RSS growth since the last collection (or the start) that makes a quiet period collect. */
  growthBytes: number;
}

/**
 * Six quiet seconds: V8 shrinks the young generation after a full GC only when its allocation
 * rate, averaged over the last 5 s, is low (measured on Node 20: a GC 1.5-4.5 s after the load
 * left it at 32 MB, one after 6 s brought it to 1 MB and the RSS from 111 to 58 MB).
 */
export const BURST_COLLECTOR_DEFAULTS: BurstCollectorOptions = { periodMs: 1000, quietBelow: 0.05, quietPeriods: 6, growthBytes: 16 * 1024 * 1024 };

/**
 * One full GC when the process goes quiet after a burst that grew it.
 *
 * V8 sizes its heap for the load it just saw: 200 calls in flight grow `gatehouse serve`'s young
 * generation to its 32 MB maximum and its old generation to about twice what it holds, and
 * neither shrinks by itself once the calls stop (the memory reducer waits for allocation to
 * stop entirely, and a gateway's timers and pings keep it ticking): RSS stayed at its peak.
 * A full GC once the allocation rate has dropped compacts the old generation, shrinks the young
 * one and hands the freed pages back. It costs one pause of some tens of ms over a heap of tens
 * of MB, so it runs only after `quietPeriods` quiet periods in a row (event loop under 5 % busy,
 * so never while calls keep the gateway busy) and only when the RSS grew by `growthBytes` since
 * the last one: an idle gateway never collects, a burst is followed by one collection.
 */
export class BurstCollector implements IDisposable {
  private floor: number;
  private quiet = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Collections run so far. */
  collections = 0;

  constructor(
    private readonly probe: BurstCollectorProbe = processProbe(),
    private readonly options: BurstCollectorOptions = BURST_COLLECTOR_DEFAULTS,
  ) {
    this.floor = probe.rss();
  }

  /** Looks every `periodMs`, on a timer that never keeps the process alive. */
  start(): this {
    this.timer ??= setInterval(() => this.check(), this.options.periodMs).unref();
    return this;
  }

  /** One look at the period that just ended: collects after `quietPeriods` quiet ones in a row when the RSS grew enough. Returns whether it collected. */
  check(): boolean {
    if (this.probe.busy() >= this.options.quietBelow) {
      this.quiet = 0;
      return false;
    }
    if (++this.quiet < this.options.quietPeriods) return false;
    const rss = this.probe.rss();
    // A process that shrank by itself (V8's own GCs) lowers the bar for the next burst.
    if (rss < this.floor) this.floor = rss;
    if (rss - this.floor < this.options.growthBytes) return false;
    this.probe.collect();
    this.collections++;
    this.floor = this.probe.rss();
    return true;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The probe of this process: event-loop utilization, RSS, and V8's `gc` from a fresh context. */
export function processProbe(): BurstCollectorProbe {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const gc = exposeGc();
  return {
    busy: () => {
      const now = performance.eventLoopUtilization();
      const period = performance.eventLoopUtilization(now, last);
      last = now;
      return period.utilization;
    },
    rss: () => process.memoryUsage.rss(),
    collect: gc,
  };
}

/**
 * V8's `gc` without `--expose-gc` on the command line (a client starts `node dist/cli.js serve`):
 * the flag is read when a context is created, so one new context gets the function and the flag
 * is turned off again for every context after it. Called without options: a full, compacting
 * GC (measured on Node 20: with `{ type: 'major', execution: 'sync' }` and either flavor it freed
 * next to nothing of a heap of garbage that the plain call brought from 200 to 37 MB).
 */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return () => (existing as () => void)();
  v8.setFlagsFromString('--expose-gc');
  try {
    const gc = vm.runInNewContext('gc') as () => void;
    return () => gc();
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}
