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
import { McpFirstRunHint } from './host/mcpFirstRunHint';
import { HealthStatusBar } from './host/healthStatusBar';
import { ConfigLanguageClient } from './host/lspClient';
import { registerDashboard } from './host/panel/dashboardPanel';
import { ManagerSources } from './host/panel/managerSources';
import { safeLog } from './host/output';
import { PreviewDocuments } from './host/previewDocuments';
import { SessionBlockerNotifier } from './host/sessionBlockerNotifier';
import { readSettings } from './host/settings';
import { registerTelemetryHeadersCommand } from './host/telemetrySettings';
import { DownstreamTree } from './host/tree/downstreamTree';
import { installLauncher } from './platform/bridgeLauncher';
import { toDidChangeStateParams } from './protocol/lsp';
import type { GatewaySnapshot } from './protocol/model';
import { SecretTokenStore } from './host/secretTokenStore';
import { SignInNotifier } from './host/signInNotifier';
import { VscodeAccounts } from './host/vscodeAccounts';

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
let languageClient: ConfigLanguageClient | undefined;
let log: vscode.LogOutputChannel | undefined;

export function activate(context: vscode.ExtensionContext): GatehouseApi {
  const version = String((context.extension.packageJSON as { version?: unknown }).version ?? '0.0.0');
  const channel = vscode.window.createOutputChannel('Gatehouse', { log: true });
  log = channel;
  context.subscriptions.push(channel);
  // One bad listener must never take the extension host down; it is logged instead.
  setListenerErrorHandler((err) => safeLog(() => channel.error(`listener failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)));

  // Sign-ins live in SecretStorage, never in a file; VS Code accounts come from vscode.authentication.
  const tokenStore = new SecretTokenStore(context.secrets);
  const accounts = new VscodeAccounts();
  context.subscriptions.push(tokenStore, accounts);
  const gateways = new GatewayManager({ version, channel, secrets: context.secrets, tokenStore, accounts });
  context.subscriptions.push(registerTelemetryHeadersCommand(context.secrets));
  manager = gateways;
  context.subscriptions.push(gateways);
  const previews = new PreviewDocuments();
  context.subscriptions.push(previews);
  context.subscriptions.push(new DownstreamTree(gateways));
  context.subscriptions.push(new HealthStatusBar(gateways));
  const firstRunHint = new McpFirstRunHint({
    memento: context.globalState,
    notificationsOff: () => readSettings().notifications === 'off',
    showInformation: (message, ...items) => vscode.window.showInformationMessage(message, ...items),
    executeCommand: (command) => vscode.commands.executeCommand(command),
  });
  context.subscriptions.push(new GatewayMcpProvider(gateways, version, firstRunHint));
  context.subscriptions.push(new SessionBlockerNotifier(gateways, context.workspaceState));
  context.subscriptions.push(new SignInNotifier(gateways));
  // Client configurations name a launcher in global storage, which survives updates (this version's dist/ does not).
  const bridgeLauncher = installLauncher(context.globalStorageUri.fsPath, { id: context.extension.id, version, cli: context.asAbsolutePath('dist/cli.js') });
  bridgeLauncher.catch((err: unknown) => channel.warn(`could not write the client launcher: ${err instanceof Error ? err.message : String(err)}`));
  context.subscriptions.push(new Commands({ manager: gateways, channel, previews, extensionPath: context.extensionPath, bridgeLauncher, accounts }));
  context.subscriptions.push(registerDashboard(context, new ManagerSources(gateways), { logger: channel }));

  // The config language server only reads files (it spawns nothing), so it runs in Restricted
  // Mode too; the live state for its code lenses follows every gateway change.
  const lsp = new ConfigLanguageClient({ serverModule: context.asAbsolutePath('dist/lspServer.js') });
  languageClient = lsp;
  context.subscriptions.push(
    lsp,
    gateways.onDidChange(() =>
      lsp.setGateways(gateways.gateways().map((g) => toDidChangeStateParams(g.snapshot, { configDir: g.configDir, folder: g.name }))),
    ),
  );
  void lsp.start().catch((err: unknown) => channel.error(`config language server did not start: ${String(err)}`));

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
  const lsp = languageClient;
  languageClient = undefined;
  void lsp?.stop().catch(() => undefined);
  if (!current) return;
  const t0 = Date.now();
  // By now VS Code may have closed the channels: logging must not throw out of deactivate.
  safeLog(() => log?.info('deactivate: stopping every gateway'));
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    current.stopAll().then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), DEACTIVATE_BUDGET_MS);
    }),
  ]);
  clearTimeout(timer);
  safeLog(() => log?.info(stopped ? `deactivate: all gateways stopped in ${Date.now() - t0} ms` : `deactivate: gave up waiting after ${DEACTIVATE_BUDGET_MS} ms`));
}
