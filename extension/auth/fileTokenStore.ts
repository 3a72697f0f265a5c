import { randomBytes } from 'node:crypto';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { chmod, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Emitter } from '../common/event';
import { replaceFile } from '../platform/replaceFile';
import type { StoredAuth, TokenStore } from './tokenStore';

/** `$XDG_CONFIG_HOME/gatehouse`, else `~/.config/gatehouse`: the user's, never the workspace's. */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME?.trim();
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config'), 'gatehouse');
}

/** How often a running gateway looks for a sign-in made by another process (`gatehouse auth login`). */
const WATCH_INTERVAL_MS = 1000;

interface TokenFile {
  version: 1;
  servers: Record<string, StoredAuth>;
}

/**
 * Sign-ins for the command line: one JSON file, `tokens.json`, mode 0600 in a 0700 directory,
 * rewritten whole (temp + rename) so a reader never sees half a file. Another process's write
 * (a `gatehouse auth login` while `gatehouse serve` runs) is noticed by polling the file's
 * stat, which is cheap and works the same on every platform and file system.
 */
export class FileTokenStore implements TokenStore {
  readonly file: string;
  private cache: Record<string, StoredAuth> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly emitter = new Emitter<string>();
  readonly onDidChange = this.emitter.event;
  private watching = false;

  constructor(readonly dir: string = userConfigDir()) {
    this.file = path.join(dir, 'tokens.json');
  }

  /** Starts noticing other processes' writes (the gateway does; a one-shot CLI command need not). */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.file, { interval: WATCH_INTERVAL_MS, persistent: false }, (cur: Stats, prev: Stats) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
      void this.reload();
    });
  }

  async get(url: string): Promise<StoredAuth | undefined> {
    return (await this.all())[url];
  }

  async keys(): Promise<string[]> {
    return Object.keys(await this.all());
  }

  set(url: string, value: StoredAuth | undefined): Promise<void> {
    return this.update(url, () => value);
  }

  async update(url: string, change: (current: StoredAuth | undefined) => StoredAuth | undefined): Promise<void> {
    const run = this.writing.then(async () => {
      // Re-read first: another process may have written since we last looked.
      const servers = { ...(await this.read()) };
      const value = change(servers[url]);
      if (value === undefined) delete servers[url];
      else servers[url] = value;
      await this.write(servers);
      this.cache = servers;
    });
    this.writing = run.catch(() => undefined);
    await run;
    this.emitter.fire(url);
  }

  dispose(): void {
    if (this.watching) unwatchFile(this.file);
    this.emitter.dispose();
  }

  private async all(): Promise<Record<string, StoredAuth>> {
    this.cache ??= await this.read();
    return this.cache;
  }

  private async reload(): Promise<void> {
    const before = this.cache ?? {};
    const after = await this.read();
    this.cache = after;
    for (const url of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (JSON.stringify(before[url]) !== JSON.stringify(after[url])) this.emitter.fire(url);
    }
  }

  private async read(): Promise<Record<string, StoredAuth>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return {};
    }
    try {
      const parsed = JSON.parse(text) as Partial<TokenFile>;
      return parsed && typeof parsed.servers === 'object' && parsed.servers !== null ? parsed.servers : {};
    } catch {
      // A torn or hand-edited file: treated as no sign-ins (never quoted: it holds secrets).
      return {};
    }
  }

  private async write(servers: Record<string, StoredAuth>): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    const body: TokenFile = { version: 1, servers };
    try {
      await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await replaceFile(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}
