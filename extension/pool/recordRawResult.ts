import { isUtf8 } from 'node:buffer';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { rawResults } from '../platform/rawResults';
import { stringifiedResultRange } from '../platform/stringifiedResultRange';
import { isPlainResultResponse } from './childMessage';

/**
 * Answers of at least this many bytes have their result's bytes kept for forwarding; below it,
 * serialising the result again costs less than proving the line's spelling and copying it.
 */
export const RAW_RESULT_MIN_BYTES = 16 * 1024;

/**
 * Keeps the bytes of a child's tool result, as `message` was parsed from `line[0, end)`, for an
 * upstream transport to forward (platform/rawResults.ts), when that is exactly what
 * serialising the parsed result would write:
 * - the answer took parseChildMessage's plain path, so `message.result` is the very object
 *   JSON.parse made, and the pool's tools/call schema passes such a result on as it is (any
 *   other result schema copies it: its bytes are then simply never asked for);
 * - the line is valid UTF-8 (an invalid sequence was decoded to U+FFFD: the bytes would say
 *   something else than the text the gateway checked);
 * - the line is spelled as JSON.stringify spells its value (stringifiedResultRange.ts), so the
 *   result's bytes are `JSON.stringify(message.result)`, byte for byte.
 * The result is then frozen, deeply: no layer changes a result in place (each builds a new
 * object, which has no kept bytes), and freezing makes that a guarantee rather than a habit —
 * the bytes can never disagree with the object the gateway redacted, capped and scanned.
 */
export function recordRawResult(message: JSONRPCMessage, line: Buffer, end: number): void {
  if (end < RAW_RESULT_MIN_BYTES || !rawResults.wanted || !isPlainResultResponse(message)) return;
  const result = (message as { result: Record<string, unknown> }).result;
  if (!Array.isArray(result.content)) return; // not a tools/call answer
  const bytes = line.subarray(0, end);
  if (!isUtf8(bytes)) return;
  const range = stringifiedResultRange(bytes, end);
  if (range === undefined) return;
  deepFreeze(result);
  rawResults.keep(result, bytes, range.start, range.end);
}

/** Freezes a value JSON.parse made (plain objects, arrays and primitives only). */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
}
