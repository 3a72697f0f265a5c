import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { onStopSignal } from '../../../extension/platform/stopSignals';

// Node's signal emulation on Windows (Node docs, "Signal events"): Ctrl-C → SIGINT, Ctrl-Break →
// SIGBREAK, closing the console window → SIGHUP. Linux cannot generate SIGBREAK, so the Windows
// side is exercised through the source seam; SIGTERM/SIGINT/SIGHUP are also covered for real by
// test/process/gatewayStdio.test.ts.
for (const signal of ['SIGINT', 'SIGBREAK', 'SIGHUP', 'SIGTERM']) {
  test(`serve stops on ${signal}`, () => {
    const source = new EventEmitter();
    const stops: string[] = [];
    onStopSignal((s) => stops.push(s), source);
    source.emit(signal);
    source.emit(signal);
    assert.deepEqual(stops, [signal], 'once per signal');
  });
}

test('listening for SIGBREAK is allowed on this platform too (it is never generated off Windows)', () => {
  const names = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(names.map((s) => [s, process.listeners(s)]));
  const stops: string[] = [];
  onStopSignal((s) => stops.push(s));
  assert.equal(process.listenerCount('SIGBREAK'), (before.get('SIGBREAK')?.length ?? 0) + 1);
  // Remove only what this test added (the runner has its own listeners).
  for (const s of names) for (const l of process.listeners(s)) if (!before.get(s)?.includes(l)) process.removeListener(s, l);
  assert.deepEqual(stops, []);
});
