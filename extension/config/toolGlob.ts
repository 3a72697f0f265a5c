/**
 * Globs on tool names, as `tools.include` / `tools.exclude` (a server's own names), profile
 * `tools` and policy `approval.tools` (`server__tool`) use them: `*` is any run of characters, `?` exactly one; everything
 * else is literal. Matching is a two-pointer walk with one backtrack point, so it is linear in
 * practice and never builds a RegExp from user text (no ReDoS on a call path).
 */

/** Characters of richer glob dialects that we do not support: refused rather than read literally. */
const UNSUPPORTED = /[[\]{}!\\]/;
const SPACE_OR_CONTROL = /[\s\x00-\x1f\x7f]/;

/** Why `pattern` is not a usable tool glob, or undefined when it is. */
export function toolGlobProblem(pattern: string): string | undefined {
  if (pattern === '') return "a tool pattern must not be empty; use '*' for every tool";
  if (SPACE_OR_CONTROL.test(pattern)) return `tool pattern '${pattern}' contains a space or control character; tool names have none`;
  const bad = UNSUPPORTED.exec(pattern);
  if (bad) return `tool pattern '${pattern}' uses '${bad[0]}', which is not supported: only '*' (any run of characters) and '?' (one character) are special`;
  return undefined;
}

/**
 * {@link toolGlobProblem} for globs on exposed `server__tool` names (policy `approval.tools`): a
 * pattern without the separator only matches when it starts with a wildcard, so 'delete_*' would
 * silently never match 'github__delete_repo'.
 */
export function qualifiedToolGlobProblem(pattern: string): string | undefined {
  const problem = toolGlobProblem(pattern);
  if (problem) return problem;
  if (!pattern.includes('__') && !pattern.startsWith('*')) {
    return `tool pattern '${pattern}' has no '__': it matches server__tool names; write e.g. '*__${pattern}' or '<server>__${pattern}'`;
  }
  return undefined;
}

/** True when `name` matches `pattern` as a whole (see the file comment for the syntax). */
export function matchesToolGlob(name: string, pattern: string): boolean {
  let n = 0;
  let p = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const c = pattern[p];
    if (c === '*') {
      starP = p++;
      starN = n;
    } else if (c !== undefined && (c === '?' || c === name[n])) {
      p++;
      n++;
    } else if (starP !== -1) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** True when any of `patterns` matches `name`. */
export function matchesAnyToolGlob(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesToolGlob(name, p));
}

/** A server's `tools:` selection as the registry holds it. */
export interface ToolSelectionConfig {
  include?: readonly string[];
  exclude?: readonly string[];
}

/** True when the server's `tools:` selection lets `tool` (its own name) through. */
export function toolSelected(tool: string, selection: ToolSelectionConfig | undefined): boolean {
  if (!selection) return true;
  if (selection.include && !matchesAnyToolGlob(tool, selection.include)) return false;
  return !(selection.exclude && matchesAnyToolGlob(tool, selection.exclude));
}
