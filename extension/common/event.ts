import { toDisposable, type IDisposable } from './disposable';

/** A subscription function in VS Code's shape: `onDidX(listener) → disposable`. */
export type Event<T> = (listener: (e: T) => void) => IDisposable;

/** Called with any error a listener throws, so one bad subscriber cannot break the others. */
export type ListenerErrorHandler = (err: unknown) => void;

let defaultErrorHandler: ListenerErrorHandler = (err) => {
  console.error('[gatehouse] event listener failed:', err);
};

/** Lets the composition root route listener errors into its logger. */
export function setListenerErrorHandler(handler: ListenerErrorHandler): void {
  defaultErrorHandler = handler;
}

/**
 * A multi-subscriber event source. Listeners run synchronously in subscription order; a
 * throwing listener is reported and the rest still run (the extension host must never fall
 * over because one view had a bug).
 */
export class Emitter<T> implements IDisposable {
  private listeners: Array<(e: T) => void> = [];
  private disposed = false;

  /** The public side: hand this out, keep `fire` private. */
  readonly event: Event<T> = (listener) => {
    if (this.disposed) return toDisposable(() => undefined);
    this.listeners.push(listener);
    return toDisposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  fire(value: T): void {
    if (this.disposed) return;
    // Copy: a listener may unsubscribe (or subscribe) while we iterate.
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (err) {
        defaultErrorHandler(err);
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    this.listeners = [];
  }
}
