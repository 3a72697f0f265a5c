/**
 * The server wants a sign-in that the gateway cannot do on its own (no tokens, refresh refused,
 * no registered client). Thrown from inside the SDK's `auth()` by the gateway's provider, so the
 * connection can tell "sign in" from "the server is failing".
 */
export class NeedsAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NeedsAuthError';
  }
}
