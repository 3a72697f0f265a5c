/**
 * The second scanner worker: for a LARGE tool result, the injection scan of the result's raw
 * strings runs here while the first worker redacts the same strings (`Scanner.redactAndScanInjection`).
 * In series, one worker spends ~4.5 ms redacting 256 KiB of JSON text and then ~5 ms scanning it
 * (bench/tools/scanCpu.ts), while the machine's other core sits idle; side by side the call waits
 * for the longer of the two.
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
 * scanned on two workers. Pairing costs ~0.15–0.2 ms of CPU more per call (the copy, a second
 * message and wake-up, a second decode) and saves the shorter half's time on the call's path.
 * Measured with bench/tools/pairScan.ts (worker CPU on the path, in series → paired): 16 KiB
 * 0.39 → 0.28 ms, 32 KiB 0.72 → 0.44, 64 KiB 1.17 → 0.61, 128 KiB 2.89 → 1.67, 256 KiB
 * 4.28 → 2.50, 1 MiB 24 → 13 (of `x…` text, before engine.ts learnt to skip what such a text
 * cannot match; now both halves of it take ~1 ms, and the figures hold for text they must
 * read, such as JSON or logs). Below 64 KiB the saving is no larger than what it costs (and a
 * wake-up of a second thread on a busy machine can take longer than that), so those stay in series.
 */
export const PAIR_MIN_BYTES = 64 * 1024;

/**
 * A large result is not paired while this many raw scans already wait for the second worker:
 * each waiting one holds a copy of its input, and with that many queued, the two workers are
 * both busy anyway (pairing shortens a call when a core would otherwise sit idle).
 */
export const PAIR_MAX_QUEUED = 4;

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
   * series, as before. That is when its queue is full, or holds {@link PAIR_MAX_QUEUED} jobs,
   * or its start-up is paused — and when its
   * thread is not started yet: then it is started for the NEXT large result, as a call must not
   * wait for a worker start (tens of milliseconds) that the one worker, already up, does not need.
   * Call before `packed` is transferred to the first worker.
   */
  start(packed: PackedStrings): Promise<Outcome<InjectReply>> | undefined {
    if (this.runner.refusal() !== undefined || this.runner.queuedJobs >= PAIR_MAX_QUEUED || !this.runner.readyOrStart()) return undefined;
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
