import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listedTools, toolLoad, toolLoadText, VSCODE_TOOL_LIMIT } from '../../../extension/host/tree/toolLimit';
import type { DownstreamView } from '../../../extension/protocol/model';

const view = (name: string, tools: number | null, hidden = 0): DownstreamView =>
  ({ name, tools_count: tools, tools_hidden: Array.from({ length: hidden }, (_, i) => `h${i}`) }) as unknown as DownstreamView;

test('the load counts what clients see: listed tools minus hidden, plus the health tool', () => {
  assert.equal(listedTools(view('a', 10, 3)), 7);
  assert.equal(listedTools(view('down', null)), 0);
  const load = toolLoad([view('small', 5), view('github', 100, 10), view('fs', 40), view('down', null)]);
  assert.equal(load.total, 1 + 5 + 90 + 40);
  assert.ok(load.total > VSCODE_TOOL_LIMIT);
  assert.deepEqual(load.biggest.map((s) => s.server), ['github', 'fs', 'small']);
  assert.equal(toolLoadText(load), "136 tools listed, over VS Code's 128-tool limit (biggest: github 90, fs 40, small 5)");
});
