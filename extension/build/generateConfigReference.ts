/**
 * The configuration reference in README.md: one table per config file listing every field of
 * registry.yaml and policy.yaml with its type, default and description. Rendered from the same
 * JSON Schemas the .vsix ships (which come from the zod schemas the gateway validates with), so
 * the docs cannot drift from what is enforced: `npm run docs` rewrites the section between the
 * marker comments, and test/unit/build/generateConfigReference.test.ts fails when it is stale.
 *
 * Defaults come from the schema (`.default()`), else from DEFAULT_TUNABLES (the gateway block
 * has no zod defaults: resolveTunables fills them in), else from a "(default …)" note in the
 * description, which is then moved out of the description into the Default column.
 */
import type { ConfigKind } from '../lsp/configKind';
import { jsonSchemaFor } from '../lsp/jsonSchemas';
import { DEFAULT_TUNABLES } from '../config/policySchema';

export const REFERENCE_START = '<!-- config-reference:start -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** The draft-7 keywords zod emits for our schemas; everything else is ignored. */
interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
}

/** One row of the reference table. */
export interface ReferenceRow {
  /** Dotted path, `[]` for list items and `<name>` for map keys, e.g. `servers[].timeouts.call_ms`. */
  field: string;
  type: string;
  /** `required`, a YAML-ish value, or '' when there is none. */
  default: string;
  description: string;
}

/** A trailing "(default 5)" / "(default: gateway.timeouts.call_ms)" in a description. */
const PROSE_DEFAULT = /\s*\(default:? ([^()]+)\)(\.?)$/;

/** zod's stand-in maximum for `z.int()`: not a limit anyone wrote. */
const INT_MAX = Number.MAX_SAFE_INTEGER;

function typeOf(node: JsonSchema): string {
  if (node.anyOf) return node.anyOf.map(typeOf).join(' or ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  switch (node.type) {
    case 'array':
      return node.items ? `list of ${plural(typeOf(node.items))}` : 'list';
    case 'object':
      if (node.properties) return 'object';
      return typeof node.additionalProperties === 'object' && node.additionalProperties.type
        ? `map of ${plural(typeOf(node.additionalProperties))}`
        : 'object';
    case 'integer':
    case 'number':
      return `${node.type}${range(node)}`;
    default:
      return node.type ?? 'any';
  }
}

function plural(type: string): string {
  return /^(string|integer|number|boolean|object)$/.test(type) ? `${type}s` : type;
}

function range(node: JsonSchema): string {
  const parts: string[] = [];
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum}`);
  else if (node.minimum !== undefined && node.maximum !== undefined && node.maximum !== INT_MAX) return ` ${node.minimum}–${node.maximum}`;
  else if (node.minimum !== undefined) parts.push(`≥ ${node.minimum}`);
  if (node.maximum !== undefined && node.maximum !== INT_MAX) parts.push(`≤ ${node.maximum}`);
  return parts.length ? ` ${parts.join(', ')}` : '';
}

function tunableDefault(path: readonly string[]): unknown {
  if (path[0] !== 'gateway') return undefined;
  let value: unknown = DEFAULT_TUNABLES;
  for (const key of path.slice(1)) {
    if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'object' ? undefined : value;
}

function show(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : JSON.stringify(value);
}

function row(field: string, path: readonly string[], node: JsonSchema, required: boolean): ReferenceRow {
  let description = node.description ?? '';
  const prose = PROSE_DEFAULT.exec(description);
  if (prose) description = description.slice(0, prose.index) + '.';
  const structured = node.default !== undefined ? node.default : tunableDefault(path);
  if (prose && structured !== undefined && prose[1] !== show(structured)) {
    // The description and the code disagree: fix the .describe() text rather than publish both.
    throw new Error(`${field}: the description says "(default ${prose[1]})" but the schema's default is ${show(structured)}`);
  }
  let value = '';
  if (required) value = 'required';
  else if (structured !== undefined) value = show(structured);
  else if (prose) value = prose[1];
  return { field, type: typeOf(node), default: value, description: description.replace(/\.\.$/, '.') };
}

/** Every field of one config file, depth first in schema order. */
export function referenceRows(kind: ConfigKind): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const walk = (node: JsonSchema, prefix: string, path: readonly string[]): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const field = `${prefix}${key}`;
      const childPath = [...path, key];
      rows.push(row(field, childPath, child, node.required?.includes(key) ?? false));
      if (child.type === 'object' && child.properties) walk(child, `${field}.`, childPath);
      else if (child.type === 'array' && child.items?.properties) walk(child.items, `${field}[].`, childPath);
      else if (child.type === 'object' && typeof child.additionalProperties === 'object' && child.additionalProperties.properties) {
        walk(child.additionalProperties, `${field}.<name>.`, [...childPath, '<name>']);
      }
    }
  };
  walk(jsonSchemaFor(kind) as JsonSchema, '', []);
  return rows;
}

/** Text for a GitHub-flavoured table cell: no pipes, no tags, no accidental emphasis. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/__/g, '\\_\\_');
}

function table(kind: ConfigKind): string {
  const lines = ['| Field | Type | Default | Description |', '|---|---|---|---|'];
  for (const r of referenceRows(kind)) {
    const dflt = r.default === 'required' ? '**required**' : r.default ? `\`${r.default.replace(/\|/g, '\\|')}\`` : '';
    lines.push(`| \`${r.field}\` | ${cell(r.type)} | ${dflt} | ${cell(r.description)} |`);
  }
  return lines.join('\n');
}

/** The generated section, markers included. */
export function renderConfigReference(): string {
  const registry = jsonSchemaFor('registry') as JsonSchema;
  const policy = jsonSchemaFor('policy') as JsonSchema;
  return [
    REFERENCE_START,
    '<!-- Generated from the zod schemas in extension/config/ by `npm run docs`; edit the .describe() texts there, not this table. -->',
    '',
    '#### `registry.yaml`',
    '',
    `${cell(registry.description ?? '')} Unknown keys are errors.`,
    '',
    table('registry'),
    '',
    '#### `policy.yaml`',
    '',
    `${cell(policy.description ?? '')} Optional as a whole; unknown keys are errors (except under \`context_protection\`).`,
    '',
    table('policy'),
    REFERENCE_END,
  ].join('\n');
}

/** README text with its reference section replaced by a fresh one; throws when the markers are missing. */
export function withConfigReference(readme: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`README.md needs the markers ${REFERENCE_START} and ${REFERENCE_END}, in that order`);
  return readme.slice(0, start) + renderConfigReference() + readme.slice(end + REFERENCE_END.length);
}
