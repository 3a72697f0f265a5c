import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { FileTokenStore } from '../../../extension/auth/fileTokenStore';
import { RemoteOAuthProvider } from '../../../extension/auth/remoteOAuthProvider';
import { ManualClock } from '../../../extension/common/clock';
import { tempDir } from '../../helpers/fixtures';

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
