import { isAscii } from 'node:buffer';

/**
 * `bytes[start, end)` as text, exactly as `Buffer#toString('utf8')` decodes it: invalid sequences
 * become U+FFFD, and a leading byte order mark is kept (a default `TextDecoder` drops it, so a
 * string that began with one lost it on its way back from the scanner worker). Bytes that are
 * all ASCII are copied as latin1 instead: the
 * same text, without V8's per-character UTF-8 decoding, which costs several milliseconds per MiB
 * where the ASCII check and the copy cost a fraction of one. Large results are mostly ASCII
 * (JSON escapes every control character, and many servers escape all non-ASCII too).
 */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start);
  return isAscii(view) ? view.toString('latin1') : view.toString('utf8');
}
