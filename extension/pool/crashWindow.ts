import type { Clock } from '../common/clock';

/** Tunables of {@link CrashWindow}. */
export interface CrashWindowOptions {
  /** Crashes inside the window that make the supervisor give up. Default 5, floored at 1. */
  maxCrashes?: number;
  /** Length of the sliding window. Default 300 000 ms (five minutes). */
  windowMs?: number;
}

/**
 * A sliding-window crash counter: "five crashes inside five minutes → gave_up"
 * (DESIGN.md §3). A child that crashes once an hour is respawned forever; one that crash-loops
 * is given up on instead of burning CPU and flooding the output.
 */
export class CrashWindow {
  private readonly maxCrashes: number;
  private readonly windowMs: number;
  /** Crash times, oldest first; never longer than maxCrashes, so memory stays bounded. */
  private times: number[] = [];

  constructor(
    options: CrashWindowOptions = {},
    private readonly clock: Clock,
  ) {
    this.maxCrashes = Math.max(1, Math.floor(options.maxCrashes ?? 5));
    const windowMs = options.windowMs ?? 300_000;
    if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
      throw new RangeError(`CrashWindow: windowMs must be a positive finite number, got ${windowMs}`);
    }
    this.windowMs = windowMs;
  }

  /** Crashes still inside the window as of now. */
  get count(): number {
    this.prune(this.clock.now());
    return this.times.length;
  }

  /**
   * Records a crash now. Returns true when this crash brings the count inside the window to
   * `maxCrashes` (or beyond): the caller should stop respawning.
   */
  record(): boolean {
    const now = this.clock.now();
    this.prune(now);
    this.times.push(now);
    // Older entries cannot matter once maxCrashes newer ones exist.
    if (this.times.length > this.maxCrashes) this.times.shift();
    return this.times.length >= this.maxCrashes;
  }

  /** Forgets every crash (Respawn command, config change, or a long healthy run). */
  reset(): void {
    this.times = [];
  }

  private prune(now: number): void {
    // A crash exactly windowMs ago has left the window.
    while (this.times.length > 0 && now - this.times[0] >= this.windowMs) this.times.shift();
  }
}
