import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose, forKinds, gateLayer, type Middleware } from '../../../extension/gateway/chain/chain';

function context(kind?: CallContext['kind']): CallContext {
  return { kind, tool_name: 't', server_name: 's', full_name: 's__t', arguments: {}, session_id: 'x', status: 'allowed', start_time: 0, metadata: {} };
}

describe('compose', () => {
  it('runs layers in on the way in and in reverse on the way out; a layer that does not call next stops the chain', async () => {
    const seen: string[] = [];
    const layer = (name: string): Middleware => async (_ctx, next) => {
      seen.push(`in ${name}`);
      await next();
      seen.push(`out ${name}`);
    };
    const stop: Middleware = async (ctx) => {
      seen.push('stop');
      ctx.status = 'denied';
    };
    const ctx = context();
    await compose([layer('a'), layer('b'), stop, layer('never')])(ctx);
    assert.deepEqual(seen, ['in a', 'in b', 'stop', 'out b', 'out a']);
    assert.equal(ctx.status, 'denied');
  });

  it('fails closed: a layer that throws (synchronously or not) or calls next twice makes the call an error', async () => {
    const syncThrow = ((() => {
      throw new Error('sync boom');
    }) as unknown) as Middleware;
    const twice: Middleware = async (_ctx, next) => {
      await next();
      await next();
    };
    const cases: Array<[Middleware[], RegExp]> = [
      [[syncThrow], /sync boom/],
      [[async () => Promise.reject(new Error('async boom'))], /async boom/],
      [[twice, async () => undefined], /called next\(\) twice/],
    ];
    for (const [layers, message] of cases) {
      const ctx = context();
      await compose(layers)(ctx);
      assert.equal(ctx.status, 'error');
      assert.equal(ctx.reason_code, 'internal_error');
      assert.match(ctx.error!, message);
    }
  });

  it('a synchronous throw below a layer reaches that layer as a rejection it can catch', async () => {
    let caught: unknown;
    const catcher: Middleware = (_ctx, next) =>
      next().catch((err: unknown) => {
        caught = err;
      });
    const ctx = context();
    await compose([
      catcher,
      ((() => {
        throw new Error('below');
      }) as unknown) as Middleware,
    ])(ctx);
    assert.equal((caught as Error).message, 'below');
    assert.equal(ctx.status, 'allowed');
  });

  it('runs a layer marked with forKinds only for those kinds', async () => {
    const seen: string[] = [];
    const chain = compose([forKinds(['tool'], async (_ctx, next) => (seen.push('tool-only'), next())), async () => void seen.push('all')]);
    await chain(context('prompt'));
    await chain(context());
    assert.deepEqual(seen, ['all', 'tool-only', 'all']);
  });
});

describe('gateLayer', () => {
  it('goes on to the next layers when the gate passes, and their way out runs before the gate layer settles', async () => {
    const seen: string[] = [];
    const gate = gateLayer((ctx) => {
      seen.push(`gate ${ctx.status}`);
      return true;
    });
    const after: Middleware = async (ctx, next) => {
      seen.push('in after');
      await next();
      await Promise.resolve();
      seen.push('out after');
      ctx.metadata.after = true;
    };
    const ctx = context();
    await compose([gate, after])(ctx);
    assert.deepEqual(seen, ['gate allowed', 'in after', 'out after']);
    assert.equal(ctx.status, 'allowed');
    assert.equal(ctx.metadata.after, true);
  });

  it('stops the chain when the gate says no: nothing after it runs, its denial stays', async () => {
    let reached = false;
    const gate = gateLayer((ctx) => {
      ctx.status = 'denied';
      ctx.reason_code = 'nope';
      return false;
    });
    const ctx = context();
    await compose([gate, async () => void (reached = true)])(ctx);
    assert.equal(reached, false);
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'nope');
  });

  it('a throw in the gate is a rejection (the chain fails closed), never a synchronous throw out of the layer', async () => {
    const gate = gateLayer(() => {
      throw new Error('gate boom');
    });
    let reached = false;
    const result = gate(context(), async () => void (reached = true));
    await assert.rejects(result, /gate boom/);
    assert.equal(reached, false);
    const ctx = context();
    await compose([gate])(ctx);
    assert.equal(ctx.status, 'error');
    assert.match(ctx.error ?? '', /gate boom/);
  });

  it('a gate that passes returns the promise of the rest of the chain, so a failure below reaches the caller', async () => {
    const gate = gateLayer(() => true);
    await assert.rejects(gate(context(), () => Promise.reject(new Error('below'))), /below/);
  });
});
