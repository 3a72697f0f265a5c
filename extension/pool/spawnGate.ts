/**
 * Lets at most one `child_process.spawn` run per turn of the event loop.
 *
 * `spawn` is synchronous: libuv forks and returns only once the child has exec'd, and a fork
 * copies the parent's page tables, so it costs the calling thread time in proportion to the
 * gateway's resident memory (measured in bench section 3: ~15 ms at 45 MB, 40-70 ms at
 * 150-450 MB on a busy 2-core machine). Ten servers whose backoff timers expire together (a crash
 * loop, a config reload, the pool's start) would otherwise fork ten times in one turn and stall
 * every call for the sum. Here each spawn waits for the previous one's turn to end
 * (`setImmediate`), so pending I/O — answers to calls on healthy servers — is handled between
 * two forks, and the longest stall is one fork whatever the number of servers that (re)start.
 *
 * Forking from a worker_thread instead was measured on the same machine: it shortened the stalls
 * of the main thread but did not remove them (a fork from any thread write-locks the whole
 * process's address space while copying its page tables, and the forking thread competes for
 * the same cores), and the child's pipes would belong to that thread: one more hop on every
 * message of the stdio path.
 *
 * On Linux and macOS the pool's children are forked by a launcher process instead
 * (childLauncher.ts); this gate still orders the launcher's own start and every in-process
 * spawn (Windows, `GATEHOUSE_SPAWN=in-process`, the fallback when launchers keep dying).
 */
export class SpawnGate {
  private readonly waiting: Array<() => void> = [];
  private busy = false;

  /** Runs `fn` in a turn of its own, after every spawn queued before it; in order. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      if (!this.busy) this.next();
    });
  }

  /** Spawns queued and not yet run. */
  get queued(): number {
    return this.waiting.length;
  }

  private next(): void {
    if (this.waiting.length === 0) {
      this.busy = false;
      return;
    }
    this.busy = true;
    // The first one waits too: a caller's own turn (e.g. the pool starting ten servers in a
    // loop) must not end with a fork in it.
    setImmediate(() => {
      this.waiting.shift()?.();
      this.next();
    });
  }
}

/** The one gate of this process: every child the pool starts goes through it. */
export const spawnGate = new SpawnGate();
