import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Event } from '../common/event';

/** What Gatehouse keeps for one remote server, keyed by its URL (never by name: a rename keeps the sign-in, another URL never gets it). */
export interface StoredAuth {
  /** As the authorization server issued them, with the `issuer` stamp the SDK adds. */
  tokens?: OAuthTokens;
  /** Epoch ms at which the access token expires (from `expires_in` when it was saved). */
  expires_at?: number;
  /** The client registration (dynamic, or learned from a configured client_id). */
  client?: OAuthClientInformationMixed;
  /** When the user last signed in, ISO. */
  signed_in_at?: string;
}

/**
 * Where sign-ins live: a 0600 file in the user's config directory for the CLI
 * (fileTokenStore.ts), VS Code's SecretStorage in the extension (injected from host/).
 * Nothing here is ever logged: tokens, codes and client secrets stay inside the store and the
 * SDK's requests.
 */
export interface TokenStore {
  get(url: string): Promise<StoredAuth | undefined>;
  /** Replaces the record (undefined deletes it). */
  set(url: string, value: StoredAuth | undefined): Promise<void>;
  /**
   * Replaces the record with what `change` makes of it, read afresh: another process (a
   * `gatehouse auth logout`) may have changed it since this one last looked, and a refresh that
   * lands afterwards must neither undo that nor bring back what it deleted.
   */
  update(url: string, change: (current: StoredAuth | undefined) => StoredAuth | undefined): Promise<void>;
  /** Every stored URL. */
  keys(): Promise<string[]>;
  /** Fires with the URL whose record changed, also when another process changed it. */
  readonly onDidChange: Event<string>;
  dispose(): void;
}
