import * as vscode from 'vscode';
import { Disposable } from '../common/disposable';
import { copyClientConfig, type CopyClientConfigArgs } from './commands/clientConfig';
import { createConfig } from './commands/createConfig';
import { acceptFingerprint, freeze, unfreeze, verifyAudit } from './commands/governance';
import { importServers } from './commands/importServers';
import { pickFolder, pickGateway } from './commands/pickFolder';
import { showStatus } from './commands/showStatus';
import { signInServer, signOutServer } from './commands/signIn';
import type { GatewayManager } from './gatewayManager';
import type { PreviewDocuments } from './previewDocuments';
import type { VscodeAccounts } from './vscodeAccounts';
import { notAvailable, resetCircuit, resolveServer, respawnServer, setEnabled, showServerOutput } from './serverActions';

/** Every command id the extension contributes (package.json `contributes.commands`). */
export type CommandId =
  | 'gatehouse.restartGateway'
  | 'gatehouse.respawnServer'
  | 'gatehouse.resetCircuit'
  | 'gatehouse.showServerOutput'
  | 'gatehouse.showGatewayOutput'
  | 'gatehouse.enableServer'
  | 'gatehouse.disableServer'
  | 'gatehouse.freeze'
  | 'gatehouse.unfreeze'
  | 'gatehouse.verifyAudit'
  | 'gatehouse.acceptFingerprint'
  | 'gatehouse.showStatus'
  | 'gatehouse.copyClientConfig'
  | 'gatehouse.importServers'
  | 'gatehouse.createConfig'
  | 'gatehouse.openRegistry'
  | 'gatehouse.openWalkthrough'
  | 'gatehouse.signIn'
  | 'gatehouse.signOut';

/** `<publisher>.<name>#<walkthrough id>` of package.json's `contributes.walkthroughs` (test/process/packaging.test.ts checks it). */
const WALKTHROUGH_ID = 'gatehouse.gatehouse#getStarted';

export interface CommandDeps {
  manager: GatewayManager;
  channel: vscode.LogOutputChannel;
  previews: PreviewDocuments;
  extensionPath: string;
  /** The update-proof launcher written at activation (platform/bridgeLauncher.ts). */
  bridgeLauncher?: Promise<string>;
  /** VS Code accounts, for Sign In on an `auth.provider` server. */
  accounts?: VscodeAccounts;
}

/**
 * Registers every command in one table. Handlers accept a tree node (inline actions), a plain
 * argument (tests, other extensions) or nothing (palette: a QuickPick asks). A failure becomes
 * an error notification plus a log line, never an unhandled rejection.
 */
export class Commands extends Disposable {
  constructor(private readonly deps: CommandDeps) {
    super();
    const { manager, channel } = deps;
    const table: Record<CommandId, (arg?: unknown) => unknown> = {
      'gatehouse.restartGateway': (arg) => this.restartGateway(arg),
      'gatehouse.respawnServer': async (arg) => {
        const target = await resolveServer(manager, arg, 'Respawn which server?');
        if (target) await respawnServer(target);
        return target?.server;
      },
      'gatehouse.resetCircuit': async (arg) => {
        const target = await resolveServer(manager, arg, 'Reset the circuit of which server?');
        if (target) resetCircuit(target);
        return target?.server;
      },
      'gatehouse.showServerOutput': async (arg) => {
        const target = await resolveServer(manager, arg, 'Show the output of which server?');
        if (target) showServerOutput(target);
        return target?.server;
      },
      'gatehouse.showGatewayOutput': () => channel.show(true),
      'gatehouse.enableServer': async (arg) => {
        const target = await resolveServer(manager, arg, 'Enable which server?');
        if (target) await setEnabled(target, true);
        return target?.server;
      },
      'gatehouse.disableServer': async (arg) => {
        const target = await resolveServer(manager, arg, 'Disable which server? (sets enabled: false in registry.yaml)');
        if (target) await setEnabled(target, false);
        return target?.server;
      },
      'gatehouse.freeze': (arg) => freeze(manager, arg),
      'gatehouse.unfreeze': (arg) => unfreeze(manager, arg),
      'gatehouse.verifyAudit': (arg) => verifyAudit(manager, arg),
      'gatehouse.acceptFingerprint': (arg) => acceptFingerprint(manager, arg),
      'gatehouse.showStatus': () => showStatus(manager),
      'gatehouse.copyClientConfig': (arg) =>
        copyClientConfig(manager, deps.extensionPath, typeof arg === 'object' && arg !== null && !('kind' in arg) ? (arg as CopyClientConfigArgs) : {}, deps.bridgeLauncher),
      'gatehouse.importServers': (arg) => importServers(manager, deps.previews, arg),
      'gatehouse.createConfig': (arg) => createConfig(manager, arg),
      'gatehouse.openRegistry': (arg) => this.openRegistry(arg),
      'gatehouse.signIn': (arg) => signInServer(manager, deps.accounts, arg),
      'gatehouse.signOut': (arg) => signOutServer(manager, arg),
      'gatehouse.openWalkthrough': () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
    };
    for (const [id, handler] of Object.entries(table)) {
      this.register(
        vscode.commands.registerCommand(id, async (arg?: unknown) => {
          try {
            return await handler(arg);
          } catch (err) {
            const text = err instanceof Error ? err.message : String(err);
            channel.error(`${id} failed: ${text}`);
            void vscode.window.showErrorMessage(`Gatehouse: ${text}`);
            return undefined;
          }
        }),
      );
    }
  }

  /** Restart (or start, when auto-start is off) the gateway of a folder. */
  private async restartGateway(arg: unknown): Promise<void> {
    const { manager } = this.deps;
    if (!vscode.workspace.isTrusted || manager.viewMode === 'noConfig' || manager.viewMode === 'noFolder') {
      await notAvailable(manager);
      return;
    }
    // Existing gateways are picked among themselves; with none yet (auto-start off), any folder.
    const folder =
      manager.gateways().length > 0
        ? (await pickGateway(manager, arg, 'Restart which gateway?'))?.folder
        : await pickFolder(arg, 'Start the gateway of which folder?');
    if (!folder) return;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Gatehouse: restarting the gateway' },
      () => manager.startOrRestart(folder),
    );
  }

  private async openRegistry(arg: unknown): Promise<void> {
    const gateway = await pickGateway(this.deps.manager, arg, 'Open the registry of which folder?');
    if (!gateway) {
      await vscode.commands.executeCommand('gatehouse.createConfig');
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.joinPath(vscode.Uri.file(gateway.configDir), 'registry.yaml'));
  }
}
