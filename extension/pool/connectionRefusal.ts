import { signInHint } from '../auth/authFailure';
import type { DownstreamState } from '../protocol/model';
import { DownstreamError } from './downstreamError';

// The error a call gets without even waiting, per state. Apart from connection.ts because it
// is a pure table from state to text; the connection decides when to ask.

/** Why a call cannot even wait, or undefined when waiting makes sense. */
export function connectionRefusal(name: string, state: DownstreamState, why: string | null, terminal: boolean): DownstreamError | undefined {
  const reason = why ? `: ${why}` : '';
  switch (state) {
    case 'disabled':
      return new DownstreamError('unavailable', `${name} is disabled in registry.yaml.`, name);
    case 'blocked':
      return new DownstreamError('unavailable', `${name} is blocked until its configuration change is accepted${reason}.`, name);
    case 'gave_up':
      return new DownstreamError('unavailable', `${name} is down (${why}). Fix the cause, then respawn it.`, name);
    case 'stopped':
      return new DownstreamError('unavailable', `${name} is stopped.`, name);
    case 'needs_auth':
      return new DownstreamError('needs_auth', `${name} needs sign-in${reason}. ${signInHint(name)}`, name);
    case 'crashed':
      return terminal ? new DownstreamError('unavailable', `${name} cannot start${reason}.`, name) : undefined;
    default:
      return undefined;
  }
}
