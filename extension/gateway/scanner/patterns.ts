/**
 * The pattern sets the scanner worker runs: rea's built-in secret patterns (SPEC §7.9, same
 * names, sources and order), the injection phrases (SPEC §7.10), and the helpers that turn
 * policy `redact.patterns` into specs the worker can compile. No Node imports: the worker and
 * the client both load this file.
 */

/** Where a pattern came from; reported with timeouts (rea's `pattern_source`). */
export type PatternSource = 'default' | 'user' | 'injection';

/** A regex as data, so it can cross the worker boundary and be compiled there. */
export interface PatternSpec {
  name: string;
  source: PatternSource;
  /** RegExp source, without slashes. */
  regex: string;
  /** RegExp flags; `g` is always added by the worker, `y` is dropped. */
  flags: string;
}

/** A policy `redact.patterns[]` entry (SPEC §10.2). */
export interface UserPatternInput {
  name: string;
  regex: string;
  flags?: string;
}

/**
 * rea's `SECRET_PATTERNS`, in rea's order (later patterns see the output of earlier ones, so
 * the order is part of the behaviour: Anthropic and OpenAI project keys run before the generic
 * `sk-` key).
 */
export const SECRET_PATTERNS: readonly PatternSpec[] = [
  { name: 'AWS Access Key', regex: 'AKIA[0-9A-Z]{16}', flags: 'gi' },
  { name: 'AWS Secret Key', regex: '(?:aws_secret_access_key|secret_key)\\s*[:=]\\s*[A-Za-z0-9/+=]{40}', flags: 'gi' },
  { name: 'GitHub Token', regex: 'gh[pousr]_[A-Za-z0-9_]{36,}', flags: 'g' },
  { name: 'Generic API Key', regex: '(?:api[_-]?key|apikey)\\s*[:=]\\s*["\']?[A-Za-z0-9\\-_.]{20,}["\']?', flags: 'gi' },
  { name: 'Bearer Token', regex: 'bearer\\s+[A-Za-z0-9\\-_.~+/]+=*', flags: 'gi' },
  { name: 'Private Key', regex: '-----BEGIN (?:(?:RSA|EC|DSA) )?PRIVATE KEY-----', flags: 'gi' },
  { name: 'Discord Token', regex: '[MN][A-Za-z\\d]{23,}\\.[\\w-]{6}\\.[\\w-]{27,}', flags: 'g' },
  { name: 'Base64 AWS Key', regex: 'QUtJQ[A-Za-z0-9+/]{17,}={0,2}', flags: 'g' },
  { name: 'Anthropic API Key', regex: 'sk-ant-[a-zA-Z0-9\\-_]{32,}', flags: 'g' },
  { name: 'OpenAI Project Key', regex: 'sk-proj-[a-zA-Z0-9\\-_]{32,}', flags: 'g' },
  { name: 'OpenAI API Key', regex: 'sk-[a-zA-Z0-9]{32,}', flags: 'g' },
  { name: 'Hugging Face Token', regex: 'hf_[a-zA-Z0-9]{32,}', flags: 'g' },
].map((p) => Object.freeze({ ...p, source: 'default' as const }));

/**
 * Injection phrases, matched as substrings of the normalised text (SPEC §7.10). The trailing
 * spaces of the last four are significant; "act as a" is deliberately absent.
 */
export const INJECTION_PHRASES: readonly string[] = [
  'ignore previous instructions',
  'disregard your',
  'your new instructions are',
  'system prompt override',
  'forget all previous',
  'you are now a ',
  'you are now an ',
  'pretend you are ',
  'roleplay as ',
];

/** Base64 tokens probed for hidden phrases (taken from the raw string). */
export const BASE64_TOKEN: PatternSpec = {
  name: 'base64 token',
  source: 'injection',
  regex: '[A-Za-z0-9+/]{20,}={0,2}',
  flags: 'g',
};

/** What replaces a secret: `[REDACTED:<pattern name>]`. */
export function redactionMarker(name: string): string {
  return `[REDACTED:${name}]`;
}

/** What replaces every string of a value whose redaction did not finish in time. */
export const REDACTION_TIMED_OUT = '[REDACTION TIMED OUT]';

/** Flags as the worker compiles them: always global, never sticky, each flag once. */
export function normaliseFlags(flags: string | undefined): string {
  const kept = new Set([...(flags ?? '')].filter((f) => f !== 'g' && f !== 'y'));
  return ['g', ...kept].join('');
}

/** Result of vetting policy patterns before they go to the worker. */
export interface VettedPatterns {
  specs: PatternSpec[];
  /** Patterns that do not compile; they are not used, and the caller must surface them. */
  rejected: Array<{ name: string; reason: string }>;
}

/**
 * Turns policy `redact.patterns` into specs. Compiling a RegExp does not run it, so this is
 * safe on the main thread; patterns that do not compile are returned as rejected (the policy
 * schema already refuses them, this is the second line).
 */
export function vetUserPatterns(input: readonly UserPatternInput[] | undefined): VettedPatterns {
  const specs: PatternSpec[] = [];
  const rejected: Array<{ name: string; reason: string }> = [];
  for (const p of input ?? []) {
    const name = typeof p?.name === 'string' && p.name ? p.name : '(unnamed)';
    if (typeof p?.regex !== 'string' || p.regex === '') {
      rejected.push({ name, reason: 'regex is empty' });
      continue;
    }
    const flags = normaliseFlags(p.flags);
    try {
      new RegExp(p.regex, flags);
    } catch (err) {
      rejected.push({ name, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    specs.push({ name, source: 'user', regex: p.regex, flags });
  }
  return { specs, rejected };
}
