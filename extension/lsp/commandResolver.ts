/**
 * Finds a server's `command` the way the gateway's spawn will: the lookup itself is
 * `platform/resolveCommand.ts` ({@link findExecutable}), the one the spawn uses, so "not found on
 * PATH" in the editor means the gateway would get ENOENT (on Windows: PATH × PATHEXT, so a bare
 * `npx` finds `npx.cmd` as the spawn does).
 *
 * File-system lookups are asynchronous and cached for a short time, because the validator
 * runs on every keystroke and must stay synchronous: it asks {@link CommandResolver.peek}, and
 * the server awaits {@link CommandResolver.resolve} for whatever was not cached yet.
 */
import { systemClock, type Clock } from '../common/clock';
import { findExecutable, type CommandQuery, type CommandStatus, type FileProbe } from '../platform/resolveCommand';

export type { CommandQuery, CommandStatus };

/** Options of {@link CommandResolver}. */
export interface CommandResolverOptions {
  /** How long an answer is trusted; installing a tool should clear the warning soon. Default 30 s. */
  ttlMs?: number;
  clock?: Clock;
  platform?: NodeJS.Platform;
  /** File-system seam (tests stand in for NTFS on Linux). */
  probe?: FileProbe;
}

/** The synchronous view the validator uses: the cached answer, or undefined when not known yet. */
export type CommandLookup = (query: CommandQuery) => CommandStatus | undefined;

/** See the module comment. */
export class CommandResolver {
  private readonly cache = new Map<string, { status: CommandStatus; at: number }>();
  private readonly inFlight = new Map<string, Promise<CommandStatus>>();
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly platform: NodeJS.Platform;
  private readonly probe: FileProbe | undefined;

  constructor(options: CommandResolverOptions = {}) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
    this.platform = options.platform ?? process.platform;
    this.probe = options.probe;
  }

  /** The cached answer for `query` if it is still fresh. */
  readonly peek: CommandLookup = (query) => {
    const hit = this.cache.get(keyOf(query));
    return hit && this.clock.now() - hit.at < this.ttlMs ? hit.status : undefined;
  };

  /** Looks up every query that is not fresh in the cache; concurrent callers share one lookup. */
  async resolve(queries: readonly CommandQuery[]): Promise<void> {
    await Promise.all(queries.map((q) => this.resolveOne(q)));
  }

  private resolveOne(query: CommandQuery): Promise<CommandStatus> {
    const cached = this.peek(query);
    if (cached) return Promise.resolve(cached);
    const key = keyOf(query);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = findExecutable(query, { platform: this.platform, probe: this.probe }).then((status) => {
        this.cache.set(key, { status, at: this.clock.now() });
        this.inFlight.delete(key);
        return status;
      });
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}

function keyOf(q: CommandQuery): string {
  return JSON.stringify([q.command, q.searchPath, q.cwd, q.pathExt ?? '']);
}

/** Resolves one command without caching (exported for tests). */
export function findCommand(query: CommandQuery, platform: NodeJS.Platform = process.platform): Promise<CommandStatus> {
  return findExecutable(query, { platform });
}
