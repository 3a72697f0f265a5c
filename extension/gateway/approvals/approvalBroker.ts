import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../common/clock';
import { Disposable, toDisposable, type IDisposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import type { Logger } from '../../common/logger';
import type { ApprovalDecisionView, ApprovalsView, ApprovalWaitingView } from '../../protocol/model';
import type { Tier } from '../chain/callContext';

/** What a person answered. `undefined` from an approver: dismissed without a choice (a denial). */
export type ApprovalAnswer = 'once' | 'session' | 'deny';

/**
 * Who or what settled an approval (recorded as `metadata.approval.answered_by`):
 * `editor` the VS Code approver; `client_elicitation` the calling client's user through MCP
 * elicitation; `session_grant` an earlier "Allow for this session"; `timeout` no answer in
 * time; `halt` the kill switch was engaged while it waited; `withdrawn` the client cancelled
 * the call or disconnected; `no_approver` no one could be asked; `shutdown` the gateway stopped.
 */
export type AnsweredBy = 'editor' | 'client_elicitation' | 'session_grant' | 'timeout' | 'halt' | 'withdrawn' | 'no_approver' | 'shutdown';

/** One call waiting for a person, as the approver (the editor) is shown it. */
export interface ApprovalRequest {
  id: string;
  /** The calling client's name (from its `initialize`), or "an MCP client". */
  client: string;
  server: string;
  /** The tool's own name on its server. */
  tool: string;
  /** `server__tool`. */
  full_name: string;
  tier: Tier;
  /** The arguments, redacted and shortened for display. */
  arguments: string;
  timeout_s: number;
}

/**
 * Asks a person. Resolves with the answer; `signal` aborts when the approval was settled some
 * other way (timeout, HALT, the client went away), after which the answer is ignored.
 */
export type Approver = (request: ApprovalRequest, signal: AbortSignal) => Promise<ApprovalAnswer | undefined>;

/** What the chain asks the broker for one call. */
export interface ApprovalAsk extends Omit<ApprovalRequest, 'id'> {
  /** Identity of the upstream session, for "Allow for this session" grants. */
  session?: object;
  /**
   * Asks the calling client by elicitation, when it can be asked (declared the capability and
   * a request can reach it); resolves with the client's raw answer.
   */
  elicit?: (message: string, signal: AbortSignal) => Promise<unknown>;
  /** The call's own signal: aborts when the client cancels the call or disconnects. */
  signal?: AbortSignal;
}

/** How one approval ended. */
export interface ApprovalOutcome {
  decision: 'allowed' | 'denied';
  answered_by: AnsweredBy;
  /** Who was asked, when someone was. */
  asked?: 'editor' | 'client_elicitation';
  /** For an allowance by a person: once, or for the rest of the client's session. */
  scope?: 'once' | 'session';
  wait_ms: number;
  /** Why, in words, for a denial the outcome alone does not explain (a malformed answer, an error). */
  detail?: string;
}

export interface ApprovalBrokerOptions {
  /** Whether the kill switch is on; polled while approvals wait, so HALT cancels them. */
  halted: () => Promise<boolean>;
  clock?: Clock;
  logger: Logger;
  /** How often the kill switch is checked while something waits (default 250 ms). */
  haltPollMs?: number;
  /** Recent decisions kept for the dashboard (default 20). */
  recentMax?: number;
}

interface Pending {
  view: ApprovalWaitingView;
  settle: (outcome: Omit<ApprovalOutcome, 'wait_ms'>) => void;
}

/**
 * The calls waiting for a person (DESIGN.md §5b). Each `decide` is its own promise with its own
 * timer: nothing else waits for it, and any number may wait at once. The first of answer,
 * timeout, HALT, withdrawal or shutdown settles it; whatever comes later is ignored (a late
 * answer is a denial already given).
 */
export class ApprovalBroker extends Disposable {
  private readonly clock: Clock;
  private approver: Approver | undefined;
  private readonly pending = new Map<string, Pending>();
  private recentDecisions: ApprovalDecisionView[] = [];
  /** Upstream session → `server__tool` names allowed for the rest of that session. */
  private readonly grants = new WeakMap<object, Set<string>>();
  private haltTimer: IDisposable | undefined;
  private readonly _onDidChange = this.register(new Emitter<ApprovalsView>());
  /** Fires when an approval starts waiting or is settled. */
  readonly onDidChange: Event<ApprovalsView> = this._onDidChange.event;

  constructor(private readonly options: ApprovalBrokerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.register(toDisposable(() => this.cancelAll('shutdown')));
  }

  /** Registers the editor's approver (one at a time); disposing unregisters it. */
  setApprover(approver: Approver): IDisposable {
    this.approver = approver;
    return toDisposable(() => {
      if (this.approver === approver) this.approver = undefined;
    });
  }

  get hasApprover(): boolean {
    return this.approver !== undefined;
  }

  /** What waits and what was decided lately, for the UI. */
  get view(): ApprovalsView {
    return { waiting: [...this.pending.values()].map((p) => p.view), recent: this.recentDecisions };
  }

  /** Settles every waiting approval as denied (`halt` or `shutdown`). */
  cancelAll(by: 'halt' | 'shutdown'): void {
    for (const p of [...this.pending.values()]) p.settle({ decision: 'denied', answered_by: by });
  }

  /** Waits for a decision on one call (never rejects). */
  decide(ask: ApprovalAsk): Promise<ApprovalOutcome> {
    const started = this.clock.now();
    if (ask.session && this.grants.get(ask.session)?.has(ask.full_name)) {
      return Promise.resolve(this.finish(ask, started, { decision: 'allowed', answered_by: 'session_grant', scope: 'session' }));
    }
    const approver = this.approver;
    // Withdrawn first: a client that went away while its stream was awaited was not "unaskable".
    if (ask.signal?.aborted) return Promise.resolve(this.finish(ask, started, { decision: 'denied', answered_by: 'withdrawn' }));
    if (!approver && !ask.elicit) return Promise.resolve(this.finish(ask, started, { decision: 'denied', answered_by: 'no_approver' }));

    const id = randomUUID();
    const asked = approver ? 'editor' : 'client_elicitation';
    const request: ApprovalRequest = { id, client: ask.client, server: ask.server, tool: ask.tool, full_name: ask.full_name, tier: ask.tier, arguments: ask.arguments, timeout_s: ask.timeout_s };
    return new Promise<ApprovalOutcome>((resolve) => {
      const controller = new AbortController();
      let done = false;
      const onAbort = (): void => settle({ decision: 'denied', answered_by: 'withdrawn' });
      const timer = this.clock.setTimeout(() => settle({ decision: 'denied', answered_by: 'timeout' }), ask.timeout_s * 1000);
      const settle = (outcome: Omit<ApprovalOutcome, 'wait_ms'>): void => {
        if (done) return;
        done = true;
        timer.dispose();
        ask.signal?.removeEventListener('abort', onAbort);
        controller.abort();
        this.pending.delete(id);
        if (this.pending.size === 0) this.stopHaltWatch();
        if (outcome.decision === 'allowed' && outcome.scope === 'session' && ask.session) {
          let set = this.grants.get(ask.session);
          if (!set) this.grants.set(ask.session, (set = new Set()));
          set.add(ask.full_name);
        }
        resolve(this.finish(ask, started, { ...outcome, asked }, id));
      };
      ask.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        view: { id, client: ask.client, server: ask.server, tool: ask.tool, tier: ask.tier, arguments: ask.arguments, asked, since: new Date(started).toISOString(), expires_at: new Date(started + ask.timeout_s * 1000).toISOString() },
        settle,
      });
      this.startHaltWatch();
      this.fire();
      if (approver) {
        void guarded(() => approver(request, controller.signal)).then(
          (answer) =>
            settle(
              answer === 'once' || answer === 'session'
                ? { decision: 'allowed', answered_by: 'editor', scope: answer }
                : { decision: 'denied', answered_by: 'editor', detail: answer === 'deny' ? undefined : 'the prompt was dismissed' },
            ),
          (err: unknown) => settle({ decision: 'denied', answered_by: 'editor', detail: `the editor could not ask: ${message(err)}` }),
        );
      } else {
        void guarded(() => ask.elicit!(elicitationMessage(request), controller.signal)).then(
          (answer) => settle(fromElicitation(answer)),
          (err: unknown) => settle({ decision: 'denied', answered_by: 'client_elicitation', detail: `the client could not answer: ${message(err)}` }),
        );
      }
    });
  }

  private finish(ask: ApprovalAsk, started: number, outcome: Omit<ApprovalOutcome, 'wait_ms'>, id: string = randomUUID()): ApprovalOutcome {
    const done: ApprovalOutcome = { ...outcome, wait_ms: Math.max(0, this.clock.now() - started) };
    const max = this.options.recentMax ?? 20;
    const entry: ApprovalDecisionView = {
      id,
      client: ask.client,
      server: ask.server,
      tool: ask.tool,
      tier: ask.tier,
      decision: done.decision,
      answered_by: done.answered_by,
      wait_ms: done.wait_ms,
      at: new Date(this.clock.now()).toISOString(),
    };
    this.recentDecisions = [entry, ...this.recentDecisions].slice(0, max);
    this.fire();
    return done;
  }

  private fire(): void {
    try {
      this._onDidChange.fire(this.view);
    } catch (err) {
      this.options.logger.error(`approval listener failed: ${message(err)}`);
    }
  }

  private startHaltWatch(): void {
    if (this.haltTimer) return;
    const tick = (): void => {
      this.haltTimer = this.clock.setTimeout(() => {
        void this.options
          .halted()
          .catch(() => true)
          .then((on) => {
            if (!this.haltTimer) return;
            if (on) this.cancelAll('halt');
            if (this.pending.size > 0) tick();
            else this.haltTimer = undefined;
          });
      }, this.options.haltPollMs ?? 250);
    };
    tick();
  }

  private stopHaltWatch(): void {
    this.haltTimer?.dispose();
    this.haltTimer = undefined;
  }
}

/** The question a client's user sees; it names `server__tool` as the spec of issue 14 asks. */
export function elicitationMessage(request: Pick<ApprovalRequest, 'full_name' | 'tier' | 'arguments' | 'timeout_s'>): string {
  return (
    `Gatehouse: allow the ${request.tier}-tier tool ${request.full_name} to run with ${request.arguments}? ` +
    `Accept to allow this call once; decline to refuse it. No answer within ${request.timeout_s} s refuses it.`
  );
}

/** accept → allow; decline or cancel → deny; anything else (malformed) → deny. */
function fromElicitation(answer: unknown): Omit<ApprovalOutcome, 'wait_ms'> {
  const action = answer && typeof answer === 'object' ? (answer as { action?: unknown }).action : undefined;
  if (action === 'accept') return { decision: 'allowed', answered_by: 'client_elicitation', scope: 'once' };
  if (action === 'decline' || action === 'cancel') return { decision: 'denied', answered_by: 'client_elicitation', detail: `the client's user chose ${action}` };
  return { decision: 'denied', answered_by: 'client_elicitation', detail: 'the client sent a malformed answer' };
}

/** Runs `fn`, turning a synchronous throw into a rejection. */
function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
