import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemClock, type Clock } from '../common/clock';
import { Disposable, toDisposable } from '../common/disposable';
import { HALT_FILE_NAME, readHalt, type HaltState } from './halt';

/** How often a cached "absent" is probed again anyway, and the watch renewed (a replaced config dir). */
export const HALT_RECHECK_MS = 1000;

const ABSENT: HaltState = { decision: 'absent' };

/** The wait of the calls that asked for one before its first check phase (see {@link afterPoll}). */
let joinable: Promise<void> | undefined;

/**
 * Resolves after at least one poll phase of the event loop has run (two check phases later).
 * Calls that ask before the first check phase share one wait: each asked before that phase, so
 * the poll phase before the second one began after each asked. A call asking later starts a new
 * wait (the shared one may end right after the poll phase that delivered its message).
 */
function afterPoll(): Promise<void> {
  joinable ??= new Promise((resolve) =>
    setImmediate(() => {
      joinable = undefined;
      setImmediate(resolve);
    }),
  );
  return joinable;
}

/**
 * True when something is named HALT although opening it found nothing: a dangling symbolic
 * link, whose target may appear where the watch does not look. Such a HALT is never remembered.
 */
function nameTaken(dir: string): Promise<boolean> {
  return new Promise((resolve) => fs.lstat(path.join(dir, HALT_FILE_NAME), (err) => resolve(!err || err.code !== 'ENOENT')));
}

/**
 * The kill-switch probe of the gateway's chain: the same decision as {@link readHalt} on every
 * call, without a thread-pool `open` per call while HALT is absent.
 *
 * On Linux the config dir is watched (inotify). "Absent" is remembered only while the watch
 * lives and reported no change to HALT; any event naming HALT (or naming nothing, or the dir
 * itself) forgets it, and so does a timer every {@link HALT_RECHECK_MS}, which also renews the
 * watch. A remembered "absent" is answered only after one poll phase of the event loop: inotify
 * queues its event in the same syscall that creates HALT, so a HALT created before the call's
 * message was read (by another process, or by this one without yielding) has been seen by then.
 * A HALT that is a dangling link is not remembered as absent either (its target lies outside the
 * watch). "Present" and "unknown" are never remembered: every call under HALT probes again, with the
 * decision's own time. Elsewhere (macOS FSEvents, Windows) events may arrive late, so every
 * call probes, as before.
 */
export class HaltWatch extends Disposable {
  private dir: string | undefined;
  private watcher: fs.FSWatcher | undefined;
  /** True while a probe found HALT absent and the watch has seen no change since. */
  private absent = false;
  /** Bumped by every change; a probe that raced a change is not remembered. */
  private generation = 0;
  private readonly watches: boolean;
  private disposed = false;

  constructor(
    private readonly clock: Clock = systemClock,
    options: { recheckMs?: number; watch?: boolean } = {},
  ) {
    super();
    this.watches = options.watch ?? process.platform === 'linux';
    this.register(toDisposable(() => (this.disposed = true)));
    if (!this.watches) return;
    const timer = setInterval(() => {
      this.forget();
      this.unwatch();
    }, options.recheckMs ?? HALT_RECHECK_MS);
    timer.unref();
    this.register(toDisposable(() => clearInterval(timer)));
    this.register(toDisposable(() => this.unwatch()));
  }

  /** The HALT decision for `dir` now (see the class comment for when it is answered from memory). */
  async read(dir: string): Promise<HaltState> {
    if (!this.watches || this.disposed) return readHalt(dir, this.clock);
    if (dir !== this.dir) {
      this.unwatch();
      this.forget();
      this.dir = dir;
    }
    if (this.absent) {
      await afterPoll();
      if (this.absent && dir === this.dir) return ABSENT;
    }
    // The watch starts before the probe, so a HALT created between the two is an event.
    this.watch(dir);
    const generation = this.generation;
    const state = await readHalt(dir, this.clock);
    // Checked after the last await: a change during either probe leaves nothing remembered.
    if (state.decision === 'absent' && !(await nameTaken(dir)) && generation === this.generation && this.watcher && dir === this.dir) this.absent = true;
    return state;
  }

  private forget(): void {
    this.absent = false;
    this.generation++;
  }

  private watch(dir: string): void {
    if (this.watcher) return;
    const self = path.basename(dir);
    try {
      const watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name === HALT_FILE_NAME) return this.forget();
        if (name === null || name === self) {
          // The dir itself moved or went away (or the event queue overflowed): this watch is blind now.
          this.forget();
          this.unwatch();
        }
      });
      watcher.on('error', () => {
        this.forget();
        this.unwatch();
      });
      this.watcher = watcher;
    } catch {
      // No dir (ENOENT, ENOTDIR …): nothing remembered; every call probes, and the probe decides.
      this.watcher = undefined;
    }
  }

  private unwatch(): void {
    const watcher = this.watcher;
    this.watcher = undefined;
    this.absent = false;
    watcher?.close();
  }
}
