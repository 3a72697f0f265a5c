import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyGatewayHeapFlags, GATEWAY_HEAP_GROWING_PERCENT } from '../../../extension/cli/heapFlags';

describe('applyGatewayHeapFlags (gatehouse serve)', () => {
  it('caps the heap growing factor when the user set nothing', () => {
    assert.deepEqual(applyGatewayHeapFlags([], ''), [`--heap-growing-percent=${GATEWAY_HEAP_GROWING_PERCENT}`]);
  });

  it('leaves a value given on the command line or in NODE_OPTIONS alone, in either spelling', () => {
    assert.deepEqual(applyGatewayHeapFlags(['--heap-growing-percent=80'], ''), []);
    assert.deepEqual(applyGatewayHeapFlags(['--heap_growing_percent=80'], ''), []);
    assert.deepEqual(applyGatewayHeapFlags([], '--enable-source-maps --heap-growing-percent=80'), []);
  });
});
