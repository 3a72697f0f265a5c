import { AUDIT_EVENTS_KEPT, type DashboardPatch, type DashboardState, type ServerEntry } from '../extension/protocol/webview';

/**
 * Applies a patch to a state, returning a new state (the input is not modified). Entries are
 * whole, so applying the same patch twice gives the same result.
 */
export function applyPatch(state: DashboardState, patch: DashboardPatch): DashboardState {
  let servers = state.servers;
  if (patch.servers || patch.removed || patch.order) {
    const byName = new Map<string, ServerEntry>(servers.map((s) => [s.view.name, s]));
    for (const name of patch.removed ?? []) byName.delete(name);
    const upserted: string[] = [];
    for (const entry of patch.servers ?? []) {
      if (!byName.has(entry.view.name)) upserted.push(entry.view.name);
      byName.set(entry.view.name, entry);
    }
    // Without an explicit order: keep the current one, new names last. Names the order does
    // not mention are kept after it, so a partial order never drops a server.
    const order = patch.order ?? [...servers.map((s) => s.view.name), ...upserted];
    const seen = new Set<string>();
    const next: ServerEntry[] = [];
    for (const name of [...order, ...byName.keys()]) {
      const entry = byName.get(name);
      if (!entry || seen.has(name)) continue;
      seen.add(name);
      next.push(entry);
    }
    servers = next;
  }
  let audit = state.audit;
  if (patch.audit?.length) {
    // seq is increasing: an event the state already has (a patch applied twice) is skipped.
    const last = audit.length ? audit[audit.length - 1].seq : -Infinity;
    const fresh = patch.audit.filter((e) => e.seq > last);
    audit = [...audit, ...fresh].slice(-AUDIT_EVENTS_KEPT);
  }
  return {
    picker: patch.picker ?? state.picker,
    gateway: patch.gateway !== undefined ? patch.gateway : state.gateway,
    servers,
    session_blocks: patch.session_blocks ?? state.session_blocks,
    audit,
  };
}
