import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitToolName } from '../../../extension/pool/pool';

describe('splitToolName', () => {
  test('splits on the first separator, so tool names may contain __', () => {
    assert.deepEqual(splitToolName('github__create_issue'), { server: 'github', tool: 'create_issue' });
    assert.deepEqual(splitToolName('a__b__c'), { server: 'a', tool: 'b__c' });
  });

  test('a name without a server part is not routable', () => {
    assert.equal(splitToolName('echo'), undefined);
    assert.equal(splitToolName('__x'), undefined, 'an empty server name is refused, not routed to ""');
  });
});
