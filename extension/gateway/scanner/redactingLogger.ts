import type { Logger } from '../../common/logger';

/**
 * A logger whose every line passes `redact` first (the sync redactor: built-in patterns on
 * bounded text). Log lines quote what servers and clients said — an error text, a tool name, a
 * child's stderr — and a log file or an output channel is as much a way out as an answer is.
 * A redactor that throws withholds the line's text rather than writing it raw.
 */
export function redactingLogger(inner: Logger, redact: (text: string) => string): Logger {
  const safe = (message: string): string => {
    try {
      return redact(message);
    } catch {
      return '[log line withheld: redaction failed]';
    }
  };
  return {
    trace: (m) => inner.trace(safe(m)),
    debug: (m) => inner.debug(safe(m)),
    info: (m) => inner.info(safe(m)),
    warn: (m) => inner.warn(safe(m)),
    error: (m) => inner.error(safe(m)),
  };
}
