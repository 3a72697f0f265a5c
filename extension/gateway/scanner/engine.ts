/**
 * The scanning work itself, as pure synchronous functions. The worker thread runs them on
 * untrusted text; the main thread only on small payloads with the built-in, linear-time patterns
 * (Scanner's inline path; DESIGN §1); unit tests call them directly.
 */
import { forEachBase64Token } from './base64Tokens';
import { mayHoldWhitespace } from './mayHoldWhitespace';
import { INJECTION_PHRASES, SECRET_LITERALS, SECRET_PATTERNS, normaliseFlags, redactionMarker, type PatternSource, type PatternSpec } from './patterns';

export { mayHoldWhitespace };

/** A spec compiled in the worker. */
export interface CompiledPattern {
  name: string;
  source: PatternSource;
  re: RegExp;
  /**
   * What a text must hold for a built-in pattern to match in it, from its
   * {@link SECRET_LITERALS}: for each group, every character of one of its literals — each
   * character given as the characters that can match it (both cases of a letter when the
   * pattern ignores case).
   */
  needs?: ReadonlyArray<ReadonlyArray<ReadonlyArray<readonly string[]>>>;
}

/**
 * Compiled patterns, and a probe over the leading built-in ones: one alternation per flag set
 * that matches a text exactly when one of those patterns would. Most strings of a call hold no
 * secret, and one probe costs about what one pattern does, where running 40-odd patterns costs
 * 40 times that. Only built-in patterns are combined: they have no backreferences (a shape
 * test), whose numbers an alternation would shift; policy patterns run one by one.
 */
export type CompiledPatterns = CompiledPattern[] & { probe?: { regexes: RegExp[]; count: number } };

/**
 * Longest text the probe is used on. It saves the fixed cost of running each pattern, which
 * dominates on short strings; on long ones an alternation scans slower than the patterns one by
 * one (each of those can skip ahead to its literal), so a long text goes straight to them.
 */
const PROBE_MAX_CHARS = 1024;

/** Compiles specs; a spec that does not compile is skipped and reported through `onError`. */
export function compilePatterns(specs: readonly PatternSpec[], onError?: (spec: PatternSpec, err: unknown) => void): CompiledPatterns {
  const out: CompiledPatterns = [];
  for (const spec of specs) {
    try {
      const re = new RegExp(spec.regex, normaliseFlags(spec.flags));
      out.push({ name: spec.name, source: spec.source, re, ...literalsOf(spec, re) });
    } catch (err) {
      onError?.(spec, err);
    }
  }
  let count = 0;
  while (count < out.length && out[count]!.source === 'default') count++;
  if (count > 1) {
    const byFlags = new Map<string, string[]>();
    for (const p of out.slice(0, count)) {
      const flags = p.re.flags.replace('g', '');
      byFlags.set(flags, [...(byFlags.get(flags) ?? []), `(?:${p.re.source})`]);
    }
    try {
      out.probe = { regexes: [...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags)), count };
    } catch {
      // No probe (e.g. two patterns naming the same group): every pattern runs, as before.
    }
  }
  return out;
}

/**
 * The literals a built-in pattern's matches hold, when `spec` is that built-in exactly (same
 * source and flags): a policy pattern, even one named like a built-in, never gets them.
 */
function literalsOf(spec: PatternSpec, re: RegExp): Pick<CompiledPattern, 'needs'> {
  const literals = spec.source === 'default' ? SECRET_LITERALS[spec.name] : undefined;
  const builtIn = literals && SECRET_PATTERNS.find((p) => p.name === spec.name);
  if (!builtIn || builtIn.regex !== spec.regex || builtIn.flags !== spec.flags) return {};
  const forms = (c: string): string[] => (re.ignoreCase ? [...new Set([c.toLowerCase(), c.toUpperCase()])] : [c]);
  return { needs: literals.map((group) => group.map((literal) => [...new Set(literal)].map(forms))) };
}

/**
 * Whether `text` holds the ASCII character `c`, remembered per character in `seen` (0 unknown,
 * 1 yes, 2 no): at most one search per character and text. `String#includes` of one character
 * is a native scan (memchr on one-byte text) that stops at the first hit: a text holding every
 * character costs a few short scans, one lacking them a few fast whole ones. (A multi-character
 * literal is not searched for: V8 looks for those with a memchr per occurrence of the first
 * character, so a text full of that character — `xxxx…` for `xox` — costs more than the regex.)
 */
function holds(text: string, c: string, seen: Uint8Array): boolean {
  const code = c.charCodeAt(0);
  if (seen[code] === 0) seen[code] = text.includes(c) ? 1 : 2;
  return seen[code] === 1;
}

// C0 controls except TAB, LF and CR (rea's sanitizeInput).
const CONTROL_TEST = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;
const CONTROL_ALL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;

/**
 * Redacts one string: control characters are stripped, then every pattern in order replaces
 * its matches with `[REDACTED:<name>]`. Returns undefined when nothing matched (the original
 * string, control characters included, is kept — as rea). `onPattern(i)` is called before
 * pattern `i` runs so a watchdog can tell which pattern was running when time ran out. On a long
 * text (no probe) a built-in pattern is skipped when, for one group of its literals, the text
 * lacks a character of each: it cannot match, so running it would change nothing.
 */
export function redactString(
  input: string,
  patterns: readonly CompiledPattern[] & Pick<CompiledPatterns, 'probe'>,
  onPattern?: (index: number) => void,
): { value: string; names: string[] } | undefined {
  let current = CONTROL_TEST.test(input) ? input.replace(CONTROL_ALL, '') : input;
  let names: string[] | undefined;
  const probe = current.length <= PROBE_MAX_CHARS ? patterns.probe : undefined;
  // Nothing the built-in patterns match: none of them can change the text, so skip them all.
  const first = probe && !probe.regexes.some((re) => re.test(current)) ? probe.count : 0;
  // Which ASCII characters `current` holds, asked for by the patterns' needs (see `holds`).
  const seen = probe ? undefined : new Uint8Array(128);
  for (let i = first; i < patterns.length; i++) {
    const p = patterns[i]!;
    onPattern?.(i);
    if (seen && p.needs && !p.needs.every((group) => group.some((chars) => chars.every((forms) => forms.some((c) => holds(current, c, seen)))))) continue;
    p.re.lastIndex = 0;
    let hit = false;
    // A replacer function: a marker containing `$` must not be read as a replacement pattern.
    // A named group `keep` (a built-in pattern's context, e.g. the `://` before credentials)
    // stays in front of the marker.
    const next = current.replace(p.re, (...args: unknown[]) => {
      hit = true;
      const groups = args[args.length - 1];
      const keep = typeof groups === 'object' && groups !== null ? (groups as Record<string, string | undefined>).keep : undefined;
      return (keep ?? '') + redactionMarker(p.name);
    });
    if (hit) {
      current = next;
      seen?.fill(0);
      (names ??= []).push(p.name);
    }
  }
  return names ? { value: current, names } : undefined;
}

// Unicode whitespace (JS `\s` covers NBSP, U+1680, U+2000–200A, U+2028/9, U+202F, U+205F, U+3000).
// Only runs that are not already a single ' ' are rewritten: replacing every lone space of a
// 1 MiB text costs ~100× more than this and changes nothing.
const WHITESPACE_TO_COLLAPSE = /\s{2,}|[^\S ]/g;
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const NON_ASCII = /[^\x00-\x7f]/;

/** Texts from this long are checked for ASCII by their UTF-8 length (a regex is cheaper below). */
const ASCII_BY_LENGTH_MIN = 256;

/**
 * Whether every code unit of `text` is ASCII. A long text is measured as UTF-8 instead of
 * scanned with {@link NON_ASCII}: `Buffer.byteLength` counts natively, ~8× faster, and every
 * non-ASCII code unit adds at least one byte (2–3 for a BMP character or a lone surrogate, 4 for
 * the two units of a pair), so the count equals the length exactly when all are ASCII.
 */
export function isAscii(text: string): boolean {
  return text.length < ASCII_BY_LENGTH_MIN ? !NON_ASCII.test(text) : Buffer.byteLength(text, 'utf8') === text.length;
}

/** The first half of the normalisation: NFKC, then default-ignorable code points dropped. */
export function unifyForInjection(text: string): string {
  // NFKC and the ignorable set leave ASCII unchanged: skip them for ASCII-only text.
  return isAscii(text) ? text : text.normalize('NFKC').replace(IGNORABLE, '');
}

/** SPEC §7.10 normalisation: NFKC, drop default-ignorable code points, collapse whitespace, lower-case. */
export function normaliseForInjection(text: string): string {
  return unifyForInjection(text).replace(WHITESPACE_TO_COLLAPSE, ' ').toLowerCase();
}

/**
 * Adds every phrase found in already-normalised text to `into`. The definition the scan keeps
 * to; the scan itself uses {@link findPhrasesInUnified}, which gives the same answer without
 * building the normalised copy (scanFastPaths.test.ts compares the two).
 */
export function findPhrases(normalised: string, into: Set<string>): void {
  for (const phrase of INJECTION_PHRASES) if (normalised.includes(phrase)) into.add(phrase);
}

/**
 * Each phrase as a regex over the unified text (NFKC, ignorables dropped), case-insensitive,
 * each space as `\s+`. It finds a phrase exactly when the phrase is a substring of the
 * normalised text, because the last two normalisation steps cannot make or break one:
 * - Collapsing turns each maximal run of whitespace into one space, and a phrase (lower-case
 *   words, one space between them) meets a run only as a space.
 * - Lower-casing maps A–Z to a–z; the only other code points whose lower case holds an ASCII
 *   letter are U+212A KELVIN SIGN (NFKC turns it into `K` first, so it never reaches here) and
 *   U+0130 (`İ` → `i` + U+0307, and every `i` of a phrase is followed by a letter); no code point
 *   gains or loses whitespace. A non-unicode `i` flag folds ASCII letters only, so `ı`, `ſ` and
 *   the Kelvin sign do not match either. (scanFastPaths.test.ts checks the phrases' shape and
 *   every code point.)
 * Skipping the collapse and the lower-casing of a whole long text saves most of the scan's
 * time (a 256 KiB text: ~10 ms → ~0.3 ms).
 */
export const PHRASE_PATTERNS: ReadonlyArray<{ phrase: string; re: RegExp; letters: ReadonlyArray<readonly string[]> }> = INJECTION_PHRASES.map((phrase) => ({
  phrase,
  re: new RegExp(phrase.split(' ').map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'), 'i'),
  // Each letter as the characters the regex takes for it: itself and its upper case.
  letters: [...new Set(phrase.replace(/ /g, ''))].map((c) => [c, c.toUpperCase()]),
}));

/**
 * Unified texts from this long are first asked, per character (see `holds`), whether they hold
 * every letter of a phrase in some case; a phrase whose letters are not all there cannot match
 * and its regex is not run (a text of one kind, `xxxx…` or digits or base64 of it, lacks most).
 */
const PHRASE_LETTERS_MIN_CHARS = 1024;

/**
 * Unified texts shorter than this are searched the plain way instead: collapse, lower-case, one
 * substring search per phrase ({@link findPhrases}). On a short text building that copy costs
 * less than running the phrase regexes (each run has a fixed cost): measured on prose, JSON,
 * identifiers and capitalised text, the substring search is ahead by 5–40 % up to 16
 * characters, the two are even around 20–24, and the regexes are ahead from 32 on (by 20–40 %
 * at 64–256, several times on long texts).
 */
export const PHRASE_REGEX_MIN_CHARS = 24;

/** Adds every phrase whose normalised form `unified` would contain to `into` (see {@link PHRASE_PATTERNS}). */
export function findPhrasesInUnified(unified: string, into: Set<string>): void {
  if (unified.length < PHRASE_REGEX_MIN_CHARS) {
    findPhrases(unified.replace(WHITESPACE_TO_COLLAPSE, ' ').toLowerCase(), into);
    return;
  }
  const seen = unified.length >= PHRASE_LETTERS_MIN_CHARS ? new Uint8Array(128) : undefined;
  for (const { phrase, re, letters } of PHRASE_PATTERNS) {
    if (into.has(phrase)) continue;
    if (seen && !letters.every((forms) => forms.some((c) => holds(unified, c, seen)))) continue;
    if (re.test(unified)) into.add(phrase);
  }
}

/** Reused by the tokens of every scan (a buffer each was a tenth of a scan of JSON text). */
const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | undefined;

/** The bytes of a base64 token, as `Buffer.from(token, 'base64')`; valid until the next call. */
export function decodeBase64(token: string): Buffer {
  // Every 4 characters decode to at most 3 bytes.
  const room = Math.ceil((token.length * 3) / 4) + 3;
  const into = room <= SCRATCH_BYTES ? (scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES)) : Buffer.allocUnsafeSlow(room);
  return into.subarray(0, into.write(token, 0, 'base64'));
}

/**
 * Characters of base64 decoded per piece by {@link tokenMayHoldWhitespace}: whole quanta whose
 * bytes fit the scratch buffer ({@link decodeBase64} asks for 3 bytes of room beyond them).
 */
export const PIECE_CHARS = Math.floor((SCRATCH_BYTES - 3) / 3) * 4;

/**
 * {@link mayHoldWhitespace} of the bytes `token` decodes to, decoded a piece at a time into the
 * reused scratch buffer. A token longer than the buffer (a long run of word-like text: `xxxx…`,
 * an identifier, a minified blob) would otherwise be decoded into a buffer of its own, only to be
 * skipped: touching that much fresh memory cost more than the decoding and the check together.
 * Each piece is whole 4-character quanta (padding can only end the token), so the pieces decode
 * to exactly the bytes of the whole; a lead byte that ends one piece is checked against the
 * first byte of the next.
 */
export function tokenMayHoldWhitespace(token: string): boolean {
  let leadBefore = false;
  for (let at = 0; at < token.length; at += PIECE_CHARS) {
    const bytes = decodeBase64(token.slice(at, at + PIECE_CHARS));
    if (bytes.length === 0) continue;
    if (leadBefore && (bytes[0]! & 0xc0) === 0x80) return true;
    if (mayHoldWhitespace(bytes)) return true;
    const last = bytes[bytes.length - 1]!;
    leadBefore = last >= 0xc2 && last <= 0xf4;
  }
  return false;
}

/**
 * Scans one raw string: phrases in the normalised text go to `literal`; phrases hidden in base64
 * tokens of the raw text (the matches of `BASE64_TOKEN`, found by {@link forEachBase64Token})
 * go to `base64`.
 */
export function scanInjectionString(raw: string, literal: Set<string>, base64: Set<string>): void {
  findPhrasesInUnified(unifyForInjection(raw), literal);
  if (raw.length < 20) return;
  forEachBase64Token(raw, (start, end) => {
    const token = raw.slice(start, end);
    // A long token is probed piece by piece first, and decoded whole only when it may hide a phrase.
    const long = token.length > PIECE_CHARS;
    if (long && !tokenMayHoldWhitespace(token)) return;
    const bytes = decodeBase64(token);
    if (!long && !mayHoldWhitespace(bytes)) return;
    const decoded = bytes.toString('utf8');
    // Cheap pre-filter: a decoded phrase needs at least the shortest phrase's length of text.
    if (decoded.length < 12) return;
    findPhrasesInUnified(unifyForInjection(decoded), base64);
  });
}

/** The injection verdicts. */
export type InjectionVerdict = 'clean' | 'suspicious' | 'likely';

/**
 * rea's classification (SPEC §7.10), first matching rule wins: no hits → clean; any base64 hit →
 * likely; two or more distinct literal phrases → likely; read or unknown tier → likely; one
 * phrase at write/destructive tier → suspicious.
 */
export function classifyInjection(literalCount: number, base64Count: number, tier: 'read' | 'write' | 'destructive' | undefined): InjectionVerdict {
  if (literalCount === 0 && base64Count === 0) return 'clean';
  if (base64Count > 0) return 'likely';
  if (literalCount >= 2) return 'likely';
  if (tier === undefined || tier === 'read') return 'likely';
  return 'suspicious';
}
