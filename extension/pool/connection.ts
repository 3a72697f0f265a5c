import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { authFailure, signInHint } from '../auth/authFailure';
import { AccountAuthProvider } from '../auth/accountAuthProvider';
import type { AccountSessions } from '../auth/accountSessions';
import type { GatewayAuth } from '../auth/gatewayAuth';
import { NeedsAuthError } from '../auth/needsAuthError';
import { RemoteOAuthProvider } from '../auth/remoteOAuthProvider';
import type { TokenStore } from '../auth/tokenStore';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ElicitationCompleteNotificationSchema,
  ErrorCode,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListRootsRequestSchema,
  ListToolsResultSchema,
  LoggingMessageNotificationSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type ClientCapabilities,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from '../common/clock';
import { Disposable, MutableDisposable, type IDisposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { Logger } from '../common/logger';
import { buildChildEnv, resolveArgs, resolveHeaders, resolveUrl } from '../config/childEnv';
import type { ServerConfig } from '../config/registrySchema';
import type { GatewayTunables } from '../config/policySchema';
import type { DownstreamState, DownstreamView, ExitInfo } from '../protocol/model';
import { CircuitBreaker } from './breaker';
import { CallStats } from './callStats';
import { ChildProcessTransport, type ChildExit } from './childTransport';
import { DownstreamError } from './downstreamError';
import { RingBuffer } from './ringBuffer';
import { Supervisor } from './supervisor';
import type { CallOptions, DownstreamRequest, ServerCatalog, UpstreamBridge } from './types';
import { traceHeaderFetch } from '../telemetry/traceHeaderFetch';

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

/**
 * The client capabilities every child is initialized with: what the gateway can route to an
 * upstream client (DESIGN.md §5b). A child only uses them through the gateway, which answers
 * with an error naming the capability when no connected client declared it.
 */
export const CHILD_CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

const MAX_ERROR_CHARS = 4096;
const STATES_WITH_CLIENT: ReadonlySet<DownstreamState> = new Set(['ready', 'degraded']);
/**
 * Call counters (calls, in flight, latency) change twice per call; publishing each change cost
 * a view, a latency sort and a store revision per call on the call path. They are published at
 * most this often instead; any state change publishes them at once, with the rest of the view.
 */
export const STATS_PUBLISH_MS = 100;

interface Waiter {
  resolve: (client: Client) => void;
  reject: (err: DownstreamError) => void;
}

/**
 * One downstream MCP server and its supervisor (DESIGN.md §3).
 *
 * Owns at most one live child (or remote session) at a time. Connect is single-flight; a dead
 * transport is respawned by the supervisor itself, not by the next call; request errors
 * (timeouts, JSON-RPC errors) count against the breaker but never kill a healthy child; a call
 * whose child died under it is re-sent only when the tool is read-only.
 */
export class DownstreamConnection extends Disposable {
  readonly name: string;
  readonly breaker: CircuitBreaker;
  /** Captured stderr plus lifecycle lines, bounded. */
  readonly output = new RingBuffer();

  private readonly _onDidChange = this.register(new Emitter<void>());
  /** Fires whenever anything in `view()` may have changed. */
  readonly onDidChange: Event<void> = this._onDidChange.event;
  private readonly _onDidChangeTools = this.register(new Emitter<void>());
  /** Fires when the tools this server contributes to the aggregate changed. */
  readonly onDidChangeTools: Event<void> = this._onDidChangeTools.event;

  private _state: DownstreamState = 'stopped';
  private reason: string | null = null;
  private lastError: string | null = null;
  private client: Client | undefined;
  private transport: Transport | undefined;
  /** Transports we are closing on purpose: their close is not a crash. */
  private readonly closing = new WeakSet<Transport>();
  private connecting: Promise<void> | undefined;
  /** The transport of a connect under way, so stop() can kill it instead of waiting it out. */
  private pendingTransport: Transport | undefined;
  private readonly retryTimer = this.register(new MutableDisposable<IDisposable>());
  /** Pending publish of the call counters (see STATS_PUBLISH_MS). */
  private readonly statsTimer = this.register(new MutableDisposable<IDisposable>());
  private nextRetryAt: number | null = null;
  private waiters: Waiter[] = [];
  private _tools: Tool[] = [];
  private lastListed: readonly Tool[] = [];
  private _prompts: Prompt[] = [];
  private _resources: Resource[] = [];
  private _templates: ResourceTemplate[] = [];
  private capabilities: ServerCapabilities | undefined;
  private catalogLive = false;
  private readonly _onDidChangeCatalog = this.register(new Emitter<'prompts' | 'resources'>());
  /** Fires when this server's prompts, or its resources/templates, changed. */
  readonly onDidChangeCatalog: Event<'prompts' | 'resources'> = this._onDidChangeCatalog.event;
  private readonly stats = new CallStats();
  private readonly supervisor: Supervisor;
  private restarts = 0;
  private everStarted = false;
  private lastExit: ExitInfo | null = null;
  private startedAt: number | null = null;
  private pid: number | null = null;
  /** The crash left nothing to retry (e.g. a missing variable): only Respawn or a config change helps. */
  private terminal = false;
  private stopped = false;
  /** The OAuth side of a remote server, for its current URL (auth/remoteOAuthProvider.ts). */
  private readonly oauth = this.register(new MutableDisposable<GatewayAuth>());

  constructor(
    readonly config: ServerConfig,
    private readonly deps: ConnectionDeps,
  ) {
    super();
    this.name = config.name;
    const t = deps.tunables;
    this.breaker = this.register(
      new CircuitBreaker(
        config.name,
        {
          failureThreshold: t.breaker.failure_threshold,
          cooldownMs: t.breaker.cooldown_ms,
          maxCooldownMs: t.breaker.max_cooldown_ms,
        },
        deps.clock,
      ),
    );
    this.register(this.breaker.onDidRequestProbe(() => void this.probe()));
    this.register(this.breaker.onDidChangeState(() => this.refreshDegraded()));
    this.supervisor = new Supervisor(
      {
        backoff: {
          initialMs: t.backoff.initial_ms,
          multiplier: t.backoff.multiplier,
          maxMs: t.backoff.max_ms,
          jitter: t.backoff.jitter,
        },
        maxCrashes: t.supervisor.max_crashes,
        crashWindowMs: t.supervisor.crash_window_ms,
        stableMs: deps.stableMs ?? 10_000,
      },
      deps.clock,
      deps.random,
    );
    this.register({ dispose: () => this.output.dispose() });
    this._state = config.enabled ? 'stopped' : 'disabled';
  }

  get state(): DownstreamState {
    return this._state;
  }

  /** The server's own tools from the last successful listing (empty while it is down). */
  get tools(): readonly Tool[] {
    return this._tools;
  }

  /** What the server offers besides tools; empty lists while it is down. */
  catalog(): ServerCatalog {
    const caps = this.client && STATES_WITH_CLIENT.has(this._state) ? this.capabilities : undefined;
    return {
      server: this.name,
      prompts: caps ? this._prompts : [],
      resources: caps ? this._resources : [],
      templates: caps ? this._templates : [],
      capabilities: {
        prompts: caps?.prompts !== undefined,
        resources: caps?.resources !== undefined,
        subscribe: caps?.resources?.subscribe === true,
        completions: caps?.completions !== undefined,
        logging: caps?.logging !== undefined,
      },
    };
  }

  /** The last non-empty listing, kept while the server is down (see DownstreamDirectory.describeTool). */
  get lastListedTools(): readonly Tool[] {
    return this._tools.length > 0 ? this._tools : this.lastListed;
  }

  /** True when its tools belong in the aggregate now. */
  get contributesTools(): boolean {
    return STATES_WITH_CLIENT.has(this._state) || (this.config.keep_tools_when_down && this._tools.length > 0);
  }

  private get connectMs(): number {
    return this.config.timeouts?.connect_ms ?? this.deps.tunables.timeouts.connect_ms;
  }

  private get callMs(): number {
    return this.config.timeouts?.call_ms ?? this.deps.tunables.timeouts.call_ms;
  }

  /** Starts connecting in the background; never throws. */
  start(): void {
    if (!this.config.enabled) {
      this.setState('disabled', 'disabled in registry.yaml');
      return;
    }
    const blocked = this.deps.admit?.(this.config);
    if (blocked !== undefined) {
      this.stopped = true;
      this.setState('blocked', blocked);
      this.log('warn', `not started: ${blocked}`);
      return;
    }
    this.stopped = false;
    void this.connect();
  }

  /** Manual respawn: forgets crash history, kills any live child, connects again. */
  async respawn(): Promise<void> {
    if (!this.config.enabled) throw new DownstreamError('unavailable', `${this.name} is disabled in registry.yaml`, this.name);
    const blocked = this.deps.admit?.(this.config);
    if (blocked !== undefined) throw new DownstreamError('unavailable', `${this.name} is blocked: ${blocked}`, this.name);
    this.stopped = false;
    this.terminal = false;
    this.supervisor.reset();
    this.retryTimer.value = undefined;
    this.nextRetryAt = null;
    this.log('info', 'respawn requested');
    await this.connecting?.catch(() => undefined);
    await this.closeTransport();
    this.client = undefined;
    this.restarts++;
    await this.connect();
  }

  /** Manual "Reset circuit". */
  resetCircuit(): void {
    this.breaker.reset();
  }

  /** Stops the child (escalating) and leaves the connection in `stopped`. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer.value = undefined;
    this.nextRetryAt = null;
    // A start under way would otherwise hold shutdown for its whole connect timeout (and a
    // client that kills us sooner would orphan the child): kill it now.
    const pending = this.pendingTransport;
    if (pending) await this.closeOne(pending, true);
    await this.connecting?.catch(() => undefined);
    await this.closeTransport();
    this.client = undefined;
    this.setTools([]);
    if (this._state !== 'blocked') {
      this.setState(this.config.enabled ? 'stopped' : 'disabled', this.config.enabled ? 'stopped' : 'disabled in registry.yaml');
    }
    this.rejectWaiters();
  }

  override dispose(): void {
    void this.stop();
    super.dispose();
  }

  // ---------------------------------------------------------------- connecting

  /** Single-flight: concurrent callers share one attempt (no orphan children). */
  private connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    if (this.stopped) return;
    this.retryTimer.value = undefined;
    this.nextRetryAt = null;
    if (this.everStarted) this.log('info', `respawning (restart ${this.restarts})`);
    this.everStarted = true;
    this.setState('starting', this.restarts > 0 ? 'respawning' : 'starting');

    let transport: Transport;
    let exit: ChildExit | undefined;
    try {
      transport = this.createTransport((e) => (exit = e));
    } catch (err) {
      if (err instanceof NeedsAuthError) {
        this.needsAuth(err.message);
        return;
      }
      // Configuration problems (a missing variable) do not heal by retrying.
      this.terminal = true;
      this.crashed(errorText(err), false);
      return;
    }

    const client = new Client(this.deps.clientInfo ?? { name: 'gatehouse', version: '0.1.0' }, { capabilities: CHILD_CLIENT_CAPABILITIES });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.log('info', 'server says its tool list changed; listing again');
      void this.refreshTools(client);
    });
    this.routeChildMessages(client);
    transport.onclose = () => this.onTransportClosed(transport, exit);
    this.pendingTransport = transport;
    try {
      await client.connect(transport, { timeout: this.connectMs });
      // A server without the tools capability (prompts or resources only) is not asked for tools.
      const listTools = client.getServerCapabilities()?.tools ? this.listAllTools(client, this.connectMs) : Promise.resolve([]);
      const [tools, catalog] = await Promise.all([listTools, this.listCatalog(client, this.connectMs)]);
      if (this.stopped) {
        await this.closeOne(transport);
        return;
      }
      this.client = client;
      this.transport = transport;
      this.pid = transport instanceof ChildProcessTransport ? (transport.pid ?? null) : null;
      this.startedAt = this.deps.clock.now();
      this.lastError = null;
      this.supervisor.onReady();
      this.capabilities = client.getServerCapabilities();
      this.setCatalog(catalog);
      this.setTools(tools);
      this.setState(this.breaker.state === 'closed' ? 'ready' : 'degraded', null);
      const extra = [catalog.prompts && `${catalog.prompts.length} prompts`, catalog.resources && `${catalog.resources.length} resources`].filter(Boolean).join(', ');
      this.log('info', `ready: ${tools.length} tools${extra ? `, ${extra}` : ''}${this.pid ? `, pid ${this.pid}` : ''}`);
      this.resolveWaiters(client);
    } catch (err) {
      const authReason = this.authReason(err);
      if (authReason !== undefined) {
        await this.closeOne(transport, true);
        if (!this.stopped) this.needsAuth(authReason);
        return;
      }
      // Describe before closing: our own SIGTERM must not read as the cause.
      const why = this.describeStartFailure(err, exit);
      await this.closeOne(transport, true);
      if (this.stopped) return;
      this.crashed(why, true);
    } finally {
      if (this.pendingTransport === transport) this.pendingTransport = undefined;
    }
  }

  private createTransport(onExit: (exit: ChildExit) => void): Transport {
    const cfg = this.config;
    const hostEnv = this.deps.hostEnv;
    if (cfg.url) {
      const url = resolveUrl(cfg, hostEnv);
      const headers = resolveHeaders(cfg, hostEnv);
      const missing = [...new Set([...url.missing, ...headers.missing])];
      if (missing.length || !url.url) throw new Error(missingEnvText(missing));
      return new StreamableHTTPClientTransport(new URL(url.url), {
        requestInit: { headers: headers.headers },
        fetch: traceHeaderFetch,
        authProvider: this.oauthFor(url.url),
      });
    }
    const { env, missing: envMissing } = buildChildEnv(cfg, hostEnv);
    const { args, missing: argsMissing } = resolveArgs(cfg, hostEnv);
    const missing = [...new Set([...envMissing, ...argsMissing])];
    if (missing.length) throw new Error(missingEnvText(missing));
    const cwd = cfg.cwd ? path.resolve(this.deps.baseDir, cfg.cwd) : this.deps.baseDir;
    const child = new ChildProcessTransport({ command: cfg.command ?? '', args, env, cwd }, this.output);
    child.onexit = (exit) => {
      this.lastExit = { code: exit.code, signal: exit.signal, at: new Date(this.deps.clock.now()).toISOString() };
      onExit(exit);
    };
    return child;
  }

  private describeStartFailure(err: unknown, exit: ChildExit | undefined): string {
    const cfg = this.config;
    const last = this.output.lastLine();
    const tail = last ? `: ${last}` : '';
    if (exit?.spawnError) {
      const code = exit.spawnError.code;
      if (code === 'ENOENT') return `command not found: '${cfg.command}' (is it installed and on PATH? use an absolute path otherwise)`;
      if (code === 'EACCES') return `command not executable: '${cfg.command}' (check its permissions)`;
      return `could not start '${cfg.command}': ${exit.spawnError.message}`;
    }
    if (exit) return `${describeExit(exit)} during startup${tail}`;
    if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
      return `did not answer initialize within ${this.connectMs / 1000} s${tail}`;
    }
    return `failed to start: ${errorText(err)}${tail}`;
  }

  /** Follows pagination; the gateway lists on its own after every (re)connect. */
  private async listAllTools(client: Client, timeout: number): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      // A raw request: Client.listTools would compile an output-schema validator per tool,
      // which the gateway does not need (the upstream client validates what it receives).
      const result = await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema, {
        timeout,
      });
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return tools;
  }

  private async refreshTools(client: Client): Promise<void> {
    try {
      const tools = await this.listAllTools(client, this.callMs);
      if (client === this.client) this.setTools(tools);
    } catch (err) {
      this.log('warn', `listing tools after list_changed failed: ${errorText(err)}`);
    }
  }

  /**
   * Prompts, resources and resource templates, each only when the server declared the
   * capability, all pages. A listing that fails leaves that list empty with a warning: tools
   * still work, and the server's list_changed (or a respawn) lists again.
   */
  private async listCatalog(client: Client, timeout: number): Promise<Partial<Pick<ServerCatalog, 'prompts' | 'resources' | 'templates'>>> {
    const caps = client.getServerCapabilities();
    const [prompts, resources, templates] = await Promise.all([
      caps?.prompts ? this.listAll(client, 'prompts/list', ListPromptsResultSchema, (r) => r.prompts, timeout) : undefined,
      caps?.resources ? this.listAll(client, 'resources/list', ListResourcesResultSchema, (r) => r.resources, timeout) : undefined,
      caps?.resources
        ? this.listAll(client, 'resources/templates/list', ListResourceTemplatesResultSchema, (r) => r.resourceTemplates, timeout)
        : undefined,
    ]);
    return { prompts, resources, templates };
  }

  private async listAll<S extends AnySchema, T>(
    client: Client,
    method: string,
    schema: S,
    items: (result: SchemaOutput<S>) => T[],
    timeout: number,
  ): Promise<T[] | undefined> {
    const out: T[] = [];
    let cursor: string | undefined;
    try {
      for (let page = 0; page < 100; page++) {
        const result = await client.request({ method, params: cursor ? { cursor } : {} }, schema, { timeout });
        out.push(...items(result));
        cursor = (result as { nextCursor?: string }).nextCursor;
        if (!cursor) break;
      }
    } catch (err) {
      this.log('warn', `${method} failed: ${errorText(err)}; listed as empty`);
      return [];
    }
    return out;
  }

  private async refreshCatalog(client: Client, kind: 'prompts' | 'resources'): Promise<void> {
    const listed = await this.listCatalog(client, this.callMs);
    if (client !== this.client) return;
    this.setCatalog(kind === 'prompts' ? { prompts: listed.prompts } : { resources: listed.resources, templates: listed.templates });
  }

  private setCatalog(catalog: Partial<Pick<ServerCatalog, 'prompts' | 'resources' | 'templates'>>): void {
    if (catalog.prompts) {
      this._prompts = [...catalog.prompts];
      this._onDidChangeCatalog.fire('prompts');
    }
    if (catalog.resources || catalog.templates) {
      if (catalog.resources) this._resources = [...catalog.resources];
      if (catalog.templates) this._templates = [...catalog.templates];
      this._onDidChangeCatalog.fire('resources');
    }
  }

  /**
   * Child → client traffic (DESIGN.md §5b): requests go to the upstream bridge, which picks the
   * session; list changes re-list here; log messages and resource updates go up as they are.
   * Progress needs nothing here: the SDK delivers it to the request that asked for it.
   */
  private routeChildMessages(client: Client): void {
    const forward = (method: string) => async (request: { params?: Record<string, unknown> }, extra: { signal: AbortSignal }) => {
      const bridge = this.deps.upstream?.();
      if (!bridge) throw new McpError(ErrorCode.InternalError, `Gatehouse has no client connected that can answer ${method} from ${this.name}.`);
      return bridge.request(this.name, { method, params: request.params }, extra.signal) as never;
    };
    client.setRequestHandler(CreateMessageRequestSchema, forward('sampling/createMessage'));
    client.setRequestHandler(ElicitRequestSchema, forward('elicitation/create'));
    client.setRequestHandler(ListRootsRequestSchema, forward('roots/list'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => {
      this.log('info', 'server says its prompt list changed; listing again');
      void this.refreshCatalog(client, 'prompts');
    });
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      this.log('info', 'server says its resource list changed; listing again');
      void this.refreshCatalog(client, 'resources');
    });
    const relay = (notification: { method: string; params?: Record<string, unknown> }): void => {
      if (client !== this.client) return;
      try {
        this.deps.upstream?.()?.notify(this.name, notification);
      } catch (err) {
        this.deps.logger.debug(`${this.name}: could not relay ${notification.method}: ${errorText(err)}`);
      }
    };
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      const data = typeof n.params.data === 'string' ? n.params.data : JSON.stringify(n.params.data);
      // In the lifecycle line format, so the server's output channel shows it at its level.
      const level = ['debug', 'info', 'notice'].includes(n.params.level) ? 'info' : n.params.level === 'warning' ? 'warn' : 'error';
      this.output.push(`[gatehouse ${level}] log ${n.params.level}${n.params.logger ? ` ${n.params.logger}` : ''}: ${this.redact(data ?? '')}`);
      relay(n);
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => relay(n));
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => relay(n));
  }

  /** Sends a notification to the child if it is up (roots/list_changed, …); never throws. */
  notify(notification: { method: string; params?: Record<string, unknown> }): void {
    const client = this.client;
    if (!client || !STATES_WITH_CLIENT.has(this._state)) return;
    client.notification(notification as never).catch((err: unknown) => {
      this.deps.logger.debug(`${this.name}: could not send ${notification.method}: ${errorText(err)}`);
    });
  }

  // ---------------------------------------------------------------- sign-in

  /** The OAuth provider for `url`, made once per URL; undefined without a token store. */
  private oauthFor(url: string): GatewayAuth | undefined {
    const account = this.config.auth?.provider;
    if (account && !this.deps.accounts) {
      throw new NeedsAuthError(`it signs in with a VS Code ${account} account (auth.provider), which only the VS Code extension can use`);
    }
    const store = this.deps.tokenStore;
    const current = this.oauth.value;
    if (current?.url === url) return current;
    let provider: GatewayAuth;
    if (account && this.deps.accounts) provider = new AccountAuthProvider(url, account, this.config.auth?.scopes, this.deps.accounts);
    else if (store) provider = new RemoteOAuthProvider({ server: this.name, url, store, clock: this.deps.clock, client: this.config.auth, fetchFn: traceHeaderFetch });
    else return undefined;
    provider.onDidSignIn(() => {
      if (this._state !== 'needs_auth' || this.stopped) return;
      this.log('info', 'signed in; connecting');
      void this.connect();
    });
    provider.onDidLoseAuth((reason) => void this.loseAuth(reason));
    this.oauth.value = provider;
    return provider;
  }

  /** The sign-in reason when `err` means "the server wants a sign-in", else undefined. */
  private authReason(err: unknown): string | undefined {
    if (!this.config.url) return undefined;
    return authFailure(err, this.oauth.value);
  }

  /** Signed out, or the refresh failed: a live session is closed, calls fail at once with the way out. */
  private async loseAuth(reason: string): Promise<void> {
    if (this.stopped || this._state === 'needs_auth') return;
    if (!STATES_WITH_CLIENT.has(this._state)) return;
    await this.closeTransport();
    this.client = undefined;
    this.needsAuth(reason);
  }

  /** Not a crash and not a breaker failure: nothing retries until the user signs in. */
  private needsAuth(reason: string): void {
    this.lastError = bound(`needs sign-in: ${reason}`);
    this.startedAt = null;
    if (!this.config.keep_tools_when_down) this.setTools([]);
    this.setState('needs_auth', reason);
    this.log('warn', `needs sign-in: ${reason}. ${signInHint(this.name)}`);
    this.rejectWaiters();
  }

  // ---------------------------------------------------------------- crashes

  private onTransportClosed(transport: Transport, exit: ChildExit | undefined): void {
    if (this.closing.has(transport) || transport !== this.transport) return;
    this.client = undefined;
    this.transport = undefined;
    this.pid = null;
    const why = exit ? describeExit(exit) : 'connection closed';
    const last = this.output.lastLine();
    this.crashed(`${why}${last ? `: ${last}` : ''}`, true);
  }

  /** Records a crash and asks the supervisor what to do. */
  private crashed(reason: string, respawnable: boolean): void {
    this.lastError = bound(reason);
    this.startedAt = null;
    if (!this.config.keep_tools_when_down) this.setTools([]);
    this.setState('crashed', reason);
    this.log('error', reason);
    if (!respawnable || this.stopped) {
      this.rejectWaiters();
      return;
    }
    const decision = this.supervisor.onCrash();
    if (decision.kind === 'give_up') {
      const minutes = Math.round(decision.windowMs / 60000);
      this.setState('gave_up', `gave up after ${decision.crashes} crashes in ${minutes} min; last: ${reason}`);
      this.log('error', `gave up after ${decision.crashes} crashes in ${minutes} min; use Respawn after fixing the cause`);
      this.rejectWaiters();
      return;
    }
    this.restarts++;
    if (decision.delayMs === 0) {
      void this.connect();
      return;
    }
    this.nextRetryAt = this.deps.clock.now() + decision.delayMs;
    this.setState('backoff', `${reason}; next attempt in ${(decision.delayMs / 1000).toFixed(1)} s`);
    this.retryTimer.value = this.deps.clock.setTimeout(() => void this.connect(), decision.delayMs);
  }

  // ---------------------------------------------------------------- calls

  /** Proxies one tool call (see the class comment for the rules). */
  async callTool(tool: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<CallToolResult> {
    return (await this.request(
      { method: 'tools/call', params: { name: tool, arguments: args }, schema: CallToolResultSchema, label: `'${tool}'` },
      options,
    )) as CallToolResult;
  }

  /**
   * Sends one request to the server: `tools/call`, `prompts/get`, `resources/read`,
   * `completion/complete`, subscriptions, `logging/setLevel`. Every kind has the same rules as
   * a tool call: breaker, bounded wait for a respawn, call timeout, counters, and a re-send
   * after the child died only when `readOnly`.
   */
  async request<S extends AnySchema>(req: DownstreamRequest<S>, options: CallOptions = {}): Promise<SchemaOutput<S>> {
    if (!this.breaker.allows()) {
      this.stats.refused();
      const retry = this.breaker.retryAt ? ` Next probe at ${new Date(this.breaker.retryAt).toISOString()}.` : '';
      throw new DownstreamError('circuit_open', `Circuit open for ${this.name}: the server is failing and calls are paused.${retry}`, this.name);
    }
    let resent = false;
    for (;;) {
      let client: Client;
      try {
        client = await this.whenReady(this.connectMs);
      } catch (err) {
        this.stats.refused();
        // A server waiting for a sign-in is not failing.
        if (!(err instanceof DownstreamError && err.code === 'needs_auth')) this.breaker.recordFailure();
        throw err;
      }
      const carrier = this.transport;
      const began = performance.now();
      this.stats.begin();
      this.statsChanged();
      try {
        const result = await client.request({ method: req.method, params: { ...req.params, ...(options.meta && { _meta: options.meta }) } } as never, req.schema, {
          timeout: this.callMs,
          signal: options.signal,
          ...(options.onprogress ? { onprogress: options.onprogress, resetTimeoutOnProgress: true } : {}),
        });
        this.stats.end(performance.now() - began, false);
        this.breaker.recordSuccess();
        this.onCallSucceeded();
        return result;
      } catch (err) {
        this.stats.end(performance.now() - began, true);
        const authReason = this.authReason(err);
        if (authReason !== undefined) {
          // The token was refused mid-session and could not be refreshed.
          await this.loseAuth(authReason);
          throw this.refusal() ?? new DownstreamError('needs_auth', `${this.name} needs sign-in: ${authReason}. ${signInHint(this.name)}`, this.name);
        }
        const died = carrier !== this.transport || (err instanceof McpError && err.code === ErrorCode.ConnectionClosed);
        if (died && options.readOnly && !resent && !options.signal?.aborted) {
          // Safe to repeat: the request promised not to change anything.
          resent = true;
          this.log('warn', `child died during read-only ${req.label}; sending it again after the respawn`);
          continue;
        }
        // A cancelled request says nothing about the server's health.
        if (!options.signal?.aborted) this.breaker.recordFailure();
        throw this.callFailure(req.label, err, died);
      } finally {
        this.statsChanged();
      }
    }
  }

  private callFailure(tool: string, err: unknown, died: boolean): DownstreamError {
    if (died) {
      return new DownstreamError(
        'died_during_call',
        `${this.name}'s process exited while ${tool} was running (${this.lastError ?? 'connection closed'}). ` +
          `The call was not re-sent because ${tool} may have side effects; check its effect before retrying.`,
        this.name,
      );
    }
    if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
      this.noteRequestError(`${tool} timed out after ${this.callMs / 1000} s`);
      return new DownstreamError('timeout', `${this.name} did not answer ${tool} within ${this.callMs / 1000} s.`, this.name);
    }
    const text = this.redact(errorText(err));
    this.noteRequestError(`${tool} failed: ${text}`);
    return new DownstreamError('request_failed', `${this.name} failed ${tool}: ${text}`, this.name);
  }

  private noteRequestError(text: string): void {
    this.lastError = bound(text);
    if (this._state === 'ready') this.setState('degraded', text);
    else this.fireChange();
  }

  private onCallSucceeded(): void {
    if (this._state === 'degraded' && this.breaker.state === 'closed') this.setState('ready', null);
  }

  /** Keeps `degraded` in step with the breaker while a client is live. */
  private refreshDegraded(): void {
    if (this._state === 'ready' && this.breaker.state !== 'closed') this.setState('degraded', `circuit ${this.breaker.state}`);
    else if (this._state === 'degraded' && this.breaker.state === 'closed') this.setState('ready', null);
    else this.fireChange();
  }

  /** The half-open probe: one cheap `tools/list`, never a user's call. */
  private async probe(): Promise<void> {
    try {
      const client = await this.whenReady(this.connectMs);
      if (client.getServerCapabilities()?.tools) this.setTools(await this.listAllTools(client, this.callMs));
      // A server with prompts or resources only has no tools/list to probe with.
      else await client.ping({ timeout: this.callMs });
      this.breaker.recordSuccess();
      this.log('info', 'circuit probe succeeded');
    } catch (err) {
      this.breaker.recordFailure();
      this.log('warn', `circuit probe failed: ${errorText(err)}`);
    }
  }

  /** Resolves with the live client, waiting (bounded) for a start or respawn under way. */
  private whenReady(timeoutMs: number): Promise<Client> {
    if (this.client && STATES_WITH_CLIENT.has(this._state)) return Promise.resolve(this.client);
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    return new Promise<Client>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (c) => {
          timer.dispose();
          resolve(c);
        },
        reject: (e) => {
          timer.dispose();
          reject(e);
        },
      };
      const timer = this.deps.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new DownstreamError(
            'unavailable',
            `${this.name} is not ready (${this._state}${this.reason ? `: ${this.reason}` : ''}); waited ${timeoutMs / 1000} s.`,
            this.name,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Why a call cannot even wait, or undefined when waiting makes sense. */
  private refusal(): DownstreamError | undefined {
    const reason = this.reason ? `: ${this.reason}` : '';
    switch (this._state) {
      case 'disabled':
        return new DownstreamError('unavailable', `${this.name} is disabled in registry.yaml.`, this.name);
      case 'blocked':
        return new DownstreamError('unavailable', `${this.name} is blocked until its configuration change is accepted${reason}.`, this.name);
      case 'gave_up':
        return new DownstreamError('unavailable', `${this.name} is down (${this.reason}). Fix the cause, then respawn it.`, this.name);
      case 'stopped':
        return new DownstreamError('unavailable', `${this.name} is stopped.`, this.name);
      case 'needs_auth':
        return new DownstreamError('needs_auth', `${this.name} needs sign-in${reason}. ${signInHint(this.name)}`, this.name);
      case 'crashed':
        return this.terminal ? new DownstreamError('unavailable', `${this.name} cannot start${reason}.`, this.name) : undefined;
      default:
        return undefined;
    }
  }

  private resolveWaiters(client: Client): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(client);
  }

  private rejectWaiters(): void {
    const err = this.refusal() ?? new DownstreamError('unavailable', `${this.name} is not available (${this._state}).`, this.name);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  // ---------------------------------------------------------------- plumbing

  private async closeTransport(): Promise<void> {
    const transport = this.transport;
    this.transport = undefined;
    this.pid = null;
    if (transport) await this.closeOne(transport);
  }

  /** Closes one transport on purpose; `urgent` skips the grace period for an unresponsive child. */
  private async closeOne(transport: Transport, urgent = false): Promise<void> {
    this.closing.add(transport);
    try {
      if (urgent && transport instanceof ChildProcessTransport) await transport.kill();
      else await transport.close();
    } catch {
      // closing is best effort; the process group is killed on exit anyway
    }
  }

  private setTools(tools: Tool[]): void {
    const before = this._tools;
    this._tools = tools;
    if (tools.length > 0) this.lastListed = tools;
    if (before.length === 0 && tools.length === 0) return;
    this._onDidChangeTools.fire();
    this.fireChange();
  }

  private setState(state: DownstreamState, reason: string | null): void {
    this._state = state;
    this.reason = reason === null ? null : bound(reason);
    // The catalog is offered only while a client is live: going up or down changes it.
    const live = this.client !== undefined && STATES_WITH_CLIENT.has(state);
    if (live !== this.catalogLive) {
      this.catalogLive = live;
      this._onDidChangeCatalog.fire('prompts');
      this._onDidChangeCatalog.fire('resources');
    }
    this.fireChange();
  }

  private fireChange(): void {
    // This view carries the counters too: a pending counters-only publish is redundant.
    this.statsTimer.value = undefined;
    this._onDidChange.fire();
  }

  /** The call counters changed: publish them with the next change, or within STATS_PUBLISH_MS. */
  private statsChanged(): void {
    if (this.statsTimer.value) return;
    this.statsTimer.value = this.deps.clock.setTimeout(() => {
      this.statsTimer.value = undefined;
      this.fireChange();
    }, STATS_PUBLISH_MS);
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    const text = this.redact(message);
    this.output.push(`[gatehouse ${level}] ${text}`);
    this.deps.logger[level](`${this.name}: ${text}`);
  }

  private redact(text: string): string {
    return this.deps.redact ? this.deps.redact(text) : text;
  }

  /** The plain-JSON view every consumer renders. */
  view(): DownstreamView {
    const state = this._state;
    const connected = this.client !== undefined && STATES_WITH_CLIENT.has(state);
    const circuit = this.breaker.state;
    const healthy = state === 'ready' || state === 'starting' || (state === 'degraded' && circuit === 'closed');
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return {
      name: this.name,
      connected,
      healthy,
      circuit_state: circuit,
      retry_at: circuit === 'open' ? iso(this.breaker.retryAt) : null,
      last_error: this.lastError === null ? null : this.redact(this.lastError),
      tools_count: connected ? this._tools.length : null,
      prompts_count: connected && this.capabilities?.prompts ? this._prompts.length : null,
      resources_count: connected && this.capabilities?.resources ? this._resources.length : null,
      open_transitions: 0,
      session_blocker_emitted: false,
      state,
      reason: this.reason === null ? null : this.redact(this.reason),
      transport: this.config.url ? 'http' : 'stdio',
      pid: this.pid,
      restarts: this.restarts,
      last_exit: this.lastExit,
      started_at: iso(this.startedAt),
      calls: this.stats.calls,
      errors: this.stats.errors,
      latency_ms: this.stats.percentiles(),
      in_flight: this.stats.inFlight,
      next_retry_at: state === 'backoff' ? iso(this.nextRetryAt) : null,
    };
  }
}

function describeExit(exit: ChildExit): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}

function missingEnvText(missing: string[]): string {
  return `missing env: ${missing.join(', ')} (set ${missing.length > 1 ? 'them' : 'it'} in the environment the gateway starts with)`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** rea's bound for stored errors: 4096 UTF-16 units, no dangling high surrogate. */
function bound(text: string): string {
  if (text.length <= MAX_ERROR_CHARS) return text;
  let cut = text.slice(0, MAX_ERROR_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}
