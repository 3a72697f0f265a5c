import type { DownstreamView } from '../../protocol/model';

/** VS Code sends at most this many tools with a chat request; the rest are dropped. */
export const VSCODE_TOOL_LIMIT = 128;

/** What one gateway lists to clients: its tool count (health tool included) and the biggest servers. */
export interface ToolLoad {
  total: number;
  /** Servers by listed tools, largest first (only those listing any). */
  biggest: Array<{ server: string; tools: number }>;
}

/** Tools a server lists to clients now: its current tools minus those registry `tools:` hides. */
export function listedTools(view: DownstreamView): number {
  if (view.tools_count === null) return 0;
  const hidden = view.tools_hidden?.length ?? 0;
  return Math.max(0, view.tools_count - hidden);
}

export function toolLoad(downstreams: readonly DownstreamView[]): ToolLoad {
  const biggest = downstreams
    .map((d) => ({ server: d.name, tools: listedTools(d) }))
    .filter((s) => s.tools > 0)
    .sort((a, b) => b.tools - a.tools);
  // +1: gatehouse__health is always listed.
  return { total: 1 + biggest.reduce((sum, s) => sum + s.tools, 0), biggest };
}

/** One line naming the load and the three biggest servers, e.g. `140 tools (github 90, fs 30, …)`. */
export function toolLoadText(load: ToolLoad): string {
  const top = load.biggest.slice(0, 3).map((s) => `${s.server} ${s.tools}`);
  return `${load.total} tools listed, over VS Code's ${VSCODE_TOOL_LIMIT}-tool limit (biggest: ${top.join(', ')}${load.biggest.length > 3 ? ', …' : ''})`;
}
