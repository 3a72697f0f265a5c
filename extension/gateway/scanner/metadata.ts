/**
 * How scan outcomes are written into `ctx.metadata` for the audit record. Never the scanned
 * text: only paths, pattern names, sizes and budgets.
 */
import type { ScanTimeout } from './scannerClient';

/** Appends changed field paths and pattern names (distinct) to `redacted_fields` / `redacted_patterns`. */
export function recordRedaction(metadata: Record<string, unknown>, fields: readonly string[], patterns: readonly string[]): void {
  const merge = (key: string, add: readonly string[]): void => {
    if (add.length === 0) return;
    const before = Array.isArray(metadata[key]) ? (metadata[key] as string[]) : [];
    metadata[key] = [...new Set([...before, ...add])];
  };
  merge('redacted_fields', fields);
  merge('redacted_patterns', patterns);
}

/**
 * Appends a timeout event in rea's shape (`redact.regex_timeout` / `injection.regex_timeout`:
 * `{event, pattern_source, pattern_id, input_bytes, timeout_ms}`).
 */
export function recordScanTimeout(metadata: Record<string, unknown>, timeout: ScanTimeout): void {
  const key = timeout.kind === 'redact' ? 'redact.regex_timeout' : 'injection.regex_timeout';
  const event = {
    event: key,
    pattern_source: timeout.source,
    pattern_id: timeout.pattern,
    input_bytes: timeout.inputBytes,
    timeout_ms: timeout.budgetMs,
  };
  const list = metadata[key];
  if (Array.isArray(list)) list.push(event);
  else metadata[key] = [event];
}
