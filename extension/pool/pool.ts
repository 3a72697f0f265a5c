import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { Disposable, DisposableStore } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { Registry, ServerConfig } from '../config/registrySchema';
import { toolSelected } from '../config/toolGlob';
import type { DownstreamView } from '../protocol/model';
import { DownstreamConnection, type ConnectionDeps } from './connection';
import { DownstreamError } from './downstreamError';
import { SessionBlockerTracker, type SessionBlockerEvent } from './sessionBlocker';
import type { AggregatedTool, CallOptions, DownstreamDirectory, DownstreamRequest, ServerCatalog, UpstreamBridge } from './types';

/** Separator between server and tool in exposed names; split on its first occurrence. */
export const TOOL_SEPARATOR = '__';

/** Splits `server__tool` on the first `__`; undefined when there is no separator. */
export function splitToolName(name: string): { server: string; tool: string } | undefined {
  const at = name.indexOf(TOOL_SEPARATOR);
  if (at <= 0) return undefined;
  return { server: name.slice(0, at), tool: name.slice(at + TOOL_SEPARATOR.length) };
}

export interface PoolDeps extends ConnectionDeps {
  sessionId: string;
}

interface Entry {
  connection: DownstreamConnection;
  subscriptions: DisposableStore;
}

/**
 * All downstream servers of one gateway: aggregates their tools as `server__tool`, routes
 * calls, relays tool-list changes (coalesced), and counts circuit-opens for SESSION_BLOCKER.
 * Supports hot reload: `applyRegistry` restarts only the servers whose entry changed.
 */
export class DownstreamPool extends Disposable implements DownstreamDirectory {
  private readonly entries = new Map<string, Entry>();
  /** Each server's `tools:` selection: a listing filter, so changing it never restarts the child. */
  private readonly selections = new Map<string, ServerConfig['tools']>();
  private order: string[] = [];
  private aggregate: AggregatedTool[] = [];
  private toolsDirty = true;
  private toolsChangeQueued = false;
  private lastToolsKey = '';
  private readonly catalogQueued = new Set<'prompts' | 'resources'>();
  private readonly lastCatalogKey = new Map<'prompts' | 'resources', string>();
  private upstream: UpstreamBridge | undefined;
  readonly sessionBlocker: SessionBlockerTracker;
  private readonly _onDidChangeCatalog = this.register(new Emitter<'prompts' | 'resources'>());
  readonly onDidChangeCatalog: Event<'prompts' | 'resources'> = this._onDidChangeCatalog.event;

  private readonly _onDidChangeTools = this.register(new Emitter<void>());
  readonly onDidChangeTools: Event<void> = this._onDidChangeTools.event;
  private readonly _onDidChangeDownstream = this.register(new Emitter<DownstreamView>());
  /** Fires with the fresh view of a server whenever it may have changed. */
  readonly onDidChangeDownstream: Event<DownstreamView> = this._onDidChangeDownstream.event;
  private readonly _onDidRemoveDownstream = this.register(new Emitter<string>());
  readonly onDidRemoveDownstream: Event<string> = this._onDidRemoveDownstream.event;
  /** SESSION_BLOCKER: a server opened its circuit `threshold` times this session. */
  readonly onDidFireSessionBlocker: Event<SessionBlockerEvent>;

  constructor(
    registry: Registry,
    private readonly deps: PoolDeps,
  ) {
    super();
    this.sessionBlocker = new SessionBlockerTracker(
      deps.sessionId,
      { threshold: deps.tunables.session_blocker.threshold },
      deps.clock,
    );
    this.onDidFireSessionBlocker = this.sessionBlocker.onDidFireSessionBlocker;
    for (const server of registry.servers) this.add(server);
    this.order = registry.servers.map((s) => s.name);
  }

  /** Starts every enabled server in parallel; returns at once (never awaits children). */
  start(): void {
    for (const name of this.order) this.entries.get(name)?.connection.start();
  }

  /** The connection for `name`, if configured. */
  connection(name: string): DownstreamConnection | undefined {
    return this.entries.get(name)?.connection;
  }

  connections(): DownstreamConnection[] {
    return this.order.map((n) => this.entries.get(n)?.connection).filter((c): c is DownstreamConnection => c !== undefined);
  }

  serverNames(): string[] {
    return [...this.order];
  }

  has(server: string): boolean {
    return this.entries.has(server);
  }

  listTools(): AggregatedTool[] {
    if (this.toolsDirty) {
      this.aggregate = this.buildAggregate();
      this.toolsDirty = false;
    }
    return this.aggregate;
  }

  // Not `async`: an async function returning the connection's promise costs two more promises
  // and ticks per call, for nothing. Failures still arrive as rejections.
  callTool(server: string, tool: string, args: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult> {
    const entry = this.entries.get(server);
    if (!entry) {
      return Promise.reject(new DownstreamError('unknown_server', `Unknown server '${server}'. Servers: ${this.order.join(', ') || '(none)'}.`, server));
    }
    return entry.connection.callTool(tool, args, options);
  }

  snapshot(): DownstreamView[] {
    return this.connections().map((c) => this.viewOf(c));
  }

  catalogs(): ServerCatalog[] {
    return this.connections().map((c) => c.catalog());
  }

  async request<S extends AnySchema>(server: string, request: DownstreamRequest<S>, options?: CallOptions): Promise<SchemaOutput<S>> {
    const entry = this.entries.get(server);
    if (!entry) {
      throw new DownstreamError('unknown_server', `Unknown server '${server}'. Servers: ${this.order.join(', ') || '(none)'}.`, server);
    }
    return entry.connection.request(request, options);
  }

  notifyAll(notification: { method: string; params?: Record<string, unknown> }, capability?: keyof ServerCatalog['capabilities']): void {
    for (const connection of this.connections()) {
      if (capability && !connection.catalog().capabilities[capability]) continue;
      connection.notify(notification);
    }
  }

  /** Where children's requests to the client and their notifications go (the gateway). */
  setUpstream(bridge: UpstreamBridge | undefined): void {
    this.upstream = bridge;
  }

  /**
   * Hot reload: servers whose entry is unchanged keep running; changed ones restart; removed
   * ones stop; new ones start.
   */
  async applyRegistry(registry: Registry): Promise<void> {
    const next = new Map(registry.servers.map((s) => [s.name, s]));
    // Decide everything before acting: removals delete from the map synchronously.
    const removed = [...this.entries.keys()].filter((name) => !next.has(name));
    const changed = registry.servers.filter((cfg) => {
      const entry = this.entries.get(cfg.name);
      return entry !== undefined && !sameConfig(entry.connection.config, cfg);
    });
    const reselected = registry.servers.filter((cfg) => this.entries.has(cfg.name) && JSON.stringify(this.selections.get(cfg.name)) !== JSON.stringify(cfg.tools));
    for (const cfg of registry.servers) this.selections.set(cfg.name, cfg.tools);
    const added = registry.servers.filter((cfg) => !this.entries.has(cfg.name));
    this.order = registry.servers.map((s) => s.name);
    const work = [
      ...removed.map((name) => this.remove(name)),
      ...changed.map((cfg) => this.remove(cfg.name).then(() => this.add(cfg).connection.start())),
    ];
    for (const cfg of added) this.add(cfg).connection.start();
    this.markToolsDirty();
    for (const cfg of reselected) {
      const connection = this.entries.get(cfg.name)?.connection;
      if (connection) this._onDidChangeDownstream.fire(this.viewOf(connection));
    }
    await Promise.all(work);
  }

  /** Stops every child in parallel (each escalating to SIGKILL of its process group). */
  async stop(): Promise<void> {
    await Promise.all(this.connections().map((c) => c.stop()));
  }

  override dispose(): void {
    for (const entry of this.entries.values()) {
      entry.subscriptions.dispose();
      entry.connection.dispose();
    }
    this.entries.clear();
    super.dispose();
  }

  private add(config: ServerConfig): Entry {
    this.selections.set(config.name, config.tools);
    const connection = new DownstreamConnection(config, { ...this.deps, upstream: () => this.upstream });
    const subscriptions = new DisposableStore();
    subscriptions.add(connection.onDidChangeCatalog((kind) => this.markCatalogDirty(kind)));
    subscriptions.add(connection.onDidChange(() => this._onDidChangeDownstream.fire(this.viewOf(connection))));
    subscriptions.add(connection.onDidChangeTools(() => this.markToolsDirty()));
    subscriptions.add(
      connection.breaker.onDidChangeState((t) => this.sessionBlocker.recordTransition({ server: t.server, from: t.from, to: t.to })),
    );
    const entry = { connection, subscriptions };
    this.entries.set(config.name, entry);
    return entry;
  }

  private async remove(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    if (!this.order.includes(name)) this.selections.delete(name);
    entry.subscriptions.dispose();
    await entry.connection.stop();
    entry.connection.dispose();
    this._onDidRemoveDownstream.fire(name);
    this.markToolsDirty();
    this.markCatalogDirty('prompts');
    this.markCatalogDirty('resources');
  }

  /** The connection's view plus the pool-level session-blocker fields. */
  private viewOf(connection: DownstreamConnection): DownstreamView {
    const view = connection.view();
    // A name that holds a secret is withheld from the listing by governance; it must not reach
    // the state file, the tree or the language server through this copy either.
    const redact = this.deps.redact;
    view.tool_names = connection.lastListedTools.map((t) => t.name).filter((name) => !redact || redact(name) === name);
    view.tools_hidden = view.tool_names.filter((t) => !this.toolSelected(connection.name, t));
    const blocker = this.sessionBlocker.get(connection.name);
    if (blocker) {
      view.open_transitions = blocker.open_transitions;
      view.session_blocker_emitted = blocker.emitted;
    }
    return view;
  }

  /** Coalesces bursts (several servers becoming ready at once) into one list_changed. */
  private markToolsDirty(): void {
    this.toolsDirty = true;
    if (this.toolsChangeQueued) return;
    this.toolsChangeQueued = true;
    queueMicrotask(() => {
      this.toolsChangeQueued = false;
      const key = toolsKey(this.listTools());
      if (key === this.lastToolsKey) return;
      this.lastToolsKey = key;
      this._onDidChangeTools.fire();
    });
  }

  /** Coalesces catalog changes of one kind into one event, fired only when the aggregate differs. */
  private markCatalogDirty(kind: 'prompts' | 'resources'): void {
    if (this.catalogQueued.has(kind)) return;
    this.catalogQueued.add(kind);
    queueMicrotask(() => {
      this.catalogQueued.delete(kind);
      const catalogs = this.catalogs();
      const key = JSON.stringify(catalogs.map((c) => [c.server, kind === 'prompts' ? c.prompts : [c.resources, c.templates]]));
      if (key === this.lastCatalogKey.get(kind)) return;
      this.lastCatalogKey.set(kind, key);
      this._onDidChangeCatalog.fire(kind);
    });
  }

  /** True when the server's `tools:` selection hides `tool` (its own name). */
  toolHidden(server: string, tool: string): boolean {
    return !this.toolSelected(server, tool);
  }

  private toolSelected(server: string, tool: string): boolean {
    return toolSelected(tool, this.selections.get(server));
  }

  describeTool(name: string): AggregatedTool | undefined {
    const listed = this.listTools().find((t) => t.name === name);
    if (listed) return listed;
    const split = splitToolName(name);
    if (split && this.toolHidden(split.server, split.tool)) return undefined;
    const connection = split && this.entries.get(split.server)?.connection;
    const tool = connection?.lastListedTools.find((t) => t.name === split?.tool);
    return connection && tool ? aggregated(connection.name, tool) : undefined;
  }

  private buildAggregate(): AggregatedTool[] {
    const out: AggregatedTool[] = [];
    for (const connection of this.connections()) {
      if (!connection.contributesTools) continue;
      for (const tool of connection.tools) if (this.toolSelected(connection.name, tool.name)) out.push(aggregated(connection.name, tool));
    }
    return out;
  }
}

function aggregated(server: string, tool: Tool): AggregatedTool {
  return {
    ...tool,
    name: `${server}${TOOL_SEPARATOR}${tool.name}`,
    description: tool.description ?? `${server} → ${tool.name}`,
    inputSchema: tool.inputSchema ?? { type: 'object' },
    server,
    originalName: tool.name,
  };
}

function toolsKey(tools: AggregatedTool[]): string {
  return JSON.stringify(tools.map((t) => [t.name, t.description, t.title, t.inputSchema, t.outputSchema, t.annotations]));
}

/** Same config for the child: `tools:` only filters the listing, so it is left out. */
function sameConfig(a: ServerConfig, b: ServerConfig): boolean {
  return JSON.stringify({ ...a, tools: undefined }) === JSON.stringify({ ...b, tools: undefined });
}
