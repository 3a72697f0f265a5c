import * as vscode from 'vscode';
import type { GatewayService } from '../../gateway/gatewayService';
import type { VerifyResult } from '../../gateway/audit/verifyAudit';
import type { FreezeResult, UnfreezeResult } from '../../gateway/halt';
import type { FolderGateway } from '../folderGateway';
import type { GatewayManager } from '../gatewayManager';
import { notAvailable, resolveServer } from '../serverActions';
import { pickGateway } from './pickFolder';

async function gatewayFor(manager: GatewayManager, arg: unknown, verb: string): Promise<(FolderGateway & { service: GatewayService }) | undefined> {
  const gateway = await pickGateway(manager, arg, `${verb} which gateway?`);
  if (!gateway?.service) {
    await notAvailable(manager);
    return undefined;
  }
  return gateway as FolderGateway & { service: GatewayService };
}

/**
 * What Freeze accepts besides a tree node or a folder name: `{ folder?, reason? }`, so a
 * keybinding (`"args"`) or a task can freeze in one step. Freezing only ever takes power away,
 * so skipping the prompt needs no confirmation; Unfreeze and Accept keep theirs.
 */
interface FreezeArgs {
  folder?: string;
  reason?: string;
}

function isFreezeArgs(arg: unknown): arg is FreezeArgs {
  if (typeof arg !== 'object' || arg === null) return false;
  const { folder, reason } = arg as Record<string, unknown>;
  return (folder === undefined || typeof folder === 'string') && (reason === undefined || typeof reason === 'string') && (folder !== undefined || reason !== undefined);
}

/** Freeze (HALT): every tool call is refused until Unfreeze. Asks for a reason (audited). */
export async function freeze(manager: GatewayManager, arg?: unknown): Promise<FreezeResult | undefined> {
  const given = isFreezeArgs(arg) ? arg : undefined;
  const gateway = await gatewayFor(manager, given ? given.folder : arg, 'Freeze');
  if (!gateway) return undefined;
  const reason =
    given?.reason ??
    (await vscode.window.showInputBox({
      title: 'Gatehouse: Freeze (HALT)',
      prompt: 'Every tool call is refused until you unfreeze. The reason is written to HALT and the audit log.',
      placeHolder: 'e.g. investigating unexpected writes',
      validateInput: (v) => (v.trim() ? undefined : 'A reason is required'),
    }));
  if (!reason?.trim()) return undefined;
  const result = await gateway.service.freeze(reason.trim());
  await gateway.refreshHalt();
  void vscode.window.showWarningMessage(`Gatehouse: HALT is on for ${gateway.name}. Every tool call is refused until you unfreeze.`);
  return result;
}

export async function unfreeze(manager: GatewayManager, arg?: unknown): Promise<UnfreezeResult | undefined> {
  const gateway = await gatewayFor(manager, arg, 'Unfreeze');
  if (!gateway) return undefined;
  const result = await gateway.service.unfreeze();
  await gateway.refreshHalt();
  void vscode.window.showInformationMessage(`Gatehouse: HALT is off for ${gateway.name}; tool calls flow again.`);
  return result;
}

/** Walks the audit hash chain and reports the first broken link, if any. */
export async function verifyAudit(manager: GatewayManager, arg?: unknown): Promise<VerifyResult | undefined> {
  const gateway = await gatewayFor(manager, arg, 'Verify the audit log of');
  if (!gateway) return undefined;
  const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Gatehouse: verifying the audit log…' }, () =>
    gateway.service.verifyAudit(),
  );
  const counted = `${r.records} records in ${r.files.length} ${r.files.length === 1 ? 'file' : 'files'}`;
  if (!r.ok) {
    const b = r.firstBreak;
    const where = b ? ` First break: ${b.file.split(/[\\/]/).pop()}:${b.line}: ${b.message}.` : '';
    // Records removed at the end leave a valid chain: the anchor (or the writer's record of it) tells.
    const cut = r.tailCuts[0] ? ` ${r.tailCuts[0].message}.` : '';
    const what = r.breakCount > 0 ? `broken (${r.breakCount} ${r.breakCount === 1 ? 'break' : 'breaks'}, ${counted})` : `cut short (${counted})`;
    const choice = await vscode.window.showErrorMessage(`Gatehouse: the audit log is ${what}.${where}${cut}`, ...(b ? ['Open File'] : []));
    if (choice && b) await vscode.window.showTextDocument(vscode.Uri.file(b.file), { selection: new vscode.Range(b.line - 1, 0, b.line - 1, 0) });
  } else {
    void vscode.window.showInformationMessage(`Gatehouse: audit log verified, the hash chain is intact (${counted}).`);
  }
  return r;
}

/** Accepts a server's changed fingerprint (config drift), unblocking it. */
export async function acceptFingerprint(manager: GatewayManager, arg?: unknown): Promise<string | undefined> {
  const target = await resolveServer(manager, arg, 'Accept the changed fingerprint of which server?');
  if (!target) return undefined;
  const service = target.gateway.service;
  if (!service) {
    await notAvailable(manager);
    return undefined;
  }
  const ok = await vscode.window.showWarningMessage(
    `Accept the new configuration of ${target.server}? Its command, arguments or environment changed since it was last trusted.`,
    { modal: true },
    'Accept',
  );
  if (ok !== 'Accept') return undefined;
  await service.acceptFingerprint(target.server);
  return target.server;
}
