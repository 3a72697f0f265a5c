import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TUNABLES } from '../../../extension/config/policySchema';
import { serverSchema } from '../../../extension/config/registrySchema';
import {
  REFERENCE_END,
  REFERENCE_START,
  referenceRows,
  renderConfigReference,
  withConfigReference,
} from '../../../extension/build/generateConfigReference';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test("README.md's configuration reference matches the schemas", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  assert.ok(start >= 0 && end > start, `README.md has the ${REFERENCE_START} … ${REFERENCE_END} markers`);
  const current = readme.slice(start, end + REFERENCE_END.length);
  assert.ok(current === renderConfigReference(), "README.md's configuration reference is out of date with extension/config/: run npm run docs");
});

test('every server field has a row', () => {
  const fields = referenceRows('registry').map((r) => r.field);
  for (const key of Object.keys(serverSchema.shape)) assert.ok(fields.includes(`servers[].${key}`), `servers[].${key} is documented`);
});

test('every gateway tunable has a row with the default resolveTunables applies', () => {
  const rows = new Map(referenceRows('policy').map((r) => [r.field, r]));
  const leaves = (value: object, prefix: string): Array<[string, unknown]> =>
    Object.entries(value).flatMap(([k, v]): Array<[string, unknown]> => (typeof v === 'object' && v !== null ? leaves(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]]));
  const tunables = leaves(DEFAULT_TUNABLES, 'gateway.');
  assert.ok(tunables.length >= 15);
  for (const [field, value] of tunables) assert.equal(rows.get(field)?.default, String(value), field);
});

test('required fields say so and a prose default moves into the Default column', () => {
  const policy = new Map(referenceRows('policy').map((r) => [r.field, r]));
  assert.equal(policy.get('autonomy_level')?.default, 'required');
  assert.equal(policy.get('injection_detection')?.default, 'block');
  assert.doesNotMatch(policy.get('injection_detection')?.description ?? '', /default/);
  assert.equal(policy.get('gateway.rate_limit.<name>.burst')?.default, 'per_minute');
  const registry = new Map(referenceRows('registry').map((r) => [r.field, r]));
  assert.equal(registry.get('servers[].name')?.default, 'required');
  assert.equal(registry.get('servers[].enabled')?.default, 'true');
  assert.equal(registry.get('servers[].timeouts.call_ms')?.default, 'gateway.timeouts.call_ms');
});

test('table cells cannot break the table or turn into HTML', () => {
  const text = renderConfigReference();
  assert.match(text, /"L0" \\\| "L1"/);
  assert.match(text, /&lt;name&gt;\\_\\_&lt;tool&gt;/);
  for (const line of text.split('\n').filter((l) => l.startsWith('| `'))) {
    assert.equal(line.replace(/\\\|/g, '').split('|').length, 6, `four cells: ${line}`);
  }
});

test('the section is replaced in place; missing markers are an error', () => {
  const doc = `# Title\n\nbefore\n${REFERENCE_START}\nstale\n${REFERENCE_END}\nafter\n`;
  const updated = withConfigReference(doc);
  assert.ok(updated.startsWith('# Title\n\nbefore\n'));
  assert.ok(updated.endsWith(`${REFERENCE_END}\nafter\n`));
  assert.ok(!updated.includes('stale'));
  assert.equal(withConfigReference(updated), updated);
  assert.throws(() => withConfigReference('# no markers\n'), /needs the markers/);
});
