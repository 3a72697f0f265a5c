/**
 * Schema of `policy.yaml`: rea's fields (SPEC §10.2) plus Gatehouse's optional `gateway:` block
 * of tunables (SPEC §13 item 19: nothing was tunable in rea).
 *
 * Required fields — a decision: rea requires version, profile, installed_by, installed_at,
 * autonomy_level, max_autonomy_level, promotion_requires_human_approval and blocked_paths, which
 * only its installer writes. Gatehouse requires only `autonomy_level`, the one field without a
 * safe default, so a hand-written policy can be two lines long. Every rea-valid policy stays
 * valid here (we accept a superset); when a policy in `.rea/` lacks a field rea needs, the loader
 * warns, because rea itself would refuse that file.
 *
 * Strict at every level except `context_protection` (as rea), so a typo such as `blocked_path:`
 * is an error instead of silently leaving paths unprotected.
 */
import { z } from 'zod';
import { SERVER_NAME_PATTERN } from './registrySchema';
import { telemetrySchema } from './telemetrySchema';
import { qualifiedToolGlobProblem } from './toolGlob';
import { coded, type IssueParams } from './zodProblems';

/** Autonomy levels, in increasing order of what they allow. */
export const AUTONOMY_LEVELS = ['L0', 'L1', 'L2', 'L3'] as const;
/** One autonomy level. */
export type AutonomyLevel = (typeof AUTONOMY_LEVELS)[number];

/** The fields rea's own loader requires; used to warn about `.rea/` policies rea would refuse. */
export const REA_REQUIRED_POLICY_FIELDS: readonly string[] = [
  'version',
  'profile',
  'installed_by',
  'installed_at',
  'autonomy_level',
  'max_autonomy_level',
  'promotion_requires_human_approval',
  'blocked_paths',
];

/** Every tunable with its default; the single source for `resolveTunables` and the docs. */
export const DEFAULT_TUNABLES = {
  breaker: { failure_threshold: 5, cooldown_ms: 30_000, max_cooldown_ms: 300_000 },
  session_blocker: { threshold: 3 },
  backoff: { initial_ms: 500, multiplier: 2, max_ms: 30_000, jitter: 0.2 },
  supervisor: { max_crashes: 5, crash_window_ms: 300_000 },
  timeouts: { connect_ms: 15_000, call_ms: 60_000 },
  state: { debounce_ms: 250, heartbeat_ms: 10_000 },
  result_max_bytes: 524_288,
  health: { expose_diagnostics: false },
} as const;

const posInt = (description: string): z.ZodOptional<z.ZodInt> => z.int().positive().optional().describe(description);

const levelError = (iss: { input?: unknown }, key: string): string =>
  iss.input === undefined
    ? coded('missing-key', `missing '${key}'; add e.g. '${key}: L1' (L0 read-only, L1/L2 read and write, L3 also destructive)`)
    : coded('invalid-value', `${key} must be one of L0, L1, L2, L3, not '${String(iss.input)}'`);

/** `a` must be at least `b`, with defaults standing in for the values the user left out. */
function atLeast(
  block: Record<string, unknown>,
  [high, low]: [string, string],
  defaults: Readonly<Record<string, number>>,
  blockName: string,
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  const hi = typeof block[high] === 'number' ? (block[high] as number) : defaults[high];
  const lo = typeof block[low] === 'number' ? (block[low] as number) : defaults[low];
  if (hi === undefined || lo === undefined || hi >= lo) return;
  const params: IssueParams = { code: 'inconsistent-tunables' };
  ctx.addIssue({
    code: 'custom',
    path: [block[high] !== undefined ? high : low],
    message: `gateway.${blockName}.${high} (${hi}) must be at least ${low} (${lo}); raise ${high} or lower ${low}`,
    params,
    input: block,
  });
}

const isObject = (payload: { value: unknown }): boolean => typeof payload.value === 'object' && payload.value !== null;

export const gatewaySchema = z
  .strictObject({
    breaker: z
      .strictObject({
        failure_threshold: posInt('Consecutive failures that open the circuit (default 5).'),
        cooldown_ms: posInt('Milliseconds the circuit stays open before one probe is allowed (default 30000).'),
        max_cooldown_ms: posInt('Upper bound of the cooldown, which grows after each failed probe (default 300000).'),
      })
      .superRefine((b, ctx) => atLeast(b, ['max_cooldown_ms', 'cooldown_ms'], DEFAULT_TUNABLES.breaker, 'breaker', ctx), { when: isObject })
      .optional()
      .describe('Per-server circuit breaker.'),
    session_blocker: z
      .strictObject({ threshold: posInt('Failures of one server within a session before it is blocked for that session (default 3).') })
      .optional()
      .describe('Session blocker: stops a session from hammering a failing server.'),
    backoff: z
      .strictObject({
        initial_ms: posInt('First respawn delay in milliseconds (default 500).'),
        multiplier: z.number().min(1).optional().describe('Factor applied to the delay after each failed attempt, at least 1 (default 2).'),
        max_ms: posInt('Largest respawn delay in milliseconds (default 30000).'),
        jitter: z.number().min(0).max(1).optional().describe('Random spread applied to each delay, from 0 (none) to 1 (±100%) (default 0.2).'),
      })
      .superRefine((b, ctx) => atLeast(b, ['max_ms', 'initial_ms'], DEFAULT_TUNABLES.backoff, 'backoff', ctx), { when: isObject })
      .optional()
      .describe('Exponential backoff between automatic respawns.'),
    supervisor: z
      .strictObject({
        max_crashes: posInt('Crashes within crash_window_ms after which the supervisor gives up until a manual respawn (default 5).'),
        crash_window_ms: posInt('Sliding window for counting crashes, in milliseconds (default 300000).'),
      })
      .optional()
      .describe('When the supervisor stops respawning a crashing server.'),
    timeouts: z
      .strictObject({
        connect_ms: posInt('Milliseconds allowed to start and initialize a server (default 15000).'),
        call_ms: posInt('Milliseconds allowed for one tool call (default 60000).'),
      })
      .optional()
      .describe('Default timeouts; a server can override them in registry.yaml.'),
    state: z
      .strictObject({
        debounce_ms: z.int().min(0).optional().describe('Delay that batches state-file writes, in milliseconds; 0 writes at once (default 250).'),
        heartbeat_ms: posInt('Interval at which the state file is rewritten even without changes, so readers can detect a hung gateway (default 10000).'),
      })
      .optional()
      .describe('serve.state.json publishing.'),
    result_max_bytes: z
      .int()
      .min(1024)
      .optional()
      .describe('Largest tool result passed to the client, in UTF-8 bytes, at least 1024 (default 524288).'),
    health: z
      .strictObject({
        expose_diagnostics: z.boolean().optional().describe('Include (redacted) error details in the health tool output (default false).'),
      })
      .optional()
      .describe('Health tool settings (rea-compatible).'),
    rate_limit: z
      .record(
        z.string().regex(SERVER_NAME_PATTERN, {
          error: (iss) => coded('invalid-key', `rate_limit keys are server names or 'default'; '${String(iss.input)}' is neither`),
        }),
        z.strictObject({
          per_minute: z.int().positive().describe('Calls allowed per minute, refilled continuously.'),
          burst: posInt('Calls allowed at once from a full bucket (default: per_minute).'),
        }),
      )
      .optional()
      .describe("Token-bucket rate limits per server name; the 'default' entry applies to servers without their own."),
    telemetry: telemetrySchema.optional(),
  })
  .describe('Gatehouse gateway tunables; every field is optional and has a default.');

const redactPatternSchema = z
  .strictObject({
    name: z.string().min(1).describe('Name recorded in the audit log when the pattern matches.'),
    regex: z.string().min(1).describe('JavaScript regular expression source, without slashes. Use single quotes in YAML so backslashes stay as written.'),
    flags: z.string().optional().describe('RegExp flags, e.g. "i".'),
  })
  .superRefine(
    (pattern, ctx) => {
      if (typeof pattern.regex !== 'string' || pattern.regex === '') return;
      const name = typeof pattern.name === 'string' ? pattern.name : '?';
      try {
        new RegExp(pattern.regex);
      } catch (err) {
        const params: IssueParams = { code: 'invalid-redact-pattern' };
        ctx.addIssue({
          code: 'custom',
          path: ['regex'],
          message: `redact pattern '${name}' does not compile (${reason(err)}); fix the regex — in YAML, single quotes keep backslashes as written: '\\d+'`,
          params,
          input: pattern.regex,
        });
        return;
      }
      if (typeof pattern.flags !== 'string') return;
      try {
        new RegExp(pattern.regex, pattern.flags);
      } catch (err) {
        const params: IssueParams = { code: 'invalid-redact-pattern' };
        ctx.addIssue({
          code: 'custom',
          path: ['flags'],
          message: `redact pattern '${name}' has invalid flags '${pattern.flags}' (${reason(err)}); use only d, g, i, m, s, u, v, y, each once`,
          params,
          input: pattern.flags,
        });
      }
    },
    { when: isObject },
  );

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Tiers a policy may name (SPEC §7.4). */
const TIERS = ['read', 'write', 'destructive'] as const;

/** Default `approval.timeout_s`: long enough to read a prompt, short enough that a client does not give up first. */
export const DEFAULT_APPROVAL_TIMEOUT_S = 120;

/** `approval:` — which calls wait for a person (DESIGN.md §5b). */
export const approvalSchema = z
  .strictObject({
    tools: z
      .array(
        z.string().superRefine((glob, ctx) => {
          const problem = qualifiedToolGlobProblem(glob);
          if (problem === undefined) return;
          const params: IssueParams = { code: 'invalid-glob' };
          ctx.addIssue({ code: 'custom', message: problem, params, input: glob });
        }),
      )
      .optional()
      .describe("Globs on exposed server__tool names whose calls wait for approval: * any characters, ? one, e.g. 'github__delete_*'."),
    tiers: z
      .array(
        z.enum(TIERS, {
          error: (iss) => coded('invalid-value', `approval.tiers takes read, write and destructive, not '${String(iss.input)}'`),
        }),
      )
      .optional()
      .describe('Whole tiers whose calls wait for approval, e.g. [destructive].'),
    timeout_s: z
      .int()
      .positive()
      .max(3600)
      .optional()
      .describe(`Seconds a call waits for an answer before it is denied (default ${DEFAULT_APPROVAL_TIMEOUT_S}, at most 3600).`),
  })
  .describe('Calls that wait for a person before they are sent: the editor asks first, else the calling client (MCP elicitation); no one to ask or no answer in time denies.');

/** The whole `policy.yaml`. */
export const policySchema = z
  .strictObject({
    version: z
      .union([z.string().min(1), z.literal(1)])
      .transform((v) => String(v))
      .optional()
      .describe('Policy format version (rea writes "1").'),
    profile: z.string().optional().describe('rea profile the policy was installed from (informational).'),
    installed_by: z.string().optional().describe('Who or what wrote the policy (informational).'),
    installed_at: z.string().optional().describe('When the policy was written (informational).'),
    autonomy_level: z
      .enum(AUTONOMY_LEVELS, { error: (iss) => levelError(iss, 'autonomy_level') })
      .describe("What tools may do: L0 read only; L1 and L2 read and write, destructive denied (L2 as rea's gateway enforces it); L3 also destructive."),
    max_autonomy_level: z
      .enum(AUTONOMY_LEVELS, { error: (iss) => levelError(iss, 'max_autonomy_level') })
      .optional()
      .describe('Ceiling for autonomy_level; a higher autonomy_level is lowered to it with a warning.'),
    promotion_requires_human_approval: z.boolean().optional().describe('rea setting; not used by the gateway.'),
    block_ai_attribution: z.boolean().default(false).describe('rea setting; only reported in health.'),
    blocked_paths: z
      .array(z.string().min(1))
      .default([])
      .describe('Paths tool arguments may not reference; the config directory is always blocked.'),
    notification_channel: z.string().default('').describe('rea setting; not used by the gateway.'),
    injection_detection: z
      .enum(['block', 'warn'])
      .optional()
      .describe('What to do when a tool result looks like a prompt injection (default block).'),
    injection: z
      .strictObject({
        suspicious_blocks_writes: z.boolean().optional().describe('Also block write-tier calls on a merely suspicious result.'),
      })
      .optional()
      .describe('Injection classifier settings.'),
    context_protection: z
      .looseObject({
        delegate_to_subagent: z.array(z.string()).default([]).describe('rea setting; not used by the gateway.'),
        max_bash_output_lines: z.int().positive().optional().describe('rea setting; not used by the gateway.'),
      })
      .optional()
      .describe('rea context-protection settings; not used by the gateway (other keys allowed).'),
    review: z
      // The union of the fields rea 0.9 and later releases use, so no rea version's file fails here.
      .strictObject({
        codex_required: z.boolean().optional().describe('rea: false disables the Codex review requirement.'),
        cache_max_age_seconds: z.int().positive().optional().describe('rea 0.9/0.10: review cache lifetime.'),
        allow_skip_in_ci: z.boolean().optional().describe('rea 0.9/0.10: allow skipping review in CI.'),
        concerns_blocks: z.boolean().optional().describe('rea 0.11+: review concerns block the push.'),
        timeout_ms: z.int().positive().optional().describe('rea 0.11+: review timeout.'),
        last_n_commits: z.int().positive().optional().describe('rea 0.11+: how many commits are reviewed.'),
      })
      .optional()
      .describe('rea code-review settings; not used by the gateway.'),
    redact: z
      .strictObject({
        match_timeout_ms: z.int().positive().default(100).describe('Time budget per pattern and value, in milliseconds (default 100).'),
        patterns: z.array(redactPatternSchema).default([]).describe('Extra secret patterns, applied after the built-in ones.'),
      })
      .optional()
      .describe('Secret redaction in tool arguments and results.'),
    audit: z
      .strictObject({
        rotation: z
          .strictObject({
            max_bytes: z.int().positive().optional().describe('Rotate the audit log when it grows past this size.'),
            max_age_days: z.int().positive().optional().describe('Rotate the audit log when its first record is older than this.'),
          })
          .optional()
          .describe('Audit log rotation.'),
      })
      .optional()
      .describe('Audit log settings.'),
    client_requests: z
      .record(
        z.string().regex(SERVER_NAME_PATTERN, {
          error: (iss) => coded('invalid-key', `client_requests keys are server names; '${String(iss.input)}' is not one`),
        }),
        z.strictObject({
          sampling: z.enum(['allow', 'deny']).optional().describe('Relay its sampling/createMessage requests (asking the chat model) to the client (default allow).'),
          elicitation: z.enum(['allow', 'deny']).optional().describe('Relay its elicitation/create requests (asking the user) to the client (default allow).'),
        }),
      )
      .optional()
      .describe("Per server: which of its requests to the client Gatehouse relays. Default allow: the client asks its user."),
    approval: approvalSchema.optional(),
    gateway: gatewaySchema.optional(),
  })
  .describe('Gatehouse / rea governance policy.');

/**
 * `gatehouse.yaml` beside `policy.yaml`: a place for Gatehouse's `gateway:` tunables that rea
 * never reads. rea's policy schema is strict and knows only `gateway.health`, so `rea status`
 * fails on a `.rea/policy.yaml` holding `gateway.breaker`; moved here, both tools read their file.
 */
export const gatehouseFileSchema = z
  .strictObject({
    gateway: gatewaySchema.optional(),
  })
  .describe('Gatehouse-only settings beside a policy.yaml that rea also reads (.rea/gatehouse.yaml).');

/** A validated policy, as written (tunables are not filled in; see {@link resolveTunables}). */
export type Policy = z.output<typeof policySchema>;

type Widen<T> = T extends number ? number : T extends boolean ? boolean : T extends object ? { readonly [K in keyof T]: Widen<T[K]> } : T;

/** Every gateway tunable with defaults applied; deeply frozen. */
export type GatewayTunables = Widen<typeof DEFAULT_TUNABLES> & {
  /** Rate limits by server name or 'default'; empty when unlimited. `burst` defaults to per_minute. */
  readonly rate_limit: Readonly<Record<string, { readonly per_minute: number; readonly burst: number }>>;
};

/** Fills every tunable the policy leaves out with its default. Accepts `undefined` (no policy file). */
export function resolveTunables(policy: Policy | undefined): GatewayTunables {
  const g = policy?.gateway ?? {};
  const d = DEFAULT_TUNABLES;
  const pick = <T extends object>(defaults: T, given: Partial<Record<keyof T, unknown>> | undefined): T => {
    const out = { ...defaults };
    // Only defined values override: zod leaves absent optionals out, but be safe with hand-built policies.
    for (const key of Object.keys(defaults) as (keyof T)[]) if (given?.[key] !== undefined) out[key] = given[key] as T[keyof T];
    return Object.freeze(out);
  };
  const rateLimit: Record<string, { per_minute: number; burst: number }> = {};
  for (const [name, limit] of Object.entries(g.rate_limit ?? {})) {
    rateLimit[name] = Object.freeze({ per_minute: limit.per_minute, burst: limit.burst ?? limit.per_minute });
  }
  return Object.freeze({
    breaker: pick(d.breaker, g.breaker),
    session_blocker: pick(d.session_blocker, g.session_blocker),
    backoff: pick(d.backoff, g.backoff),
    supervisor: pick(d.supervisor, g.supervisor),
    timeouts: pick(d.timeouts, g.timeouts),
    state: pick(d.state, g.state),
    result_max_bytes: g.result_max_bytes ?? d.result_max_bytes,
    health: pick(d.health, g.health),
    rate_limit: Object.freeze(rateLimit),
  }) as GatewayTunables;
}
