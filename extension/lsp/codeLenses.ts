/**
 * Code lenses above each server entry of `registry.yaml` with the server's live state, as the
 * extension host last reported it (`gatehouse/didChangeState`): `● ready · 12 tools · closed`,
 * `✕ gave up: exit code 1`. The state lens opens the server's output; a second lens respawns it.
 */
import type { CodeLens } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { RESPAWN_SERVER_COMMAND, SHOW_SERVER_OUTPUT_COMMAND, type ServerLiveState } from '../protocol/lsp';
import { findPair } from './yamlNodes';

/** Longest reason shown in a lens; the output has the rest. */
const MAX_REASON = 80;

/**
 * Lenses for every named server entry; `states` empty means no gateway state, so no lenses.
 * With `folder`, commands get `<folder>:<name>` so a multi-root host picks the right gateway.
 */
export function serverLenses(document: TextDocument, states: readonly ServerLiveState[], folder?: string): CodeLens[] {
  if (states.length === 0) return [];
  const byName = new Map(states.map((s) => [s.name, s]));
  // Lenses follow what is on screen even while the file has errors elsewhere.
  const doc = parseDocument(document.getText(), { uniqueKeys: false });
  const servers = isMap(doc.contents) ? findPair(doc.contents, 'servers')?.value : undefined;
  if (!isSeq(servers)) return [];
  const lenses: CodeLens[] = [];
  for (const item of servers.items) {
    if (!isMap(item) || !item.range) continue;
    const nameNode = findPair(item, 'name')?.value;
    if (!isScalar(nameNode) || typeof nameNode.value !== 'string' || nameNode.value === '') continue;
    const name = nameNode.value;
    const start = document.positionAt(item.range[0]);
    const range = { start: { line: start.line, character: 0 }, end: { line: start.line, character: 0 } };
    const state = byName.get(name);
    const target = folder ? `${folder}:${name}` : name;
    lenses.push({ range, command: { title: lensTitle(state), command: SHOW_SERVER_OUTPUT_COMMAND, arguments: [target] } });
    if (state && state.state !== 'disabled') lenses.push({ range, command: { title: 'Respawn', command: RESPAWN_SERVER_COMMAND, arguments: [target] } });
  }
  return lenses;
}

/** The state text of one lens; exported for tests. */
export function lensTitle(state: ServerLiveState | undefined): string {
  if (!state) return '○ not running · save the file to apply';
  const reason = state.reason ? shorten(state.reason) : undefined;
  const tools = state.tools_count === null ? undefined : `${state.tools_count} ${state.tools_count === 1 ? 'tool' : 'tools'}`;
  switch (state.state) {
    case 'ready':
      return ['● ready', tools, state.circuit_state].filter(Boolean).join(' · ');
    case 'degraded':
      return ['◐ degraded', tools, state.circuit_state, reason].filter(Boolean).join(' · ');
    case 'starting':
      return '◌ starting…';
    case 'backoff':
      return reason ? `◌ restarting: ${reason}` : '◌ restarting';
    case 'crashed':
      return reason ? `✕ crashed: ${reason}` : '✕ crashed';
    case 'gave_up':
      return reason ? `✕ gave up: ${reason}` : '✕ gave up';
    case 'blocked':
      return reason ? `⊘ blocked: ${reason}` : '⊘ blocked';
    case 'needs_auth':
      return reason ? `⚿ needs sign-in: ${reason}` : '⚿ needs sign-in';
    case 'disabled':
      return '○ disabled';
    case 'stopped':
      return '○ stopped';
  }
}

function shorten(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}
