import type { Attributes } from '@opentelemetry/api';
import type { AuditRecord } from '../gateway/audit/auditRecord';

/** `event.name` of the log record each audit record leaves as. */
export const AUDIT_EVENT_NAME = 'gatehouse.audit';

/**
 * An audit record as log-record attributes: exactly the fields of its line in audit.jsonl
 * (already redacted, no arguments, no results), under `gatehouse.audit.<field>`, with
 * `metadata` and `redacted_fields` as the JSON text they hash as. Nothing is added that the
 * audit log does not hold, so an exported copy can anchor the chain: the record can be
 * rebuilt field by field and its `hash` checked (`gatehouse audit verify --against`).
 */
export function auditLogAttributes(record: AuditRecord): Attributes {
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    attributes[`gatehouse.audit.${key}`] =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
  }
  return attributes;
}
