import type { Clock } from '../../common/clock';
import type { GatewayTunables } from '../../config/policySchema';
import { deny } from './callContext';
import { gateLayer, type Middleware } from './chain';
import { TokenBucket } from './tokenBucket';

/** One server's limit: `per_minute` refill, `burst` capacity (policy `gateway.rate_limit`). */
export interface RateLimit {
  per_minute: number;
  /** Defaults to per_minute. */
  burst?: number;
}

export interface RateLimitLayerOptions {
  /**
   * The limits by server name, with `default` for servers without their own entry (resolved
   * tunables' `rate_limit`), read per call so a policy reload applies to the next call. An empty
   * map means unlimited.
   */
  limits: () => GatewayTunables['rate_limit'] | Readonly<Record<string, RateLimit>> | undefined;
  clock: Clock;
  /** How messages name the policy file (default "policy.yaml"). */
  policyFile?: string;
}

/**
 * Token-bucket rate limit per server (SPEC §7.7 described it, rea never wired it; SPEC §13.1
 * item 18). Runs after policy and blocked paths, so refused calls never use up tokens, and
 * before the breaker. The gateway refuses unknown servers before the chain, so buckets exist only
 * for configured names; a server whose limit is removed loses its bucket.
 *
 * A changed limit replaces the server's bucket, keeping the tokens it had (capped to the new
 * burst), so editing the policy neither refills a drained bucket nor drains a full one.
 */
export function rateLimitLayer(options: RateLimitLayerOptions): Middleware {
  const policyFile = options.policyFile ?? 'policy.yaml';
  const buckets = new Map<string, TokenBucket>();

  const bucketFor = (server: string): TokenBucket | undefined => {
    const limits = options.limits() ?? {};
    const limit = Object.prototype.hasOwnProperty.call(limits, server) ? limits[server] : limits.default;
    if (!limit) {
      buckets.delete(server);
      return undefined;
    }
    const burst = limit.burst ?? limit.per_minute;
    const existing = buckets.get(server);
    if (existing && existing.perMinute === limit.per_minute && existing.capacity === burst) return existing;
    const bucket = new TokenBucket(limit.per_minute, burst, options.clock, existing ? existing.tokens : burst);
    buckets.set(server, bucket);
    return bucket;
  };

  return gateLayer((ctx) => {
    let bucket: TokenBucket | undefined;
    try {
      bucket = bucketFor(ctx.server_name);
    } catch (err) {
      deny(ctx, 'rate_limit_failed', `Gatehouse could not apply the rate limit of '${ctx.server_name}' (${err instanceof Error ? err.message : String(err)}); the call was refused.`);
      return false;
    }
    if (bucket && !bucket.tryTake()) {
      const retryMs = bucket.msUntil();
      ctx.metadata.rate_limit_exceeded = {
        type: 'rate',
        limit: bucket.perMinute,
        burst: bucket.capacity,
        retry_after_ms: retryMs,
      };
      deny(
        ctx,
        'rate_limited',
        `Rate limit exceeded for '${ctx.server_name}': ${bucket.perMinute} calls per minute (burst ${bucket.capacity}). ` +
          `Try again in ${Math.max(1, Math.ceil(retryMs / 1000))} s, or raise gateway.rate_limit in ${policyFile}. Tool: ${ctx.full_name}`,
      );
      return false;
    }
    return true;
  });
}
