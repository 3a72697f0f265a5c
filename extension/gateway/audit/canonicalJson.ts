/**
 * Canonical JSON for the audit hash chain.
 *
 * rea hashes `JSON.stringify(record)` in key-insertion order (SPEC §8.2, §13.1 item 13), so the
 * hash depends on how a record object happened to be built and a verifier written in another
 * language cannot recompute it. Here object keys are sorted recursively (by UTF-16 code units,
 * as `Array.prototype.sort` does), there is no whitespace, and strings and numbers are written
 * exactly as `JSON.stringify` writes them — which makes the output RFC 8785 (JCS) canonical for
 * the JSON data model.
 *
 * It is strict on purpose: anything that would not come back unchanged from `JSON.parse` of the
 * output is refused with a {@link CanonicalJsonError} instead of being silently coerced the way
 * `JSON.stringify` does (`undefined` in arrays → `null`, `NaN` → `null`, `Date`/`toJSON` →
 * whatever the method returns, BigInt → throw, lone surrogates → escapes other languages decode
 * differently). A hash over a value that does not round-trip would be unverifiable later
 * (SPEC §13.3 "Defect T").
 */

/** Thrown for a value outside the JSON data model; `path` says where (`$.metadata.x[2]`). */
export class CanonicalJsonError extends TypeError {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} at ${path}`);
    this.name = 'CanonicalJsonError';
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Nesting deeper than this is refused (no audit record needs it; recursion stays bounded). */
const MAX_DEPTH = 64;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Node 20 has String.prototype.isWellFormed (ES2024, not in our lib typings); it is several
// times faster than the regex, which stays as the fallback.
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** True when `s` is well-formed UTF-16 (no lone surrogate), i.e. it has a UTF-8 encoding. */
export function isWellFormedString(s: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(s) : !LONE_SURROGATE.test(s);
}

/**
 * Serialises `value` deterministically: keys sorted at every level, no whitespace.
 * Object properties whose value is `undefined` are left out (as `JSON.stringify` does); every
 * other non-JSON value throws {@link CanonicalJsonError}.
 */
export function canonicalJson(value: unknown): string {
  return new Writer().value(value, 0);
}

/**
 * The members of a plain object's canonical JSON (`"key":value`, by key; the map iterates in key
 * order, so joining its values in order is the object's canonical JSON), so that a caller adding
 * a few keys (the hash chain's `prev_hash` and `hash`) does not walk the rest again:
 * `joinMembers(canonicalMembers(o))` is `canonicalJson(o)`, and setting a member to
 * `"k":canonicalJson(v)` is the same as setting `o.k = v` first. Refuses what canonicalJson refuses.
 */
export function canonicalMembers(value: Record<string, unknown>): Map<string, string> {
  return new Writer().members(value);
}

/**
 * The members of a plain object's canonical JSON in runs: for each run of keys, the members
 * (`"key":value`, comma-separated) of those of its keys the object has defined. For an object
 * whose own keys are all among `runs`, listed in sorted order (run after run), the runs joined
 * with commas (empty ones left out) are its canonical members, as {@link canonicalMembers}
 * writes them, with the same refusals at the same paths; no key list is read or sorted. For a
 * caller that knows its object's keys (buildAuditBody.ts, whose bodies it builds itself).
 */
export function canonicalMemberRuns(value: Record<string, unknown>, runs: ReadonlyArray<readonly string[]>): string[] {
  return new Writer().memberRuns(value, runs);
}

/** The canonical JSON object of these members (keys sorted as canonicalJson sorts them). */
export function joinMembers(members: ReadonlyMap<string, string>): string {
  let out = '{';
  let first = true;
  for (const key of [...members.keys()].sort()) {
    out += (first ? '' : ',') + members.get(key)!;
    first = false;
  }
  return out + '}';
}

/**
 * `"key":` of member names seen before, each written once: the same few names (the record's
 * own and the layers' metadata keys) start every record's members, and writing them anew was
 * two strings per member. Only short names are kept, and only so many (metadata keys are the
 * callers' data).
 */
const keyPrefixes = new Map<string, string>();
const MAX_KEY_PREFIXES = 512;
const MAX_CACHED_KEY_CHARS = 64;

/** Up to this many keys are sorted in place by insertion (no work arrays, unlike `Array.prototype.sort`). */
const INSERTION_SORT_MAX = 12;

/**
 * An object's own enumerable keys in canonical order: by UTF-16 code units, as
 * `Array.prototype.sort` orders strings (`<` on two strings compares their code units too, and
 * own keys are never equal).
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * The serialiser. The path of the current value is kept as a stack of keys and only turned
 * into text when something is refused: this runs on every audit record, so the common case
 * builds no strings but the output.
 */
class Writer {
  private readonly keys: Array<string | number> = [];
  /**
   * The objects and arrays being written, outermost first (a cycle is one of them met again):
   * an array, not a Set, as the path is a few levels deep and a Set per record cost more.
   */
  private readonly open: object[] = [];

  value(value: unknown, depth: number): string {
    switch (typeof value) {
      case 'string':
        if (!isWellFormedString(value)) throw this.error('string contains a lone surrogate (not valid Unicode)');
        return JSON.stringify(value);
      case 'number':
        if (!Number.isFinite(value)) throw this.error(`number ${String(value)} has no JSON form`);
        // JSON.stringify already writes -0 as 0 (RFC 8785 does the same).
        return JSON.stringify(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'object':
        if (value === null) return 'null';
        return this.container(value, depth);
      default:
        // undefined (outside an object property), bigint, function, symbol.
        throw this.error(`${typeof value} has no JSON form`);
    }
  }

  private container(value: object, depth: number): string {
    if (depth >= MAX_DEPTH) throw this.error(`nesting deeper than ${MAX_DEPTH}`);
    if (this.open.includes(value)) throw this.error('circular reference');
    this.open.push(value);
    let out: string;
    if (Array.isArray(value)) {
      out = '[';
      for (let i = 0; i < value.length; i++) {
        this.keys.push(i);
        // A hole or undefined would become null in JSON.stringify: not a round trip.
        if (!(i in value) || value[i] === undefined) throw this.error('undefined array element');
        out += (i > 0 ? ',' : '') + this.value(value[i], depth + 1);
        this.keys.pop();
      }
      out += ']';
    } else {
      this.plain(value);
      const record = value as Record<string, unknown>;
      const keys = sortedKeys(record);
      out = '{';
      let first = true;
      for (const key of keys) {
        const child = record[key];
        if (child === undefined) continue;
        out += (first ? '' : ',') + this.member(key, child, depth);
        first = false;
      }
      out += '}';
    }
    this.open.pop();
    return out;
  }

  /** A top-level object's members, `"key":value` by key, with the checks of {@link container}. */
  members(value: object): Map<string, string> {
    this.plain(value);
    this.open.push(value);
    const record = value as Record<string, unknown>;
    const members = new Map<string, string>();
    for (const key of sortedKeys(record)) {
      const child = record[key];
      if (child !== undefined) members.set(key, this.member(key, child, 0));
    }
    this.open.pop();
    return members;
  }

  /** See {@link canonicalMemberRuns}: {@link members} over keys known in advance, in runs. */
  memberRuns(value: object, runs: ReadonlyArray<readonly string[]>): string[] {
    this.plain(value);
    this.open.push(value);
    const record = value as Record<string, unknown>;
    const out: string[] = [];
    for (const run of runs) {
      const members: string[] = [];
      for (const key of run) {
        // Own keys only, as Object.keys: a key the object lacks is not read from its prototype.
        if (!hasOwn.call(record, key)) continue;
        const child = record[key];
        if (child !== undefined) members.push(this.member(key, child, 0));
      }
      // Joined, not concatenated member by member: one flat string, where `+=` leaves a tree of
      // pieces that the caller keeps (until the record is written) and the GC then walks.
      out.push(members.join(','));
    }
    this.open.pop();
    return out;
  }

  /** Refuses an object whose JSON form is not its own enumerable properties. */
  private plain(value: object): void {
    const proto: unknown = Object.getPrototypeOf(value);
    // Dates, Maps, class instances, boxed primitives: their JSON form comes from toJSON or is
    // lossy. Callers convert them explicitly (a Date to its ISO string) before recording.
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw this.error(`${typeof name === 'string' && name ? name : 'non-plain'} object has no canonical JSON form`);
    }
  }

  /** `"key":value` of one defined property. */
  private member(key: string, child: unknown, depth: number): string {
    this.keys.push(key);
    // A kept prefix's key was checked when it was kept.
    let prefix = keyPrefixes.get(key);
    if (prefix === undefined) {
      if (!isWellFormedString(key)) throw this.error('key contains a lone surrogate (not valid Unicode)');
      prefix = JSON.stringify(key) + ':';
      if (key.length <= MAX_CACHED_KEY_CHARS && keyPrefixes.size < MAX_KEY_PREFIXES) keyPrefixes.set(key, prefix);
    }
    const text = prefix + this.value(child, depth + 1);
    this.keys.pop();
    return text;
  }

  private error(message: string): CanonicalJsonError {
    const path = this.keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
    return new CanonicalJsonError(message, `$${path}`);
  }
}
