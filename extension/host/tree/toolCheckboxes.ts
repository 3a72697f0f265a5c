import * as vscode from 'vscode';
import { REGISTRY_FILE } from '../../config/loadConfig';
import { minimalReplacement, setToolExcluded } from '../../config/toolExclude';
import type { FolderGateway } from '../folderGateway';
import type { TreeNode } from './treeNode';

type ToolNode = Extract<TreeNode, { kind: 'tool' }>;

/**
 * Applies tree checkbox changes to registry.yaml: an unchecked tool is added to its server's
 * `tools.exclude`, a checked one removed from it. All changes of one gateway become ONE
 * WorkspaceEdit (one undo step) covering only the changed text, then the file is saved so the
 * gateway reloads (a listing filter: no server restarts).
 */
export async function applyToolCheckboxes(changes: ReadonlyArray<readonly [TreeNode, vscode.TreeItemCheckboxState]>): Promise<void> {
  const byGateway = new Map<FolderGateway, Array<{ node: ToolNode; shown: boolean }>>();
  for (const [node, state] of changes) {
    if (node.kind !== 'tool') continue;
    const list = byGateway.get(node.gateway) ?? [];
    list.push({ node, shown: state === vscode.TreeItemCheckboxState.Checked });
    byGateway.set(node.gateway, list);
  }
  for (const [gateway, list] of byGateway) await applyToGateway(gateway, list);
}

async function applyToGateway(gateway: FolderGateway, list: Array<{ node: ToolNode; shown: boolean }>): Promise<void> {
  const uri = vscode.Uri.joinPath(vscode.Uri.file(gateway.configDir), REGISTRY_FILE);
  const document = await vscode.workspace.openTextDocument(uri);
  if (document.isDirty) {
    void vscode.window.showWarningMessage('Gatehouse: save registry.yaml first; it has unsaved changes.');
    return;
  }
  const before = document.getText();
  let text = before;
  for (const { node, shown } of list) {
    const result = setToolExcluded(text, node.server, node.tool, !shown);
    if ('error' in result) {
      void vscode.window.showErrorMessage(`Gatehouse: could not change ${node.server}__${node.tool}: ${result.error}`);
      return;
    }
    text = result.text;
  }
  if (text !== before) {
    const change = minimalReplacement(before, text);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(document.positionAt(change.start), document.positionAt(change.end)), change.text);
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`could not edit ${uri.fsPath}`);
    await document.save();
  }
  await gateway.reload();
  // Checking a tool only removes its exact name: a pattern may still hide it.
  const still = list.filter(({ node, shown }) => shown && gateway.snapshot?.downstreams.find((d) => d.name === node.server)?.tools_hidden?.includes(node.tool));
  if (still.length) {
    const names = still.map(({ node }) => `${node.server}__${node.tool}`).join(', ');
    void vscode.window.showInformationMessage(`Gatehouse: ${names} is still hidden by a pattern in tools.include/exclude of registry.yaml; edit the pattern to show it.`);
  }
}
