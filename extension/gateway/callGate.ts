import { McpError } from '@modelcontextprotocol/sdk/types.js';

/** JSON-RPC code of "the gateway is stopping" (implementation-defined server-error range). */
export const GATEWAY_STOPPING_CODE = -32099;

const STOPPING_MESSAGE =
  'Gatehouse is stopping: this call was cut off before it finished, so whether the server ran it is unknown. ' +
  'Retry once the gateway is back.';

/**
 * Tracks the `tools/call` requests in flight so that a stop answers each of them (issue 13.12):
 * without it, the transport closes under them and the client sees a reset connection (HTTP) or
 * a vanished request (stdio), not knowing whether the gateway or the server failed. On stop,
 * new calls are answered at once, calls in flight get `drainMs` to finish, and the rest are
 * answered with a JSON-RPC error that says the gateway is stopping.
 */
export class CallGate {
  private readonly inFlight = new Set<(error: Error) => void>();
  private stopping = false;

  /**
   * Runs one call, unless the gateway is stopping; a stop may answer it before `work` ends.
   * One promise per call, settled by whichever comes first (the call's end or the cut), rather
   * than a race of two: this runs on every request.
   */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.stopping) return Promise.reject(stoppingError());
    return new Promise<T>((resolve, reject) => {
      const cut = (error: Error): void => {
        this.inFlight.delete(cut);
        reject(error);
      };
      this.inFlight.add(cut);
      let result: Promise<T>;
      try {
        result = work();
      } catch (err) {
        this.inFlight.delete(cut);
        reject(err);
        return;
      }
      // Cut off, the call may still settle later: nobody is waiting for it any more.
      result.then(
        (value) => {
          this.inFlight.delete(cut);
          resolve(value);
        },
        (err: unknown) => {
          this.inFlight.delete(cut);
          reject(err);
        },
      );
    });
  }

  /** Calls still running. */
  get size(): number {
    return this.inFlight.size;
  }

  /**
   * Refuses new calls, waits up to `drainMs` for the running ones, then answers the rest with
   * the stopping error. Resolves once those answers have been handed to their transports.
   */
  async stop(drainMs: number): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + drainMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const cut of [...this.inFlight]) cut(stoppingError());
    // The rejections reach the SDK's request handlers, which send the error responses.
    await new Promise((r) => setImmediate(r));
  }
}

function stoppingError(): McpError {
  return new McpError(GATEWAY_STOPPING_CODE, STOPPING_MESSAGE);
}
