/**
 * The base64 probe's test of decoded bytes (see {@link mayHoldWhitespace}), kept apart from the
 * engine for its word-wise reading of long arrays.
 */

/** Arrays shorter than this are read byte by byte: each native search below costs a call. */
const WORDWISE_MIN_BYTES = 256;
const WHITESPACE_BYTES = [0x20, 0x0a, 0x09, 0x0d, 0x0b, 0x0c];
/** The word-wise reading below takes byte `k` of a word as bits 8k…8k+7. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Whether UTF-8 bytes can decode to text holding whitespace: an ASCII whitespace byte, or a lead
 * byte followed by a continuation byte (the start of the only kind of sequence that decodes to a
 * character other than ASCII or U+FFFD). Every phrase holds a space, and neither ASCII nor
 * U+FFFD becomes whitespace in the normalisation, so bytes without either hide no phrase: a long
 * token of word-like text (an identifier, a path, `xxxx…`) is then not decoded at all (UTF-8
 * decoding of invalid bytes is the slow part of the scan). A long array is searched natively for
 * the whitespace bytes, then read four bytes at a time for the pairs (`xxxx…`'s bytes: ~2× less
 * time than byte by byte).
 */
export function mayHoldWhitespace(bytes: Uint8Array): boolean {
  if (bytes.length < WORDWISE_MIN_BYTES || !LITTLE_ENDIAN) return pairOrSpaceIn(bytes, 0, bytes.length);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (const b of WHITESPACE_BYTES) if (view.indexOf(b) !== -1) return true;
  return hasLeadThenContinuation(bytes);
}

/** The plain byte-by-byte {@link mayHoldWhitespace} over bytes `from` to `to` (a pair may end at `to`). */
function pairOrSpaceIn(bytes: Uint8Array, from: number, to: number, spaces = true): boolean {
  const last = bytes.length - 1;
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (spaces && (b === 0x20 || (b >= 0x09 && b <= 0x0d))) return true;
    if (b >= 0xc2 && b <= 0xf4 && i < last && (bytes[i + 1]! & 0xc0) === 0x80) return true;
  }
  return false;
}

/**
 * Whether a lead byte (C2–F4) is followed by a continuation byte (80–BF), read four bytes at a
 * time: bit 7 of each byte says "not ASCII", bit 6 moved onto it says "11……" (lead-like) or
 * "10……" (continuation); a lead-like byte followed by a continuation — in the word, or across
 * into the next one — is then checked exactly (lead-like includes C0, C1 and F5–FF). ASCII words
 * and word-like bytes such as `xxxx…`'s C7 1C 71 cost a few operations per four bytes.
 */
function hasLeadThenContinuation(bytes: Uint8Array): boolean {
  const head = Math.min(bytes.length, (4 - (bytes.byteOffset & 3)) & 3);
  if (pairOrSpaceIn(bytes, 0, head, false)) return true;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, (bytes.length - head) >>> 2);
  let carry = 0; // 0x80 when the previous word's last byte is lead-like
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    const high = w & 0x80808080;
    if (high === 0) {
      carry = 0;
      continue;
    }
    const six = (w << 1) & 0x80808080;
    const lead = high & six;
    if ((((lead << 8) | carry) & high & ~six) !== 0) {
      const at = head + 4 * k;
      if (pairOrSpaceIn(bytes, Math.max(0, at - 1), at + 4, false)) return true;
    }
    carry = (lead >>> 24) & 0x80;
  }
  // From the last byte of the last word: a lead there may pair with the first byte after it.
  return pairOrSpaceIn(bytes, Math.max(0, head + 4 * words.length - 1), bytes.length, false);
}
