import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { setListenerErrorHandler } from '../../../extension/common/event';
import { CircuitBreaker } from '../../../extension/pool/breaker';
import { SessionBlockerTracker, type SessionBlockerEvent } from '../../../extension/pool/sessionBlocker';

const SESSION = '6c0e3f1e-8a8f-4c5e-9a31-2f7d0b9c1a44';

function rig(threshold?: number) {
  const clock = new ManualClock(Date.parse('2026-04-20T12:00:00.000Z'));
  const tracker = new SessionBlockerTracker(SESSION, threshold === undefined ? {} : { threshold }, clock);
  const fired: SessionBlockerEvent[] = [];
  tracker.onDidFireSessionBlocker((e) => fired.push(e));
  const open = (server: string) => tracker.recordTransition({ server, from: 'half-open', to: 'open' });
  const close = (server: string) => tracker.recordTransition({ server, from: 'half-open', to: 'closed' });
  const halfOpen = (server: string) => tracker.recordTransition({ server, from: 'open', to: 'half-open' });
  return { clock, tracker, fired, open, close, halfOpen };
}

describe('SessionBlockerTracker', () => {
  let listenerErrors: unknown[] = [];
  beforeEach(() => {
    listenerErrors = [];
    setListenerErrorHandler((err) => listenerErrors.push(err));
  });
  afterEach(() => setListenerErrorHandler(() => undefined));

  it('three opens at threshold 3 fire exactly one event with the right fields', () => {
    const { tracker, fired, open } = rig();
    open('helixir');
    open('helixir');
    assert.equal(fired.length, 0, 'two opens fire nothing');
    open('helixir');
    assert.equal(fired.length, 1);
    const event = fired[0]!;
    assert.equal(event.event, 'SESSION_BLOCKER');
    assert.equal(event.session_id, SESSION);
    assert.equal(event.server_name, 'helixir');
    assert.equal(event.open_transitions, 3);
    assert.equal(event.threshold, 3);
    assert.equal(event.emitted_at, '2026-04-20T12:00:00.000Z');
    assert.match(event.message, /"helixir" has opened its circuit 3 times this session \(threshold 3\)/);
    assert.match(event.message, /routed around it/);
    assert.match(event.message, /operator must act/);
    assert.match(event.message, /Respawn Server/);
    assert.match(event.message, /Show Server Output/);
    assert.deepEqual(tracker.get('helixir'), { server: 'helixir', open_transitions: 3, emitted: true });
  });

  it('a fourth open keeps counting but does not fire again', () => {
    const { tracker, fired, open } = rig();
    for (let i = 0; i < 6; i++) open('a');
    assert.equal(fired.length, 1);
    assert.deepEqual(tracker.get('a'), { server: 'a', open_transitions: 6, emitted: true });
  });

  it('half-open transitions are ignored', () => {
    const { tracker, fired, open, halfOpen } = rig();
    open('a');
    halfOpen('a');
    open('a');
    halfOpen('a');
    assert.equal(tracker.get('a')?.open_transitions, 2);
    assert.equal(fired.length, 0);
  });

  it('a close resets the count and re-arms; the next outage fires again from zero', () => {
    const { clock, tracker, fired, open, close } = rig();
    open('a');
    open('a');
    open('a');
    close('a');
    assert.deepEqual(tracker.get('a'), { server: 'a', open_transitions: 0, emitted: false });
    open('a');
    open('a');
    assert.equal(fired.length, 1);
    clock.advance(5_000);
    open('a');
    assert.equal(fired.length, 2);
    assert.equal(fired[1]!.open_transitions, 3);
    assert.equal(fired[1]!.emitted_at, '2026-04-20T12:00:05.000Z');
  });

  it('counts servers independently', () => {
    const { tracker, fired, open, close } = rig();
    open('a');
    open('a');
    open('a');
    open('b');
    close('c'); // a close for a server never seen creates nothing
    assert.deepEqual(tracker.snapshot(), [
      { server: 'a', open_transitions: 3, emitted: true },
      { server: 'b', open_transitions: 1, emitted: false },
    ]);
    assert.equal(tracker.get('c'), undefined);
    assert.deepEqual(
      fired.map((e) => e.server_name),
      ['a'],
    );
  });

  it('blocks() lists the fired blockers with the live count until re-armed', () => {
    const { clock, tracker, open, close } = rig();
    open('a');
    open('a');
    assert.deepEqual(tracker.blocks(), []);
    open('a');
    clock.advance(1000);
    open('a');
    open('b');
    const blocks = tracker.blocks();
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0]!.server, 'a');
    assert.equal(blocks[0]!.open_transitions, 4);
    assert.equal(blocks[0]!.threshold, 3);
    assert.equal(blocks[0]!.emitted_at, '2026-04-20T12:00:00.000Z');
    assert.match(blocks[0]!.message, /3 times/);
    close('a');
    assert.deepEqual(tracker.blocks(), []);
  });

  it('resetForSession drops every entry and stamps the new id', () => {
    const { tracker, fired, open } = rig();
    open('a');
    open('a');
    tracker.resetForSession('next-session');
    assert.equal(tracker.sessionId, 'next-session');
    assert.deepEqual(tracker.snapshot(), []);
    open('a');
    open('a');
    assert.equal(fired.length, 0);
    open('a');
    assert.equal(fired[0]!.session_id, 'next-session');
  });

  it('floors the threshold at 1', () => {
    for (const threshold of [0, -4, 1]) {
      const { fired, open } = rig(threshold);
      open('a');
      assert.equal(fired.length, 1, `threshold ${threshold}`);
      assert.equal(fired[0]!.threshold, 1);
    }
  });

  it('a throwing listener leaves the tracker consistent and fires once per arming', () => {
    const clock = new ManualClock();
    const tracker = new SessionBlockerTracker(SESSION, {}, clock);
    let calls = 0;
    tracker.onDidFireSessionBlocker(() => {
      calls++;
      throw new Error('audit sink rejected');
    });
    const others: SessionBlockerEvent[] = [];
    tracker.onDidFireSessionBlocker((e) => others.push(e));
    for (let i = 0; i < 5; i++) tracker.recordTransition({ server: 'a', from: 'closed', to: 'open' });
    assert.equal(calls, 1);
    assert.equal(others.length, 1);
    assert.equal(listenerErrors.length, 1);
    assert.deepEqual(tracker.get('a'), { server: 'a', open_transitions: 5, emitted: true });
  });

  it('a listener feeding a transition back in does not fire twice', () => {
    const { tracker, fired, open } = rig();
    tracker.onDidFireSessionBlocker((e) => open(e.server_name));
    open('a');
    open('a');
    open('a');
    assert.equal(fired.length, 1);
    assert.equal(tracker.get('a')?.open_transitions, 4);
  });

  it('end to end: a real breaker that stays dead fires after 5 failures and two failed probes', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker('dead', {}, clock);
    const tracker = new SessionBlockerTracker(SESSION, {}, clock);
    const fired: SessionBlockerEvent[] = [];
    tracker.onDidFireSessionBlocker((e) => fired.push(e));
    breaker.onDidChangeState((t) => tracker.recordTransition(t));
    breaker.onDidRequestProbe(() => breaker.recordFailure()); // every probe fails
    for (let i = 0; i < 5; i++) breaker.recordFailure();
    clock.advance(30_000); // probe 1 fails → open (2)
    assert.equal(fired.length, 0);
    clock.advance(60_000); // probe 2 fails → open (3)
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.server_name, 'dead');
    assert.equal(fired[0]!.open_transitions, 3);
    // Recovery re-arms.
    breaker.reset();
    assert.deepEqual(tracker.get('dead'), { server: 'dead', open_transitions: 0, emitted: false });
  });
});
