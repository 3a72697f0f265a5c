import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../common/logger';
import { recordRedaction, recordScanTimeout } from '../scanner/metadata';
import type { InjectionResult, Scanner } from '../scanner/scannerClient';
import type { RedactAndScanResult, RedactResult } from '../scanner/scanResults';
import type { CallContext } from './callContext';
import { afterLayer, type Middleware } from './chain';

export interface RedactResultLayerOptions {
  logger?: Logger;
  /**
   * Also scan the redacted result for injection in the same scanner job, for the injection
   * layer that runs next (`ctx.injection_prescan`). Needs a scanner with
   * `redactAndScanInjection`; one worker round trip per result instead of two.
   */
  prescanInjection?: boolean;
}

type ResultScanner = Pick<Scanner, 'redact'> & Partial<Pick<Scanner, 'redactAndScanInjection' | 'redactAndScanInjectionSoon'>>;

/**
 * Redacts secrets on the way out (SPEC §7.9 post-call, §13.1 item 15): every string of
 * `ctx.result` (image/audio/blob payloads excepted) and the error text `ctx.error`, which the
 * client sees as the `isError` text. Runs after the size cap, so it scans bounded text.
 *
 * Fail closed: when the scan overruns its budget or cannot run, every string of the result (and
 * the error text) becomes `[REDACTION TIMED OUT]` — the structure and `isError` stay, nothing
 * unscanned leaves. Changed paths go to `metadata.redacted_fields` (`result.content[0].text`,
 * `error`), pattern names to `metadata.redacted_patterns`.
 *
 * With `prescanInjection`, the redacted result's injection verdict comes back from the same
 * worker job and is left in `ctx.injection_prescan`; what this layer does is unchanged.
 */
export function redactResultLayer(scanner: ResultScanner, options: RedactResultLayerOptions = {}): Middleware {
  const combined = options.prescanInjection ? scanner.redactAndScanInjection?.bind(scanner) : undefined;
  // The combined job answered in this turn when it runs inline (a small result): the usual call
  // then settles without an async round of its own.
  const combinedSoon = options.prescanInjection ? scanner.redactAndScanInjectionSoon?.bind(scanner) : undefined;

  /** Puts a result's redaction (and the verdict of the same job) on the context. */
  const applyResult = (ctx: CallContext, r: RedactResult, verdict: InjectionResult | undefined): void => {
    if (r.timeout) recordScanTimeout(ctx.metadata, r.timeout);
    if (r.timedOut || r.failed) {
      ctx.metadata.result_redaction = r.timedOut ? 'timed_out' : 'failed';
      options.logger?.warn(`${ctx.full_name}: result redaction ${r.timedOut ? 'timed out' : `failed (${r.failed})`}; result text withheld`);
    }
    if (r.value !== ctx.result) ctx.result = r.value as CallToolResult;
    if (verdict && ctx.result) ctx.injection_prescan = { result: ctx.result, tier: ctx.tier, verdict };
    recordRedaction(ctx.metadata, r.redactedFields, r.patterns);
  };
  const failed = (ctx: CallContext, err: unknown): void => {
    ctx.result = undefined;
    ctx.status = 'error';
    ctx.reason_code = 'redaction_failed';
    ctx.error = `Gatehouse could not redact the result of ${ctx.full_name} (${err instanceof Error ? err.message : String(err)}); the result was withheld.`;
  };
  const applyBoth = (ctx: CallContext, both: RedactAndScanResult<CallToolResult>): void => {
    try {
      applyResult(ctx, both.redaction, both.injection);
    } catch (err) {
      failed(ctx, err);
    }
  };

  const check = async (ctx: CallContext): Promise<void> => {
    try {
      if (ctx.result) {
        if (combined) {
          const both = await combined(ctx.result, { root: 'result', tier: ctx.tier });
          applyResult(ctx, both.redaction, both.injection);
        } else {
          applyResult(ctx, await scanner.redact(ctx.result, { root: 'result', mcpContent: true }), undefined);
        }
      }
      if (typeof ctx.error === 'string' && ctx.error.length > 0) {
        const r = await scanner.redact(ctx.error);
        if (r.timeout) recordScanTimeout(ctx.metadata, r.timeout);
        if (r.value !== ctx.error) {
          ctx.error = r.value;
          recordRedaction(ctx.metadata, r.redactedFields.length ? ['error'] : [], r.patterns);
        }
      }
    } catch (err) {
      failed(ctx, err);
    }
  };

  return afterLayer((ctx) => {
    // A result and no error text, the usual end of a call: one combined job, often inline.
    if (!combinedSoon || !ctx.result || (typeof ctx.error === 'string' && ctx.error.length > 0)) return check(ctx);
    let both: RedactAndScanResult<CallToolResult> | Promise<RedactAndScanResult<CallToolResult>>;
    try {
      both = combinedSoon(ctx.result, { root: 'result', tier: ctx.tier });
    } catch (err) {
      failed(ctx, err);
      return undefined;
    }
    if (both instanceof Promise) {
      return both.then(
        (answer) => applyBoth(ctx, answer),
        (err: unknown) => failed(ctx, err),
      );
    }
    applyBoth(ctx, both);
    return undefined;
  });
}
