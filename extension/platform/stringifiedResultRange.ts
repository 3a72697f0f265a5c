/**
 * Where the `result` member's value lies in a JSON-RPC answer line, when the line is proven to be
 * spelled exactly as `JSON.stringify` spells what `JSON.parse` made of it; otherwise undefined.
 *
 * Used to forward a child's result bytes instead of serialising the parsed result again (see
 * rawResults.ts). The proof is what makes that safe against a child that lies: when the whole
 * line is JSON.stringify's own spelling of its value, the bytes of the `result` member are
 * exactly `JSON.stringify(parsed.result)`, so forwarding them sends, byte for byte, what the
 * gateway would have sent anyway — the same answer for every client's parser, whatever the
 * child meant. The caller must already have parsed `bytes[0, end)` successfully with
 * `JSON.parse` (as valid UTF-8: the text is then exactly these bytes): this only checks spelling,
 * not grammar, and gives up (undefined) on anything it does not expect.
 *
 * Decision: a child's spelling is forwarded only when it IS JSON.stringify's, never when it is
 * merely another spelling of the same value (`"\u00e9"`, `1E5`, a space): such lines are
 * serialised the ordinary way. "Same value" is not the same for every client's parser (`-0`,
 * `1e400`, integers beyond 2^53 and duplicate keys are read differently by different parsers, and
 * JSON.parse → JSON.stringify already changes them), whereas "same bytes" needs no argument: every
 * answer stays byte for byte what the gateway sent before forwarding existed. SDK servers
 * serialise with JSON.stringify, so honest large results take the fast path anyway.
 *
 * Spelled as JSON.stringify spells it means, for every part of the line:
 * - no whitespace outside strings;
 * - numbers as `String(n)` writes them (so `1.0`, `1E5`, `-0`, `1e400` and integers beyond
 *   double precision, which the parse changed, are refused);
 * - strings with only the escapes JSON.stringify writes: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`,
 *   `\u00xx` for the other control characters, and `\udxxx` for a lone surrogate, lowercase
 *   hex; every other character raw (so `\/`, `\u00e9` or an escaped surrogate pair are refused);
 * - objects whose keys are distinct and in the order the parsed object lists them: no duplicate
 *   key (the parse kept only the last, a client's parser might keep the first — the smuggling a
 *   lying child would try), and no key of digits only (V8 lists integer keys first).
 * - the line itself: one object of exactly three members, one of them `result`.
 * Keys are compared as raw bytes, which is exact because each string has one such spelling.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Deeper values are not worth proving: such a line is serialised the ordinary way. */
const MAX_DEPTH = 64;
/** Objects with more keys check duplicates with a set instead of a linear search. */
const LINEAR_KEYS = 16;

export interface ByteRange {
  start: number;
  end: number;
}

export function stringifiedResultRange(bytes: Uint8Array, end: number): ByteRange | undefined {
  if (end < 2 || bytes[0] !== OPEN_OBJECT || bytes[end - 1] !== CLOSE_OBJECT) return undefined;
  const scan = new SpellingScan(Buffer.from(bytes.buffer, bytes.byteOffset, end), end);
  const keys: string[] = [];
  let range: ByteRange | undefined;
  let i = 1;
  for (;;) {
    if (bytes[i] !== QUOTE) return undefined;
    const keyEnd = scan.string(i);
    if (keyEnd < 0) return undefined;
    const key = scan.key(i, keyEnd);
    if (key === undefined || keys.includes(key) || keys.length === 3) return undefined;
    keys.push(key);
    if (bytes[keyEnd] !== COLON) return undefined;
    const valueEnd = scan.value(keyEnd + 1, 1);
    if (valueEnd < 0) return undefined;
    if (key === 'result') range = { start: keyEnd + 1, end: valueEnd };
    i = valueEnd + 1;
    if (bytes[valueEnd] === COMMA) continue;
    if (bytes[valueEnd] === CLOSE_OBJECT && i === end) break;
    return undefined;
  }
  return keys.length === 3 ? range : undefined;
}

/** The checks of the file comment, over `bytes[0, end)`; each returns the index after what it read, or -1. */
class SpellingScan {
  /** The next backslash at or after the position last asked for (`end` when none): positions only grow. */
  private nextBackslash = -1;

  constructor(
    private readonly bytes: Buffer,
    private readonly end: number,
  ) {}

  value(i: number, depth: number): number {
    const b = this.bytes[i];
    if (b === QUOTE) return this.string(i);
    if (b === OPEN_OBJECT) return depth < MAX_DEPTH ? this.object(i, depth + 1) : -1;
    if (b === OPEN_ARRAY) return depth < MAX_DEPTH ? this.array(i, depth + 1) : -1;
    if (b === 0x74) return this.literal(i, 'true');
    if (b === 0x66) return this.literal(i, 'false');
    if (b === 0x6e) return this.literal(i, 'null');
    if (b === 0x2d || (b !== undefined && b >= 0x30 && b <= 0x39)) return this.number(i);
    return -1; // whitespace or anything unexpected
  }

  /** A string starting at the quote at `i`; long runs without escapes are skipped natively. */
  string(i: number): number {
    const { bytes, end } = this;
    let p = i + 1;
    for (;;) {
      const quote = bytes.indexOf(QUOTE, p);
      if (quote < 0 || quote >= end) return -1;
      if (this.nextBackslash < p) {
        const found = bytes.indexOf(BACKSLASH, p);
        this.nextBackslash = found < 0 ? end : found;
      }
      const escape = this.nextBackslash;
      if (escape > quote) return quote + 1;
      const length = this.escapeLength(escape);
      if (length < 0) return -1;
      p = escape + length;
    }
  }

  /** The key whose string spans `[i, keyEnd)`, as its raw bytes; undefined for a key of digits only. */
  key(i: number, keyEnd: number): string | undefined {
    let digits = keyEnd - i > 2;
    for (let k = i + 1; digits && k < keyEnd - 1; k++) digits = this.bytes[k]! >= 0x30 && this.bytes[k]! <= 0x39;
    return digits ? undefined : this.bytes.toString('latin1', i + 1, keyEnd - 1);
  }

  private escapeLength(at: number): number {
    const { bytes } = this;
    const c = bytes[at + 1];
    // \" \\ \b \f \n \r \t
    if (c === QUOTE || c === BACKSLASH || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) return 2;
    if (c !== 0x75) return -1; // \/ and anything else: not how JSON.stringify writes it
    let code = 0;
    for (let k = at + 2; k < at + 6; k++) {
      const h = bytes[k];
      if (h === undefined) return -1;
      const digit = h >= 0x30 && h <= 0x39 ? h - 0x30 : h >= 0x61 && h <= 0x66 ? h - 0x57 : -1;
      if (digit < 0) return -1; // uppercase hex is not JSON.stringify's
      code = code * 16 + digit;
    }
    if (code < 0x20) return code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? -1 : 6;
    // A high surrogate followed by another \u escape may be half of a pair (written raw by
    // JSON.stringify); refusing every such case keeps the check simple. A low surrogate escape
    // is then lone: a high one before it was refused, and raw surrogates are not valid UTF-8.
    if (code >= 0xd800 && code <= 0xdbff) return bytes[at + 6] === BACKSLASH && bytes[at + 7] === 0x75 ? -1 : 6;
    return code >= 0xdc00 && code <= 0xdfff ? 6 : -1;
  }

  private number(i: number): number {
    const { bytes, end } = this;
    let j = i + 1;
    while (j < end) {
      const b = bytes[j]!;
      // digits . e E + -
      if ((b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b || b === 0x2d) j++;
      else break;
    }
    const token = bytes.toString('latin1', i, j);
    const n = Number(token);
    return Number.isFinite(n) && String(n) === token ? j : -1;
  }

  private literal(i: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (this.bytes[i + k] !== word.charCodeAt(k)) return -1;
    return i + word.length;
  }

  private array(i: number, depth: number): number {
    const { bytes } = this;
    let p = i + 1;
    if (bytes[p] === CLOSE_ARRAY) return p + 1;
    for (;;) {
      p = this.value(p, depth);
      if (p < 0) return -1;
      const b = bytes[p];
      if (b === CLOSE_ARRAY) return p + 1;
      if (b !== COMMA) return -1;
      p++;
    }
  }

  private object(i: number, depth: number): number {
    const { bytes } = this;
    let p = i + 1;
    if (bytes[p] === CLOSE_OBJECT) return p + 1;
    const keys: string[] = [];
    let many: Set<string> | undefined;
    for (;;) {
      if (bytes[p] !== QUOTE) return -1;
      const keyEnd = this.string(p);
      if (keyEnd < 0) return -1;
      const key = this.key(p, keyEnd);
      if (key === undefined) return -1;
      if (many) {
        if (many.has(key)) return -1;
        many.add(key);
      } else {
        if (keys.includes(key)) return -1;
        keys.push(key);
        if (keys.length > LINEAR_KEYS) many = new Set(keys);
      }
      if (bytes[keyEnd] !== COLON) return -1;
      p = this.value(keyEnd + 1, depth);
      if (p < 0) return -1;
      const b = bytes[p];
      if (b === CLOSE_OBJECT) return p + 1;
      if (b !== COMMA) return -1;
      p++;
    }
  }
}
