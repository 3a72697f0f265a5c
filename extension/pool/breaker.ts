import type { Clock } from '../common/clock';
import { Disposable, MutableDisposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { CircuitState } from '../protocol/model';

/** Why a circuit changed state. */
export type CircuitTransitionReason =
  | 'failure_threshold' // closed → open: consecutive failures reached the threshold
  | 'cooldown_elapsed' // open → half-open: the cooldown timer fired
  | 'recovered' // half-open → closed: the probe succeeded
  | 'half_open_failed' // half-open → open: the probe failed (cooldown doubles)
  | 'manual_reset'; // any → closed: the operator ran "Reset circuit"

/** One state change of one server's circuit (rea's `onStateChange` payload plus `manual_reset`). */
export interface CircuitTransition {
  server: string;
  from: CircuitState;
  to: CircuitState;
  reason: CircuitTransitionReason;
  /** Epoch ms at which the circuit will move to half-open; present only when `to === 'open'`. */
  retryAt?: number;
}

/** Asks the owner to run the single half-open probe. */
export interface CircuitProbeRequest {
  server: string;
}

/** Tunables of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5, floored at 1. */
  failureThreshold?: number;
  /** Cooldown of the first open after a closed period. Default 30 000 ms. */
  cooldownMs?: number;
  /** Ceiling of the doubling cooldown. Default 300 000 ms (five minutes). */
  maxCooldownMs?: number;
}

/**
 * The circuit breaker of one downstream server.
 *
 * Counting is rea's (SPEC §3): consecutive failures open it; a success while closed resets the
 * count; failures reported while open are ignored (late results of calls already in flight).
 * Three things differ on purpose (SPEC §13.1 item 6):
 * - open → half-open is driven by a timer, not by the next call, so `retryAt` is never in the
 *   past and the UI never shows a stale "open".
 * - half-open admits no user call. Entering it fires {@link onDidRequestProbe}; the owner runs
 *   one cheap probe (`tools/list`) and reports it through {@link recordSuccess} /
 *   {@link recordFailure}. A dead server therefore never sees a burst of real calls.
 * - every re-open from half-open doubles the cooldown, up to `maxCooldownMs`; recovery or a
 *   manual reset brings it back to the base.
 *
 * In half-open the first outcome reported decides, whoever reports it: a late success from a
 * call admitted before the circuit opened is as good evidence of health as the probe.
 */
export class CircuitBreaker extends Disposable {
  private readonly failureThreshold: number;
  private readonly baseCooldownMs: number;
  private readonly maxCooldownMs: number;

  private current: CircuitState = 'closed';
  private failures = 0;
  private cooldown: number;
  private openUntil: number | null = null;
  private disposed = false;

  private readonly halfOpenTimer = this.register(new MutableDisposable());
  private readonly stateEmitter = this.register(new Emitter<CircuitTransition>());
  private readonly probeEmitter = this.register(new Emitter<CircuitProbeRequest>());
  /**
   * Events wait here while a listener runs, so that a listener reacting to one transition
   * (e.g. the probe failing synchronously) does not make later listeners see the transitions
   * out of order. The session blocker's counting depends on that order.
   */
  private readonly outbox: Array<() => void> = [];
  private delivering = false;

  /** Every state change, in order. Any number of subscribers. */
  readonly onDidChangeState: Event<CircuitTransition> = this.stateEmitter.event;
  /** The circuit entered half-open: run exactly one probe and report its outcome. */
  readonly onDidRequestProbe: Event<CircuitProbeRequest> = this.probeEmitter.event;

  /**
   * @param server the downstream's name, copied into every event
   * @param options tunables, see {@link CircuitBreakerOptions}
   * @param clock drives the cooldown timer
   */
  constructor(
    readonly server: string,
    options: CircuitBreakerOptions = {},
    private readonly clock: Clock,
  ) {
    super();
    this.failureThreshold = Math.max(1, Math.floor(options.failureThreshold ?? 5));
    const cooldownMs = options.cooldownMs ?? 30_000;
    if (!(cooldownMs > 0) || !Number.isFinite(cooldownMs)) {
      throw new RangeError(`CircuitBreaker: cooldownMs must be a positive finite number, got ${cooldownMs}`);
    }
    this.baseCooldownMs = cooldownMs;
    this.maxCooldownMs = Math.max(cooldownMs, options.maxCooldownMs ?? 300_000);
    this.cooldown = cooldownMs;
  }

  /** Current state. */
  get state(): CircuitState {
    return this.current;
  }

  /** Epoch ms at which the open circuit goes half-open; null unless open. */
  get retryAt(): number | null {
    return this.current === 'open' ? this.openUntil : null;
  }

  /** Failures since the last success or state change. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Cooldown of the current (or next) open period, in ms. */
  get cooldownMs(): number {
    return this.cooldown;
  }

  /** True when a user call may go to the server: only while closed. */
  allows(): boolean {
    return this.current === 'closed';
  }

  /** A call (or the half-open probe) succeeded. */
  recordSuccess(): void {
    if (this.disposed) return;
    switch (this.current) {
      case 'closed':
        this.failures = 0;
        return;
      case 'half-open':
        this.cooldown = this.baseCooldownMs;
        this.close('recovered');
        return;
      case 'open':
        // A late success of a call admitted before the circuit opened: the cooldown stands.
        return;
    }
  }

  /** A call (or the half-open probe) failed. */
  recordFailure(): void {
    if (this.disposed) return;
    switch (this.current) {
      case 'open':
        // Late failures of calls already in flight when it opened must not extend the outage.
        return;
      case 'half-open':
        this.failures++;
        this.cooldown = Math.min(this.maxCooldownMs, this.cooldown * 2);
        this.open('half_open_failed');
        return;
      case 'closed':
        this.failures++;
        if (this.failures >= this.failureThreshold) {
          this.cooldown = this.baseCooldownMs;
          this.open('failure_threshold');
        }
        return;
    }
  }

  /**
   * The operator's "Reset circuit": closed, counters cleared, base cooldown. From closed it
   * only clears the count (nothing changed state, so nothing is fired).
   */
  reset(): void {
    if (this.disposed) return;
    this.cooldown = this.baseCooldownMs;
    if (this.current === 'closed') {
      this.failures = 0;
      return;
    }
    this.close('manual_reset');
  }

  override dispose(): void {
    this.disposed = true;
    this.outbox.length = 0;
    super.dispose();
  }

  private open(reason: CircuitTransitionReason): void {
    const from = this.current;
    const retryAt = this.clock.now() + this.cooldown;
    this.current = 'open';
    this.openUntil = retryAt;
    this.halfOpenTimer.value = this.clock.setTimeout(() => this.enterHalfOpen(), this.cooldown);
    this.emit(() => this.stateEmitter.fire({ server: this.server, from, to: 'open', reason, retryAt }));
  }

  private close(reason: CircuitTransitionReason): void {
    const from = this.current;
    this.current = 'closed';
    this.failures = 0;
    this.openUntil = null;
    this.halfOpenTimer.value = undefined;
    this.emit(() => this.stateEmitter.fire({ server: this.server, from, to: 'closed', reason }));
  }

  private enterHalfOpen(): void {
    if (this.disposed || this.current !== 'open') return;
    this.current = 'half-open';
    // rea resets the count here too; the probe's outcome alone decides what comes next.
    this.failures = 0;
    this.openUntil = null;
    this.halfOpenTimer.value = undefined;
    this.emit(() =>
      this.stateEmitter.fire({ server: this.server, from: 'open', to: 'half-open', reason: 'cooldown_elapsed' }),
    );
    this.emit(() => this.probeEmitter.fire({ server: this.server }));
  }

  private emit(deliver: () => void): void {
    this.outbox.push(deliver);
    if (this.delivering) return;
    this.delivering = true;
    try {
      // Emitter already isolates throwing listeners, so this loop cannot be cut short.
      for (let next = this.outbox.shift(); next; next = this.outbox.shift()) next();
    } finally {
      this.delivering = false;
    }
  }
}
