/**
 * `${NAME}` interpolation, exactly as rea does it (SPEC §2.9), so a registry means the same thing
 * under both gateways:
 * - the only form is `${NAME}` with NAME a POSIX identifier; `$NAME`, `${X:-default}`, `$(cmd)`
 *   and escapes do not exist (a lone `$` or `}` is plain text);
 * - no recursion: a substituted value is never scanned again, so a hostile variable cannot
 *   trigger more lookups;
 * - syntax errors (empty `${}`, invalid name, `${` with no `}` after it) throw, because they are
 *   authoring mistakes that the registry schema reports at load time;
 * - a variable that is absent (or not a string) is a runtime condition, reported in `missing`,
 *   and the placeholder stays in the value as a visible marker; the caller refuses to spawn.
 */

/** Legal variable names: POSIX identifiers. Also used for `env_passthrough` entries. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * rea's secret-name heuristic: a case-insensitive substring test. It has known false positives
 * (`MONKEY`) and negatives (`DATABASE_URL`); we keep it for compatibility, and only use it to
 * refuse passthrough and to tag secret-bearing keys.
 */
export const SECRET_NAME_PATTERN = /(TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL)/i;

/** A `${…}` syntax error; `offset` is the index of the offending `${` in the value. */
export class InterpolationError extends Error {
  readonly offset: number;
  /** Length of the offending text, so an editor can underline exactly the placeholder. */
  readonly length: number;

  constructor(message: string, offset: number, length: number) {
    super(message);
    this.name = 'InterpolationError';
    this.offset = offset;
    this.length = length;
  }
}

/** Result of {@link interpolate}. */
export interface InterpolationResult {
  /** The value with every resolvable placeholder replaced. */
  value: string;
  /** Names referenced but absent from the host env, de-duplicated, in first-seen order. */
  missing: string[];
}

/** One `${NAME}` occurrence found by the scanner. */
interface Placeholder {
  /** Offset of the `$`. */
  start: number;
  /** Offset just past the `}`. */
  end: number;
  name: string;
}

/**
 * Finds every placeholder, throwing on the first syntax error. A hand-written scan rather than a
 * regex so that each error can carry the exact offset of its `${`.
 */
function scan(value: string): Placeholder[] {
  const found: Placeholder[] = [];
  let from = 0;
  for (;;) {
    const start = value.indexOf('${', from);
    if (start === -1) return found;
    const close = value.indexOf('}', start + 2);
    if (close === -1) {
      throw new InterpolationError(
        `unterminated '\${' at offset ${start}; close it with '}' (there is no escape for a literal '\${')`,
        start,
        value.length - start,
      );
    }
    const name = value.slice(start + 2, close);
    if (name.length === 0) {
      throw new InterpolationError(
        `empty placeholder '\${}' at offset ${start}; write '\${NAME}' with the name of a host environment variable`,
        start,
        close + 1 - start,
      );
    }
    if (!ENV_NAME_PATTERN.test(name)) {
      throw new InterpolationError(
        `invalid variable name '${name}' in '\${${name}}' at offset ${start}; names use A-Z, a-z, 0-9 and '_' and do not start with a digit`,
        start,
        close + 1 - start,
      );
    }
    found.push({ start, end: close + 1, name });
    from = close + 1;
  }
}

/**
 * Replaces every `${NAME}` in `value` with `env[NAME]`.
 * @throws {InterpolationError} on a syntax error (see module comment).
 */
export function interpolate(value: string, env: Readonly<Record<string, unknown>>): InterpolationResult {
  const placeholders = scan(value);
  if (placeholders.length === 0) return { value, missing: [] };
  const missing: string[] = [];
  let out = '';
  let last = 0;
  for (const p of placeholders) {
    out += value.slice(last, p.start);
    // Own properties only: a name like `constructor` must not resolve through the prototype.
    const resolved = Object.prototype.hasOwnProperty.call(env, p.name) ? env[p.name] : undefined;
    if (typeof resolved === 'string') {
      out += resolved;
    } else {
      out += value.slice(p.start, p.end);
      if (!missing.includes(p.name)) missing.push(p.name);
    }
    last = p.end;
  }
  out += value.slice(last);
  return { value: out, missing };
}

/** Syntax-only check used by the schemas: `null` when the value is fine. */
export function checkInterpolationSyntax(value: string): { offset: number; length: number; message: string } | null {
  try {
    scan(value);
    return null;
  } catch (err) {
    if (err instanceof InterpolationError) return { offset: err.offset, length: err.length, message: err.message };
    throw err;
  }
}

/** Names of the variables a value references, in order, without duplicates. Throws like {@link interpolate}. */
export function referencedNames(value: string): string[] {
  const names: string[] = [];
  for (const p of scan(value)) if (!names.includes(p.name)) names.push(p.name);
  return names;
}
