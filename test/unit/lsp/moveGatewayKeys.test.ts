import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CreateFile, TextDocumentEdit, TextEdit } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { parse } from 'yaml';
import { applyEdits } from '../../../extension/lsp/codeActions';
import { moveGatewayKeysFix } from '../../../extension/lsp/moveGatewayKeys';
import { validateConfig } from '../../../extension/lsp/validate';

// Issue 13 item 14: a quick fix moves the keys rea refuses out of .rea/policy.yaml.
const REA = 'version: "1"\nprofile: p\ninstalled_by: me\ninstalled_at: "2026-01-01"\nautonomy_level: L1\nmax_autonomy_level: L2\npromotion_requires_human_approval: true\nblocked_paths: []\n';
const FILE = '/w/.rea/policy.yaml';

function fixFor(text: string, exists = false) {
  const document = TextDocument.create('file:///w/.rea/policy.yaml', 'yaml', 3, text);
  const { diagnostics } = validateConfig({ file: FILE, text, kind: 'policy' }, { env: {} });
  return { actions: moveGatewayKeysFix(document, diagnostics, exists), document };
}

function apply(text: string, document: TextDocument, edit: TextDocumentEdit): string {
  const e = edit.edits[0] as TextEdit;
  return applyEdits(text, [{ start: document.offsetAt(e.range.start), end: document.offsetAt(e.range.end), text: e.newText }]);
}

test('moves gateway.breaker and gateway.timeouts to .rea/gatehouse.yaml and keeps gateway.health', () => {
  const text = `${REA}gateway:\n  health:\n    expose_diagnostics: true\n  breaker:\n    failure_threshold: 3\n  timeouts: { call_ms: 5000 }\n# end\n`;
  const { actions, document } = fixFor(text);
  assert.equal(actions.length, 1);
  const action = actions[0]!;
  assert.equal(action.title, 'Move gateway.breaker, gateway.timeouts to .rea/gatehouse.yaml');
  assert.equal(action.diagnostics?.length, 2, 'both warnings are fixed by it');
  const [create, newFile, policyEdit] = action.edit!.documentChanges as [CreateFile, TextDocumentEdit, TextDocumentEdit];
  assert.equal(create.kind, 'create');
  assert.equal(create.uri, 'file:///w/.rea/gatehouse.yaml');
  assert.deepEqual(parse((newFile.edits[0] as TextEdit).newText), { gateway: { breaker: { failure_threshold: 3 }, timeouts: { call_ms: 5000 } } });
  const after = apply(text, document, policyEdit);
  assert.deepEqual(parse(after).gateway, { health: { expose_diagnostics: true } });
  assert.match(after, /# end\n$/, 'the rest of the file is untouched');
  const { diagnostics } = validateConfig({ file: FILE, text: after, kind: 'policy' }, { env: {} });
  assert.deepEqual(diagnostics.filter((d) => d.code === 'rea-incompatible'), [], 'rea accepts the result');
});

test('drops the whole gateway: block when nothing rea knows is left; nothing offered when gatehouse.yaml exists', () => {
  const text = `${REA}gateway:\n  breaker:\n    failure_threshold: 3\n`;
  const { actions, document } = fixFor(text);
  const after = apply(text, document, (actions[0]!.edit!.documentChanges as TextDocumentEdit[])[2]!);
  assert.equal(after, REA);
  assert.deepEqual(fixFor(text, true).actions, []);
});
