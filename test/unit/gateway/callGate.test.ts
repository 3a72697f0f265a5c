import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { CallGate, GATEWAY_STOPPING_CODE } from '../../../extension/gateway/callGate';

describe('CallGate', () => {
  it('answers with the call’s own result or error, and tracks it only while it runs', async () => {
    const gate = new CallGate();
    let release!: (v: string) => void;
    const running = gate.run(() => new Promise<string>((r) => (release = r)));
    assert.equal(gate.size, 1);
    release('done');
    assert.equal(await running, 'done');
    assert.equal(gate.size, 0);
    await assert.rejects(gate.run(() => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(gate.size, 0);
  });

  it('a call that throws before returning a promise is refused with its error and not left in flight', async () => {
    const gate = new CallGate();
    await assert.rejects(
      gate.run(() => {
        throw new Error('sync');
      }),
      /sync/,
    );
    assert.equal(gate.size, 0);
    // A stop right after has nothing to wait for.
    await gate.stop(10_000);
  });

  it('stop answers the calls still running with the stopping error, and refuses new ones', async () => {
    const gate = new CallGate();
    const stuck = gate.run(() => new Promise<never>(() => undefined));
    const quick = gate.run(() => Promise.resolve(1));
    assert.equal(await quick, 1);
    const answered = assert.rejects(stuck, (err: unknown) => err instanceof McpError && err.code === GATEWAY_STOPPING_CODE);
    await gate.stop(0);
    await answered;
    assert.equal(gate.size, 0);
    await assert.rejects(gate.run(() => Promise.resolve(2)), (err: unknown) => err instanceof McpError && err.code === GATEWAY_STOPPING_CODE);
  });
});
