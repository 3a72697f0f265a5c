import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jsonSchemaFor } from '../../../extension/lsp/jsonSchemas';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('the registry JSON Schema carries the zod descriptions and strictness', () => {
  const schema = jsonSchemaFor('registry') as { $schema: string; additionalProperties: boolean; required: string[]; properties: Record<string, { description?: string; items?: { properties: Record<string, { description?: string }>; required: string[]; additionalProperties: boolean } }> };
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required, ['version']);
  const server = schema.properties.servers?.items;
  assert.deepEqual(server?.required, ['name']);
  assert.equal(server?.additionalProperties, false);
  for (const [key, field] of Object.entries(server?.properties ?? {})) assert.ok(field.description, `servers[].${key} has a description`);
});

test('the policy JSON Schema describes autonomy levels as an enum', () => {
  const schema = jsonSchemaFor('policy') as { required: string[]; properties: Record<string, { enum?: string[]; description?: string }> };
  assert.deepEqual(schema.required, ['autonomy_level']);
  assert.deepEqual(schema.properties.autonomy_level?.enum, ['L0', 'L1', 'L2', 'L3']);
  for (const [key, field] of Object.entries(schema.properties)) assert.ok(field.description, `${key} has a description`);
});

test('the build script writes both schemas, identical to the in-process ones', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'gatehouse-schemas-'));
  try {
    const run = spawnSync(process.execPath, ['extension/build/generateSchemas.mjs', out], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'registry.schema.json'), 'utf8')), jsonSchemaFor('registry'));
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'policy.schema.json'), 'utf8')), jsonSchemaFor('policy'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
