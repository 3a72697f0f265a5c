/**
 * Position-aware YAML parsing. Every consumer of the config (gateway, CLI, language server)
 * needs problems with exact ranges, so we keep the `yaml` CST-backed Document and its
 * LineCounter next to the plain JS value instead of calling `yaml.parse` and losing positions.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode, type YAMLError } from 'yaml';
import { fileProblem, type ConfigProblem, type SourceRange } from './problem';

/** A parsed YAML file: the document with positions, the plain value, and syntax problems. */
export interface YamlSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /**
   * The document as plain JS (`null` for an empty or comment-only file); `undefined` when the
   * YAML has errors, because a half-parsed tree would produce misleading schema problems.
   */
  value: unknown;
  /** YAML syntax errors and warnings, in file order. */
  problems: ConfigProblem[];
}

/** A path into the document, as zod reports it: map keys as strings, list indexes as numbers. */
export type YamlPath = readonly (string | number)[];

/** Options of {@link rangeOf}. */
export interface RangeOptions {
  /** `key` points at the map key of the last segment (used for unknown keys); default `value`. */
  at?: 'key' | 'value';
  /**
   * A sub-range of a string value, in characters of the parsed string; applied only when the
   * scalar's source text maps one-to-one onto its value (plain, or quoted without escapes).
   */
  span?: { offset: number; length: number };
}

/** Fix hints for the YAML error codes people actually hit while hand-editing config. */
const YAML_HINTS: Partial<Record<YAMLError['code'], string>> = {
  DUPLICATE_KEY: 'remove or rename the repeated key (each key may appear once per mapping)',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MULTIPLE_DOCS: "keep a single YAML document: remove the '---' separator and what follows it",
  BAD_DQ_ESCAPE: "inside double quotes a backslash starts an escape; use single quotes for regexes and Windows paths",
  TAG_RESOLVE_FAILED: "remove the '!tag' before the value",
  BAD_INDENT: 'check the indentation of this line against its parent',
  MISSING_CHAR: 'add the missing closing bracket or quote',
  MULTILINE_IMPLICIT_KEY: "a key must fit on one line; check for a missing ':' or an unclosed quote above",
  BLOCK_AS_IMPLICIT_KEY: "check for a missing ':' or wrong indentation",
  UNEXPECTED_TOKEN: 'check the indentation, colons and brackets on this line',
};

/** Parses YAML text. Never throws: syntax problems are returned with their ranges. */
export function parseYamlDocument(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // prettyErrors off: it appends a code frame to each message, which a diagnostic list doesn't want.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const toProblem = (err: YAMLError, severity: ConfigProblem['severity']): ConfigProblem => {
    const [start, end] = widenToWord(text, err.pos[0], err.pos[1]);
    const firstLine = err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? err.message;
    const hint = YAML_HINTS[err.code] ?? (severity === 'error' ? 'fix the YAML syntax here' : undefined);
    return {
      file,
      ...toRange(lineCounter, start, end),
      severity,
      code: `yaml-${err.code.toLowerCase().replace(/_/g, '-')}`,
      message: hint ? `${firstLine}; ${hint}` : firstLine,
    };
  };
  for (const err of doc.errors) problems.push(toProblem(err, 'error'));
  for (const warn of doc.warnings) problems.push(toProblem(warn, 'warning'));

  let value: unknown;
  if (doc.errors.length === 0) {
    try {
      // The default alias limit (100) stops "billion laughs" expansion; it throws when exceeded.
      value = doc.toJS({ maxAliasCount: 100 }) ?? null;
    } catch (err) {
      problems.push(fileProblem(file, 'yaml-aliases', `${err instanceof Error ? err.message : String(err)}; use fewer aliases (*name) and write the values out instead`));
    }
  }
  problems.sort(byPosition);
  return { file, text, doc, lineCounter, value, problems };
}

/**
 * The range of the node at `path`. When the path does not exist (a missing key, say), falls back
 * to the nearest existing parent. A scalar is pointed at itself; a mapping or list at its key, or
 * at its first line when it has none (a list item) — never a whole multi-line block, which would
 * paint half the file red in an editor.
 */
export function rangeOf(source: YamlSource, path: YamlPath, options: RangeOptions = {}): SourceRange {
  const { lineCounter, text } = source;
  const { node, key, complete } = locate(source.doc, path);

  if (complete && options.at === 'key' && key?.range) return toRange(lineCounter, key.range[0], key.range[1]);
  if (node && (isScalar(node) || isAlias(node)) && node.range && node.range[1] > node.range[0]) {
    const [start, end] = node.range;
    if (complete && options.span && isScalar(node) && typeof node.value === 'string') {
      const inner = mappedStart(text, start, end, node.type, node.value);
      if (inner !== undefined) {
        const from = inner + options.span.offset;
        return toRange(lineCounter, from, Math.min(from + Math.max(options.span.length, 1), end));
      }
    }
    return toRange(lineCounter, start, end);
  }
  if (key?.range) return toRange(lineCounter, key.range[0], key.range[1]);
  if (node?.range) return firstLine(lineCounter, text, node.range[0], node.range[1]);
  return { line: 1, column: 1, endLine: 1, endColumn: 1 };
}

/** Walks `path` from the document root, remembering the key that led to each node. */
function locate(doc: Document.Parsed, path: YamlPath): { node: YamlNode | null; key: YamlNode | null; complete: boolean } {
  let node = (doc.contents ?? null) as YamlNode | null;
  let key: YamlNode | null = null;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as string | number;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return { node, key, complete: false };
      key = pair.key as YamlNode;
      node = (pair.value ?? null) as YamlNode | null;
      // `key:` with nothing after it: the key is the only thing to point at.
      if (node === null) return { node, key, complete: i === path.length - 1 };
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as YamlNode | undefined;
      if (!item) return { node, key, complete: false };
      key = null;
      node = item;
    } else {
      return { node, key, complete: false };
    }
  }
  return { node, key, complete: true };
}

/** Where the string value starts inside the scalar's source, if its characters map 1:1; else undefined. */
function mappedStart(text: string, start: number, end: number, type: string | undefined, value: string): number | undefined {
  const src = text.slice(start, end);
  if (type === 'PLAIN' && src === value) return start;
  if ((type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE') && src.slice(1, -1) === value) return start + 1;
  return undefined;
}

function toRange(lineCounter: LineCounter, start: number, end: number): SourceRange {
  const a = lineCounter.linePos(start);
  const b = lineCounter.linePos(Math.max(end, start));
  return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
}

/** The part of [start, end) on its first line, trailing whitespace trimmed. */
function firstLine(lineCounter: LineCounter, text: string, start: number, end: number): SourceRange {
  let stop = text.indexOf('\n', start);
  if (stop === -1 || stop > end) stop = end;
  while (stop > start && /\s/.test(text[stop - 1] ?? '')) stop--;
  return toRange(lineCounter, start, stop);
}

/** yaml reports some errors at a single character; widen to the word there so it is visible. */
function widenToWord(text: string, start: number, end: number): [number, number] {
  if (end - start > 1) return [start, end];
  let stop = start;
  while (stop < text.length && /[^\s:,[\]{}#]/.test(text[stop] ?? '')) stop++;
  return [start, Math.max(stop, end, start)];
}

function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return a.line - b.line || a.column - b.column;
}
