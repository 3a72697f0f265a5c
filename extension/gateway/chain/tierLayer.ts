import { deny } from './callContext';
import { gateLayer, type Middleware } from './chain';
import { classifyTierDetailed, type TierOverrides } from './tier';

export interface TierLayerOptions {
  /** The server's registry `tier_overrides`, read per call (hot reload applies to the next call). */
  tierOverrides: (server: string) => TierOverrides | undefined;
}

/**
 * Sets `ctx.tier` (SPEC §7.2 #3) from the registry override, the tool's annotations and the
 * name conventions (see tier.ts). Records where the tier came from in `metadata.tier_source`.
 * A failure to classify denies the call (fail closed) instead of letting it run untiered.
 */
export function tierLayer(options: TierLayerOptions): Middleware {
  return gateLayer((ctx) => {
    try {
      const c = classifyTierDetailed(ctx.server_name, ctx.tool, ctx.tool_name, options.tierOverrides(ctx.server_name));
      ctx.tier = c.tier;
      ctx.metadata.tier_source = c.source;
    } catch (err) {
      deny(ctx, 'tier_failed', `Gatehouse could not classify '${ctx.full_name}' (${err instanceof Error ? err.message : String(err)}); the call was refused.`);
      return false;
    }
    return true;
  });
}
