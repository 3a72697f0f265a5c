import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Event } from '../common/event';
import type { DownstreamView } from '../protocol/model';

/** A downstream tool as the gateway exposes it: `server__tool`, everything else kept. */
export interface AggregatedTool extends Tool {
  /** The exposed name, `<server>__<tool>`. */
  name: string;
  /** The server part of the name. */
  server: string;
  /** The tool's own name on its server. */
  originalName: string;
}

/** Options of one proxied call. */
export interface CallOptions {
  /** Cancels the call (the client went away, or shutdown). */
  signal?: AbortSignal;
  /**
   * True when the tool is known to be idempotent (read tier or `readOnlyHint`): only such a
   * call may be re-sent after its child died under it. Defaults to false (never re-send).
   */
  readOnly?: boolean;
  /** Sent as the request's `_meta` (trace context); never the client's own `_meta` wholesale. */
  meta?: Record<string, string>;
}

/** What the gateway needs from the pool; the pool is the only implementation. */
export interface DownstreamDirectory {
  /** Fires when the aggregate tool list changed (respawn, gave up, recovery, list_changed). */
  readonly onDidChangeTools: Event<void>;
  /** The current aggregate, in registry order; never triggers I/O. */
  listTools(): AggregatedTool[];
  /**
   * `<server>__<tool>` as its server last listed it, also while that server is down or
   * respawning: a call waiting out a respawn must be classified (tier, read-only) by the tool's
   * annotations, not by its name alone, which could only loosen it.
   */
  describeTool(name: string): AggregatedTool | undefined;
  /** Names of every configured server, in registry order, whatever its state. */
  serverNames(): string[];
  /** Routes one call to `server`'s `tool`. Throws a `DownstreamError` on failure. */
  callTool(server: string, tool: string, args: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult>;
  /** Live views, one per server. */
  snapshot(): DownstreamView[];
}
