import { Disposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import { NeedsAuthError } from './needsAuthError';

/**
 * What every {@link GatewayAuth} does the same way: the sign-in events, and telling an error
 * of the SDK's auth() (which calls `discoveryState()` first: the subclass calls
 * {@link markAttempt} there) from any other failure of a request.
 */
export abstract class GatewayAuthBase extends Disposable {
  private attempted = false;
  protected readonly _onDidSignIn = this.register(new Emitter<void>());
  /** A sign-in appeared (another process, the Sign In action, an account change). */
  readonly onDidSignIn: Event<void> = this._onDidSignIn.event;
  protected readonly _onDidLoseAuth = this.register(new Emitter<string>());
  /** Signed out, or the tokens could not be refreshed; carries the reason. */
  readonly onDidLoseAuth: Event<string> = this._onDidLoseAuth.event;

  /** True (once) when the SDK's auth() ran since the last call: the error at hand came from signing in. */
  takeAttempt(): boolean {
    const was = this.attempted;
    this.attempted = false;
    return was;
  }

  /** Why a sign-in is needed, for the state's reason: a NeedsAuthError says it, else the subclass. */
  needsAuthReason(err: unknown): string {
    return err instanceof NeedsAuthError ? err.message : this.otherAuthFailure(err);
  }

  protected markAttempt(): void {
    this.attempted = true;
  }

  protected clearAttempt(): void {
    this.attempted = false;
  }

  /** The reason for a failure of the SDK's auth() that is not a NeedsAuthError of ours. */
  protected abstract otherAuthFailure(err: unknown): string;
}
