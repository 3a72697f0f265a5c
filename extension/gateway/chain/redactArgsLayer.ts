import type { Scanner } from '../scanner/scannerClient';
import type { RedactResult } from '../scanner/scanResults';
import { deny, type CallContext } from './callContext';
import type { Middleware } from './chain';
import { recordRedaction, recordScanTimeout } from '../scanner/metadata';

/** Prefix of the arguments' paths in the scan of `[tool name, arguments]`. */
const ARGS_PREFIX = '[1]';

/**
 * Redacts secrets in the arguments before dispatch (SPEC §7.9 pre-call), so an agent cannot hand
 * a secret to a tool through the gateway. Runs after blocked-paths (which must see the raw
 * values, SPEC §7.12). `ctx.arguments` is replaced by a redacted copy — never mutated — and the
 * changed field paths (`arguments.token`, …) go to `metadata.redacted_fields`, the pattern names
 * to `metadata.redacted_patterns`. Keys are redacted like values (`{"ghp_…": 1}`), and the paths
 * are spelled with the redacted keys.
 *
 * The tool name is scanned in the same job: a name that holds a secret (`echo__ghp_…`) cannot be
 * sent redacted — it would name another tool — so the call is refused (`secret_in_tool_name`)
 * and the context keeps only the redacted name, for the audit record and the answer.
 *
 * Fail closed: if the scan overruns its budget or cannot run, the call is refused
 * (`redaction_timeout` / `redaction_failed`) rather than sent with unscanned arguments — or with
 * arguments replaced wholesale by the timeout marker, which a write tool would act on.
 */
export function redactArgsLayer(scanner: Pick<Scanner, 'redact'> & Partial<Pick<Scanner, 'redactSoon'>>): Middleware {
  // A small call's arguments are redacted inline, in this turn (Scanner.redactSoon): the layer
  // then decides and goes on without an async frame or promise of its own. Only a job for the
  // scanner worker is awaited. Both ways decide exactly alike (`decide`).
  const soon = scanner.redactSoon ? scanner.redactSoon.bind(scanner) : scanner.redact.bind(scanner);
  const failed = (ctx: CallContext, err: unknown): void =>
    deny(ctx, 'redaction_failed', `Secret redaction of the arguments of ${ctx.full_name} failed (${err instanceof Error ? err.message : String(err)}); the call was refused.`);
  const later = async (ctx: CallContext, next: () => Promise<void>, pending: Promise<ArgsRedaction>): Promise<void> => {
    let go: boolean;
    try {
      go = decide(ctx, await pending);
    } catch (err) {
      failed(ctx, err);
      return;
    }
    if (go) await next();
  };
  return (ctx, next) => {
    let go: boolean;
    try {
      const r = soon([ctx.tool_name, ctx.arguments] as const);
      if (r instanceof Promise) return later(ctx, next, r);
      go = decide(ctx, r);
    } catch (err) {
      failed(ctx, err);
      return DONE;
    }
    return go ? next() : DONE;
  };
}

type ArgsRedaction = RedactResult<readonly [string, Record<string, unknown>]>;

const DONE: Promise<void> = Promise.resolve();

/** Applies the redaction of `[tool name, arguments]` to the context; false when the call is refused. */
function decide(ctx: CallContext, r: ArgsRedaction): boolean {
  if (r.timedOut || r.failed) {
    if (r.timeout) recordScanTimeout(ctx.metadata, r.timeout);
    deny(
      ctx,
      r.timedOut ? 'redaction_timeout' : 'redaction_failed',
      r.timedOut
        ? `Secret redaction of the arguments of ${ctx.full_name} did not finish within ${r.timeout?.budgetMs ?? '?'} ms (pattern '${r.timeout?.pattern ?? 'unknown'}'); the call was refused. Check redact.patterns in policy.yaml for a slow pattern.`
        : `Secret redaction of the arguments of ${ctx.full_name} could not run (${r.failed}); the call was refused.`,
    );
    return false;
  }
  if (r.redactedFields.length > 0) {
    const [toolName, args] = r.value;
    const fields = r.redactedFields.map((f) => (f.startsWith(ARGS_PREFIX) ? `arguments${f.slice(ARGS_PREFIX.length)}` : 'tool_name'));
    ctx.arguments = args;
    recordRedaction(ctx.metadata, fields, r.patterns);
    if (toolName !== ctx.tool_name) {
      ctx.tool_name = toolName;
      ctx.full_name = `${ctx.server_name}__${toolName}`;
      deny(
        ctx,
        'secret_in_tool_name',
        `The tool name ${ctx.full_name} holds a secret; the call was refused so that the secret does not reach the server.`,
      );
      return false;
    }
  }
  return true;
}
