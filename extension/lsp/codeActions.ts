/**
 * Quick fixes for the problems whose fix is mechanical:
 * - `duplicate-server-name`: rename the later entry to `<name>-2` (or the next free suffix);
 * - `invalid-server-name`: rename to the suggestion the message already gives (`my_server` →
 *   `my-server`), made unique; `reserved-server-name`: `gatehouse` → `gatehouse-server`;
 * - `secret-passthrough`: move the name out of `env_passthrough` into `env: { NAME: "${NAME}" }`,
 *   which is what the message tells the user to do by hand.
 *
 * Edits are computed on the YAML tree's source ranges so comments and formatting elsewhere stay
 * as written. Each fix is then applied in memory and re-parsed; a fix whose result is not
 * exactly the intended config (odd layouts: flow mappings, anchors…) is not offered, rather
 * than offered and wrong. The edit sent is one replacement of the changed region.
 */
import { CodeActionKind, type CodeAction, type Diagnostic, type TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { suggestServerName } from '../config/registrySchema';
import type { ConfigKind } from './configKind';
import { findPair, nodeAtPath, pathAt } from './yamlNodes';

/** Problem codes fixed by renaming the server. */
const RENAMES = ['duplicate-server-name', 'invalid-server-name', 'reserved-server-name'];

/** An edit in string offsets; an empty range is an insertion. */
interface OffsetEdit {
  start: number;
  end: number;
  text: string;
}

/** The quick fixes for `diagnostics` (those the client sent in the code-action request). */
export function quickFixes(document: TextDocument, kind: ConfigKind, diagnostics: readonly Diagnostic[]): CodeAction[] {
  if (kind !== 'registry') return [];
  const text = document.getText();
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) return [];
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    const offset = document.offsetAt(diagnostic.range.start);
    const hit = pathAt(doc, offset);
    if (!hit) continue;
    let fix: Fix | undefined;
    if (typeof diagnostic.code === 'string' && RENAMES.includes(diagnostic.code)) fix = renameFix(doc.toJS(), hit.path, hit.node, diagnostic.code);
    else if (diagnostic.code === 'secret-passthrough') fix = moveToEnvFix(text, doc, hit.path);
    if (!fix) continue;
    const after = applyEdits(text, fix.edits);
    const reparsed = parseDocument(after, { uniqueKeys: true });
    if (reparsed.errors.length > 0 || !isDeepStrictEqual(normalize(reparsed.toJS()), normalize(fix.expected))) continue;
    actions.push({
      title: fix.title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [diagnostic],
      isPreferred: true,
      edit: { changes: { [document.uri]: [singleEdit(document, text, after)] } },
    });
  }
  return actions;
}

/** A fix: its edits, and the config value the edited file must parse to. */
interface Fix {
  title: string;
  edits: OffsetEdit[];
  expected: unknown;
}

type ServerValue = Record<string, unknown>;

function serversOf(value: unknown): unknown[] {
  const servers = (value as { servers?: unknown } | null)?.servers;
  return Array.isArray(servers) ? servers : [];
}

function nameOf(server: unknown): unknown {
  return typeof server === 'object' && server !== null ? (server as { name?: unknown }).name : undefined;
}

/** A copy of `value` with `servers[index]` changed by `change`. */
function withServer(value: unknown, index: number, change: (server: ServerValue) => void): unknown {
  const copy = structuredClone(value) as { servers: ServerValue[] };
  const server = copy.servers[index];
  if (server) change(server);
  return copy;
}

/** An emptied `env_passthrough: []` and a removed key mean the same; compare them as equal. */
function normalize(value: unknown): unknown {
  for (const server of serversOf(value)) {
    const entry = server as ServerValue;
    if (Array.isArray(entry.env_passthrough) && entry.env_passthrough.length === 0) delete entry.env_passthrough;
  }
  return value;
}

function renameFix(value: unknown, path: (string | number)[], node: YamlNode, code: string): Fix | undefined {
  const [root, index, key] = path;
  if (root !== 'servers' || typeof index !== 'number' || key !== 'name' || path.length !== 3) return undefined;
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return undefined;
  const current = node.value;
  const taken = new Set(serversOf(value).map(nameOf).filter((n): n is string => typeof n === 'string'));
  let stem: string;
  let first: number;
  if (code === 'duplicate-server-name') [stem, first] = [current, 2];
  else if (code === 'reserved-server-name') [stem, first] = [`${current}-server`, 1];
  else [stem, first] = [suggestServerName(current), 1];
  const candidate = (n: number): string => (n === 1 ? stem : `${stem}-${n}`);
  let n = first;
  while (taken.has(candidate(n))) n++;
  const name = candidate(n);
  if (name === current) return undefined;
  return {
    title: code === 'duplicate-server-name' ? `Rename this '${current}' to '${name}'` : `Rename '${current}' to '${name}'`,
    edits: [{ start: node.range[0], end: node.range[1], text: name }],
    expected: withServer(value, index, (server) => {
      server.name = name;
    }),
  };
}

function moveToEnvFix(text: string, doc: ReturnType<typeof parseDocument>, path: (string | number)[]): Fix | undefined {
  const [root, index, key, item] = path;
  if (root !== 'servers' || typeof index !== 'number' || key !== 'env_passthrough' || typeof item !== 'number') return undefined;
  const server = nodeAtPath(doc, ['servers', index])?.node;
  const passthrough = nodeAtPath(doc, ['servers', index, 'env_passthrough']);
  if (!isMap(server) || server.flow || !passthrough?.pair || !isSeq(passthrough.node)) return undefined;
  const entry = passthrough.node.items[item];
  if (!isScalar(entry) || typeof entry.value !== 'string') return undefined;
  const name = entry.value;
  const template = `\${${name}}`;
  const mapping = `${name}: "${template}"`;

  const edits = removeItem(text, passthrough.pair, passthrough.node, item);
  if (!edits) return undefined;
  const add = addToEnv(text, server, findPair(server, 'env'), passthrough.pair, name, mapping);
  if (add === undefined) return undefined;
  edits.push(...add);
  return {
    title: `Move ${name} to env: { ${mapping} }`,
    edits,
    expected: withServer(doc.toJS(), index, (s) => {
      s.env_passthrough = (s.env_passthrough as unknown[]).filter((_, i) => i !== item);
      const env = (s.env ?? {}) as Record<string, unknown>;
      s.env = { ...env, [name]: env[name] ?? template };
    }),
  };
}

/** Edits that drop item `index` from a list: the whole key when it is the last item. */
function removeItem(text: string, pair: Pair, seq: YAMLSeq, index: number): OffsetEdit[] | undefined {
  const item = seq.items[index] as YamlNode | undefined;
  if (!item?.range || !seq.range) return undefined;
  if (seq.items.length === 1) {
    const key = pair.key as YamlNode;
    if (!key.range) return undefined;
    const start = lineStart(text, key.range[0]);
    // `- env_passthrough: [X]` as the first key of an item: deleting the line would delete the item.
    if (text.slice(start, key.range[0]).trim() !== '') return [{ start: seq.range[0], end: seq.range[1], text: '[]' }];
    return [{ start, end: lineEndInclusive(text, seq.range[1]), text: '' }];
  }
  if (seq.flow) {
    const next = seq.items[index + 1] as YamlNode | undefined;
    const previous = seq.items[index - 1] as YamlNode | undefined;
    if (next?.range) return [{ start: item.range[0], end: next.range[0], text: '' }];
    if (previous?.range) return [{ start: previous.range[1], end: item.range[1], text: '' }];
    return undefined;
  }
  // Block list: the item is `- NAME` on a line of its own.
  const start = lineStart(text, item.range[0]);
  if (!/^[ ]*-[ ]+$/.test(text.slice(start, item.range[0]))) return undefined;
  return [{ start, end: lineEndInclusive(text, item.range[1]), text: '' }];
}

/** Edits that add `NAME: "${NAME}"` to the entry's env mapping, creating it when absent. */
function addToEnv(text: string, server: YAMLMap, envPair: Pair | undefined, passthroughPair: Pair, name: string, mapping: string): OffsetEdit[] | undefined {
  const passKey = passthroughPair.key as YamlNode;
  if (!passKey.range) return undefined;
  const keyIndent = passKey.range[0] - lineStart(text, passKey.range[0]);
  if (!envPair) {
    const pad = ' '.repeat(keyIndent);
    const block = `${pad}env:\n${pad}  ${mapping}\n`;
    const start = lineStart(text, passKey.range[0]);
    if (text.slice(start, passKey.range[0]).trim() === '') return [{ start, end: start, text: block }];
    // env_passthrough follows `- `: add env after the entry's last key instead.
    const last = server.items[server.items.length - 1];
    const end = (last?.value as YamlNode | null)?.range?.[1] ?? (last?.key as YamlNode | null)?.range?.[1];
    if (end === undefined) return undefined;
    const at = lineEnd(text, end);
    return [{ start: at, end: at, text: `\n${block.slice(0, -1)}` }];
  }
  const env = envPair.value as YamlNode | null;
  if (env === null || (isScalar(env) && (env.value === null || env.value === ''))) {
    const key = envPair.key as YamlNode;
    if (!key.range) return undefined;
    const indent = key.range[0] - lineStart(text, key.range[0]);
    const at = env?.range ? env.range[0] : lineEnd(text, key.range[1]);
    const from = env?.range ? env.range[0] : at;
    return [{ start: from, end: env?.range ? env.range[1] : at, text: `\n${' '.repeat(indent + 2)}${mapping}` }];
  }
  if (!isMap(env) || !env.range) return undefined;
  if (findPair(env, name)) return [];
  if (env.flow) {
    const lastItem = env.items[env.items.length - 1];
    const lastEnd = (lastItem?.value as YamlNode | null)?.range?.[1] ?? (lastItem?.key as YamlNode | null)?.range?.[1];
    if (lastEnd !== undefined) return [{ start: lastEnd, end: lastEnd, text: `, ${mapping}` }];
    const close = text.lastIndexOf('}', env.range[1]);
    return close < env.range[0] ? undefined : [{ start: close, end: close, text: mapping }];
  }
  const first = env.items[0]?.key as YamlNode | undefined;
  const last = env.items[env.items.length - 1];
  const lastEnd = (last?.value as YamlNode | null)?.range?.[1] ?? (last?.key as YamlNode | null)?.range?.[1];
  if (!first?.range || lastEnd === undefined) return undefined;
  const indent = first.range[0] - lineStart(text, first.range[0]);
  const at = lineEnd(text, lastEnd);
  return [{ start: at, end: at, text: `\n${' '.repeat(indent)}${mapping}` }];
}

export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** End of the line holding `offset` (before its newline). */
function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', Math.max(offset - 1, 0));
  return nl === -1 ? text.length : nl;
}

/** Just past the newline ending the line that holds the character before `offset`. */
export function lineEndInclusive(text: string, offset: number): number {
  const end = lineEnd(text, offset);
  return end < text.length ? end + 1 : end;
}

/** Applies non-overlapping edits; an insertion at the start of a replaced range goes before it. */
export function applyEdits(text: string, edits: readonly OffsetEdit[]): string {
  const ordered = [...edits].sort((a, b) => b.start - a.start || (b.end - b.start) - (a.end - a.start));
  let out = text;
  for (const edit of ordered) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

/** One edit replacing only the region where `before` and `after` differ. */
export function singleEdit(document: TextDocument, before: string, after: string): TextEdit {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < before.length - prefix && suffix < after.length - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  return {
    range: { start: document.positionAt(prefix), end: document.positionAt(before.length - suffix) },
    newText: after.slice(prefix, after.length - suffix),
  };
}
