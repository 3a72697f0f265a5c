import type { AuditInput } from '../audit/auditRecord';

/** rea's `tool_name` / `server_name` of a trust decision (SPEC §8.5, Appendix E). */
export const TOFU_TOOL_NAME = 'rea.tofu';
export const TOFU_SERVER_NAME = 'rea';

/** One trust decision to audit. `via` says who accepted a drift when it was not the env bypass. */
export type TofuDecision =
  | { event: 'first_seen'; server: string; fingerprint: string; via?: 'cli' | 'editor' }
  | { event: 'drift_accepted'; server: string; stored: string; current: string; via: 'env' | 'cli' | 'editor' }
  | { event: 'drift_blocked'; server: string; stored: string; current: string };

/**
 * The audit record of a TOFU decision in rea's shape (SPEC §8.5): `rea.tofu` / `rea`, tier
 * read, `metadata.event` = `tofu.first_seen | tofu.drift_accepted | tofu.drift_blocked` with the
 * server in `metadata.server`, so `rea audit` tooling and anyone grepping a shared `.rea/`
 * log finds Gatehouse's decisions next to rea's. `autonomy_level` stays rea's helper default
 * (`unknown`): a trust decision is not made under an autonomy level. A drift accepted through
 * `REA_ACCEPT_DRIFT` / `GATEHOUSE_ACCEPT_DRIFT` carries rea's `bypassed: true`; one accepted in
 * the CLI or the editor says which instead (`via`), as rea's later `rea tofu accept` does.
 */
export function tofuAuditInput(decision: TofuDecision, sessionId?: string): AuditInput {
  const base = { tool_name: TOFU_TOOL_NAME, server_name: TOFU_SERVER_NAME, tier: 'read', emission_source: 'gateway', session_id: sessionId } as const;
  switch (decision.event) {
    case 'first_seen':
      return {
        ...base,
        status: 'allowed',
        metadata: { event: 'tofu.first_seen', server: decision.server, fingerprint: decision.fingerprint, ...(decision.via ? { via: decision.via } : {}) },
      };
    case 'drift_accepted':
      return {
        ...base,
        status: 'allowed',
        metadata: {
          event: 'tofu.drift_accepted',
          server: decision.server,
          stored_fingerprint: decision.stored,
          current_fingerprint: decision.current,
          ...(decision.via === 'env' ? { bypassed: true } : { via: decision.via }),
        },
      };
    case 'drift_blocked':
      return {
        ...base,
        status: 'denied',
        error: `fingerprint of '${decision.server}' changed (stored ${decision.stored.slice(0, 16)}, current ${decision.current.slice(0, 16)}); not connected until the change is accepted`,
        metadata: { event: 'tofu.drift_blocked', server: decision.server, stored_fingerprint: decision.stored, current_fingerprint: decision.current },
      };
  }
}
