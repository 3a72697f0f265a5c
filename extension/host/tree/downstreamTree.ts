import * as vscode from 'vscode';
import { Disposable, toDisposable } from '../../common/disposable';
import { Emitter } from '../../common/event';
import { hasErrors } from '../../config/problem';
import type { DownstreamView } from '../../protocol/model';
import type { FolderGateway } from '../folderGateway';
import type { GatewayManager } from '../gatewayManager';
import { serverSeverity } from '../healthSummary';
import { serverDescription, stateIcon, stateLabel } from '../stateStyle';
import { configProblemLabel, fieldRowLabel, gatewayRowLabel, serverRowLabel, sessionBlockLabel, sessionBlocksLabel, type GatewayRowFacts } from './accessibleLabels';
import { cell } from './markdown';
import { applyToolCheckboxes } from './toolCheckboxes';
import { toolLoad, toolLoadText, VSCODE_TOOL_LIMIT } from './toolLimit';
import type { TreeNode } from './treeNode';

export const TREE_VIEW_ID = 'gatehouse.downstreams';
/** Live state can change many times a second (a crash loop); the tree repaints at most this often. */
const REFRESH_MS = 100;

/**
 * The `gatehouse.downstreams` tree: a header per gateway (endpoint, policy, HALT, config), a
 * node per server with its state icon and `ready · 6 tools · closed` description, the fields
 * as children, config problems, and a "Session blocks" group. Empty (so the welcome views
 * show) when the workspace is untrusted, has no config, or the gateway is not started.
 */
export class DownstreamTree extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private readonly _onDidChangeTreeData = this.register(new Emitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  readonly view: vscode.TreeView<TreeNode>;
  private timer: NodeJS.Timeout | undefined;
  /** Gateways (by folder) already warned about passing VS Code's tool limit; re-armed below it. */
  private readonly warnedOverLimit = new Set<string>();

  constructor(private readonly manager: GatewayManager) {
    super();
    // Manual: a tool's checkbox must not tick its parent (the Tools group has none).
    this.view = this.register(vscode.window.createTreeView(TREE_VIEW_ID, { treeDataProvider: this, showCollapseAll: true, manageCheckboxStateManually: true }));
    this.register(
      this.view.onDidChangeCheckboxState((e) => {
        applyToolCheckboxes(e.items).catch((err: unknown) => {
          void vscode.window.showErrorMessage(`Gatehouse: could not update tools.exclude: ${err instanceof Error ? err.message : String(err)}`);
          this.scheduleRefresh();
        });
      }),
    );
    this.register(manager.onDidChange(() => this.scheduleRefresh()));
    this.register(toDisposable(() => clearTimeout(this.timer)));
  }

  private scheduleRefresh(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.updateBadge();
      this.warnToolLimit();
      this._onDidChangeTreeData.fire(undefined);
    }, REFRESH_MS);
  }

  private updateBadge(): void {
    let bad = 0;
    for (const g of this.manager.gateways()) for (const d of g.snapshot?.downstreams ?? []) if (serverSeverity(d) !== 'ok') bad++;
    this.view.badge = bad ? { value: bad, tooltip: `${bad} ${bad === 1 ? 'server needs' : 'servers need'} attention` } : undefined;
  }

  /** One notification per gateway when its listing passes VS Code's limit (the header row stays). */
  private warnToolLimit(): void {
    for (const g of this.manager.gateways()) {
      const key = g.folder.uri.toString();
      const load = toolLoad(g.snapshot?.downstreams ?? []);
      if (load.total <= VSCODE_TOOL_LIMIT) {
        this.warnedOverLimit.delete(key);
        continue;
      }
      if (this.warnedOverLimit.has(key)) continue;
      this.warnedOverLimit.add(key);
      void vscode.window.showWarningMessage(
        `Gatehouse (${g.folder.name}): ${toolLoadText(load)}. Uncheck tools in the Gatehouse view, or use tools.include/exclude or a profile in registry.yaml.`,
      );
    }
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) {
      if (this.manager.viewMode !== 'gateways') return [];
      const gateways = this.manager.gateways();
      if (gateways.length > 1) return gateways.map((gateway) => ({ kind: 'folder', gateway }));
      return gateways[0] ? this.gatewayChildren(gateways[0]) : [];
    }
    switch (node.kind) {
      case 'folder':
        return this.gatewayChildren(node.gateway);
      case 'gateway':
        return headerFields(node.gateway);
      case 'server':
        return serverFields(node.gateway, node.view);
      case 'tools':
        return (node.view.tool_names ?? []).map((tool) => ({ kind: 'tool', gateway: node.gateway, server: node.view.name, tool, hidden: node.view.tools_hidden?.includes(tool) ?? false }));
      case 'sessionBlocks':
        return node.blocks.map((block) => ({ kind: 'sessionBlock', gateway: node.gateway, block }));
      default:
        return [];
    }
  }

  private gatewayChildren(gateway: FolderGateway): TreeNode[] {
    const out: TreeNode[] = [{ kind: 'gateway', gateway }];
    const status = gateway.configStatus;
    (status?.problems ?? []).forEach((problem, index) => out.push({ kind: 'configProblem', gateway, problem, index }));
    for (const view of gateway.snapshot?.downstreams ?? []) out.push({ kind: 'server', gateway, view });
    const blocks = gateway.snapshot?.session_blocks ?? [];
    if (blocks.length) out.push({ kind: 'sessionBlocks', gateway, blocks });
    return out;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const key = node.gateway.folder.uri.toString();
    switch (node.kind) {
      case 'folder': {
        const item = new vscode.TreeItem(node.gateway.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `${key}/folder`;
        item.iconPath = vscode.ThemeIcon.Folder;
        item.resourceUri = node.gateway.folder.uri;
        item.description = gatewayDescription(node.gateway);
        item.accessibilityInformation = { label: `${node.gateway.folder.name}: ${gatewayRowLabel(gatewayFacts(node.gateway))}` };
        // Its inline "Open Dashboard" opens the dashboard on this folder (the node is the argument).
        item.contextValue = 'folder';
        return item;
      }
      case 'gateway':
        return gatewayItem(node.gateway, key);
      case 'gatewayField': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = `${key}/gateway/${node.label}`;
        item.description = node.value;
        item.tooltip = node.tooltip ?? `${node.label}: ${node.value}`;
        // Read as the row says it, not as its tooltip (a bare path or URL for some rows).
        item.accessibilityInformation = { label: fieldRowLabel(node.label, node.value) };
        if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
        item.contextValue = 'gatewayField';
        return item;
      }
      case 'configProblem': {
        const p = node.problem;
        const file = vscode.Uri.file(p.file);
        const item = new vscode.TreeItem(`${file.path.split('/').pop()}:${p.line}:${p.column}`, vscode.TreeItemCollapsibleState.None);
        // Two problems may share a position: the index keeps ids unique (VS Code rejects duplicates).
        item.id = `${key}/problem/${node.index}/${p.file}:${p.line}:${p.column}`;
        item.description = p.message;
        item.tooltip = new vscode.MarkdownString().appendText(`${p.severity}: ${p.message}`);
        item.accessibilityInformation = { label: configProblemLabel(p.severity, file.path.split('/').pop() ?? p.file, p.line, p.column, p.message) };
        item.iconPath = new vscode.ThemeIcon(
          p.severity === 'error' ? 'error' : 'warning',
          new vscode.ThemeColor(p.severity === 'error' ? 'list.errorForeground' : 'list.warningForeground'),
        );
        item.contextValue = 'configProblem';
        item.command = {
          command: 'vscode.open',
          title: 'Open',
          arguments: [file, { selection: new vscode.Range(p.line - 1, p.column - 1, p.endLine - 1, p.endColumn - 1) }],
        };
        return item;
      }
      case 'server':
        return serverItem(node.view, key);
      case 'field': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = `${key}/server/${node.server}/${node.label}`;
        item.description = node.value;
        item.tooltip = `${node.label}: ${node.value}`;
        item.accessibilityInformation = { label: fieldRowLabel(node.label, node.value) };
        item.contextValue = 'field';
        return item;
      }
      case 'tools': {
        const all = node.view.tool_names?.length ?? 0;
        const hidden = node.view.tools_hidden?.length ?? 0;
        const item = new vscode.TreeItem('Tools', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${key}/server/${node.view.name}/tools`;
        item.description = `${all - hidden}/${all} shown`;
        item.tooltip = 'Unchecking a tool adds it to tools.exclude of this server in registry.yaml (one undoable edit); clients stop seeing it, the server keeps running.';
        item.iconPath = new vscode.ThemeIcon('tools');
        item.contextValue = 'tools';
        return item;
      }
      case 'tool': {
        const item = new vscode.TreeItem(node.tool, vscode.TreeItemCollapsibleState.None);
        item.id = `${key}/server/${node.server}/tool/${node.tool}`;
        item.checkboxState = {
          state: node.hidden ? vscode.TreeItemCheckboxState.Unchecked : vscode.TreeItemCheckboxState.Checked,
          tooltip: node.hidden ? `Show ${node.server}__${node.tool} to clients` : `Hide ${node.server}__${node.tool} from clients`,
          accessibilityInformation: { label: `${node.server}__${node.tool} ${node.hidden ? 'hidden' : 'shown'}` },
        };
        item.description = node.hidden ? 'hidden' : undefined;
        item.tooltip = `${node.server}__${node.tool}: ${node.hidden ? 'hidden from clients by tools.include/exclude' : 'listed to clients'}`;
        item.contextValue = 'tool';
        return item;
      }
      case 'sessionBlocks': {
        const item = new vscode.TreeItem('Session blocks', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `${key}/sessionBlocks`;
        item.description = String(node.blocks.length);
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
        item.tooltip = 'SESSION_BLOCKER fired: these servers opened their circuit repeatedly in this gateway session.';
        item.accessibilityInformation = { label: sessionBlocksLabel(node.blocks.length) };
        item.contextValue = 'sessionBlocks';
        return item;
      }
      case 'sessionBlock': {
        const b = node.block;
        const item = new vscode.TreeItem(b.server, vscode.TreeItemCollapsibleState.None);
        item.id = `${key}/sessionBlock/${b.server}`;
        const at = new Date(b.emitted_at).toLocaleTimeString();
        item.description = `${b.open_transitions}/${b.threshold} circuit opens · ${at}`;
        item.accessibilityInformation = { label: sessionBlockLabel(b.server, b.open_transitions, b.threshold, at) };
        item.tooltip = new vscode.MarkdownString().appendText(b.message);
        item.iconPath = new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('list.errorForeground'));
        item.contextValue = 'sessionBlock';
        return item;
      }
    }
  }
}

function gatewayDescription(g: FolderGateway): string {
  switch (g.state) {
    case 'idle':
      return 'stopped';
    case 'starting':
      return 'starting…';
    case 'stopping':
      return 'stopping…';
    case 'failed':
      return 'failed to start';
    case 'running': {
      const parts: string[] = [];
      if (g.halt.decision !== 'absent') parts.push('HALT');
      if (g.configStatus && hasErrors(g.configStatus.problems)) parts.push('config error');
      if (g.endpoint) parts.push(`127.0.0.1:${g.endpoint.port}`);
      const level = g.service?.currentPolicy?.autonomy_level;
      if (level) parts.push(level);
      return parts.join(' · ');
    }
  }
}

/** The facts the gateway rows are read from (the same as {@link gatewayDescription}'s). */
function gatewayFacts(g: FolderGateway): GatewayRowFacts {
  return {
    state: g.state,
    halted: g.halt.decision !== 'absent',
    configError: g.configStatus ? hasErrors(g.configStatus.problems) : false,
    port: g.endpoint?.port,
    autonomyLevel: g.service?.currentPolicy?.autonomy_level,
  };
}

function gatewayItem(g: FolderGateway, key: string): vscode.TreeItem {
  const item = new vscode.TreeItem('Gateway', vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `${key}/gateway`;
  item.description = gatewayDescription(g);
  item.accessibilityInformation = { label: gatewayRowLabel(gatewayFacts(g)) };
  const halted = g.halt.decision !== 'absent';
  const broken = g.configStatus ? hasErrors(g.configStatus.problems) : false;
  item.iconPath =
    g.state === 'failed' || halted || broken
      ? new vscode.ThemeIcon(halted ? 'debug-pause' : 'shield', new vscode.ThemeColor('list.errorForeground'))
      : g.state === 'running'
        ? new vscode.ThemeIcon('shield', new vscode.ThemeColor('testing.iconPassed'))
        : new vscode.ThemeIcon('loading~spin');
  item.contextValue = ['gateway', halted ? 'halted' : 'running'].join(' ');
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**Gatehouse gateway** — ${cell(g.folder.name)}\n\n| | |\n|---|---|\n`);
  for (const f of headerFields(g)) if (f.kind === 'gatewayField') md.appendMarkdown(`| ${cell(f.label)} | ${cell(f.value)} |\n`);
  item.tooltip = md;
  return item;
}

function headerFields(g: FolderGateway): TreeNode[] {
  const out: TreeNode[] = [];
  const add = (label: string, value: string, icon?: string, tooltip?: string): void => {
    out.push({ kind: 'gatewayField', gateway: g, label, value, icon, tooltip });
  };
  add('State', g.state === 'failed' ? `failed: ${g.error ?? ''}` : g.state, 'pulse');
  if (g.endpoint) add('Endpoint', g.endpoint.url, 'plug', `${g.endpoint.url} (bearer token in ${g.configDir}/gateway.json, mode 0600)`);
  const metrics = g.service?.metricsPort;
  if (metrics !== undefined) add('Metrics', `http://127.0.0.1:${metrics}/metrics`, 'graph');
  const halt = g.halt;
  add(
    'HALT',
    halt.decision === 'absent' ? 'off' : halt.decision === 'present' ? `on${halt.reason ? `: ${halt.reason}` : ''}` : `unknown (${halt.code}): calls refused`,
    halt.decision === 'absent' ? 'debug-continue' : 'debug-pause',
  );
  const policy = g.configStatus?.policy;
  add('Policy', policy?.summary ?? 'not loaded', policy?.source === 'last_good' ? 'warning' : 'law');
  const status = g.configStatus;
  const errors = status?.problems.filter((p) => p.severity === 'error').length ?? 0;
  const warnings = (status?.problems.length ?? 0) - errors;
  add(
    'Config',
    errors
      ? `${errors} ${errors === 1 ? 'error' : 'errors'}${status?.usingLastGood ? ', last good config running' : ''}`
      : warnings
        ? `${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`
        : 'ok',
    'settings-gear',
    g.configDir,
  );
  add('Config dir', g.configDir, 'folder');
  const load = toolLoad(g.snapshot?.downstreams ?? []);
  if (load.total > VSCODE_TOOL_LIMIT) add('Tools', toolLoadText(load), 'warning');
  const snap = g.snapshot;
  if (snap) add('Session', `${snap.session_id.slice(0, 8)} · since ${new Date(snap.started_at).toLocaleTimeString()}`, 'clock');
  return out;
}

function serverItem(view: DownstreamView, key: string): vscode.TreeItem {
  const item = new vscode.TreeItem(view.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `${key}/server/${view.name}`;
  item.description = serverDescription(view);
  item.iconPath = stateIcon(view);
  const flags = ['server', view.state === 'disabled' ? 'disabled' : 'enabled'];
  if (view.circuit_state !== 'closed') flags.push('circuitNotClosed');
  if (view.state === 'blocked') flags.push('blocked');
  if (view.state === 'needs_auth') flags.push('needsAuth');
  if (view.transport === 'http') flags.push('remote');
  item.contextValue = flags.join(' ');
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`$(${stateIcon(view).id.replace('~spin', '')}) **${cell(view.name)}** — ${cell(stateLabel(view.state))}\n\n`);
  md.appendMarkdown('| Field | Value |\n|---|---|\n');
  for (const [label, value] of fieldRows(view)) md.appendMarkdown(`| ${cell(label)} | ${cell(value)} |\n`);
  item.tooltip = md;
  item.accessibilityInformation = { label: serverRowLabel(view.name, serverDescription(view)) };
  return item;
}

function serverFields(gateway: FolderGateway, view: DownstreamView): TreeNode[] {
  const fields: TreeNode[] = fieldRows(view)
    .filter(([, value]) => value !== '')
    .map(([label, value]) => ({ kind: 'field', gateway, server: view.name, label, value }));
  if (view.tool_names?.length) fields.push({ kind: 'tools', gateway, view });
  return fields;
}

/** Every field of the view, in reading order; '' when there is nothing to say. */
function fieldRows(v: DownstreamView): Array<[string, string]> {
  const time = (iso: string | null): string => (iso ? new Date(iso).toLocaleTimeString() : '');
  const ms = (n: number | null): string => (n === null ? '–' : `${Math.round(n)} ms`);
  return [
    ['state', stateLabel(v.state)],
    ['reason', v.reason ?? ''],
    ['transport', v.transport],
    ['pid', v.pid === null ? '' : String(v.pid)],
    ['tools', v.tools_count === null ? '' : String(v.tools_count)],
    ['circuit', v.circuit_state + (v.retry_at ? ` until ${time(v.retry_at)}` : '')],
    ['calls', `${v.calls} (${v.errors} failed, ${v.in_flight} in flight)`],
    ['latency', v.calls ? `p50 ${ms(v.latency_ms.p50)} · p95 ${ms(v.latency_ms.p95)}` : ''],
    ['restarts', String(v.restarts)],
    ['started', time(v.started_at)],
    ['next retry', time(v.next_retry_at)],
    ['last exit', v.last_exit ? `${v.last_exit.signal ?? `code ${v.last_exit.code}`} at ${time(v.last_exit.at)}` : ''],
    ['last error', v.last_error ?? ''],
    ['circuit opens', v.open_transitions ? `${v.open_transitions}${v.session_blocker_emitted ? ' (session blocker fired)' : ''}` : ''],
  ];
}
