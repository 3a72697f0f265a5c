/**
 * Makes the config directory readable by the current user only, where file modes do not.
 *
 * On Linux and macOS the token (`gateway.json`), state and audit files are created 0600 and that
 * suffices. On Windows a mode is ignored (only the read-only bit exists): a new file inherits
 * the ACL of its folder. Under the user's profile (`C:\Users\<name>\…`) that already means the
 * user, SYSTEM and Administrators; but a workspace at `C:\src\…` inherits the drive root's
 * "Authenticated Users: Modify", so any local account could read the token. Moving the files to
 * a per-user location (`%LOCALAPPDATA%`) would break rea's layout, which `gatehouse bridge`,
 * `status` and rea itself read beside the config; so instead the config directory's ACL is
 * replaced once per process, before the first secret is written: inheritance off, full control
 * for the user (inherited by every file created in it afterwards, temp files included), nothing
 * for anyone else. `icacls` ships with every Windows since Vista.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** The platform seam. */
export interface RestrictSeam {
  platform?: NodeJS.Platform;
  env?: Readonly<Record<string, string | undefined>>;
  /** Runs a helper to completion; resolves with its exit code. Spawned with `windowsHide`. */
  run?: (command: string, args: readonly string[]) => Promise<number | null>;
}

/** The icacls call that leaves `dir` (and what is created in it) to the current user alone. */
export function icaclsCommand(dir: string, env: Readonly<Record<string, string | undefined>>): { command: string; args: string[] } | undefined {
  const user = env.USERNAME;
  if (!user) return undefined;
  const account = env.USERDOMAIN ? `${env.USERDOMAIN}\\${user}` : user;
  const root = env.SystemRoot ?? env.SYSTEMROOT;
  const command = root ? path.win32.join(root, 'System32', 'icacls.exe') : 'icacls.exe';
  // /inheritance:r drops the inherited entries; /grant:r replaces any explicit grant; (OI)(CI)
  // makes files and folders created inside inherit it; /q keeps its success lines quiet.
  return { command, args: [dir, '/inheritance:r', '/grant:r', `${account}:(OI)(CI)F`, '/q'] };
}

const done = new Set<string>();

/**
 * On Windows, restricts `dir` to the current user (once per directory per process); elsewhere
 * does nothing (modes do the work). Resolves false when it could not (no USERNAME, icacls
 * failed): the caller logs it, the gateway still runs.
 */
export async function restrictToUser(dir: string, seam: RestrictSeam = {}): Promise<boolean> {
  if ((seam.platform ?? process.platform) !== 'win32') return true;
  const key = dir.toLowerCase();
  if (done.has(key)) return true;
  const call = icaclsCommand(dir, seam.env ?? process.env);
  if (!call) return false;
  const code = await (seam.run ?? runHidden)(call.command, call.args).catch(() => null);
  if (code !== 0) return false;
  done.add(key);
  return true;
}

function runHidden(command: string, args: readonly string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const helper = spawn(command, args, { stdio: 'ignore', windowsHide: true });
    helper.once('error', reject);
    helper.once('close', (code) => resolve(code));
  });
}
