/**
 * The second scanner worker: for a LARGE tool result, the injection scan of the result's raw
 * strings runs here while the first worker redacts the same strings (`Scanner.redactAndScanInjection`).
 * In series, one worker spent ~3 ms redacting 256 KiB and then ~3.5 ms scanning it, while the
 * machine's other core sat idle; side by side the call waits for the longer of the two.
 *
 * The raw scan's answer is used only when the redaction changed no string: the redacted text is
 * then the raw text (engine.ts `redactString` keeps a string with no match unchanged, control
 * characters included), so its hits are exactly those of the sequential job. When anything was
 * redacted, the first worker scans the redacted strings itself, as before, and this answer is
 * dropped: the verdict is always that of the text the client gets.
 *
 * This is a full {@link WorkerRunner} of its own — budget per job, fail-closed outcomes, restart
 * after a hang or a crash, idle stop, policy patterns (which an injection job does not use, but
 * both workers hold the same patterns so either can run any job). Its thread is started by the
 * first large result (which runs in series: it does not wait for the start) and pairs the ones
 * after it, so a gateway that only sees small payloads never pays for it (~9 MB resident).
 */
import type { IDisposable } from '../../common/disposable';
import type { Event } from '../../common/event';
import type { PatternSpec } from './patterns';
import { SparePacks, transferables, type PackedStrings } from './protocol';
import type { InjectReply, Outcome, ScanTimeout } from './scanResults';
import { WorkerRunner, type WorkerRunnerOptions } from './workerRunner';

/**
 * Default of `ScannerOptions.pairMinBytes`: results of at least this many UTF-8 bytes are
 * scanned on two workers. Below it, the second job's message, wake-up and copy cost about what
 * the overlap saves (see the commit measuring it: at 16–32 KiB the two are within noise; from
 * 64 KiB the pair is ahead, by about the injection scan's time at 256 KiB).
 */
export const PAIR_MIN_BYTES = 64 * 1024;

/** See the file comment. */
export class RawInjectionScan implements IDisposable {
  private readonly runner: WorkerRunner;
  /** A returned copy's buffer, for the next copy (as `Scanner`'s own packs). */
  private readonly spare = new SparePacks();
  /** Jobs whose raw scan ran here (whether or not its answer was used). */
  jobs = 0;

  constructor(options: WorkerRunnerOptions) {
    this.runner = new WorkerRunner(options);
  }

  get onDidTimeout(): Event<ScanTimeout> {
    return this.runner.onDidTimeout;
  }

  get workerRestarts(): number {
    return this.runner.workerRestarts;
  }

  get workerRunning(): boolean {
    return this.runner.workerRunning;
  }

  sendPatterns(patterns: PatternSpec[]): void {
    this.runner.sendPatterns(patterns);
  }

  /** Whether the worker is started and takes jobs (the next large result pairs). */
  get workerReady(): boolean {
    return this.runner.workerRunning && this.runner.readyOrStart();
  }

  /**
   * Starts the injection scan of a copy of `packed` (one item: every string), or answers
   * undefined when this worker cannot take the job now: the caller then runs the whole job in
   * series, as before. That is when its queue is full or its start-up paused — and when its
   * thread is not started yet: then it is started for the NEXT large result, as a call must not
   * wait for a worker start (tens of milliseconds) that the one worker, already up, does not need.
   * Call before `packed` is transferred to the first worker.
   */
  start(packed: PackedStrings): Promise<Outcome<InjectReply>> | undefined {
    if (this.runner.refusal() !== undefined || !this.runner.readyOrStart()) return undefined;
    const copy = copyPack(packed, this.spare);
    const items = new Uint32Array(copy.offsets.length - 1);
    this.jobs++;
    return this.runner
      .submit<InjectReply>('injection', copy.bytes.byteLength, (id) => ({ type: 'inject', id, packed: copy, items, itemCount: 1 }), [
        ...transferables(copy),
        items.buffer as ArrayBuffer,
      ])
      .then((outcome) => {
        if (outcome.kind === 'ok') this.spare.give(outcome.reply.input);
        return outcome;
      });
  }

  dispose(): void {
    this.runner.dispose();
  }
}

/** A pack's bytes and offsets in buffers of their own (each worker's pack is transferred to it). */
function copyPack(packed: PackedStrings, spare: SparePacks): PackedStrings {
  const total = packed.bytes.byteLength;
  const reused = spare.take(total);
  const bytes = reused ? new Uint8Array(reused, 0, total) : Buffer.allocUnsafeSlow(total);
  bytes.set(packed.bytes);
  return { bytes, offsets: packed.offsets.slice() };
}
