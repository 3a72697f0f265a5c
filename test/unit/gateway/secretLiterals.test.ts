/**
 * The built-in patterns' required literals (SECRET_LITERALS), which let the scanner skip a
 * pattern on a long text that lacks the characters of every literal: each literal list must be
 * true of every match, and the skipping redaction must equal running every pattern.
 *
 * Matches are generated from each pattern's own source (a small generator for the regex syntax
 * the built-ins use), so every branch of an alternation is exercised, not only the corpus's
 * samples.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePatterns, redactString, type CompiledPattern } from '../../../extension/gateway/scanner/engine';
import { SECRET_LITERALS, SECRET_PATTERNS, type PatternSpec } from '../../../extension/gateway/scanner/patterns';
import { secretCorpus, seeded } from '../../fixtures/secrets/secretCorpus';

/** Printable ASCII, tab and newline: what a generated character class member is drawn from. */
const CHARS = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), '\t', '\n'];

/**
 * Random strings a regex source can match, built from its syntax (literals, escapes, classes,
 * groups, alternation, quantifiers); lookarounds, `\b` and anchors produce nothing, so a caller
 * keeps only the strings the regex really matches. Unbounded and long repetitions are cut to a
 * few more than their minimum.
 */
function generator(source: string, flags: string, next: () => number): () => string {
  let at = 0;
  type Gen = () => string;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const classOf = (body: string): Gen => {
    const re = new RegExp(`^[${body}]$`, flags.replace('g', ''));
    const members = CHARS.filter((c) => re.test(c));
    assert.ok(members.length > 0, `class [${body}] has members`);
    return () => pick(members);
  };
  const escape = (c: string): Gen => {
    if (c === 'b' || c === 'B') return () => '';
    if ('sdwSDW'.includes(c)) return classOf(`\\${c}`);
    return () => c;
  };
  const atom = (): Gen => {
    const c = source[at++]!;
    if (c === '\\') return escape(source[at++]!);
    if (c === '[') {
      const start = at;
      while (source[at] !== ']') at += source[at] === '\\' ? 2 : 1;
      return classOf(source.slice(start, at++));
    }
    if (c === '(') {
      let look = false;
      if (source.startsWith('?:', at)) at += 2;
      else if (/^\?<?[=!]/.test(source.slice(at))) {
        look = true;
        at += source[at + 1] === '<' ? 3 : 2;
      } else if (source.startsWith('?<', at)) at = source.indexOf('>', at) + 1;
      const inner = alternation();
      assert.equal(source[at++], ')');
      return look ? () => '' : inner;
    }
    if (c === '^' || c === '$') return () => '';
    if (c === '.') return () => pick(CHARS.filter((x) => x !== '\n'));
    return () => c;
  };
  const quantified = (): Gen => {
    const g = atom();
    let min = 1;
    let max = 1;
    const q = source[at];
    if (q === '?' || q === '*' || q === '+') {
      at++;
      [min, max] = q === '?' ? [0, 1] : q === '*' ? [0, Infinity] : [1, Infinity];
    } else if (q === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at))!;
      at += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    }
    const top = Math.min(max, min + 4);
    return () => {
      let out = '';
      const n = next() < 0.3 ? min : next() < 0.3 ? top : min + Math.floor(next() * (top - min + 1));
      for (let i = 0; i < n; i++) out += g();
      return out;
    };
  };
  const sequence = (): Gen => {
    const parts: Gen[] = [];
    while (at < source.length && source[at] !== '|' && source[at] !== ')') parts.push(quantified());
    return () => parts.map((g) => g()).join('');
  };
  function alternation(): Gen {
    const branches = [sequence()];
    while (source[at] === '|') {
      at++;
      branches.push(sequence());
    }
    return () => pick(branches)();
  }
  const whole = alternation();
  assert.equal(at, source.length, `parsed all of ${source}`);
  const ignoreCase = flags.includes('i');
  return () => {
    const s = whole();
    return ignoreCase ? [...s].map((c) => (next() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('') : s;
  };
}

/** What may stand before a generated match: lookbehinds want digits, `?`/`&`, a line start or `;`. */
const BEFORE = ['', ' ', '\n', ';', '?', '&', '12345678', 'ab1', 'x', '"'];
const AFTER = ['', ' ', '@host', '\n', ';', '"'];

/** Texts holding matches of `spec`, each with the matches found in it. */
function matchesOf(spec: PatternSpec, seed: number, wanted: number): Array<{ text: string; matches: string[] }> {
  const next = seeded(seed);
  const gen = generator(spec.regex, spec.flags, next);
  const re = new RegExp(spec.regex, spec.flags);
  const out: Array<{ text: string; matches: string[] }> = [];
  for (let tries = 0; out.length < wanted && tries < wanted * 50; tries++) {
    const text = BEFORE[Math.floor(next() * BEFORE.length)]! + gen() + AFTER[Math.floor(next() * AFTER.length)]!;
    const matches = [...text.matchAll(re)].map((m) => m[0]);
    if (matches.length > 0) out.push({ text, matches });
  }
  return out;
}

describe('required literals of the built-in secret patterns', () => {
  it('name built-in patterns, lower-case for case-insensitive ones, and leave out only the anchored Basic Auth Value', () => {
    const names = SECRET_PATTERNS.map((p) => p.name);
    for (const name of Object.keys(SECRET_LITERALS)) assert.ok(names.includes(name), name);
    assert.deepEqual(names.filter((n) => !(n in SECRET_LITERALS)), ['Basic Auth Value']);
    for (const p of SECRET_PATTERNS) {
      for (const literal of (SECRET_LITERALS[p.name] ?? []).flat()) {
        assert.ok(literal.length > 0 && /^[\x21-\x7e ]+$/.test(literal), `${p.name}: ${literal}`);
        if (p.flags.includes('i')) assert.equal(literal, literal.toLowerCase(), `${p.name}: ${literal}`);
      }
    }
  });

  it('every generated match of every pattern holds a literal of each of its groups (every branch is generated)', () => {
    SECRET_PATTERNS.forEach((spec, k) => {
      const groups = SECRET_LITERALS[spec.name];
      if (!groups) return;
      const samples = matchesOf(spec, 100 + k, 400);
      assert.ok(samples.length >= 200, `${spec.name}: ${samples.length} generated matches`);
      const used = new Set<string>();
      for (const { matches } of samples) {
        for (const m of matches) {
          const folded = spec.flags.includes('i') ? m.toLowerCase() : m;
          for (const group of groups) {
            const found = group.filter((l) => folded.includes(l));
            assert.ok(found.length > 0, `${spec.name}: ${JSON.stringify(m)} holds none of ${JSON.stringify(group)}`);
            found.forEach((l) => used.add(l));
          }
        }
      }
      // No dead literal: each one is what some branch needs.
      assert.deepEqual([...used].sort(), [...new Set(groups.flat())].sort(), spec.name);
    });
  });

  it('the corpus secrets hold the literals of the patterns that redact them', () => {
    for (const spec of SECRET_PATTERNS) {
      const groups = SECRET_LITERALS[spec.name];
      if (!groups) continue;
      const re = new RegExp(spec.regex, spec.flags);
      for (const sample of secretCorpus()) {
        for (const m of sample.text.matchAll(re)) {
          const folded = spec.flags.includes('i') ? m[0].toLowerCase() : m[0];
          for (const group of groups) assert.ok(group.some((l) => folded.includes(l)), `${spec.name} in ${sample.format}: ${JSON.stringify(group)}`);
        }
      }
    }
  });

  it('ignoring case (no u flag), a literal character matches only itself and, for a letter, its other ASCII case', () => {
    const chars = [...new Set(Object.values(SECRET_LITERALS).flat(2).join(''))];
    const any = new RegExp(`[${chars.map((c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')}]`, 'i');
    const lowered = new Set(chars.map((c) => c.toLowerCase()));
    const odd: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      const c = String.fromCodePoint(cp);
      if (any.test(c) && !(cp < 0x80 && lowered.has(c.toLowerCase()))) odd.push(`U+${cp.toString(16)}`);
    }
    assert.deepEqual(odd, []);
  });
});

describe('redaction of long texts skips the patterns whose literals a text cannot hold, and changes nothing', () => {
  const fast = compilePatterns(SECRET_PATTERNS);
  // The same patterns as policy patterns: never skipped (the plain one-by-one redaction).
  const plain = compilePatterns(SECRET_PATTERNS.map((p) => ({ ...p, source: 'user' as const })));
  const FILLERS = ['x', ' ', 'ab', 'lorem ipsum dolor ', '0', '-', '{"k": 1}, '];

  it('only built-in patterns, compiled from their exact source, skip', () => {
    assert.equal(fast.filter((p) => p.needs).length, Object.keys(SECRET_LITERALS).length);
    assert.equal(plain.filter((p) => p.needs).length, 0);
    const changed = compilePatterns(SECRET_PATTERNS.map((p) => ({ ...p, regex: `${p.regex}|zz` })));
    assert.equal(changed.filter((p) => p.needs).length, 0);
  });

  it('asks again after a replacement: a marker brings characters a later pattern needs', () => {
    const patterns: CompiledPattern[] = [
      { name: 'before', source: 'default', re: /\[x/g, needs: [[[['[']]]] }, // asks for `[` while the text has none
      { name: 'A', source: 'user', re: /a/g },
      { name: 'B', source: 'default', re: /\[REDACTED:A\]/g, needs: [[[['[']]]] },
    ];
    const text = `${'x'.repeat(2000)}a`;
    assert.deepEqual(redactString(text, patterns), { value: `${'x'.repeat(2000)}[REDACTED:B]`, names: ['A', 'B'] });
  });

  it('redacts exactly as running every pattern: generated matches of every pattern inside long fillers', () => {
    const next = seeded(40);
    let redacted = 0;
    SECRET_PATTERNS.forEach((spec, k) => {
      for (const { text } of matchesOf(spec, 200 + k, 30)) {
        const piece = FILLERS[Math.floor(next() * FILLERS.length)]!;
        const filler = piece.repeat(Math.ceil(1100 / piece.length)); // over PROBE_MAX_CHARS: the long-text path
        const long = next() < 0.5 ? `${filler}${text}` : `${text}${filler}${text}`;
        assert.deepEqual(redactString(long, fast), redactString(long, plain), `${spec.name}: ${JSON.stringify(text)}`);
        if (redactString(long, plain)) redacted++;
      }
    });
    assert.ok(redacted > 1000, `${redacted} texts redacted`);
  });

  it('redacts exactly as running every pattern: mixes of secrets whose markers later patterns see', () => {
    const next = seeded(41);
    const corpus = secretCorpus().map((s) => s.text);
    const generated = SECRET_PATTERNS.flatMap((spec, k) => matchesOf(spec, 300 + k, 10).map((s) => s.text));
    const bits = ['=', ':', '://', ' ', '\n', ';', '"', '_', '-', '.', 'password=', 'Bearer ', 'SECRET_', '@x'];
    for (let round = 0; round < 400; round++) {
      let text = '';
      while (text.length < 1100) {
        const r = next();
        text += r < 0.3 ? corpus[Math.floor(next() * corpus.length)] : r < 0.6 ? generated[Math.floor(next() * generated.length)] : r < 0.8 ? bits[Math.floor(next() * bits.length)] : 'x'.repeat(Math.floor(next() * 300));
      }
      assert.deepEqual(redactString(text, fast), redactString(text, plain), JSON.stringify(text.slice(0, 300)));
    }
  });
});
