/**
 * Completion for config files: the keys the schema allows at the cursor (minus those already
 * written) and the literal values it allows (enums, booleans, `version: "1"`). Everything is read
 * from the zod schemas the loader validates with, with their `.describe()` text as documentation.
 */
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { isScalar, parseDocument } from 'yaml';
import type { z } from 'zod';
import { allowedKeys, describeAt } from '../config/schemaNode';
import type { ConfigKind } from './configKind';
import { cursorContext } from './cursorContext';
import { schemaFor } from './schemaFor';
import { valueInfoAt, type SchemaLiteral } from './schemaValues';
import { toolNameCompletions, type ToolListing } from './toolNames';

/**
 * Completion items at `position`; empty where nothing applies. `valuesOnly` is for the space
 * trigger character: after `key: ` the choices should pop up, but not on every space of an
 * indentation.
 */
export function completionsAt(
  document: TextDocument,
  position: { line: number; character: number },
  kind: ConfigKind,
  valuesOnly = false,
  listing?: ToolListing,
): CompletionItem[] {
  const text = document.getText();
  const context = cursorContext(text, document.offsetAt(position));
  if (!context || (valuesOnly && context.at === 'key')) return [];
  const schema = schemaFor(kind);
  const range = { start: document.positionAt(context.replace.start), end: document.positionAt(context.replace.end) };
  const tools = kind === 'registry' && listing ? toolNameCompletions(text, context, listing) : undefined;
  if (tools) return tools.map((item) => ({ ...item, textEdit: { range, newText: context.quoted ? item.label : yamlScalar(item.label) } }));

  if (context.at === 'key') {
    return allowedKeys(schema, context.path)
      .filter((key) => !context.existingKeys.includes(key))
      .map((key, index): CompletionItem => {
        const info = valueInfoAt(schema, [...context.path, key]);
        return {
          label: key,
          kind: CompletionItemKind.Property,
          detail: info.type || undefined,
          documentation: documentation(schema, [...context.path, key]),
          sortText: String(index).padStart(3, '0'),
          // `key: ` and, for a value with fixed choices, reopen the list right away.
          textEdit: { range, newText: context.hasColon ? key : `${key}: ` },
          insertTextFormat: InsertTextFormat.PlainText,
          ...(info.values.length > 0 && !context.hasColon ? { command: { title: 'Suggest', command: 'editor.action.triggerSuggest' } } : {}),
        };
      });
  }

  const info = valueInfoAt(schema, context.path);
  const strings = info.values.filter((v) => typeof v === 'string').map(String);
  return info.values
    // `version` allows "1" and 1; offering both would be noise, and the string is what rea wants.
    .filter((value) => typeof value !== 'number' || !strings.includes(String(value)))
    .map(
      (value, index): CompletionItem => ({
        label: String(value),
        kind: typeof value === 'boolean' ? CompletionItemKind.Keyword : CompletionItemKind.EnumMember,
        detail: info.defaultValue === value ? 'default' : undefined,
        documentation: documentation(schema, context.path),
        sortText: String(index).padStart(3, '0'),
        textEdit: { range, newText: context.quoted ? String(value) : yamlScalar(value) },
      }),
    );
}

function documentation(schema: z.ZodType, path: (string | number)[]): { kind: 'markdown'; value: string } | undefined {
  const text = describeAt(schema, path);
  return text ? { kind: MarkupKind.Markdown, value: text } : undefined;
}

/** The value as YAML source: a string that YAML would read as something else ("1", "true") is quoted. */
export function yamlScalar(value: SchemaLiteral): string {
  if (typeof value !== 'string') return String(value);
  const parsed = parseDocument(value).contents;
  return isScalar(parsed) && parsed.value === value ? value : JSON.stringify(value);
}
