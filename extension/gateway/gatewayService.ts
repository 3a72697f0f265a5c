import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { systemClock, type Clock } from '../common/clock';
import { Disposable, DisposableStore } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import { nullLogger, type Logger } from '../common/logger';
import { resolveConfigDir } from '../config/configDir';
import { WorkerConfigParser } from '../config/configParser';
import { loadPolicy, loadRegistry, type PolicyResult } from '../config/loadConfig';
import { resolveTunables, type GatewayTunables, type Policy } from '../config/policySchema';
import { hasErrors, type ConfigProblem } from '../config/problem';
import type { Registry } from '../config/registrySchema';
import { DownstreamPool } from '../pool/pool';
import { ChildRecordFile, reapOrphans } from '../state/childRecords';
import { StateFileWriter } from '../state/stateFile';
import { StateStore } from '../state/store';
import type { VerifyResult } from './audit/verifyAudit';
import { verifyAuditDir } from './audit/verifyAudit';
import { removeDiscoveryFile, writeDiscoveryFile } from './discoveryFile';
import { restrictToUser } from '../platform/restrictToUser';
import { Gateway } from './gateway';
import { ConfigWatcher } from './configWatcher';
import { Governance } from './governance';
import { freeze, haltMessage, readHalt, unfreeze, type FreezeResult, type HaltState, type UnfreezeResult } from './halt';
import type { HttpEndpoint, HttpListener } from './httpListener';
import { MetricsServer } from './metrics';
import { redactingLogger } from './scanner/redactingLogger';
import { loadTelemetry } from '../telemetry/loadTelemetry';
import type { TelemetrySettings } from '../telemetry/telemetrySources';
import type { TelemetryRuntime } from '../telemetry/telemetryTypes';
import { createSyncRedactor } from './scanner/syncRedactor';
import { classifyTrust, type TrustVerdict } from './trust/classifyTrust';
import { readFingerprints, writeFingerprints, type FingerprintFile } from './trust/fingerprintStore';
import { tofuAuditInput, type TofuDecision } from './trust/tofuAuditInput';
import { defaultTokenStore } from '../auth/defaultTokenStore';
import type { AccountSessions } from '../auth/accountSessions';
import type { TokenStore } from '../auth/tokenStore';

export interface GatewayServiceOptions {
  /** The workspace folder (the project root); the config dir is resolved inside it. */
  folder: string;
  /** Overrides `.gatehouse` (relative to the folder, or absolute). */
  configDir?: string;
  hostEnv?: NodeJS.ProcessEnv;
  logger?: Logger;
  clock?: Clock;
  /** Write serve.state.json / serve.pid (default true). */
  stateFile?: boolean;
  /**
   * Serve Prometheus `/metrics` on 127.0.0.1 at this port (0: any free port); undefined: off.
   * The CLI reads `GATEHOUSE_METRICS_PORT`; the extension passes its setting.
   */
  metricsPort?: number;
  /**
   * Reload when registry.yaml / policy.yaml change on disk (default true). The extension host
   * may turn it off when it drives reloads from its own file watcher.
   */
  watchConfig?: boolean;
  version?: string;
  /**
   * Answer a child's `roots/list` with the workspace folder when no connected client can
   * (the extension; the CLI leaves it to the clients).
   */
  rootsFallback?: boolean;
  /** The extension's `gatehouse.telemetry.*` settings; the OTEL_* variables win over them. */
  telemetrySettings?: TelemetrySettings;
  /**
   * Where remote servers' sign-ins live. Default: the user's `tokens.json` (auth/fileTokenStore.ts),
   * watched so a `gatehouse auth login` in another terminal is picked up; the extension passes
   * its SecretStorage store.
   */
  tokenStore?: TokenStore;
  /** VS Code accounts for servers with `auth.provider` (the extension passes them; the CLI cannot). */
  accounts?: AccountSessions;
}

/** Config problems of the last load, per file. */
export interface ConfigStatus {
  problems: ConfigProblem[];
  /** True when the running config is an older, good one because the current file is broken. */
  usingLastGood: boolean;
  /** Where the policy in force comes from, in one line for the UI. */
  policy: PolicyStatus;
}

/** Where the policy in force comes from (see `ConfigStateView.policy_source`). */
export interface PolicyStatus {
  source: 'file' | 'defaults' | 'last_good';
  summary: string;
}

/**
 * A policy.yaml deleted or emptied while a policy from it is in force is an error, so the last
 * good policy stays (blocked paths and redaction patterns are not dropped by a stray `rm` or a
 * half-written save). At start there is nothing to keep: defaults apply, shown as such.
 */
function policyLossProblems(pol: PolicyResult & { file: string }, inForce: Policy | undefined): ConfigProblem[] {
  if (pol.policy !== undefined || hasErrors(pol.problems) || inForce === undefined) return pol.problems;
  const emptied = pol.problems.some((p) => p.code === 'empty-policy');
  const what = emptied ? 'is empty' : 'was deleted';
  return [
    ...pol.problems.filter((p) => p.code !== 'empty-policy'),
    {
      file: pol.file,
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 1,
      severity: 'error',
      code: emptied ? 'policy-emptied' : 'policy-deleted',
      message: `policy.yaml ${what} while the gateway runs, so the last good policy stays in force (autonomy ${inForce.autonomy_level}, ${inForce.blocked_paths.length} blocked paths); restore the file, or restart the gateway to run on defaults`,
    },
  ];
}

function policyStatus(problems: readonly ConfigProblem[], inForce: Policy | undefined, usingLastGood: boolean): PolicyStatus {
  if (usingLastGood) {
    if (inForce === undefined) return { source: 'defaults', summary: 'defaults (policy.yaml has errors; no good policy was loaded yet)' };
    const why = problems.some((p) => p.code === 'policy-deleted')
      ? 'policy.yaml was deleted'
      : problems.some((p) => p.code === 'policy-emptied')
        ? 'policy.yaml is empty'
        : 'the config has errors';
    return { source: 'last_good', summary: `last good policy, autonomy ${inForce.autonomy_level} (${why})` };
  }
  if (inForce) return { source: 'file', summary: `policy.yaml (autonomy ${inForce.autonomy_level})` };
  const empty = problems.some((p) => p.code === 'empty-policy');
  return { source: 'defaults', summary: empty ? 'defaults (policy.yaml is empty)' : 'defaults (no policy.yaml)' };
}

/**
 * One gateway for one workspace folder, without VS Code: loads the config, runs the pool,
 * publishes live state, serves MCP (in-process sessions, stdio, or HTTP). The CLI and the
 * extension host both compose exactly this.
 */
export class GatewayService extends Disposable {
  readonly sessionId = randomUUID();
  readonly startedAt: number;
  readonly configDir: string;
  readonly store: StateStore;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private registry: Registry = { version: '1', servers: [] } as unknown as Registry;
  private policy: Policy | undefined;
  private tunables: GatewayTunables = resolveTunables(undefined);
  private _pool: DownstreamPool | undefined;
  private _gateway: Gateway | undefined;
  private _governance: Governance | undefined;
  /** Built-in secret patterns, for short strings that leave outside a call (state, UI, logs). */
  readonly redact = createSyncRedactor();
  /** Where remote servers' sign-ins live (the Sign In action writes here). */
  readonly tokens: TokenStore;
  private stateFile: StateFileWriter | undefined;
  private childRecords: ChildRecordFile | undefined;
  private metrics: MetricsServer | undefined;
  /** OpenTelemetry export, when the OTEL_* variables configure it. */
  private telemetry: TelemetryRuntime | undefined;
  /** `gateway.telemetry` as the export was started with: a later edit applies at the next start. */
  private telemetryFile: string | undefined;
  private http: HttpListener | undefined;
  /** Config text is parsed off the gateway's thread: a large file must not stall calls. */
  private readonly parser: WorkerConfigParser;
  private status: ConfigStatus = { problems: [], usingLastGood: false, policy: { source: 'defaults', summary: 'defaults (not loaded yet)' } };
  private readonly poolSubscriptions = this.register(new DisposableStore());
  /** TOFU: servers held in `blocked`, with the reason shown to the user. */
  private readonly blocked = new Map<string, string>();
  private trustVerdicts: TrustVerdict[] = [];
  /** Drift already audited this session (a reload must not repeat the record). */
  private readonly driftAudited = new Set<string>();

  private readonly _onDidChangeConfigStatus = this.register(new Emitter<ConfigStatus>());
  /** Fires after every load or reload with the problems found (empty when all is well). */
  readonly onDidChangeConfigStatus: Event<ConfigStatus> = this._onDidChangeConfigStatus.event;

  private constructor(
    private readonly options: GatewayServiceOptions,
    configDir: string,
  ) {
    super();
    // Every line the gateway logs passes the redactor: log lines quote servers and clients.
    this.logger = redactingLogger(options.logger ?? nullLogger, this.redact);
    this.tokens = options.tokenStore ?? this.register(defaultTokenStore(options.hostEnv ?? process.env));
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.configDir = configDir;
    this.store = this.register(new StateStore({ sessionId: this.sessionId, startedAt: this.startedAt }));
    this.parser = this.register(new WorkerConfigParser(this.logger));
  }

  /** Resolves the config dir, loads the config and starts every server (without awaiting them). */
  static async start(options: GatewayServiceOptions): Promise<GatewayService> {
    const resolved = await resolveConfigDir(options.folder, options.configDir);
    const service = new GatewayService(options, resolved.dir);
    await service.boot();
    return service;
  }

  get pool(): DownstreamPool {
    if (!this._pool) throw new Error('gateway not started');
    return this._pool;
  }

  get gateway(): Gateway {
    if (!this._gateway) throw new Error('gateway not started');
    return this._gateway;
  }

  get configStatus(): ConfigStatus {
    return this.status;
  }

  get endpoint(): HttpEndpoint | undefined {
    return this.http?.info;
  }

  get currentTunables(): GatewayTunables {
    return this.tunables;
  }

  private async boot(): Promise<void> {
    // Windows ignores 0600: before the audit log, state file and token exist, the folder's ACL is made the user's alone.
    if (!(await restrictToUser(this.configDir))) this.logger.warn(`could not restrict ${this.configDir} to the current user (icacls); its files may be readable by other local accounts`);
    await this.loadConfig();
    const pool = this.register(
      new DownstreamPool(this.registry, {
        tunables: this.tunables,
        clock: this.clock,
        hostEnv: this.options.hostEnv ?? process.env,
        baseDir: this.options.folder,
        logger: this.logger,
        sessionId: this.sessionId,
        redact: this.redact,
        admit: (config) => this.blocked.get(config.name),
        clientInfo: { name: 'gatehouse', version: this.options.version ?? '0.1.0' },
        tokenStore: this.tokens,
        accounts: this.options.accounts,
      }),
    );
    this._pool = pool;
    const governance = this.register(
      await Governance.open({
        dir: this.configDir,
        sessionId: this.sessionId,
        pool,
        policy: () => this.policy,
        tunables: () => this.tunables,
        registry: () => this.registry,
        clock: this.clock,
        logger: this.logger,
      }),
    );
    this._governance = governance;
    this.register(governance.approvals.onDidChange((view) => this.store.setApprovals(view)));
    this.telemetryFile = JSON.stringify(this.policy?.gateway?.telemetry ?? null);
    this.telemetry = await loadTelemetry(this.options.hostEnv ?? process.env, this.logger, this.options.version ?? '0.1.0', {
      settings: this.options.telemetrySettings,
      file: this.policy?.gateway?.telemetry,
    });
    this.bindPool(pool);
    this._gateway = this.register(
      new Gateway({
        pool,
        sessionId: this.sessionId,
        layers: this.telemetry?.wrapLayers(governance.layers()) ?? governance.layers(),
        snapshot: () => this.store.snapshot,
        exposeDiagnostics: () => this.tunables.health.expose_diagnostics,
        sanitizeError: (text) => governance.redactText(text),
        onRefused: (ctx) => governance.recordRefusal(ctx),
        onRequest: (event) => governance.recordRequest(event),
        healthExtras: async () => {
          const halt = await readHalt(this.configDir, this.clock);
          return {
            halt: halt.decision !== 'absent',
            halt_reason: halt.decision === 'present' ? this.redact(halt.reason) : null,
            autonomy_level: this.policy?.autonomy_level ?? 'L1',
            policy: {
              profile: this.policy?.profile ?? null,
              autonomy_level: this.policy?.autonomy_level ?? 'L1',
              max_autonomy_level: this.policy?.max_autonomy_level ?? null,
              block_ai_attribution: this.policy?.block_ai_attribution ?? false,
              blocked_paths_count: this.policy?.blocked_paths.length ?? 0,
            },
          };
        },
        onHealth: () => governance.recordGatewayEvent({ tool_name: 'health', server_name: 'gatehouse', tier: 'read', status: 'allowed' }),
        transformTools: (tools) => governance.transformTools(tools),
        transformPrompts: (prompts) => governance.transformPrompts(prompts),
        startupWaitMs: () => Math.min(5000, this.tunables.timeouts.connect_ms),
        serverRequests: {
          admit: (server, method) => this.admitServerRequest(server, method),
          onServerRequest: (event) => governance.recordServerRequest(event),
          redactLog: (text) => governance.redactText(text),
          onLogMessage: (server, level) => governance.logSummary.note(server, level),
          fallbackRoots: this.options.rootsFallback ? () => [{ uri: pathToFileURL(this.options.folder).href, name: path.basename(this.options.folder) }] : undefined,
        },
        logger: this.logger,
        version: this.options.version,
        listReaHealth: path.basename(this.configDir) === '.rea',
        tracer: this.telemetry?.tracer,
        profiles: () => this.registry.profiles,
      }),
    );
    if (this.options.stateFile !== false) {
      this.stateFile = this.register(
        new StateFileWriter(this.store, {
          dir: this.configDir,
          debounceMs: this.tunables.state.debounce_ms,
          heartbeatMs: this.tunables.state.heartbeat_ms,
          clock: this.clock,
          redact: this.redact,
          telemetry: this.telemetry && (() => this.telemetry?.stats()),
        }),
      );
      this.register(this.stateFile.onDidFail((err) => this.logger.warn(`could not write the state file: ${err.message}`)));
      await this.stateFile.start();
    }
    this.telemetry?.attach({ onDidAppendAudit: governance.audit.onDidAppend, onDidFinishCall: this._gateway.onDidFinishCall, store: this.store });
    if (this.telemetry) this.register(this.telemetry.onDidChangeStats((view) => this.store.setTelemetry(view)));
    if (this.options.metricsPort !== undefined) await this.startMetrics(this.options.metricsPort);
    await this.evaluateTrust();
    if (this.options.stateFile !== false) await this.guardChildren();
    pool.start();
    if (this.options.watchConfig !== false) {
      this.register(new ConfigWatcher(this.configDir, () => void this.reload(), this.logger));
    }
  }

  /**
   * Kills what a gateway that died without cleaning up (SIGKILL, out of memory) left in this
   * folder, then records our own children the same way for the next start (issue 13.11).
   */
  private async guardChildren(): Promise<void> {
    const reaped = await reapOrphans(this.configDir);
    if (reaped.killed.length) {
      this.logger.warn(`stopped ${reaped.killed.length} server process group(s) a previous gateway left running (pids ${reaped.killed.join(', ')})`);
    }
    if (reaped.reused.length) {
      this.logger.info(`left pids ${reaped.reused.join(', ')} alone: recorded by a dead gateway, now other processes`);
    }
    this.childRecords = new ChildRecordFile(this.configDir);
    await this.childRecords.start((err) => this.logger.warn(`could not record child processes: ${err.message}`));
  }

  /**
   * Whether a child's request to the client may go out: HALT refuses sampling and elicitation
   * (they act on the user's behalf), and policy `client_requests` can deny them per server.
   * `roots/list` only reads the client's folders and is always relayed.
   */
  private async admitServerRequest(server: string, method: string): Promise<string | undefined> {
    const kind = method === 'sampling/createMessage' ? 'sampling' : method === 'elicitation/create' ? 'elicitation' : undefined;
    if (!kind) return undefined;
    const halt = await readHalt(this.configDir, this.clock);
    if (halt.decision !== 'absent') return `${kind} from ${server} refused: ${halt.decision === 'present' ? haltMessage(halt.reason) : 'the kill switch could not be checked'}`;
    if (this.policy?.client_requests?.[server]?.[kind] === 'deny') {
      return `${kind} from ${server} is denied by client_requests.${server}.${kind} in policy.yaml.`;
    }
    return undefined;
  }

  /** Mirrors the pool into the store (the one source the UI, state file and health read). */
  private bindPool(pool: DownstreamPool): void {
    const subs = this.poolSubscriptions;
    this.store.setOrder(pool.serverNames());
    for (const view of pool.snapshot()) this.store.setDownstream(view);
    subs.add(pool.onDidChangeDownstream((view) => this.store.setDownstream(view)));
    subs.add(pool.onDidRemoveDownstream((name) => this.store.removeDownstream(name)));
    subs.add(
      pool.onDidFireSessionBlocker((e) => {
        this.logger.error(e.message);
        this._governance?.recordGatewayEvent({
          tool_name: 'session_blocker',
          server_name: e.server_name,
          tier: 'read',
          status: 'error',
          metadata: { event: 'SESSION_BLOCKER', open_transitions: e.open_transitions, threshold: e.threshold, emitted_at: e.emitted_at },
        });
        this.store.addSessionBlock({
          server: e.server_name,
          open_transitions: e.open_transitions,
          threshold: e.threshold,
          emitted_at: e.emitted_at,
          message: e.message,
        });
      }),
    );
  }

  private async loadConfig(): Promise<boolean> {
    const [reg, pol] = await Promise.all([loadRegistry(this.configDir, this.parser.parse), loadPolicy(this.configDir, this.parser.parse)]);
    const running = this._pool !== undefined;
    const policyProblems = policyLossProblems(pol, running ? this.policy : undefined);
    const problems = [...reg.problems, ...policyProblems];
    const broken = hasErrors(problems);
    if (!broken && reg.registry) {
      this.registry = reg.registry;
      this.policy = pol.policy;
      this.tunables = resolveTunables(pol.policy);
      const telemetryFile = JSON.stringify(pol.policy?.gateway?.telemetry ?? null);
      if (running && this.telemetryFile !== undefined && telemetryFile !== this.telemetryFile) {
        this.telemetryFile = telemetryFile;
        this.logger.warn('telemetry: gateway.telemetry changed; it applies when the gateway next starts (Gatehouse: Restart Gateway, or restart gatehouse serve)');
      }
    }
    this.status = { problems, usingLastGood: broken && running, policy: policyStatus(problems, this.policy, broken && running) };
    for (const p of problems) this.logger[p.severity === 'error' ? 'error' : 'warn'](`${path.basename(p.file)}:${p.line}:${p.column}: ${p.message}`);
    if (this.status.policy.source !== 'file') this.logger[this.status.policy.source === 'last_good' ? 'error' : 'info'](`policy: ${this.status.policy.summary}`);
    const errors = problems.filter((p) => p.severity === 'error');
    this.store.setConfig({
      policy_source: this.status.policy.source,
      policy: this.status.policy.summary,
      errors: errors.length,
      warnings: problems.length - errors.length,
      first_error: errors[0] ? `${path.basename(errors[0].file)}:${errors[0].line}:${errors[0].column}: ${errors[0].message}` : null,
    });
    this._onDidChangeConfigStatus.fire(this.status);
    return !broken;
  }

  /**
   * Re-reads registry.yaml and policy.yaml. A broken edit keeps the last good config running;
   * a good one restarts only the servers whose entry changed.
   */
  async reload(): Promise<ConfigStatus> {
    // Serialised: a reload that arrives while one runs waits for it, then runs once more.
    const previous = this.reloading;
    const next = (async () => {
      await previous?.catch(() => undefined);
      return this.doReload();
    })();
    this.reloading = next;
    return next;
  }

  private reloading: Promise<ConfigStatus> | undefined;

  private async doReload(): Promise<ConfigStatus> {
    const profilesBefore = JSON.stringify(this.registry.profiles ?? {});
    if (await this.loadConfig()) {
      this._governance?.policyChanged();
      await this.evaluateTrust();
      // A profile's tool set is a filter on the listing: its sessions re-list, nothing restarts.
      if (JSON.stringify(this.registry.profiles ?? {}) !== profilesBefore) this._gateway?.notifyToolsChanged();
      await this.pool.applyRegistry(this.registry);
      this.store.setOrder(this.pool.serverNames());
    }
    return this.status;
  }

  /** Names of the registry's client profiles, in file order. */
  get profileNames(): string[] {
    return Object.keys(this.registry.profiles ?? {});
  }

  /** The policy in force (undefined: defaults). */
  get currentPolicy(): Policy | undefined {
    return this.policy;
  }

  /**
   * Trust on first use (SPEC §10.3–10.4, fixing §13.1 item 22): a server whose command, args or
   * env names changed since it was trusted is held in `blocked` — shown, not dropped — until the
   * operator accepts it. Decisions are audited before they are stored, so a crash in between
   * asks again instead of trusting silently. A corrupt store blocks every server (fail closed).
   */
  private async evaluateTrust(): Promise<void> {
    this.blocked.clear();
    let store: FingerprintFile;
    try {
      store = await readFingerprints(this.configDir);
    } catch (err) {
      const reason = `cannot check this server's fingerprint: ${(err as Error).message}`;
      for (const s of this.registry.servers) this.blocked.set(s.name, reason);
      this.logger.error(reason);
      return;
    }
    const accepted = new Set(
      `${this.options.hostEnv?.GATEHOUSE_ACCEPT_DRIFT ?? process.env.GATEHOUSE_ACCEPT_DRIFT ?? process.env.REA_ACCEPT_DRIFT ?? ''}`
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    );
    this.trustVerdicts = classifyTrust(this.registry.servers, store.servers);
    let changed = false;
    for (const v of this.trustVerdicts) {
      if (v.kind === 'unchanged') continue;
      if (v.kind === 'first-seen') {
        await this.auditTrust({ event: 'first_seen', server: v.name, fingerprint: v.current });
        this.logger.info(`${v.name}: new server trusted on first use (fingerprint ${v.current.slice(0, 16)})`);
        store.servers[v.name] = v.current;
        changed = true;
      } else if (accepted.has(v.name)) {
        await this.auditTrust({ event: 'drift_accepted', server: v.name, stored: v.stored, current: v.current, via: 'env' });
        store.servers[v.name] = v.current;
        changed = true;
      } else {
        const key = `${v.name}:${v.current}`;
        if (!this.driftAudited.has(key)) {
          this.driftAudited.add(key);
          await this.auditTrust({ event: 'drift_blocked', server: v.name, stored: v.stored, current: v.current });
        }
        this.blocked.set(
          v.name,
          `its command, args or env names changed since it was trusted (${v.stored.slice(0, 12)} → ${v.current.slice(0, 12)}). ` +
            `Review registry.yaml, then run "Gatehouse: Accept Fingerprint Change" or \`gatehouse trust accept ${v.name}\``,
        );
        this.logger.warn(`${v.name}: blocked until its configuration change is accepted`);
      }
    }
    if (changed) await writeFingerprints(this.configDir, store).catch((err: Error) => this.logger.error(`could not save fingerprints: ${err.message}`));
  }

  private async auditTrust(decision: TofuDecision): Promise<void> {
    await this._governance?.audit
      .append(tofuAuditInput(decision, this.sessionId))
      .catch((err: Error) => this.logger.error(`could not audit the trust decision for ${decision.server}: ${err.message}`));
  }

  /** The TOFU verdict of every declared server at the last evaluation. */
  get trust(): readonly TrustVerdict[] {
    return this.trustVerdicts;
  }

  /** Accepts a drifted server's new configuration (audited first), then starts it. */
  async acceptFingerprint(name: string): Promise<void> {
    const verdict = classifyTrust(this.registry.servers, (await readFingerprints(this.configDir)).servers).find((v) => v.name === name);
    if (!verdict) throw new Error(`no server '${name}' in registry.yaml`);
    const store = await readFingerprints(this.configDir);
    await this.auditTrust(
      verdict.kind === 'drifted'
        ? { event: 'drift_accepted', server: name, stored: verdict.stored, current: verdict.current, via: 'editor' }
        : { event: 'first_seen', server: name, fingerprint: verdict.current, via: 'editor' },
    );
    store.servers[name] = verdict.current;
    await writeFingerprints(this.configDir, store);
    this.blocked.delete(name);
    this.trustVerdicts = this.trustVerdicts.map((v) => (v.name === name ? { name, kind: 'unchanged', current: verdict.current } : v));
    this.pool.connection(name)?.start();
  }

  /** The kill switch's current state. */
  halt(): Promise<HaltState> {
    return readHalt(this.configDir, this.clock);
  }

  /** Engages the kill switch (writes HALT, audited): every proxied call is denied until unfreeze. */
  async freeze(reason: string): Promise<FreezeResult> {
    const result = await freeze(this.configDir, reason, this.governance.audit);
    // At once here; a HALT written by another process is seen by the broker's own check.
    this.governance.approvals.cancelAll('halt');
    return result;
  }

  /** Releases the kill switch (removes HALT, audited). */
  unfreeze(): Promise<UnfreezeResult> {
    return unfreeze(this.configDir, this.governance.audit);
  }

  /** Walks the audit hash chain (all segments) and reports the first broken link. */
  async verifyAudit(): Promise<VerifyResult> {
    await this.governance.audit.flush();
    return verifyAuditDir(this.configDir);
  }

  get governance(): Governance {
    if (!this._governance) throw new Error('gateway not started');
    return this._governance;
  }

  /** OpenTelemetry export counters (exported, dropped), when export is on. */
  get telemetryStats(): ReturnType<TelemetryRuntime['stats']> | undefined {
    return this.telemetry?.stats();
  }

  /** The port `/metrics` is served on, when enabled and bound. */
  get metricsPort(): number | undefined {
    return this.metrics?.port;
  }

  /** Not fatal when the port is taken (as rea): the gateway runs without metrics and says so. */
  private async startMetrics(port: number): Promise<void> {
    try {
      this.metrics = await MetricsServer.start({ port, store: this.store, onDidFinishCall: this.gateway.onDidFinishCall, logger: this.logger });
      this.stateFile?.setMetricsPort(this.metrics.port);
      this.logger.info(`metrics on http://127.0.0.1:${this.metrics.port}/metrics`);
    } catch (err) {
      this.logger.error(`metrics: could not listen on 127.0.0.1:${port}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Starts the loopback HTTP endpoint and writes the discovery file. */
  async startHttp(port = 0): Promise<HttpEndpoint> {
    // Loaded on first use: a stdio-only gateway needs none of the HTTP path (listener, transport,
    // request checks), so it pays neither their load time nor their memory.
    const { HttpListener: Listener } = await import('./httpListener');
    this.http ??= new Listener(this.gateway, { port, logger: this.logger, profiles: () => this.profileNames });
    const endpoint = await this.http.start();
    await writeDiscoveryFile(this.configDir, { url: endpoint.url, token: endpoint.token, pid: process.pid });
    return endpoint;
  }

  /**
   * Graceful stop (DESIGN.md §1): stop accepting, give in-flight calls up to `drainMs`, then
   * stop every child in parallel (each escalating to SIGKILL of its group), then remove our files.
   */
  async stop(drainMs = 1000): Promise<void> {
    // First answer every call in flight (finished, or cut off with a "stopping" error), so the
    // HTTP responses and stdio lines go out before the listener and transports close.
    await this._gateway?.stopCalls(drainMs);
    const http = this.http;
    this.http = undefined;
    await http?.stop();
    await removeDiscoveryFile(this.configDir).catch(() => undefined);
    const pool = this._pool;
    await this._gateway?.close();
    await pool?.stop();
    this._governance?.logSummary.flush();
    await this._governance?.audit.close().catch(() => undefined);
    await this.metrics?.stop();
    this.metrics = undefined;
    await this.telemetry?.shutdown();
    this.telemetry = undefined;
    await this.stateFile?.stop();
    await this.childRecords?.stop();
  }
}
