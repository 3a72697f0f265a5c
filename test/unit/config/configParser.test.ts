import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nullLogger } from '../../../extension/common/logger';
import { inlineConfigParser, WorkerConfigParser, type ConfigTextParser } from '../../../extension/config/configParser';
import { until } from '../../helpers/poll';

// Issue 13 item 6: a parse never blocks calls. A policy just under the 1 MiB cap takes seconds to
// parse with positions; while the worker parses it, this thread keeps turning.
function bigPolicy(): string {
  let text = 'autonomy_level: L1\nblocked_paths:\n';
  for (let i = 0; text.length < 1000 * 1024; i++) text += `  - "secret-${i}/"\n`;
  return text;
}

async function turnsDuring(parse: ConfigTextParser, text: string): Promise<{ turns: number; paths: number }> {
  let done = false;
  let turns = 0;
  const parsing = parse('policy', text, '/w/.gatehouse/policy.yaml').finally(() => (done = true));
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve));
    turns++;
  }
  return { turns, paths: (await parsing).policy?.blocked_paths.length ?? 0 };
}

test('the worker parser leaves the event loop free while it parses a 1 MiB policy', async () => {
  const text = bigPolicy();
  const parser = new WorkerConfigParser(nullLogger);
  try {
    const worker = await turnsDuring(parser.parse, text);
    assert.ok(worker.paths > 40_000, `${worker.paths} blocked paths parsed`);
    // Parsing takes seconds; a free loop turns thousands of times meanwhile. The inline parser
    // holds the thread for the whole parse, so its promise is settled before the first turn.
    assert.ok(worker.turns > 100, `${worker.turns} turns during the worker's parse`);
    const inline = await turnsDuring(inlineConfigParser, text);
    assert.equal(inline.paths, worker.paths, 'same result either way');
    assert.ok(inline.turns <= 2, `${inline.turns} turns during the inline parse`);
  } finally {
    parser.dispose();
  }
});

test('problems come back from the worker with their positions', async () => {
  const parser = new WorkerConfigParser(nullLogger);
  try {
    const result = await parser.parse('registry', 'version: "1"\nservers:\n  - name: Bad_Name\n    command: node\n', '/w/.gatehouse/registry.yaml');
    assert.equal(result.registry, undefined);
    assert.equal(result.problems[0]?.line, 3);
    const extra = await parser.parse('gatehouse', 'gateway:\n  breaker: { failure_threshold: 2 }\n', '/w/.rea/gatehouse.yaml');
    assert.deepEqual(extra.gateway, { breaker: { failure_threshold: 2 } });
  } finally {
    parser.dispose();
  }
});

test('an idle worker is stopped, and the next parse starts a new one', async () => {
  const parser = new WorkerConfigParser(nullLogger, undefined, 20);
  try {
    const first = await parser.parse('gatehouse', 'gateway:\n  breaker: { failure_threshold: 2 }\n', '/w/.rea/gatehouse.yaml');
    assert.deepEqual(first.gateway, { breaker: { failure_threshold: 2 } });
    await until('the idle worker to stop', () => !parser.running);
    const second = await parser.parse('gatehouse', 'gateway:\n  breaker: { failure_threshold: 3 }\n', '/w/.rea/gatehouse.yaml');
    assert.deepEqual(second.gateway, { breaker: { failure_threshold: 3 } });
    assert.equal(parser.running, true);
  } finally {
    parser.dispose();
  }
});
