/**
 * The bytes a child wrote for a result, kept with the parsed result they became, so that an
 * upstream transport can forward them instead of serialising the result again: for a 256 KiB
 * result, `JSON.stringify` plus measuring and encoding its text cost the main thread about as
 * much as the rest of the gateway's share of the call.
 *
 * The pool records (pool/recordRawResult.ts), only results it has proven to be spelled exactly as
 * `JSON.stringify` would spell them (stringifiedResultRange.ts) and has frozen: the bytes then
 * stay what the result means. A layer that changes a result builds a new object (the chain is
 * copy-on-write), which has no bytes here, so it is serialised the ordinary way; nothing can
 * change the recorded object itself. The upstream stdio transport takes the bytes of the result it
 * sends (taking removes them: a result is forwarded from its bytes at most once).
 *
 * Bytes are copied out of the child's line (its framing buffer is reused for the next line) into
 * buffers given back once sent, so a steady stream of large results allocates nothing.
 */

/** Kept buffers are sized in steps of this, so results of similar sizes reuse each other's. */
const STEP_BYTES = 64 * 1024;
/** Buffers larger than this are not kept for reuse (a rare huge result must not pin its size). */
const KEEP_MAX_BYTES = 8 * 1024 * 1024;
/** Spare buffers kept at most (results in flight at once each hold one). */
const KEEP_COUNT = 4;

export class RawResults {
  private readonly kept = new WeakMap<object, Buffer>();
  private readonly spares: Buffer[] = [];
  private consumers = 0;

  /** Whether a transport that forwards kept bytes is running: recording costs a scan and a copy, worth it only then. */
  get wanted(): boolean {
    return this.consumers > 0;
  }

  /** Declares a transport that forwards kept bytes; call the returned function once it stops. */
  addConsumer(): () => void {
    this.consumers++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.consumers--;
    };
  }

  /** Keeps a copy of `bytes[start, end)` as the exact JSON of `value`, which the caller has frozen. */
  keep(value: object, bytes: Uint8Array, start: number, end: number): void {
    const size = end - start;
    const buffer = this.spare(size) ?? Buffer.allocUnsafeSlow(Math.ceil(size / STEP_BYTES) * STEP_BYTES);
    buffer.set(bytes.subarray(start, end));
    this.kept.set(value, buffer.subarray(0, size));
  }

  /** The UTF-8 byte length of `JSON.stringify(value)` when its bytes are kept, else undefined. */
  byteLength(value: object): number | undefined {
    return this.kept.get(value)?.length;
  }

  /**
   * The exact JSON bytes kept for `value`, now the caller's: give them back with {@link release}
   * once nothing reads them any more. Undefined when none were kept (or they were taken already).
   */
  take(value: object): Buffer | undefined {
    const bytes = this.kept.get(value);
    if (bytes !== undefined) this.kept.delete(value);
    return bytes;
  }

  /** Gives back bytes from {@link take} for reuse; they must not be read afterwards. */
  release(bytes: Buffer): void {
    const whole = Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength);
    if (whole.length > KEEP_MAX_BYTES || this.spares.length >= KEEP_COUNT) return;
    this.spares.push(whole);
  }

  private spare(size: number): Buffer | undefined {
    const index = this.spares.findIndex((b) => b.length >= size);
    return index < 0 ? undefined : this.spares.splice(index, 1)[0];
  }
}

/** The one registry of the process: the pool records into it, the upstream stdio transport takes from it. */
export const rawResults = new RawResults();
