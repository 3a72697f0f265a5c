// Builders shared by the dashboard tests (webview reducer, host model and session).
import { Emitter } from '../../../extension/common/event';
import type {
  AuditRecordLike,
  DashboardSource,
  DashboardSourceProvider,
  DashboardSources,
  GatewayEntry,
  HaltInfo,
} from '../../../extension/host/panel/dashboardSource';
import type { DownstreamView } from '../../../extension/protocol/model';
import type { AuditEventView, DashboardState, GatewayPicker, GatewayRunState, ServerEntry } from '../../../extension/protocol/webview';
import { StateStore } from '../../../extension/state/store';
import { downstreamView } from '../../helpers/downstreamView';

/** Re-exported: the dashboard tests import their builders from here. */
export const view = downstreamView;

export function entry(name: string, overrides: Partial<DownstreamView> = {}): ServerEntry {
  return { view: view(name, overrides), circuit: [{ at: 1_000, state: 'closed' }], traffic: [] };
}

export function auditEvent(seq: number, overrides: Partial<AuditEventView> = {}): AuditEventView {
  return {
    seq,
    timestamp: '2026-04-20T12:00:00.000Z',
    tool: 'echo',
    server: 'echo',
    status: 'allowed',
    tier: 'read',
    duration_ms: 3,
    error: null,
    ...overrides,
  };
}

/** The picker of a single-folder workspace showing `ws`. */
export function picker(overrides: Partial<GatewayPicker> = {}): GatewayPicker {
  return {
    gateways: [{ id: 'file:///ws', label: 'ws', state: 'running' }],
    shown: 'file:///ws',
    chosen: { id: 'file:///ws', label: 'ws' },
    fallback: null,
    ...overrides,
  };
}

export function state(overrides: Partial<DashboardState> = {}): DashboardState {
  return {
    picker: picker(),
    gateway: { label: 'ws', session_id: 's1', started_at: '2026-04-20T12:00:00.000Z', halted: false, halt_reason: null },
    servers: [entry('echo'), entry('flaky')],
    session_blocks: [],
    audit: [],
    ...overrides,
  };
}

export function record(n: number, overrides: Partial<AuditRecordLike> = {}): AuditRecordLike {
  return {
    timestamp: new Date(1_700_000_000_000 + n).toISOString(),
    tool_name: `tool${n}`,
    server_name: 'echo',
    status: 'allowed',
    tier: 'read',
    duration_ms: n,
    hash: `h${n}`,
    ...overrides,
  };
}

/** A DashboardSource over a real StateStore, with hand-driven audit and HALT. */
export class FakeSource implements DashboardSource {
  readonly store: StateStore;
  readonly audit = new Emitter<readonly AuditRecordLike[]>();
  readonly haltChanged = new Emitter<void>();
  haltInfo: HaltInfo = { halted: false, reason: null };
  tail: AuditRecordLike[] = [];
  /** Resolves recentAudit when set; otherwise it resolves at once with `tail`. */
  tailGate: Promise<void> | undefined;
  readonly calls: string[] = [];
  failWith: string | undefined;

  constructor(
    readonly label = 'ws',
    sessionId = 'session-1',
    startedAt = 1_700_000_000_000,
  ) {
    this.store = new StateStore({ sessionId, startedAt });
  }

  snapshot = () => this.store.snapshot;
  get onDidChange() {
    return this.store.onDidChange;
  }
  recentAudit = async (limit: number) => {
    await this.tailGate;
    return this.tail.slice(-limit);
  };
  onDidAppendAudit = this.audit.event;
  halt = () => this.haltInfo;
  onDidChangeHalt = this.haltChanged.event;
  private act(what: string): Promise<void> {
    this.calls.push(what);
    return this.failWith ? Promise.reject(new Error(this.failWith)) : Promise.resolve();
  }
  respawn = (server: string) => this.act(`respawn ${server}`);
  resetCircuit = (server: string) => this.act(`reset ${server}`);
  showOutput = (server: string) => void this.calls.push(`output ${server}`);
  setEnabled = (server: string, enabled: boolean) => this.act(`enabled ${server} ${enabled}`);
  freeze = (reason: string) => this.act(`freeze ${reason}`);
  unfreeze = () => this.act('unfreeze');
}

/** A provider whose current source the test swaps. */
export class FakeProvider implements DashboardSourceProvider {
  private readonly changed = new Emitter<void>();
  readonly onDidChangeSource = this.changed.event;
  constructor(public current: DashboardSource | undefined) {}
  set(source: DashboardSource | undefined): void {
    this.current = source;
    this.changed.fire();
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** A folder's gateway for {@link FakeSources}: id `file:///<label>`, path `/<label>`. */
export function gatewayEntry(label: string, source: DashboardSource | undefined, state: GatewayRunState = source ? 'running' : 'idle'): GatewayEntry {
  return { id: `file:///${label}`, label, path: `/${label}`, state, source };
}

/** The workspace's gateways, as the test sets them (multi-root: several folders). */
export class FakeSources implements DashboardSources {
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;
  constructor(private entries: GatewayEntry[]) {}
  gateways = (): readonly GatewayEntry[] => this.entries;
  set(entries: GatewayEntry[]): void {
    this.entries = entries;
    this.changed.fire();
  }
  /** Replaces one folder's entry (its state, its source). */
  update(label: string, source: DashboardSource | undefined, state?: GatewayRunState): void {
    this.set(this.entries.map((e) => (e.label === label ? gatewayEntry(label, source, state) : e)));
  }
}
