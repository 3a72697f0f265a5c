import * as vscode from 'vscode';
import { Disposable, toDisposable } from '../common/disposable';
import { hasErrors } from '../config/problem';
import type { FolderGateway } from './folderGateway';
import type { GatewayManager } from './gatewayManager';
import { summarizeHealth, type GatewayFacts } from './healthSummary';
import { stateLabel } from './stateStyle';
import { statusBarLabel } from './tree/accessibleLabels';
import { cell } from './tree/markdown';

/** What a click on the item runs: the webview dashboard. */
export const STATUS_BAR_COMMAND = 'gatehouse.openDashboard';
const REFRESH_MS = 100;

/** Facts of one FolderGateway for the pure summary. */
export function factsOf(g: FolderGateway): GatewayFacts {
  return {
    name: g.name,
    state: g.state,
    snapshot: g.snapshot,
    configBroken: g.configStatus ? hasErrors(g.configStatus.problems) : false,
    halted: g.halt.decision !== 'absent',
    error: g.error,
  };
}

/**
 * One status-bar item summarising every gateway: `$(shield) 5/6` (servers up / servers
 * enabled), a warning background when a server is degraded, backing off or its circuit is not
 * closed, an error background when a session blocker fired, a server gave up, HALT is on, the
 * config is broken or a gateway failed to start. Hidden when there is no gateway to speak of.
 */
export class HealthStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly manager: GatewayManager) {
    super();
    this.item = this.register(vscode.window.createStatusBarItem('gatehouse.status', vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'Gatehouse';
    this.item.command = STATUS_BAR_COMMAND;
    this.register(manager.onDidChange(() => this.schedule()));
    this.register(toDisposable(() => clearTimeout(this.timer)));
    this.render();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, REFRESH_MS);
  }

  private render(): void {
    const mode = this.manager.viewMode;
    const item = this.item;
    if (mode === 'untrusted') {
      item.text = '$(shield) Restricted';
      item.backgroundColor = undefined;
      item.tooltip = new vscode.MarkdownString(
        'Gatehouse is off in Restricted Mode: no MCP server of this workspace is started.\n\n[Manage Workspace Trust](command:workbench.trust.manage)',
        true,
      );
      (item.tooltip as vscode.MarkdownString).isTrusted = { enabledCommands: ['workbench.trust.manage'] };
      item.accessibilityInformation = { label: 'Gatehouse: off in Restricted Mode' };
      item.show();
      return;
    }
    const gateways = this.manager.gateways();
    if (mode !== 'gateways' || gateways.length === 0) {
      item.hide();
      return;
    }
    const facts = gateways.map(factsOf);
    const s = summarizeHealth(facts);
    const halted = facts.some((f) => f.halted);
    const icon = halted ? '$(debug-pause)' : s.starting && s.total === 0 ? '$(loading~spin)' : '$(shield)';
    // A call waiting for approval is the one thing here the user must act on: shown in the text, not only the tooltip.
    item.text = `${icon} ${halted ? 'HALT ' : ''}${s.up}/${s.total}${s.approvalsWaiting ? ` $(bell-dot) ${s.approvalsWaiting} waiting` : ''}`;
    item.backgroundColor =
      s.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : s.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    item.accessibilityInformation = { label: statusBarLabel({ up: s.up, total: s.total, problems: s.problems }) };
    item.tooltip = this.tooltip(gateways, s.problems);
    item.show();
  }

  private tooltip(gateways: FolderGateway[], problems: string[]): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown('**Gatehouse**\n\n');
    for (const p of problems.slice(0, 6)) md.appendMarkdown(`$(warning) ${cell(p)}\n\n`);
    const multi = gateways.length > 1;
    md.appendMarkdown(`| ${multi ? 'Folder | ' : ''}Server | State | Tools | Circuit |\n|${multi ? '---|' : ''}---|---|---|---|\n`);
    for (const g of gateways) {
      for (const d of g.snapshot?.downstreams ?? []) {
        md.appendMarkdown(
          `| ${multi ? `${cell(g.name)} | ` : ''}${cell(d.name)} | ${cell(stateLabel(d.state))} | ${cell(d.tools_count)} | ${cell(d.circuit_state)} |\n`,
        );
      }
    }
    const endpoints = gateways.map((g) => g.endpoint?.url).filter((u): u is string => !!u);
    if (endpoints.length) md.appendMarkdown(`\nEndpoint: ${endpoints.map((u) => `\`${u}\``).join(', ')}\n`);
    md.appendMarkdown('\n[Open dashboard](command:gatehouse.openDashboard) · [Show tree](command:workbench.view.extension.gatehouse) · [Show status](command:gatehouse.showStatus)');
    md.isTrusted = { enabledCommands: ['workbench.view.extension.gatehouse', 'gatehouse.showStatus'] };
    return md;
  }
}
