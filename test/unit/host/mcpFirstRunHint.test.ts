import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LIST_MCP_SERVERS_ACTION,
  LIST_MCP_SERVERS_COMMAND,
  MCP_FIRST_RUN_KEY,
  McpFirstRunHint,
  type MementoLike,
} from '../../../extension/host/mcpFirstRunHint';

/** A Memento over a Map, as VS Code's globalState behaves for one key. */
function memento(): MementoLike & { values: Map<string, unknown> } {
  const values = new Map<string, unknown>();
  return {
    values,
    get: <T>(key: string) => values.get(key) as T | undefined,
    update: async (key: string, value: unknown) => void values.set(key, value),
  };
}

function hint(pick: string | undefined, options: { off?: boolean; state?: ReturnType<typeof memento> } = {}) {
  const state = options.state ?? memento();
  const shown: string[] = [];
  const executed: string[] = [];
  const h = new McpFirstRunHint({
    memento: state,
    notificationsOff: () => options.off ?? false,
    showInformation: async (message, ...items) => {
      shown.push(message);
      assert.deepEqual(items, [LIST_MCP_SERVERS_ACTION]);
      return pick;
    },
    executeCommand: async (command) => void executed.push(command),
  });
  return { h, state, shown, executed };
}

describe('McpFirstRunHint', () => {
  test('the first published gateway explains "Stopped" and how to start it, once per user', async () => {
    const { h, state, shown, executed } = hint(LIST_MCP_SERVERS_ACTION);
    await h.published('Gatehouse');
    await h.published('Gatehouse');
    assert.equal(shown.length, 1);
    assert.match(shown[0] ?? '', /Gatehouse is running.*first chat message.*Stopped.*MCP: List Servers → Gatehouse → Start Server/);
    assert.deepEqual(executed, [LIST_MCP_SERVERS_COMMAND]);
    assert.equal(state.values.get(MCP_FIRST_RUN_KEY), true);

    const again = hint(LIST_MCP_SERVERS_ACTION, { state });
    await again.h.published('Gatehouse');
    assert.equal(again.shown.length, 0, 'a new window of the same user is not told again');
  });

  test('dismissed: recorded anyway, no command run', async () => {
    const { h, state, executed } = hint(undefined);
    await h.published('Gatehouse (api)');
    assert.deepEqual(executed, []);
    assert.equal(state.values.get(MCP_FIRST_RUN_KEY), true);
  });

  test('gatehouse.notifications off: silent, and still shown later if turned back on', async () => {
    const { h, state, shown } = hint(undefined, { off: true });
    await h.published('Gatehouse');
    assert.equal(shown.length, 0);
    assert.equal(state.values.get(MCP_FIRST_RUN_KEY), undefined);
  });
});
