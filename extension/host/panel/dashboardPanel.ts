import * as vscode from 'vscode';
import { Disposable, DisposableStore, type IDisposable } from '../../common/disposable';
import { nullLogger, type Logger } from '../../common/logger';
import { FREEZE_REASON_MAX_BYTES } from '../../gateway/halt';
import { readPersistedGateway } from '../../protocol/webview';
import { runDashboardAction, type ActionPrompts } from './dashboardActions';
import { DashboardModels } from './dashboardModels';
import { DashboardSelection } from './dashboardSelection';
import { DashboardSession } from './dashboardSession';
import type { DashboardSources } from './dashboardSource';
import { gatewayArgument } from './gatewayArgument';
import { dashboardHtml } from './html';

/** The panel's view type: the serializer and the `onWebviewPanel:` activation event use it. */
export const DASHBOARD_VIEW_TYPE = 'gatehouse.dashboard';
/** Opens (or reveals) the dashboard. The status bar item and the tree header run it too. */
export const OPEN_DASHBOARD_COMMAND = 'gatehouse.openDashboard';

/** What every dashboard panel shares. */
export interface DashboardDeps {
  extensionUri: vscode.Uri;
  /** Every folder's gateway with its history; a panel picks one to show. */
  models: DashboardModels;
  logger: Logger;
}

/**
 * The one dashboard panel (a singleton: the command reveals it when it exists). Owns the VS Code
 * panel and feeds a {@link DashboardSession} with its messages and visibility; the session does
 * the protocol. Keeps no health data of its own: the webview's context is not retained when
 * hidden, and the model re-sends everything on ready.
 */
export class DashboardPanel extends Disposable {
  private static current: DashboardPanel | undefined;
  private isDisposed = false;
  private readonly selection: DashboardSelection;

  /**
   * Reveals the open dashboard, or opens one in the active column; on the gateway `gateway`
   * (an id) when given, else on the one it shows (a new panel: the first running one).
   */
  static createOrShow(deps: DashboardDeps, gateway?: string): DashboardPanel {
    const existing = DashboardPanel.current;
    if (existing) {
      if (gateway !== undefined) existing.selection.select(gateway);
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'Gatehouse Dashboard', vscode.ViewColumn.Active, webviewOptions(deps.extensionUri));
    return new DashboardPanel(panel, deps, gateway);
  }

  /**
   * Adopts a panel VS Code restored after a window reload (the serializer). `state` is what the
   * webview last stored with setState: it names the gateway the panel showed.
   */
  static revive(panel: vscode.WebviewPanel, deps: DashboardDeps, state?: unknown): DashboardPanel {
    // Options are not persisted with the panel: set them again before the content loads.
    panel.webview.options = webviewOptions(deps.extensionUri);
    DashboardPanel.current?.dispose();
    return new DashboardPanel(panel, deps, readPersistedGateway(state));
  }

  /** The open dashboard, if any (tests and the host's "is it open" checks). */
  static get instance(): DashboardPanel | undefined {
    return DashboardPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    deps: DashboardDeps,
    gateway: string | undefined,
  ) {
    super();
    DashboardPanel.current = this;
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'gatehouse.svg');
    // Per panel: which gateway it shows is this panel's choice (see DashboardSelection).
    this.selection = this.register(new DashboardSelection(deps.models, gateway));
    const session = this.register(
      new DashboardSession({
        feed: this.selection,
        post: (message) => panel.webview.postMessage(message),
        runAction: (request, target) => runDashboardAction(request, target, prompts),
        visible: panel.visible,
        logger: deps.logger,
      }),
    );
    // Listen before the content loads, so the webview's `webview/ready` cannot be missed.
    this.register(panel.webview.onDidReceiveMessage((message: unknown) => session.receive(message)));
    this.register(panel.onDidChangeViewState((e) => session.setVisible(e.webviewPanel.visible)));
    this.register(panel.onDidDispose(() => this.dispose()));
    panel.webview.html = dashboardHtml(panel.webview, deps.extensionUri);
  }

  /** Brings the panel to the front. */
  reveal(): void {
    this.panel.reveal();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    super.dispose();
    this.panel.dispose();
  }
}

/** Scripts on; resources only from dist/ (the bundle) and media/ (the stylesheet). */
function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    // Not retained when hidden (memory): the webview asks for a fresh snapshot when shown again.
    retainContextWhenHidden: false,
  };
}

export interface RegisterDashboardOptions {
  /** Where dropped messages and failed actions are logged (a LogOutputChannel fits). */
  logger?: Logger;
}

/**
 * Registers `gatehouse.openDashboard` and the panel serializer, and starts the models that keep
 * the session's history of every folder's gateway in `sources`. The command takes an optional
 * argument naming the gateway to show (see {@link gatewayArgument}). Push the result into
 * `context.subscriptions`.
 */
export function registerDashboard(
  context: Pick<vscode.ExtensionContext, 'extensionUri'>,
  sources: DashboardSources,
  options: RegisterDashboardOptions = {},
): IDisposable {
  const logger = options.logger ?? nullLogger;
  const store = new DisposableStore();
  const models = store.add(new DashboardModels(sources, { logger }));
  const deps: DashboardDeps = { extensionUri: context.extensionUri, models, logger };
  store.add(
    vscode.commands.registerCommand(OPEN_DASHBOARD_COMMAND, (arg?: unknown) => {
      const gateway = gatewayArgument(arg, models.gateways());
      if (gateway === null) {
        // Still opens: the user asked for the dashboard, only the folder is off.
        void vscode.window.showWarningMessage(`Gatehouse: no gateway for ${typeof arg === 'string' ? `"${arg}"` : 'that folder'}; the dashboard shows another one.`);
      }
      DashboardPanel.createOrShow(deps, gateway ?? undefined);
    }),
  );
  store.add(
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        DashboardPanel.revive(panel, deps, state);
      },
    }),
  );
  return {
    dispose: () => {
      // The panel goes before the model it reads from.
      DashboardPanel.instance?.dispose();
      store.dispose();
    },
  };
}

/** The native questions the dashboard's actions ask. */
const prompts: ActionPrompts = {
  confirmDisable: async (server) =>
    (await vscode.window.showWarningMessage(
      `Disable ${server}? Gatehouse stops it and writes "enabled: false" for it in registry.yaml.`,
      { modal: true },
      'Disable',
    )) === 'Disable',
  freezeReason: () =>
    vscode.window.showInputBox({
      title: 'Gatehouse: Freeze (HALT)',
      prompt: 'Every proxied tool call is denied until you unfreeze. Why freeze?',
      value: 'frozen from the dashboard',
      validateInput: (text) =>
        !text.trim() ? 'Give a reason.' : Buffer.byteLength(text, 'utf8') > FREEZE_REASON_MAX_BYTES ? `At most ${FREEZE_REASON_MAX_BYTES} bytes.` : undefined,
    }),
};
