import * as vscode from 'vscode';
import { Disposable } from '../common/disposable';
import { hasErrors } from '../config/problem';
import type { DownstreamState } from '../protocol/model';
import type { FolderGateway, FolderSessionBlocker } from './folderGateway';
import type { GatewayManager } from './gatewayManager';
import { respawnServer, setEnabled, showServerOutput } from './serverActions';
import { readSettings } from './settings';

const MUTED_KEY = 'gatehouse.mutedServers';

const RESPAWN = 'Respawn';
const SHOW_OUTPUT = 'Show Output';
// Short labels: a toast truncates its buttons, and there are four.
const DISABLE = 'Disable';
const MUTE = "Don't Show Again";

/**
 * The loud signals, each once per outage (the tree and status bar show the rest):
 * - SESSION_BLOCKER: the pool fires it once per outage (re-armed by a closed circuit);
 * - with `gatehouse.notifications: all`, also a server giving up and a config turning broken.
 * Every server notification offers Respawn / Show Output / Disable and "Don't Show Again",
 * which mutes that one server (remembered per workspace).
 */
export class SessionBlockerNotifier extends Disposable {
  /** Last seen state per gateway+server, to notify on the transition only. */
  private readonly lastState = new Map<string, DownstreamState>();
  private readonly configBroken = new Map<string, boolean>();

  constructor(
    private readonly manager: GatewayManager,
    private readonly memento: vscode.Memento,
  ) {
    super();
    this.register(manager.onDidFireSessionBlocker((e) => void this.onSessionBlocker(e)));
    this.register(manager.onDidChange(() => this.onChange()));
  }

  private key(gateway: FolderGateway, server: string): string {
    return `${gateway.folder.uri.toString()}#${server}`;
  }

  private muted(gateway: FolderGateway, server: string): boolean {
    return (this.memento.get<string[]>(MUTED_KEY) ?? []).includes(this.key(gateway, server));
  }

  private async onSessionBlocker({ gateway, event }: FolderSessionBlocker): Promise<void> {
    if (readSettings().notifications === 'off' || this.muted(gateway, event.server_name)) return;
    await this.ask(
      gateway,
      event.server_name,
      `Gatehouse: ${event.server_name} opened its circuit ${event.open_transitions === 1 ? 'once' : `${event.open_transitions} times`} this session (SESSION_BLOCKER). Calls to it are failing.`,
    );
  }

  private onChange(): void {
    const level = readSettings().notifications;
    for (const gateway of this.manager.gateways()) {
      const folderKey = gateway.folder.uri.toString();
      const broken = gateway.configStatus ? hasErrors(gateway.configStatus.problems) : false;
      const wasBroken = this.configBroken.get(folderKey) ?? false;
      this.configBroken.set(folderKey, broken);
      if (broken && !wasBroken && level === 'all') void this.configError(gateway);
      for (const d of gateway.snapshot?.downstreams ?? []) {
        const key = this.key(gateway, d.name);
        const before = this.lastState.get(key);
        this.lastState.set(key, d.state);
        if (d.state === 'gave_up' && before !== 'gave_up' && level === 'all' && !this.muted(gateway, d.name)) {
          void this.ask(gateway, d.name, `Gatehouse: ${d.name} is down and will not be restarted automatically${d.reason ? ` (${d.reason})` : ''}.`);
        }
      }
    }
  }

  private async configError(gateway: FolderGateway): Promise<void> {
    const first = gateway.configStatus?.problems.find((p) => p.severity === 'error');
    const running = gateway.configStatus?.usingLastGood ? ' The last good config keeps running.' : '';
    const choice = await vscode.window.showErrorMessage(
      `Gatehouse: ${first ? `${first.file.split(/[\\/]/).pop()}:${first.line}: ${first.message}` : 'the config has errors'}.${running}`,
      'Open File',
    );
    if (choice && first) {
      await vscode.window.showTextDocument(vscode.Uri.file(first.file), { selection: new vscode.Range(first.line - 1, first.column - 1, first.line - 1, first.column - 1) });
    }
  }

  private async ask(gateway: FolderGateway, server: string, message: string): Promise<void> {
    const choice = await vscode.window.showWarningMessage(message, RESPAWN, SHOW_OUTPUT, DISABLE, MUTE);
    const target = { gateway, server };
    try {
      if (choice === RESPAWN) await respawnServer(target);
      else if (choice === SHOW_OUTPUT) showServerOutput(target);
      else if (choice === DISABLE) await setEnabled(target, false);
      else if (choice === MUTE) {
        const muted = new Set(this.memento.get<string[]>(MUTED_KEY) ?? []);
        muted.add(this.key(gateway, server));
        await this.memento.update(MUTED_KEY, [...muted]);
      }
    } catch (err) {
      void vscode.window.showErrorMessage(`Gatehouse: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
