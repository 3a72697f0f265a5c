import { CIRCUIT_STATES, DOWNSTREAM_STATES, type ApprovalWaitingView, type CircuitState, type ConfigStateView, type DownstreamState, type DownstreamView, type SessionBlockView } from '../protocol/model';
import type { TelemetryStats } from '../telemetry/telemetryTypes';
import { isCount, isFiniteNumber, isInt, isNullable, isPositiveInt, isRecord, isString, stringOrNull } from './jsonGuards';

/** rea's fields of a downstream entry: always present after {@link parseStateFile}. */
type ReaDownstreamField =
  | 'name'
  | 'connected'
  | 'healthy'
  | 'circuit_state'
  | 'retry_at'
  | 'last_error'
  | 'tools_count'
  | 'open_transitions'
  | 'session_blocker_emitted';

/** A downstream entry as read back: rea's fields coerced, Gatehouse's present only when well-typed. */
export type StateFileDownstream = Pick<DownstreamView, ReaDownstreamField> &
  Partial<Omit<DownstreamView, ReaDownstreamField>>;

/** What {@link parseStateFile} returns: every field validated, invalid ones null. */
export interface StateFileContents {
  session_id: string | null;
  started_at: string | null;
  metrics_port: number | null;
  /** null for a legacy (pre-0.9) file without the array. */
  downstreams: StateFileDownstream[] | null;
  /** Ignored by rea's status; Gatehouse uses it to flag a stale snapshot (SPEC §13.1 item 11). */
  updated_at: string | null;
  owner_pid: number | null;
  /** Gatehouse's own block; null in a file written by rea. */
  gatehouse: {
    revision: number | null;
    session_blocks: SessionBlockView[];
    config?: ConfigStateView;
    telemetry?: TelemetryStats | null;
    /** Calls waiting for a person (policy `approval:`); absent in files written before approvals. */
    approvals_waiting?: ApprovalWaitingView[];
  } | null;
}

// Forgiving reader (SPEC §6.1 step 4), for `gatehouse status`.

/**
 * Parses a state file written by Gatehouse or by rea, forgiving as rea's `status`: returns
 * null for missing/invalid JSON (or a non-object), otherwise every field validated — wrong
 * types become null, invalid downstream entries are dropped, rea's entry fields are coerced
 * to their defaults, and Gatehouse's extra fields are kept only when well-typed.
 */
export function parseStateFile(text: string): StateFileContents | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(data)) return null;
  return {
    session_id: stringOrNull(data.session_id),
    started_at: stringOrNull(data.started_at),
    metrics_port: Number.isInteger(data.metrics_port) ? (data.metrics_port as number) : null,
    downstreams: Array.isArray(data.downstreams) ? data.downstreams.flatMap(parseDownstream) : null,
    updated_at: stringOrNull(data.updated_at),
    owner_pid: isPositiveInt(data.owner_pid) ? data.owner_pid : null,
    gatehouse: parseGatehouseBlock(data.gatehouse),
  };
}

function parseDownstream(raw: unknown): StateFileDownstream[] {
  if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '') return [];
  const entry: StateFileDownstream = {
    name: raw.name,
    connected: raw.connected === true,
    healthy: raw.healthy === true,
    circuit_state: CIRCUIT_STATES.includes(raw.circuit_state as CircuitState)
      ? (raw.circuit_state as CircuitState)
      : 'closed',
    retry_at: stringOrNull(raw.retry_at),
    last_error: stringOrNull(raw.last_error),
    tools_count: Number.isInteger(raw.tools_count) ? (raw.tools_count as number) : null,
    open_transitions: Number.isInteger(raw.open_transitions) ? (raw.open_transitions as number) : 0,
    session_blocker_emitted: raw.session_blocker_emitted === true,
  };
  if (DOWNSTREAM_STATES.includes(raw.state as DownstreamState)) entry.state = raw.state as DownstreamState;
  if (raw.transport === 'stdio' || raw.transport === 'http') entry.transport = raw.transport;
  if (isNullable(raw.reason, isString)) entry.reason = raw.reason;
  if (isNullable(raw.pid, isPositiveInt)) entry.pid = raw.pid;
  if (isNullable(raw.started_at, isString)) entry.started_at = raw.started_at;
  if (isNullable(raw.next_retry_at, isString)) entry.next_retry_at = raw.next_retry_at;
  if (isCount(raw.restarts)) entry.restarts = raw.restarts;
  if (isCount(raw.calls)) entry.calls = raw.calls;
  if (isCount(raw.errors)) entry.errors = raw.errors;
  if (isCount(raw.in_flight)) entry.in_flight = raw.in_flight;
  if (isNullable(raw.prompts_count, isCount)) entry.prompts_count = raw.prompts_count;
  if (isNullable(raw.resources_count, isCount)) entry.resources_count = raw.resources_count;
  if (raw.last_exit === null) entry.last_exit = null;
  else if (
    isRecord(raw.last_exit) &&
    isNullable(raw.last_exit.code, isInt) &&
    isNullable(raw.last_exit.signal, isString) &&
    typeof raw.last_exit.at === 'string'
  ) {
    entry.last_exit = { code: raw.last_exit.code, signal: raw.last_exit.signal, at: raw.last_exit.at };
  }
  if (
    isRecord(raw.latency_ms) &&
    isNullable(raw.latency_ms.p50, isFiniteNumber) &&
    isNullable(raw.latency_ms.p95, isFiniteNumber)
  ) {
    entry.latency_ms = { p50: raw.latency_ms.p50, p95: raw.latency_ms.p95 };
  }
  return [entry];
}

function parseGatehouseBlock(raw: unknown): StateFileContents['gatehouse'] {
  if (!isRecord(raw)) return null;
  const blocks = Array.isArray(raw.session_blocks) ? raw.session_blocks : [];
  const config = parseConfigState(raw.config);
  return {
    ...(config ? { config } : {}),
    revision: isCount(raw.revision) ? raw.revision : null,
    ...(isRecord(raw.telemetry) && { telemetry: raw.telemetry as unknown as TelemetryStats }),
    ...(Array.isArray(raw.approvals_waiting) && { approvals_waiting: raw.approvals_waiting.flatMap(parseApprovalWaiting) }),
    session_blocks: blocks.flatMap((b: unknown): SessionBlockView[] =>
      isRecord(b) &&
      typeof b.server === 'string' &&
      b.server !== '' &&
      isCount(b.open_transitions) &&
      isCount(b.threshold) &&
      typeof b.emitted_at === 'string' &&
      typeof b.message === 'string'
        ? [
            {
              server: b.server,
              open_transitions: b.open_transitions,
              threshold: b.threshold,
              emitted_at: b.emitted_at,
              message: b.message,
            },
          ]
        : [],
    ),
  };
}

const TIERS: readonly ApprovalWaitingView['tier'][] = ['read', 'write', 'destructive'];

function parseApprovalWaiting(raw: unknown): ApprovalWaitingView[] {
  if (!isRecord(raw)) return [];
  const { id, client, server, tool, tier, arguments: args, asked, since, expires_at } = raw;
  if (![id, client, server, tool, args, since, expires_at].every(isString)) return [];
  if (!TIERS.includes(tier as ApprovalWaitingView['tier']) || (asked !== 'editor' && asked !== 'client_elicitation')) return [];
  return [
    {
      id: id as string,
      client: client as string,
      server: server as string,
      tool: tool as string,
      tier: tier as ApprovalWaitingView['tier'],
      arguments: args as string,
      asked,
      since: since as string,
      expires_at: expires_at as string,
    },
  ];
}

function parseConfigState(raw: unknown): ConfigStateView | undefined {
  if (!isRecord(raw) || typeof raw.policy !== 'string' || !['file', 'defaults', 'last_good'].includes(raw.policy_source as string)) return undefined;
  return {
    policy_source: raw.policy_source as ConfigStateView['policy_source'],
    policy: raw.policy,
    errors: isCount(raw.errors) ? raw.errors : 0,
    warnings: isCount(raw.warnings) ? raw.warnings : 0,
    first_error: typeof raw.first_error === 'string' ? raw.first_error : null,
  };
}
