import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResourceIndex, unwrapUri, wrapUri } from '../../../../extension/gateway/routing/resourceIndex';
import type { ServerCatalog } from '../../../../extension/pool/types';

const caps = { prompts: false, resources: true, subscribe: false, completions: false, logging: false };
function catalog(server: string, uris: string[], templates: string[] = []): ServerCatalog {
  return {
    server,
    prompts: [],
    resources: uris.map((uri) => ({ uri, name: uri })),
    templates: templates.map((uriTemplate) => ({ uriTemplate, name: uriTemplate })),
    capabilities: caps,
  };
}
const servers = ['a', 'b', 'c'];

describe('ResourceIndex', () => {
  test('a URI only one server lists is unchanged; a URI two servers list is rewritten for each', () => {
    const index = new ResourceIndex([catalog('a', ['file:///x', 'file:///shared']), catalog('b', ['file:///y', 'file:///shared'])]);
    assert.deepEqual(
      index.resources.map((r) => r.uri),
      ['file:///x', 'gatehouse://a/file:///shared', 'file:///y', 'gatehouse://b/file:///shared'],
    );
    assert.deepEqual(index.resolve('file:///x', servers), { server: 'a', uri: 'file:///x' });
    assert.deepEqual(index.resolve('file:///y', servers), { server: 'b', uri: 'file:///y' });
    assert.deepEqual(index.resolve('gatehouse://b/file:///shared', servers), { server: 'b', uri: 'file:///shared' });
    assert.match(index.resolve('file:///shared', servers).refusal?.message ?? '', /could come from a or b; read it as gatehouse:\/\/a\/file:\/\/\/shared/);
  });

  test('every exposed URI and template resolves back to its server and original (the rule is reversible)', () => {
    const cats = [
      catalog('a', ['demo://one', 'demo://both?x=1#f', 'weird'], ['demo://item/{id}', '{+any}']),
      catalog('b', ['demo://both?x=1#f', 'other://two'], ['other://t/{id}']),
    ];
    const index = new ResourceIndex(cats);
    for (const r of index.resources) assert.deepEqual(index.resolve(r.uri, servers), { server: r.server, uri: r.originalUri }, r.uri);
    // A template keeps its text only when its scheme is its server's alone.
    assert.deepEqual(index.templates.map((t) => t.uriTemplate), ['gatehouse://a/demo://item/{id}', 'gatehouse://a/{+any}', 'other://t/{id}']);
    assert.deepEqual(index.resolve('gatehouse://a/demo://item/7', servers), { server: 'a', uri: 'demo://item/7' });
    // a's catch-all template matches it too, but the scheme is b's alone: an unchanged template keeps its promise.
    assert.deepEqual(index.resolve('other://t/5', servers), { server: 'b', uri: 'other://t/5' });
  });

  test('unlisted URIs: a scheme only one server uses, then a unique template match; else a refusal', () => {
    const index = new ResourceIndex([catalog('a', ['demo://x'], ['demo://item/{id}']), catalog('b', ['note://y'])]);
    assert.deepEqual(index.templates.map((t) => t.uriTemplate), ['demo://item/{id}']);
    assert.deepEqual(index.resolve('demo://item/9', servers), { server: 'a', uri: 'demo://item/9' });
    assert.deepEqual(index.resolve('note://other', servers), { server: 'b', uri: 'note://other' });
    assert.equal(index.resolve('zzz://nothing', servers).refusal?.code, 'unknown_resource');
  });

  test('gatehouse:// URIs follow the naming rules of tools', () => {
    const index = new ResourceIndex([]);
    assert.equal(index.resolve('gatehouse://ghost/x://y', servers).refusal?.code, 'unknown_server');
    assert.equal(index.resolve('gatehouse://gatehouse/x://y', servers).refusal?.code, 'reserved_namespace');
    assert.equal(index.resolve('gatehouse://a', servers).refusal?.code, 'missing_prefix');
    assert.deepEqual(unwrapUri(wrapUri('a', 'x://y/{z}?q#h')), { server: 'a', original: 'x://y/{z}?q#h' });
  });
});
