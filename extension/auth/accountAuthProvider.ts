import type { OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { accountScopes, type AccountProvider, type AccountSessions } from './accountSessions';
import type { GatewayAuth } from './gatewayAuth';
import { GatewayAuthBase } from './gatewayAuthBase';
import { NeedsAuthError } from './needsAuthError';

const LABEL: Record<AccountProvider, string> = { github: 'GitHub', microsoft: 'Microsoft' };

/**
 * A remote server that signs in with a VS Code account (`auth: { provider: github }`): the
 * transport sends the account session's token; every "sign in" the SDK's auth() would start
 * becomes `needs_auth`, cleared by the Sign In action (vscode.authentication.getSession), and
 * account changes (onDidChangeSessions) are followed.
 */
export class AccountAuthProvider extends GatewayAuthBase implements GatewayAuth {
  private token: string | undefined;
  private loaded: Promise<void>;
  private readonly scopes: string[];

  constructor(
    readonly url: string,
    private readonly provider: AccountProvider,
    scopes: readonly string[] | undefined,
    private readonly sessions: AccountSessions,
  ) {
    super();
    this.scopes = accountScopes(provider, scopes);
    this.loaded = this.reload(true);
    this.register(sessions.onDidChange(() => void (this.loaded = this.reload(false))));
  }

  private get signInText(): string {
    return `sign in with your ${LABEL[this.provider]} account in VS Code (scopes: ${this.scopes.join(' ')})`;
  }

  get redirectUrl(): string {
    return 'http://127.0.0.1/callback';
  }

  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'Gatehouse', redirect_uris: [this.redirectUrl] };
  }

  clientInformation(): never {
    throw new NeedsAuthError(this.otherAuthFailure());
  }

  async tokens(): Promise<OAuthTokens | undefined> {
    await this.loaded;
    return this.token ? { access_token: this.token, token_type: 'Bearer' } : undefined;
  }

  saveTokens(): void {
    // Tokens come from VS Code's account, never from an exchange of ours.
  }

  redirectToAuthorization(): never {
    throw new NeedsAuthError(this.signInText);
  }

  saveCodeVerifier(): void {}

  codeVerifier(): never {
    throw new NeedsAuthError(this.signInText);
  }

  discoveryState(): undefined {
    this.markAttempt();
    return undefined;
  }

  protected otherAuthFailure(): string {
    return this.token ? `the server refused the ${LABEL[this.provider]} account's token; ${this.signInText}` : this.signInText;
  }

  private async reload(first: boolean): Promise<void> {
    let next: string | undefined;
    try {
      next = await this.sessions.token(this.provider, this.scopes);
    } catch {
      next = undefined;
    }
    const before = this.token;
    this.token = next;
    if (first) return;
    if (next && next !== before) this._onDidSignIn.fire();
    else if (!next && before) this._onDidLoseAuth.fire(`signed out of the ${LABEL[this.provider]} account; ${this.signInText}`);
  }
}
