import { DEFAULT_APPROVAL_TIMEOUT_S, type Policy } from '../../config/policySchema';
import { matchesToolGlob } from '../../config/toolGlob';
import type { ApprovalBroker, ApprovalOutcome } from '../approvals/approvalBroker';
import { elicitApproval } from '../approvals/elicitApproval';
import { deny, type CallContext, type Tier } from './callContext';
import type { Middleware } from './chain';

/** Longest argument summary shown to the person asked. */
export const APPROVAL_ARGUMENTS_MAX_CHARS = 240;

export interface ApprovalLayerOptions {
  /** The policy in force, read per call. */
  policy: () => Pick<Policy, 'approval'> | undefined;
  broker: ApprovalBroker;
  /** The call's arguments as the person may see them: redacted (the scanner worker). */
  redactArguments: (args: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>;
  /** How deny messages name the policy file (default "policy.yaml"). */
  policyFile?: string;
}

/** Why a call needs approval: the first `approval.tools` glob it matches, or its tier. */
export function approvalMatch(approval: NonNullable<Policy['approval']> | undefined, fullName: string, tier: Tier | undefined): string | undefined {
  if (!approval) return undefined;
  const glob = approval.tools?.find((g) => matchesToolGlob(fullName, g));
  if (glob !== undefined) return `tools '${glob}'`;
  if (tier && approval.tiers?.includes(tier)) return `tiers ${tier}`;
  return undefined;
}

/**
 * Approvals (policy `approval:`, DESIGN.md §5b). Placed after HALT, tier, policy and blocked
 * paths, so a call those refuse is refused without asking anyone; and before rate limit and the
 * circuit breaker, on purpose: a call may wait minutes for a person, and those layers judge the
 * moment of dispatch (is the server's circuit open now, is there a token now), not the moment
 * it was asked. Consuming a rate-limit token or a half-open probe slot before the wait would
 * hold them for as long as the person takes.
 *
 * Waiting is one promise per call (ApprovalBroker): no lock, nothing else waits. The decision
 * goes to the call's audit record as `metadata.approval` ({decision, answered_by, asked, scope,
 * wait_ms, matched}); a denial sets a `approval_*` reason code and says how to change it.
 */
export function approvalLayer(options: ApprovalLayerOptions): Middleware {
  const policyFile = options.policyFile ?? 'policy.yaml';
  // Most calls need no approval: they go on in this turn, without an async frame of their own.
  return (ctx, next) => {
    let approval: NonNullable<Policy['approval']> | undefined;
    let matched: string | undefined;
    try {
      approval = options.policy()?.approval;
      matched = approvalMatch(approval, ctx.full_name, ctx.tier);
    } catch (err) {
      return Promise.reject(err);
    }
    return matched ? ask(ctx, next, approval, matched) : next();
  };

  async function ask(ctx: CallContext, next: () => Promise<void>, approval: NonNullable<Policy['approval']> | undefined, matched: string): Promise<void> {
    const tier = ctx.tier ?? 'write';
    const timeoutS = approval?.timeout_s ?? DEFAULT_APPROVAL_TIMEOUT_S;
    const outcome = await options.broker.decide({
      client: ctx.upstream?.client_name || 'an MCP client',
      server: ctx.server_name,
      tool: ctx.tool_name,
      full_name: ctx.full_name,
      tier,
      arguments: summarize(await options.redactArguments(ctx.arguments).catch(() => undefined)),
      timeout_s: timeoutS,
      session: ctx.upstream?.session,
      // The editor is asked first; only without it is the client's event stream worth waiting for.
      elicit: options.broker.hasApprover ? undefined : await elicitApproval(ctx.upstream?.session, ctx.upstream?.request_id, ctx.signal ?? new AbortController().signal),
      signal: ctx.signal,
    });
    ctx.metadata.approval = {
      decision: outcome.decision,
      answered_by: outcome.answered_by,
      ...(outcome.asked ? { asked: outcome.asked } : {}),
      ...(outcome.scope ? { scope: outcome.scope } : {}),
      wait_ms: outcome.wait_ms,
      matched,
      ...(outcome.detail ? { detail: outcome.detail } : {}),
    };
    if (outcome.decision === 'allowed') return next();
    const [code, text] = denial(outcome, ctx.full_name, matched, timeoutS, policyFile);
    deny(ctx, code, text);
  }
}

function denial(outcome: ApprovalOutcome, name: string, matched: string, timeoutS: number, policyFile: string): [string, string] {
  const change = `To change which calls need approval, edit approval: in ${policyFile} (it matched ${matched}).`;
  const detail = outcome.detail ? ` (${outcome.detail})` : '';
  switch (outcome.answered_by) {
    case 'no_approver':
      return [
        'approval_unavailable',
        `'${name}' requires approval, but no one could be asked: no editor approver is running and this client did not declare MCP elicitation (or, over HTTP, has no event stream (GET /mcp) open to receive the request). ` +
          `The call was not sent. Call it from VS Code with Gatehouse running, or from a client that supports elicitation. ${change}`,
      ];
    case 'timeout':
      return ['approval_timeout', `No answer to the approval of '${name}' within ${timeoutS} s, so it was denied and not sent. Raise approval.timeout_s in ${policyFile} to wait longer. ${change}`];
    case 'halt':
      return ['approval_halted', `The approval of '${name}' was cancelled: the kill switch (HALT) was engaged while it waited. The call was not sent.`];
    case 'withdrawn':
      return ['approval_withdrawn', `The approval of '${name}' was withdrawn: the client cancelled the call or disconnected. The call was not sent.`];
    case 'shutdown':
      return ['approval_withdrawn', `The approval of '${name}' was cancelled: Gatehouse is stopping. The call was not sent.`];
    case 'client_elicitation':
      return ['approval_denied', `The client's user did not approve '${name}'${detail}, so it was not sent. ${change}`];
    default:
      return ['approval_denied', `Approval of '${name}' was denied in the editor${detail}, so it was not sent. ${change}`];
  }
}

/** One line of JSON, cut to {@link APPROVAL_ARGUMENTS_MAX_CHARS}. */
function summarize(args: Record<string, unknown> | undefined): string {
  if (!args) return '[arguments withheld: redaction did not finish]';
  let text: string;
  try {
    text = JSON.stringify(args) ?? '{}';
  } catch {
    return '[arguments not shown]';
  }
  if (text.length <= APPROVAL_ARGUMENTS_MAX_CHARS) return text;
  const cut = APPROVAL_ARGUMENTS_MAX_CHARS - 1;
  const code = text.charCodeAt(cut - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? cut - 1 : cut) + '…';
}
