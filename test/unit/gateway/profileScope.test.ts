import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProfileScope } from '../../../extension/gateway/routing/profileScope';

const profiles = { review: { servers: ['fs'], tools: ['fs__read_*'] }, echoes: { tools: ['*__echo'] } };

test('the default endpoint serves everything; a profile its servers and tool globs', () => {
  const all = ProfileScope.of(undefined, profiles);
  assert.ok(all.showsTool('github', 'github__delete_repo'));
  const review = ProfileScope.of('review', profiles);
  assert.deepEqual(review.servers(['github', 'fs']), ['fs']);
  assert.ok(review.showsTool('fs', 'fs__read_file'));
  assert.ok(!review.showsTool('fs', 'fs__write_file'));
  assert.ok(!review.showsTool('github', 'github__read_x'));
  const echoes = ProfileScope.of('echoes', profiles);
  assert.ok(echoes.servesServer('anything'));
  assert.ok(echoes.showsTool('a', 'a__echo') && !echoes.showsTool('a', 'a__sleep'));
});

test('a profile removed by a reload serves nothing rather than everything', () => {
  const gone = ProfileScope.of('review', {});
  assert.deepEqual(gone.servers(['fs']), []);
  assert.ok(!gone.showsTool('fs', 'fs__read_file'));
});
