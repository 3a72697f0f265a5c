/**
 * How a server's `command` becomes a process, on every desktop. One lookup serves both the
 * gateway's spawn ({@link resolveLaunch}) and the language server's "not found on PATH" warning
 * (`lsp/commandResolver.ts` calls {@link findExecutable}), so the editor never disagrees with
 * the spawn.
 *
 * - Linux and macOS: the command is spawned as written (`shell: false`); the lookup follows
 *   execvp (a name with `/` is a file relative to the working directory, else each PATH entry,
 *   an empty entry meaning the working directory; the file must be executable).
 * - Windows: libuv only tries `.com` and `.exe`, and Node refuses to spawn a `.cmd`/`.bat`
 *   without a shell (CVE-2024-27980), so a bare `npx`, `uvx` or `pnpm` fails with ENOENT.
 *   Like VS Code's own MCP client (`formatSubprocessArguments` in extHostMcpNode.ts:
 *   `findExecutable` with PATHEXT, then a shell for `.bat`/`.cmd`) and cross-spawn, the name is
 *   looked up through PATH × PATHEXT; an `.exe`/`.com` is spawned directly by its full path, a
 *   `.cmd`/`.bat` through `cmd.exe` with a command line built by {@link batchCommandLine}, so
 *   that no argument can inject a command.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

/** One lookup: which command, on which PATH, from which working directory. */
export interface CommandQuery {
  command: string;
  /** The PATH the child will get (the gateway's, unless the entry's `env:` sets PATH). */
  searchPath: string;
  /** Absolute working directory of the child (relative commands resolve against it). */
  cwd: string;
  /** Windows only: the child's PATHEXT (default {@link DEFAULT_PATHEXT}). */
  pathExt?: string;
}

/** The outcome of a lookup. */
export type CommandStatus =
  | { found: true; file: string }
  /** `missing`: no such file anywhere; `not-executable`: a file exists but lacks execute permission. */
  | { found: false; reason: 'missing' | 'not-executable' };

/** What a path is, as far as running it goes. The seam that lets Linux tests stand in for NTFS. */
export type FileProbe = (file: string, platform: NodeJS.Platform) => Promise<'executable' | 'file' | 'none'>;

/** The platform seam of this module: defaults are the running process's. */
export interface PlatformSeam {
  platform?: NodeJS.Platform;
  probe?: FileProbe;
}

/** Windows' own default PATHEXT (a fresh Windows 10/11 `set PATHEXT`). */
export const DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC';

/**
 * The PATHEXT extensions a process can be started from without a file association: CreateProcess
 * runs `.com`/`.exe`, cmd.exe runs `.bat`/`.cmd`. (`.js`, `.vbs` … would open Windows Script Host.)
 */
const RUNNABLE = new Set(['.COM', '.EXE', '.BAT', '.CMD']);
const BATCH = /\.(bat|cmd)$/i;

/** Resolves one command without caching. */
export async function findExecutable(query: CommandQuery, seam: PlatformSeam = {}): Promise<CommandStatus> {
  const platform = seam.platform ?? process.platform;
  const probe = seam.probe ?? probeFile;
  const windows = platform === 'win32';
  const p = windows ? path.win32 : path.posix;
  const hasSeparator = windows ? /[\\/]/.test(query.command) : query.command.includes('/');
  const dirs = hasSeparator ? [query.cwd] : query.searchPath.split(p.delimiter).map((dir) => (dir === '' ? query.cwd : p.resolve(query.cwd, dir)));
  const names = windows ? windowsCandidates(query.command, query.pathExt) : [query.command];
  let sawFile = false;
  for (const dir of dirs) {
    for (const name of names) {
      const file = p.resolve(dir, name);
      const kind = await probe(file, platform);
      if (kind === 'executable') return { found: true, file };
      if (kind === 'file') sawFile = true;
    }
  }
  return { found: false, reason: sawFile ? 'not-executable' : 'missing' };
}

/**
 * A name that already has an extension is tried as written (as libuv and cmd.exe do); otherwise
 * each runnable PATHEXT extension in PATHEXT's order, so `npx` finds `npx.cmd` but never the
 * extensionless `npx` shell script that Node's installer puts beside it.
 */
function windowsCandidates(command: string, pathExt: string | undefined): string[] {
  if (path.win32.extname(command) !== '') return [command];
  const exts = (pathExt || DEFAULT_PATHEXT)
    .split(';')
    .map((e) => e.trim().toUpperCase())
    .filter((e) => RUNNABLE.has(e));
  return [...new Set(exts)].map((ext) => `${command}${ext.toLowerCase()}`);
}

async function probeFile(file: string, platform: NodeJS.Platform): Promise<'executable' | 'file' | 'none'> {
  try {
    if (!(await stat(file)).isFile()) return 'none';
  } catch {
    return 'none';
  }
  // Windows has no execute bit: an existing file with a runnable extension runs.
  if (platform === 'win32') return 'executable';
  try {
    await access(file, constants.X_OK);
    return 'executable';
  } catch {
    return 'file';
  }
}

/** What to hand to `child_process.spawn`. */
export interface Launch {
  command: string;
  args: string[];
  /** Set when `args` is an already-quoted cmd.exe command line (Node must not quote it again). */
  windowsVerbatimArguments?: boolean;
}

/** What the gateway was asked to spawn. `env` is the child's complete environment. */
export interface LaunchSpec {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
}

/**
 * The spawn for `spec` on this platform. Off Windows it is `spec` itself (no I/O). On Windows a
 * name is resolved through the child's PATH and PATHEXT (keys matched case-insensitively, as
 * Windows does); one that is not found is returned unchanged, so the spawn reports ENOENT as
 * before. Throws when an argument cannot be passed to a batch file safely (a line break).
 */
export async function resolveLaunch(spec: LaunchSpec, seam: PlatformSeam = {}): Promise<Launch> {
  const platform = seam.platform ?? process.platform;
  if (platform !== 'win32') return { command: spec.command, args: [...spec.args] };
  const env = windowsEnv(spec.env);
  const cwd = spec.cwd ?? process.cwd();
  const status = await findExecutable({ command: spec.command, searchPath: env('PATH') ?? '', cwd, pathExt: env('PATHEXT') }, seam);
  if (!status.found) return { command: spec.command, args: [...spec.args] };
  if (!BATCH.test(status.file)) return { command: status.file, args: [...spec.args] };
  // ComSpec when the entry maps it; else cmd.exe by its full path, never a cmd.exe found on a PATH a workspace may extend.
  const root = env('SYSTEMROOT');
  return {
    command: env('COMSPEC') ?? (root ? path.win32.join(root, 'System32', 'cmd.exe') : 'cmd.exe'),
    args: ['/d', '/e:ON', '/v:OFF', '/s', '/c', batchCommandLine(status.file, spec.args)],
    windowsVerbatimArguments: true,
  };
}

function windowsEnv(env: Record<string, string>): (key: string) => string | undefined {
  const upper = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) if (!upper.has(key.toUpperCase())) upper.set(key.toUpperCase(), value);
  return (key) => upper.get(key);
}

/**
 * The text after `cmd.exe /d /e:ON /v:OFF /s /c` that runs `script` with `args`, each reaching
 * the batch file's `%*` (and the program it starts) unchanged. The rules are those Rust's
 * standard library adopted for "BatBadBut" (CVE-2024-24576, `make_bat_command_line`), which
 * cross-spawn's `^`-escaping does not survive: a `.cmd` shim re-parses `%*`, where `\"` flips
 * cmd.exe's quote state and exposes `&`.
 *
 * - The whole line is wrapped in one more pair of quotes, which `/s` strips (`cmd /?`).
 * - An argument is quoted unless it is only letters, digits and `#$*+-./:?@\_`; quoting keeps
 *   every cmd.exe metacharacter (`& | < > ( ) ^ ,;=` and spaces) inside a quoted region.
 * - Inside quotes a `"` becomes `""`: cmd.exe's quote state toggles twice (so it never leaves
 *   the quoted region), and the C runtime's argument parser reads `""` in quotes as one `"`
 *   (Microsoft, "Parsing C++ command-line arguments"). Backslashes are doubled only before a
 *   quote, including the closing one, so a trailing `\` cannot escape it.
 * - `%` becomes `%%cd:~,%`: cmd.exe expands `%VAR%` even inside quotes; `%cd:~,%` is an empty
 *   substring of the always-defined `cd`, which breaks up any `%NAME%` (the yt-dlp / Rust fix).
 * - `/v:OFF` keeps `!VAR!` literal, `/e:ON` keeps the substring syntax working, `/d` skips
 *   AutoRun commands from the registry.
 * - A line break cannot be passed at all (cmd.exe ends the command there): refused.
 */
export function batchCommandLine(script: string, args: readonly string[]): string {
  if (script.includes('"') || script.endsWith('\\')) throw new Error(`cannot run '${script}' through cmd.exe: the file name holds a quote or ends with a backslash`);
  const parts = [`"${script}"`];
  for (const arg of args) {
    if (/[\r\n\0]/.test(arg)) throw new Error('an argument for a .cmd/.bat server holds a line break or NUL, which cmd.exe cannot pass on safely');
    parts.push(quoteBatchArgument(arg));
  }
  return `"${parts.join(' ')}"`;
}

/** One argument of {@link batchCommandLine}. */
export function quoteBatchArgument(arg: string): string {
  const quote = arg === '' || arg.endsWith('\\') || /[^A-Za-z0-9#$*+\-./:?@\\_\u0080-\uffff]/.test(arg) || /\p{Cc}/u.test(arg);
  let out = quote ? '"' : '';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
    } else {
      if (ch === '"') out += `${'\\'.repeat(backslashes)}"`;
      else if (ch === '%') out += '%%cd:~,';
      backslashes = 0;
    }
    out += ch;
  }
  if (quote) out += `${'\\'.repeat(backslashes)}"`;
  return out;
}
