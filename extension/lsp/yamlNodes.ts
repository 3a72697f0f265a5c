/**
 * Small walks over a parsed `yaml` Document that the editor features share: what path is under
 * the cursor (hover, code actions), and which node sits at a path (quick fixes). Positions are
 * string offsets, as `yaml` ranges are; callers convert to and from LSP positions.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import type { YamlPath } from '../config/yamlDocument';

/** What {@link pathAt} found under an offset. */
export interface PathHit {
  /** Path of the value the offset belongs to (for a key: the value that key introduces). */
  path: (string | number)[];
  /** Whether the offset is on the key of the last segment or inside its value. */
  on: 'key' | 'value';
  /** The key scalar (for `on: 'key'`) or the innermost value node. */
  node: YamlNode;
}

const within = (node: YamlNode | null | undefined, offset: number): boolean =>
  !!node?.range && offset >= node.range[0] && offset <= node.range[1];

/** The deepest key or value at `offset`, or undefined when the offset is outside every node. */
export function pathAt(doc: Document, offset: number): PathHit | undefined {
  let node = doc.contents as YamlNode | null;
  if (!within(node, offset)) return undefined;
  const path: (string | number)[] = [];
  let hit: PathHit | undefined;
  for (let guard = 0; node && guard < 256; guard++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => within(p.key as YamlNode, offset) || within(p.value as YamlNode, offset));
      if (!pair || !isScalar(pair.key)) return hit;
      path.push(String(pair.key.value));
      if (within(pair.key as YamlNode, offset)) return { path, on: 'key', node: pair.key as YamlNode };
      node = pair.value as YamlNode;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => within(item as YamlNode, offset));
      if (index === -1) return hit;
      path.push(index);
      node = node.items[index] as YamlNode;
    } else {
      return { path, on: 'value', node };
    }
    hit = { path: [...path], on: 'value', node };
  }
  return hit;
}

/** The node at `path` plus the pair that holds it (when its parent is a mapping). */
export interface NodeAtPath {
  node: YamlNode | null;
  /** Set when the last segment is a mapping key. */
  pair?: Pair;
  /** The mapping or sequence that holds the last segment. */
  parent?: YamlNode;
}

/** Walks `path` from the root; undefined when a segment does not exist. */
export function nodeAtPath(doc: Document, path: YamlPath): NodeAtPath | undefined {
  let node = doc.contents as YamlNode | null;
  let pair: Pair | undefined;
  let parent: YamlNode | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      pair = findPair(node, String(segment));
      if (!pair) return undefined;
      parent = node;
      node = (pair.value ?? null) as YamlNode | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as YamlNode | undefined;
      if (item === undefined) return undefined;
      pair = undefined;
      parent = node;
      node = item;
    } else {
      return undefined;
    }
  }
  return pair ? { node, pair, ...(parent ? { parent } : {}) } : { node, ...(parent ? { parent } : {}) };
}

/** The pair whose scalar key equals `key`. */
export function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
}

/** Scalar keys of a mapping, in order. */
export function keysOf(map: YAMLMap): string[] {
  return map.items.flatMap((p) => (isScalar(p.key) ? [String(p.key.value)] : []));
}
