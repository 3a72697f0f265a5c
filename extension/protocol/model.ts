/**
 * Plain-JSON views of the gateway's live state. Shared by the state file, the CLI, the
 * extension host's tree/status bar and the webview, so: no classes, no Dates (ISO strings or
 * epoch ms), no Node or vscode types. Field names follow rea's `serve.state.json` where rea
 * has the field, so rea's own `status` can read what we write.
 */

/**
 * The explicit lifecycle of one downstream (DESIGN.md §3). The state, not a pair of booleans,
 * drives the UI; rea's `connected`/`healthy` are derived from it.
 */
export type DownstreamState =
  | 'disabled' // enabled: false in the registry, never spawned
  | 'blocked' // fingerprint drift: held until the operator accepts the change
  | 'starting' // spawning / initialize / first tools/list under way
  | 'ready' // connected and answering
  | 'degraded' // connected, but recent calls fail or the circuit is not closed
  | 'crashed' // transport died or could not start; a respawn is about to be scheduled
  | 'backoff' // waiting for the next respawn attempt (see next_retry_at)
  | 'gave_up' // too many crashes in the window; only Respawn or a config change clears it
  | 'needs_auth' // a remote server answered 401: waits for a sign-in (no retries, no breaker failure)
  | 'stopped'; // shut down by us

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Every {@link DownstreamState}: what a state file or a webview message is checked against. */
export const DOWNSTREAM_STATES = [
  'disabled',
  'blocked',
  'starting',
  'ready',
  'degraded',
  'crashed',
  'backoff',
  'gave_up',
  'needs_auth',
  'stopped',
] as const satisfies readonly DownstreamState[];
// A state added to the type but not to the list fails to compile here.
const _everyState: Exclude<DownstreamState, (typeof DOWNSTREAM_STATES)[number]> extends never ? true : never = true;
void _everyState;

export const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const satisfies readonly CircuitState[];

/** How a child process last ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** ISO time of the exit. */
  at: string;
}

/** One downstream server as every consumer sees it. */
export interface DownstreamView {
  // --- rea's serve.state.json fields (same names and meaning) ---
  name: string;
  connected: boolean;
  healthy: boolean;
  circuit_state: CircuitState;
  /** ISO time the circuit leaves `open`; null unless open. */
  retry_at: string | null;
  /** Redacted, bounded text of the last failure. */
  last_error: string | null;
  /** Tools advertised by the last successful listing while connected; null otherwise. */
  tools_count: number | null;
  open_transitions: number;
  /** Prompts of the last listing while connected; null when down or without the capability. */
  prompts_count?: number | null;
  /** Resources (not templates) of the last listing while connected; null when down or without the capability. */
  resources_count?: number | null;
  session_blocker_emitted: boolean;
  // --- Gatehouse additions ---
  state: DownstreamState;
  /** One human line explaining the state (e.g. "missing env: API_TOKEN"), redacted. */
  reason: string | null;
  transport: 'stdio' | 'http';
  pid: number | null;
  /** Respawns performed this gateway session. */
  restarts: number;
  last_exit: ExitInfo | null;
  /** ISO time the current connection became ready. */
  started_at: string | null;
  calls: number;
  errors: number;
  latency_ms: { p50: number | null; p95: number | null };
  in_flight: number;
  /** ISO time of the next respawn attempt while in `backoff`. */
  next_retry_at: string | null;
  /** The server's own tool names from its last listing (kept while it is down), hidden ones included. */
  tool_names?: string[];
  /** Those of `tool_names` that registry `tools:` hides from clients. */
  tools_hidden?: string[];
}

/** A SESSION_BLOCKER that fired in this gateway session. */
export interface SessionBlockView {
  server: string;
  open_transitions: number;
  threshold: number;
  /** ISO time it fired. */
  emitted_at: string;
  message: string;
}

/** The whole live state at one revision. */
export interface GatewaySnapshot {
  /** Monotonically increasing; every change bumps it by one. */
  revision: number;
  session_id: string;
  /** ISO time the gateway started. */
  started_at: string;
  downstreams: DownstreamView[];
  session_blocks: SessionBlockView[];
  /** The config in force and what is wrong with the files; absent before the first load. */
  config?: ConfigStateView;
  /** OpenTelemetry export counts; absent while export is off. */
  telemetry?: TelemetryView;
  /** Calls waiting for a person (policy `approval:`) and recent decisions; absent until one happens. */
  approvals?: ApprovalsView;
}

/** What the OpenTelemetry export sent and lost, per signal (cumulative since the gateway started). */
export interface TelemetryView {
  spans: TelemetryCounts;
  /** Audit records exported as log records. */
  logs: TelemetryCounts;
  /** Export rounds, not data points. */
  metrics: TelemetryCounts;
}

export interface TelemetryCounts {
  exported: number;
  /** Lost: the bounded queue was full, or the collector failed past the SDK's retries. */
  dropped: number;
  failed_exports: number;
}

/** Approvals for the UI: what waits now, and the latest decisions (newest first). */
export interface ApprovalsView {
  waiting: ApprovalWaitingView[];
  recent: ApprovalDecisionView[];
}

/** One call waiting for a person. */
export interface ApprovalWaitingView {
  id: string;
  client: string;
  server: string;
  tool: string;
  tier: 'read' | 'write' | 'destructive';
  /** Redacted, shortened arguments. */
  arguments: string;
  /** Who was asked: the editor, or the calling client by MCP elicitation. */
  asked: 'editor' | 'client_elicitation';
  /** ISO times. */
  since: string;
  expires_at: string;
}

/** One settled approval. */
export interface ApprovalDecisionView {
  id: string;
  client: string;
  server: string;
  tool: string;
  tier: 'read' | 'write' | 'destructive';
  decision: 'allowed' | 'denied';
  /** editor, client_elicitation, session_grant, timeout, halt, withdrawn, no_approver, shutdown. */
  answered_by: string;
  wait_ms: number;
  /** ISO time of the decision. */
  at: string;
}

/** What the gateway runs on, for the UI, the state file and `gatehouse status`. */
export interface ConfigStateView {
  /**
   * Where the policy in force comes from: `file` (policy.yaml), `defaults` (no policy.yaml, or an
   * empty one, at start), `last_good` (policy.yaml was deleted, emptied or broken while running).
   */
  policy_source: 'file' | 'defaults' | 'last_good';
  /** One line, e.g. "policy.yaml (autonomy L1)" or "last good policy (policy.yaml was deleted)". */
  policy: string;
  errors: number;
  warnings: number;
  /** The first error, as `file:line:col: message`; null when there is none. */
  first_error: string | null;
}
