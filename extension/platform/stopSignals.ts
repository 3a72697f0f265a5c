/**
 * The signals that ask a CLI gateway to stop, on every desktop.
 *
 * - POSIX (Linux, macOS): SIGTERM (service managers, `kill`), SIGINT (Ctrl-C), SIGHUP (the
 *   terminal went away).
 * - Windows has none of these natively; Node emulates SIGINT for Ctrl-C, SIGBREAK for Ctrl-Break
 *   and SIGHUP for closing the console window (after which Windows ends the process about 10 s
 *   later, so shutdown must not wait longer than the child escalation). SIGTERM is never
 *   delivered there but listening is harmless. Node lets every platform listen for SIGBREAK;
 *   only Windows generates it.
 */

/** The stop signals listened for, in the order they are installed. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK'] as const;

/** Where the signals arrive (`process`; an EventEmitter in tests). */
export interface SignalSource {
  once(event: string, listener: () => void): unknown;
}

/** Calls `onStop` (once per signal) with the name of the first stop signal that arrives. */
export function onStopSignal(onStop: (signal: string) => void, source: SignalSource = process): void {
  for (const signal of STOP_SIGNALS) source.once(signal, () => onStop(signal));
}
