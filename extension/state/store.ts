import { Disposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { ApprovalsView, ConfigStateView, DownstreamView, GatewaySnapshot, SessionBlockView, TelemetryView } from '../protocol/model';

/** What one change did. `snapshot` is the state right after it, at `revision`. */
export interface StoreChange {
  revision: number;
  snapshot: GatewaySnapshot;
  /** Names of the downstreams inserted, replaced, removed or moved by this change. */
  changed: string[];
  /** True when the session blocks changed. */
  sessionBlocks: boolean;
}

/** Identity of the gateway session the store describes. */
export interface StateStoreOptions {
  sessionId: string;
  /** When the gateway started: ISO string or epoch ms. */
  startedAt: string | number;
}

/**
 * The single source of live state (DESIGN.md §4). It holds one immutable snapshot; every
 * effective change produces a new snapshot whose revision is exactly one higher, and tells
 * every subscriber (tree, status bar, webview, state file, metrics) what changed.
 *
 * Snapshots are frozen and share unchanged entries with their predecessor, so consumers may
 * keep them, compare entries by identity, and post them as-is. A write that changes nothing
 * (structurally equal data) is dropped without a revision bump: the pool can publish freely
 * and the webview's revision-gap check only ever sees real changes.
 */
export class StateStore extends Disposable {
  private current: GatewaySnapshot;
  /** Order set by {@link setOrder} (registry order), name → index. */
  private preferred = new Map<string, number>();
  /** First-insert sequence of each present downstream; replacing keeps it. */
  private readonly inserted = new Map<string, number>();
  private nextSeq = 0;
  private disposed = false;

  private readonly changeEmitter = this.register(new Emitter<StoreChange>());
  /** Changes queued while listeners run, so every subscriber sees revisions in order. */
  private readonly outbox: StoreChange[] = [];
  private delivering = false;

  /** One event per revision, in revision order. Any number of subscribers. */
  readonly onDidChange: Event<StoreChange> = this.changeEmitter.event;

  constructor(options: StateStoreOptions) {
    super();
    const startedAt =
      typeof options.startedAt === 'number' ? new Date(options.startedAt).toISOString() : options.startedAt;
    this.current = Object.freeze({
      revision: 0,
      session_id: options.sessionId,
      started_at: startedAt,
      downstreams: Object.freeze([]) as unknown as DownstreamView[],
      session_blocks: Object.freeze([]) as unknown as SessionBlockView[],
    });
  }

  /** The current snapshot (frozen). */
  get snapshot(): GatewaySnapshot {
    return this.current;
  }

  /** The current view of one downstream, if present. */
  getDownstream(name: string): DownstreamView | undefined {
    return this.current.downstreams.find((d) => d.name === name);
  }

  /**
   * Inserts or replaces the downstream named `view.name`. A replaced entry keeps its place; a
   * new one goes where {@link setOrder} put its name, else after the others. The view is
   * copied, so the caller may keep mutating its own object.
   */
  setDownstream(view: DownstreamView): void {
    if (this.disposed) return;
    const index = this.current.downstreams.findIndex((d) => d.name === view.name);
    if (index >= 0 && jsonEqual(this.current.downstreams[index], view)) return;
    const frozen = freezeCopy(view);
    let downstreams: DownstreamView[];
    if (index >= 0) {
      downstreams = [...this.current.downstreams];
      downstreams[index] = frozen;
    } else {
      this.inserted.set(view.name, this.nextSeq++);
      downstreams = this.sorted([...this.current.downstreams, frozen]);
    }
    this.commit({ downstreams }, [view.name], false);
  }

  /** Removes a downstream (server removed from the registry). Unknown names are ignored. */
  removeDownstream(name: string): void {
    if (this.disposed) return;
    if (!this.current.downstreams.some((d) => d.name === name)) return;
    this.inserted.delete(name);
    this.commit({ downstreams: this.current.downstreams.filter((d) => d.name !== name) }, [name], false);
  }

  /**
   * Sets the display order (the registry's). Listed names come first in that order, including
   * names inserted later; unlisted downstreams follow in first-insert order. `changed` lists
   * the downstreams whose position moved.
   */
  setOrder(names: readonly string[]): void {
    if (this.disposed) return;
    this.preferred = new Map();
    for (const name of names) if (!this.preferred.has(name)) this.preferred.set(name, this.preferred.size);
    const before = this.current.downstreams;
    const after = this.sorted([...before]);
    const moved = after.filter((d, i) => before[i] !== d).map((d) => d.name);
    if (moved.length === 0) return;
    this.commit({ downstreams: after }, moved, false);
  }

  /** Replaces the config state (policy source, problem counts). */
  setConfig(config: ConfigStateView): void {
    if (this.disposed || jsonEqual(this.current.config, config)) return;
    this.commit({ config: freezeCopy(config) }, [], false);
  }

  /** Replaces the OpenTelemetry export counts (the exporter reports them coalesced). */
  setTelemetry(telemetry: TelemetryView): void {
    if (this.disposed || jsonEqual(this.current.telemetry, telemetry)) return;
    this.commit({ telemetry: freezeCopy(telemetry) }, [], false);
  }

  /** Replaces the approvals view (calls waiting for a person, recent decisions). */
  setApprovals(approvals: ApprovalsView): void {
    if (this.disposed || jsonEqual(this.current.approvals, approvals)) return;
    this.commit({ approvals: freezeCopy(approvals) }, [], false);
  }

  /** Adds (or replaces, by server) a fired session block. */
  addSessionBlock(block: SessionBlockView): void {
    if (this.disposed) return;
    const blocks = this.current.session_blocks;
    const index = blocks.findIndex((b) => b.server === block.server);
    if (index >= 0 && jsonEqual(blocks[index], block)) return;
    const frozen = freezeCopy(block);
    const next = index >= 0 ? blocks.map((b, i) => (i === index ? frozen : b)) : [...blocks, frozen];
    this.commit({ session_blocks: next }, [], true);
  }

  /** Removes the session block of `server` (its circuit closed, or the operator acted). */
  clearSessionBlock(server: string): void {
    if (this.disposed) return;
    const blocks = this.current.session_blocks;
    if (!blocks.some((b) => b.server === server)) return;
    this.commit({ session_blocks: blocks.filter((b) => b.server !== server) }, [], true);
  }

  override dispose(): void {
    this.disposed = true;
    this.outbox.length = 0;
    super.dispose();
  }

  private sorted(list: DownstreamView[]): DownstreamView[] {
    const rank = (d: DownstreamView): number => this.preferred.get(d.name) ?? Number.POSITIVE_INFINITY;
    const seq = (d: DownstreamView): number => this.inserted.get(d.name) ?? 0;
    return list.sort((a, b) => rank(a) - rank(b) || seq(a) - seq(b));
  }

  private commit(
    patch: Partial<Pick<GatewaySnapshot, 'downstreams' | 'session_blocks' | 'config' | 'telemetry' | 'approvals'>>,
    changed: string[],
    sessionBlocks: boolean,
  ): void {
    const prev = this.current;
    const snapshot: GatewaySnapshot = Object.freeze({
      revision: prev.revision + 1,
      session_id: prev.session_id,
      started_at: prev.started_at,
      downstreams: patch.downstreams ? Object.freeze(patch.downstreams) : prev.downstreams,
      session_blocks: patch.session_blocks ? Object.freeze(patch.session_blocks) : prev.session_blocks,
      ...((patch.config ?? prev.config) ? { config: patch.config ?? prev.config } : {}),
      ...((patch.telemetry ?? prev.telemetry) ? { telemetry: patch.telemetry ?? prev.telemetry } : {}),
      ...((patch.approvals ?? prev.approvals) ? { approvals: patch.approvals ?? prev.approvals } : {}),
    }) as GatewaySnapshot;
    this.current = snapshot;
    this.outbox.push({ revision: snapshot.revision, snapshot, changed, sessionBlocks });
    if (this.delivering) return;
    // A listener may change the store again; its change is delivered after the current one
    // reached every listener, never in the middle (which would reorder revisions).
    this.delivering = true;
    try {
      for (let next = this.outbox.shift(); next; next = this.outbox.shift()) this.changeEmitter.fire(next);
    } finally {
      this.delivering = false;
    }
  }
}

/** Deep copy of plain JSON data, frozen at every level. */
function freezeCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Object.freeze(value.map((v: unknown) => freezeCopy(v))) as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = freezeCopy(v);
  return Object.freeze(out) as T;
}

/** Structural equality of plain JSON data (key order does not matter; undefined = absent). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    // NaN is not JSON, but a NaN latency must not look like a change on every publish.
    return Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) if (!jsonEqual(ra[key], rb[key])) return false;
  return true;
}
