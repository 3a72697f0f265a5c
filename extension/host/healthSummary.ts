import type { DownstreamState, DownstreamView, GatewaySnapshot } from '../protocol/model';

/** How loud the UI should be: drives the status-bar background and the tree's icons. */
export type Severity = 'ok' | 'warning' | 'error';

/** The plain facts about one gateway the summary needs (no vscode types: easy to reason about). */
export interface GatewayFacts {
  name: string;
  state: 'idle' | 'starting' | 'running' | 'stopping' | 'failed';
  snapshot: GatewaySnapshot | undefined;
  /** The config on disk has errors (the last good one may still be running). */
  configBroken: boolean;
  halted: boolean;
  /** Why the gateway failed to start, when it did. */
  error?: string;
}

export interface HealthSummary {
  /** Servers up (ready or degraded). */
  up: number;
  /** Servers that should be up (every server not disabled in the registry). */
  total: number;
  severity: Severity;
  /** One short line per problem, most severe first. */
  problems: string[];
  starting: boolean;
  /** Calls waiting for a person's approval, over every gateway. */
  approvalsWaiting: number;
}

/** States in which a server answers calls. */
const UP: ReadonlySet<DownstreamState> = new Set(['ready', 'degraded']);

/**
 * Severity of one server. Warning: it answers but not cleanly (degraded, circuit not closed)
 * or is on its way back (crashed, backoff). Error: it will not come back by itself (gave up,
 * blocked by fingerprint drift) or its session blocker fired.
 */
export function serverSeverity(view: DownstreamView): Severity {
  if (view.session_blocker_emitted || view.state === 'gave_up' || view.state === 'blocked') return 'error';
  if (view.state === 'degraded' || view.state === 'crashed' || view.state === 'backoff' || view.state === 'needs_auth' || view.circuit_state !== 'closed') return 'warning';
  return 'ok';
}

const rank: Record<Severity, number> = { ok: 0, warning: 1, error: 2 };

export function worst(a: Severity, b: Severity): Severity {
  return rank[a] >= rank[b] ? a : b;
}

/** Folds every gateway into the numbers and severity the status bar shows. */
export function summarizeHealth(gateways: readonly GatewayFacts[]): HealthSummary {
  let up = 0;
  let total = 0;
  let severity: Severity = 'ok';
  let starting = false;
  let approvalsWaiting = 0;
  const errors: string[] = [];
  const warnings: string[] = [];
  const multi = gateways.length > 1;
  for (const g of gateways) {
    const where = multi ? ` (${g.name})` : '';
    if (g.state === 'starting') starting = true;
    if (g.state === 'failed') errors.push(`gateway failed to start${where}: ${g.error ?? 'unknown error'}`);
    if (g.halted) errors.push(`HALT is on${where}: every tool call is refused`);
    if (g.configBroken) errors.push(`config has errors${where}${g.snapshot ? ' (the last good config keeps running)' : ''}`);
    for (const d of g.snapshot?.downstreams ?? []) {
      if (d.state === 'disabled') continue;
      total++;
      if (UP.has(d.state)) up++;
      const s = serverSeverity(d);
      if (s === 'error') errors.push(`${d.name}${where}: ${d.session_blocker_emitted ? 'session blocker fired' : d.state.replace('_', ' ')}`);
      else if (s === 'warning') warnings.push(`${d.name}${where}: ${d.state}${d.circuit_state !== 'closed' ? `, circuit ${d.circuit_state}` : ''}`);
    }
    const waiting = g.snapshot?.approvals?.waiting.length ?? 0;
    approvalsWaiting += waiting;
    if (waiting) warnings.unshift(`${waiting} call${waiting === 1 ? '' : 's'} waiting for your approval${where}`);
    for (const b of g.snapshot?.session_blocks ?? []) {
      if (!errors.some((e) => e.startsWith(`${b.server}${where}:`))) errors.push(`${b.server}${where}: session blocker fired`);
    }
  }
  if (warnings.length) severity = 'warning';
  if (errors.length) severity = 'error';
  return { up, total, severity, problems: [...errors, ...warnings], starting, approvalsWaiting };
}
