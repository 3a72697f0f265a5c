/**
 * Tool tier classification (SPEC §7.4, with `tier_overrides` wired and MCP annotations used,
 * SPEC §13.1 items 16 and 18).
 *
 * Precedence:
 * 1. The registry's `tier_overrides[tool]` — the operator's word, final in both directions.
 * 2. Annotations. `destructiveHint: true` → destructive (a hint can always make a call *stricter*).
 *    `readOnlyHint: true` → read, but only for a tool the name conventions leave at the default:
 *    annotations come from the downstream, which is not trusted to *lower* a tier, so a
 *    `delete_*` tool claiming to be read-only stays destructive and a `send_message` stays
 *    write. Both hints set → destructive (the stricter reading of a contradiction).
 * 3. rea's name conventions: the static map, then the read/destructive prefixes.
 * 4. Anything else is `write` — the fail-safe default, which needs at least L1.
 */
import type { AggregatedTool } from '../../pool/types';
import type { Tier } from './callContext';

/** Where a classification came from (recorded in the audit metadata and deny messages). */
export type TierSource = 'override' | 'annotation' | 'name' | 'prefix' | 'default';

export interface TierClassification {
  tier: Tier;
  source: TierSource;
  /** Human-readable reason, e.g. "name prefix 'delete_'". */
  detail: string;
}

/** Registry `tier_overrides` of one server: tool's own name → tier. */
export type TierOverrides = Readonly<Record<string, Tier>>;

const STATIC_READ = [
  'get_messages', 'get_channel', 'get_guild', 'get_member', 'get_webhook', 'list_channels', 'list_guilds', 'list_members',
  'list_roles', 'list_threads', 'list_webhooks', 'list_projects', 'search_messages', 'query_audit_log', 'health_check',
];
const STATIC_WRITE = [
  'send_message', 'send_embed', 'edit_message', 'add_reaction', 'create_thread', 'create_channel', 'create_role',
  'create_invite', 'create_webhook', 'execute_webhook', 'edit_channel', 'edit_role', 'edit_webhook', 'set_slowmode',
  'set_permissions', 'assign_role', 'move_channel', 'archive_thread', 'timeout_member',
];
const STATIC_DESTRUCTIVE = [
  'delete_message', 'delete_channel', 'delete_role', 'delete_webhook', 'purge_messages', 'ban_member', 'unban_member', 'kick_member',
];

const STATIC_MAP: ReadonlyMap<string, Tier> = new Map<string, Tier>([
  ...STATIC_READ.map((n) => [n, 'read'] as const),
  ...STATIC_WRITE.map((n) => [n, 'write'] as const),
  ...STATIC_DESTRUCTIVE.map((n) => [n, 'destructive'] as const),
]);

/** rea's read prefixes. */
export const READ_PREFIXES: readonly string[] = ['get_', 'list_', 'search_', 'query_', 'read_', 'fetch_', 'check_', 'health_', 'describe_', 'show_', 'count_'];
/** rea's destructive prefixes. */
export const DESTRUCTIVE_PREFIXES: readonly string[] = ['delete_', 'drop_', 'purge_', 'remove_', 'destroy_', 'ban_', 'kick_', 'revoke_', 'truncate_'];

/** The name rea classifies: the segment after the last `__` when the tool's own name has one. */
export function baseToolName(toolName: string): string {
  const at = toolName.lastIndexOf('__');
  return at >= 0 ? toolName.slice(at + 2) : toolName;
}

/** Name conventions only (steps 3–4), on the base name. */
export function classifyByName(toolName: string): TierClassification {
  const base = baseToolName(toolName);
  const fromMap = STATIC_MAP.get(base);
  if (fromMap) return { tier: fromMap, source: 'name', detail: `known tool name '${base}'` };
  const destructive = DESTRUCTIVE_PREFIXES.find((p) => base.startsWith(p));
  if (destructive) return { tier: 'destructive', source: 'prefix', detail: `name prefix '${destructive}'` };
  const read = READ_PREFIXES.find((p) => base.startsWith(p));
  if (read) return { tier: 'read', source: 'prefix', detail: `name prefix '${read}'` };
  return { tier: 'write', source: 'default', detail: 'no read or destructive convention matched (default)' };
}

function isTier(value: unknown): value is Tier {
  return value === 'read' || value === 'write' || value === 'destructive';
}

/**
 * Classifies one call. `toolName` is the tool's own name on its server (prefix stripped);
 * `tool` is the listed tool when the aggregate has it (its annotations feed step 2);
 * `tierOverrides` is the server's registry `tier_overrides`.
 */
export function classifyTierDetailed(
  server: string,
  tool: Pick<AggregatedTool, 'annotations'> | undefined,
  toolName: string,
  tierOverrides: TierOverrides | undefined,
): TierClassification {
  const override = tierOverrides && Object.prototype.hasOwnProperty.call(tierOverrides, toolName) ? tierOverrides[toolName] : undefined;
  if (isTier(override)) {
    return { tier: override, source: 'override', detail: `registry tier_overrides for '${server}'` };
  }
  const byName = classifyByName(toolName);
  const hints = tool?.annotations;
  if (hints?.destructiveHint === true) {
    return { tier: 'destructive', source: 'annotation', detail: 'annotation destructiveHint' };
  }
  if (hints?.readOnlyHint === true && byName.source === 'default') {
    return { tier: 'read', source: 'annotation', detail: 'annotation readOnlyHint' };
  }
  return byName;
}

/** {@link classifyTierDetailed}, tier only. */
export function classifyTier(
  server: string,
  tool: Pick<AggregatedTool, 'annotations'> | undefined,
  toolName: string,
  tierOverrides: TierOverrides | undefined,
): Tier {
  return classifyTierDetailed(server, tool, toolName, tierOverrides).tier;
}
