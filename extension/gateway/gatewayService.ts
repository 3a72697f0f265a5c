import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { systemClock, type Clock } from '../common/clock';
import { Disposable, DisposableStore } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import { nullLogger, type Logger } from '../common/logger';
import { resolveConfigDir } from '../config/configDir';
import { loadPolicy, loadRegistry } from '../config/loadConfig';
import { resolveTunables, type GatewayTunables, type Policy } from '../config/policySchema';
import { hasErrors, type ConfigProblem } from '../config/problem';
import type { Registry } from '../config/registrySchema';
import { DownstreamPool } from '../pool/pool';
import { StateFileWriter } from '../state/stateFile';
import { StateStore } from '../state/store';
import type { VerifyResult } from './audit/verifyAudit';
import { verifyAuditDir } from './audit/verifyAudit';
import { removeDiscoveryFile, writeDiscoveryFile } from './discoveryFile';
import { Gateway } from './gateway';
import { ConfigWatcher } from './configWatcher';
import { Governance } from './governance';
import { freeze, readHalt, unfreeze, type FreezeResult, type HaltState, type UnfreezeResult } from './halt';
import { HttpListener, type HttpEndpoint } from './httpListener';
import { MetricsServer } from './metrics';
import { loadTelemetry } from '../telemetry/loadTelemetry';
import type { TelemetryRuntime } from '../telemetry/telemetryTypes';
import { createSyncRedactor } from './scanner/syncRedactor';
import { classifyTrust, type TrustVerdict } from './trust/classifyTrust';
import { readFingerprints, writeFingerprints, type FingerprintFile } from './trust/fingerprintStore';

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
}

/** Config problems of the last load, per file. */
export interface ConfigStatus {
  problems: ConfigProblem[];
  /** True when the running config is an older, good one because the current file is broken. */
  usingLastGood: boolean;
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
  private stateFile: StateFileWriter | undefined;
  private metrics: MetricsServer | undefined;
  /** OpenTelemetry export, when the OTEL_* variables configure it. */
  private telemetry: TelemetryRuntime | undefined;
  private http: HttpListener | undefined;
  private status: ConfigStatus = { problems: [], usingLastGood: false };
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
    this.logger = options.logger ?? nullLogger;
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.configDir = configDir;
    this.store = this.register(new StateStore({ sessionId: this.sessionId, startedAt: this.startedAt }));
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
    this.telemetry = await loadTelemetry(this.options.hostEnv ?? process.env, this.logger, this.options.version ?? '0.1.0');
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
        healthExtras: async () => {
          const halt = await readHalt(this.configDir, this.clock);
          return {
            halt: halt.decision !== 'absent',
            halt_reason: halt.decision === 'present' ? this.redact(halt.reason) : null,
            autonomy_level: this.policy?.autonomy_level ?? 'L1',
          };
        },
        onHealth: () => governance.recordGatewayEvent({ tool_name: 'health', server_name: 'gatehouse', tier: 'read', status: 'allowed' }),
        transformTools: (tools) => governance.transformTools(tools),
        startupWaitMs: () => Math.min(5000, this.tunables.timeouts.connect_ms),
        logger: this.logger,
        version: this.options.version,
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
    if (this.options.metricsPort !== undefined) await this.startMetrics(this.options.metricsPort);
    await this.evaluateTrust();
    pool.start();
    if (this.options.watchConfig !== false) {
      this.register(new ConfigWatcher(this.configDir, () => void this.reload(), this.logger));
    }
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
    const [reg, pol] = await Promise.all([loadRegistry(this.configDir), loadPolicy(this.configDir)]);
    const problems = [...reg.problems, ...pol.problems];
    const broken = hasErrors(problems);
    if (!broken && reg.registry) {
      this.registry = reg.registry;
      this.policy = pol.policy;
      this.tunables = resolveTunables(pol.policy);
    }
    this.status = { problems, usingLastGood: broken && this._pool !== undefined };
    for (const p of problems) this.logger[p.severity === 'error' ? 'error' : 'warn'](`${path.basename(p.file)}:${p.line}:${p.column}: ${p.message}`);
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
    if (await this.loadConfig()) {
      this._governance?.policyChanged();
      await this.evaluateTrust();
      await this.pool.applyRegistry(this.registry);
      this.store.setOrder(this.pool.serverNames());
    }
    return this.status;
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
        await this.auditTrust(v.name, 'allowed', { decision: 'first_seen', fingerprint: v.current });
        this.logger.info(`${v.name}: new server trusted on first use (fingerprint ${v.current.slice(0, 16)})`);
        store.servers[v.name] = v.current;
        changed = true;
      } else if (accepted.has(v.name)) {
        await this.auditTrust(v.name, 'allowed', { decision: 'drift_accepted', bypassed: true, stored: v.stored, fingerprint: v.current });
        store.servers[v.name] = v.current;
        changed = true;
      } else {
        const key = `${v.name}:${v.current}`;
        if (!this.driftAudited.has(key)) {
          this.driftAudited.add(key);
          await this.auditTrust(v.name, 'denied', { decision: 'drift_blocked', stored: v.stored, fingerprint: v.current });
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

  private async auditTrust(server: string, status: 'allowed' | 'denied', metadata: Record<string, unknown>): Promise<void> {
    await this._governance?.audit
      .append({ tool_name: 'tofu', server_name: server, tier: 'read', status, session_id: this.sessionId, emission_source: 'gateway', metadata })
      .catch((err: Error) => this.logger.error(`could not audit the trust decision for ${server}: ${err.message}`));
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
    await this.auditTrust(name, 'allowed', {
      decision: 'drift_accepted',
      stored: verdict.kind === 'drifted' ? verdict.stored : null,
      fingerprint: verdict.current,
    });
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
  freeze(reason: string): Promise<FreezeResult> {
    return freeze(this.configDir, reason, this.governance.audit);
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
    this.http ??= new HttpListener(this.gateway, { port, logger: this.logger });
    const endpoint = await this.http.start();
    await writeDiscoveryFile(this.configDir, { url: endpoint.url, token: endpoint.token, pid: process.pid });
    return endpoint;
  }

  /**
   * Graceful stop (DESIGN.md §1): stop accepting, give in-flight calls up to `drainMs`, then
   * stop every child in parallel (each escalating to SIGKILL of its group), then remove our files.
   */
  async stop(drainMs = 1000): Promise<void> {
    const http = this.http;
    this.http = undefined;
    await http?.stop();
    await removeDiscoveryFile(this.configDir).catch(() => undefined);
    const pool = this._pool;
    if (pool) {
      const deadline = Date.now() + drainMs;
      while (pool.snapshot().some((v) => v.in_flight > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await this._gateway?.close();
    await pool?.stop();
    await this._governance?.audit.close().catch(() => undefined);
    await this.metrics?.stop();
    this.metrics = undefined;
    await this.telemetry?.shutdown();
    this.telemetry = undefined;
    await this.stateFile?.stop();
  }
}
