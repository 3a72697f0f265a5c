import type { Event } from '../common/event';

/** The VS Code account providers a registry `auth.provider` may name. */
export type AccountProvider = 'github' | 'microsoft';

/**
 * VS Code accounts (`vscode.authentication`), as the core sees them: the host implements it;
 * the core never imports vscode. No OAuth flow of our own for these servers.
 */
export interface AccountSessions {
  /** The account's access token for `scopes`, or undefined when not signed in; never prompts. */
  token(provider: AccountProvider, scopes: readonly string[]): Promise<string | undefined>;
  /** Accounts or their sessions changed (sign-in, sign-out, another account). */
  readonly onDidChange: Event<void>;
}

/** Scopes asked for when the registry names none. */
export function accountScopes(provider: AccountProvider, scopes: readonly string[] | undefined): string[] {
  if (scopes?.length) return [...scopes];
  return provider === 'github' ? ['read:user'] : ['openid', 'profile', 'offline_access'];
}
