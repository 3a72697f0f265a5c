import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { IDisposable } from '../common/disposable';
import type { Event } from '../common/event';

/** What a connection needs from a remote server's sign-in (OAuth of our own, or a VS Code account). */
export interface GatewayAuth extends OAuthClientProvider, IDisposable {
  /** The server URL it signs in to. */
  readonly url: string;
  /** A sign-in appeared (another process, the Sign In action, an account change). */
  readonly onDidSignIn: Event<void>;
  /** Signed out, or the tokens could not be refreshed; carries the reason. */
  readonly onDidLoseAuth: Event<string>;
  /** True (once) when the SDK's auth() ran since the last call: the error at hand came from signing in. */
  takeAttempt(): boolean;
  /** Why a sign-in is needed, for the state's reason. */
  needsAuthReason(err: unknown): string;
}
