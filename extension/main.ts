/**
 * Composition root of the extension (DESIGN.md §2): creates each top-level object, registers
 * it where it is created, and returns at once. Gateways start in the background (activation
 * never waits for a child process); deactivate() stops them within VS Code's 5 s budget.
 */
import * as vscode from 'vscode';
import { setListenerErrorHandler } from './common/event';
import { Commands } from './host/commands';
import { GatewayManager } from './host/gatewayManager';
import { GatewayMcpProvider } from './host/gatewayMcpProvider';
import { HealthStatusBar } from './host/healthStatusBar';
import { PreviewDocuments } from './host/previewDocuments';
import { SessionBlockerNotifier } from './host/sessionBlockerNotifier';
import { DownstreamTree } from './host/tree/downstreamTree';
import type { GatewaySnapshot } from './protocol/model';

/** One gateway as the API shows it. */
export interface GatewayFacts {
  folder: string;
  state: string;
  url: string | undefined;
  snapshot: GatewaySnapshot | undefined;
  /** Problems of the last config load; `usingLastGood` when a broken edit left the old config running. */
  configProblems: number;
  usingLastGood: boolean;
  halted: boolean;
}

/** What activate() returns: read-only facts for tests and other extensions (never the token). */
export interface GatehouseApi {
  readonly onDidChange: vscode.Event<void>;
  gateways(): GatewayFacts[];
}

/** Deactivation must finish inside VS Code's 5 s; children escalate to SIGKILL well before. */
const DEACTIVATE_BUDGET_MS = 4500;

let manager: GatewayManager | undefined;

export function activate(context: vscode.ExtensionContext): GatehouseApi {
  const version = String((context.extension.packageJSON as { version?: unknown }).version ?? '0.0.0');
  const channel = vscode.window.createOutputChannel('Gatehouse', { log: true });
  context.subscriptions.push(channel);
  // One bad listener must never take the extension host down; it is logged instead.
  setListenerErrorHandler((err) => channel.error(`listener failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));

  const gateways = new GatewayManager({ version, channel });
  manager = gateways;
  context.subscriptions.push(gateways);
  const previews = new PreviewDocuments();
  context.subscriptions.push(previews);
  context.subscriptions.push(new DownstreamTree(gateways));
  context.subscriptions.push(new HealthStatusBar(gateways));
  context.subscriptions.push(new GatewayMcpProvider(gateways, version));
  context.subscriptions.push(new SessionBlockerNotifier(gateways, context.workspaceState));
  context.subscriptions.push(new Commands({ manager: gateways, channel, previews, extensionPath: context.extensionPath }));

  channel.info(`Gatehouse ${version} activated (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'in Restricted Mode: nothing is started'})`);
  void gateways.refresh();

  const changed = new vscode.EventEmitter<void>();
  context.subscriptions.push(changed, gateways.onDidChange(() => changed.fire()));
  return {
    onDidChange: changed.event,
    gateways: () =>
      gateways.gateways().map((g) => ({
        folder: g.folder.uri.fsPath,
        state: g.state,
        url: g.endpoint?.url,
        snapshot: g.snapshot,
        configProblems: g.configStatus?.problems.length ?? 0,
        usingLastGood: g.configStatus?.usingLastGood ?? false,
        halted: g.halt.decision !== 'absent',
      })),
  };
}

export async function deactivate(): Promise<void> {
  const current = manager;
  manager = undefined;
  if (!current) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    current.stopAll(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DEACTIVATE_BUDGET_MS);
    }),
  ]);
  clearTimeout(timer);
}
