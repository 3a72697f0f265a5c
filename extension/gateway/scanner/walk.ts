/**
 * JSON walking on the main thread: collect the strings of a value — string leaves and object
 * keys, since a secret can be either — with where they sit, so they can go to the worker in one
 * batch, then rebuild the value with replacements, copy-on-write (the input is never mutated;
 * untouched subtrees are shared).
 *
 * Only plain objects and arrays are entered. A subtree reached twice (a cycle or a shared
 * reference) is walked once.
 *
 * With `mcpContent` (tool results), the parts of MCP content that are not text are left alone:
 * base64 payloads (`data` of an image/audio part, `blob` of a resource) — redacting them would
 * corrupt the media and decoding megabytes of image data for phrases is wasted work — and the
 * structural fields a client validates (`type` and `annotations` of a content part, any
 * `mimeType`, and the MCP schema's own member names), so that even a fail-closed rewrite of
 * every string keeps a valid result.
 */

/** MCP content part types. */
const CONTENT_TYPES: ReadonlySet<unknown> = new Set(['text', 'image', 'audio', 'resource', 'resource_link']);

/**
 * Member names the MCP schema gives a tool result and its content parts. With `mcpContent` these
 * keys are not collected (they are the protocol's own words, not data), so even a fail-closed
 * rewrite of every collected string keeps a result a client can parse. Any other key is data.
 */
const MCP_KEYS: ReadonlySet<string> = new Set([
  'content', 'structuredContent', 'isError', '_meta',
  'type', 'text', 'data', 'mimeType', 'annotations', 'resource', 'uri', 'blob', 'name', 'title', 'description', 'size',
  'audience', 'priority', 'lastModified',
]);

export interface WalkOptions {
  /** The value is (part of) an MCP tool result: skip binary payloads and structural fields. */
  mcpContent?: boolean;
  /** Path prefix, e.g. `arguments` → `arguments.token`. */
  root?: string;
}

/**
 * Where a collected string sits, as a chain of steps to the root. A step through an object
 * member names its key by the index of that key in `strings`, so a path is spelled with the key
 * as redacted: a secret used as a key never reaches `redacted_fields`.
 */
export interface PathStep {
  parent: PathStep | undefined;
  /** The root's own prefix (only on the root step). */
  root?: string;
  /** Array element. */
  index?: number;
  /** Object member whose key was collected: the key's index in `strings`. */
  keyIndex?: number;
  /** Object member whose key was not collected (an MCP structural name). */
  name?: string;
}

/** The strings of a value, in walk order, and where each one sits. */
export interface Collected {
  /**
   * Every string leaf, and every object key (a key comes right before its value's strings):
   * keys carry secrets as well as values do (`{"ghp_…": true}`).
   */
  strings: string[];
  /** `keys[i]` is true when `strings[i]` is an object key. */
  keys: boolean[];
  /** Where `strings[i]` sits (for a key: the member it names). */
  steps: PathStep[];
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

/**
 * The path of `strings[i]`, e.g. `arguments.headers[0].Authorization`, with every key on the
 * way spelled as `text(keyIndex)` returns it (pass the redacted text).
 */
export function pathOf(collected: Pick<Collected, 'steps'>, i: number, text: (index: number) => string): string {
  const spell = (step: PathStep | undefined): string => {
    if (!step) return '';
    if (step.root !== undefined) return step.root;
    const parent = spell(step.parent);
    if (step.index !== undefined) return `${parent}[${step.index}]`;
    return childPath(parent, step.keyIndex !== undefined ? text(step.keyIndex) : (step.name ?? ''));
  };
  return spell(collected.steps[i]) || '$';
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

/** Whether the key itself is collected (scanned, and replaced with its redaction). */
function isCollectedKey(key: string, options: WalkOptions): boolean {
  return !(options.mcpContent && MCP_KEYS.has(key));
}

/** Collects every string leaf and every object key of `value`. */
export function collectStrings(value: unknown, options: WalkOptions = {}): Collected {
  const out: Collected = { strings: [], keys: [], steps: [], shared: false };
  const seen = new WeakSet<object>();
  const visit = (node: unknown, step: PathStep): void => {
    if (typeof node === 'string') {
      out.strings.push(node);
      out.keys.push(false);
      out.steps.push(step);
      return;
    }
    if (Array.isArray(node)) {
      if (seen.has(node)) {
        out.shared = true;
        return;
      }
      seen.add(node);
      for (let i = 0; i < node.length; i++) visit(node[i], { parent: step, index: i });
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
        let member: PathStep;
        if (isCollectedKey(key, options)) {
          member = { parent: step, keyIndex: out.strings.length };
          out.strings.push(key);
          out.keys.push(true);
          out.steps.push(member);
        } else {
          member = { parent: step, name: key };
        }
        visit(node[key], member);
      }
    }
  };
  visit(value, { parent: undefined, root: options.root ?? '' });
  return out;
}

/** Sets an own data property (a `__proto__` key must not set the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Rebuilds `value` with `replace(index)` for each collected string in collect order, keys
 * included (undefined keeps the string). Must be called with the same options as
 * {@link collectStrings}. Containers with nothing replaced inside are returned as they were. A
 * renamed key that meets another member's name gets ` (2)`, ` (3)` …: two secrets used as
 * keys both redact to the same marker, and neither member may be lost.
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
      const members: Array<[string, unknown]> = [];
      let changed = false;
      for (const key of Object.keys(node)) {
        if (options.mcpContent && isSkippedKey(node, key)) {
          members.push([key, node[key]]);
          continue;
        }
        const renamed = isCollectedKey(key, options) ? replace(index++) : undefined;
        const next = visit(node[key]);
        if (renamed !== undefined && renamed !== key) changed = true;
        if (next !== node[key]) changed = true;
        members.push([renamed ?? key, next]);
      }
      if (!changed) return node;
      const copy: Record<string, unknown> = Object.getPrototypeOf(node) === null ? Object.create(null) : {};
      for (const [key, v] of members) {
        let name = key;
        for (let n = 2; Object.prototype.hasOwnProperty.call(copy, name); n++) name = `${key} (${n})`;
        setOwn(copy, name, v);
      }
      return copy;
    }
    return node;
  };
  return visit(value);
}
