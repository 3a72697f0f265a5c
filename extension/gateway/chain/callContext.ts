import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AggregatedTool } from '../../pool/types';
import type { UpstreamSession } from '../routing/upstreamSessions';
import type { InjectionResult } from '../scanner/scannerClient';

/** The outcome a layer decides: allowed calls reach the downstream, the others do not. */
export type CallStatus = 'allowed' | 'denied' | 'error';

/**
 * What travels through the chain (DESIGN.md §5b): a `tools/call`, a `prompts/get` or a
 * `resources/read`. Layers never branch on it; the chain runs a layer for the kinds it was
 * registered for (see `forKinds`), the dispatcher sends by its routing table.
 */
export type CallKind = 'tool' | 'prompt' | 'resource';

/** Tool tiers (SPEC §7.4): what a call may change. */
export type Tier = 'read' | 'write' | 'destructive';

/**
 * One proxied `tools/call` as it travels through the chain. Field names follow rea's audit
 * record (SPEC §1.5, §8.1) so layers and the audit writer speak the same language.
 */
export interface CallContext {
  /** Which request this is; absent means `tool`. Recorded as `metadata.kind` for the others. */
  kind?: CallKind;
  /** The tool's own name (prefix stripped); a prompt's own name; a resource's URI on its server. */
  tool_name: string;
  server_name: string;
  /** The exposed `server__tool` name. */
  full_name: string;
  /** Tool or prompt arguments; `{ uri }` for a resource (so blocked paths see the URI). */
  arguments: Record<string, unknown>;
  session_id: string;
  status: CallStatus;
  /** Set with `denied`/`error`: the text the client sees (redacted before it leaves). */
  error?: string;
  /** Machine-readable reason for a denial or error (e.g. `circuit_open`, `halt`). */
  reason_code?: string;
  /**
   * The answer as the out-going layers read it: a tool result, or a prompt's messages / a
   * resource's contents in the same content-part shape (gateway/routing/payload.ts).
   */
  result?: CallToolResult;
  tier?: Tier;
  /** The listed tool, when the aggregate has it (annotations feed the tier). */
  tool?: AggregatedTool;
  /** performance.now() at entry. */
  start_time: number;
  metadata: Record<string, unknown>;
  /** Cancelled when the upstream client cancels or disconnects. */
  signal?: AbortSignal;
  /** Set when the client asked for progress (a `_meta.progressToken`): relays the child's progress to it. */
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  /**
   * The injection verdict of `result`, computed by the result redaction layer in the same
   * scanner job as the redaction. The injection layer uses it only while `result` is still
   * this very object and the tier unchanged; otherwise it scans again.
   */
  injection_prescan?: { result: CallToolResult; tier: Tier | undefined; verdict: InjectionResult };
  /** Where the call came from, for tracing: the request's `_meta`, its HTTP headers, the client's name. */
  upstream?: {
    meta?: Record<string, unknown>;
    headers?: Record<string, string | string[] | undefined>;
    client_name?: string;
    /** The calling session and its request id: approvals ask that client, related to this call. */
    session?: UpstreamSession;
    request_id?: string | number;
  };
  /** `_meta` entries sent on with the downstream request (W3C `traceparent`, set by telemetry). */
  downstream_meta?: Record<string, string>;
}

/** Sets a denial on the context in one step (layers stop calling `next` after it). */
export function deny(ctx: CallContext, reason_code: string, message: string): void {
  ctx.status = 'denied';
  ctx.reason_code = reason_code;
  ctx.error = message;
}
