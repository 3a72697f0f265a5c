import { systemClock, type Clock } from '../../common/clock';
import { haltMessage, readHalt, type HaltState } from '../halt';
import { deny, type CallContext } from './callContext';
import type { Middleware } from './chain';

/** Options of {@link killSwitchLayer}. */
export interface KillSwitchLayerOptions {
  /** The config directory holding HALT; a function when it can change (config dir setting). */
  dir: string | (() => string);
  /** Time of the decision (`halt_at_invocation`). Default the system clock. */
  clock?: Clock;
  /** Answers the probe; default {@link readHalt}, one `open` per call. The gateway passes a HaltWatch. */
  probe?: (dir: string) => Promise<HaltState>;
}

/**
 * The kill switch (SPEC §7.3), second layer after audit so its denials are recorded. HALT is
 * decided once per call, at entry (a HaltWatch answers "absent" from its watch, never a stale
 * one, see there): creating it does not cancel calls already past
 * this layer, removing it does not rescue a call already denied. Present → denied with
 * `reason_code: 'halt'`; a probe that fails in any other way (EACCES, …) → denied too
 * (`halt_check_failed`): an unreadable switch is treated as on. Records `halt_decision` and
 * `halt_at_invocation` in the metadata (Appendix B). Runs before tier, so under HALT the audit
 * record's tier is the `write` fallback, as in rea.
 */
export function killSwitchLayer(options: KillSwitchLayerOptions): Middleware {
  const clock = options.clock ?? systemClock;
  const dirOf = typeof options.dir === 'function' ? options.dir : () => options.dir as string;
  const probe = options.probe ?? ((dir: string) => readHalt(dir, clock));
  // A plain function and one `then`: an async layer cost its own promise and frame per call.
  const decide = (ctx: CallContext, state: HaltState): boolean => {
    ctx.metadata.halt_decision = state.decision;
    ctx.metadata.halt_at_invocation = state.decision === 'absent' ? null : state.checkedAt;
    if (state.decision === 'present') {
      deny(ctx, 'halt', haltMessage(state.reason));
      return false;
    }
    if (state.decision === 'unknown') {
      deny(
        ctx,
        'halt_check_failed',
        `Kill switch check failed: ${state.code} (${state.message}). Calls are refused until the HALT file can be checked; fix its permissions or run \`gatehouse unfreeze\`.`,
      );
      return false;
    }
    return true;
  };
  return (ctx, next) => {
    let state: Promise<HaltState>;
    try {
      state = probe(dirOf());
    } catch (err) {
      return Promise.reject(err);
    }
    return state.then((s) => (decide(ctx, s) ? next() : undefined));
  };
}
