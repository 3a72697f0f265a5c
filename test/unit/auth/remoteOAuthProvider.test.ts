import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { FileTokenStore } from '../../../extension/auth/fileTokenStore';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { RemoteOAuthProvider } from '../../../extension/auth/remoteOAuthProvider';
import type { TokenStore } from '../../../extension/auth/tokenStore';
import { ManualClock } from '../../../extension/common/clock';
import { tempDir } from '../../helpers/fixtures';
import { until } from '../../helpers/poll';

const URL = 'https://remote.example/mcp';

test('a refresh that lands after `auth logout` in another process does not sign the user back in', async () => {
  const dir = path.join(tempDir('gatehouse-tokens-'), 'gatehouse');
  // The gateway's store, and the one of `gatehouse auth logout` (another process, same file).
  const gatewayStore = new FileTokenStore(dir);
  const logoutStore = new FileTokenStore(dir);
  await gatewayStore.set(URL, {
    tokens: { access_token: 'A1', token_type: 'Bearer', refresh_token: 'R1', expires_in: 3600 },
    client: { client_id: 'c' },
    signed_in_at: new Date(0).toISOString(),
  });
  const provider = new RemoteOAuthProvider({ server: 'remote', url: URL, store: gatewayStore, clock: new ManualClock() });
  try {
    assert.equal((await provider.tokens())?.access_token, 'A1');
    // The logout lands while the refresh is in flight; the gateway has not noticed it yet
    // (it polls the file), so its cache still holds the tokens.
    await logoutStore.set(URL, undefined);
    await provider.saveTokens({ access_token: 'A2', token_type: 'Bearer', refresh_token: 'R2', expires_in: 3600 });
    assert.equal(await new FileTokenStore(dir).get(URL), undefined, 'the record stays deleted');
  } finally {
    provider.dispose();
    gatewayStore.dispose();
    logoutStore.dispose();
  }
});

test('a refresh keeps what another process added to the record meanwhile and replaces only the tokens', async () => {
  const dir = path.join(tempDir('gatehouse-tokens-'), 'gatehouse');
  const gatewayStore = new FileTokenStore(dir);
  const otherStore = new FileTokenStore(dir);
  await gatewayStore.set(URL, { tokens: { access_token: 'A1', token_type: 'Bearer', refresh_token: 'R1' }, client: { client_id: 'c' } });
  const provider = new RemoteOAuthProvider({ server: 'remote', url: URL, store: gatewayStore, clock: new ManualClock(1_000) });
  try {
    await provider.tokens();
    await otherStore.set(URL, { tokens: { access_token: 'A1', token_type: 'Bearer', refresh_token: 'R1' }, client: { client_id: 'c' }, signed_in_at: 'later' });
    await provider.saveTokens({ access_token: 'A2', token_type: 'Bearer', refresh_token: 'R2', expires_in: 60 });
    const stored = await new FileTokenStore(dir).get(URL);
    assert.equal(stored?.tokens?.access_token, 'A2');
    assert.equal(stored?.expires_at, 61_000);
    assert.equal(stored?.signed_in_at, 'later');
    assert.deepEqual(stored?.client, { client_id: 'c' });
  } finally {
    provider.dispose();
    gatewayStore.dispose();
    otherStore.dispose();
  }
});

test('the refresh timer set from a stale read does not spend the refresh token a request has just renewed', async () => {
  const dir = path.join(tempDir('gatehouse-tokens-'), 'gatehouse');
  const files = new FileTokenStore(dir);
  const clock = new ManualClock(1_000_000);
  // Expired by the clock: the record the gateway finds at start.
  await files.set(URL, { tokens: { access_token: 'A1', token_type: 'Bearer', refresh_token: 'R1', expires_in: 3600 }, client: { client_id: 'c' }, expires_at: clock.now() - 60_000 });
  // The provider's first read of the store answers late, with what the file held when it asked:
  // meanwhile a request's refresh saved new tokens (the interleaving CI met under load).
  let release!: () => void;
  const late = new Promise<void>((resolve) => (release = resolve));
  let reads = 0;
  let staleAnswered = false;
  const store: TokenStore = {
    get: async (url) => {
      const value = await files.get(url);
      if (reads++ === 0) {
        await late;
        staleAnswered = true;
      }
      return value;
    },
    set: (url, value) => files.set(url, value),
    update: (url, change) => files.update(url, change),
    keys: () => files.keys(),
    onDidChange: files.onDidChange,
    dispose: () => undefined,
  };
  let fetches = 0;
  const fetchFn: FetchLike = async () => {
    fetches++;
    return new Response('no', { status: 500 });
  };
  const provider = new RemoteOAuthProvider({ server: 'remote', url: URL, store, clock, fetchFn });
  try {
    await provider.saveTokens({ access_token: 'A2', token_type: 'Bearer', refresh_token: 'R2', expires_in: 3600 });
    await until('the fresh record to be read', () => reads >= 2, 5_000, 5);
    release();
    await until('the stale read to be answered', () => staleAnswered, 5_000, 5);
    // Its schedule() runs right after: a timer due at once, from the expired record.
    await new Promise((r) => setImmediate(r));
    clock.advance(1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(fetches, 0, 'no refresh: the record as it is now is an hour from expiry');
    assert.equal((await files.get(URL))?.tokens?.refresh_token, 'R2');
  } finally {
    provider.dispose();
    files.dispose();
  }
});
