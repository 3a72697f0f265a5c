import { systemClock, type Clock } from '../../common/clock';
import { Disposable, DisposableStore, MutableDisposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import { nullLogger, type Logger } from '../../common/logger';
import type { DownstreamView, SessionBlockView } from '../../protocol/model';
import {
  AUDIT_EVENTS_KEPT,
  type AuditEventView,
  type DashboardState,
  type GatewayInfo,
  type ServerEntry,
} from '../../protocol/webview';
import type { AuditRecordLike, DashboardSource, DashboardSourceProvider, SourceChange } from './dashboardSource';
import { SessionHistory } from './sessionHistory';

/** What one revision of the model changed. Consumers turn a run of these into one patch. */
export interface ModelChange {
  revision: number;
  /** Everything may have changed (another gateway, the audit history loaded): send a snapshot. */
  reset: boolean;
  /** Servers inserted or replaced. */
  servers: readonly string[];
  removed: readonly string[];
  /** The order of servers changed. */
  order: boolean;
  sessionBlocks: boolean;
  gateway: boolean;
  /** Audit events appended, oldest first. */
  audit: readonly AuditEventView[];
}

/** One gateway's part of the dashboard state (the panel adds the picker). */
export type GatewayDashboardState = Omit<DashboardState, 'picker'>;

export interface DashboardModelOptions {
  clock?: Clock;
  logger?: Logger;
}

/**
 * The dashboard's data on the host, for the gateway the provider names (one workspace folder's;
 * {@link DashboardModels} keeps one per folder): servers with
 * their session history, session blocks, the kill switch and the last 50 audit events, at a
 * revision that grows by one per change. It exists from registration on (not only while a
 * panel is open), so the circuit timeline and the sparklines cover the whole session.
 */
export class DashboardModel extends Disposable {
  private _revision = 0;
  private source: DashboardSource | undefined;
  private history = new SessionHistory(0);
  private sessionId: string | undefined;
  private servers = new Map<string, ServerEntry>();
  private order: string[] = [];
  private blocks: SessionBlockView[] = [];
  private gateway: GatewayInfo | null = null;
  private audit: AuditEventView[] = [];
  private auditSeq = 0;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly binding = this.register(new MutableDisposable<DisposableStore>());

  private readonly _onDidChange = this.register(new Emitter<ModelChange>());
  readonly onDidChange: Event<ModelChange> = this._onDidChange.event;

  constructor(
    private readonly provider: DashboardSourceProvider,
    options: DashboardModelOptions = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? nullLogger;
    this.register(provider.onDidChangeSource(() => this.follow()));
    this.follow();
  }

  get revision(): number {
    return this._revision;
  }

  /** The gateway shown now (the actions' target). */
  get current(): DashboardSource | undefined {
    return this.source;
  }

  /** The whole state at {@link revision} (fresh arrays: safe to post). */
  state(): GatewayDashboardState {
    return {
      gateway: this.gateway,
      servers: this.order.map((n) => this.servers.get(n)).filter((e): e is ServerEntry => e !== undefined),
      session_blocks: this.blocks,
      audit: this.audit.slice(),
    };
  }

  entry(name: string): ServerEntry | undefined {
    return this.servers.get(name);
  }

  serverOrder(): string[] {
    return this.order.slice();
  }

  gatewayInfo(): GatewayInfo | null {
    return this.gateway;
  }

  sessionBlocks(): SessionBlockView[] {
    return this.blocks;
  }

  /** Binds to the provider's current source when it is another gateway. */
  private follow(): void {
    const next = this.provider.current;
    if (next === this.source) return;
    const store = new DisposableStore();
    this.binding.value = store;
    this.source = next;
    if (!next) {
      this.sessionId = undefined;
      this.servers = new Map();
      this.order = [];
      this.blocks = [];
      this.gateway = null;
      this.audit = [];
      this.fire({ reset: true });
      return;
    }
    const snapshot = next.snapshot();
    // Another object for the same session (the host rebuilt its adapter): keep the history.
    if (snapshot.session_id !== this.sessionId) {
      this.history = new SessionHistory(Date.parse(snapshot.started_at) || this.clock.now());
      this.audit = [];
    }
    this.sessionId = snapshot.session_id;
    this.servers = new Map();
    const now = this.clock.now();
    for (const view of snapshot.downstreams) this.servers.set(view.name, this.observe(view, now));
    this.order = snapshot.downstreams.map((d) => d.name);
    this.blocks = snapshot.session_blocks;
    this.gateway = this.gatewayFrom(next);

    store.add(next.onDidChange((change) => this.onSourceChange(next, change)));
    store.add(next.onDidChangeHalt(() => this.onHalt(next)));
    // Subscribe before reading the tail so nothing written meanwhile is missed; the hash
    // drops what both delivered.
    const early: AuditRecordLike[] = [];
    let loaded = false;
    store.add(
      next.onDidAppendAudit((records) => {
        if (this.source !== next) return;
        if (!loaded) early.push(...records);
        else this.appendAudit(records);
      }),
    );
    this.fire({ reset: true });
    next.recentAudit(AUDIT_EVENTS_KEPT).then(
      (records) => {
        if (this.source !== next || store.isDisposed) return;
        loaded = true;
        const seen = new Set(records.map((r) => r.hash).filter(Boolean));
        const merged = [...records, ...early.filter((r) => !r.hash || !seen.has(r.hash))];
        this.audit = merged.slice(-AUDIT_EVENTS_KEPT).map((r) => this.auditView(r));
        this.fire({ reset: true });
      },
      (err: unknown) => {
        loaded = true;
        this.logger.warn(`dashboard: could not read recent audit records: ${err instanceof Error ? err.message : String(err)}`);
        if (early.length) this.appendAudit(early);
      },
    );
  }

  private onSourceChange(source: DashboardSource, change: SourceChange): void {
    if (this.source !== source) return;
    const now = this.clock.now();
    const upserted: string[] = [];
    const removed: string[] = [];
    for (const name of change.changed) {
      const view = change.snapshot.downstreams.find((d) => d.name === name);
      if (view) {
        this.servers.set(name, this.observe(view, now));
        upserted.push(name);
      } else if (this.servers.delete(name)) {
        this.history.remove(name);
        removed.push(name);
      }
    }
    // The export counts ride on the gateway line; they change on their own (coalesced) revisions.
    if (change.changed.length === 0 && !change.sessionBlocks && this.gateway && change.snapshot.telemetry !== (this.gateway.telemetry ?? undefined)) this.onHalt(source);
    const order = change.snapshot.downstreams.map((d) => d.name);
    const orderChanged = order.length !== this.order.length || order.some((n, i) => n !== this.order[i]);
    this.order = order;
    if (change.sessionBlocks) this.blocks = change.snapshot.session_blocks;
    // The store replaces the approvals object only when they changed: identity says it.
    const approvals = this.gateway !== null && change.snapshot.approvals !== this.gateway.approvals;
    if (approvals) this.gateway = this.gatewayFrom(source);
    if (!upserted.length && !removed.length && !orderChanged && !change.sessionBlocks && !approvals) return;
    this.fire({ servers: upserted, removed, order: orderChanged, sessionBlocks: change.sessionBlocks, gateway: approvals });
  }

  private onHalt(source: DashboardSource): void {
    if (this.source !== source) return;
    const next = this.gatewayFrom(source);
    const prev = this.gateway;
    if (prev && prev.halted === next.halted && prev.halt_reason === next.halt_reason && prev.label === next.label && sameTelemetry(prev, next)) return;
    this.gateway = next;
    this.fire({ gateway: true });
  }

  private appendAudit(records: readonly AuditRecordLike[]): void {
    if (!records.length) return;
    const views = records.map((r) => this.auditView(r));
    this.audit = [...this.audit, ...views].slice(-AUDIT_EVENTS_KEPT);
    this.fire({ audit: views.slice(-AUDIT_EVENTS_KEPT) });
  }

  private observe(view: DownstreamView, now: number): ServerEntry {
    this.history.observe(view, now);
    return { view, circuit: this.history.circuit(view.name), traffic: this.history.traffic(view.name, now) };
  }

  private gatewayFrom(source: DashboardSource): GatewayInfo {
    const snapshot = source.snapshot();
    const halt = source.halt();
    return {
      label: source.label,
      session_id: snapshot.session_id,
      started_at: snapshot.started_at,
      halted: halt.halted,
      halt_reason: halt.halted ? halt.reason : null,
      telemetry: snapshot.telemetry ?? null,
      ...(snapshot.approvals ? { approvals: snapshot.approvals } : {}),
    };
  }

  private auditView(r: AuditRecordLike): AuditEventView {
    return {
      seq: ++this.auditSeq,
      timestamp: r.timestamp,
      tool: r.tool_name,
      server: r.server_name,
      status: r.status,
      tier: r.tier,
      duration_ms: r.duration_ms,
      error: r.error ?? null,
    };
  }

  private fire(partial: Partial<Omit<ModelChange, 'revision'>>): void {
    this._onDidChange.fire(modelChange(++this._revision, partial));
  }
}

/** A change at `revision` that says only what `partial` says (nothing else changed). */
export function modelChange(revision: number, partial: Partial<Omit<ModelChange, 'revision'>>): ModelChange {
  return {
    revision,
    reset: partial.reset ?? false,
    servers: partial.servers ?? [],
    removed: partial.removed ?? [],
    order: partial.order ?? false,
    sessionBlocks: partial.sessionBlocks ?? false,
    gateway: partial.gateway ?? false,
    audit: partial.audit ?? [],
  };
}

function sameTelemetry(a: GatewayInfo, b: GatewayInfo): boolean {
  return JSON.stringify(a.telemetry ?? null) === JSON.stringify(b.telemetry ?? null);
}
