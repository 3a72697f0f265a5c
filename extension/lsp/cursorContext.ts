/**
 * Where the cursor is in the config's structure, for completion. The text being typed is
 * usually not valid YAML yet (`    comm` has no colon, so a YAML parser folds it into the value
 * above), so instead of guessing from indentation we let the real parser decide: the word at
 * the cursor is replaced with a marker key (`marker: x`) or marker value, the text is parsed,
 * and the marker's path is read from the tree. Whatever YAML makes of the indentation is then
 * what the gateway would make of it too.
 */
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { keysOf } from './yamlNodes';

/** Letters only, so YAML reads it as a plain scalar wherever it lands. */
const MARKER = 'gatehouseCompletionMarker';

/** See the module comment. */
export interface CursorContext {
  /** `key`: a mapping key is being typed; `value`: the value of a key. */
  at: 'key' | 'value';
  /** For `key`, the path of the mapping the key goes into; for `value`, the path of the value. */
  path: (string | number)[];
  /** Keys already present in that mapping (for `key`), so completion does not offer them again. */
  existingKeys: string[];
  /** Offsets of the partial word under the cursor, which a completion replaces. */
  replace: { start: number; end: number };
  /** True when a value is typed inside quotes (so a completion must not add its own). */
  quoted: boolean;
  /** True when the key under the cursor is already followed by `:` (so a completion must not add one). */
  hasColon: boolean;
}

const WORD = /[A-Za-z0-9_.-]/;
/** Indentation and any number of `- ` list markers: the start of a key. */
const KEY_HEAD = /^[ ]*(?:-[ ]+)*$/;
/** `key: ` (plain or quoted key), optionally followed by an opening quote: the start of a value. */
const VALUE_HEAD = /^[ ]*(?:-[ ]+)*(?:[A-Za-z0-9_.-]+|"[^"]*"|'[^']*')[ ]*:[ ]+(["']?)$/;

/** The context at `offset`, or undefined where no completion applies (comments, flow collections…). */
export function cursorContext(text: string, offset: number): CursorContext | undefined {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const newline = text.indexOf('\n', offset);
  const lineEnd = newline === -1 ? text.length : newline;
  let start = offset;
  while (start > lineStart && WORD.test(text[start - 1] ?? '')) start--;
  let end = offset;
  while (end < lineEnd && WORD.test(text[end] ?? '')) end++;
  const head = text.slice(lineStart, start);
  const tail = text.slice(end, lineEnd);

  let line: string;
  let at: CursorContext['at'];
  let quoted = false;
  const hasColon = /^[ ]*:/.test(tail);
  if (KEY_HEAD.test(head)) {
    at = 'key';
    // Keep `: value` when the cursor is inside an existing key; otherwise make the line a pair.
    line = hasColon ? `${head}${MARKER}${tail}` : `${head}${MARKER}: x`;
  } else {
    const value = VALUE_HEAD.exec(head);
    if (!value) return undefined;
    at = 'value';
    const quote = value[1] ?? '';
    quoted = quote !== '';
    line = `${head}${MARKER}${quote}`;
  }
  const probe = text.slice(0, lineStart) + line + text.slice(lineEnd);
  const doc = parseDocument(probe, { uniqueKeys: false, prettyErrors: false });
  const found = findMarker(doc.contents as YamlNode | null, []);
  if (!found || found.at !== at) return undefined;
  return { ...found, replace: { start, end }, quoted, hasColon };
}

function findMarker(node: YamlNode | null, path: (string | number)[]): Omit<CursorContext, 'replace' | 'quoted' | 'hasColon'> | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key) && pair.key.value === MARKER) {
        return { at: 'key', path, existingKeys: keysOf(node).filter((k) => k !== MARKER) };
      }
      if (!isScalar(pair.key)) continue;
      const hit = findMarker(pair.value as YamlNode | null, [...path, String(pair.key.value)]);
      if (hit) return hit;
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const hit = findMarker(node.items[i] as YamlNode | null, [...path, i]);
      if (hit) return hit;
    }
  } else if (isScalar(node) && node.value === MARKER) {
    return { at: 'value', path, existingKeys: [] };
  }
  return undefined;
}
