/**
 * Messages between the Scanner (main thread) and its worker, and the string packing both sides
 * use. A batch of strings travels as one UTF-8 buffer plus offsets whose ArrayBuffers are
 * *transferred*, not cloned: a 1 MiB result costs one encode on each side and no copy in
 * between, and a call with many strings costs one message.
 */
import { decodeUtf8 } from '../../platform/decodeUtf8';
import type { PatternSpec } from './patterns';

/** Strings packed into one buffer: string i is bytes[offsets[i], offsets[i+1]). */
export interface PackedStrings {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

/**
 * Packs strings (lone surrogates become U+FFFD, as in any UTF-8 encoding). An ASCII string
 * (as many bytes as characters) is copied as latin1, any other encoded by `Buffer.from`: both
 * are several times faster on long strings than `TextEncoder#encodeInto`, and give the same
 * bytes. The buffer is not pooled (it is transferred) and not zeroed (every byte is written).
 */
export function packStrings(strings: readonly string[], spare?: SparePacks): PackedStrings {
  const offsets = new Uint32Array(strings.length + 1);
  let total = 0;
  for (let i = 0; i < strings.length; i++) {
    total += Buffer.byteLength(strings[i]!, 'utf8');
    offsets[i + 1] = total;
  }
  const reused = spare?.take(total);
  const bytes = reused ? Buffer.from(reused, 0, total) : Buffer.allocUnsafeSlow(total);
  for (let i = 0; i < strings.length; i++) {
    const s = strings[i]!;
    const at = offsets[i]!;
    if (offsets[i + 1]! - at === s.length) bytes.write(s, at, s.length, 'latin1');
    else bytes.set(Buffer.from(s, 'utf8'), at);
  }
  return { bytes, offsets };
}

/** Packs at least this large go back and forth between the threads instead of being dropped. */
export const SPARE_MIN_BYTES = 64 * 1024;
/** Larger buffers are not kept (a rare huge result must not pin its size). */
const SPARE_MAX_BYTES = 8 * 1024 * 1024;

/**
 * The buffer of a large pack, back from the worker with its reply (`FromWorker.input`), kept
 * for the next large pack. Packing a 256 KiB result into a fresh buffer cost the main thread
 * more in first touches of new memory (page faults, on a VM) than the copy itself; a buffer
 * that comes back costs neither side an allocation. One is kept, the largest.
 */
export class SparePacks {
  private spare: ArrayBuffer | undefined;

  /** A kept buffer of at least `bytes`, now owned by the caller, or undefined. */
  take(bytes: number): ArrayBuffer | undefined {
    const spare = this.spare;
    if (bytes < SPARE_MIN_BYTES || spare === undefined || spare.byteLength < bytes) return undefined;
    this.spare = undefined;
    return spare;
  }

  /** Offers a buffer nobody uses any more (a job's input, returned with its reply). */
  give(buffer: ArrayBuffer | undefined): void {
    if (buffer === undefined || buffer.byteLength < SPARE_MIN_BYTES || buffer.byteLength > SPARE_MAX_BYTES) return;
    if (this.spare === undefined || this.spare.byteLength < buffer.byteLength) this.spare = buffer;
  }
}

/** Reads string `i` of a pack. */
export function unpackString(packed: PackedStrings, i: number): string {
  return decodeUtf8(packed.bytes, packed.offsets[i]!, packed.offsets[i + 1]!);
}

/** Number of strings in a pack. */
export function packedCount(packed: PackedStrings): number {
  return packed.offsets.length - 1;
}

/** The buffers to hand to `postMessage`'s transfer list. */
export function transferables(packed: PackedStrings): ArrayBuffer[] {
  return [packed.bytes.buffer as ArrayBuffer, packed.offsets.buffer as ArrayBuffer];
}

/** Data the worker starts with. */
export interface WorkerInit {
  /** User patterns (the built-in ones are compiled in by the worker itself). */
  patterns: PatternSpec[];
  /**
   * Int32Array[3] the worker writes before each step: [job id, phase, pattern index]. On a
   * timeout the client reads it (never waits on it) to name the pattern that was running.
   */
  progress: SharedArrayBuffer;
}

/** Phases written to the progress cell. */
export const PHASE_IDLE = 0;
export const PHASE_REDACT = 1;
export const PHASE_INJECT = 2;

export type ToWorker =
  | { type: 'patterns'; patterns: PatternSpec[] }
  | { type: 'redact'; id: number; packed: PackedStrings }
  | {
      type: 'inject';
      id: number;
      packed: PackedStrings;
      /** Item index of each string (several strings can belong to one scanned item). */
      items: Uint32Array;
      itemCount: number;
    }
  /**
   * Redaction, then the injection scan of the redacted strings, in one job: what a tool result
   * needs after dispatch. Saves a round trip and a second encode of the same text. All redaction
   * runs before any injection scanning (the progress cell's phase tells the client which
   * half a stuck job is in; see Scanner.redactAndScanInjection).
   */
  | {
      type: 'redactInject';
      id: number;
      packed: PackedStrings;
      /**
       * Another worker is scanning these same strings, unredacted, for injection: when the
       * redaction changes no string the redacted text IS that text, so reply without the
       * injection half (`hits` absent). When it changes any, scan the redacted strings as usual.
       */
      rawScanned?: boolean;
    };

export interface InjectHits {
  literal: string[];
  base64: string[];
}

/**
 * Replies to jobs carry `input`: the buffer of the job's pack, handed back (transferred) when it
 * is at least {@link SPARE_MIN_BYTES}, for {@link SparePacks}.
 */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'patternError'; name: string; reason: string }
  /** `indices[k]` is the string that became `packed[k]`, redacted by `names[k]`. */
  | { type: 'redacted'; id: number; indices: Uint32Array; packed: PackedStrings; names: string[][]; input?: ArrayBuffer }
  | { type: 'injected'; id: number; items: InjectHits[]; input?: ArrayBuffer }
  /**
   * Both halves of a `redactInject` job: the redaction as `redacted`, the hits of the redacted
   * strings — absent only when the job was `rawScanned` and the redaction changed nothing.
   */
  | { type: 'redactedInjected'; id: number; indices: Uint32Array; packed: PackedStrings; names: string[][]; hits?: InjectHits; input?: ArrayBuffer }
  | { type: 'failed'; id: number; message: string };
