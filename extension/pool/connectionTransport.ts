import path from 'node:path';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { GatewayAuth } from '../auth/gatewayAuth';
import { buildChildEnv, resolveArgs, resolveHeaders, resolveUrl } from '../config/childEnv';
import type { ServerConfig } from '../config/registrySchema';
import { perRequestAbortFetch } from '../platform/perRequestAbortFetch';
import { traceHeaderFetch } from '../telemetry/traceHeaderFetch';
import { ChildProcessTransport, type ChildExit } from './childTransport';
import { describeExit, errorText, missingEnvText } from './connectionText';
import type { RingBuffer } from './ringBuffer';

// Turning a server's config into a transport (a child process or a remote session), and
// describing why one did not come up. Apart from connection.ts because both read only the
// config and what the attempt left behind, never the connection's state.

export interface TransportSetup {
  config: ServerConfig;
  hostEnv: NodeJS.ProcessEnv;
  baseDir: string;
  /** The child's stderr goes here. */
  output: RingBuffer;
  /** The auth provider for a remote server's resolved URL. */
  authFor(url: string): GatewayAuth | undefined;
  onExit(exit: ChildExit): void;
}

/** Throws on a missing variable (or a sign-in only the extension can do): retrying will not help. */
export function createConnectionTransport(setup: TransportSetup): Transport {
  const { config: cfg, hostEnv } = setup;
  if (cfg.url) {
    const url = resolveUrl(cfg, hostEnv);
    const headers = resolveHeaders(cfg, hostEnv);
    const missing = [...new Set([...url.missing, ...headers.missing])];
    if (missing.length || !url.url) throw new Error(missingEnvText(missing));
    return new StreamableHTTPClientTransport(new URL(url.url), {
      requestInit: { headers: headers.headers },
      fetch: perRequestAbortFetch(traceHeaderFetch),
      authProvider: setup.authFor(url.url),
    });
  }
  const { env, missing: envMissing } = buildChildEnv(cfg, hostEnv);
  const { args, missing: argsMissing } = resolveArgs(cfg, hostEnv);
  const missing = [...new Set([...envMissing, ...argsMissing])];
  if (missing.length) throw new Error(missingEnvText(missing));
  const cwd = cfg.cwd ? path.resolve(setup.baseDir, cfg.cwd) : setup.baseDir;
  const child = new ChildProcessTransport({ command: cfg.command ?? '', args, env, cwd }, setup.output);
  child.onexit = (exit) => setup.onExit(exit);
  return child;
}

/** Why a start failed, in the words a user can act on; `lastLine` is the child's last output. */
export function describeStartFailure(cfg: ServerConfig, err: unknown, exit: ChildExit | undefined, lastLine: string | undefined, connectMs: number): string {
  const tail = lastLine ? `: ${lastLine}` : '';
  if (exit?.spawnError) {
    const code = exit.spawnError.code;
    if (code === 'ENOENT') return `command not found: '${cfg.command}' (is it installed and on PATH? use an absolute path otherwise)`;
    if (code === 'EACCES') return `command not executable: '${cfg.command}' (check its permissions)`;
    return `could not start '${cfg.command}': ${exit.spawnError.message}`;
  }
  if (exit) return `${describeExit(exit)} during startup${tail}`;
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
    return `did not answer initialize within ${connectMs / 1000} s${tail}`;
  }
  return `failed to start: ${errorText(err)}${tail}`;
}
