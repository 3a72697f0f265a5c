/** Drives calls: one after another (latency), or N in flight (throughput). */

export interface SequentialRun {
  latencies: number[];
  wallMs: number;
  failures: number;
  firstFailure?: string;
}

/**
 * Runs `count` calls one after another. `fn` returns an error text for a wrong answer (the
 * bench checks every result, so a fast refusal never counts as a fast call), or undefined.
 * `maxMs` stops early on a slow machine (the run reports how many calls it made).
 */
export async function sequential(count: number, fn: (i: number) => Promise<string | undefined>, maxMs = Infinity): Promise<SequentialRun> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const began = performance.now();
  for (let i = 0; i < count && performance.now() - began < maxMs; i++) {
    const t = performance.now();
    let problem: string | undefined;
    try {
      problem = await fn(i);
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    latencies.push(performance.now() - t);
    if (problem !== undefined) {
      failures++;
      firstFailure ??= problem;
    }
  }
  return { latencies, wallMs: performance.now() - began, failures, ...(firstFailure ? { firstFailure } : {}) };
}

export interface ConcurrentRun {
  /** Calls completed (fewer than asked when `maxMs` cut the run short). */
  calls: number;
  perSecond: number;
  wallMs: number;
  failures: number;
  firstFailure?: string;
}

/** Runs `count` calls keeping `inFlight` outstanding at all times (a closed loop); `maxMs` as in {@link sequential}. */
export async function concurrent(count: number, inFlight: number, fn: (i: number) => Promise<string | undefined>, maxMs = Infinity): Promise<ConcurrentRun> {
  let next = 0;
  let done = 0;
  const began = performance.now();
  let failures = 0;
  let firstFailure: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() - began < maxMs) {
      const i = next++;
      let problem: string | undefined;
      try {
        problem = await fn(i);
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      done++;
      if (problem !== undefined) {
        failures++;
        firstFailure ??= problem;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const wallMs = performance.now() - began;
  return { calls: done, perSecond: (done * 1000) / wallMs, wallMs, failures, ...(firstFailure ? { firstFailure } : {}) };
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, everyMs = 5): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
