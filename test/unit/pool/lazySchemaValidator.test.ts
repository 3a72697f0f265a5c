import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType } from '@modelcontextprotocol/sdk/validation';
import { LazySchemaValidator } from '../../../extension/pool/lazySchemaValidator';
import { stdioServer } from '../../helpers/fixtures';
import { until } from '../../helpers/poll';
import { startPool } from '../../helpers/pool';

const schema = {
  type: 'object',
  properties: { at: { type: 'string', format: 'date-time' }, n: { type: 'integer', minimum: 1 } },
  required: ['n'],
} as JsonSchemaType;

describe('LazySchemaValidator', () => {
  it('builds no Ajv until asked, then validates exactly as the SDK default (formats included)', () => {
    const lazy = new LazySchemaValidator();
    assert.equal(lazy.built, false);
    const ours = lazy.getValidator<{ n: number }>(schema);
    assert.equal(lazy.built, true);
    const sdk = new AjvJsonSchemaValidator().getValidator<{ n: number }>(schema);
    for (const input of [{ n: 2 }, { n: 2, at: '2026-12-02T08:00:00Z' }, { n: 0 }, { at: 'not a date', n: 2 }, {}, 'x']) {
      assert.deepEqual(ours(input), sdk(input), JSON.stringify(input));
    }
    assert.equal(ours({ n: 2, at: 'not a date' }).valid, false);
  });

  it("a child's Client gets one, and starting and calling a server never builds it", async () => {
    const pool = startPool([stdioServer('echo', 'echo.mjs')]);
    try {
      await until('echo ready', () => pool.connection('echo')?.state === 'ready');
      await pool.callTool('echo', 'echo', { text: 'hi' });
      // White-box on purpose: which validator the SDK Client holds is not observable otherwise.
      const client = (pool.connection('echo') as unknown as { client: { _jsonSchemaValidator: unknown } }).client;
      const validator = client._jsonSchemaValidator;
      assert.ok(validator instanceof LazySchemaValidator, 'the Client was given the lazy validator');
      assert.equal(validator.built, false, 'no Ajv was built for this (re)spawn');
    } finally {
      await pool.stop();
      pool.dispose();
    }
  });
});
