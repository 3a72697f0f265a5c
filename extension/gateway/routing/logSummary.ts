import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

/** Default window of a summary: at most two records per server per minute, however chatty it is. */
const DEFAULT_WINDOW_MS = 60_000;

/**
 * The audit trail of children's log messages, summarised: the first message of a server writes
 * a record at once, the ones that follow within the window are counted by level and written as
 * one record when it ends (or at {@link flush}). Log messages are not actions, a debug-level
 * server sends many a second, and every audit record is fsynced into a hash chain: one record
 * per message would bury the calls. The records hold counts only, never a message's data.
 */
export class LogSummary {
  private readonly windows = new Map<string, { levels: Partial<Record<LoggingLevel, number>>; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly write: (server: string, levels: Partial<Record<LoggingLevel, number>>) => void,
    private readonly windowMs = DEFAULT_WINDOW_MS,
  ) {}

  note(server: string, level: LoggingLevel): void {
    const open = this.windows.get(server);
    if (open) {
      open.levels[level] = (open.levels[level] ?? 0) + 1;
      return;
    }
    this.write(server, { [level]: 1 });
    const timer = setTimeout(() => this.end(server), this.windowMs);
    timer.unref?.();
    this.windows.set(server, { levels: {}, timer });
  }

  /** Writes what every open window counted (before the audit log closes). */
  flush(): void {
    for (const server of [...this.windows.keys()]) this.end(server);
  }

  private end(server: string): void {
    const open = this.windows.get(server);
    if (!open) return;
    clearTimeout(open.timer);
    this.windows.delete(server);
    if (Object.keys(open.levels).length > 0) this.write(server, open.levels);
  }
}
