import { GATEWAY_SERVER_NAME } from './auditRecord';
import { buildAuditBody, type AuditBody } from './buildAuditBody';

// The fixed shape of the writer's own records (rotation, chain break, tail cut). Apart from
// auditFile.ts because it is a pure function; the file decides which marker goes where.

/** A marker record's body, checked like any other record. */
export function gatewayMarker(
  toolName: string,
  metadata: Record<string, unknown>,
  timestamp: string,
  sessionId: string,
  status: 'allowed' | 'error' = 'allowed',
  error?: string,
): AuditBody {
  return buildAuditBody(
    {
      tool_name: toolName,
      server_name: GATEWAY_SERVER_NAME,
      session_id: sessionId,
      tier: 'read',
      status,
      autonomy_level: 'system',
      duration_ms: 0,
      emission_source: 'gateway',
      error,
      metadata,
    },
    timestamp,
    sessionId,
  );
}
