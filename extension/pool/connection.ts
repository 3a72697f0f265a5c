import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { signInHint } from '../auth/authFailure';
import { NeedsAuthError } from '../auth/needsAuthError';
import { Disposable, MutableDisposable, type IDisposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { ServerConfig } from '../config/registrySchema';
import type { DownstreamState, DownstreamView, ExitInfo } from '../protocol/model';
import { CircuitBreaker } from './breaker';
import { CallStats } from './callStats';
import { callToolResultSchema } from './callToolResultSchema';
import { CHILD_CLIENT_CAPABILITIES } from './childClientCapabilities';
import { ChildProcessTransport, type ChildExit } from './childTransport';
import type { ConnectionDeps } from './connectionDeps';
import { connectionRefusal } from './connectionRefusal';
import { connectionView } from './connectionView';
import { sendRequest, type RequestHost } from './connectionRequests';
import { bound, describeExit, errorText } from './connectionText';
import { createConnectionTransport, describeStartFailure } from './connectionTransport';
import { DownstreamError } from './downstreamError';
import { LazySchemaValidator } from './lazySchemaValidator';
import { ReadyWaiters } from './readyWaiters';
import { RemoteSignIn } from './remoteSignIn';
import { RingBuffer } from './ringBuffer';
import { routeChildMessages } from './routeChildMessages';
import { ServerCatalogState } from './serverCatalogState';
import { listAllTools, listCatalog, type CatalogListing } from './serverListings';
import { Supervisor } from './supervisor';
import { supervisionSettings } from './supervisionSettings';
import type { CallOptions, DownstreamRequest, ServerCatalog } from './types';

// The connection's state machine lives here. The pieces that only read config, list, forward
// traffic or keep books live beside it, each in its own file, and report back through the
// small hosts they are handed: connectionDeps.ts (what it is given), connectionTransport.ts
// (config to transport), serverListings.ts (paged listings), serverCatalogState.ts (prompts and
// resources), routeChildMessages.ts (child to client traffic), remoteSignIn.ts (auth
// providers), connectionRequests.ts (the rules every request kind is sent under),
// supervisionSettings.ts (tunables to breaker and supervisor options), connectionView.ts,
// readyWaiters.ts (calls waiting for a start), connectionRefusal.ts and connectionText.ts (texts).

/** Importers (pool.ts, tests) take the deps type from here, as before the split. */
export type { ConnectionDeps } from './connectionDeps';

/** Re-exported: the constant's home moved, its import path did not. */
export { CHILD_CLIENT_CAPABILITIES } from './childClientCapabilities';

const STATES_WITH_CLIENT: ReadonlySet<DownstreamState> = new Set(['ready', 'degraded']);
/**
 * Call counters (calls, in flight, latency) change twice per call; publishing each change cost
 * a view, a latency sort and a store revision per call on the call path. They are published at
 * most this often instead; any state change publishes them at once, with the rest of the view.
 */
export const STATS_PUBLISH_MS = 100;

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
  /** A publish of the view is queued for the end of this burst of changes (fireChange). */
  private changeQueued = false;
  private readonly waiters: ReadyWaiters;
  private _tools: Tool[] = [];
  private lastListed: readonly Tool[] = [];
  private readonly catalogState = this.register(new ServerCatalogState());
  /** Fires when this server's prompts, or its resources/templates, changed. */
  readonly onDidChangeCatalog: Event<'prompts' | 'resources'> = this.catalogState.onDidChange;
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
  private readonly signIn: RemoteSignIn;
  /** This connection as connectionRequests.ts sees it. */
  private readonly requests: RequestHost;

  constructor(
    readonly config: ServerConfig,
    private readonly deps: ConnectionDeps,
  ) {
    super();
    this.name = config.name;
    const settings = supervisionSettings(deps.tunables, deps.stableMs);
    this.breaker = this.register(new CircuitBreaker(config.name, settings.breaker, deps.clock));
    this.register(this.breaker.onDidRequestProbe(() => void this.probe()));
    this.register(this.breaker.onDidChangeState(() => this.refreshDegraded()));
    this.supervisor = new Supervisor(settings.supervisor, deps.clock, deps.random);
    this.register({ dispose: () => this.output.dispose() });
    this.waiters = new ReadyWaiters(deps.clock);
    this.signIn = this.register(
      new RemoteSignIn(config, deps, {
        onDidSignIn: () => {
          if (this._state !== 'needs_auth' || this.stopped) return;
          this.log('info', 'signed in; connecting');
          void this.connect();
        },
        onDidLoseAuth: (reason) => void this.loseAuth(reason),
      }),
    );
    this._state = config.enabled ? 'stopped' : 'disabled';
    this.requests = {
      name: this.name,
      breaker: this.breaker,
      stats: this.stats,
      callMs: () => this.callMs,
      whenReady: () => this.whenReady(this.connectMs),
      liveClient: () => this.liveClient(),
      carrier: () => this.transport,
      lastError: () => this.lastError,
      authReason: (err) => this.signIn.reason(err),
      loseAuth: (reason) => this.loseAuth(reason),
      refusal: () => this.refusal(),
      statsChanged: () => this.statsChanged(),
      succeeded: () => this.onCallSucceeded(),
      noteRequestError: (text) => this.noteRequestError(text),
      log: (level, message) => this.log(level, message),
      redact: (text) => this.redact(text),
    };
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
    return this.catalogState.snapshot(this.name, this.client !== undefined && STATES_WITH_CLIENT.has(this._state));
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

    const client = new Client(this.deps.clientInfo ?? { name: 'gatehouse', version: '0.1.0' }, {
      capabilities: CHILD_CLIENT_CAPABILITIES,
      // Not an Ajv per (re)spawn: the gateway never has this Client validate (lazySchemaValidator.ts).
      jsonSchemaValidator: new LazySchemaValidator(),
    });
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
      const listTools = client.getServerCapabilities()?.tools ? listAllTools(client, this.connectMs) : Promise.resolve([]);
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
      this.catalogState.capabilities = client.getServerCapabilities();
      this.catalogState.set(catalog);
      this.setTools(tools);
      this.setState(this.breaker.state === 'closed' ? 'ready' : 'degraded', null);
      const extra = [catalog.prompts && `${catalog.prompts.length} prompts`, catalog.resources && `${catalog.resources.length} resources`].filter(Boolean).join(', ');
      this.log('info', `ready: ${tools.length} tools${extra ? `, ${extra}` : ''}${this.pid ? `, pid ${this.pid}` : ''}`);
      this.resolveWaiters(client);
    } catch (err) {
      const authReason = this.signIn.reason(err);
      if (authReason !== undefined) {
        await this.closeOne(transport, true);
        if (!this.stopped) this.needsAuth(authReason);
        return;
      }
      // Describe before closing: our own SIGTERM must not read as the cause.
      const why = describeStartFailure(this.config, err, exit, this.output.lastLine(), this.connectMs);
      await this.closeOne(transport, true);
      if (this.stopped) return;
      this.crashed(why, true);
    } finally {
      if (this.pendingTransport === transport) this.pendingTransport = undefined;
    }
  }

  private createTransport(onExit: (exit: ChildExit) => void): Transport {
    return createConnectionTransport({
      config: this.config,
      hostEnv: this.deps.hostEnv,
      baseDir: this.deps.baseDir,
      output: this.output,
      authFor: (url) => this.signIn.providerFor(url),
      onExit: (exit) => {
        this.lastExit = { code: exit.code, signal: exit.signal, at: new Date(this.deps.clock.now()).toISOString() };
        onExit(exit);
      },
    });
  }

  private async refreshTools(client: Client): Promise<void> {
    try {
      const tools = await listAllTools(client, this.callMs);
      if (client === this.client) this.setTools(tools);
    } catch (err) {
      this.log('warn', `listing tools after list_changed failed: ${errorText(err)}`);
    }
  }

  private listCatalog(client: Client, timeout: number): Promise<CatalogListing> {
    return listCatalog(client, timeout, (message) => this.log('warn', message));
  }

  private async refreshCatalog(client: Client, kind: 'prompts' | 'resources'): Promise<void> {
    const listed = await this.listCatalog(client, this.callMs);
    if (client !== this.client) return;
    this.catalogState.set(kind === 'prompts' ? { prompts: listed.prompts } : { resources: listed.resources, templates: listed.templates });
  }

  private routeChildMessages(client: Client): void {
    routeChildMessages(client, {
      name: this.name,
      output: this.output,
      logger: this.deps.logger,
      upstream: () => this.deps.upstream?.(),
      isLive: (c) => c === this.client,
      relist: (c, kind) => void this.refreshCatalog(c, kind),
      log: (level, message) => this.log(level, message),
      redact: (text) => this.redact(text),
    });
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
  // Plain functions returning `sendRequest`'s promise (which never throws synchronously): an
  // async wrapper per level cost two promises and ticks per call.
  callTool(tool: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<CallToolResult> {
    return this.request({ method: 'tools/call', params: { name: tool, arguments: args }, schema: callToolResultSchema, label: `'${tool}'` }, options) as Promise<CallToolResult>;
  }

  /**
   * Sends one request to the server: `tools/call`, `prompts/get`, `resources/read`,
   * `completion/complete`, subscriptions, `logging/setLevel`. Every kind has the same rules as
   * a tool call: breaker, bounded wait for a respawn, call timeout, counters, and a re-send
   * after the child died only when `readOnly`.
   */
  request<S extends AnySchema>(req: DownstreamRequest<S>, options: CallOptions = {}): Promise<SchemaOutput<S>> {
    return sendRequest(this.requests, req, options);
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
      if (client.getServerCapabilities()?.tools) this.setTools(await listAllTools(client, this.callMs));
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
    const live = this.liveClient();
    if (live) return Promise.resolve(live);
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    return this.waiters.wait(
      timeoutMs,
      () =>
        new DownstreamError(
          'unavailable',
          `${this.name} is not ready (${this._state}${this.reason ? `: ${this.reason}` : ''}); waited ${timeoutMs / 1000} s.`,
          this.name,
        ),
    );
  }

  /** The client when one is live now (what {@link whenReady} resolves with at once), else undefined. */
  private liveClient(): Client | undefined {
    return this.client && STATES_WITH_CLIENT.has(this._state) ? this.client : undefined;
  }

  /** Why a call cannot even wait, or undefined when waiting makes sense. */
  private refusal(): DownstreamError | undefined {
    return connectionRefusal(this.name, this._state, this.reason, this.terminal);
  }

  private resolveWaiters(client: Client): void {
    this.waiters.resolveAll(client);
  }

  private rejectWaiters(): void {
    const err = this.refusal() ?? new DownstreamError('unavailable', `${this.name} is not available (${this._state}).`, this.name);
    this.waiters.rejectAll(err);
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
    this.catalogState.setLive(this.client !== undefined && STATES_WITH_CLIENT.has(state));
    this.fireChange();
  }

  private fireChange(): void {
    // This view carries the counters too: a pending counters-only publish is redundant.
    this.statsTimer.value = undefined;
    // One publish per burst of changes: a crash is `crashed` then `backoff` in one call, and
    // each publish is a view (redacted), a store revision and every subscriber's work (state
    // file, tree, webview); the superseded one was never seen by anyone. Nothing reads the
    // view synchronously after a change: the pool and the store take it from the event.
    if (this.changeQueued) return;
    this.changeQueued = true;
    queueMicrotask(() => {
      this.changeQueued = false;
      this._onDidChange.fire();
    });
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
    const connected = this.client !== undefined && STATES_WITH_CLIENT.has(this._state);
    const { name, breaker, lastError, reason, pid, restarts, lastExit, startedAt, stats, nextRetryAt } = this;
    const transport = this.config.url ? 'http' : 'stdio';
    const catalogCounts = this.catalogState.counts(connected);
    const facts = { name, state: this._state, connected, breaker, lastError, reason, toolsCount: this._tools.length, catalogCounts, transport } as const;
    return connectionView({ ...facts, pid, restarts, lastExit, startedAt, stats, nextRetryAt }, (text) => this.redact(text));
  }

}
