// The one error type appends are refused with, shared by the log (auditLog.ts, auditWriter.ts) and the
// record checks it runs (buildAuditBody.ts, chainRecord.ts); auditLog.ts re-exports it.

/** An append that is refused (invalid record, or the log is closed). */
export class AuditRecordError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditRecordError';
  }
}
