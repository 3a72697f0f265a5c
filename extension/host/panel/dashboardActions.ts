import type { ActionRequest } from '../../protocol/webview';
import type { DashboardModel } from './dashboardModel';
import type { DashboardSource } from './dashboardSource';

/** The questions an action may ask the user (native UI on the host: a webview cannot prompt). */
export interface ActionPrompts {
  /** Resolves true when the user confirms disabling `server`. */
  confirmDisable(server: string): PromiseLike<boolean>;
  /** Resolves the freeze reason, or undefined when the user cancelled. */
  freezeReason(): PromiseLike<string | undefined>;
}

/** The gateway an action acts on: one folder's model (its live source, and the servers it lists). */
export type ActionTarget = Pick<DashboardModel, 'current' | 'entry'>;

/**
 * Carries out one action request from the webview against one folder's gateway: the one shown
 * when it was clicked (the panel resolves it on receipt; see DashboardSelection.target). The
 * request is untrusted: the server must be one that gateway lists. Resolves with a line for the
 * user; rejects with the reason it failed.
 */
export async function runDashboardAction(request: ActionRequest, model: ActionTarget, prompts: ActionPrompts): Promise<string | void> {
  const source = model.current;
  if (!source) throw new Error('No gateway is running.');
  const server = (name: string): string => {
    if (!model.entry(name)) throw new Error(`No server '${name}' in this gateway.`);
    return name;
  };
  switch (request.type) {
    case 'server/respawn':
      await source.respawn(server(request.server));
      return `Respawning ${request.server}.`;
    case 'circuit/reset':
      await source.resetCircuit(server(request.server));
      return `Circuit of ${request.server} reset.`;
    case 'server/showOutput':
      source.showOutput(server(request.server));
      return;
    case 'server/setEnabled':
      return setEnabled(source, server(request.server), request.enabled, prompts);
    case 'gateway/freeze': {
      const reason = await prompts.freezeReason();
      if (reason === undefined || !reason.trim()) return 'Cancelled.';
      await source.freeze(reason.trim());
      return 'Frozen: tool calls are denied.';
    }
    case 'gateway/unfreeze':
      await source.unfreeze();
      return 'Unfrozen: tool calls are allowed again.';
    default:
      return assertNever(request);
  }
}

async function setEnabled(source: DashboardSource, name: string, enabled: boolean, prompts: ActionPrompts): Promise<string> {
  if (!enabled && !(await prompts.confirmDisable(name))) return 'Cancelled.';
  await source.setEnabled(name, enabled);
  return enabled ? `${name} enabled.` : `${name} disabled.`;
}

function assertNever(value: never): never {
  throw new Error(`unexpected action: ${JSON.stringify(value)}`);
}
