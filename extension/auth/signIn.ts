import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import {
  auth,
  discoverOAuthProtectedResourceMetadata,
  discoverOAuthServerInfo,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { gatehouseClientMetadata, storedTokens, type ConfiguredClient } from './remoteOAuthProvider';
import type { TokenStore } from './tokenStore';

/** The steps of a sign-in, as error messages name them. */
export type SignInStep = 'discovery' | 'registration' | 'authorization' | 'redirect' | 'token exchange';

/** A sign-in that failed, naming the server and the step (never a token, code or secret). */
export class SignInError extends Error {
  constructor(
    readonly server: string,
    readonly step: SignInStep,
    detail: string,
  ) {
    super(`sign-in to '${server}' failed at ${step}: ${detail}`);
    this.name = 'SignInError';
  }
}

export interface SignInOptions {
  server: string;
  /** The resolved MCP endpoint URL (the store's key). */
  url: string;
  store: TokenStore;
  client?: ConfiguredClient;
  /** Shows the authorization URL to the user (print it, open a browser). */
  open: (authorizationUrl: URL) => void | Promise<void>;
  /** Called once the loopback listener is up, with its redirect URL. */
  onListening?: (redirectUrl: string) => void;
  /** How long to wait for the browser to come back (default 5 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  fetchFn?: FetchLike;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const CALLBACK_PATH = '/callback';

/**
 * The interactive OAuth 2.1 sign-in of one remote server, with the MCP SDK's `auth()` doing
 * discovery (protected-resource and authorization-server metadata), dynamic client
 * registration (unless a client_id is configured), PKCE, the resource indicator and the code
 * exchange. The redirect comes back to a loopback listener on 127.0.0.1 (RFC 8252 §7.3): it
 * accepts exactly one request, checks `state`, and closes. Tokens and the client registration
 * are written to the store in one step, only when the whole flow succeeded.
 */
export async function signIn(opts: SignInOptions): Promise<void> {
  const previous = await opts.store.get(opts.url);
  const listener = await listenLoopback(preferredPort(previous?.client, opts.client));
  try {
    const redirectUrl = `http://127.0.0.1:${listener.port}${CALLBACK_PATH}`;
    opts.onListening?.(redirectUrl);
    const provider = new SignInProvider(opts, redirectUrl, opts.client?.client_id ? undefined : previous?.client);
    provider.saveDiscoveryState(await discover(opts));
    provider.step = 'registration';
    let result: Awaited<ReturnType<typeof auth>>;
    try {
      result = await auth(provider, { serverUrl: opts.url, fetchFn: opts.fetchFn });
    } catch (err) {
      throw new SignInError(opts.server, provider.step, detail(err));
    }
    if (result !== 'REDIRECT' || !provider.authorizationUrl) throw new SignInError(opts.server, 'authorization', 'the authorization server did not ask for a sign-in');
    provider.step = 'redirect';
    const waiting = listener.next(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, opts.signal);
    await opts.open(provider.authorizationUrl);
    const params = await waiting.catch((err: unknown) => {
      throw new SignInError(opts.server, 'redirect', detail(err));
    });
    const error = params.get('error');
    if (error) {
      const description = params.get('error_description');
      throw new SignInError(opts.server, 'authorization', `the authorization server answered '${error}'${description ? `: ${description}` : ''}`);
    }
    if (!sameSecret(params.get('state') ?? '', provider.stateValue)) {
      throw new SignInError(opts.server, 'redirect', "the redirect's state does not match this sign-in (a stale or forged redirect); nothing was stored");
    }
    const code = params.get('code');
    if (!code) throw new SignInError(opts.server, 'redirect', 'the redirect carried no authorization code');
    provider.step = 'token exchange';
    try {
      await auth(provider, { serverUrl: opts.url, authorizationCode: code, fetchFn: opts.fetchFn });
    } catch (err) {
      throw new SignInError(opts.server, 'token exchange', detail(err));
    }
    if (!provider.issued) throw new SignInError(opts.server, 'token exchange', 'no tokens were issued');
    const now = (opts.now ?? Date.now)();
    await opts.store.set(opts.url, {
      ...storedTokens(provider.issued, now),
      client: opts.client?.client_id ? undefined : provider.client,
      signed_in_at: new Date(now).toISOString(),
    });
  } finally {
    listener.close();
  }
}

/**
 * Discovery, checked before anything is registered: the SDK falls back quietly to the server's
 * origin when the protected-resource metadata is missing or malformed, which would surface
 * later as a baffling registration error; here it is named for what it is.
 */
async function discover(opts: SignInOptions): Promise<OAuthDiscoveryState> {
  let info: Awaited<ReturnType<typeof discoverOAuthServerInfo>>;
  try {
    info = await discoverOAuthServerInfo(opts.url, { fetchFn: opts.fetchFn });
  } catch (err) {
    throw new SignInError(opts.server, 'discovery', detail(err));
  }
  if (info.authorizationServerMetadata) return info;
  let why = 'it publishes no protected-resource metadata';
  try {
    await discoverOAuthProtectedResourceMetadata(opts.url, {}, opts.fetchFn);
  } catch (err) {
    why = `its protected-resource metadata is missing or malformed (${detail(err)})`;
  }
  throw new SignInError(
    opts.server,
    'discovery',
    `${why}, and no authorization-server metadata was found at ${info.authorizationServerUrl}; the server does not support MCP sign-in, or its URL is wrong`,
  );
}

/** The SDK's provider for one interactive sign-in: everything in memory until the flow succeeds. */
class SignInProvider implements OAuthClientProvider {
  step: SignInStep = 'discovery';
  authorizationUrl: URL | undefined;
  issued: OAuthTokens | undefined;
  readonly stateValue = randomBytes(32).toString('base64url');
  private verifier: string | undefined;
  private discovery: OAuthDiscoveryState | undefined;

  constructor(
    private readonly opts: SignInOptions,
    readonly redirectUrl: string,
    /** A registration from an earlier sign-in, reused when it names this redirect. */
    public client: OAuthClientInformationMixed | undefined,
  ) {
    const uris = (client as { redirect_uris?: unknown } | undefined)?.redirect_uris;
    if (client && !(Array.isArray(uris) && uris.includes(redirectUrl))) this.client = undefined;
  }

  get clientMetadata(): OAuthClientMetadata {
    return gatehouseClientMetadata(this.redirectUrl, this.opts.client?.scopes);
  }

  state(): string {
    return this.stateValue;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    if (this.step === 'discovery') this.step = 'registration';
    if (this.opts.client?.client_id) return { client_id: this.opts.client.client_id };
    return this.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    if (!this.opts.client?.client_id) this.client = info;
  }

  tokens(): OAuthTokens | undefined {
    // A sign-in always asks the user: stored tokens are not refreshed here.
    return undefined;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.issued = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    if (this.step === 'registration') this.step = 'authorization';
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no PKCE verifier for this sign-in');
    return this.verifier;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.discovery;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state;
  }
}

/** The port of an earlier registration's loopback redirect, so that registration can be reused. */
function preferredPort(client: OAuthClientInformationMixed | undefined, configured: ConfiguredClient | undefined): number {
  if (configured?.client_id) return 0;
  const uris = (client as { redirect_uris?: unknown } | undefined)?.redirect_uris;
  const first = Array.isArray(uris) ? uris.find((u): u is string => typeof u === 'string' && u.startsWith('http://127.0.0.1:')) : undefined;
  if (!first) return 0;
  const port = Number(new URL(first).port);
  return Number.isInteger(port) && port > 0 ? port : 0;
}

interface LoopbackListener {
  port: number;
  /** The query of the one request the listener accepts. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<URLSearchParams>;
  close(): void;
}

/** A listener on 127.0.0.1 that answers one request, then stops accepting. */
async function listenLoopback(port: number): Promise<LoopbackListener> {
  let deliver: ((params: URLSearchParams) => void) | undefined;
  let early: URLSearchParams | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ok = url.pathname === CALLBACK_PATH;
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
    res.end(
      ok
        ? '<!doctype html><title>Gatehouse</title><p>Gatehouse received the sign-in. You can close this tab.</p>'
        : '<!doctype html><title>Gatehouse</title><p>Not a Gatehouse sign-in redirect.</p>',
    );
    // One request only: whatever it was, the listener closes behind it.
    server.close();
    const params = ok ? url.searchParams : new URLSearchParams({ error: 'invalid_request', error_description: `unexpected path ${url.pathname}` });
    if (deliver) deliver(params);
    else early ??= params;
  });
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(port);
  } catch (err) {
    if (port === 0) throw err;
    await listen(0);
  }
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : 0;
  return {
    port: bound,
    next(timeoutMs, signal) {
      return new Promise<URLSearchParams>((resolve, reject) => {
        if (early) return resolve(early);
        const timer = setTimeout(() => reject(new Error(`no redirect came back within ${Math.round(timeoutMs / 1000)} s (was the browser closed?)`)), timeoutMs);
        timer.unref();
        const onAbort = () => reject(new Error('cancelled'));
        signal?.addEventListener('abort', onAbort, { once: true });
        deliver = (params) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(params);
        };
      });
    },
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** An error's first line, bounded: servers answer with whole HTML pages. */
function detail(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0]?.trim() ?? '';
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
