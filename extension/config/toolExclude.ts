import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';

/** The result of {@link setToolExcluded}: the new text, or why the file was left alone. */
export type ToolExcludeEdit = { text: string } | { error: string };

/**
 * Adds `tool` to (or removes it from) `tools.exclude` of `server` in registry.yaml text. Only the
 * exact name is added or removed: patterns stay as written; an `exclude` / `tools` left empty is
 * dropped. The YAML Document API finds the nodes, and the change is spliced into the text at
 * their ranges, so every other byte (comments, quoting, spacing, flow lists) stays as it was;
 * a layout it cannot splice safely (flow-style `tools: {…}`, odd indentation) falls back to
 * re-serialising the document, which keeps comments but may respace them.
 */
export function setToolExcluded(text: string, server: string, tool: string, excluded: boolean): ToolExcludeEdit {
  const doc = parseDocument(text);
  if (doc.errors.length) return { error: `registry.yaml does not parse (${doc.errors[0]?.message.split('\n')[0] ?? ''}); fix it first` };
  const servers = doc.get('servers');
  const entry = isSeq(servers) ? servers.items.find((item) => isMap(item) && item.get('name') === server) : undefined;
  if (!isMap(entry)) return { error: `no server '${server}' in registry.yaml` };
  const tools = entry.get('tools', true) as YAMLMap | undefined;
  if (tools !== undefined && !isMap(tools)) return { error: `'tools' of '${server}' is not a mapping; fix it first` };
  const exclude = tools?.get('exclude', true) as YAMLSeq | undefined;
  if (exclude !== undefined && !isSeq(exclude)) return { error: `'tools.exclude' of '${server}' is not a list; fix it first` };
  const index = exclude ? exclude.items.findIndex((item) => (isScalar(item) ? item.value : item) === tool) : -1;
  if (excluded === (index !== -1)) return { text };
  const spliced = excluded ? spliceAdd(text, entry, tools, exclude, tool) : spliceRemove(text, entry, tools as YAMLMap, exclude as YAMLSeq, index);
  if (spliced !== undefined && sameValue(spliced, text, server, tool, excluded)) return { text: spliced };
  return { text: documentEdit(doc, entry, tool, excluded) };
}

/** True when `edited` parses to what the edit means: a guard on the splicing. */
function sameValue(edited: string, original: string, server: string, tool: string, excluded: boolean): boolean {
  const after = parseDocument(edited);
  if (after.errors.length) return false;
  const expected = parseDocument(original).toJS() as { servers?: Array<{ name?: string; tools?: { exclude?: string[]; include?: string[] } }> };
  const entry = expected.servers?.find((s) => s.name === server);
  if (!entry) return false;
  const list = (entry.tools?.exclude ?? []).filter((t) => t !== tool);
  if (excluded) list.push(tool);
  const tools = { ...entry.tools, exclude: list };
  if (list.length === 0) delete (tools as { exclude?: string[] }).exclude;
  if (Object.keys(tools).length === 0) delete entry.tools;
  else entry.tools = tools;
  return JSON.stringify(after.toJS()) === JSON.stringify(expected);
}

function documentEdit(doc: ReturnType<typeof parseDocument>, entry: YAMLMap, tool: string, excluded: boolean): string {
  if (excluded) {
    if (!entry.has('tools')) entry.set('tools', doc.createNode({}));
    const tools = entry.get('tools', true) as unknown as YAMLMap;
    if (!tools.has('exclude')) tools.set('exclude', doc.createNode([]));
    (tools.get('exclude', true) as unknown as YAMLSeq).add(doc.createNode(tool));
  } else {
    const tools = entry.get('tools', true) as unknown as YAMLMap;
    const exclude = tools.get('exclude', true) as unknown as YAMLSeq;
    exclude.items = exclude.items.filter((item) => (isScalar(item) ? item.value : item) !== tool);
    if (exclude.items.length === 0) tools.delete('exclude');
    if (tools.items.length === 0) entry.delete('tools');
  }
  return doc.toString();
}

const rangeOf = (node: unknown): [number, number, number] | undefined => (node as YamlNode | null)?.range ?? undefined;

/** Offset just after the line break ending the line that holds `offset - 1` (or the text's end). */
function lineEndAfter(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Inserts at a line boundary, adding the missing line break when the text ends without one. */
function insertLines(text: string, at: number, lines: string): string {
  const lead = at === text.length && text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  return text.slice(0, at) + lead + lines + text.slice(at);
}

/** End of the last pair's value (or key) of a block map. */
function mapEnd(map: YAMLMap): number | undefined {
  const last = map.items[map.items.length - 1] as Pair | undefined;
  return rangeOf(last?.value)?.[1] ?? rangeOf(last?.key)?.[1];
}

function spliceAdd(text: string, entry: YAMLMap, tools: YAMLMap | undefined, exclude: YAMLSeq | undefined, tool: string): string | undefined {
  const item = /^[A-Za-z0-9_.-]+$/.test(tool) ? tool : JSON.stringify(tool);
  if (exclude) {
    const range = rangeOf(exclude);
    if (!range) return undefined;
    if (exclude.flow) {
      const close = text.lastIndexOf(']', range[1]);
      if (close < range[0]) return undefined;
      return text.slice(0, close) + (exclude.items.length ? `, ${item}` : item) + text.slice(close);
    }
    const first = rangeOf(exclude.items[0]);
    const last = rangeOf(exclude.items[exclude.items.length - 1]);
    if (!first || !last) return undefined;
    const prefix = /^([ ]*)-[ ]+$/.exec(text.slice(lineStart(text, first[0]), first[0]));
    if (!prefix) return undefined;
    return insertLines(text, lineEndAfter(text, last[1]), `${prefix[1]}- ${item}\n`);
  }
  if (tools) {
    if (tools.flow) return undefined;
    const key = rangeOf((tools.items[0] as Pair | undefined)?.key);
    const end = mapEnd(tools);
    if (!key || end === undefined) return undefined;
    const indent = text.slice(lineStart(text, key[0]), key[0]);
    if (!/^[ ]*$/.test(indent)) return undefined;
    return insertLines(text, lineEndAfter(text, end), `${indent}exclude:\n${indent}  - ${item}\n`);
  }
  if (entry.flow) return undefined;
  const key = rangeOf((entry.items[0] as Pair | undefined)?.key);
  const end = mapEnd(entry);
  if (!key || end === undefined) return undefined;
  const head = text.slice(lineStart(text, key[0]), key[0]);
  if (!/^[ ]*(-[ ]+)?$/.test(head)) return undefined;
  const indent = ' '.repeat(head.length);
  return insertLines(text, lineEndAfter(text, end), `${indent}tools:\n${indent}  exclude:\n${indent}    - ${item}\n`);
}

function spliceRemove(text: string, entry: YAMLMap, tools: YAMLMap, exclude: YAMLSeq, index: number): string | undefined {
  const cut = (start: number, end: number): string => text.slice(0, start) + text.slice(end);
  if (exclude.items.length > 1) {
    const range = rangeOf(exclude.items[index]);
    if (!range) return undefined;
    if (exclude.flow) {
      const previous = rangeOf(exclude.items[index - 1]);
      const next = rangeOf(exclude.items[index + 1]);
      return previous ? cut(previous[1], range[1]) : next ? cut(range[0], next[0]) : undefined;
    }
    return cut(lineStart(text, range[0]), lineEndAfter(text, range[1]));
  }
  // The last entry: drop `exclude:` (and `tools:` when nothing else is in it), lines and all.
  const whole = tools.items.length === 1;
  const pairs = (whole ? entry : tools).items as Pair[];
  const pair = pairs.find((p) => isScalar(p.key) && p.key.value === (whole ? 'tools' : 'exclude'));
  const key = rangeOf(pair?.key);
  const end = rangeOf(exclude)?.[1];
  if (!key || end === undefined || (whole && tools.flow)) return undefined;
  if (!/^[ ]*$/.test(text.slice(lineStart(text, key[0]), key[0]))) return undefined;
  return cut(lineStart(text, key[0]), lineEndAfter(text, end));
}

/** The one replacement turning `before` into `after`: the differing middle, offsets in `before`. */
export function minimalReplacement(before: string, after: string): { start: number; end: number; text: string } {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  return { start, end: endBefore, text: after.slice(start, endAfter) };
}
