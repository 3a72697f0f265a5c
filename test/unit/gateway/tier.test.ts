import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseToolName, classifyTier, classifyTierDetailed } from '../../../extension/gateway/chain/tier';

describe('classifyTier', () => {
  it('uses rea’s static map and prefixes, defaulting to write', () => {
    assert.equal(classifyTier('s', undefined, 'get_messages', undefined), 'read');
    assert.equal(classifyTier('s', undefined, 'send_message', undefined), 'write');
    assert.equal(classifyTier('s', undefined, 'ban_member', undefined), 'destructive');
    assert.equal(classifyTier('s', undefined, 'read_file', undefined), 'read');
    assert.equal(classifyTier('s', undefined, 'list_directory', undefined), 'read');
    assert.equal(classifyTier('s', undefined, 'delete_file', undefined), 'destructive');
    assert.equal(classifyTier('s', undefined, 'truncate_table', undefined), 'destructive');
    assert.equal(classifyTier('s', undefined, 'write_file', undefined), 'write');
    assert.equal(classifyTier('s', undefined, 'echo', undefined), 'write');
    assert.equal(classifyTierDetailed('s', undefined, 'echo', undefined).source, 'default');
  });

  it('classifies the part after the last __ of the tool’s own name', () => {
    assert.equal(baseToolName('ns__inner__delete_thing'), 'delete_thing');
    assert.equal(classifyTier('s', undefined, 'ns__delete_thing', undefined), 'destructive');
  });

  it('registry tier_overrides win, in both directions', () => {
    assert.equal(classifyTier('s', undefined, 'delete_cache', { delete_cache: 'write' }), 'write');
    assert.equal(classifyTier('s', undefined, 'get_secret', { get_secret: 'destructive' }), 'destructive');
    assert.equal(classifyTier('s', { annotations: { destructiveHint: true } }, 'x', { x: 'read' }), 'read');
    assert.deepEqual(classifyTierDetailed('fs', undefined, 'x', { x: 'read' }), {
      tier: 'read',
      source: 'override',
      detail: "registry tier_overrides for 'fs'",
    });
    // Inherited keys are not overrides.
    assert.equal(classifyTier('s', undefined, 'toString', {}), 'write');
  });

  it('annotations: destructiveHint raises; readOnlyHint lowers only the default', () => {
    assert.equal(classifyTier('s', { annotations: { readOnlyHint: true } }, 'echo', undefined), 'read');
    assert.equal(classifyTier('s', { annotations: { destructiveHint: true } }, 'echo', undefined), 'destructive');
    assert.equal(classifyTier('s', { annotations: { destructiveHint: true } }, 'get_x', undefined), 'destructive');
    // An untrusted hint cannot lower a name convention.
    assert.equal(classifyTier('s', { annotations: { readOnlyHint: true } }, 'delete_everything', undefined), 'destructive');
    assert.equal(classifyTier('s', { annotations: { readOnlyHint: true } }, 'send_message', undefined), 'write');
    // Contradictory hints: the stricter one.
    assert.equal(classifyTier('s', { annotations: { readOnlyHint: true, destructiveHint: true } }, 'echo', undefined), 'destructive');
    // destructiveHint false / absent annotations change nothing.
    assert.equal(classifyTier('s', { annotations: { destructiveHint: false } }, 'echo', undefined), 'write');
    assert.equal(classifyTier('s', { annotations: {} }, 'echo', undefined), 'write');
  });
});
