import { AccountAuthProvider } from '../auth/accountAuthProvider';
import { authFailure } from '../auth/authFailure';
import type { GatewayAuth } from '../auth/gatewayAuth';
import { NeedsAuthError } from '../auth/needsAuthError';
import { RemoteOAuthProvider } from '../auth/remoteOAuthProvider';
import { Disposable, MutableDisposable } from '../common/disposable';
import type { ServerConfig } from '../config/registrySchema';
import { traceHeaderFetch } from '../telemetry/traceHeaderFetch';
import type { ConnectionDeps } from './connectionDeps';

// The sign-in side of one remote server: which auth provider its URL gets, and whether an
// error means "sign in". Apart from connection.ts because it only picks providers; what a
// sign-in or a lost sign-in does to the connection's state stays in the state machine, which
// hands its reactions in as `onDidSignIn` and `onDidLoseAuth`.

export interface SignInReactions {
  onDidSignIn(): void;
  onDidLoseAuth(reason: string): void;
}

export class RemoteSignIn extends Disposable {
  /** The OAuth side of a remote server, for its current URL (auth/remoteOAuthProvider.ts). */
  private readonly oauth = this.register(new MutableDisposable<GatewayAuth>());

  constructor(
    private readonly config: ServerConfig,
    private readonly deps: Pick<ConnectionDeps, 'accounts' | 'tokenStore' | 'clock'>,
    private readonly reactions: SignInReactions,
  ) {
    super();
  }

  /** The OAuth provider for `url`, made once per URL; undefined without a token store. */
  providerFor(url: string): GatewayAuth | undefined {
    const account = this.config.auth?.provider;
    if (account && !this.deps.accounts) {
      throw new NeedsAuthError(`it signs in with a VS Code ${account} account (auth.provider), which only the VS Code extension can use`);
    }
    const store = this.deps.tokenStore;
    const current = this.oauth.value;
    if (current?.url === url) return current;
    let provider: GatewayAuth;
    if (account && this.deps.accounts) provider = new AccountAuthProvider(url, account, this.config.auth?.scopes, this.deps.accounts);
    else if (store) provider = new RemoteOAuthProvider({ server: this.config.name, url, store, clock: this.deps.clock, client: this.config.auth, fetchFn: traceHeaderFetch });
    else return undefined;
    provider.onDidSignIn(() => this.reactions.onDidSignIn());
    provider.onDidLoseAuth((reason) => this.reactions.onDidLoseAuth(reason));
    this.oauth.value = provider;
    return provider;
  }

  /** The sign-in reason when `err` means "the server wants a sign-in", else undefined. */
  reason(err: unknown): string | undefined {
    if (!this.config.url) return undefined;
    return authFailure(err, this.oauth.value);
  }
}
