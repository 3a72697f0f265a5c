import * as vscode from 'vscode';
import { Emitter } from '../common/event';
import type { AccountProvider, AccountSessions } from '../auth/accountSessions';

/**
 * VS Code accounts for the core (auth/accountSessions.ts): silent `getSession` (never a prompt
 * from the gateway; the Sign In action asks), and `onDidChangeSessions` for GitHub and Microsoft.
 */
export class VscodeAccounts implements AccountSessions {
  private readonly emitter = new Emitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription = vscode.authentication.onDidChangeSessions((e) => {
    if (e.provider.id === 'github' || e.provider.id === 'microsoft') this.emitter.fire();
  });

  async token(provider: AccountProvider, scopes: readonly string[]): Promise<string | undefined> {
    const session = await vscode.authentication.getSession(provider, [...scopes], { silent: true });
    return session?.accessToken;
  }

  /** The Sign In action: asks VS Code for the account (its own consent dialog). */
  async signIn(provider: AccountProvider, scopes: readonly string[]): Promise<void> {
    await vscode.authentication.getSession(provider, [...scopes], { createIfNone: true });
    this.emitter.fire();
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
