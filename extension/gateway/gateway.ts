import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  CompleteRequestSchema,
  CompleteResultSchema,
  EmptyResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type CompleteResult,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { Disposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { Logger } from '../common/logger';
import type { GatewaySnapshot } from '../protocol/model';
import { splitToolName, TOOL_SEPARATOR } from '../pool/pool';
import { DownstreamError } from '../pool/downstreamError';
import type { AggregatedTool, DownstreamDirectory, ServerCatalog } from '../pool/types';
import { CallGate } from './callGate';
import type { CallContext, CallKind } from './chain/callContext';
import { compose, type Middleware } from './chain/chain';
import {
  HEALTH_TOOL_NAME,
  REA_HEALTH_TOOL_NAME,
  healthReport,
  healthToolDescriptor,
  reaHealthToolDescriptor,
  type HealthExtras,
} from './healthTool';
import { nameRefusal, RESERVED_SERVER } from './routing/names';
import { payloadToPrompt, payloadToResource } from './routing/payload';
import { progressRelay } from './routing/progressRelay';
import { setToolCallHandler } from './routing/toolCallHandler';
import { ProfileScope, type ProfileConfig } from './routing/profileScope';
import { ResourceIndex } from './routing/resourceIndex';
import { ResourceSubscriptions } from './routing/resourceSubscriptions';
import type { RequestTracer } from '../telemetry/telemetryTypes';
import { UpstreamSessions, type UpstreamSessionsOptions } from './routing/upstreamSessions';

export { RESERVED_SERVER };

export interface GatewayOptions {
  pool: DownstreamDirectory;
  sessionId: string;
  /** The chain's layers, outermost first, ending with the dispatcher. */
  layers: readonly Middleware[];
  snapshot: () => GatewaySnapshot;
  /** Read per health call (policy may change while running). */
  exposeDiagnostics?: () => boolean;
  healthExtras?: () => HealthExtras | Promise<HealthExtras>;
  /** Turns every outgoing error text safe (redaction); identity until governance plugs in. */
  sanitizeError?: (text: string, ctx: CallContext | undefined) => Promise<string> | string;
  /** Called for calls refused before the chain (unknown server, no prefix), so they can be audited. */
  onRefused?: (ctx: CallContext) => void;
  /** Called on every health call (the gateway audits it as its own record). */
  onHealth?: () => void;
  /** Rewrites listed tools (e.g. description scanning); identity by default. */
  transformTools?: (tools: Tool[]) => Promise<Tool[]> | Tool[];
  /** The same for listed prompts. */
  transformPrompts?: (prompts: Prompt[]) => Promise<Prompt[]> | Prompt[];
  logger: Logger;
  version?: string;
  /** Also list rea's `__rea__health` (the config dir is `.rea/`); it is answered either way. */
  listReaHealth?: boolean;
  /**
   * How long the first `tools/list` may wait for servers still starting (default 5 s; the
   * service passes the lesser of that and the connect timeout).
   */
  startupWaitMs?: () => number;
  /** Registry `profiles:`, read per request (hot reload); each is its own endpoint, see {@link Gateway.createServer}. */
  profiles?: () => Readonly<Record<string, ProfileConfig>> | undefined;
  /** Spans for the upstream requests outside the chain (set when traces are exported). */
  tracer?: RequestTracer;
  /** Policy and audit of children's requests to the client (sampling, elicitation, roots), and of their log messages. */
  serverRequests?: Pick<UpstreamSessionsOptions, 'admit' | 'fallbackRoots' | 'onServerRequest' | 'requestTimeoutMs' | 'redactLog' | 'onLogMessage'>;
  /** Called with every completion and (un)subscription a client asked for, for the audit log. */
  onRequest?: (event: RequestFinished) => void;
}

/**
 * A client request outside the chain (completion, subscription), as audited: what it named
 * (a prompt's own name, a template or resource URI, redacted) and how it ended; never the
 * argument a user is typing nor the values offered.
 */
export interface RequestFinished {
  kind: 'completion' | 'subscribe' | 'unsubscribe';
  server: string;
  name: string;
  status: 'allowed' | 'denied' | 'error';
  error?: string;
  duration_ms: number;
}

/** One governed call, finished (refusals before the chain and health calls are not included). */
export interface CallFinished {
  server: string;
  tool: string;
  status: CallContext['status'];
  reason_code: string | undefined;
  /** From the gateway receiving `tools/call` to its answer, governance included. */
  duration_ms: number;
}

/** How often the first list re-checks whether every server has left `starting`. */
const STARTUP_POLL_MS = 25;

/**
 * The upstream face of Gatehouse: an MCP server (official SDK) that lists the pool's aggregate
 * plus `gatehouse__health`, and sends each `tools/call` through the middleware chain.
 *
 * One `Server` instance is created per upstream session (`createServer`), all sharing this
 * gateway's pool and chain; `tools/list_changed` goes to every live session when the
 * aggregate changes.
 */
export class Gateway extends Disposable {
  private readonly servers = new Set<Server>();
  private readonly calls = new CallGate();
  /** Every upstream session, and the routing of what children send to clients. */
  readonly sessions: UpstreamSessions;
  private resourceIndex: ResourceIndex | undefined;
  /** Sessions' resource subscriptions, each child subscribed once per URI. */
  private readonly subscriptions: ResourceSubscriptions;
  private readonly run: (ctx: CallContext) => Promise<void>;
  /** Shared by every list that arrives before the servers first settled; see {@link listTools}. */
  private startup: Promise<void> | undefined;
  private settled = false;
  private readonly _onDidFinishCall = this.register(new Emitter<CallFinished>());
  /** Fires after every call that went through the chain (metrics feed on it). */
  readonly onDidFinishCall: Event<CallFinished> = this._onDidFinishCall.event;

  constructor(private readonly options: GatewayOptions) {
    super();
    this.run = compose(options.layers);
    this.sessions = new UpstreamSessions({ logger: options.logger, ...options.serverRequests });
    this.subscriptions = new ResourceSubscriptions({
      resolve: async (uri) => (await this.index()).resolve(uri, this.options.pool.serverNames()),
      request: (server, req) => this.request(server, req),
      record: (kind, server, uri, began, status, error) => this.record(kind, server, uri, began, status, error),
      sanitize: (text) => this.sanitize(text),
      logger: options.logger,
    });
    this.register(options.pool.onDidChangeTools(() => this.broadcastToolsChanged()));
    if (options.pool.onDidChangeCatalog) {
      this.register(
        options.pool.onDidChangeCatalog((kind) => {
          if (kind === 'resources') this.resourceIndex = undefined;
          this.broadcast(kind === 'prompts' ? (s) => s.sendPromptListChanged() : (s) => s.sendResourceListChanged());
        }),
      );
    }
    options.pool.setUpstream?.(this.sessions);
  }

  /**
   * A new MCP server for one upstream client; connect it to a transport.
   *
   * Capabilities are declared whole, whatever the children offer at this moment: they start
   * in the background and many clients never read capabilities again, so a capability the
   * children do not (yet) have is an empty list, filled with a list_changed when they do.
   */
  createServer(profile?: string): Server {
    // Read per request: a reload may change the profile while the session lives.
    const scope = (): ProfileScope => ProfileScope.of(profile, this.options.profiles?.());
    const server = new Server(
      { name: 'gatehouse', version: this.options.version ?? '0.1.0' },
      {
        capabilities: {
          tools: { listChanged: true },
          prompts: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          completions: {},
          logging: {},
        },
        instructions:
          'Gatehouse proxies the tools and prompts of several MCP servers as <server>__<name>, and their resources. Call gatehouse__health to see which servers are up.',
      },
    );
    const session = this.sessions.add(server);
    // Every request that reaches a server is answered by a stop (CallGate) and, when its server
    // is known, tracked so that the server's own requests go back to this session.
    const governed = <T>(downstream: string | undefined, work: () => Promise<T>): Promise<T> =>
      this.calls.run(() => {
        if (!downstream) return work();
        const end = this.sessions.begin(session, downstream);
        return work().finally(end);
      });
    // Where a request came from, for tracing: its `_meta`, its HTTP headers, the client's name.
    const origin = (params: { _meta?: Record<string, unknown> }, extra: { requestInfo?: { headers: Record<string, string | string[] | undefined> } }) => ({
      meta: params._meta,
      headers: extra.requestInfo?.headers,
      client_name: server.getClientVersion()?.name,
    });
    const traced = <T>(method: string, upstream: CallContext['upstream'], work: () => Promise<T>): Promise<T> =>
      this.options.tracer ? this.options.tracer.upstream(method, upstream, this.options.sessionId, work) : work();
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      this.sessions.touch(session);
      return { tools: await this.listTools(scope()) };
    });
    // Not async: the SDK calls the handler inside a promise job (a throw still rejects), and an
    // async function returning `governed`'s promise cost two more promises and ticks per call.
    setToolCallHandler(server, (request, extra) => {
      const split = splitToolName(request.params.name);
      const upstream = { meta: request.params._meta, headers: extra.requestInfo?.headers, client_name: server.getClientVersion()?.name, session, request_id: extra.requestId };
      const run = () => this.callTool(request.params.name, request.params.arguments ?? {}, extra.signal, progressRelay(server, extra), upstream, scope());
      return governed(split?.server, run);
    });
    server.setRequestHandler(ListPromptsRequestSchema, async () => {
      this.sessions.touch(session);
      return { prompts: await this.listPrompts(scope()) };
    });
    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
      const split = splitToolName(request.params.name);
      const run = () => this.getPrompt(request.params.name, request.params.arguments ?? {}, extra.signal, progressRelay(server, extra), origin(request.params, extra), scope());
      return governed(split?.server, run);
    });
    server.setRequestHandler(ListResourcesRequestSchema, async () => {
      this.sessions.touch(session);
      return { resources: await this.listResources(scope()) };
    });
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
      this.sessions.touch(session);
      return { resourceTemplates: await this.listResourceTemplates(scope()) };
    });
    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      const route = (await this.index()).resolve(request.params.uri, this.options.pool.serverNames());
      const run = () => this.readResource(request.params.uri, extra.signal, progressRelay(server, extra), origin(request.params, extra), scope());
      return governed(route.server, run);
    });
    server.setRequestHandler(CompleteRequestSchema, async (request, extra) =>
      traced('completion/complete', origin(request.params, extra), () => this.complete(request.params, extra.signal)),
    );
    server.setRequestHandler(SubscribeRequestSchema, async (request, extra) =>
      traced('resources/subscribe', origin(request.params, extra), () => this.subscriptions.subscribe(session, request.params.uri)),
    );
    server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) =>
      traced('resources/unsubscribe', origin(request.params, extra), () => this.subscriptions.unsubscribe(session, request.params.uri, true)),
    );
    server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      session.logLevel = request.params.level;
      this.fanOutLogLevel();
      return {};
    });
    server.setNotificationHandler(RootsListChangedNotificationSchema, () => {
      this.options.pool.notifyAll?.({ method: 'notifications/roots/list_changed' });
    });
    this.servers.add(server);
    const previous = server.onclose;
    server.onclose = () => {
      previous?.();
      this.servers.delete(server);
      const gone = this.sessions.remove(server);
      if (gone) for (const uri of [...gone.subscriptions.keys()]) void this.subscriptions.unsubscribe(gone, uri).catch(() => undefined);
    };
    return server;
  }

  /**
   * Answers the calls in flight before the transports close (issue 13.12): new calls are
   * refused, running ones get `drainMs`, the rest get a JSON-RPC error saying we are stopping.
   */
  stopCalls(drainMs: number): Promise<void> {
    return this.calls.stop(drainMs);
  }

  /** Closes every upstream session. */
  async close(): Promise<void> {
    const servers = [...this.servers];
    this.servers.clear();
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
  }

  override dispose(): void {
    void this.close();
    super.dispose();
  }

  /**
   * The aggregate as clients see it (internal routing fields stripped).
   *
   * A client usually lists right after it connects, which is when the gateway has just spawned
   * its servers. Many clients ignore `tools/list_changed`, so whatever the first list returns
   * is all they will ever see: the first list(s) therefore wait, bounded, until no server is
   * still `starting`. Later lists never wait.
   */
  async listTools(scope?: ProfileScope): Promise<Tool[]> {
    if (!this.settled) await this.settleStartup();
    const meta = this.options.listReaHealth ? [healthToolDescriptor, reaHealthToolDescriptor] : [healthToolDescriptor];
    const listed = this.options.pool.listTools();
    const tools = [...meta, ...(scope ? listed.filter((t) => scope.showsTool(t.server, t.name)) : listed).map(publicTool)];
    return this.options.transformTools ? this.options.transformTools(tools) : tools;
  }

  /** Every ready server's prompts as `server__prompt` (title, description, arguments kept). */
  async listPrompts(scope?: ProfileScope): Promise<Prompt[]> {
    if (!this.settled) await this.settleStartup();
    const prompts = this.catalogs()
      .filter((c) => !scope || scope.servesServer(c.server))
      .flatMap((c) => c.prompts.map((p) => ({ ...p, name: `${c.server}${TOOL_SEPARATOR}${p.name}` })));
    return this.options.transformPrompts ? this.options.transformPrompts(prompts) : prompts;
  }

  /** Every ready server's resources, named by the rule of {@link ResourceIndex}. */
  async listResources(scope?: ProfileScope): Promise<Resource[]> {
    return (await this.index()).resources.filter((r) => !scope || scope.servesServer(r.server)).map(({ server: _s, originalUri: _o, ...r }) => r);
  }

  async listResourceTemplates(scope?: ProfileScope): Promise<ResourceTemplate[]> {
    return (await this.index()).templates.filter((t) => !scope || scope.servesServer(t.server)).map(({ server: _s, originalTemplate: _o, ...t }) => t);
  }

  /** The servers an endpoint serves: every configured one, or its profile's. */
  private serverNames(scope: ProfileScope | undefined): string[] {
    const all = this.options.pool.serverNames();
    return scope ? scope.servers(all) : all;
  }

  private catalogs(): ServerCatalog[] {
    return this.options.pool.catalogs?.() ?? [];
  }

  private async index(): Promise<ResourceIndex> {
    if (!this.settled) await this.settleStartup();
    this.resourceIndex ??= new ResourceIndex(this.catalogs());
    return this.resourceIndex;
  }

  /** Handles one `prompts/get` through the chain (kind `prompt`); failures are MCP errors. */
  async getPrompt(
    name: string,
    args: Record<string, string>,
    signal?: AbortSignal,
    onprogress?: CallContext['onprogress'],
    upstream?: CallContext['upstream'],
    scope?: ProfileScope,
  ): Promise<GetPromptResult> {
    const split = splitToolName(name);
    const ctx = this.context('prompt', split?.server ?? '', split?.tool ?? name, name, args, signal, onprogress);
    ctx.upstream = upstream;
    const refusal = nameRefusal('prompt', split?.server, name, this.serverNames(scope));
    if (refusal) return this.refuse(ctx, refusal);
    await this.runChain(ctx);
    if (ctx.status === 'allowed' && ctx.result) return payloadToPrompt(ctx.result);
    throw await this.failure(ctx);
  }

  /** Handles one `resources/read` through the chain (kind `resource`). */
  async readResource(
    uri: string,
    signal?: AbortSignal,
    onprogress?: CallContext['onprogress'],
    upstream?: CallContext['upstream'],
    scope?: ProfileScope,
  ): Promise<ReadResourceResult> {
    const route = (await this.index()).resolve(uri, this.options.pool.serverNames());
    const original = route.uri ?? uri;
    // A URI names the resource in the audit record and in messages; unlike a tool name it can
    // carry a secret (a token in its query), so those copies are redacted. The URI sent stays in
    // `arguments`, which the argument redaction layer handles.
    const [own, full] = await Promise.all([this.sanitize(original), this.sanitize(uri)]);
    const ctx = this.context('resource', route.server ?? '', own, full, { uri: original }, signal, onprogress);
    ctx.upstream = upstream;
    if (route.refusal) return this.refuse(ctx, route.refusal);
    if (scope && !scope.servesServer(route.server)) {
      return this.refuse(ctx, { code: 'unknown_server', message: `Resource '${full}' belongs to a server profile '${scope.profile ?? ''}' does not serve.` });
    }
    await this.runChain(ctx);
    if (ctx.status === 'allowed' && ctx.result) {
      const result = payloadToResource(ctx.result, original);
      // The client asked for `uri`: contents of the original URI are reported under it.
      if (uri !== original) result.contents = result.contents.map((c) => (c.uri === original ? { ...c, uri } : c));
      return result;
    }
    throw await this.failure(ctx);
  }

  /**
   * `completion/complete`, routed by its ref: a prompt by its `server__prompt` name, a
   * template by the resource rule. Audited like the other requests (kind `completion`), one
   * record per request: what it completes, never the value being typed nor the values offered.
   */
  async complete(params: { ref: { type: string; name?: string; uri?: string }; [key: string]: unknown }, signal?: AbortSignal): Promise<CompleteResult> {
    const ref = params.ref;
    const began = performance.now();
    let server: string;
    let downstreamRef: Record<string, unknown>;
    let name: string;
    if (ref.type === 'ref/prompt') {
      name = ref.name ?? '';
      const split = splitToolName(name);
      const refusal = nameRefusal('prompt', split?.server, name, this.options.pool.serverNames());
      if (refusal || !split) {
        const text = refusal?.message ?? `Unknown prompt '${name}'.`;
        void this.record('completion', split?.server ?? '', name, began, 'denied', text);
        throw new McpError(ErrorCode.InvalidParams, await this.sanitize(text));
      }
      server = split.server;
      name = split.tool;
      downstreamRef = { ...ref, name: split.tool };
    } else {
      const route = (await this.index()).resolve(ref.uri ?? '', this.options.pool.serverNames());
      if (route.refusal) {
        void this.record('completion', route.server ?? '', ref.uri ?? '', began, 'denied', route.refusal.message);
        throw new McpError(ErrorCode.InvalidParams, await this.sanitize(route.refusal.message));
      }
      server = route.server;
      name = route.uri;
      downstreamRef = { ...ref, uri: route.uri };
    }
    // Nothing reaches a server that does not complete: nothing to audit either.
    if (!this.catalogs().find((c) => c.server === server)?.capabilities.completions) return { completion: { values: [] } };
    try {
      const result = await this.request(server, { method: 'completion/complete', params: { ...params, ref: downstreamRef }, schema: CompleteResultSchema, label: 'completion' }, signal);
      void this.record('completion', server, name, began, 'allowed');
      return result;
    } catch (err) {
      const text = await this.sanitize(err instanceof Error ? err.message : String(err));
      void this.record('completion', server, name, began, 'error', text);
      throw new McpError(ErrorCode.InternalError, text);
    }
  }

  /**
   * Reports a request outside the chain for the audit log, its name and error redacted; off the
   * answer's path (a completion is asked on every keystroke), and never failing it.
   */
  private async record(kind: RequestFinished['kind'], server: string, name: string, began: number, status: RequestFinished['status'], error?: string): Promise<void> {
    const report = this.options.onRequest;
    if (!report) return;
    const duration_ms = performance.now() - began;
    try {
      const [safeName, safeError] = await Promise.all([this.sanitize(name), error === undefined ? undefined : this.sanitize(error)]);
      report({ kind, server, name: safeName, status, error: safeError, duration_ms });
    } catch (err) {
      this.options.logger.debug(`could not audit a ${kind} request: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Sets every child that logs to the most verbose level any session asked for. */
  private fanOutLogLevel(): void {
    const level = this.sessions.effectiveLogLevel();
    if (!level) return;
    for (const c of this.catalogs()) {
      if (!c.capabilities.logging) continue;
      void this.request(c.server, { method: 'logging/setLevel', params: { level }, schema: EmptyResultSchema, label: 'logging/setLevel' }).catch((err: unknown) =>
        this.options.logger.debug(`logging/setLevel at ${c.server}: ${String(err)}`),
      );
    }
  }

  private request<S extends Parameters<NonNullable<DownstreamDirectory['request']>>[1]>(
    server: string,
    req: S,
    signal?: AbortSignal,
  ): Promise<SchemaOutput<S['schema']>> {
    const send = this.options.pool.request;
    if (!send) return Promise.reject(new DownstreamError('unavailable', `${server} cannot be asked for ${req.label} here.`, server));
    const go = (meta?: Record<string, string>) => send.call(this.options.pool, server, req, { signal, readOnly: true, ...(meta && { meta }) });
    return this.options.tracer ? this.options.tracer.downstream(server, req.method, go) : go();
  }

  private context(
    kind: CallKind,
    server: string,
    own: string,
    full: string,
    args: Record<string, unknown>,
    signal: AbortSignal | undefined,
    onprogress: CallContext['onprogress'],
  ): CallContext {
    return {
      kind,
      tool_name: own,
      server_name: server,
      full_name: full,
      arguments: args,
      session_id: this.options.sessionId,
      status: 'allowed',
      start_time: performance.now(),
      // Prompts and resources are reads by the protocol's definition; the tier layers are for tools.
      tier: kind === 'tool' ? undefined : 'read',
      metadata: kind === 'tool' ? {} : { kind },
      signal,
      onprogress,
    };
  }

  /** Audits a refusal before the chain and throws it as an MCP error. */
  private async refuse(ctx: CallContext, refusal: { code: string; message: string }): Promise<never> {
    ctx.status = 'denied';
    ctx.reason_code = refusal.code;
    ctx.error = refusal.message;
    this.options.onRefused?.(ctx);
    throw new McpError(ErrorCode.InvalidParams, await this.sanitize(refusal.message, ctx));
  }

  private async failure(ctx: CallContext): Promise<McpError> {
    const text = await this.sanitize(ctx.error ?? ctx.status, ctx);
    return new McpError(ctx.status === 'denied' ? ErrorCode.InvalidRequest : ErrorCode.InternalError, text);
  }

  private async sanitize(text: string, ctx?: CallContext): Promise<string> {
    return this.options.sanitizeError ? this.options.sanitizeError(text, ctx) : text;
  }

  private settleStartup(): Promise<void> {
    this.startup ??= (async () => {
      const deadline = Date.now() + (this.options.startupWaitMs?.() ?? 5000);
      // Polling the snapshot: the pool has no single "state changed" event, and this runs once.
      while (Date.now() < deadline && this.options.pool.snapshot().some((v) => v.state === 'starting')) {
        await new Promise((resolve) => setTimeout(resolve, STARTUP_POLL_MS));
      }
      this.settled = true;
    })();
    return this.startup;
  }

  /** Handles one `tools/call`; never throws (errors become `isError` results). */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
    onprogress?: CallContext['onprogress'],
    upstream?: CallContext['upstream'],
    scope?: ProfileScope,
  ): Promise<CallToolResult> {
    if (name === HEALTH_TOOL_NAME || name === REA_HEALTH_TOOL_NAME) return this.health();
    const split = splitToolName(name);
    const ctx = this.context('tool', split?.server ?? '', split?.tool ?? name, name, args, signal, onprogress);
    ctx.upstream = upstream;
    // Refused before any stateful layer: unknown names must not create breaker, rate-limit
    // or metrics entries (SPEC §13.1 item 12). A tool hidden by registry `tools:` or by the
    // endpoint's profile is refused the same way, without saying that it exists.
    const refusal = nameRefusal('tool', split?.server, name, this.serverNames(scope)) ?? (split && this.hiddenTool(split.server, split.tool, name, scope));
    if (refusal) {
      ctx.status = 'denied';
      ctx.reason_code = refusal.code;
      ctx.error = refusal.message;
      this.options.onRefused?.(ctx);
      return this.toResult(ctx);
    }
    ctx.tool = this.options.pool.describeTool(name);
    await this.run(ctx);
    this.finished(ctx);
    // An allowed result is returned as it is: returning `toResult`'s promise from this async
    // function would cost two more promises and ticks per call.
    if (ctx.status === 'allowed' && ctx.result) return ctx.result;
    return this.toResult(ctx);
  }

  private hiddenTool(server: string, tool: string, name: string, scope: ProfileScope | undefined): { code: string; message: string } | undefined {
    const hidden = this.options.pool.toolHidden?.(server, tool) || (scope !== undefined && !scope.showsTool(server, name));
    return hidden ? { code: 'unknown_tool', message: `Unknown tool '${name}': this endpoint does not list it; call tools/list for the tools it offers.` } : undefined;
  }

  /** Tells every session that the tool list may have changed (profiles edited). */
  notifyToolsChanged(): void {
    this.broadcastToolsChanged();
  }

  /** Runs the chain for one context and reports it finished (metrics feed on it). */
  private async runChain(ctx: CallContext): Promise<void> {
    await this.run(ctx);
    this.finished(ctx);
  }

  /** Reports a call that went through the chain finished. */
  private finished(ctx: CallContext): void {
    this._onDidFinishCall.fire({
      server: ctx.server_name,
      tool: ctx.tool_name,
      status: ctx.status,
      reason_code: ctx.reason_code,
      duration_ms: performance.now() - ctx.start_time,
    });
  }

  private async toResult(ctx: CallContext): Promise<CallToolResult> {
    if (ctx.status === 'allowed' && ctx.result) return ctx.result;
    const raw = ctx.error ?? ctx.status;
    const text = this.options.sanitizeError ? await this.options.sanitizeError(raw, ctx) : raw;
    return { isError: true, content: [{ type: 'text', text }] };
  }

  private async health(): Promise<CallToolResult> {
    this.options.onHealth?.();
    const extras = { version: this.options.version, ...(await this.options.healthExtras?.()) };
    const report = healthReport(this.options.snapshot(), this.options.exposeDiagnostics?.() ?? false, extras);
    return {
      content: [{ type: 'text', text: JSON.stringify(report, null, 2) }],
      structuredContent: report,
    };
  }

  private broadcastToolsChanged(): void {
    this.broadcast((s) => s.sendToolListChanged());
  }

  private broadcast(send: (server: Server) => Promise<void>): void {
    for (const server of this.servers) {
      send(server).catch((err: unknown) => {
        this.options.logger.debug(`could not send a list_changed notification: ${String(err)}`);
      });
    }
  }

}

function publicTool(tool: AggregatedTool): Tool {
  const { server: _server, originalName: _original, ...rest } = tool;
  return rest;
}
