/**
 * Hover documentation for config keys and values, built from the schema's `.describe()` text,
 * allowed values and defaults, so the docs in the editor are the schema and cannot drift from
 * it. Over a `${NAME}` placeholder it also says whether NAME is set where the gateway runs
 * (never its value: hovers end up in screenshots and screen shares).
 */
import { MarkupKind, type Hover } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { isScalar } from 'yaml';
import type { HostEnv } from '../config/childEnv';
import { parseYamlDocument } from '../config/yamlDocument';
import { describeAt } from '../config/schemaNode';
import { label } from '../config/zodProblems';
import type { ConfigKind } from './configKind';
import { yamlScalar } from './completion';
import { schemaFor } from './schemaFor';
import { valueInfoAt } from './schemaValues';
import { pathAt } from './yamlNodes';

/** The hover at `position`, or null over nothing the schema describes. */
export function hoverAt(document: TextDocument, position: { line: number; character: number }, kind: ConfigKind, env: HostEnv): Hover | null {
  const text = document.getText();
  const offset = document.offsetAt(position);
  const { doc } = parseYamlDocument(text, 'hover');
  const hit = pathAt(doc, offset);
  if (!hit || hit.path.length === 0) return null;
  const schema = schemaFor(kind);

  // A list item (`env_passthrough[1]`) or a map entry (`env.FOO`) has no description of its
  // own: describe the list or map it belongs to.
  let path = hit.path;
  let description = describeAt(schema, path);
  while (description === undefined && path.length > 1) {
    path = path.slice(0, -1);
    description = describeAt(schema, path);
  }
  const info = valueInfoAt(schema, path);
  if (description === undefined && info.type === '') return null;

  const generic = path.map((segment) => (typeof segment === 'number' ? 0 : segment));
  const title = `**${label(generic).replace(/\[0\]/g, '[]')}**${info.type ? ` · ${info.type}` : ''}`;
  const lines = [title];
  if (description) lines.push('', description);
  const values = info.values.filter((v) => typeof v !== 'number' || !info.values.includes(String(v)));
  if (values.length > 0) lines.push('', `Allowed: ${values.map((v) => `\`${yamlScalar(v)}\``).join(' · ')}`);
  if (info.defaultValue !== undefined) lines.push('', `Default: \`${JSON.stringify(info.defaultValue)}\``);
  const variable = placeholderAt(text, hit.node, offset);
  if (variable) {
    const set = Object.prototype.hasOwnProperty.call(env, variable) && typeof env[variable] === 'string';
    lines.push('', set ? `\`\${${variable}}\` is set in the environment the gateway sees.` : `\`\${${variable}}\` is **not set** in the environment the gateway sees.`);
  }

  const node = hit.node;
  const range = node.range ? { start: document.positionAt(node.range[0]), end: document.positionAt(node.range[1]) } : undefined;
  return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n') }, ...(range ? { range } : {}) };
}

/** The NAME of the `${NAME}` under `offset` in a string scalar's source text, if any. */
function placeholderAt(text: string, node: unknown, offset: number): string | undefined {
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return undefined;
  const [start, end] = node.range;
  for (const match of text.slice(start, end).matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const from = start + match.index;
    if (offset >= from && offset <= from + match[0].length) return match[1];
  }
  return undefined;
}
