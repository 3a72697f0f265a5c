import type { GatewayTunables } from '../config/policySchema';
import type { CircuitBreakerOptions } from './breaker';
import type { SupervisorOptions } from './supervisor';

// The mapping from policy.yaml's tunables (snake_case) to the breaker's and the supervisor's
// options. Apart from connection.ts because it is a pure translation the state machine only
// consumes once, at construction.

/** How long a run must stay ready to count as healthy when the deps do not say. */
const DEFAULT_STABLE_MS = 10_000;

export function supervisionSettings(t: GatewayTunables, stableMs: number | undefined): { breaker: CircuitBreakerOptions; supervisor: SupervisorOptions } {
  return {
    breaker: {
      failureThreshold: t.breaker.failure_threshold,
      cooldownMs: t.breaker.cooldown_ms,
      maxCooldownMs: t.breaker.max_cooldown_ms,
    },
    supervisor: {
      backoff: {
        initialMs: t.backoff.initial_ms,
        multiplier: t.backoff.multiplier,
        maxMs: t.backoff.max_ms,
        jitter: t.backoff.jitter,
      },
      maxCrashes: t.supervisor.max_crashes,
      crashWindowMs: t.supervisor.crash_window_ms,
      stableMs: stableMs ?? DEFAULT_STABLE_MS,
    },
  };
}
