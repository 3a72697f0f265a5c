import { toDisposable, type IDisposable } from './disposable';

/**
 * Time as a dependency: the breaker, backoff, debounce and heartbeat read it, so unit tests
 * drive them with `ManualClock` instead of sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms`; disposing cancels it. Timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): IDisposable;
}

/** The real clock. Timers are unref'd: a pending retry must not keep a CLI process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return toDisposable(() => clearTimeout(handle));
  },
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock for tests: time moves only when `advance` is called. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): IDisposable {
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return toDisposable(() => {
      this.timers = this.timers.filter((t) => t !== timer);
    });
  }

  /** Number of timers still waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order (timers set by timers fire too if due). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }
}
