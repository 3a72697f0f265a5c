import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../../extension/lsp/validate';

// Issue 18 item 3: the editor reads blocked_paths with the gateway's rules, for the platform the
// gateway runs on (the `platform` seam). Windows path forms: Microsoft, "Naming Files, Paths, and
// Namespaces" (drive letters, UNC, \\?\).
const POLICY = [
  'autonomy_level: L1',
  'blocked_paths:',
  '  - https://example.com/secrets',
  '  - ./',
  '  - C:\\Users\\me\\secrets\\',
  '  - \\\\server\\share\\hr\\',
  '  - .env',
  '  - file:///C:/keys/',
  '',
].join('\n');

function warnings(platform: NodeJS.Platform): Array<[string, number]> {
  const { diagnostics } = validateConfig({ file: '/w/.gatehouse/policy.yaml', text: POLICY, kind: 'policy' }, { env: { HOME: '/home/me' }, platform });
  return diagnostics.filter((d) => d.code.startsWith('blocked-path-')).map((d) => [d.code, d.range.start.line]);
}

test('entries that never match are flagged on every platform', () => {
  const { diagnostics } = validateConfig({ file: '/w/.gatehouse/policy.yaml', text: POLICY, kind: 'policy' }, { env: {}, platform: 'linux' });
  const remote = diagnostics.find((d) => d.code === 'blocked-path-never-matches' && d.range.start.line === 2);
  assert.match(remote?.message ?? '', /'https:\/\/example\.com\/secrets' is a remote URL; blocked paths match local paths only/);
  const empty = diagnostics.find((d) => d.code === 'blocked-path-never-matches' && d.range.start.line === 3);
  assert.match(empty?.message ?? '', /'\.\/' names no file or folder/);
  assert.equal(remote?.severity, 2, 'a warning');
});

test('Windows paths are foreign on Linux and macOS, and understood on Windows', () => {
  assert.deepEqual(warnings('linux'), [
    ['blocked-path-never-matches', 2],
    ['blocked-path-never-matches', 3],
    ['blocked-path-foreign', 4],
    ['blocked-path-foreign', 5],
  ]);
  assert.deepEqual(
    warnings('darwin').map(([code]) => code),
    ['blocked-path-never-matches', 'blocked-path-never-matches', 'blocked-path-foreign', 'blocked-path-foreign'],
  );
  assert.deepEqual(warnings('win32'), [
    ['blocked-path-never-matches', 2],
    ['blocked-path-never-matches', 3],
  ]);
});
