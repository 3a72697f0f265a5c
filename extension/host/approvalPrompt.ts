import * as vscode from 'vscode';
import type { ApprovalAnswer, Approver } from '../gateway/approvals/approvalBroker';

/** The buttons, in the order shown; the labels are what a user (and the e2e test) clicks. */
export const APPROVAL_CHOICES = { once: 'Allow once', session: 'Allow for this session', deny: 'Deny' } as const;

/**
 * The editor's approver: a warning notification naming the client, the server, the tool, its
 * tier and the (redacted, shortened) arguments, with Allow once / Allow for this session /
 * Deny. A notification rather than a modal: many calls may wait at once, and a modal would
 * stop the user's work for each. Closing it without a choice denies. VS Code cannot take a
 * notification back, so one whose approval was settled elsewhere (timeout, HALT, the client
 * left) stays until closed; its answer is then ignored.
 */
export function editorApprover(folderLabel: () => string | undefined): Approver {
  return async (request, signal) => {
    const where = folderLabel();
    const text =
      `Gatehouse${where ? ` (${where})` : ''}: ${request.client} wants to run ${request.full_name} ` +
      `(${request.tier} tier, server '${request.server}') with ${request.arguments}. ` +
      `Without an answer within ${request.timeout_s} s it is denied.`;
    const choice = await vscode.window.showWarningMessage(text, APPROVAL_CHOICES.once, APPROVAL_CHOICES.session, APPROVAL_CHOICES.deny);
    if (signal.aborted) return undefined;
    const answers: Record<string, ApprovalAnswer> = { [APPROVAL_CHOICES.once]: 'once', [APPROVAL_CHOICES.session]: 'session', [APPROVAL_CHOICES.deny]: 'deny' };
    return choice === undefined ? undefined : answers[choice];
  };
}
