import type { CallContext, CallKind } from './callContext';

/**
 * One layer of the call chain, Koa style: work before `next()` runs on the way in, work
 * after it on the way out (in reverse order). A layer denies by setting the status and not
 * calling `next`.
 */
export type Middleware = (ctx: CallContext, next: () => Promise<void>) => Promise<void>;

const layerKinds = new WeakMap<Middleware, ReadonlySet<CallKind>>();

const STOPPED: Promise<void> = Promise.resolve();

/**
 * A layer whose work is synchronous and done before `next`: `pass` denies (and returns false) or
 * lets the call on (true). Most gates are this shape; as a plain function rather than an async
 * one each saves its own promise, a suspended frame and two ticks on every call. What `pass`
 * throws is a rejection, as an async layer's throw was.
 */
export function gateLayer(pass: (ctx: CallContext) => boolean): Middleware {
  return (ctx, next) => {
    let go: boolean;
    try {
      go = pass(ctx);
    } catch (err) {
      return Promise.reject(err);
    }
    return go ? next() : STOPPED;
  };
}

/**
 * A layer whose work is all after `next`: `after` runs once the rest of the chain has settled
 * (not when it failed: the failure goes on, as from an async layer's `await next()`). As a
 * plain function it saves the layer's async frame and a promise on every call; `after` returns
 * a promise only when it has to wait for something.
 */
export function afterLayer(after: (ctx: CallContext) => void | Promise<void>): Middleware {
  return (ctx, next) => {
    let rest: Promise<void>;
    try {
      rest = next();
    } catch (err) {
      return Promise.reject(err);
    }
    return rest.then(() => after(ctx));
  };
}

/**
 * Marks a layer as applying only to some kinds of request (e.g. the autonomy gate, which
 * classifies tools). Layers not marked apply to every kind. The layer itself never looks at the
 * kind: one chain, composed once per kind (DESIGN.md §5b).
 */
export function forKinds(kinds: readonly CallKind[], layer: Middleware): Middleware {
  const only: Middleware = (ctx, next) => layer(ctx, next);
  layerKinds.set(only, new Set(kinds));
  return only;
}

/**
 * Composes layers around a terminal dispatcher. Anything a layer throws becomes
 * `status = error` (fail closed: a broken layer never lets a call through unchecked).
 * A context runs the layers that apply to its `kind` (default `tool`).
 */
export function compose(allLayers: readonly Middleware[]): (ctx: CallContext) => Promise<void> {
  const byKind = new Map<CallKind, readonly Middleware[]>();
  const layersFor = (kind: CallKind): readonly Middleware[] => {
    let list = byKind.get(kind);
    if (!list) {
      list = allLayers.filter((l) => layerKinds.get(l)?.has(kind) ?? true);
      byKind.set(kind, list);
    }
    return list;
  };
  return async (ctx) => {
    const layers = layersFor(ctx.kind ?? 'tool');
    // Plain functions returning promises, not async ones: two fewer promises and frames per
    // layer on every call. Each still reports a synchronous throw as a rejection, as before.
    const run = (index: number): Promise<void> => {
      const layer = layers[index];
      if (!layer) return Promise.resolve();
      let called = false;
      const next = (): Promise<void> => {
        if (called) return Promise.reject(new Error('a chain layer called next() twice'));
        called = true;
        return run(index + 1);
      };
      try {
        return layer(ctx, next);
      } catch (err) {
        return Promise.reject(err);
      }
    };
    try {
      await run(0);
    } catch (err) {
      ctx.status = 'error';
      ctx.reason_code ??= 'internal_error';
      ctx.error = `Gatehouse could not complete the call: ${err instanceof Error ? err.message : String(err)}`;
    }
  };
}
