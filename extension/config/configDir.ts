/**
 * Which directory holds the config of a workspace folder (DESIGN §6): `.gatehouse/` (or the
 * `gatehouse.configDir` setting), falling back to `.rea/` so rea users need no migration.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';

/** The default config directory name, relative to the workspace folder. */
export const GATEHOUSE_DIR = '.gatehouse';
/** rea's config directory name. */
export const REA_DIR = '.rea';

/** Where the config lives and whether it is there yet. */
export interface ConfigDirInfo {
  /** Absolute path of the config directory (which may not exist). */
  dir: string;
  /** 'rea' when the directory is rea's `.rea/`, whose files rea itself also reads. */
  flavor: 'gatehouse' | 'rea';
  /** Whether `dir` exists as a directory. */
  exists: boolean;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Resolves the config directory of `workspaceFolder`.
 * - `.gatehouse/` (or `override`, relative to the folder) when it exists;
 * - else `.rea/` when `.rea/registry.yaml` exists (a bare `.rea/` holds rea's other state, not
 *   necessarily servers);
 * - else `.gatehouse/` (or `override`) with `exists: false`, where "create config" should write.
 * An explicit override that does not exist still falls back to `.rea/`, like the default, so a
 * user-level setting does not hide an existing rea registry.
 */
export async function resolveConfigDir(workspaceFolder: string, override?: string): Promise<ConfigDirInfo> {
  const primary = path.resolve(workspaceFolder, override && override.trim() !== '' ? override : GATEHOUSE_DIR);
  const flavorOf = (dir: string): ConfigDirInfo['flavor'] => (path.basename(dir) === REA_DIR ? 'rea' : 'gatehouse');
  if (await isDirectory(primary)) return { dir: primary, flavor: flavorOf(primary), exists: true };
  const rea = path.resolve(workspaceFolder, REA_DIR);
  if (await isFile(path.join(rea, 'registry.yaml'))) return { dir: rea, flavor: 'rea', exists: true };
  return { dir: primary, flavor: flavorOf(primary), exists: false };
}
