import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { signInHint } from '../auth/authFailure';
import type { CircuitBreaker } from './breaker';
import type { CallStats } from './callStats';
import { errorText } from './connectionText';
import { DownstreamError } from './downstreamError';
import type { CallOptions, DownstreamRequest } from './types';

// The rules every request kind (tools/call, prompts/get, resources/read, completions,
// subscriptions, logging/setLevel) is sent under. Apart from connection.ts because they only
// read the connection's state and report back through `RequestHost`; the state changes a
// request causes (degraded, needs_auth) stay in the state machine.

/** What a request needs from the connection it is sent through. */
export interface RequestHost {
  readonly name: string;
  readonly breaker: CircuitBreaker;
  readonly stats: CallStats;
  callMs(): number;
  /** The live client, waiting (bounded) for a start or respawn under way. */
  whenReady(): Promise<Client>;
  /** The live client now, when there is one: what `whenReady` would resolve with at once. */
  liveClient?(): Client | undefined;
  /** The transport now: another one after a failed call means the child died under it. */
  carrier(): Transport | undefined;
  /** What the connection last recorded as wrong (the crash a call died in). */
  lastError(): string | null;
  authReason(err: unknown): string | undefined;
  loseAuth(reason: string): Promise<void>;
  refusal(): DownstreamError | undefined;
  statsChanged(): void;
  succeeded(): void;
  noteRequestError(text: string): void;
  log(level: 'warn', message: string): void;
  redact(text: string): string;
}

/**
 * Sends one request to the server. Every kind has the same rules as a tool call: breaker,
 * bounded wait for a respawn, call timeout, counters, and a re-send after the child died only
 * when `readOnly`.
 */
export async function sendRequest<S extends AnySchema>(host: RequestHost, req: DownstreamRequest<S>, options: CallOptions): Promise<SchemaOutput<S>> {
  const { name, breaker, stats } = host;
  if (!breaker.allows()) {
    stats.refused();
    const retry = breaker.retryAt ? ` Next probe at ${new Date(breaker.retryAt).toISOString()}.` : '';
    throw new DownstreamError('circuit_open', `Circuit open for ${name}: the server is failing and calls are paused.${retry}`, name);
  }
  let resent = false;
  for (;;) {
    // A live client is used in this turn: awaiting an already resolved `whenReady` only cost a
    // promise and a tick per call.
    let client = host.liveClient?.();
    if (client === undefined) {
      try {
        client = await host.whenReady();
      } catch (err) {
        stats.refused();
        // A server waiting for a sign-in is not failing.
        if (!(err instanceof DownstreamError && err.code === 'needs_auth')) breaker.recordFailure();
        throw err;
      }
    }
    const carrier = host.carrier();
    const began = performance.now();
    stats.begin();
    host.statsChanged();
    try {
      const params = options.meta ? { ...req.params, _meta: options.meta } : { ...req.params };
      const result = await client.request({ method: req.method, params } as never, req.schema, {
        timeout: host.callMs(),
        signal: options.signal,
        ...(options.onprogress ? { onprogress: options.onprogress, resetTimeoutOnProgress: true } : {}),
      });
      stats.end(performance.now() - began, false);
      breaker.recordSuccess();
      host.succeeded();
      return result;
    } catch (err) {
      stats.end(performance.now() - began, true);
      const authReason = host.authReason(err);
      if (authReason !== undefined) {
        // The token was refused mid-session and could not be refreshed.
        await host.loseAuth(authReason);
        throw host.refusal() ?? new DownstreamError('needs_auth', `${name} needs sign-in: ${authReason}. ${signInHint(name)}`, name);
      }
      const died = carrier !== host.carrier() || (err instanceof McpError && err.code === ErrorCode.ConnectionClosed);
      if (died && options.readOnly && !resent && !options.signal?.aborted) {
        // Safe to repeat: the request promised not to change anything.
        resent = true;
        host.log('warn', `child died during read-only ${req.label}; sending it again after the respawn`);
        continue;
      }
      // A cancelled request says nothing about the server's health.
      if (!options.signal?.aborted) breaker.recordFailure();
      throw callFailure(host, req.label, err, died);
    } finally {
      host.statsChanged();
    }
  }
}

function callFailure(host: RequestHost, tool: string, err: unknown, died: boolean): DownstreamError {
  const { name } = host;
  if (died) {
    return new DownstreamError(
      'died_during_call',
      `${name}'s process exited while ${tool} was running (${host.lastError() ?? 'connection closed'}). ` +
        `The call was not re-sent because ${tool} may have side effects; check its effect before retrying.`,
      name,
    );
  }
  const callMs = host.callMs();
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
    host.noteRequestError(`${tool} timed out after ${callMs / 1000} s`);
    return new DownstreamError('timeout', `${name} did not answer ${tool} within ${callMs / 1000} s.`, name);
  }
  const text = host.redact(errorText(err));
  host.noteRequestError(`${tool} failed: ${text}`);
  return new DownstreamError('request_failed', `${name} failed ${tool}: ${text}`, name);
}
