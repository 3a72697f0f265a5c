import path from 'node:path';
import * as vscode from 'vscode';
import { Disposable, DisposableStore, MutableDisposable, toDisposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import { resolveConfigDir } from '../config/configDir';
import { FolderGateway, type FolderSessionBlocker } from './folderGateway';
import { channelLogger } from './output';
import { readSettings, SETTINGS_SECTION, type GatehouseSettings } from './settings';
import { readTelemetrySettings, TELEMETRY_HEADERS_SECRET, TELEMETRY_SECTION } from './telemetrySettings';
import type { AccountSessions } from '../auth/accountSessions';
import type { TokenStore } from '../auth/tokenStore';

/** What the view shows when there is no server to list (drives the welcome views). */
export type ViewMode = 'untrusted' | 'noFolder' | 'noConfig' | 'notStarted' | 'gateways';

interface FolderEntry {
  gateway: FolderGateway;
  subscriptions: DisposableStore;
}

export interface GatewayManagerOptions {
  version: string;
  /** The shared "Gatehouse" log channel. */
  channel: vscode.LogOutputChannel;
  /** Holds the telemetry headers (Gatehouse: Set Telemetry Headers). */
  secrets?: vscode.SecretStorage;
  /** Remote servers' sign-ins (SecretStorage) and VS Code accounts, shared by every folder's gateway. */
  tokenStore?: TokenStore;
  accounts?: AccountSessions;
}

/**
 * One FolderGateway per workspace folder that has a config (multi-root aware), started only in
 * a trusted workspace. Follows folder changes, trust being granted, settings changes and config
 * directories appearing (Create Config, a checkout), and is the one place that knows "which
 * gateways exist" for the tree, status bar, MCP provider and commands.
 */
export class GatewayManager extends Disposable {
  private readonly entries = new Map<string, FolderEntry>();
  /** Folders whose gateway the user started by hand while auto-start is off. */
  private readonly manuallyStarted = new Set<string>();
  private mode: ViewMode = 'noConfig';
  private refreshing: Promise<void> = Promise.resolve();
  private refreshQueued = false;
  private settings: GatehouseSettings = readSettings();
  private readonly folderWatchers = this.register(new MutableDisposable<DisposableStore>());
  private disposed = false;

  private readonly _onDidChange = this.register(new Emitter<void>());
  /** A gateway was added, removed, or changed state, snapshot, config status or HALT. */
  readonly onDidChange: Event<void> = this._onDidChange.event;
  private readonly _onDidFireSessionBlocker = this.register(new Emitter<FolderSessionBlocker>());
  readonly onDidFireSessionBlocker: Event<FolderSessionBlocker> = this._onDidFireSessionBlocker.event;

  constructor(private readonly options: GatewayManagerOptions) {
    super();
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()));
    // Trust is only ever granted within a session (revoking reloads the window): start now.
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SETTINGS_SECTION)) return;
        const before = this.settings;
        this.settings = readSettings();
        const moved = before.configDir !== this.settings.configDir;
        // Telemetry is set up when a gateway starts: a changed telemetry setting restarts it.
        const rebind = moved || before.httpPort !== this.settings.httpPort || before.metricsPort !== this.settings.metricsPort || e.affectsConfiguration(TELEMETRY_SECTION);
        if (moved) void this.stopAll().then(() => this.refresh());
        else if (rebind) for (const g of this.gateways()) void g.restart();
        else this.refresh();
      }),
    );
    const secrets = options.secrets;
    if (secrets) {
      this.register(
        secrets.onDidChange((e) => {
          if (e.key === TELEMETRY_HEADERS_SECRET) for (const g of this.gateways()) void g.restart();
        }),
      );
    }
    this.register(toDisposable(() => this.disposeEntries()));
  }

  get viewMode(): ViewMode {
    return this.mode;
  }

  /** Running (or starting, or failed) gateways, in workspace-folder order. */
  gateways(): FolderGateway[] {
    const order = vscode.workspace.workspaceFolders ?? [];
    return order.map((f) => this.entries.get(f.uri.toString())?.gateway).filter((g): g is FolderGateway => g !== undefined);
  }

  gatewayFor(folder: vscode.WorkspaceFolder): FolderGateway | undefined {
    return this.entries.get(folder.uri.toString())?.gateway;
  }

  get multiRoot(): boolean {
    return (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  }

  /**
   * Brings the set of gateways in line with folders, trust, settings and config dirs. Never
   * awaited by activate(); coalesces bursts (several events → one more pass).
   */
  refresh(): Promise<void> {
    if (this.refreshQueued) return this.refreshing;
    this.refreshQueued = true;
    this.refreshing = this.refreshing.then(async () => {
      this.refreshQueued = false;
      try {
        await this.doRefresh();
      } catch (err) {
        this.options.channel.error(`refreshing the gateways failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    return this.refreshing;
  }

  /** Starts a folder's gateway, or restarts it (Restart Gateway); also when auto-start is off. */
  async startOrRestart(folder: vscode.WorkspaceFolder): Promise<FolderGateway | undefined> {
    this.manuallyStarted.add(folder.uri.toString());
    const existing = this.gatewayFor(folder);
    if (existing) {
      await existing.restart();
      return existing;
    }
    await this.refresh();
    const created = this.gatewayFor(folder);
    await created?.start();
    return created;
  }

  /** Stops every gateway in parallel (deactivate, config dir moved). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.gateway.stop()));
  }

  private async doRefresh(): Promise<void> {
    if (this.disposed) return;
    const folders = vscode.workspace.workspaceFolders ?? [];
    const trusted = vscode.workspace.isTrusted;
    const wanted = new Map<string, { folder: vscode.WorkspaceFolder; dir: string }>();
    const watchers = new DisposableStore();
    this.folderWatchers.value = watchers;
    if (trusted) {
      for (const folder of folders) {
        const info = await resolveConfigDir(folder.uri.fsPath, this.settings.configDir || undefined);
        if (info.exists) wanted.set(folder.uri.toString(), { folder, dir: info.dir });
        else this.watchForConfig(watchers, folder, info.dir);
      }
    }
    if (this.disposed) return;

    for (const [key, entry] of [...this.entries]) {
      if (wanted.get(key)?.dir === entry.gateway.configDir) continue;
      this.entries.delete(key);
      entry.subscriptions.dispose();
      void entry.gateway.stop().finally(() => entry.gateway.dispose());
    }
    let first = true;
    for (const [key, { folder, dir }] of wanted) {
      const isFirst = first;
      first = false;
      if (this.entries.has(key)) continue;
      const gateway = new FolderGateway({
        folder,
        configDir: dir,
        configDirSetting: this.settings.configDir,
        logger: channelLogger(this.options.channel, this.multiRoot ? folder.name : ''),
        version: this.options.version,
        tokenStore: this.options.tokenStore,
        accounts: this.options.accounts,
        // A pinned port can serve one gateway only: the first folder gets it.
        port: () => (isFirst ? this.settings.httpPort : 0),
        metricsPort: () => (isFirst && this.settings.metricsPort > 0 ? this.settings.metricsPort : undefined),
        telemetry: this.options.secrets ? () => readTelemetrySettings(this.options.secrets!) : undefined,
        serverChannelName: (server) => (this.multiRoot ? `Gatehouse: ${server} (${folder.name})` : `Gatehouse: ${server}`),
      });
      const subscriptions = new DisposableStore();
      subscriptions.add(
        gateway.onDidChange(() => {
          this.updateMode();
          this._onDidChange.fire();
        }),
      );
      subscriptions.add(gateway.onDidFireSessionBlocker((e) => this._onDidFireSessionBlocker.fire(e)));
      this.entries.set(key, { gateway, subscriptions });
      if (this.settings.autoStart || this.manuallyStarted.has(key)) void gateway.start();
    }

    this.updateMode(true);
    this._onDidChange.fire();
  }

  /** Recomputes the view mode and mirrors it into the `gatehouse.view` context key. */
  private updateMode(force = false): void {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const mode: ViewMode = !vscode.workspace.isTrusted
      ? 'untrusted'
      : folders.length === 0
        ? 'noFolder'
        : this.entries.size === 0
          ? 'noConfig'
          : this.gateways().every((g) => g.state === 'idle')
            ? 'notStarted'
            : 'gateways';
    if (mode === this.mode && !force) return;
    this.mode = mode;
    void vscode.commands.executeCommand('setContext', 'gatehouse.view', mode);
  }

  /** Starts the folder's gateway once a registry appears (Create Config, Import, a git pull). */
  private watchForConfig(watchers: DisposableStore, folder: vscode.WorkspaceFolder, dir: string): void {
    const patterns = [new vscode.RelativePattern(vscode.Uri.file(dir), 'registry.yaml')];
    const rea = path.join(folder.uri.fsPath, '.rea');
    if (path.resolve(dir) !== rea) patterns.push(new vscode.RelativePattern(vscode.Uri.file(rea), 'registry.yaml'));
    for (const pattern of patterns) {
      const watcher = watchers.add(vscode.workspace.createFileSystemWatcher(pattern, false, true, true));
      watchers.add(watcher.onDidCreate(() => void this.refresh()));
    }
  }

  private disposeEntries(): void {
    this.disposed = true;
    for (const entry of this.entries.values()) {
      entry.subscriptions.dispose();
      entry.gateway.dispose();
    }
    this.entries.clear();
  }
}
