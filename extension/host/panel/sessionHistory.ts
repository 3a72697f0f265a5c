import type { CircuitState, DownstreamView } from '../../protocol/model';
import { TRAFFIC_BUCKET_MS, TRAFFIC_WINDOW_MS, type CircuitTransition, type TrafficBucket } from '../../protocol/webview';

/** Transitions kept per server: a flapping server must not grow the history without bound. */
export const MAX_TRANSITIONS = 500;

interface ServerHistory {
  circuit: CircuitTransition[];
  traffic: TrafficBucket[];
  /** Counters at the last observation, to turn cumulative counts into per-bucket deltas. */
  calls: number;
  errors: number;
}

/**
 * What the dashboard shows over time, kept on the host for the whole gateway session: circuit
 * transitions per server and per-10 s call/error counts for the last 10 minutes. It lives on
 * the host, not in the webview, because a hidden or closed webview is torn down: a timeline
 * built there would start over every time the panel is shown.
 */
export class SessionHistory {
  private readonly servers = new Map<string, ServerHistory>();

  /** @param sessionStart epoch ms the gateway started: every circuit starts closed there. */
  constructor(private readonly sessionStart: number) {}

  /** Records the view of one server at `now` (epoch ms). Call on every change of the server. */
  observe(view: DownstreamView, now: number): void {
    let h = this.servers.get(view.name);
    if (!h) {
      // Circuits start closed when the gateway starts (the breaker's initial state); a server
      // first seen in another state (a hot-reloaded entry, a late attach) starts there, now.
      const start: CircuitTransition = { at: Math.min(this.sessionStart, now), state: 'closed' };
      // Counts the server already has happened at unknown times: they become the baseline,
      // not a spike in the current bucket.
      h = { circuit: [start], traffic: [], calls: view.calls, errors: view.errors };
      this.servers.set(view.name, h);
    } else {
      let calls = view.calls - h.calls;
      let errors = view.errors - h.errors;
      // Counters go back to zero when the entry is replaced (hot reload): count from zero.
      if (calls < 0 || errors < 0) {
        calls = view.calls;
        errors = view.errors;
      }
      h.calls = view.calls;
      h.errors = view.errors;
      if (calls > 0 || errors > 0) this.add(h, now, calls, errors);
    }
    this.transition(h, view.circuit_state, now);
    this.prune(h, now);
  }

  /** Forgets a server (removed from the registry). */
  remove(name: string): void {
    this.servers.delete(name);
  }

  /** Copies of one server's history (safe to post and keep). */
  circuit(name: string): CircuitTransition[] {
    return (this.servers.get(name)?.circuit ?? []).map((t) => ({ ...t }));
  }

  traffic(name: string, now: number): TrafficBucket[] {
    const h = this.servers.get(name);
    if (!h) return [];
    this.prune(h, now);
    return h.traffic.map((b) => ({ ...b }));
  }

  private transition(h: ServerHistory, state: CircuitState, now: number): void {
    if (h.circuit[h.circuit.length - 1]?.state === state) return;
    h.circuit.push({ at: now, state });
    if (h.circuit.length > MAX_TRANSITIONS) h.circuit.splice(0, h.circuit.length - MAX_TRANSITIONS);
  }

  private add(h: ServerHistory, now: number, calls: number, errors: number): void {
    const at = Math.floor(now / TRAFFIC_BUCKET_MS) * TRAFFIC_BUCKET_MS;
    const last = h.traffic[h.traffic.length - 1];
    if (last && last.at === at) {
      last.calls += calls;
      last.errors += errors;
    } else {
      h.traffic.push({ at, calls, errors });
    }
  }

  private prune(h: ServerHistory, now: number): void {
    const oldest = now - TRAFFIC_WINDOW_MS;
    let drop = 0;
    while (drop < h.traffic.length && h.traffic[drop].at + TRAFFIC_BUCKET_MS <= oldest) drop++;
    if (drop) h.traffic.splice(0, drop);
  }
}
