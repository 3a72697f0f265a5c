import * as vscode from 'vscode';
import type { FolderGateway } from './folderGateway';
import type { GatewayManager } from './gatewayManager';
import { setServerEnabled } from './registryEdit';
import { isTreeNode, serverOf, type ServerTarget } from './tree/treeNode';

/**
 * The server a command is about: a tree node (inline action), a `{ gateway, server }` pair
 * (notification buttons), a server name (tests, keybindings, other extensions), or nothing (the
 * palette), in which case a QuickPick asks.
 */
export async function resolveServer(manager: GatewayManager, arg: unknown, placeHolder: string): Promise<ServerTarget | undefined> {
  if (isTreeNode(arg)) return serverOf(arg);
  if (isTarget(arg)) return arg;
  const gateways = manager.gateways().filter((g) => g.snapshot);
  if (typeof arg === 'string' && arg) {
    const [folder, server] = arg.includes(':') ? arg.split(':', 2) : [undefined, arg];
    for (const gateway of gateways) {
      if (folder && gateway.name !== folder) continue;
      if (gateway.snapshot?.downstreams.some((d) => d.name === server)) return { gateway, server: server ?? '' };
    }
    void vscode.window.showWarningMessage(`Gatehouse: no server named '${arg}'.`);
    return undefined;
  }
  type Item = vscode.QuickPickItem & { target?: ServerTarget };
  const items: Item[] = [];
  for (const gateway of gateways) {
    if (gateways.length > 1) items.push({ label: gateway.name, kind: vscode.QuickPickItemKind.Separator });
    for (const d of gateway.snapshot?.downstreams ?? []) {
      items.push({ label: d.name, description: `${d.state.replace('_', ' ')} · circuit ${d.circuit_state}`, detail: d.reason ?? undefined, target: { gateway, server: d.name } });
    }
  }
  if (!items.some((i) => i.target)) {
    void notAvailable(manager);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
  return picked?.target;
}

function isTarget(arg: unknown): arg is ServerTarget {
  return typeof arg === 'object' && arg !== null && typeof (arg as ServerTarget).server === 'string' && typeof (arg as ServerTarget).gateway === 'object';
}

/** Explains why there is nothing to act on (untrusted, no config, not started). */
export async function notAvailable(manager: GatewayManager): Promise<void> {
  switch (manager.viewMode) {
    case 'untrusted': {
      const choice = await vscode.window.showWarningMessage(
        'Gatehouse starts no MCP server in Restricted Mode.',
        'Manage Workspace Trust',
      );
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    case 'noConfig':
    case 'noFolder': {
      const choice = await vscode.window.showInformationMessage('This workspace has no Gatehouse config.', 'Create Config', 'Import Servers');
      if (choice === 'Create Config') await vscode.commands.executeCommand('gatehouse.createConfig');
      if (choice === 'Import Servers') await vscode.commands.executeCommand('gatehouse.importServers');
      return;
    }
    default:
      void vscode.window.showInformationMessage('Gatehouse: no server is running. Start the gateway with "Gatehouse: Restart Gateway".');
  }
}

/** Kills the server's child (if any), forgets its crash history and connects again. */
export async function respawnServer(target: ServerTarget): Promise<void> {
  const connection = target.gateway.service?.pool.connection(target.server);
  if (!connection) throw new Error(`${target.server} is not running in this gateway`);
  await vscode.window.withProgress(
    { location: { viewId: 'gatehouse.downstreams' }, title: `Respawning ${target.server}` },
    () => connection.respawn(),
  );
}

export function resetCircuit(target: ServerTarget): void {
  const connection = target.gateway.service?.pool.connection(target.server);
  if (!connection) throw new Error(`${target.server} is not running in this gateway`);
  connection.resetCircuit();
}

export function showServerOutput(target: ServerTarget): void {
  if (!target.gateway.showServerOutput(target.server)) {
    void vscode.window.showInformationMessage(`Gatehouse: ${target.server} has no output yet.`);
  }
}

/** Flips `enabled` in registry.yaml, then reloads at once (the file watcher would, a moment later). */
export async function setEnabled(target: ServerTarget, enabled: boolean): Promise<void> {
  const gateway: FolderGateway = target.gateway;
  const file = vscode.Uri.joinPath(vscode.Uri.file(gateway.configDir), 'registry.yaml');
  const dirty = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file.fsPath && d.isDirty);
  if (dirty) {
    void vscode.window.showWarningMessage('Gatehouse: save registry.yaml first; it has unsaved changes.');
    return;
  }
  if (!(await setServerEnabled(gateway.configDir, target.server, enabled))) {
    throw new Error(`${target.server} is not in ${file.fsPath}`);
  }
  await gateway.reload();
}
