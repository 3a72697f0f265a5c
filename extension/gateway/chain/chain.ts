import type { CallContext } from './callContext';

/**
 * One layer of the call chain, Koa style: work before `next()` runs on the way in, work
 * after it on the way out (in reverse order). A layer denies by setting the status and not
 * calling `next`.
 */
export type Middleware = (ctx: CallContext, next: () => Promise<void>) => Promise<void>;

/**
 * Composes layers around a terminal dispatcher. Anything a layer throws becomes
 * `status = error` (fail closed: a broken layer never lets a call through unchecked).
 */
export function compose(layers: readonly Middleware[]): (ctx: CallContext) => Promise<void> {
  return async (ctx) => {
    const run = async (index: number): Promise<void> => {
      const layer = layers[index];
      if (!layer) return;
      let called = false;
      await layer(ctx, async () => {
        if (called) throw new Error('a chain layer called next() twice');
        called = true;
        await run(index + 1);
      });
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
