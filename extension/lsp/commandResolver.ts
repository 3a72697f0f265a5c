/**
 * Finds a server's `command` the way the gateway's spawn will (`shell: false`, libuv rules), so
 * "not found on PATH" in the editor means the gateway would get ENOENT:
 * - a command with a path separator is a file, relative to the server's working directory;
 * - otherwise each PATH entry is tried in order (an empty entry means the working directory);
 * - on Windows, a name without an extension is tried as `.com` then `.exe` (libuv does not
 *   try `.cmd`, which is why a bare `npx` fails there without a shell).
 *
 * File-system lookups are asynchronous and cached for a short time, because the validator
 * runs on every keystroke and must stay synchronous: it asks {@link CommandResolver.peek}, and
 * the server awaits {@link CommandResolver.resolve} for whatever was not cached yet.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock } from '../common/clock';

/** One lookup: which command, on which PATH, from which working directory. */
export interface CommandQuery {
  command: string;
  /** The PATH the child will get (the gateway's, unless the entry's `env:` sets PATH). */
  searchPath: string;
  /** Absolute working directory of the child (relative commands resolve against it). */
  cwd: string;
}

/** The outcome of a lookup. */
export type CommandStatus =
  | { found: true; file: string }
  /** `missing`: no such file anywhere; `not-executable`: a file exists but lacks execute permission. */
  | { found: false; reason: 'missing' | 'not-executable' };

/** Options of {@link CommandResolver}. */
export interface CommandResolverOptions {
  /** How long an answer is trusted; installing a tool should clear the warning soon. Default 30 s. */
  ttlMs?: number;
  clock?: Clock;
  platform?: NodeJS.Platform;
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

  constructor(options: CommandResolverOptions = {}) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
    this.platform = options.platform ?? process.platform;
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
      pending = findCommand(query, this.platform).then((status) => {
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
  return JSON.stringify([q.command, q.searchPath, q.cwd]);
}

/** Resolves one command without caching (exported for tests). */
export async function findCommand(query: CommandQuery, platform: NodeJS.Platform = process.platform): Promise<CommandStatus> {
  const windows = platform === 'win32';
  const p = windows ? path.win32 : path.posix;
  const names = windows && p.extname(query.command) === '' ? [`${query.command}.com`, `${query.command}.exe`] : [query.command];
  const hasSeparator = windows ? /[\\/]/.test(query.command) : query.command.includes('/');
  const dirs = hasSeparator ? [query.cwd] : query.searchPath.split(p.delimiter).map((dir) => (dir === '' ? query.cwd : p.resolve(query.cwd, dir)));
  let sawFile = false;
  for (const dir of dirs) {
    for (const name of names) {
      const file = p.resolve(dir, name);
      const kind = await probe(file, windows);
      if (kind === 'executable') return { found: true, file };
      if (kind === 'file') sawFile = true;
    }
  }
  return { found: false, reason: sawFile ? 'not-executable' : 'missing' };
}

async function probe(file: string, windows: boolean): Promise<'executable' | 'file' | 'none'> {
  try {
    if (!(await stat(file)).isFile()) return 'none';
  } catch {
    return 'none';
  }
  // Windows has no execute bit: an existing .exe/.com is runnable.
  if (windows) return 'executable';
  try {
    await access(file, constants.X_OK);
    return 'executable';
  } catch {
    return 'file';
  }
}
