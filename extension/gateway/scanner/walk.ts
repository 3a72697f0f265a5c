/**
 * JSON walking on the main thread: collect the strings of a value (with their paths) so they can
 * go to the worker in one batch, then rebuild the value with replacements, copy-on-write (the
 * input is never mutated; untouched subtrees are shared).
 *
 * Only plain objects and arrays are entered. A subtree reached twice (a cycle or a shared
 * reference) is walked once.
 *
 * With `mcpContent` (tool results), the parts of MCP content that are not text are left alone:
 * base64 payloads (`data` of an image/audio part, `blob` of a resource) — redacting them would
 * corrupt the media and decoding megabytes of image data for phrases is wasted work — and the
 * structural fields a client validates (`type` and `annotations` of a content part, any
 * `mimeType`), so that even a fail-closed rewrite of every string keeps a valid result.
 */

/** MCP content part types. */
const CONTENT_TYPES: ReadonlySet<unknown> = new Set(['text', 'image', 'audio', 'resource', 'resource_link']);

export interface WalkOptions {
  /** The value is (part of) an MCP tool result: skip binary payloads and structural fields. */
  mcpContent?: boolean;
  /** Path prefix, e.g. `arguments` → `arguments.token`. */
  root?: string;
}

/** The strings of a value, in walk order, and where each one sits. */
export interface Collected {
  strings: string[];
  paths: string[];
  /**
   * True when a subtree was reached twice (a cycle or a shared reference): it was collected
   * once, but {@link replaceStrings} leaves its second occurrence as it was, so a walk of the
   * rebuilt value would not see the same strings. JSON-parsed values never have one.
   */
  shared: boolean;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

function childPath(parent: string, key: string): string {
  if (IDENT.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isSkippedKey(obj: Record<string, unknown>, key: string): boolean {
  switch (key) {
    case 'data':
      return obj.type === 'image' || obj.type === 'audio';
    case 'blob':
      return typeof obj.uri === 'string' || typeof obj.mimeType === 'string';
    case 'type':
    case 'annotations':
      return CONTENT_TYPES.has(obj.type);
    case 'mimeType':
      return true;
    default:
      return false;
  }
}

/** Collects every string leaf of `value`. */
export function collectStrings(value: unknown, options: WalkOptions = {}): Collected {
  const out: Collected = { strings: [], paths: [], shared: false };
  const seen = new WeakSet<object>();
  const visit = (node: unknown, path: string): void => {
    if (typeof node === 'string') {
      out.strings.push(node);
      out.paths.push(path || '$');
      return;
    }
    if (Array.isArray(node)) {
      if (seen.has(node)) {
        out.shared = true;
        return;
      }
      seen.add(node);
      for (let i = 0; i < node.length; i++) visit(node[i], `${path}[${i}]`);
      return;
    }
    if (isPlainObject(node)) {
      if (seen.has(node)) {
        out.shared = true;
        return;
      }
      seen.add(node);
      for (const key of Object.keys(node)) {
        if (options.mcpContent && isSkippedKey(node, key)) continue;
        visit(node[key], childPath(path, key));
      }
    }
  };
  visit(value, options.root ?? '');
  return out;
}

/**
 * Rebuilds `value` with `replace(index)` for each string in collect order (undefined keeps the
 * string). Must be called with the same options as {@link collectStrings}. Containers with no
 * replaced string inside are returned as they were.
 */
export function replaceStrings(value: unknown, replace: (index: number) => string | undefined, options: WalkOptions = {}): unknown {
  let index = 0;
  const seen = new WeakSet<object>();
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const next = replace(index++);
      return next === undefined ? node : next;
    }
    if (Array.isArray(node)) {
      if (seen.has(node)) return node;
      seen.add(node);
      let copy: unknown[] | undefined;
      for (let i = 0; i < node.length; i++) {
        const next = visit(node[i]);
        if (next !== node[i]) (copy ??= node.slice())[i] = next;
      }
      return copy ?? node;
    }
    if (isPlainObject(node)) {
      if (seen.has(node)) return node;
      seen.add(node);
      let copy: Record<string, unknown> | undefined;
      for (const key of Object.keys(node)) {
        if (options.mcpContent && isSkippedKey(node, key)) continue;
        const next = visit(node[key]);
        if (next !== node[key]) (copy ??= { ...node })[key] = next;
      }
      return copy ?? node;
    }
    return node;
  };
  return visit(value);
}
