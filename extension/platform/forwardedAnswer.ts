import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { rawResults } from './rawResults';

/**
 * An answer whose result still has the bytes its child wrote for it: `head`, `bytes` and `tail`
 * written in a row are byte for byte `JSON.stringify(message)`. The bytes are the caller's (taken
 * from {@link rawResults}): give them back with `rawResults.release` once copied.
 */
export interface ForwardedAnswer {
  readonly head: string;
  readonly bytes: Buffer;
  readonly tail: string;
}

/**
 * The pieces of a result response whose result an upstream transport may forward as its child's
 * bytes (platform/rawResults.ts: recorded only when they are exactly `JSON.stringify(result)`,
 * and only for a result no layer replaced), the other members serialised here in the message's
 * own order; undefined for any other message, which is serialised the ordinary way. Shared by
 * the stdio and the HTTP transports, so both send the very bytes `JSON.stringify` would.
 */
export function forwardedAnswer(message: JSONRPCMessage): ForwardedAnswer | undefined {
  if (!('result' in message) || Object.getPrototypeOf(message) !== Object.prototype) return undefined;
  const { result, id } = message as { result: unknown; id: unknown };
  // Most answers have no kept bytes (small, or changed by a layer): one WeakMap read says so.
  if (typeof result !== 'object' || result === null || rawResults.byteLength(result) === undefined) return undefined;
  if (message.jsonrpc !== '2.0' || !(typeof id === 'string' || Number.isSafeInteger(id))) return undefined;
  const before: string[] = [];
  const after: string[] = [];
  let seen = false;
  for (const key in message) {
    if (key === 'result') seen = true;
    else (seen ? after : before).push(`${JSON.stringify(key)}:${JSON.stringify(message[key as 'jsonrpc' | 'id'])}`);
  }
  // Exactly `result`, `jsonrpc` and `id` (both checked above): nothing else may share the line.
  if (!seen || before.length + after.length !== 2) return undefined;
  const bytes = rawResults.take(result);
  if (bytes === undefined) return undefined;
  return { head: `{${before.map((m) => `${m},`).join('')}"result":`, bytes, tail: `${after.map((m) => `,${m}`).join('')}}` };
}

/** UTF-8 bytes of the whole answer. */
export function forwardedSize(answer: ForwardedAnswer): number {
  return Buffer.byteLength(answer.head, 'utf8') + answer.bytes.length + Buffer.byteLength(answer.tail, 'utf8');
}

/** Writes the whole answer at the start of `out` (at least {@link forwardedSize} long) and gives its bytes back for reuse. */
export function fillForwarded(answer: ForwardedAnswer, out: Buffer): void {
  const { head, bytes, tail } = answer;
  try {
    const headBytes = out.write(head, 0, 'utf8');
    bytes.copy(out, headBytes);
    out.write(tail, headBytes + bytes.length, 'utf8');
  } finally {
    rawResults.release(bytes); // copied, or not to be used after a failure
  }
}
