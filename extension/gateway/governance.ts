import type { Prompt, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from '../common/clock';
import { Disposable, toDisposable } from '../common/disposable';
import type { Logger } from '../common/logger';
import type { GatewayTunables, Policy } from '../config/policySchema';
import type { Registry } from '../config/registrySchema';
import type { DownstreamPool } from '../pool/pool';
import { AuditLog } from './audit/auditLog';
import { LogSummary } from './routing/logSummary';
import type { AuditInput } from './audit/auditRecord';
import { ApprovalBroker } from './approvals/approvalBroker';
import { approvalLayer } from './chain/approvalLayer';
import { auditLayer, auditRefusal } from './chain/auditLayer';
import { blockedPathsLayer } from './chain/blockedPathsLayer';
import { deny, type CallContext } from './chain/callContext';
import { forKinds, gateLayer, type Middleware } from './chain/chain';
import { circuitBreakerLayer } from './chain/circuitBreakerLayer';
import { dispatch } from './chain/dispatch';
import { injectionLayer, scanToolDescriptions } from './chain/injectionLayer';
import { killSwitchLayer } from './chain/killSwitchLayer';
import { policyLayer } from './chain/policyLayer';
import { rateLimitLayer } from './chain/rateLimitLayer';
import { redactArgsLayer } from './chain/redactArgsLayer';
import { redactResultLayer } from './chain/redactResultLayer';
import { resultCapLayer } from './chain/resultCapLayer';
import { tierLayer } from './chain/tierLayer';
import { Scanner } from './scanner/scannerClient';
import { createSyncRedactor } from './scanner/syncRedactor';
import { readHalt } from './halt';
import { HaltWatch } from './haltWatch';

/**
 * Group commit window of the gateway's audit writer: at most one write + fsync per this many ms
 * under load. A call's record reaches the page cache within it (calls never wait for it), and a
 * record after a quiet spell is written at once. 25 ms, not 10: a round costs far more than its
 * records (~2 ms of CPU on a loaded 2-core machine: lock, stat, write, fsync, anchor, wake-ups),
 * and sequential calls shared rounds of ~9; at 25 ms ~22 (writer CPU per record ~40 % lower).
 */
export const AUDIT_GROUP_COMMIT_MS = 25;

export interface GovernanceOptions {
  /** The config dir: HALT and audit.jsonl live there. */
  dir: string;
  sessionId: string;
  pool: DownstreamPool;
  /** Read per call: hot reloads apply to the next call. */
  policy: () => Policy | undefined;
  tunables: () => GatewayTunables;
  registry: () => Registry;
  clock: Clock;
  logger: Logger;
}

/**
 * Everything between the client and the pool (DESIGN.md §5): the audit log, the scanner worker
 * and the chain of layers in rea's order. Owns the long-lived resources (one worker thread,
 * one audit writer) and rebuilds nothing per call: every layer reads policy through a getter.
 */
export class Governance extends Disposable {
  readonly scanner: Scanner;
  /** Calls waiting for a person (policy `approval:`); the editor registers its approver here. */
  readonly approvals: ApprovalBroker;
  /** Built-in patterns on the main thread, for the short names and metadata of audit records. */
  private readonly redactInline = createSyncRedactor();
  /** Tools whose descriptions were withheld at list time; calls to them are refused. */
  private withheld = new Map<string, string>();
  private lastToolsKey = '';
  private lastTools: Tool[] = [];
  /** Prompts whose descriptions were withheld at list time; `prompts/get` of them is refused. */
  private withheldPrompts = new Map<string, string>();
  private lastPromptsKey = '';
  private lastPrompts: Prompt[] = [];
  /** The chain's HALT probe: no thread-pool open per call while HALT is absent (see HaltWatch). */
  private readonly halt: HaltWatch;

  private constructor(
    private readonly options: GovernanceOptions,
    readonly audit: AuditLog,
  ) {
    super();
    this.register(audit);
    this.halt = this.register(new HaltWatch(options.clock));
    const policy = options.policy();
    this.scanner = new Scanner({ patterns: policy?.redact?.patterns, matchTimeoutMs: policy?.redact?.match_timeout_ms, clock: options.clock, logger: options.logger });
    this.register(toDisposable(() => this.scanner.dispose()));
    this.approvals = this.register(
      new ApprovalBroker({ halted: async () => (await readHalt(options.dir, options.clock)).decision !== 'absent', clock: options.clock, logger: options.logger }),
    );
    this.register(audit.onDidFail((f) => options.logger.error(`audit log write failed: ${f.error.message}`)));
    this.register(audit.onDidRecordBreak((b) => options.logger.warn(`audit chain break recorded: ${b.reason}`)));
  }

  static async open(options: GovernanceOptions): Promise<Governance> {
    const audit = await AuditLog.open({
      dir: options.dir,
      sessionId: options.sessionId,
      // The audit layer never awaits the append, so records may wait a few ms to share a write.
      groupCommitMs: AUDIT_GROUP_COMMIT_MS,
      rotation: () => options.policy()?.audit?.rotation,
      clock: options.clock,
      logger: options.logger,
    });
    return new Governance(options, audit);
  }

  /** Call after a policy reload: recompiles the redaction patterns in the worker. */
  policyChanged(): void {
    const policy = this.options.policy();
    const bad = this.scanner.setPatterns(policy?.redact?.patterns, policy?.redact?.match_timeout_ms);
    for (const b of bad) this.options.logger.error(`redact pattern '${b.name}' ignored: ${b.reason}`);
  }

  /** The chain, outermost first (rea's order, SPEC §7.2; post-phases run in reverse). */
  layers(): Middleware[] {
    const o = this.options;
    const overrides = (server: string) => o.registry().servers.find((s) => s.name === server)?.tier_overrides;
    return [
      auditLayer(this.audit, { autonomyLevel: () => o.policy()?.autonomy_level ?? 'L1', redactError: (t) => this.redactText(t), redactInline: this.redactInline }),
      killSwitchLayer({ dir: o.dir, clock: o.clock, probe: (dir) => this.halt.read(dir) }),
      // Tool-only: prompts and resources are reads by the protocol (the gateway sets their tier).
      forKinds(['tool'], this.withheldLayer(() => this.withheld, 'Tool', 'tool_withheld')),
      forKinds(['prompt'], this.withheldLayer(() => this.withheldPrompts, 'Prompt', 'prompt_withheld')),
      forKinds(['tool'], tierLayer({ tierOverrides: overrides })),
      forKinds(['tool'], policyLayer({ policy: o.policy, tierOverrides: overrides })),
      blockedPathsLayer({ policy: o.policy }),
      // After the layers that refuse, before those that judge the moment of dispatch (see the layer).
      forKinds(['tool'], approvalLayer({ policy: o.policy, broker: this.approvals, redactArguments: async (args) => {
        const r = await this.scanner.redact(args);
        return r.timedOut || r.failed ? undefined : r.value;
      } })),
      rateLimitLayer({ limits: () => o.tunables().rate_limit, clock: o.clock }),
      circuitBreakerLayer(o.pool),
      injectionLayer(this.scanner, { policy: o.policy, logger: o.logger }),
      redactResultLayer(this.scanner, { logger: o.logger, prescanInjection: true }),
      resultCapLayer({ maxBytes: () => o.tunables().result_max_bytes, logger: o.logger }),
      redactArgsLayer(this.scanner),
      dispatch(o.pool),
    ];
  }

  /** Redacts free text (error texts built outside the chain, health diagnostics). */
  async redactText(text: string): Promise<string> {
    return (await this.scanner.redactText(text)).value;
  }

  /** Audits a call refused before the chain (unknown server, missing prefix). */
  recordRefusal(ctx: CallContext): void {
    void auditRefusal(this.audit, ctx, {
      autonomyLevel: () => this.options.policy()?.autonomy_level ?? 'L1',
      redactError: (t) => this.redactText(t),
      redactInline: this.redactInline,
    });
  }

  /**
   * Audits a child's request to the client (sampling, elicitation, roots): one record per
   * request, `metadata.kind` saying which, like the records of calls.
   */
  recordServerRequest(event: { server: string; method: string; status: 'allowed' | 'denied' | 'error'; error?: string; duration_ms: number }): void {
    const kind = event.method === 'sampling/createMessage' ? 'sampling' : event.method === 'elicitation/create' ? 'elicitation' : 'roots';
    this.recordRequest({ ...event, kind, name: event.method });
  }

  /**
   * One record of a request outside the chain (a child's request to the client, a client's
   * completion or subscription): `tool_name` is what it named (already redacted by the caller),
   * `metadata.kind` what it was. Arguments and answers are never recorded.
   */
  recordRequest(event: { kind: string; server: string; name: string; status: 'allowed' | 'denied' | 'error'; error?: string; duration_ms: number; metadata?: Record<string, unknown> }): void {
    void (async () => {
      const input: AuditInput = {
        session_id: this.options.sessionId,
        tool_name: event.name,
        server_name: event.server,
        tier: 'read',
        status: event.status,
        autonomy_level: (this.options.policy()?.autonomy_level ?? 'L1') as AuditInput['autonomy_level'],
        duration_ms: Math.round(event.duration_ms),
        emission_source: 'proxy',
        metadata: { kind: event.kind, ...event.metadata },
      };
      if (event.error) input.error = await this.redactText(event.error);
      await this.audit.append(input);
    })().catch(() => undefined);
  }

  /** Children's log messages, audited as a per-server summary (see LogSummary). */
  readonly logSummary = new LogSummary((server, levels) =>
    this.recordRequest({ kind: 'log', server, name: 'notifications/message', status: 'allowed', duration_ms: 0, metadata: { levels } }),
  );

  /** A record the gateway originates itself (health, SESSION_BLOCKER, freeze …). */
  recordGatewayEvent(input: Omit<AuditInput, 'emission_source' | 'session_id'>): void {
    this.audit.append({ ...input, session_id: this.options.sessionId, emission_source: 'gateway' } as AuditInput).catch(() => undefined);
  }

  /**
   * Redacts secrets in the listed tools, then scans their descriptions at list time (SPEC §13.1
   * item 16): `likely` injections are withheld, `suspicious` ones listed with a warning. Cached
   * per catalog, so a list costs one scan per change.
   */
  async transformTools(tools: Tool[]): Promise<Tool[]> {
    const key = JSON.stringify(tools.map((t) => [t.name, t.title, t.description]));
    if (key === this.lastToolsKey) return this.lastTools;
    const redacted = await this.redactTools(tools);
    const scan = await scanToolDescriptions(this.scanner, redacted.tools, { logger: this.options.logger });
    this.withheld = new Map([...redacted.withheld, ...scan.withheld.map((f): [string, string] => [f.name, f.reason])]);
    this.lastToolsKey = key;
    this.lastTools = scan.tools;
    return scan.tools;
  }

  /**
   * A tool listing leaves the gateway: secrets in a tool's title, description, schemas and
   * annotations are redacted like any other text (a server may echo its own config into a
   * description). A name cannot be listed redacted — a call to it would not route — so a tool
   * whose name holds a secret is withheld instead, as is a tool whose scan did not finish.
   */
  private async redactTools(tools: Tool[]): Promise<{ tools: Tool[]; withheld: Array<[string, string]> }> {
    let results = [await this.scanner.redact(tools)];
    if (results[0]!.timedOut || results[0]!.failed) results = await Promise.all(tools.map((tool) => this.scanner.redact([tool])));
    const out: Tool[] = [];
    const withheld: Array<[string, string]> = [];
    const values = results.length === 1 ? results[0]!.value : results.map((r) => r.value[0]!);
    tools.forEach((tool, i) => {
      const r = results.length === 1 ? results[0]! : results[i]!;
      if (r.timedOut || r.failed) {
        withheld.push([tool.name, 'its secret scan did not finish']);
        this.options.logger.warn(`tool ${this.redactInline(tool.name)} withheld from the list: its secret scan did not finish`);
        return;
      }
      const safe = values[i]!;
      if (safe.name !== tool.name) {
        withheld.push([tool.name, 'its name holds a secret']);
        this.options.logger.warn(`tool ${safe.name} withheld from the list: its name holds a secret (${r.patterns.join(', ')})`);
        return;
      }
      out.push(safe);
    });
    return { tools: out, withheld };
  }

  /** The same list-time scan for prompt descriptions (title and description as a tool's). */
  async transformPrompts(prompts: Prompt[]): Promise<Prompt[]> {
    const key = JSON.stringify(prompts.map((p) => [p.name, p.title, p.description]));
    if (key === this.lastPromptsKey) return this.lastPrompts;
    // Redacted as tools are (title, description, arguments), then scanned for injections.
    const asTools = prompts.map((p) => ({ ...p, inputSchema: { type: 'object' as const } }));
    const redacted = await this.redactTools(asTools);
    const scan = await scanToolDescriptions(this.scanner, redacted.tools, { logger: this.options.logger });
    const byName = new Map(redacted.tools.map((p): [string, Prompt] => {
      const { inputSchema: _schema, ...prompt } = p;
      return [p.name, prompt as Prompt];
    }));
    this.withheldPrompts = new Map([...redacted.withheld, ...scan.withheld.map((f): [string, string] => [f.name, f.reason])]);
    this.lastPromptsKey = key;
    this.lastPrompts = scan.tools.map((t) => ({ ...byName.get(t.name)!, description: t.description }));
    return this.lastPrompts;
  }

  private withheldLayer(withheld: () => ReadonlyMap<string, string>, noun: string, code: string): Middleware {
    return gateLayer((ctx) => {
      const reason = withheld().get(ctx.full_name);
      if (reason !== undefined) {
        deny(ctx, code, `${noun} '${ctx.full_name}' is withheld by Gatehouse: ${reason}. Review the server before using it.`);
        return false;
      }
      return true;
    });
  }
}
