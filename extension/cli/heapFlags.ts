import v8 from 'node:v8';

/**
 * How much V8 lets the old generation grow past what survived the last full GC, in percent:
 * the next full GC starts at live × 1.5.
 *
 * What a gateway holds per call is small (a heap snapshot with 200 calls in flight: ~23 MB
 * live, about what it holds idle); what grows under load is garbage. V8's default growing
 * factor adapts up to 4× the live size when it judges GC cheap against the allocation rate, so
 * 200 calls in flight for 20 s grew `gatehouse serve`'s heap from ~38 to ~140-165 MB and its RSS
 * to 210-260 MB, and the pages stayed resident long after the load (V8 returns them lazily).
 * A long-running gateway that sits beside an editor should rather run more, cheaper full GCs
 * (concurrent marking over a ~25-40 MB heap): same load, peak heap ~70 MB.
 */
export const GATEWAY_HEAP_GROWING_PERCENT = 50;

/**
 * Applies the gateway's V8 heap settings to this process (`gatehouse serve` only: in VS Code the
 * extension host's flags are not ours to change). Set at run time, because `gatehouse serve` is
 * started as `node dist/cli.js serve` by clients we do not control; the growing factor is read
 * at every GC, so it takes effect from the next one. A value the user gave in `NODE_OPTIONS` or
 * on the command line wins. Returns the flags applied.
 */
export function applyGatewayHeapFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  if (given.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return [];
  const flag = `--heap-growing-percent=${GATEWAY_HEAP_GROWING_PERCENT}`;
  v8.setFlagsFromString(flag);
  return [flag];
}
