import type * as vscode from 'vscode';
import { Emitter } from '../common/event';
import type { StoredAuth, TokenStore } from '../auth/tokenStore';

const PREFIX = 'gatehouse.oauth:';
const INDEX = 'gatehouse.oauth.index';

/**
 * Sign-ins in VS Code's SecretStorage (the OS keychain, or the browser's encrypted storage in
 * code-server), never in a file: one secret per server URL plus an index of the URLs. Other
 * windows' changes arrive through `secrets.onDidChange`, so every window's gateway follows a
 * sign-in made in one of them.
 */
export class SecretTokenStore implements TokenStore {
  private readonly emitter = new Emitter<string>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription: vscode.Disposable;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscription = secrets.onDidChange((e) => {
      if (e.key.startsWith(PREFIX)) this.emitter.fire(e.key.slice(PREFIX.length));
    });
  }

  async get(url: string): Promise<StoredAuth | undefined> {
    const text = await this.secrets.get(PREFIX + url);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as StoredAuth;
    } catch {
      return undefined;
    }
  }

  async keys(): Promise<string[]> {
    try {
      const parsed: unknown = JSON.parse((await this.secrets.get(INDEX)) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((k): k is string => typeof k === 'string') : [];
    } catch {
      return [];
    }
  }

  set(url: string, value: StoredAuth | undefined): Promise<void> {
    return this.update(url, () => value);
  }

  async update(url: string, change: (current: StoredAuth | undefined) => StoredAuth | undefined): Promise<void> {
    const run = this.writing.then(async () => {
      const value = change(await this.get(url));
      if (value === undefined) await this.secrets.delete(PREFIX + url);
      else await this.secrets.store(PREFIX + url, JSON.stringify(value));
      const keys = new Set(await this.keys());
      if (value === undefined) keys.delete(url);
      else keys.add(url);
      await this.secrets.store(INDEX, JSON.stringify([...keys]));
    });
    this.writing = run.catch(() => undefined);
    await run;
    // SecretStorage reports this window's own writes too, but not on every version: say it here as well.
    this.emitter.fire(url);
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
