/** Lines up to this many bytes are joined in one reused buffer (see {@link joinLine}). */
export const JOIN_REUSE_MAX_BYTES = 4 * 1024 * 1024;
let scratch: Buffer | undefined;

/**
 * The pieces of a line that came in several chunks, joined: `chunks` then `last`, `size` bytes
 * in all. The result is valid until the next call: a transport only reads a line while it
 * decodes it, synchronously, so every transport joins into one buffer kept between lines (lines
 * are handled one at a time on this thread). A fresh buffer per large result cost the main
 * thread more in first touches of new memory (page faults, several ms per MiB on a VM) than the
 * copy itself. Longer lines get a buffer of their own.
 */
export function joinLine(chunks: readonly Buffer[], last: Buffer, size: number): Buffer {
  if (size > JOIN_REUSE_MAX_BYTES) return Buffer.concat([...chunks, last], size);
  if (scratch === undefined || scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.min(JOIN_REUSE_MAX_BYTES, Math.max(size, (scratch?.length ?? 0) * 2, 64 * 1024)));
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(scratch, at);
  last.copy(scratch, at);
  return scratch.subarray(0, size);
}
