import type { AccountSessions } from '../auth/accountSessions';
import type { TokenStore } from '../auth/tokenStore';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/logger';
import type { GatewayTunables } from '../config/policySchema';
import type { ServerConfig } from '../config/registrySchema';
import type { UpstreamBridge } from './types';

// Its own file because the pieces split out of connection.ts (sign-in, routing, transports) each
// read a slice of it, and would otherwise import the class file they serve.
/** What a connection needs from its surroundings (all injectable for tests). */
export interface ConnectionDeps {
  tunables: GatewayTunables;
  clock: Clock;
  /** The environment `${VAR}` and the allowlist read from (the gateway's own). */
  hostEnv: NodeJS.ProcessEnv;
  /** Relative `cwd` entries resolve against this (the workspace folder). */
  baseDir: string;
  logger: Logger;
  /** Applied to every error text that leaves the connection (views, thrown messages). */
  redact?: (text: string) => string;
  clientInfo?: { name: string; version: string };
  /**
   * Asked before every start: a reason string holds the server in `blocked` (TOFU drift) instead
   * of spawning it. Undefined admits it.
   */
  admit?: (config: ServerConfig) => string | undefined;
  /** Milliseconds a run must stay ready to count as healthy (first crash after it: instant respawn). */
  stableMs?: number;
  random?: () => number;
  /**
   * Where a child's requests to the client (sampling, elicitation, roots) and its
   * notifications (log messages, resource updates) go; read per message. Undefined: requests
   * are refused with an error naming the capability, notifications dropped.
   */
  upstream?: () => UpstreamBridge | undefined;
  /** Sign-ins of remote servers (OAuth); undefined: a 401 still shows `needs_auth`, but no sign-in can fix it. */
  tokenStore?: TokenStore;
  /** VS Code accounts, for servers with `auth.provider` (the extension only). */
  accounts?: AccountSessions;
}
