import * as vscode from 'vscode';
import type { DownstreamState, DownstreamView } from '../protocol/model';

/** Human label of a state ("gave_up" reads as "gave up"). */
export function stateLabel(state: DownstreamState): string {
  return state.replace('_', ' ');
}

// Theme colours that exist in every theme (testing.* for pass/fail, list.* for warnings).
const STYLE: Record<DownstreamState, { icon: string; color?: string }> = {
  ready: { icon: 'pass-filled', color: 'testing.iconPassed' },
  degraded: { icon: 'warning', color: 'list.warningForeground' },
  starting: { icon: 'loading~spin' },
  crashed: { icon: 'error', color: 'testing.iconFailed' },
  backoff: { icon: 'history', color: 'list.warningForeground' },
  gave_up: { icon: 'circle-slash', color: 'testing.iconFailed' },
  blocked: { icon: 'lock', color: 'list.errorForeground' },
  needs_auth: { icon: 'key', color: 'list.warningForeground' },
  disabled: { icon: 'circle-outline', color: 'disabledForeground' },
  stopped: { icon: 'debug-stop', color: 'disabledForeground' },
};

/** Codicon + colour of a server by its state; an open circuit on a live server reads as a warning. */
export function stateIcon(view: DownstreamView): vscode.ThemeIcon {
  const style = STYLE[view.state];
  if (view.state === 'ready' && view.circuit_state !== 'closed') return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
  return new vscode.ThemeIcon(style.icon, style.color ? new vscode.ThemeColor(style.color) : undefined);
}

/** `ready · 6 tools · 3 prompts · 7 resources · closed`: state, what it offers, circuit. */
export function serverDescription(view: DownstreamView): string {
  if (view.state === 'disabled') return 'disabled';
  const tools = view.tools_count === null ? 'no tools' : `${view.tools_count} ${view.tools_count === 1 ? 'tool' : 'tools'}`;
  return [stateLabel(view.state), tools, ...offerCounts(view), view.circuit_state].join(' · ');
}

/** `3 prompts`, `7 resources`: only what the server offers (a count above zero). */
export function offerCounts(view: Pick<DownstreamView, 'prompts_count' | 'resources_count'>): string[] {
  const out: string[] = [];
  if (view.prompts_count) out.push(`${view.prompts_count} ${view.prompts_count === 1 ? 'prompt' : 'prompts'}`);
  if (view.resources_count) out.push(`${view.resources_count} ${view.resources_count === 1 ? 'resource' : 'resources'}`);
  return out;
}
