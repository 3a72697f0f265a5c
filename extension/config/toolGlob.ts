/**
 * Globs on exposed tool names (`server__tool`), as policy `approval.tools` writes them:
 * `*` is any run of characters (`__` included), `?` one character, everything else itself.
 * Matched without a regex (a two-pointer walk, linear in practice and never catastrophic): the
 * names come from clients and servers.
 */

/** Characters a glob may not hold: other glob dialects' syntax, which would silently match nothing here. */
const UNSUPPORTED = /[\s[\]{}!\\]/;

/** Why `glob` is not a valid tool glob, or undefined when it is. */
export function toolGlobProblem(glob: string): string | undefined {
  if (glob.length === 0) return "an empty glob matches nothing; write e.g. 'github__delete_*'";
  const bad = UNSUPPORTED.exec(glob);
  if (bad) {
    const what = /\s/.test(bad[0]) ? 'whitespace' : `'${bad[0]}'`;
    return `'${glob}' holds ${what}: tool globs know only * (any characters) and ? (one character)`;
  }
  // A pattern without the separator can only match names of its own shape when it starts with
  // a wildcard; 'delete_*' would never match 'github__delete_repo'.
  if (!glob.includes('__') && !glob.startsWith('*')) return `'${glob}' has no '__': tool globs match server__tool names; write e.g. '*__${glob}' or '<server>__${glob}'`;
  return undefined;
}

/** Whether `name` matches `glob` (see the file comment for the syntax). */
export function toolGlobMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let starG = -1;
  let starN = 0;
  while (n < name.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === name[n]))) {
      g++;
      n++;
    } else if (g < glob.length && glob[g] === '*') {
      starG = g++;
      starN = n;
    } else if (starG >= 0) {
      g = starG + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}
