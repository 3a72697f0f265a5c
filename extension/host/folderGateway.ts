import * as vscode from 'vscode';
import { Disposable, DisposableStore, MutableDisposable, toDisposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { Logger } from '../common/logger';
import { GatewayService, type ConfigStatus } from '../gateway/gatewayService';
import { readHalt, type HaltState } from '../gateway/halt';
import type { HttpEndpoint } from '../gateway/httpListener';
import type { SessionBlockerEvent } from '../pool/sessionBlocker';
import type { GatewaySnapshot } from '../protocol/model';
import type { TelemetrySettings } from '../telemetry/telemetrySources';
import { editorApprover } from './approvalPrompt';
import { ServerOutputs } from './serverOutputs';
import type { AccountSessions } from '../auth/accountSessions';
import type { TokenStore } from '../auth/tokenStore';

/** Where one folder's gateway is in its own lifecycle. */
export type FolderGatewayState = 'idle' | 'starting' | 'running' | 'stopping' | 'failed';

export interface FolderGatewayOptions {
  folder: vscode.WorkspaceFolder;
  /** The resolved config dir (absolute). */
  configDir: string;
  /** `gatehouse.configDir` as set (passed through so the core resolves it the same way). */
  configDirSetting: string;
  logger: Logger;
  version: string;
  /** The HTTP port to listen on (0 = any). */
  port: () => number;
  /** Port of the Prometheus `/metrics` endpoint; undefined = no endpoint. */
  metricsPort: () => number | undefined;
  /** The `gatehouse.telemetry.*` settings (with the SecretStorage headers), read at each start. */
  telemetry?: () => Promise<TelemetrySettings>;
  /** Output channel name of one of this folder's servers. */
  serverChannelName: (server: string) => string;
  tokenStore?: TokenStore;
  accounts?: AccountSessions;
}

/** A session blocker, tagged with the gateway it came from. */
export interface FolderSessionBlocker {
  gateway: FolderGateway;
  event: SessionBlockerEvent;
}

const RELOAD_DEBOUNCE_MS = 150;
const STOP_DRAIN_MS = 1000;

/**
 * The gateway of one workspace folder inside the extension host: a GatewayService plus its HTTP
 * endpoint, the watcher that hot-reloads registry/policy edits, HALT tracking and per-server
 * output channels. Starting never blocks activation: `start()` runs in the background and
 * everything observes `onDidChange`.
 */
export class FolderGateway extends Disposable {
  readonly folder: vscode.WorkspaceFolder;
  readonly configDir: string;
  private _state: FolderGatewayState = 'idle';
  private _error: string | undefined;
  private _service: GatewayService | undefined;
  private _halt: HaltState = { decision: 'absent' };
  /** Bumped by every start/stop so a stale async step can tell it lost the race. */
  private generation = 0;
  private transition: Promise<void> = Promise.resolve();
  private isDisposed = false;
  private readonly run = this.register(new MutableDisposable<DisposableStore>());
  private readonly outputs: ServerOutputs;

  private readonly _onDidChange = this.register(new Emitter<void>());
  /** State, endpoint, live snapshot, config status or HALT changed. */
  readonly onDidChange: Event<void> = this._onDidChange.event;
  private readonly _onDidFireSessionBlocker = this.register(new Emitter<FolderSessionBlocker>());
  readonly onDidFireSessionBlocker: Event<FolderSessionBlocker> = this._onDidFireSessionBlocker.event;

  constructor(private readonly options: FolderGatewayOptions) {
    super();
    this.folder = options.folder;
    this.configDir = options.configDir;
    this.outputs = this.register(new ServerOutputs(options.serverChannelName));
    // Last resort (e.g. the extension host disposing us without deactivate): children are
    // killed by their own escalation; don't wait for it here.
    this.register(toDisposable(() => void this._service?.stop(0).finally(() => this._service?.dispose())));
  }

  get state(): FolderGatewayState {
    return this._state;
  }

  /** Why the last start failed. */
  get error(): string | undefined {
    return this._error;
  }

  get service(): GatewayService | undefined {
    return this._service;
  }

  get endpoint(): HttpEndpoint | undefined {
    return this._service?.endpoint;
  }

  get snapshot(): GatewaySnapshot | undefined {
    return this._service?.store.snapshot;
  }

  get configStatus(): ConfigStatus | undefined {
    return this._service?.configStatus;
  }

  get halt(): HaltState {
    return this._halt;
  }

  get name(): string {
    return this.folder.name;
  }

  /** Starts (if not running); resolves when the endpoint is up or the start failed. */
  start(): Promise<void> {
    return this.queue(async () => {
      if (this._state === 'running' || this.isDisposed) return;
      await this.doStart();
    });
  }

  /** Stops and starts again: a new port and token, every child respawned, config re-read. */
  restart(): Promise<void> {
    return this.queue(async () => {
      await this.doStop();
      if (!this.isDisposed) await this.doStart();
    });
  }

  /** Graceful stop (DESIGN.md §1): stop accepting, drain up to 1 s, close children in parallel. */
  stop(): Promise<void> {
    return this.queue(() => this.doStop());
  }

  /** Re-reads registry.yaml/policy.yaml now (the watcher does this on every save). */
  async reload(): Promise<ConfigStatus | undefined> {
    const service = this._service;
    if (!service || this._state !== 'running') return undefined;
    try {
      const status = await service.reload();
      this.outputs.sync(service);
      return status;
    } catch (err) {
      this.options.logger.error(`reload failed: ${message(err)}`);
      return service.configStatus;
    } finally {
      this.fire();
    }
  }

  showServerOutput(server: string): boolean {
    return this.outputs.show(server);
  }


  /** Start/stop steps run one after another, never interleaved. */
  private queue(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step, step);
    this.transition = next.catch(() => undefined);
    return next;
  }

  private async doStart(): Promise<void> {
    const generation = ++this.generation;
    this._state = 'starting';
    this._error = undefined;
    this.fire();
    const log = this.options.logger;
    let service: GatewayService | undefined;
    try {
      service = await GatewayService.start({
        folder: this.folder.uri.fsPath,
        configDir: this.options.configDirSetting || undefined,
        logger: log,
        version: this.options.version,
        metricsPort: this.options.metricsPort(),
        telemetrySettings: await this.options.telemetry?.(),
        // The host drives reloads from VS Code's FileSystemWatcher (below), which also sees
        // edits made through remote file systems; the core's own fs.watch would double them.
        watchConfig: false,
        // A child asking for roots while no client answers gets the workspace folder.
        rootsFallback: true,
        tokenStore: this.options.tokenStore,
        accounts: this.options.accounts,
      });
      if (generation !== this.generation) {
        await service.stop(0);
        service.dispose();
        return;
      }
      this._service = service;
      const run = new DisposableStore();
      this.run.value = run;
      this.bind(service, run);
      this.outputs.sync(service);
      this.fire();
      const endpoint = await service.startHttp(this.options.port());
      await this.refreshHalt();
      if (generation !== this.generation) return;
      this._state = 'running';
      log.info(`gateway for ${this.folder.name} listening on ${endpoint.url} (config ${service.configDir})`);
    } catch (err) {
      if (generation !== this.generation) return;
      this._state = 'failed';
      this._error = message(err);
      log.error(`gateway for ${this.folder.name} failed to start: ${this._error}`);
      if (service) {
        // The pool may already have children: stop them rather than leave a half-started gateway.
        await service.stop(0).catch(() => undefined);
        service.dispose();
        if (this._service === service) this._service = undefined;
        this.run.value = undefined;
      }
    } finally {
      if (generation === this.generation) this.fire();
    }
  }

  private async doStop(): Promise<void> {
    ++this.generation;
    const service = this._service;
    if (!service) {
      this._state = 'idle';
      this.fire();
      return;
    }
    this._state = 'stopping';
    this.fire();
    this.run.value = undefined;
    try {
      await service.stop(STOP_DRAIN_MS);
    } catch (err) {
      this.options.logger.error(`stopping the gateway for ${this.folder.name} failed: ${message(err)}`);
    } finally {
      service.dispose();
      this._service = undefined;
      this.outputs.sync(undefined);
      this._state = 'idle';
      this.fire();
    }
  }

  /** Everything that lives as long as one service does. */
  private bind(service: GatewayService, run: DisposableStore): void {
    run.add(
      service.store.onDidChange((change) => {
        // Servers appear and disappear with hot reloads: keep the channels in step.
        if (change.changed.length) this.outputs.sync(service);
        this.fire();
      }),
    );
    run.add(service.onDidChangeConfigStatus(() => this.fire()));
    // Calls that policy `approval:` holds are asked about here first (then the client, by elicitation).
    run.add(service.governance.approvals.setApprover(editorApprover(() => ((vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? this.folder.name : undefined))));
    run.add(service.pool.onDidFireSessionBlocker((event) => this._onDidFireSessionBlocker.fire({ gateway: this, event })));

    const watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(service.configDir), '{registry.yaml,policy.yaml,gatehouse.yaml,fingerprints.json,HALT}'),
    );
    run.add(watcher);
    let timer: NodeJS.Timeout | undefined;
    let haltTouched = false;
    let configTouched = false;
    run.add(toDisposable(() => clearTimeout(timer)));
    const onFile = (uri: vscode.Uri): void => {
      if (uri.path.endsWith('/HALT')) haltTouched = true;
      else configTouched = true;
      // Editors save in bursts (truncate + write, or temp + rename): reload once per burst.
      clearTimeout(timer);
      timer = setTimeout(() => {
        const [halt, config] = [haltTouched, configTouched];
        haltTouched = configTouched = false;
        if (halt) void this.refreshHalt();
        if (config) void this.reload();
      }, RELOAD_DEBOUNCE_MS);
    };
    run.add(watcher.onDidChange(onFile));
    run.add(watcher.onDidCreate(onFile));
    run.add(watcher.onDidDelete(onFile));
  }

  /** Re-reads HALT (the watcher does this on every change of the file). */
  async refreshHalt(): Promise<void> {
    const service = this._service;
    if (!service) return;
    const before = haltKey(this._halt);
    this._halt = await readHalt(service.configDir);
    if (haltKey(this._halt) !== before) this.fire();
  }

  private fire(): void {
    this._onDidChange.fire();
  }

  override dispose(): void {
    this.isDisposed = true;
    ++this.generation;
    super.dispose();
  }
}

/** What about HALT matters to the UI (not the time it was checked). */
function haltKey(h: HaltState): string {
  return h.decision === 'present' ? `present:${h.reason}` : h.decision === 'unknown' ? `unknown:${h.code}` : 'absent';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
