import type { Clock } from '../common/clock';
import { Backoff } from './backoff';
import { CrashWindow } from './crashWindow';

/** What to do after a child died or failed to start. */
export type RespawnDecision = { kind: 'respawn'; delayMs: number } | { kind: 'give_up'; crashes: number; windowMs: number };

export interface SupervisorOptions {
  backoff: { initialMs: number; multiplier: number; maxMs: number; jitter: number };
  maxCrashes: number;
  crashWindowMs: number;
  /** A run that stayed ready this long counts as healthy: the next crash respawns at once. */
  stableMs: number;
}

/**
 * The respawn policy of one downstream (DESIGN.md §3), separate from the mechanics so it is
 * unit-testable with a manual clock:
 * - the first crash after a healthy run respawns immediately;
 * - crashes that follow each other back off exponentially with jitter;
 * - `maxCrashes` inside `crashWindowMs` gives up until the operator acts.
 */
export class Supervisor {
  private readonly backoff: Backoff;
  private readonly crashes: CrashWindow;
  private readyAt: number | undefined;
  /** Crashes since the last healthy run. */
  private consecutive = 0;

  constructor(
    private readonly options: SupervisorOptions,
    private readonly clock: Clock,
    random: () => number = Math.random,
  ) {
    this.backoff = new Backoff(options.backoff, random);
    this.crashes = new CrashWindow({ maxCrashes: options.maxCrashes, windowMs: options.crashWindowMs }, clock);
  }

  /** The child answered initialize and listed its tools. */
  onReady(): void {
    this.readyAt = this.clock.now();
  }

  /** The child died (or never started); returns what to do next. */
  onCrash(): RespawnDecision {
    const wasReady = this.readyAt !== undefined;
    const stable = wasReady && this.clock.now() - (this.readyAt ?? 0) >= this.options.stableMs;
    this.readyAt = undefined;
    if (stable) {
      this.consecutive = 0;
      this.backoff.reset();
    }
    if (this.crashes.record()) {
      return { kind: 'give_up', crashes: this.options.maxCrashes, windowMs: this.options.crashWindowMs };
    }
    const first = this.consecutive === 0 && wasReady;
    this.consecutive++;
    return { kind: 'respawn', delayMs: first ? 0 : this.backoff.next() };
  }

  /** The operator asked for a respawn (or the config changed): forget the history. */
  reset(): void {
    this.readyAt = undefined;
    this.consecutive = 0;
    this.backoff.reset();
    this.crashes.reset();
  }
}
