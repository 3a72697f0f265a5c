/**
 * Quick fix for `rea-incompatible` on a `gateway.<key>` of `.rea/policy.yaml`: moves every
 * Gatehouse-only `gateway:` block (all but `health`, the one rea knows) into a new
 * `.rea/gatehouse.yaml`, which Gatehouse reads and rea ignores. Offered only when that file does
 * not exist yet (merging into a hand-written one is left to the user), and, as the other fixes,
 * only when the edited policy re-parses to exactly the intended value.
 */
import { isDeepStrictEqual } from 'node:util';
import { CodeActionKind, CreateFile, TextDocumentEdit, type CodeAction, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { isMap, parseDocument, stringify, type Node as YamlNode } from 'yaml';
import { GATEHOUSE_FILE } from '../config/loadConfig';
import { applyEdits, lineEndInclusive, lineStart, singleEdit } from './codeActions';
import { findPair } from './yamlNodes';

/** The `gateway:` keys rea accepts (SPEC §10.2). */
const REA_KEYS = ['health'];

/** The fix for `diagnostics` on a `.rea/policy.yaml`, or nothing. */
export function moveGatewayKeysFix(document: TextDocument, diagnostics: readonly Diagnostic[], gatehouseFileExists: boolean): CodeAction[] {
  if (gatehouseFileExists || !/[\\/]\.rea[\\/]policy\.yaml$/.test(decodeURIComponent(document.uri))) return [];
  const ours = diagnostics.filter((d) => d.code === 'rea-incompatible' && typeof d.message === 'string' && /^'gateway\./.test(d.message));
  if (ours.length === 0) return [];
  const text = document.getText();
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return [];
  const gatewayPair = findPair(doc.contents, 'gateway');
  const gateway = gatewayPair?.value as YamlNode | null | undefined;
  if (!gatewayPair || !isMap(gateway) || gateway.flow) return [];
  const movedPairs = gateway.items.filter((pair) => !REA_KEYS.includes(String((pair.key as { value?: unknown } | null)?.value)));
  if (movedPairs.length === 0) return [];

  const spanOf = (start: YamlNode | null | undefined, end: YamlNode | null | undefined): { start: number; end: number } | undefined =>
    start?.range && end?.range ? { start: lineStart(text, start.range[0]), end: lineEndInclusive(text, end.range[1]) } : undefined;
  const spans = movedPairs.length === gateway.items.length ? [spanOf(gatewayPair.key as YamlNode, gateway)] : movedPairs.map((p) => spanOf(p.key as YamlNode, p.value as YamlNode));
  if (spans.some((span) => span === undefined)) return [];
  const after = applyEdits(
    text,
    spans.map((span) => ({ ...span!, text: '' })),
  );

  const before = doc.toJS() as Record<string, unknown>;
  const gatewayValue = before.gateway as Record<string, unknown>;
  const moved = Object.fromEntries(Object.entries(gatewayValue).filter(([key]) => !REA_KEYS.includes(key)));
  const kept = Object.fromEntries(Object.entries(gatewayValue).filter(([key]) => REA_KEYS.includes(key)));
  const expected = { ...before };
  if (Object.keys(kept).length) expected.gateway = kept;
  else delete expected.gateway;
  const reparsed = parseDocument(after, { uniqueKeys: true });
  if (reparsed.errors.length > 0 || !isDeepStrictEqual(reparsed.toJS() ?? {}, expected)) return [];

  const target = document.uri.replace(/policy\.yaml$/, GATEHOUSE_FILE);
  const newText = `# Gatehouse-only settings (rea ignores this file; its policy schema refuses them in policy.yaml)\n${stringify({ gateway: moved })}`;
  return [
    {
      title: `Move ${Object.keys(moved).map((k) => `gateway.${k}`).join(', ')} to .rea/${GATEHOUSE_FILE}`,
      kind: CodeActionKind.QuickFix,
      diagnostics: ours,
      isPreferred: true,
      edit: {
        documentChanges: [
          CreateFile.create(target, { overwrite: false, ignoreIfExists: false }),
          TextDocumentEdit.create({ uri: target, version: null }, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText }]),
          TextDocumentEdit.create({ uri: document.uri, version: document.version }, [singleEdit(document, text, after)]),
        ],
      },
    },
  ];
}
