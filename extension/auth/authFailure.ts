import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { NeedsAuthError } from './needsAuthError';
import type { GatewayAuth } from './gatewayAuth';

/** How to sign in, in every message that says a sign-in is needed. */
export function signInHint(server: string): string {
  return `Sign in: in VS Code, Sign In on '${server}' in the Gatehouse view (or "Gatehouse: Sign In to Server"); on the command line, \`gatehouse auth login ${server}\`.`;
}

/**
 * The sign-in reason when `err` (from connecting or from a request) means "this server wants a
 * sign-in", else undefined: our provider's NeedsAuthError, the SDK's UnauthorizedError, a bare
 * 401, or any failure of the SDK's auth() (discovery, registration, refresh), which the provider
 * marks as it starts.
 */
export function authFailure(err: unknown, provider: GatewayAuth | undefined): string | undefined {
  const attempted = provider?.takeAttempt() ?? false;
  if (err instanceof NeedsAuthError) return err.message;
  if (err instanceof StreamableHTTPError && err.code === 401) return provider?.needsAuthReason(err) ?? 'the server answered 401 Unauthorized and no sign-in is configured';
  if (err instanceof UnauthorizedError || attempted) return provider ? provider.needsAuthReason(err) : 'the server answered 401 Unauthorized';
  return undefined;
}
