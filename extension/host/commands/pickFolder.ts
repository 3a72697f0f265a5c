import * as vscode from 'vscode';
import type { FolderGateway } from '../folderGateway';
import type { GatewayManager } from '../gatewayManager';
import { isTreeNode } from '../tree/treeNode';

/** The workspace folder a command is about: from a tree node, the only folder, or a pick. */
export async function pickFolder(arg: unknown, placeHolder: string): Promise<vscode.WorkspaceFolder | undefined> {
  if (isTreeNode(arg)) return arg.gateway.folder;
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (typeof arg === 'string') return folders.find((f) => f.name === arg || f.uri.fsPath === arg);
  if (folders.length <= 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder });
}

/** A gateway a command is about: from a tree node, the only gateway, or a pick among gateways. */
export async function pickGateway(manager: GatewayManager, arg: unknown, placeHolder: string): Promise<FolderGateway | undefined> {
  if (isTreeNode(arg)) return arg.gateway;
  const gateways = manager.gateways();
  if (typeof arg === 'string') return gateways.find((g) => g.name === arg || g.folder.uri.fsPath === arg);
  if (gateways.length <= 1) return gateways[0];
  const picked = await vscode.window.showQuickPick(
    gateways.map((g) => ({ label: g.name, description: g.configDir, gateway: g })),
    { placeHolder },
  );
  return picked?.gateway;
}
