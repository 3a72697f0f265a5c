import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { GatewaySnapshot } from '../protocol/model';

/** The meta-tool's exposed name: our reserved server name plus `__health`. */
export const HEALTH_TOOL_NAME = 'gatehouse__health';

/**
 * rea's name for the same tool (SPEC §1.4, §9.1): rea users' prompts, scripts and agent
 * instructions call it. Always answered; listed too when the config dir is rea's `.rea/`.
 */
export const REA_HEALTH_TOOL_NAME = '__rea__health';

/** Always listed first; needs no downstream, answers under HALT and with every server down. */
export const healthToolDescriptor: Tool = {
  name: HEALTH_TOOL_NAME,
  title: 'Gatehouse health',
  description:
    'Self-diagnostic of the Gatehouse MCP gateway: state of every downstream server (ready, crashed, backing off, gave up), ' +
    'circuit breakers, tool counts, restarts and session blocks. Works even when every downstream is down.',
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
};

/** rea's descriptor (SPEC §1.4): same answer as {@link healthToolDescriptor}. */
export const reaHealthToolDescriptor: Tool = {
  ...healthToolDescriptor,
  name: REA_HEALTH_TOOL_NAME,
  title: 'Gateway health (rea name)',
  description:
    'Self-diagnostic of the gateway (rea name of gatehouse__health): works even when every downstream is down or HALT is active.',
};

/** The policy facts rea's health answer carries (SPEC §9.1 `policy`). */
export interface HealthPolicy {
  profile: string | null;
  autonomy_level: string;
  max_autonomy_level: string | null;
  block_ai_attribution: boolean;
  blocked_paths_count: number;
}

/** Extra facts the health answer carries besides the snapshot. */
export interface HealthExtras {
  halt?: boolean;
  halt_reason?: string | null;
  autonomy_level?: string;
  policy?: HealthPolicy;
  /** The gateway's version, as rea reports it in `gateway.version`. */
  version?: string;
}

/**
 * The health answer. Error texts are withheld unless the policy opts in
 * (`gateway.health.expose_diagnostics`, SPEC §9.1): they can carry paths and hostnames an LLM
 * has no business seeing; the counts and states are always there.
 *
 * A superset of rea's snapshot (SPEC §9.1: `gateway.{version,uptime_s,halt,halt_reason}`,
 * `policy`, `downstreams[].enabled`, `summary.total_tools`), so whatever parses rea's answer to
 * `__rea__health` parses ours.
 */
export function healthReport(
  snapshot: GatewaySnapshot,
  exposeDiagnostics: boolean,
  extras: HealthExtras = {},
  now: number = Date.now(),
): Record<string, unknown> {
  const downstreams = snapshot.downstreams.map((d) => ({
    name: d.name,
    enabled: d.state !== 'disabled',
    state: d.state,
    connected: d.connected,
    healthy: d.healthy,
    circuit_state: d.circuit_state,
    retry_at: d.retry_at,
    tools_count: d.tools_count,
    prompts_count: d.prompts_count ?? null,
    resources_count: d.resources_count ?? null,
    restarts: d.restarts,
    open_transitions: d.open_transitions,
    session_blocker_emitted: d.session_blocker_emitted,
    next_retry_at: d.next_retry_at,
    reason: exposeDiagnostics ? d.reason : null,
    last_error: exposeDiagnostics ? d.last_error : null,
  }));
  const halt = extras.halt ?? false;
  const haltReason = exposeDiagnostics ? (extras.halt_reason ?? null) : null;
  const started = Date.parse(snapshot.started_at);
  return {
    gateway: {
      name: 'gatehouse',
      version: extras.version ?? null,
      uptime_s: Number.isFinite(started) ? Math.max(0, Math.floor((now - started) / 1000)) : 0,
      halt,
      halt_reason: haltReason,
      session_id: snapshot.session_id,
      started_at: snapshot.started_at,
      revision: snapshot.revision,
    },
    halt,
    halt_reason: haltReason,
    autonomy_level: extras.autonomy_level ?? null,
    policy: extras.policy ?? null,
    summary: {
      registered: downstreams.length,
      ready: downstreams.filter((d) => d.state === 'ready').length,
      connected: downstreams.filter((d) => d.connected).length,
      healthy: downstreams.filter((d) => d.healthy && d.connected).length,
      total_tools: downstreams.reduce((sum, d) => sum + (d.tools_count ?? 0), 0),
      session_blocks: snapshot.session_blocks.length,
    },
    downstreams,
    session_blocks: snapshot.session_blocks.map((b) => ({
      server: b.server,
      open_transitions: b.open_transitions,
      threshold: b.threshold,
      emitted_at: b.emitted_at,
    })),
  };
}
