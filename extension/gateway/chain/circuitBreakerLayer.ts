import type { DownstreamPool } from '../../pool/pool';
import { deny } from './callContext';
import { gateLayer, type Middleware } from './chain';

/**
 * Refuses calls while the server's circuit is not closed, without touching the downstream.
 * The bookkeeping (success/failure counting, the half-open probe) lives with the connection,
 * which sees every outcome including the probe's; this layer only gates.
 */
export function circuitBreakerLayer(pool: Pick<DownstreamPool, 'connection'>): Middleware {
  return gateLayer((ctx) => {
    const breaker = pool.connection(ctx.server_name)?.breaker;
    if (breaker && !breaker.allows()) {
      const retryAt = breaker.retryAt === null ? null : new Date(breaker.retryAt).toISOString();
      ctx.metadata.circuit_breaker = { state: breaker.state, serverName: ctx.server_name, retryAt };
      deny(
        ctx,
        'circuit_open',
        `Circuit breaker open for '${ctx.server_name}': the server is failing and calls are paused. ` +
          `State: ${breaker.state}${retryAt ? `; next probe at ${retryAt}` : ''}. Use "Gatehouse: Respawn Server" or "Reset Circuit" to act now.`,
      );
      return false;
    }
    return true;
  });
}
