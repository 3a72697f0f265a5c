import { until } from '../../helpers/poll';

/**
 * Polls `check` until it returns a truthy value; fails naming `what` after `timeoutMs`.
 * The shared poller with a 100 ms default interval: a workbench is slower to change than a child.
 */
export function waitUntil<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 100): Promise<NonNullable<Awaited<T>>> {
  return until(what, check, timeoutMs, intervalMs);
}
