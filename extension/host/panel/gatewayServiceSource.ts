import type { Event } from '../../common/event';
import type { GatewayService } from '../../gateway/gatewayService';
import type { HaltState } from '../../gateway/halt';
import type { DashboardSource, HaltInfo } from './dashboardSource';
import { readAuditTail } from './readAuditTail';

/** What the host adds to a GatewayService to make a dashboard source. */
export interface GatewayServiceSourceOptions {
  /** The workspace folder's name. */
  label: string;
  /** The kill switch as last probed (the host watches the HALT file). */
  halt: () => HaltState;
  /** Fires when `halt()` may have changed. */
  onDidChangeHalt: Event<void>;
  showOutput: (server: string) => void;
  /** Writes `enabled` into registry.yaml (the watcher's hot reload then applies it). */
  setEnabled: (server: string, enabled: boolean) => Promise<void>;
}

/**
 * Adapts one running GatewayService to the dashboard: live state from its store, audit records
 * from its log (tail of audit.jsonl + appends), respawn/reset through its pool, freeze/unfreeze
 * through its audited kill switch. Build one per service and keep it while the service runs.
 */
export function gatewayServiceSource(service: GatewayService, options: GatewayServiceSourceOptions): DashboardSource {
  const connection = (server: string) => {
    const c = service.pool.connection(server);
    if (!c) throw new Error(`no server '${server}' in this gateway`);
    return c;
  };
  return {
    label: options.label,
    snapshot: () => service.store.snapshot,
    onDidChange: service.store.onDidChange,
    recentAudit: async (limit) => {
      // Records still queued in the writer would otherwise show up twice (tail + append event).
      await service.governance.audit.flush();
      return readAuditTail(service.governance.audit.file, limit);
    },
    onDidAppendAudit: service.governance.audit.onDidAppend,
    halt: () => haltInfo(options.halt(), service.redact),
    onDidChangeHalt: options.onDidChangeHalt,
    respawn: (server) => connection(server).respawn(),
    resetCircuit: (server) => connection(server).resetCircuit(),
    showOutput: options.showOutput,
    setEnabled: options.setEnabled,
    freeze: async (reason) => {
      await service.freeze(reason);
    },
    unfreeze: async () => {
      await service.unfreeze();
    },
  };
}

function haltInfo(state: HaltState, redact: (text: string) => string): HaltInfo {
  switch (state.decision) {
    case 'absent':
      return { halted: false, reason: null };
    case 'present':
      return { halted: true, reason: state.reason ? redact(state.reason) : null };
    case 'unknown':
      // The gateway fails closed when it cannot probe HALT: show it as halted, with why.
      return { halted: true, reason: redact(`HALT could not be checked (${state.code}): ${state.message}`) };
    default:
      return assertNever(state);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected halt state: ${JSON.stringify(value)}`);
}
