import { AsyncLocalStorage } from 'node:async_hooks';
import { auth, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Clock } from '../common/clock';
import { MutableDisposable, type IDisposable } from '../common/disposable';
import type { GatewayAuth } from './gatewayAuth';
import { GatewayAuthBase } from './gatewayAuthBase';
import { NeedsAuthError } from './needsAuthError';
import type { StoredAuth, TokenStore } from './tokenStore';

/** A registry `auth:` block's OAuth part: a client registered by hand, for servers without dynamic registration. */
export interface ConfiguredClient {
  client_id?: string;
  scopes?: string[];
}

export interface RemoteOAuthOptions {
  server: string;
  /** The resolved server URL: the MCP endpoint and the store's key. */
  url: string;
  store: TokenStore;
  clock: Clock;
  client?: ConfiguredClient;
  fetchFn?: FetchLike;
}

/** Refresh this long before the access token expires (also absorbs a few seconds of clock skew). */
export const REFRESH_EARLY_MS = 60_000;

/**
 * Set while {@link RemoteOAuthProvider.refresh} runs the SDK's auth(): the tokens() it asks for
 * must not wait for the refresh they are part of.
 */
const insideRefresh = new AsyncLocalStorage<true>();

/** Registered redirect for a gateway that has no browser: never visited, only named in DCR. */
const NO_REDIRECT = 'http://127.0.0.1/callback';

/** The SDK's client metadata for Gatehouse: a public client (PKCE, no secret) with loopback redirects only. */
export function gatehouseClientMetadata(redirectUrl: string, scopes?: readonly string[]): OAuthClientMetadata {
  return {
    client_name: 'Gatehouse',
    redirect_uris: [redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...(scopes?.length ? { scope: scopes.join(' ') } : {}),
  };
}

/** Copies tokens as the store keeps them, with an absolute expiry. */
export function storedTokens(tokens: OAuthTokens, now: number): Pick<StoredAuth, 'tokens' | 'expires_at'> {
  return { tokens, expires_at: typeof tokens.expires_in === 'number' ? now + tokens.expires_in * 1000 : undefined };
}

/**
 * The gateway's side of the MCP SDK's OAuth client (`OAuthClientProvider`), one per remote
 * server: it hands stored tokens to the Streamable HTTP transport, lets the SDK refresh them on
 * a 401, refreshes them itself shortly before they expire, and — since a gateway has no browser —
 * turns every "the user must sign in" of the SDK's `auth()` into a `NeedsAuthError`, which the
 * connection shows as the `needs_auth` state. The interactive flow is signIn.ts.
 */
export class RemoteOAuthProvider extends GatewayAuthBase implements GatewayAuth {
  private discovery: OAuthDiscoveryState | undefined;
  /** Why a sign-in is needed, when known better than "not signed in". */
  private note: string | undefined;
  private lastAccess: string | undefined;
  private loaded = false;
  /** The refresh under way: every caller shares it (refresh tokens are often single-use). */
  private refreshing: Promise<void> | undefined;
  /** The refresh token of the last refresh: one that failed is not retried by every request. */
  private refreshedFrom: string | undefined;
  private readonly refreshTimer = this.register(new MutableDisposable<IDisposable>());

  constructor(private readonly opts: RemoteOAuthOptions) {
    super();
    this.register(opts.store.onDidChange((url) => url === opts.url && void this.storeChanged()));
    void this.storeChanged();
  }

  /** The server URL this provider signs in to (the store's key). */
  get url(): string {
    return this.opts.url;
  }

  get redirectUrl(): string {
    return NO_REDIRECT;
  }

  get clientMetadata(): OAuthClientMetadata {
    return gatehouseClientMetadata(NO_REDIRECT, this.opts.client?.scopes);
  }

  async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
    if (this.opts.client?.client_id) return { client_id: this.opts.client.client_id };
    const client = (await this.opts.store.get(this.opts.url))?.client;
    if (!client) throw new NeedsAuthError(this.note ?? 'not signed in');
    return client;
  }

  async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    if (this.opts.client?.client_id) return;
    await this.update({ client: info });
  }

  /**
   * The transport asks before every request. An access token known to have expired (the gateway
   * was closed past its expiry) is refreshed first, once for all the requests that ask meanwhile:
   * sent as it is, each of them would get a 401 and refresh on its own, and with a rotating
   * refresh token all but the first refresh are refused, which signs the user out.
   */
  async tokens(): Promise<OAuthTokens | undefined> {
    if (insideRefresh.getStore()) return (await this.opts.store.get(this.opts.url))?.tokens;
    if (this.refreshing) await this.refreshing;
    const stored = await this.opts.store.get(this.opts.url);
    const refreshToken = stored?.tokens?.refresh_token;
    if (!refreshToken || refreshToken === this.refreshedFrom || !this.knownExpired(stored)) return stored?.tokens;
    await this.refresh();
    return (await this.opts.store.get(this.opts.url))?.tokens;
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    // The gateway only ever refreshes: if the user signed out while the refresh was in flight
    // (here or in another process), its answer must not sign them back in.
    const fresh = storedTokens(tokens, this.opts.clock.now());
    let saved = false;
    await this.opts.store.update(this.opts.url, (current) => {
      if (!current?.tokens) return current;
      saved = true;
      return { ...current, ...fresh };
    });
    if (saved) this.note = undefined;
  }

  redirectToAuthorization(): never {
    throw new NeedsAuthError(this.note ?? 'not signed in');
  }

  saveCodeVerifier(): void {
    // The gateway never starts an authorization: signIn.ts does, with its own provider.
  }

  codeVerifier(): never {
    throw new NeedsAuthError('no sign-in is under way in the gateway');
  }

  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    if (scope === 'verifier') return;
    this.discovery = undefined;
    if (scope === 'discovery') return;
    const stored = await this.opts.store.get(this.opts.url);
    if (!stored) return;
    if (scope === 'tokens' && stored.tokens?.refresh_token) this.note = 'the authorization server refused the refresh token (expired or revoked); sign in again';
    if (scope === 'all' || scope === 'client') this.note = 'the authorization server no longer knows this client; sign in again';
    const next: StoredAuth = { ...stored, tokens: undefined, expires_at: undefined };
    if (scope !== 'tokens') next.client = undefined;
    await this.opts.store.set(this.opts.url, next.tokens || next.client ? next : undefined);
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    // auth() asks for this first: it marks that the failure that follows is an auth failure.
    this.markAttempt();
    return this.discovery;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state;
  }

  protected otherAuthFailure(err: unknown): string {
    return this.note ?? `sign-in failed: ${err instanceof Error ? err.message : String(err)}`;
  }

  /**
   * Refreshes now with the stored refresh token (the SDK's auth()); a failure fires onDidLoseAuth.
   * Single-flight: the timer and the requests waiting in tokens() share one refresh grant.
   */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    try {
      this.refreshedFrom = (await this.opts.store.get(this.opts.url))?.tokens?.refresh_token;
      await insideRefresh.run(true, () => auth(this, { serverUrl: this.opts.url, fetchFn: this.opts.fetchFn }));
    } catch (err) {
      const reason = err instanceof NeedsAuthError ? err.message : `refreshing the token failed: ${err instanceof Error ? err.message : String(err)}`;
      this._onDidLoseAuth.fire(reason);
    } finally {
      this.clearAttempt();
    }
  }

  private update(patch: Partial<StoredAuth>): Promise<void> {
    return this.opts.store.update(this.opts.url, (current) => ({ ...current, ...patch }));
  }

  private async storeChanged(): Promise<void> {
    const stored = await this.opts.store.get(this.opts.url);
    const access = stored?.tokens?.access_token;
    const before = this.lastAccess;
    const first = !this.loaded;
    this.lastAccess = access;
    this.loaded = true;
    this.schedule(stored);
    // The tokens that were there at start are not news.
    if (first) return;
    if (access && access !== before) {
      this.note = undefined;
      this._onDidSignIn.fire();
    } else if (!access && before) {
      this._onDidLoseAuth.fire(this.note ?? 'signed out');
    }
  }

  /**
   * The access token's expiry has passed by our clock. Not for a token that had expired when it
   * arrived (see schedule()): refreshing that one brings another such token, at every request.
   */
  private knownExpired(stored: StoredAuth | undefined): boolean {
    if (stored?.expires_at === undefined || stored.expires_at > this.opts.clock.now()) return false;
    const lifetime = stored.tokens?.expires_in;
    return !(typeof lifetime === 'number' && lifetime <= 0);
  }

  private schedule(stored: StoredAuth | undefined): void {
    this.refreshTimer.value = undefined;
    const at = this.refreshAt(stored);
    if (at === undefined) return;
    // Capped: a timer longer than 2^31 ms fires at once.
    const delay = Math.min(2 ** 31 - 1, Math.max(0, at - this.opts.clock.now()));
    this.refreshTimer.value = this.opts.clock.setTimeout(() => void this.refreshIfDue(), delay);
  }

  /**
   * The timer's refresh. The timer was set from a record read earlier: a request's refresh (or
   * another process's sign-in) may have replaced it since, and refreshing again would spend the
   * new refresh token for nothing. So the record as it is now decides.
   */
  private async refreshIfDue(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    const stored = await this.opts.store.get(this.opts.url);
    const at = this.refreshAt(stored);
    if (at === undefined || at > this.opts.clock.now()) return this.schedule(stored);
    await this.refresh();
  }

  /** When the timer should refresh `stored`'s access token, or undefined for never. */
  private refreshAt(stored: StoredAuth | undefined): number | undefined {
    if (!stored?.tokens?.refresh_token || stored.expires_at === undefined) return undefined;
    const lifetime = typeof stored.tokens.expires_in === 'number' ? stored.tokens.expires_in * 1000 : undefined;
    // A token that had expired when it arrived (expires_in ≤ 0: the authorization server's
    // clock runs ahead, or it says so) is used until the server refuses it; the 401 refreshes it.
    // A timer would only fetch another such token, and another, in a tight loop.
    if (lifetime !== undefined && lifetime <= 0) return undefined;
    // A lifetime shorter than the early margin is refreshed halfway (not at once, in a loop).
    const early = lifetime !== undefined && lifetime <= REFRESH_EARLY_MS ? lifetime / 2 : REFRESH_EARLY_MS;
    return stored.expires_at - early;
  }
}
