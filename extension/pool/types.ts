import type { CallToolResult, Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
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
  /**
   * Progress of the downstream request (the child's `notifications/progress`), for a caller
   * that asked for it with a progress token. Setting it makes the SDK send a token of its own
   * to the child and keeps the request alive while progress arrives.
   */
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  /** Sent as the request's `_meta` (trace context); never the client's own `_meta` wholesale. */
  meta?: Record<string, string>;
}

/** A downstream prompt as the gateway exposes it: `server__prompt`, everything else kept. */
export interface AggregatedPrompt extends Prompt {
  server: string;
  originalName: string;
}

/** A downstream resource with the server that listed it; `uri` is the URI the client sees. */
export interface AggregatedResource extends Resource {
  server: string;
  originalUri: string;
}

/** A downstream resource template with its server; `uriTemplate` is what the client sees. */
export interface AggregatedTemplate extends ResourceTemplate {
  server: string;
  originalTemplate: string;
}

/** What one server offers besides tools, from its last listings. */
export interface ServerCatalog {
  server: string;
  prompts: readonly Prompt[];
  resources: readonly Resource[];
  templates: readonly ResourceTemplate[];
  /** Which MCP capabilities its `initialize` answer declared (absent while it is down). */
  capabilities: { prompts: boolean; resources: boolean; subscribe: boolean; completions: boolean; logging: boolean };
}

/**
 * The gateway's side of requests and notifications that travel from a child to the client
 * (DESIGN.md §5b): the pool hands them over, the gateway picks the upstream session.
 */
export interface UpstreamBridge {
  /** `sampling/createMessage`, `elicitation/create`, `roots/list` from `server`; rejects with an McpError when no session can answer. */
  request(server: string, request: { method: string; params?: Record<string, unknown> }, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** `notifications/message`, `notifications/resources/updated`, … from `server`. */
  notify(server: string, notification: { method: string; params?: Record<string, unknown> }): void;
}

/** One MCP request to a server, as the router sends it (method + params + result schema). */
export interface DownstreamRequest<S extends AnySchema> {
  method: string;
  params: Record<string, unknown>;
  schema: S;
  /** How errors name it, e.g. `prompt 'greet'`. */
  label: string;
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
  /** True when registry `tools:` hides the server's `tool` (own name) from clients. */
  toolHidden?(server: string, tool: string): boolean;
  /** Names of every configured server, in registry order, whatever its state. */
  serverNames(): string[];
  /** Routes one call to `server`'s `tool`. Throws a `DownstreamError` on failure. */
  callTool(server: string, tool: string, args: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult>;
  /** Live views, one per server. */
  snapshot(): DownstreamView[];
  /** Fires when a server's prompts, resources or templates changed (coalesced). */
  readonly onDidChangeCatalog?: Event<'prompts' | 'resources'>;
  /** Every ready server's prompts, resources and templates, in registry order. */
  catalogs?(): ServerCatalog[];
  /** Sends one request other than `tools/call` to `server` (breaker, timeouts and stats as calls). */
  request?<S extends AnySchema>(server: string, request: DownstreamRequest<S>, options?: CallOptions): Promise<SchemaOutput<S>>;
  /** Where children's requests to the client and their notifications go (the gateway sets itself). */
  setUpstream?(bridge: UpstreamBridge | undefined): void;
  /** Sends one notification to every ready server that declared `capability` (or to all, when undefined). */
  notifyAll?(notification: { method: string; params?: Record<string, unknown> }, capability?: keyof ServerCatalog['capabilities']): void;
}
