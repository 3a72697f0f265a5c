import { compilePatterns, redactString } from './engine';
import { SECRET_PATTERNS } from './patterns';

/** Longest text redacted inline; longer texts are cut first (they are error lines, not payloads). */
const MAX_INLINE_CHARS = 8192;
/** Clean texts remembered (see {@link createSyncRedactor}), and the longest one remembered. */
const MAX_REMEMBERED = 1024;
const MAX_REMEMBERED_CHARS = 256;

/**
 * A synchronous redactor for the short strings that leave the gateway outside a call: state
 * file fields, tree/status tooltips, log lines (DESIGN.md §4: every string passes the
 * redactor). It runs only the built-in, vetted secret patterns on bounded text, so it is cheap
 * enough for the main thread; user patterns from policy.yaml — which may backtrack — run only in
 * the scanner worker, on call payloads.
 */
export function createSyncRedactor(): (text: string) => string {
  const patterns = compilePatterns(SECRET_PATTERNS);
  // The same few short strings (tool and server names, metadata values such as 'absent' or
  // 'allowed') pass on every call's audit record; each ran every pattern again (~20 µs a call).
  // The patterns are fixed, so a text found clean once stays clean. Only clean texts are kept,
  // so the set never holds a secret; it is bounded, and starts over when full.
  const clean = new Set<string>();
  return (text) => {
    if (clean.has(text)) return text;
    const bounded = text.length > MAX_INLINE_CHARS ? `${text.slice(0, MAX_INLINE_CHARS)}…` : text;
    const redacted = redactString(bounded, patterns)?.value;
    if (redacted !== undefined) return redacted;
    if (bounded === text && text.length <= MAX_REMEMBERED_CHARS) {
      if (clean.size >= MAX_REMEMBERED) clean.clear();
      clean.add(text);
    }
    return bounded;
  };
}
