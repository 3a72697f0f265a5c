/** Why a proxied call did not reach a result; the gateway turns these into `isError` texts. */
export type DownstreamErrorCode =
  | 'unknown_server' // no such server in the registry
  | 'unavailable' // disabled, blocked, gave up, stopped, or did not become ready in time
  | 'circuit_open' // the breaker refuses calls for now
  | 'needs_auth' // a remote server wants a sign-in (OAuth) first
  | 'died_during_call' // the child's transport died while the call was in flight (not re-sent)
  | 'timeout' // no answer within the call timeout; the child keeps running
  | 'request_failed'; // the server answered with a JSON-RPC error or an invalid result

/** An error with a machine-readable code and a message written for the person reading it. */
export class DownstreamError extends Error {
  constructor(
    readonly code: DownstreamErrorCode,
    message: string,
    readonly server: string,
  ) {
    super(message);
    this.name = 'DownstreamError';
  }
}
