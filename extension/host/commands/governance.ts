import * as vscode from 'vscode';
import type { GatewayService } from '../../gateway/gatewayService';
import type { FolderGateway } from '../folderGateway';
import type { GatewayManager } from '../gatewayManager';
import { notAvailable, resolveServer } from '../serverActions';
import { pickGateway } from './pickFolder';

/**
 * Governance operations the core adds to GatewayService (freeze/unfreeze HALT, audit
 * verification, accepting a fingerprint change). Feature-detected, so the commands exist (and
 * say so) before the core has them.
 */
interface GovernanceMethods {
  freeze?(reason: string): Promise<unknown>;
  unfreeze?(): Promise<unknown>;
  verifyAudit?(): Promise<unknown>;
  acceptFingerprint?(name: string): Promise<unknown>;
}

function methods(service: GatewayService | undefined): GovernanceMethods {
  return (service ?? {}) as GovernanceMethods;
}

function notYet(what: string): void {
  void vscode.window.showInformationMessage(`Gatehouse: ${what} is not available yet in this build.`);
}

async function gatewayFor(manager: GatewayManager, arg: unknown, verb: string): Promise<FolderGateway | undefined> {
  const gateway = await pickGateway(manager, arg, `${verb} which gateway?`);
  if (!gateway?.service) {
    await notAvailable(manager);
    return undefined;
  }
  return gateway;
}

/** Freeze (HALT): every tool call is refused until Unfreeze. Asks for a reason (audited). */
export async function freeze(manager: GatewayManager, arg?: unknown): Promise<unknown> {
  const gateway = await gatewayFor(manager, arg, 'Freeze');
  if (!gateway) return undefined;
  const m = methods(gateway.service);
  if (typeof m.freeze !== 'function') return notYet('Freeze (HALT)');
  const reason = await vscode.window.showInputBox({
    title: 'Gatehouse: Freeze (HALT)',
    prompt: 'Every tool call is refused until you unfreeze. The reason is written to HALT and the audit log.',
    placeHolder: 'e.g. investigating unexpected writes',
    validateInput: (v) => (v.trim() ? undefined : 'A reason is required'),
  });
  if (!reason) return undefined;
  const result = await m.freeze.call(gateway.service, reason.trim());
  await gateway.refreshHalt();
  void vscode.window.showWarningMessage(`Gatehouse: HALT is on for ${gateway.name}. Every tool call is refused until you unfreeze.`);
  return result;
}

export async function unfreeze(manager: GatewayManager, arg?: unknown): Promise<unknown> {
  const gateway = await gatewayFor(manager, arg, 'Unfreeze');
  if (!gateway) return undefined;
  const m = methods(gateway.service);
  if (typeof m.unfreeze !== 'function') return notYet('Unfreeze');
  const result = await m.unfreeze.call(gateway.service);
  await gateway.refreshHalt();
  void vscode.window.showInformationMessage(`Gatehouse: HALT is off for ${gateway.name}; tool calls flow again.`);
  return result;
}

/** Walks the audit hash chain and reports the first broken link, if any. */
export async function verifyAudit(manager: GatewayManager, arg?: unknown): Promise<unknown> {
  const gateway = await gatewayFor(manager, arg, 'Verify the audit log of');
  if (!gateway) return undefined;
  const m = methods(gateway.service);
  if (typeof m.verifyAudit !== 'function') return notYet('Verify Audit Log');
  const verify = m.verifyAudit;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Gatehouse: verifying the audit log…' },
    () => verify.call(gateway.service),
  );
  // The core's VerifyResult; read defensively, the shape belongs to another module.
  const r = (result ?? {}) as { ok?: boolean; records?: number; files?: string[]; breakCount?: number; firstBreak?: { file: string; line: number; message: string } };
  const counted = `${r.records ?? 0} records in ${r.files?.length ?? 0} ${r.files?.length === 1 ? 'file' : 'files'}`;
  if (r.ok === false) {
    const b = r.firstBreak;
    const where = b ? ` First break: ${b.file.split(/[\\/]/).pop()}:${b.line}: ${b.message}.` : '';
    const choice = await vscode.window.showErrorMessage(`Gatehouse: the audit log is broken (${r.breakCount ?? 1} breaks, ${counted}).${where}`, ...(b ? ['Open File'] : []));
    if (choice && b) await vscode.window.showTextDocument(vscode.Uri.file(b.file), { selection: new vscode.Range(b.line - 1, 0, b.line - 1, 0) });
  } else {
    void vscode.window.showInformationMessage(`Gatehouse: audit log verified, the hash chain is intact (${counted}).`);
  }
  return result;
}

/** Accepts a server's changed fingerprint (config drift), unblocking it. */
export async function acceptFingerprint(manager: GatewayManager, arg?: unknown): Promise<unknown> {
  const target = await resolveServer(manager, arg, 'Accept the changed fingerprint of which server?');
  if (!target) return undefined;
  const m = methods(target.gateway.service);
  if (typeof m.acceptFingerprint !== 'function') return notYet('Accept Fingerprint Change');
  const ok = await vscode.window.showWarningMessage(
    `Accept the new configuration of ${target.server}? Its command, arguments or environment changed since it was last trusted.`,
    { modal: true },
    'Accept',
  );
  if (ok !== 'Accept') return undefined;
  return m.acceptFingerprint.call(target.gateway.service, target.server);
}
