/**
 * The contract between the extension host and the dashboard webview (DESIGN.md §8). Both bundles
 * import this one file: two discriminated unions with `noun/verb` names, the plain-JSON payloads,
 * and a guard for every inbound message. Runtime-neutral on purpose (no vscode, no Node, no DOM):
 * the webview bundle, the host and the unit tests all read it.
 *
 * Flow: the webview sends `webview/ready`; the host answers with `dashboard/didSnapshot` (the
 * whole state and its revision), then at most 10 `dashboard/didPatch` per second, each stamped
 * with the revision it applies to. A webview whose revision differs asks again with
 * `dashboard/getSnapshot`. Actions (`server/respawn` …) carry a `requestId` that the host
 * echoes in `action/didComplete`, and the id of the gateway they were clicked on.
 *
 * Multi-root: each workspace folder has its own gateway. The state names them all (`picker`)
 * and which one it shows; `gateway/select` asks for another, answered by a snapshot of it.
 * Revisions are the panel's, not a gateway's: switching gateways is a new revision and always
 * a snapshot, so a patch built on one gateway's state never applies to another's.
 */
import type {
  ApprovalDecisionView,
  ApprovalsView,
  ApprovalWaitingView,
  CircuitState,
  DownstreamView,
  SessionBlockView,
  TelemetryView,
} from './model';
import { CIRCUIT_STATES, DOWNSTREAM_STATES } from './model';

/** Bumped on any incompatible change to the messages below. */
export const PROTOCOL_VERSION = 2;

/** Width of one traffic bucket (the sparklines' resolution). */
export const TRAFFIC_BUCKET_MS = 10_000;
/** How far back the sparklines (and the host's traffic history) reach. */
export const TRAFFIC_WINDOW_MS = 10 * 60_000;
/** Audit events the dashboard keeps (newest last). */
export const AUDIT_EVENTS_KEPT = 50;

// ---------------------------------------------------------------------------------------------
// Payloads (plain JSON: strings, numbers, epoch milliseconds; no classes, no Dates)
// ---------------------------------------------------------------------------------------------

/** The gateway the dashboard shows, or null in {@link DashboardState.gateway} when none runs. */
export interface GatewayInfo {
  /** The workspace folder's name. */
  label: string;
  session_id: string;
  /** ISO time the gateway started. */
  started_at: string;
  /** True while HALT is present (or could not be probed: the gateway fails closed). */
  halted: boolean;
  /** The HALT reason, already redacted; null when not halted or empty. */
  halt_reason: string | null;
  /** OpenTelemetry export counts (exported, dropped); absent or null while export is off. */
  telemetry?: TelemetryView | null;
  /** Calls waiting for approval and recent decisions (policy `approval:`); absent before any. */
  approvals?: ApprovalsView;
}

/** Where one folder's gateway is in its lifecycle (the host's FolderGatewayState). */
export type GatewayRunState = 'idle' | 'starting' | 'running' | 'stopping' | 'failed';

/** One workspace folder's gateway, as the picker lists it. */
export interface GatewayChoice {
  /** Stable for as long as the folder is in the workspace (the folder's URI). */
  id: string;
  /** The workspace folder's name. */
  label: string;
  state: GatewayRunState;
}

/** Why the gateway the user chose is not the one shown. */
export type FallbackReason = 'stopped' | 'failed' | 'removed';

/** Which gateways exist and which one the dashboard shows (the header's selector). */
export interface GatewayPicker {
  /** Every folder with a gateway, in workspace-folder order; one entry = no selector. */
  gateways: GatewayChoice[];
  /** The gateway shown: the state below is its, and actions act on it. Null when there is none. */
  shown: string | null;
  /** The gateway chosen (by the user, the command, or the first one shown). */
  chosen: { id: string; label: string } | null;
  /** Set while `chosen` cannot be shown and another running one is shown instead. */
  fallback: FallbackReason | null;
}

/** The circuit entered `state` at `at` (epoch ms). */
export interface CircuitTransition {
  at: number;
  state: CircuitState;
}

/** Calls and failed calls that finished in the bucket starting at `at` (epoch ms). */
export interface TrafficBucket {
  at: number;
  calls: number;
  errors: number;
}

/** One server with the history the host kept for it this session. */
export interface ServerEntry {
  view: DownstreamView;
  /** Circuit states this gateway session, oldest first; the first is the state when first seen. */
  circuit: CircuitTransition[];
  /** Non-empty buckets of the last {@link TRAFFIC_WINDOW_MS}, oldest first. */
  traffic: TrafficBucket[];
}

export type AuditStatus = 'allowed' | 'denied' | 'error';
export type AuditTier = 'read' | 'write' | 'destructive';

/** One audit record, reduced to what the dashboard lists. */
export interface AuditEventView {
  /** Host-assigned, increasing: a stable key for the row. */
  seq: number;
  /** ISO time of the record. */
  timestamp: string;
  tool: string;
  server: string;
  status: AuditStatus;
  tier: AuditTier;
  duration_ms: number;
  /** The record's error text (redacted when it was written); null when none. */
  error: string | null;
}

/** Everything the dashboard shows, at one revision. */
export interface DashboardState {
  picker: GatewayPicker;
  gateway: GatewayInfo | null;
  /** Registry order. */
  servers: ServerEntry[];
  session_blocks: SessionBlockView[];
  /** At most {@link AUDIT_EVENTS_KEPT}, oldest first. */
  audit: AuditEventView[];
}

/**
 * What changed between two revisions. Absent fields did not change. Entries are whole (a
 * changed server is sent with its full view and history), so applying a patch is idempotent.
 */
export interface DashboardPatch {
  /** The whole picker, when any of it changed. */
  picker?: GatewayPicker;
  gateway?: GatewayInfo | null;
  /** Servers inserted or replaced. */
  servers?: ServerEntry[];
  /** Names of servers removed. */
  removed?: string[];
  /** The complete order of names, when it changed (insertions, removals, moves). */
  order?: string[];
  /** The complete list, when it changed. */
  session_blocks?: SessionBlockView[];
  /** Events appended, oldest first; the webview keeps the last {@link AUDIT_EVENTS_KEPT}. */
  audit?: AuditEventView[];
}

// ---------------------------------------------------------------------------------------------
// Host → webview
// ---------------------------------------------------------------------------------------------

/** Host → webview: the whole state; sent on ready, on becoming visible, on request, after a reset. */
export interface DashboardDidSnapshot {
  type: 'dashboard/didSnapshot';
  protocolVersion: number;
  revision: number;
  /** The host's clock (epoch ms) when sent: countdowns correct for a browser on another machine. */
  hostNow: number;
  state: DashboardState;
}

/** Host → webview: coalesced changes that turn revision `baseRevision` into `revision`. */
export interface DashboardDidPatch {
  type: 'dashboard/didPatch';
  baseRevision: number;
  revision: number;
  hostNow: number;
  patch: DashboardPatch;
}

/** Host → webview: the outcome of the action request `requestId`. */
export interface ActionDidComplete {
  type: 'action/didComplete';
  requestId: number;
  ok: boolean;
  /** Why it failed (or a note, e.g. "cancelled"); null on plain success. */
  message: string | null;
}

export type HostToWebview = DashboardDidSnapshot | DashboardDidPatch | ActionDidComplete;

// ---------------------------------------------------------------------------------------------
// Webview → host
// ---------------------------------------------------------------------------------------------

/** Webview → host: the script loaded and listens; the host answers with a snapshot. */
export interface WebviewReady {
  type: 'webview/ready';
  protocolVersion: number;
}

/** Webview → host: send a fresh snapshot (a revision gap, or the user asked). */
export interface DashboardGetSnapshot {
  type: 'dashboard/getSnapshot';
  reason: 'gap' | 'retry' | 'user';
}

/** Webview → host: respawn a server (forgets its crash history). */
export interface ServerRespawn {
  type: 'server/respawn';
  requestId: number;
  /** The gateway shown when it was clicked ({@link GatewayPicker.shown}). */
  gateway: string;
  server: string;
}

/** Webview → host: close a server's circuit now. */
export interface CircuitReset {
  type: 'circuit/reset';
  requestId: number;
  /** The gateway shown when it was clicked ({@link GatewayPicker.shown}). */
  gateway: string;
  server: string;
}

/** Webview → host: reveal a server's output channel. */
export interface ServerShowOutput {
  type: 'server/showOutput';
  requestId: number;
  /** The gateway shown when it was clicked ({@link GatewayPicker.shown}). */
  gateway: string;
  server: string;
}

/** Webview → host: set `enabled` of a server in the registry. */
export interface ServerSetEnabled {
  type: 'server/setEnabled';
  requestId: number;
  /** The gateway shown when it was clicked ({@link GatewayPicker.shown}). */
  gateway: string;
  server: string;
  enabled: boolean;
}

/** Webview → host: engage the kill switch; the host asks for the reason (no prompt in a webview). */
export interface GatewayFreeze {
  type: 'gateway/freeze';
  requestId: number;
  /** The gateway shown when it was clicked ({@link GatewayPicker.shown}). */
  gateway: string;
}

/** Webview → host: release the kill switch. */
export interface GatewayUnfreeze {
  type: 'gateway/unfreeze';
  requestId: number;
  /** The gateway shown when it was clicked ({@link GatewayPicker.shown}). */
  gateway: string;
}

/**
 * Webview → host: show another folder's gateway. Answered by a snapshot (also when `gateway`
 * is unknown or already shown, so the webview never waits in vain).
 */
export interface GatewaySelect {
  type: 'gateway/select';
  gateway: string;
}

/** The requests that ask the host to act; each is answered by `action/didComplete`. */
export type ActionRequest = ServerRespawn | CircuitReset | ServerShowOutput | ServerSetEnabled | GatewayFreeze | GatewayUnfreeze;

export type WebviewToHost = WebviewReady | DashboardGetSnapshot | GatewaySelect | ActionRequest;

// ---------------------------------------------------------------------------------------------
// Guards. Inbound messages are untrusted on both sides: a webview can be scripted, and a stale
// webview may speak an older protocol. Each check returns why a value is malformed, so the
// receiver can log what it dropped.
// ---------------------------------------------------------------------------------------------

/** Checks one value; returns the reason it is malformed, or undefined when it is fine. */
export interface Check<T> {
  (value: unknown, path: string): string | undefined;
  /** Phantom: the type the check establishes (never set). */
  readonly _type?: T;
}

type CheckedType<C> = C extends Check<infer T> ? T : never;

const MAX_TEXT = 64 * 1024;
const MAX_NAME = 256;
/** Gateway ids are folder URIs: longer than names. */
const MAX_ID = 4096;

function check<T>(fn: (value: unknown, path: string) => string | undefined): Check<T> {
  return fn as Check<T>;
}

const str = (max = MAX_TEXT): Check<string> =>
  check((v, p) => (typeof v !== 'string' ? `${p}: expected a string` : v.length > max ? `${p}: longer than ${max}` : undefined));
const num: Check<number> = check((v, p) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `${p}: expected a finite number`));
const int: Check<number> = check((v, p) => (Number.isSafeInteger(v) ? undefined : `${p}: expected an integer`));
const bool: Check<boolean> = check((v, p) => (typeof v === 'boolean' ? undefined : `${p}: expected a boolean`));

function oneOf<const T extends readonly string[]>(values: T): Check<T[number]> {
  return check((v, p) => (typeof v === 'string' && values.includes(v) ? undefined : `${p}: expected one of ${values.join(', ')}`));
}

function nullable<T>(inner: Check<T>): Check<T | null> {
  return check((v, p) => (v === null ? undefined : inner(v, p)));
}

function arrayOf<T>(inner: Check<T>, max = 10_000): Check<T[]> {
  return check((v, p) => {
    if (!Array.isArray(v)) return `${p}: expected an array`;
    if (v.length > max) return `${p}: more than ${max} items`;
    for (let i = 0; i < v.length; i++) {
      const err = inner(v[i], `${p}[${i}]`);
      if (err) return err;
    }
    return undefined;
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every key of `shape` must be present (optional ones may be absent); extra keys are ignored. */
function object<S extends Record<string, Check<unknown>>>(
  shape: S,
  optional: readonly (keyof S)[] = [],
): Check<{ [K in keyof S]: CheckedType<S[K]> }> {
  return check((v, p) => {
    if (!isRecord(v)) return `${p}: expected an object`;
    for (const key of Object.keys(shape)) {
      if (!(key in v) || v[key] === undefined) {
        if (optional.includes(key)) continue;
        return `${p}.${key}: missing`;
      }
      const err = shape[key](v[key], `${p}.${key}`);
      if (err) return err;
    }
    return undefined;
  });
}

const circuitState = oneOf(CIRCUIT_STATES);
const downstreamState = oneOf(DOWNSTREAM_STATES);

const downstreamView: Check<DownstreamView> = object({
  name: str(MAX_NAME),
  connected: bool,
  healthy: bool,
  circuit_state: circuitState,
  retry_at: nullable(str(64)),
  last_error: nullable(str()),
  tools_count: nullable(int),
  open_transitions: int,
  session_blocker_emitted: bool,
  state: downstreamState,
  reason: nullable(str()),
  transport: oneOf(['stdio', 'http'] as const),
  pid: nullable(int),
  restarts: int,
  last_exit: nullable(object({ code: nullable(int), signal: nullable(str(64)), at: str(64) })),
  started_at: nullable(str(64)),
  calls: int,
  errors: int,
  latency_ms: object({ p50: nullable(num), p95: nullable(num) }),
  in_flight: int,
  next_retry_at: nullable(str(64)),
});

const sessionBlockView: Check<SessionBlockView> = object({
  server: str(MAX_NAME),
  open_transitions: int,
  threshold: int,
  emitted_at: str(64),
  message: str(),
});

const telemetryCounts = object({ exported: int, dropped: int, failed_exports: int });

const tier = oneOf(['read', 'write', 'destructive'] as const);

const approvalWaitingView: Check<ApprovalWaitingView> = object({
  id: str(MAX_ID),
  client: str(MAX_NAME),
  server: str(MAX_NAME),
  tool: str(MAX_NAME),
  tier,
  arguments: str(),
  asked: oneOf(['editor', 'client_elicitation'] as const),
  since: str(64),
  expires_at: str(64),
});

const approvalDecisionView: Check<ApprovalDecisionView> = object({
  id: str(MAX_ID),
  client: str(MAX_NAME),
  server: str(MAX_NAME),
  tool: str(MAX_NAME),
  tier,
  decision: oneOf(['allowed', 'denied'] as const),
  answered_by: str(MAX_NAME),
  wait_ms: int,
  at: str(64),
});

const gatewayInfo: Check<GatewayInfo> = object(
  {
    label: str(MAX_NAME),
    session_id: str(MAX_NAME),
    started_at: str(64),
    halted: bool,
    halt_reason: nullable(str()),
    telemetry: nullable(object({ spans: telemetryCounts, logs: telemetryCounts, metrics: telemetryCounts })),
    approvals: object({ waiting: arrayOf(approvalWaitingView), recent: arrayOf(approvalDecisionView) }),
  },
  ['telemetry', 'approvals'],
);

const gatewayId = str(MAX_ID);

const gatewayPicker: Check<GatewayPicker> = object({
  gateways: arrayOf(
    object({
      id: gatewayId,
      label: str(MAX_NAME),
      state: oneOf(['idle', 'starting', 'running', 'stopping', 'failed'] as const satisfies readonly GatewayRunState[]),
    }),
    1_000,
  ),
  shown: nullable(gatewayId),
  chosen: nullable(object({ id: gatewayId, label: str(MAX_NAME) })),
  fallback: nullable(oneOf(['stopped', 'failed', 'removed'] as const satisfies readonly FallbackReason[])),
});

const serverEntry: Check<ServerEntry> = object({
  view: downstreamView,
  circuit: arrayOf(object({ at: num, state: circuitState })),
  traffic: arrayOf(object({ at: num, calls: int, errors: int })),
});

const auditEventView: Check<AuditEventView> = object({
  seq: int,
  timestamp: str(64),
  tool: str(MAX_NAME),
  server: str(MAX_NAME),
  status: oneOf(['allowed', 'denied', 'error'] as const),
  tier: oneOf(['read', 'write', 'destructive'] as const),
  duration_ms: num,
  error: nullable(str()),
});

const dashboardState: Check<DashboardState> = object({
  picker: gatewayPicker,
  gateway: nullable(gatewayInfo),
  servers: arrayOf(serverEntry),
  session_blocks: arrayOf(sessionBlockView),
  audit: arrayOf(auditEventView),
});

const dashboardPatch: Check<DashboardPatch> = object(
  {
    picker: gatewayPicker,
    gateway: nullable(gatewayInfo),
    servers: arrayOf(serverEntry),
    removed: arrayOf(str(MAX_NAME)),
    order: arrayOf(str(MAX_NAME)),
    session_blocks: arrayOf(sessionBlockView),
    audit: arrayOf(auditEventView),
  },
  ['picker', 'gateway', 'servers', 'removed', 'order', 'session_blocks', 'audit'],
);

const hostToWebview: { [K in HostToWebview['type']]: Check<Extract<HostToWebview, { type: K }>> } = {
  'dashboard/didSnapshot': object({
    type: oneOf(['dashboard/didSnapshot'] as const),
    protocolVersion: int,
    revision: int,
    hostNow: num,
    state: dashboardState,
  }),
  'dashboard/didPatch': object({
    type: oneOf(['dashboard/didPatch'] as const),
    baseRevision: int,
    revision: int,
    hostNow: num,
    patch: dashboardPatch,
  }),
  'action/didComplete': object({
    type: oneOf(['action/didComplete'] as const),
    requestId: int,
    ok: bool,
    message: nullable(str()),
  }),
};

const requestId = int;
const serverName = str(MAX_NAME);

const webviewToHost: { [K in WebviewToHost['type']]: Check<Extract<WebviewToHost, { type: K }>> } = {
  'webview/ready': object({ type: oneOf(['webview/ready'] as const), protocolVersion: int }),
  'dashboard/getSnapshot': object({ type: oneOf(['dashboard/getSnapshot'] as const), reason: oneOf(['gap', 'retry', 'user'] as const) }),
  'gateway/select': object({ type: oneOf(['gateway/select'] as const), gateway: gatewayId }),
  'server/respawn': object({ type: oneOf(['server/respawn'] as const), requestId, gateway: gatewayId, server: serverName }),
  'circuit/reset': object({ type: oneOf(['circuit/reset'] as const), requestId, gateway: gatewayId, server: serverName }),
  'server/showOutput': object({ type: oneOf(['server/showOutput'] as const), requestId, gateway: gatewayId, server: serverName }),
  'server/setEnabled': object({ type: oneOf(['server/setEnabled'] as const), requestId, gateway: gatewayId, server: serverName, enabled: bool }),
  'gateway/freeze': object({ type: oneOf(['gateway/freeze'] as const), requestId, gateway: gatewayId }),
  'gateway/unfreeze': object({ type: oneOf(['gateway/unfreeze'] as const), requestId, gateway: gatewayId }),
};

/** The result of parsing one inbound message. */
export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string };

function parseWith<T extends { type: string }>(table: Record<string, Check<T>>, value: unknown, side: string): Parsed<T> {
  if (!isRecord(value)) return { ok: false, error: `${side}: not an object` };
  const type = value.type;
  if (typeof type !== 'string') return { ok: false, error: `${side}: no type` };
  // Own properties only: a `type` of "constructor" or "__proto__" must not find a check.
  const checkFn = Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
  if (!checkFn) return { ok: false, error: `${side}: unknown type '${type.slice(0, 80)}'` };
  const err = checkFn(value, type);
  return err ? { ok: false, error: `${side}: ${err}` } : { ok: true, message: value as T };
}

/** Validates a message received by the host from the webview. */
export function parseWebviewToHost(value: unknown): Parsed<WebviewToHost> {
  return parseWith<WebviewToHost>(webviewToHost, value, 'webview→host');
}

/** Validates a message received by the webview from the host. */
export function parseHostToWebview(value: unknown): Parsed<HostToWebview> {
  return parseWith<HostToWebview>(hostToWebview, value, 'host→webview');
}

export function isWebviewToHost(value: unknown): value is WebviewToHost {
  return parseWebviewToHost(value).ok;
}

export function isHostToWebview(value: unknown): value is HostToWebview {
  return parseHostToWebview(value).ok;
}

const actionTypes: ReadonlySet<string> = new Set<ActionRequest['type']>([
  'server/respawn',
  'circuit/reset',
  'server/showOutput',
  'server/setEnabled',
  'gateway/freeze',
  'gateway/unfreeze',
]);

/** True for the messages answered by `action/didComplete`. */
export function isActionRequest(message: WebviewToHost): message is ActionRequest {
  return actionTypes.has(message.type);
}

// ---------------------------------------------------------------------------------------------
// The webview's persisted state (getState/setState). VS Code hands it to the host's serializer
// when it restores the panel after a window reload, so the host reads it too.
// ---------------------------------------------------------------------------------------------

/** The part of the webview's stored state the host reads when it revives the panel. */
export interface PersistedDashboardState {
  /** The id of the gateway chosen ({@link GatewayPicker.chosen}). */
  gateway?: string;
}

/** The chosen gateway in a stored state, read defensively (it may be from an older webview). */
export function readPersistedGateway(stored: unknown): string | undefined {
  if (!isRecord(stored)) return undefined;
  const id = stored.gateway;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID ? id : undefined;
}
