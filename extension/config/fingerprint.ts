/**
 * Trust-on-first-use fingerprint of a server entry (SPEC §10.3). For stdio servers the canonical
 * form is byte-for-byte rea's, so a `.rea/fingerprints.json` written by rea keeps matching and
 * switching gateways does not report every server as drifted.
 *
 * Hashed: name (a rename never inherits trust), command, args in order (order is semantic), env
 * KEYS (values excluded so rotating a secret is not drift), passthrough names, tier overrides.
 * Not hashed: `enabled`, env values, the binary behind `command`, the tool catalog.
 */
import { createHash } from 'node:crypto';
import type { ServerConfig } from './registrySchema';

/** Code-unit order, as `Array.prototype.sort()` and rea use; `localeCompare` would vary by locale. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The object that is hashed, in its fixed key order. Exposed for tests and the "why drifted" view. */
export function canonicalServer(server: ServerConfig): Record<string, unknown> {
  const canonical: Record<string, unknown> = {
    name: server.name,
    // A remote server's identity is its URL; it takes command's slot so the shape stays rea's.
    command: server.url ?? server.command ?? '',
    args: [...(server.args ?? [])],
    env_keys: Object.keys(server.env ?? {}).sort(byCodeUnit),
    env_passthrough: [...(server.env_passthrough ?? [])].sort(byCodeUnit),
    tier_overrides: Object.entries(server.tier_overrides ?? {})
      .map(([tool, tier]): [string, string] => [tool, String(tier)])
      .sort((a, b) => byCodeUnit(a[0], b[0])),
  };
  // Only for url servers, and last, so stdio fingerprints stay identical to rea's.
  if (server.url !== undefined) canonical.header_keys = Object.keys(server.headers ?? {}).sort(byCodeUnit);
  return canonical;
}

/** sha256 (64 lowercase hex characters) of the canonical form of `server`. */
export function fingerprint(server: ServerConfig): string {
  return createHash('sha256').update(JSON.stringify(canonicalServer(server))).digest('hex');
}
