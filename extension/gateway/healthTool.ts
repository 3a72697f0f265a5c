import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { GatewaySnapshot } from '../protocol/model';

/** The meta-tool's exposed name: our reserved server name plus `__health`. */
export const HEALTH_TOOL_NAME = 'gatehouse__health';

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

/** Extra facts the health answer carries besides the snapshot. */
export interface HealthExtras {
  halt?: boolean;
  halt_reason?: string | null;
  autonomy_level?: string;
}

/**
 * The health answer. Error texts are withheld unless the policy opts in
 * (`gateway.health.expose_diagnostics`, SPEC §9.1): they can carry paths and hostnames an LLM
 * has no business seeing; the counts and states are always there.
 */
export function healthReport(snapshot: GatewaySnapshot, exposeDiagnostics: boolean, extras: HealthExtras = {}): Record<string, unknown> {
  const downstreams = snapshot.downstreams.map((d) => ({
    name: d.name,
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
  return {
    gateway: { name: 'gatehouse', session_id: snapshot.session_id, started_at: snapshot.started_at, revision: snapshot.revision },
    halt: extras.halt ?? false,
    halt_reason: exposeDiagnostics ? (extras.halt_reason ?? null) : null,
    autonomy_level: extras.autonomy_level ?? null,
    summary: {
      registered: downstreams.length,
      ready: downstreams.filter((d) => d.state === 'ready').length,
      connected: downstreams.filter((d) => d.connected).length,
      healthy: downstreams.filter((d) => d.healthy && d.connected).length,
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
