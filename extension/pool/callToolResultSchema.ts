import { safeParse } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * The SDK's `CallToolResultSchema` for a child's answer to tools/call, with the common answer
 * checked by hand. The full schema walks every content block through a five-way union and
 * copies each object it passes; a plain text answer is the bulk of tool traffic and needs none of
 * that. Plain means: keys in the schema's order and no others — `content` (text blocks of exactly
 * `type` and `text`), then optionally `structuredContent` (an object) and `isError` (a boolean).
 * For such a value the schema's output equals its input, key order included (the bytes sent on
 * are the same), so the input is passed on as it is. Anything else goes through the schema the
 * way the SDK's `request()` runs it, and a failure throws that parse's own error, which
 * `request()` rejects with, as it did with the schema's.
 */
export const callToolResultSchema = z.transform((value: unknown): CallToolResult => {
  if (isPlainCallToolResult(value)) return value;
  const parsed = safeParse(CallToolResultSchema, value);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
});

const TOP_KEYS = ['content', 'structuredContent', 'isError'] as const;

export function isPlainCallToolResult(value: unknown): value is CallToolResult {
  if (!isPlainObject(value)) return false;
  let next = 0;
  for (const key in value) {
    // Each key must come later in TOP_KEYS than the one before it: same order as the output.
    while (next < TOP_KEYS.length && TOP_KEYS[next] !== key) next++;
    if (next === TOP_KEYS.length) return false;
    next++;
  }
  const { content, structuredContent, isError } = value;
  if (!Array.isArray(content) || !content.every(isPlainTextBlock)) return false;
  // `__proto__` as an own key (JSON.parse makes one) is left to the schema's record copy.
  if (structuredContent !== undefined && (!isPlainObject(structuredContent) || Object.hasOwn(structuredContent, '__proto__'))) return false;
  return isError === undefined || typeof isError === 'boolean';
}

function isPlainTextBlock(block: unknown): boolean {
  if (!isPlainObject(block)) return false;
  let keys = 0;
  for (const key in block) {
    if (key !== (keys === 0 ? 'type' : 'text')) return false;
    keys++;
  }
  return keys === 2 && block.type === 'text' && typeof block.text === 'string';
}

/** An object as JSON.parse makes them: `for…in` then sees exactly its own keys. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
