/**
 * The process table where there is no procfs: who runs, who started them, and since when.
 *
 * A recorded child is named by its pid AND its start time, so that a pid the OS has handed out
 * again is never killed (issue 13.11). Linux reads the start time from `/proc/<pid>/stat`
 * (`pool/processStartTime.ts`); macOS and Windows list their processes with a built-in tool:
 *
 * - macOS: `/bin/ps -A -o pid=,ppid=,lstart=`, run with `LC_ALL=C` (lstart is `%c`, whose
 *   words follow the locale) and `TZ=UTC` (the same process prints the same time whatever the
 *   user's zone). lstart has whole seconds: a pid reused within the same second would match,
 *   which macOS's sequential pids (up to 99999 before wrapping) make practically impossible.
 *   The start time becomes the digits `YYYYMMDDhhmmss`, which order like the times.
 * - Windows: `Get-CimInstance Win32_Process` in Windows PowerShell (every Windows since 8; wmic
 *   is gone from current Windows 11), passed as `-EncodedCommand` so no quoting reaches
 *   cmd.exe, printing `pid ppid creation` with the creation time as a FILETIME (100 ns ticks
 *   since 1601, UTC): exact, and a plain integer.
 *
 * Windows also needs the parent: it never reparents an orphan, so a process whose parent has
 * exited keeps the dead parent's pid as its `ppid`. A process started at or after a recorded
 * process, whose `ppid` is that process's pid, is its child even when the parent is gone; one
 * started before it had an earlier holder of that pid as its parent ({@link descendantsOf}).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

/** One running process. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Digits that, with the pid, name this process and no later one; ordered like the times. */
  startTime: string;
}

/** A helper command that prints the process table. */
export interface ProcessListCommand {
  command: string;
  args: string[];
  /** Added to the environment. */
  env?: Record<string, string>;
}

/** The PowerShell that prints `pid ppid creation-filetime`, one process a line. */
export const WINDOWS_PROCESS_SCRIPT =
  'Get-CimInstance -ClassName Win32_Process -Property ProcessId,ParentProcessId,CreationDate | ' +
  "ForEach-Object { if ($_.CreationDate) { '{0} {1} {2}' -f $_.ProcessId, $_.ParentProcessId, $_.CreationDate.ToFileTimeUtc() } }";

/** The command that lists every process on `platform`; undefined on Linux (procfs) and others. */
export function processListCommand(platform: NodeJS.Platform, env: Readonly<Record<string, string | undefined>> = process.env): ProcessListCommand | undefined {
  if (platform === 'darwin') return { command: '/bin/ps', args: ['-A', '-o', 'pid=,ppid=,lstart='], env: { LC_ALL: 'C', TZ: 'UTC' } };
  if (platform !== 'win32') return undefined;
  const root = env.SystemRoot ?? env.SYSTEMROOT;
  // By its full path, as taskkill: a powershell.exe earlier on PATH (a workspace's bin) is not ours.
  const command = root ? path.win32.join(root, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe') : 'powershell.exe';
  const encoded = Buffer.from(WINDOWS_PROCESS_SCRIPT, 'utf16le').toString('base64');
  return { command, args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encoded] };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DIGITS = /^\d+$/;

/**
 * Parses the output of {@link processListCommand}. Lines that do not have the expected shape
 * (a header, a warning, a process without a creation time) are skipped, never guessed at.
 */
export function parseProcessList(platform: NodeJS.Platform, text: string): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    let startTime: string | undefined;
    if (platform === 'win32') {
      if (f.length === 3) startTime = f[2];
    } else if (f.length === 7) {
      // `  501     1 Tue Dec  1 22:32:11 2026`: pid ppid weekday month day time year.
      const month = MONTHS.indexOf(f[3] ?? '');
      const time = (f[5] ?? '').split(':');
      if (month >= 0 && time.length === 3 && /^\d{4}$/.test(f[6] ?? '')) {
        startTime = [f[6], month + 1, f[4], ...time].map((v, i) => (i === 0 ? String(v) : String(v).padStart(2, '0'))).join('');
      }
    }
    const [pid, ppid] = f;
    if (startTime === undefined || !DIGITS.test(pid ?? '') || !DIGITS.test(ppid ?? '') || !DIGITS.test(startTime)) continue;
    out.push({ pid: Number(pid), ppid: Number(ppid), startTime });
  }
  return out;
}

/**
 * `root` (when it is still the process recorded) and every process it started, directly or
 * through a chain of live processes, including those whose parent has exited (Windows keeps
 * their dead parent's pid). Parents before children.
 */
export function descendantsOf(table: readonly ProcessInfo[], root: { pid: number; startTime: string }): number[] {
  const out: number[] = [];
  const rootNow = table.find((p) => p.pid === root.pid);
  if (rootNow && rootNow.startTime === root.startTime) out.push(root.pid);
  // The root's pid already names a newer process: what started after that one is its child.
  const until = rootNow && rootNow.startTime !== root.startTime ? BigInt(rootNow.startTime) : undefined;
  const seen = new Set<number>([root.pid]);
  const queue: Array<{ pid: number; start: bigint; until?: bigint }> = [{ pid: root.pid, start: BigInt(root.startTime), until }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    for (const p of table) {
      const start = BigInt(p.startTime);
      if (p.ppid !== next.pid || seen.has(p.pid) || start < next.start || (next.until !== undefined && start >= next.until)) continue;
      seen.add(p.pid);
      out.push(p.pid);
      queue.push({ pid: p.pid, start });
    }
  }
  return out;
}

/** The platform seam: which OS, and how the helper runs (tests feed recorded outputs). */
export interface ProcessTableSeam {
  platform?: NodeJS.Platform;
  env?: Readonly<Record<string, string | undefined>>;
  /** Runs the helper; resolves with its stdout, or null when it failed or timed out. */
  run?: (command: ProcessListCommand) => Promise<string | null>;
}

/** A table listing may take this long (PowerShell's first start on a loaded machine is slow). */
const LIST_TIMEOUT_MS = 30_000;

/**
 * Every process now, or null where it cannot be listed (Linux: use procfs; a helper that failed).
 * Asynchronous and bounded in time; the helper never shows a window.
 */
export async function listProcesses(seam: ProcessTableSeam = {}): Promise<ProcessInfo[] | null> {
  const platform = seam.platform ?? process.platform;
  const command = processListCommand(platform, seam.env ?? process.env);
  if (!command) return null;
  const text = await (seam.run ?? runList)(command);
  return text === null ? null : parseProcessList(platform, text);
}

function runList(command: ProcessListCommand): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      command.command,
      command.args,
      { env: { ...process.env, ...command.env }, windowsHide: true, timeout: LIST_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout) => resolve(err ? null : stdout),
    );
  });
}
