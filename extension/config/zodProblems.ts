/**
 * Turns zod issues into ConfigProblems placed on the exact YAML node, with messages that say
 * how to fix the file. zod's stock messages ("Invalid input: expected string, received number")
 * say neither where nor what to do, so:
 * - the schemas write their own messages where they know better, optionally tagged with a
 *   problem code as `[code] message` (see {@link coded}); custom issues carry `params.code`;
 * - everything else is parsed with a sentinel message and rephrased here from the issue's
 *   structured fields (expected type, allowed values, allowed keys…).
 */
import type { z } from 'zod';
import type { ConfigProblem } from './problem';
import { allowedKeys } from './schemaNode';
import { rangeOf, type YamlPath, type YamlSource } from './yamlDocument';

/** Marks "zod's default message": anything else came from our schemas and is kept. */
const DEFAULT_MESSAGE = '\u0000default';

/** Extra data our custom issues carry in `params`. */
export interface IssueParams {
  /** Problem code; default depends on the zod issue code. */
  code?: string;
  /** Sub-range of the string value to underline (e.g. the bad `${…}`). */
  span?: { offset: number; length: number };
  /** Point at the key instead of the value. */
  at?: 'key' | 'value';
  /** Replace `text` in the message with "line N" of the node at `path` (duplicate names). */
  related?: { path: YamlPath; text: string };
  /** Problem severity; custom checks may downgrade to a warning. */
  severity?: ConfigProblem['severity'];
}

/** Prefixes a message with a problem code, for schema-level `error` options that cannot carry params. */
export function coded(code: string, message: string): string {
  return `[${code}] ${message}`;
}

const CODED = /^\[([a-z0-9-]+)\] ([\s\S]*)$/;

/** Validates `value` against `schema`; returns the output or the problems, positioned in `source`. */
export function validateWithProblems<S extends z.ZodType>(
  schema: S,
  source: YamlSource,
  value: unknown,
): { data?: z.output<S>; problems: ConfigProblem[] } {
  const result = schema.safeParse(value, { error: () => DEFAULT_MESSAGE, reportInput: true });
  if (result.success) return { data: result.data, problems: [] };
  const problems = result.error.issues.flatMap((issue) => issueToProblems(schema, source, issue));
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { problems };
}

type Issue = z.core.$ZodIssue;

function issueToProblems(schema: z.ZodType, source: YamlSource, issue: Issue): ConfigProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const make = (code: string, message: string, at: YamlPath, options: Parameters<typeof rangeOf>[2] = {}, severity: ConfigProblem['severity'] = 'error'): ConfigProblem => ({
    file: source.file,
    ...rangeOf(source, at, options),
    severity,
    code,
    message,
  });

  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schema, path);
    return issue.keys.map((key) => make('unknown-key', unknownKeyMessage(key, path, allowed), [...path, key], { at: 'key' }));
  }

  const own = issue.message !== DEFAULT_MESSAGE ? issue.message : undefined;
  const tagged = own ? CODED.exec(own) : null;

  if (issue.code === 'custom') {
    const params = (issue.params ?? {}) as IssueParams;
    let message = tagged?.[2] ?? own ?? `${label(path)} is not valid`;
    if (params.related) {
      const line = rangeOf(source, params.related.path).line;
      message = message.replace(params.related.text, `line ${line}`);
    }
    return [make(params.code ?? tagged?.[1] ?? 'invalid-value', message, path, { at: params.at, span: params.span }, params.severity)];
  }

  if (issue.code === 'invalid_key') {
    const inner = issue.issues.find((i) => i.message !== DEFAULT_MESSAGE)?.message;
    const innerTagged = inner ? CODED.exec(inner) : null;
    const key = String(path[path.length - 1]);
    return [make(innerTagged?.[1] ?? 'invalid-key', innerTagged?.[2] ?? inner ?? `'${key}' is not a valid key in ${label(path.slice(0, -1))}`, path, { at: 'key' })];
  }

  const missing = issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value');
  if (tagged) return [make(tagged[1] as string, tagged[2] as string, path)];
  if (own) return [make(missing ? 'missing-key' : 'invalid-value', own, path)];
  if (missing) return [make('missing-key', missingMessage(path, issue), path)];
  return [make(issue.code === 'invalid_type' ? 'invalid-type' : 'invalid-value', genericMessage(path, issue), path)];
}

/** `servers[0].env.PORT`, the way a user would point at it. */
export function label(path: YamlPath): string {
  if (path.length === 0) return 'the top level';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function unknownKeyMessage(key: string, path: YamlPath, allowed: string[]): string {
  const where = path.length === 0 ? '' : ` in ${label(path)}`;
  const guess = closest(key, allowed);
  if (guess) return `unknown key '${key}'${where}; did you mean '${guess}'?`;
  if (allowed.length === 0) return `unknown key '${key}'${where}; remove it`;
  return `unknown key '${key}'${where}; remove it or use one of: ${allowed.join(', ')}`;
}

function missingMessage(path: YamlPath, issue: Issue): string {
  const key = path[path.length - 1];
  const parent = path.slice(0, -1);
  const expected = expectedText(issue);
  const what = expected ? ` (${expected})` : '';
  if (typeof key !== 'string') return `${label(path)} is missing; add it${what}`;
  return parent.length === 0
    ? `missing required key '${key}'; add '${key}:' at the top level${what}`
    : `${label(parent)} is missing required key '${key}'; add '${key}:'${what}`;
}

function genericMessage(path: YamlPath, issue: Issue): string {
  const where = label(path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = expectedText(issue) ?? String(issue.expected);
      // "write [] for none" suits a key left empty, not an empty list item.
      const hint = issue.input === null && typeof path[path.length - 1] === 'number' ? '' : typeHint(issue.expected, issue.input);
      return `${where} must be ${expected}, not ${describeValue(issue.input)}${hint}`;
    }
    case 'invalid_value':
      return `${where} must be ${oneOf(issue.values)}, not ${describeValue(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? `${where} must not be empty` : `${where} must be at least ${issue.minimum} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `${where} must have at least ${issue.minimum} item(s)`;
      if (Number(issue.minimum) === 0 && !issue.inclusive) return `${where} must be greater than 0, not ${describeValue(issue.input)}`;
      return `${where} must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}, not ${describeValue(issue.input)}`;
    case 'too_big':
      if (issue.origin === 'string') return `${where} must be at most ${issue.maximum} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `${where} must have at most ${issue.maximum} item(s)`;
      return `${where} must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}, not ${describeValue(issue.input)}`;
    case 'invalid_format':
      return issue.format === 'regex' && 'pattern' in issue
        ? `${where} must match ${String(issue.pattern)}, not ${describeValue(issue.input)}`
        : `${where} is not a valid ${issue.format}`;
    case 'not_multiple_of':
      return `${where} must be a multiple of ${issue.divisor}`;
    case 'invalid_union': {
      const options = unionOptions(issue);
      return options ? `${where} must be ${options}, not ${describeValue(issue.input)}` : `${where} is not valid here`;
    }
    default:
      return `${where} is not valid here`;
  }
}

/** Words for what a field expects, from an invalid_type or union issue. */
function expectedText(issue: Issue): string | undefined {
  if (issue.code === 'invalid_type') return typeWord(String(issue.expected));
  if (issue.code === 'invalid_union') return unionOptions(issue);
  if (issue.code === 'invalid_value') return oneOf(issue.values);
  return undefined;
}

function unionOptions(issue: Issue): string | undefined {
  if (issue.code !== 'invalid_union') return undefined;
  const parts: string[] = [];
  for (const branch of issue.errors) {
    const first = branch[0];
    if (!first || first.path.length > 0) return undefined;
    if (first.code === 'invalid_value') parts.push(...first.values.map(show));
    else if (first.code === 'invalid_type') parts.push(typeWord(String(first.expected)));
    else return undefined;
  }
  return parts.length ? joinOr(parts) : undefined;
}

function typeWord(expected: string): string {
  switch (expected) {
    case 'string': return 'a string';
    case 'number': return 'a number';
    case 'int': return 'a whole number';
    case 'boolean': return 'true or false';
    case 'array': return 'a list';
    case 'object':
    case 'record':
    case 'map': return 'a mapping (key: value)';
    default: return expected;
  }
}

function describeValue(input: unknown): string {
  if (input === undefined) return 'missing';
  if (input === null) return 'empty';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'string') return input.length > 40 ? `'${input.slice(0, 37)}...'` : `'${input}'`;
  if (typeof input === 'number' || typeof input === 'boolean') return String(input);
  if (typeof input === 'object') return 'a mapping';
  return typeof input;
}

/** A fix for the classic YAML type slips: unquoted numbers, scalars where lists go, empty values. */
function typeHint(expected: unknown, input: unknown): string {
  if (expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')) return `; put it in quotes: "${String(input)}"`;
  if (expected === 'array' && input === null) return '; write [] for none';
  if (expected === 'array' && typeof input === 'string') return `; write it as a list: [${JSON.stringify(input)}]`;
  if ((expected === 'record' || expected === 'object') && input === null) return '; write {} for none';
  if ((expected === 'int' || expected === 'number') && typeof input === 'string' && input.trim() !== '' && !Number.isNaN(Number(input))) return `; remove the quotes: ${input}`;
  if (expected === 'boolean' && typeof input === 'string') return '; write true or false without quotes';
  return '';
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function oneOf(values: readonly unknown[]): string {
  return values.length === 1 ? show(values[0]) : `one of ${values.map(show).join(', ')}`;
}

function joinOr(parts: string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/** The allowed key a typo most likely meant: same letters ignoring case and -/_, or a small edit distance. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/-/g, '_');
  const exact = allowed.find((a) => norm(a) === norm(key));
  if (exact) return exact;
  let best: string | undefined;
  // Short keys get a tighter bound, or 'bad' would "mean" 'cwd'.
  let bestDistance = Math.min(2, Math.max(1, Math.floor(key.length / 3))) + 1;
  for (const candidate of allowed) {
    const d = distance(norm(key), norm(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}
