/** Tunables of {@link Backoff}; every field is optional. */
export interface BackoffOptions {
  /** Delay before the first retry. Default 500 ms. */
  initialMs?: number;
  /** Growth factor per attempt. Default 2. */
  multiplier?: number;
  /** Hard ceiling of any delay, jitter included. Default 30 000 ms. */
  maxMs?: number;
  /** Relative spread, 0.2 = ±20 %. Default 0.2. */
  jitter?: number;
}

/**
 * Exponential backoff with jitter for respawning crashed children (DESIGN.md §3): 500 ms,
 * 1 s, 2 s … capped at 30 s, each delay spread by ±20 % so that several servers crashing
 * together (a shared dependency went away) do not retry in lockstep.
 *
 * Pure arithmetic, no timers: the supervisor asks for the next delay and schedules it on its
 * own clock.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly multiplier: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private attempts = 0;

  /**
   * @param options tunables, see {@link BackoffOptions}
   * @param random a source in [0, 1); injected so tests get exact delays
   */
  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = positive(options.initialMs ?? 500, 'initialMs');
    this.multiplier = Math.max(1, finite(options.multiplier ?? 2, 'multiplier'));
    // A ceiling below the first delay would make every delay the ceiling; that is a config
    // mistake we tolerate rather than throw on.
    this.maxMs = Math.max(this.initialMs, positive(options.maxMs ?? 30_000, 'maxMs'));
    this.jitter = Math.min(1, Math.max(0, finite(options.jitter ?? 0.2, 'jitter')));
  }

  /** How many delays have been handed out since construction or the last {@link reset}. */
  get attempt(): number {
    return this.attempts;
  }

  /**
   * The delay before the next attempt, in whole milliseconds, and counts the attempt.
   * The ceiling is applied after the jitter: `maxMs` is a promise to the operator ("never
   * more than 30 s between tries"), so at the cap the spread only goes downwards.
   */
  next(): number {
    // multiplier ** attempts overflows to Infinity after ~1000 doublings; Math.min absorbs it.
    const base = Math.min(this.maxMs, this.initialMs * this.multiplier ** this.attempts);
    this.attempts++;
    const spread = this.jitter * (2 * this.random() - 1);
    const delay = Math.round(base * (1 + spread));
    return Math.min(this.maxMs, Math.max(0, delay));
  }

  /** Starts over at `initialMs` (after a healthy run). */
  reset(): void {
    this.attempts = 0;
  }
}

function finite(value: number, name: string): number {
  if (!Number.isFinite(value)) throw new RangeError(`Backoff: ${name} must be a finite number, got ${value}`);
  return value;
}

function positive(value: number, name: string): number {
  if (finite(value, name) <= 0) throw new RangeError(`Backoff: ${name} must be > 0, got ${value}`);
  return value;
}
