import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRAFFIC_BUCKET_MS } from '../../../extension/protocol/webview';
import { SERIES_LENGTH, circuitBands, errorRate, filterAudit, lastMinute, trafficSeries } from '../../../webview/derive';
import { formatCountdown, formatLatency, formatPercent, formatSpan } from '../../../webview/format';
import { readUiState } from '../../../webview/uiState';
import { auditEvent } from './fixtures';

const NOW = 1_700_000_005_000; // 5 s into a bucket
const bucket = (ago: number, calls: number, errors = 0) => ({ at: Math.floor(NOW / TRAFFIC_BUCKET_MS) * TRAFFIC_BUCKET_MS - ago * TRAFFIC_BUCKET_MS, calls, errors });

describe('traffic derivations', () => {
  it('counts the last minute (the bucket in progress included) and the 10-minute error rate', () => {
    const traffic = [bucket(59, 100, 100), bucket(7, 5, 5), bucket(5, 4, 1), bucket(0, 6)];
    assert.deepEqual(lastMinute(traffic, NOW), { calls: 10, errors: 1 });
    assert.equal(errorRate(traffic, NOW), 106 / 115);
    assert.equal(errorRate([], NOW), null);
    assert.equal(errorRate([bucket(61, 3, 3)], NOW), null, 'older than the window');
  });

  it('aligns a series to the window ending now, zeros where idle', () => {
    const series = trafficSeries([bucket(0, 2, 1), bucket(3, 7), bucket(SERIES_LENGTH, 99)], NOW);
    assert.equal(series.calls.length, SERIES_LENGTH);
    assert.equal(series.calls[SERIES_LENGTH - 1], 2);
    assert.equal(series.errors[SERIES_LENGTH - 1], 1);
    assert.equal(series.calls[SERIES_LENGTH - 4], 7);
    assert.equal(series.calls.reduce((a, b) => a + b, 0), 9, 'the bucket outside the window is left out');
  });
});

describe('circuitBands', () => {
  it('turns transitions into bands up to now, clipped to the session', () => {
    const bands = circuitBands(
      [
        { at: 0, state: 'closed' },
        { at: 100, state: 'open' },
        { at: 130, state: 'half-open' },
        { at: 131, state: 'closed' },
      ],
      50,
      200,
    );
    assert.deepEqual(bands, [
      { from: 50, to: 100, state: 'closed' },
      { from: 100, to: 130, state: 'open' },
      { from: 130, to: 131, state: 'half-open' },
      { from: 131, to: 200, state: 'closed' },
    ]);
  });

  it('drops empty bands and merges neighbours of one state', () => {
    assert.deepEqual(
      circuitBands(
        [
          { at: 0, state: 'closed' },
          { at: 10, state: 'open' },
          { at: 10, state: 'closed' },
        ],
        0,
        20,
      ),
      [{ from: 0, to: 20, state: 'closed' }],
    );
    assert.deepEqual(circuitBands([], 0, 10), []);
  });
});

describe('filterAudit', () => {
  const events = [
    auditEvent(1, { tool: 'echo', server: 'echo' }),
    auditEvent(2, { tool: 'write', server: 'flaky', status: 'denied', tier: 'write' }),
    auditEvent(3, { tool: 'fail', server: 'flaky', status: 'error', error: 'Upstream exploded' }),
  ];
  it('lists newest first and matches every word against tool, server, status, tier and error', () => {
    assert.deepEqual(filterAudit(events, '').map((e) => e.seq), [3, 2, 1]);
    assert.deepEqual(filterAudit(events, 'FLAKY').map((e) => e.seq), [3, 2]);
    assert.deepEqual(filterAudit(events, 'flaky denied').map((e) => e.seq), [2]);
    assert.deepEqual(filterAudit(events, 'exploded').map((e) => e.seq), [3]);
    assert.deepEqual(filterAudit(events, 'nothing'), []);
  });
});

describe('formatting', () => {
  it('formats spans, latencies, percentages and countdowns', () => {
    assert.equal(formatSpan(0), '0 s');
    assert.equal(formatSpan(1), '1 s');
    assert.equal(formatSpan(65_000), '1 min 05 s');
    assert.equal(formatSpan(3_600_000 + 120_000), '1 h 02 min');
    assert.equal(formatLatency(null), '—');
    assert.equal(formatLatency(0.84), '0.8 ms');
    assert.equal(formatLatency(123.4), '123 ms');
    assert.equal(formatLatency(1460), '1.5 s');
    assert.equal(formatPercent(null), '—');
    assert.equal(formatPercent(0), '0 %');
    assert.equal(formatPercent(0.025), '2.5 %');
    assert.equal(formatPercent(1), '100 %');
    assert.equal(formatCountdown(new Date(NOW + 12_000).toISOString(), NOW), 'in 12 s');
    assert.equal(formatCountdown(new Date(NOW - 1).toISOString(), NOW), 'due now');
    assert.equal(formatCountdown(null, NOW), '');
    assert.equal(formatCountdown('garbage', NOW), '');
  });
});

describe('readUiState', () => {
  it('keeps UI fields and drops anything else or malformed', () => {
    assert.deepEqual(readUiState(undefined), { filter: '', expanded: [] });
    assert.deepEqual(readUiState({ filter: 'flaky', expanded: ['a', 3], revision: 9 }), { filter: 'flaky', expanded: ['a'] });
    assert.deepEqual(readUiState({ filter: 5, expanded: 'a' }), { filter: '', expanded: [] });
  });
});
