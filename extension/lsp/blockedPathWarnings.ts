/**
 * Warnings on `blocked_paths` entries, read with the gateway's own path rules
 * (`config/pathMatcher.ts`, the same `platform` seam), so the editor says what the gateway will do:
 * - `blocked-path-never-matches`: a remote URL (`https://…`) or an entry that names no file or
 *   folder (`./`); the gateway ignores it, and the user meant to block something;
 * - `blocked-path-foreign`: a Windows path (drive letter, UNC, `\\?\`) on macOS or Linux, where it
 *   is only a relative name (`c:`) and blocks nothing the user meant.
 */
import { compilePathPattern } from '../config/pathMatcher';
import type { ConfigProblem } from '../config/problem';
import { rangeOf, type YamlSource } from '../config/yamlDocument';

/** Codes of the problems this module adds; the gateway never reports them. */
export const BLOCKED_PATH_WARNING_CODES: readonly string[] = ['blocked-path-never-matches', 'blocked-path-foreign'];

/** Policy warnings; `source` must be free of YAML errors (its `value` is read). */
export function blockedPathWarnings(source: YamlSource, options: { platform?: NodeJS.Platform; home?: string }): ConfigProblem[] {
  const root = source.value;
  if (typeof root !== 'object' || root === null || !Array.isArray((root as { blocked_paths?: unknown }).blocked_paths)) return [];
  const platform = options.platform ?? process.platform;
  const out: ConfigProblem[] = [];
  ((root as { blocked_paths: unknown[] }).blocked_paths).forEach((entry, index) => {
    if (typeof entry !== 'string' || entry === '') return;
    const at = rangeOf(source, ['blocked_paths', index]);
    const warn = (code: string, message: string): void => void out.push({ file: source.file, ...at, severity: 'warning', code, message });
    if (!compilePathPattern(entry, { platform, home: options.home })) {
      warn(
        'blocked-path-never-matches',
        /^[a-z][a-z0-9+.-]+:\/\//i.test(entry) && !/^file:/i.test(entry)
          ? `'${entry}' is a remote URL; blocked paths match local paths only, so this entry never matches; write the local path (or a file: URI)`
          : `'${entry}' names no file or folder, so it never matches; write the path to block, e.g. 'secrets/'`,
      );
      return;
    }
    if (platform !== 'win32' && /^(?:[a-z]:[\\/]|\\\\)/i.test(entry)) {
      warn(
        'blocked-path-foreign',
        `'${entry}' is a Windows path; on ${platform === 'darwin' ? 'macOS' : 'Linux'} it is read as a relative name and blocks nothing outside a folder of that name; write this system's path (e.g. '/home/me/secrets/')`,
      );
    }
  });
  return out;
}
