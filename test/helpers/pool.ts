import { randomUUID } from 'node:crypto';
import { systemClock } from '../../extension/common/clock';
import { nullLogger } from '../../extension/common/logger';
import { resolveTunables, type GatewayTunables } from '../../extension/config/policySchema';
import type { ServerConfig } from '../../extension/config/registrySchema';
import { DownstreamPool } from '../../extension/pool/pool';
import { repoRoot } from './fixtures';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Default tunables with some groups overridden (tests shorten backoffs and timeouts). */
export function tunables(overrides: DeepPartial<GatewayTunables> = {}): GatewayTunables {
  const base = resolveTunables(undefined) as GatewayTunables;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = (base as unknown as Record<string, unknown>)[key];
    out[key] = value && typeof value === 'object' && current && typeof current === 'object' ? { ...current, ...value } : value;
  }
  return out as unknown as GatewayTunables;
}

/** A started pool over real child processes; remember to `await pool.stop()`. */
export function startPool(servers: ServerConfig[], tune: GatewayTunables = tunables(), hostEnv: NodeJS.ProcessEnv = process.env): DownstreamPool {
  const pool = new DownstreamPool(
    { version: '1', servers } as never,
    { tunables: tune, clock: systemClock, hostEnv, baseDir: repoRoot, logger: nullLogger, sessionId: randomUUID() },
  );
  pool.start();
  return pool;
}

/** The text of the first content part of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: unknown } | undefined)?.content as Array<{ type: string; text?: string }> | undefined;
  return content?.[0]?.text ?? '';
}
