import { compilePatterns, redactString } from './engine';
import { SECRET_PATTERNS } from './patterns';

/** Longest text redacted inline; longer texts are cut first (they are error lines, not payloads). */
const MAX_INLINE_CHARS = 8192;

/**
 * A synchronous redactor for the short strings that leave the gateway outside a call: state
 * file fields, tree/status tooltips, log lines (DESIGN.md §4: every string passes the
 * redactor). It runs only the built-in, vetted secret patterns on bounded text, so it is cheap
 * enough for the main thread; user patterns from policy.yaml — which may backtrack — run only in
 * the scanner worker, on call payloads.
 */
export function createSyncRedactor(): (text: string) => string {
  const patterns = compilePatterns(SECRET_PATTERNS);
  return (text) => {
    const bounded = text.length > MAX_INLINE_CHARS ? `${text.slice(0, MAX_INLINE_CHARS)}…` : text;
    return redactString(bounded, patterns)?.value ?? bounded;
  };
}
