import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  configProblemLabel,
  countOf,
  fieldRowLabel,
  gatewayRowLabel,
  serverRowLabel,
  sessionBlockLabel,
  sessionBlocksLabel,
  statusBarLabel,
} from '../../../extension/host/tree/accessibleLabels';

describe('accessible labels of the tree and the status bar', () => {
  it('counts with the noun in the right number', () => {
    assert.equal(countOf(0, 'problem'), '0 problems');
    assert.equal(countOf(1, 'problem'), '1 problem');
    assert.equal(countOf(2, 'problem'), '2 problems');
    assert.equal(countOf(1, 'server'), '1 server');
  });

  it('a server row says "circuit" before its circuit state', () => {
    assert.equal(serverRowLabel('echo', 'ready · 6 tools · closed'), 'echo: ready, 6 tools, circuit closed');
    assert.equal(serverRowLabel('flaky', 'gave up · no tools · open'), 'flaky: gave up, no tools, circuit open');
    assert.equal(serverRowLabel('docs', 'degraded · 1 tool · half-open'), 'docs: degraded, 1 tool, circuit half open');
    assert.equal(serverRowLabel('off', 'disabled'), 'off: disabled');
    // Parts the description gains later are read too.
    assert.equal(serverRowLabel('mem', 'ready · 3 tools · 2 prompts · closed'), 'mem: ready, 3 tools, 2 prompts, circuit closed');
  });

  it('header rows read their label and value, not their tooltip', () => {
    assert.equal(fieldRowLabel('Config', 'ok'), 'Config: ok');
    assert.equal(fieldRowLabel('Endpoint', 'http://127.0.0.1:4711/mcp'), 'Endpoint: http://127.0.0.1:4711/mcp');
    assert.equal(fieldRowLabel('circuit', 'closed'), 'circuit: closed');
  });

  it('the gateway row reads as a sentence', () => {
    assert.equal(
      gatewayRowLabel({ state: 'running', halted: false, configError: false, port: 4711, autonomyLevel: 'L1' }),
      'Gateway running on 127.0.0.1:4711, autonomy L1',
    );
    assert.equal(
      gatewayRowLabel({ state: 'running', halted: true, configError: true, port: 4711 }),
      'Gateway running on 127.0.0.1:4711, config has errors, HALT on: every tool call is refused',
    );
    assert.equal(gatewayRowLabel({ state: 'failed', halted: false, configError: false }), 'Gateway failed to start');
    assert.equal(gatewayRowLabel({ state: 'idle', halted: false, configError: false }, 'The gateway'), 'The gateway stopped');
  });

  it('problems and session blocks read as sentences', () => {
    assert.equal(configProblemLabel('error', 'registry.yaml', 3, 5, "unknown key 'comand'"), "Error in registry.yaml, line 3, column 5: unknown key 'comand'");
    assert.equal(configProblemLabel('warning', 'policy.yaml', 1, 1, 'empty'), 'Warning in policy.yaml, line 1, column 1: empty');
    assert.equal(sessionBlocksLabel(1), 'Session blocks: 1 server opened their circuit repeatedly');
    assert.equal(sessionBlockLabel('flaky', 3, 3, '14:03:07'), 'flaky blocked for this session: 3 of 3 circuit openings, at 14:03:07');
  });

  it('the status bar says "1 problem", "2 problems" and which', () => {
    assert.equal(statusBarLabel({ up: 2, total: 2, problems: [] }), 'Gatehouse: 2 of 2 servers up');
    assert.equal(statusBarLabel({ up: 1, total: 1, problems: ['flaky: gave up'] }), 'Gatehouse: 1 of 1 server up; 1 problem: flaky: gave up');
    assert.equal(
      statusBarLabel({ up: 0, total: 2, problems: ['a: gave up', 'b: gave up', 'c: backoff', 'd: degraded'] }),
      'Gatehouse: 0 of 2 servers up; 4 problems: a: gave up; b: gave up; c: backoff; and 1 more',
    );
  });
});
