import { AUTONOMY_LEVELS, type AutonomyLevel, type Policy } from '../../config/policySchema';
import { deny, type Tier } from './callContext';
import { gateLayer, type Middleware } from './chain';
import { classifyTierDetailed, type TierOverrides } from './tier';

/**
 * Tiers each autonomy level allows: the table rea 0.9.1's gateway enforces (SPEC §7.5), where L2
 * denies the destructive tier exactly like L1. rea's README describes L2 as "writes and
 * destructive tier allowed", but the gateway is what a rea user's policy actually did: a
 * governance product must never widen a policy on a move, so a rea user who switches to
 * Gatehouse at L2 keeps destructive calls refused. Only L3 allows them.
 *
 * | Level | read | write | destructive |
 * |-------|------|-------|-------------|
 * | L0    | yes  | no    | no          |
 * | L1    | yes  | yes   | no          |
 * | L2    | yes  | yes   | no          |
 * | L3    | yes  | yes   | yes         |
 *
 * The other layers (HALT, blocked paths, rate limits, redaction, injection) apply at every level.
 */
export const AUTONOMY_TIERS: Readonly<Record<AutonomyLevel, readonly Tier[]>> = {
  L0: ['read'],
  L1: ['read', 'write'],
  L2: ['read', 'write'],
  L3: ['read', 'write', 'destructive'],
};

/** The lowest level that allows `tier`. */
export function minimumLevelFor(tier: Tier): AutonomyLevel {
  return AUTONOMY_LEVELS.find((level) => AUTONOMY_TIERS[level].includes(tier)) ?? 'L3';
}

export interface PolicyLayerOptions {
  /** The current policy, read per call: a hot-reloaded policy applies to the next call. */
  policy: () => Pick<Policy, 'autonomy_level' | 'max_autonomy_level'> | undefined;
  /** The server's registry `tier_overrides`, read per call. */
  tierOverrides: (server: string) => TierOverrides | undefined;
  /** Level used while no policy is loaded (default L1, rea's default level). */
  defaultAutonomy?: AutonomyLevel;
  /** How deny messages name the policy file (default "policy.yaml"). */
  policyFile?: string;
  /** How deny messages name the registry file (default "registry.yaml"). */
  registryFile?: string;
}

function isLevel(value: unknown): value is AutonomyLevel {
  return typeof value === 'string' && (AUTONOMY_LEVELS as readonly string[]).includes(value);
}

/**
 * The autonomy gate (SPEC §7.5). Re-derives the tier itself rather than trusting `ctx.tier`,
 * writes it back, clamps `autonomy_level` to `max_autonomy_level`, and denies a tier the level
 * does not allow with reason_code `tier_exceeds_autonomy` and a message that says what to change.
 * On a pass `metadata.autonomy_level` is set for the audit record.
 */
export function policyLayer(options: PolicyLayerOptions): Middleware {
  const policyFile = options.policyFile ?? 'policy.yaml';
  const registryFile = options.registryFile ?? 'registry.yaml';
  return gateLayer((ctx) => {
    let level: AutonomyLevel;
    let maxLevel: AutonomyLevel | undefined;
    let tier: Tier;
    let detail: string;
    try {
      const policy = options.policy();
      const configured: unknown = policy ? policy.autonomy_level : (options.defaultAutonomy ?? 'L1');
      if (!isLevel(configured)) {
        deny(ctx, 'unknown_autonomy_level', `Unknown autonomy level '${String(configured)}' in ${policyFile}; use L0, L1, L2 or L3. Tool: ${ctx.full_name}`);
        return false;
      }
      level = configured;
      const ceiling: unknown = policy?.max_autonomy_level;
      if (ceiling !== undefined) {
        if (!isLevel(ceiling)) {
          deny(ctx, 'unknown_autonomy_level', `Unknown max_autonomy_level '${String(ceiling)}' in ${policyFile}; use L0, L1, L2 or L3. Tool: ${ctx.full_name}`);
          return false;
        }
        maxLevel = ceiling;
        if (AUTONOMY_LEVELS.indexOf(level) > AUTONOMY_LEVELS.indexOf(ceiling)) {
          ctx.metadata.autonomy_clamped_from = level;
          level = ceiling;
        }
      }
      const c = classifyTierDetailed(ctx.server_name, ctx.tool, ctx.tool_name, options.tierOverrides(ctx.server_name));
      tier = c.tier;
      detail = c.detail;
      ctx.tier = tier;
    } catch (err) {
      deny(ctx, 'policy_failed', `Gatehouse could not evaluate the policy for '${ctx.full_name}' (${err instanceof Error ? err.message : String(err)}); the call was refused.`);
      return false;
    }
    if (!AUTONOMY_TIERS[level].includes(tier)) {
      const needed = minimumLevelFor(tier);
      const ceilingNote =
        maxLevel && AUTONOMY_LEVELS.indexOf(maxLevel) < AUTONOMY_LEVELS.indexOf(needed)
          ? ` (max_autonomy_level is ${maxLevel}, so raise it too)`
          : '';
      const overrideHint =
        tier === 'read'
          ? ''
          : ` If this tool is not really ${tier}, set tier_overrides: { ${ctx.tool_name}: ${tier === 'destructive' ? 'write' : 'read'} } on server '${ctx.server_name}' in ${registryFile}.`;
      ctx.metadata.autonomy_level = level;
      ctx.metadata.required_autonomy_level = needed;
      deny(
        ctx,
        'tier_exceeds_autonomy',
        `Autonomy level ${level} does not allow ${tier}-tier tools. Tool: ${ctx.full_name} (${tier}: ${detail}). ` +
          `To allow it, set autonomy_level: ${needed} in ${policyFile}${ceilingNote}.${overrideHint}`,
      );
      return false;
    }
    ctx.metadata.autonomy_level = level;
    return true;
  });
}
