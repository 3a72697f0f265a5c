import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../common/logger';
import { recordRedaction, recordScanTimeout } from '../scanner/metadata';
import type { InjectionResult, Scanner } from '../scanner/scannerClient';
import type { Middleware } from './chain';

export interface RedactResultLayerOptions {
  logger?: Logger;
  /**
   * Also scan the redacted result for injection in the same scanner job, for the injection
   * layer that runs next (`ctx.injection_prescan`). Needs a scanner with
   * `redactAndScanInjection`; one worker round trip per result instead of two.
   */
  prescanInjection?: boolean;
}

type ResultScanner = Pick<Scanner, 'redact'> & Partial<Pick<Scanner, 'redactAndScanInjection'>>;

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
  return async (ctx, next) => {
    await next();
    try {
      if (ctx.result) {
        let r: Awaited<ReturnType<Scanner['redact']>>;
        let verdict: InjectionResult | undefined;
        if (combined) {
          const both = await combined(ctx.result, { root: 'result', tier: ctx.tier });
          r = both.redaction;
          verdict = both.injection;
        } else {
          r = await scanner.redact(ctx.result, { root: 'result', mcpContent: true });
        }
        if (r.timeout) recordScanTimeout(ctx.metadata, r.timeout);
        if (r.timedOut || r.failed) {
          ctx.metadata.result_redaction = r.timedOut ? 'timed_out' : 'failed';
          options.logger?.warn(`${ctx.full_name}: result redaction ${r.timedOut ? 'timed out' : `failed (${r.failed})`}; result text withheld`);
        }
        if (r.value !== ctx.result) ctx.result = r.value as CallToolResult;
        if (verdict && ctx.result) ctx.injection_prescan = { result: ctx.result, tier: ctx.tier, verdict };
        recordRedaction(ctx.metadata, r.redactedFields, r.patterns);
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
      ctx.result = undefined;
      ctx.status = 'error';
      ctx.reason_code = 'redaction_failed';
      ctx.error = `Gatehouse could not redact the result of ${ctx.full_name} (${err instanceof Error ? err.message : String(err)}); the result was withheld.`;
    }
  };
}
