/**
 * The shape check that lets the Scanner run patterns on the main thread (small payloads, see
 * Scanner's `inlineMaxBytes`): a pattern that passes cannot backtrack catastrophically, so its
 * time is linear in the text and a bounded text costs a bounded time. Patterns that fail it (and
 * every policy pattern) run only in the scanner worker, under its budget.
 *
 * Why a regex source cannot backtrack catastrophically, checked by shape: no backreference, and
 * no repeated group that itself contains a quantifier (`(a+)+`, `(?:x|y*){2,}`). A group that is
 * only optional (`?`, `{0,1}`) may hold quantifiers: it is tried once, not repeated. Returns the
 * problems found (empty when the source passes).
 */
export function linearTimeProblems(source: string): string[] {
  const problems: string[] = [];
  const groups: Array<{ quantified: boolean }> = [];
  let lastGroupHadQuantifier = false;
  let lastWasGroup = false;
  const markQuantifier = (repeats: boolean): void => {
    if (repeats && lastWasGroup && lastGroupHadQuantifier) problems.push('nested quantifier');
    for (const g of groups) g.quantified = true;
    lastWasGroup = false;
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (/[1-9]/.test(n) || (n === 'k' && source[i + 2] === '<')) problems.push(`backreference \\${n}`);
      i++;
      lastWasGroup = false;
      continue;
    }
    if (c === '[') {
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      lastWasGroup = false;
      continue;
    }
    if (c === '(') {
      groups.push({ quantified: false });
      if (source[i + 1] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>
        i += source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!' ? source.indexOf('>', i) - i : source[i + 2] === '<' ? 3 : 2;
      }
      lastWasGroup = false;
      continue;
    }
    if (c === ')') {
      const g = groups.pop();
      lastGroupHadQuantifier = g?.quantified ?? false;
      lastWasGroup = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      markQuantifier(c !== '?');
      if (source[i + 1] === '?') i++; // lazy
      continue;
    }
    const bounds = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null;
    if (bounds) {
      i += bounds[0].length - 1;
      const max = bounds[2] === undefined ? Number(bounds[1]) : bounds[3] === '' ? Infinity : Number(bounds[3]);
      markQuantifier(max > 1);
      if (source[i + 1] === '?') i++;
      continue;
    }
    lastWasGroup = false;
  }
  return problems;
}

/** True when every source passes {@link linearTimeProblems}. */
export function allLinearTime(sources: readonly string[]): boolean {
  return sources.every((s) => linearTimeProblems(s).length === 0);
}
