import type { Event } from '../../common/event';
import type { AuditRecord } from '../../gateway/audit/auditRecord';
import type { GatewaySnapshot } from '../../protocol/model';
import type { GatewayRunState } from '../../protocol/webview';

/** One change of the live state. `StateStore`'s `StoreChange` fits as it is. */
export interface SourceChange {
  snapshot: GatewaySnapshot;
  /** Names of the downstreams inserted, replaced, removed or moved. */
  changed: readonly string[];
  /** True when the session blocks changed. */
  sessionBlocks: boolean;
}

/** The audit fields the dashboard lists. `AuditRecord` fits as it is. */
export type AuditRecordLike = Pick<AuditRecord, 'timestamp' | 'tool_name' | 'server_name' | 'status' | 'tier' | 'duration_ms'> &
  Partial<Pick<AuditRecord, 'error' | 'hash'>>;

/** The kill switch as the dashboard shows it. */
export interface HaltInfo {
  /** True while HALT is present, or could not be probed (calls are denied then too). */
  halted: boolean;
  /** Redacted reason; null when none. */
  reason: string | null;
}

/**
 * What the dashboard needs from one running gateway: its live state, its audit trail, the
 * kill switch, and the actions its buttons trigger. The host builds one per GatewayService
 * (see `gatewayServiceSource`); tests pass fakes. Events are in VS Code's shape, so a
 * `vscode.Event` or the core's `Event` both fit.
 */
export interface DashboardSource {
  /** Shown in the header: the workspace folder's name. */
  readonly label: string;
  /** The live state now (the store's current snapshot). */
  snapshot(): GatewaySnapshot;
  /** One event per revision of the live state, in order. */
  readonly onDidChange: Event<SourceChange>;
  /** The last `limit` audit records, oldest first (the tail of audit.jsonl). */
  recentAudit(limit: number): Promise<readonly AuditRecordLike[]>;
  /** Records just written, oldest first. */
  readonly onDidAppendAudit: Event<readonly AuditRecordLike[]>;
  halt(): HaltInfo;
  /** Fires when the kill switch may have changed (over-firing is fine: the model compares). */
  readonly onDidChangeHalt: Event<void>;
  /** Manual respawn: forgets the crash history, kills any live child, connects again. */
  respawn(server: string): Promise<void>;
  /** Closes the server's circuit now. */
  resetCircuit(server: string): Promise<void> | void;
  /** Reveals the server's output channel. */
  showOutput(server: string): void;
  /** Writes `enabled` for the server in registry.yaml (the hot reload applies it). */
  setEnabled(server: string, enabled: boolean): Promise<void>;
  /** Engages the kill switch with a reason (audited). */
  freeze(reason: string): Promise<void>;
  /** Releases the kill switch (audited). */
  unfreeze(): Promise<void>;
}

/**
 * Which gateway the dashboard shows. `current` must return the same object for as long as the
 * same gateway runs; `onDidChangeSource` may over-fire (the model compares identities).
 */
export interface DashboardSourceProvider {
  readonly current: DashboardSource | undefined;
  readonly onDidChangeSource: Event<void>;
}

/** One workspace folder's gateway, whether or not it runs. */
export interface GatewayEntry {
  /** Stable while the folder is in the workspace (its URI). */
  id: string;
  /** The folder's name. */
  label: string;
  /** The folder's path: the command's folder argument may name it. */
  path: string;
  state: GatewayRunState;
  /** Present while its service runs; the same object for as long as the same service runs. */
  source: DashboardSource | undefined;
}

/**
 * Every gateway of the workspace (multi-root: one per folder with a config), in folder order.
 * `onDidChange` may over-fire (consumers compare).
 */
export interface DashboardSources {
  gateways(): readonly GatewayEntry[];
  readonly onDidChange: Event<void>;
}
