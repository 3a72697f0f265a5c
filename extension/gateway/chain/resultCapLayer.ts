/**
 * Result size cap (SPEC §7.11, fixing §13.1 item 23). The size is the UTF-8 byte length of the
 * result's JSON, as rea measures it; the limit is the `gateway.result_max_bytes` tunable (default
 * 512 KiB), read per call.
 *
 * Unlike rea, an oversize result keeps its shape: `isError`, content order and types, and other
 * fields stay; TEXT is what gets shortened (text parts and embedded text resources), and never
 * in the middle of a UTF-8 sequence. The space left for text is shared fairly: small parts stay
 * whole, large ones are cut to an equal share. A note part is appended and
 * `_meta["gatehouse/truncated"]` says how much was removed. Only if the non-text parts alone do not
 * fit are they removed, largest first (`structuredContent`, or an image/audio/blob part, which
 * becomes a short text notice); if even that is not enough the result is reduced to the note.
 *
 * Runs innermost on the way out (before redaction and injection scanning), so both scan bounded
 * text (SPEC §7.12).
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../common/logger';
import { rawResults } from '../../platform/rawResults';
import { afterLayer, type Middleware } from './chain';

/** Default of `gateway.result_max_bytes`. */
export const DEFAULT_RESULT_MAX_BYTES = 524_288;

/** Key of the truncation report in the result's `_meta`. */
export const TRUNCATION_META_KEY = 'gatehouse/truncated';

export interface TruncationReport {
  original_bytes: number;
  final_bytes: number;
  limit_bytes: number;
  /** UTF-8 bytes removed from text. */
  removed_text_bytes: number;
  truncated_parts: number;
  /** Non-text items removed, e.g. `structuredContent`, `content[2] (image)`. */
  removed_items: string[];
}

export interface CapOutcome {
  result: CallToolResult;
  report?: TruncationReport;
}

type Part = CallToolResult['content'][number];

interface TextSlot {
  index: number;
  kind: 'text' | 'resource';
  text: string;
  /** Bytes of the text inside its JSON string (escapes counted, quotes not). */
  jsonBytes: number;
  rawBytes: number;
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

// Sizes are computed without building the JSON text: this runs on the extension host's thread for
// every result, and serialising a 1 MiB result just to measure it costs several milliseconds.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
// 1: two-byte escapes; 2: other control characters (\u00XX); 3: a valid surrogate pair (no
// change); 4: a lone surrogate (\udXXX, 6 bytes, where UTF-8 counts 3 for U+FFFD).
const ESCAPES = /(["\\\b\f\n\r\t])|([\u0000-\u001f])|([\ud800-\udbff][\udc00-\udfff])|([\ud800-\udfff])/g;
const NON_ASCII = /[^\x00-\x7f]/;

/** UTF-8 bytes of `s` inside a JSON string literal, quotes excluded (exactly as JSON.stringify writes it). */
export function jsonStringBytes(s: string): number {
  const bytes = byteLength(s);
  if (!NEEDS_ESCAPE.test(s)) return bytes;
  let extra = 0;
  ESCAPES.lastIndex = 0;
  for (let m = ESCAPES.exec(s); m; m = ESCAPES.exec(s)) {
    if (m[1] !== undefined) extra += 1;
    else if (m[2] !== undefined) extra += 5;
    else if (m[4] !== undefined) extra += 3;
  }
  return bytes + extra;
}

/** UTF-8 byte length of `JSON.stringify(value)`, computed by walking the value. */
export function jsonBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return jsonStringBytes(value) + 2;
    case 'number':
    case 'boolean':
    case 'bigint':
      return byteLength(JSON.stringify(value) ?? 'null');
    case 'object': {
      if (value === null) return 4;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return byteLength(JSON.stringify(value) ?? 'null');
      if (Array.isArray(value)) {
        let n = 2 + Math.max(0, value.length - 1);
        for (const item of value) n += item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 4 : jsonBytes(item);
        return n;
      }
      let n = 2;
      let count = 0;
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        n += jsonStringBytes(key) + 3 + jsonBytes(item);
        count++;
      }
      return n + Math.max(0, count - 1);
    }
    default:
      return 0;
  }
}

/** The longest prefix of `text` with at most `maxBytes` UTF-8 bytes, cut between characters. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (!NON_ASCII.test(text)) return text.length <= maxBytes ? text : text.slice(0, maxBytes);
  // Every character takes at least one byte, so the first maxBytes characters hold the cut point;
  // encode only those (plus the low half of a pair cut in two).
  let head = text.length > maxBytes ? text.slice(0, maxBytes) : text;
  const last = head.charCodeAt(head.length - 1);
  if (head !== text && last >= 0xd800 && last <= 0xdbff) head = text.slice(0, maxBytes + 1);
  const buf = Buffer.from(head, 'utf8');
  if (buf.length <= maxBytes) return head === text ? text : head;
  let end = maxBytes;
  // buf[end] is the first byte left out: if it continues a sequence, leave that whole sequence out.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.toString('utf8', 0, end);
}

function textSlots(content: readonly Part[]): TextSlot[] {
  const slots: TextSlot[] = [];
  content.forEach((part, index) => {
    let text: string | undefined;
    let kind: TextSlot['kind'] | undefined;
    if (part.type === 'text' && typeof part.text === 'string') {
      text = part.text;
      kind = 'text';
    } else if (part.type === 'resource' && 'text' in part.resource && typeof part.resource.text === 'string') {
      text = part.resource.text;
      kind = 'resource';
    }
    if (text === undefined || kind === undefined) return;
    slots.push({ index, kind, text, jsonBytes: jsonStringBytes(text), rawBytes: byteLength(text) });
  });
  return slots;
}

function withText(part: Part, kind: TextSlot['kind'], text: string): Part {
  if (kind === 'text') return { ...part, text } as Part;
  const resource = (part as Extract<Part, { type: 'resource' }>).resource;
  return { ...part, resource: { ...resource, text } } as Part;
}

function noteText(report: TruncationReport): string {
  const removed = report.removed_items.length ? `; removed ${report.removed_items.join(', ')}` : '';
  return (
    `[Gatehouse: this result was ${report.original_bytes} bytes, over the ${report.limit_bytes}-byte limit (gateway.result_max_bytes). ` +
    `${report.removed_text_bytes} bytes of text were cut from ${report.truncated_parts} part(s)${removed}.]`
  );
}

function assemble(base: CallToolResult, content: Part[], report: TruncationReport, dropStructured: boolean): CallToolResult {
  const out: CallToolResult = { ...base, content: [...content, { type: 'text', text: noteText(report) }] };
  if (dropStructured) delete out.structuredContent;
  out._meta = { ...(base._meta ?? {}), [TRUNCATION_META_KEY]: report };
  return out;
}

/** Water-filling: each slot gets at most its size; what the small ones leave is shared by the rest. */
function allocate(sizes: readonly number[], budget: number): number[] {
  const order = sizes.map((size, i) => ({ size, i })).sort((a, b) => a.size - b.size);
  const out = new Array<number>(sizes.length).fill(0);
  let remaining = Math.max(0, budget);
  order.forEach(({ size, i }, k) => {
    const share = Math.floor(remaining / (order.length - k));
    out[i] = Math.min(size, share);
    remaining -= out[i]!;
  });
  return out;
}

/** Cuts `slot.text` so that its JSON form takes at most `allowed` bytes. */
function cutToJsonBytes(slot: TextSlot, allowed: number): string {
  if (slot.jsonBytes <= allowed) return slot.text;
  // Start from the raw/JSON ratio (escapes make JSON larger), then shrink by any excess.
  let raw = Math.floor((allowed * slot.rawBytes) / Math.max(1, slot.jsonBytes));
  for (let attempt = 0; attempt < 8 && raw > 0; attempt++) {
    const cut = truncateUtf8(slot.text, raw);
    const size = jsonStringBytes(cut);
    if (size <= allowed) return cut;
    raw -= size - allowed;
  }
  return '';
}

/**
 * Caps one result at `limit` bytes of JSON (see the file comment). Returns the same object when
 * it fits; never mutates the input.
 */
export function capResult(result: CallToolResult, limit: number): CapOutcome {
  // A result forwarded as its child's bytes (platform/rawResults.ts) has them measured already:
  // they are exactly JSON.stringify(result), so their length is the size, without a walk.
  const original = rawResults.byteLength(result) ?? jsonBytes(result);
  if (original <= limit) return { result };
  const content: Part[] = Array.isArray(result.content) ? [...result.content] : [];
  const slots = textSlots(content);
  const removedItems: string[] = [];
  let dropStructured = false;
  // Placeholder report: numbers as wide as they can get, so the real note is never larger.
  const wide = 10 ** 15;
  const placeholder = (): TruncationReport => ({
    original_bytes: wide,
    final_bytes: wide,
    limit_bytes: wide,
    removed_text_bytes: wide,
    truncated_parts: wide,
    removed_items: removedItems,
  });
  const skeleton = (): number => {
    const emptied = [...content];
    for (const slot of slots) emptied[slot.index] = withText(emptied[slot.index]!, slot.kind, '');
    return jsonBytes(assemble(result, emptied, placeholder(), dropStructured));
  };

  // Remove non-text items, largest first, until the text-free skeleton fits.
  let fixed = skeleton();
  while (fixed > limit) {
    const candidates: Array<{ size: number; apply: () => void }> = [];
    if (!dropStructured && result.structuredContent !== undefined) {
      candidates.push({
        size: jsonBytes(result.structuredContent),
        apply: () => {
          dropStructured = true;
          removedItems.push('structuredContent');
        },
      });
    }
    content.forEach((part, index) => {
      const binary = part.type === 'image' || part.type === 'audio' || (part.type === 'resource' && 'blob' in part.resource);
      if (!binary) return;
      candidates.push({
        size: jsonBytes(part),
        apply: () => {
          const mime = part.type === 'resource' ? part.resource.mimeType : part.mimeType;
          content[index] = { type: 'text', text: `[Gatehouse: ${part.type}${mime ? ` (${mime})` : ''} removed: the result exceeded the size limit]` };
          removedItems.push(`content[${index}] (${part.type})`);
        },
      });
    });
    if (candidates.length === 0) break;
    candidates.sort((a, b) => b.size - a.size)[0]!.apply();
    fixed = skeleton();
  }

  if (fixed > limit) {
    // Even the structure does not fit (a huge _meta, thousands of parts): keep only the note.
    const report: TruncationReport = {
      original_bytes: original,
      final_bytes: 0,
      limit_bytes: limit,
      removed_text_bytes: slots.reduce((n, s) => n + s.rawBytes, 0),
      truncated_parts: slots.length,
      removed_items: ['everything but this note (the structure alone exceeded the limit)'],
    };
    const minimal: CallToolResult = { content: [{ type: 'text', text: noteText(report) }], ...(result.isError !== undefined ? { isError: result.isError } : {}) };
    report.final_bytes = jsonBytes(minimal);
    return { result: minimal, report };
  }

  const allowed = allocate(
    slots.map((s) => s.jsonBytes),
    limit - fixed,
  );
  let removedText = 0;
  let truncatedParts = 0;
  slots.forEach((slot, k) => {
    const text = cutToJsonBytes(slot, allowed[k]!);
    if (text === slot.text) return;
    removedText += slot.rawBytes - byteLength(text);
    truncatedParts++;
    content[slot.index] = withText(content[slot.index]!, slot.kind, text);
  });
  const report: TruncationReport = {
    original_bytes: original,
    final_bytes: 0,
    limit_bytes: limit,
    removed_text_bytes: removedText,
    truncated_parts: truncatedParts,
    removed_items: removedItems,
  };
  let out = assemble(result, content, report, dropStructured);
  report.final_bytes = jsonBytes(out);
  out = assemble(result, content, report, dropStructured);
  return { result: out, report };
}

export interface ResultCapLayerOptions {
  /** `gateway.result_max_bytes`, read per call. */
  maxBytes: () => number | undefined;
  logger?: Logger;
}

/** Applies {@link capResult} to `ctx.result` and bounds `ctx.error` the same way. */
export function resultCapLayer(options: ResultCapLayerOptions): Middleware {
  return afterLayer((ctx) => {
    try {
      const limit = options.maxBytes() ?? DEFAULT_RESULT_MAX_BYTES;
      if (ctx.result) {
        const capped = capResult(ctx.result, limit);
        if (capped.report) {
          ctx.result = capped.result;
          ctx.metadata.result_truncated = capped.report;
          options.logger?.info(
            `${ctx.full_name}: result of ${capped.report.original_bytes} bytes cut to ${capped.report.final_bytes} (limit ${limit})`,
          );
        }
      }
      if (typeof ctx.error === 'string' && byteLength(ctx.error) > limit) {
        const note = ' [Gatehouse: error text truncated]';
        ctx.error = truncateUtf8(ctx.error, Math.max(0, limit - byteLength(note))) + note;
      }
    } catch (err) {
      // Fail closed: a result we cannot measure is not passed on.
      ctx.result = undefined;
      ctx.status = 'error';
      ctx.reason_code = 'result_cap_failed';
      ctx.error = `Gatehouse could not check the size of the result of ${ctx.full_name} (${err instanceof Error ? err.message : String(err)}); the result was withheld.`;
    }
  });
}
