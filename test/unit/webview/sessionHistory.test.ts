import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TRANSITIONS, SessionHistory } from '../../../extension/host/panel/sessionHistory';
import { TRAFFIC_BUCKET_MS, TRAFFIC_WINDOW_MS } from '../../../extension/protocol/webview';
import { view } from './fixtures';

const START = 1_700_000_000_000;

describe('SessionHistory (host side of the dashboard)', () => {
  it('starts every circuit closed at the session start and records each change once', () => {
    const h = new SessionHistory(START);
    h.observe(view('a'), START + 1_000);
    h.observe(view('a', { circuit_state: 'open' }), START + 2_000);
    h.observe(view('a', { circuit_state: 'open', state: 'degraded' }), START + 2_500);
    h.observe(view('a', { circuit_state: 'half-open' }), START + 3_000);
    assert.deepEqual(h.circuit('a'), [
      { at: START, state: 'closed' },
      { at: START + 2_000, state: 'open' },
      { at: START + 3_000, state: 'half-open' },
    ]);
    const other = new SessionHistory(START);
    other.observe(view('b', { circuit_state: 'open' }), START + 9_000);
    assert.deepEqual(other.circuit('b'), [
      { at: START, state: 'closed' },
      { at: START + 9_000, state: 'open' },
    ]);
  });

  it('turns cumulative counters into per-bucket deltas; existing counts are the baseline', () => {
    const h = new SessionHistory(START);
    h.observe(view('a', { calls: 40, errors: 2 }), START);
    assert.deepEqual(h.traffic('a', START), [], 'counts from before the first sight are not a spike');
    h.observe(view('a', { calls: 43, errors: 2 }), START + 1_000);
    h.observe(view('a', { calls: 45, errors: 3 }), START + 2_000);
    h.observe(view('a', { calls: 46, errors: 3 }), START + TRAFFIC_BUCKET_MS + 1);
    assert.deepEqual(h.traffic('a', START + TRAFFIC_BUCKET_MS + 1), [
      { at: START, calls: 5, errors: 1 },
      { at: START + TRAFFIC_BUCKET_MS, calls: 1, errors: 0 },
    ]);
  });

  it('counts from zero again when the counters restart (a replaced entry)', () => {
    const h = new SessionHistory(START);
    h.observe(view('a', { calls: 10 }), START);
    h.observe(view('a', { calls: 2 }), START + 1);
    assert.deepEqual(h.traffic('a', START + 1), [{ at: START, calls: 2, errors: 0 }]);
  });

  it('forgets buckets older than the window and bounds the transitions', () => {
    const h = new SessionHistory(START);
    h.observe(view('a'), START);
    h.observe(view('a', { calls: 1 }), START + 1);
    assert.equal(h.traffic('a', START + TRAFFIC_WINDOW_MS - 1).length, 1);
    assert.equal(h.traffic('a', START + TRAFFIC_WINDOW_MS + TRAFFIC_BUCKET_MS).length, 0);
    for (let i = 0; i < MAX_TRANSITIONS + 50; i++) h.observe(view('a', { circuit_state: i % 2 ? 'closed' : 'open' }), START + 10 + i);
    assert.equal(h.circuit('a').length, MAX_TRANSITIONS);
    h.remove('a');
    assert.deepEqual(h.circuit('a'), []);
  });
});
