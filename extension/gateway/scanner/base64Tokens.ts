/**
 * The matches of the base64 token pattern (`BASE64_TOKEN` in patterns.ts:
 * `(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{20,}={0,2}`) found without the regex. Every match is a
 * maximal run of 20 or more base64 characters with up to two `=` after it, so a run need only be
 * looked at where it must show: any 20 consecutive positions hold one position of every residue
 * mod 20, so probing one position in 20 meets every run of 20 or more. A probe that lands on a
 * base64 character grows to the run around it; one that does not skips 20 positions unread.
 * Each character is read at most a few times (linear time), and prose or JSON, whose runs are
 * short words, is read about one character in three (the regex, which must try every position:
 * ~1.5 ms per 256 KiB of prose → ~0.2 ms).
 */

/** Shortest run that is a token. */
const MIN_RUN = 20;

/** 1 for the base64 characters A–Z, a–z, 0–9, `+` and `/` (ASCII codes only). */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;

function isBase64(code: number): boolean {
  return code < 128 && ALPHABET[code] === 1;
}

const EQUALS = 0x3d;

/**
 * Characters a run is followed by one at a time before the rest of it is left to {@link RUN}:
 * most runs (words, numbers) are shorter, and a regex call costs about as much as reading 30.
 */
const QUICK_CHARS = 32;

/** The rest of a run (sticky; it always matches, so `lastIndex` ends up at the run's end). */
const RUN = /[A-Za-z0-9+/]*/y;

/**
 * Calls `onToken(start, end)` for each match of `BASE64_TOKEN` in `text`, in order: the token
 * is `text.slice(start, end)` (test/unit/gateway/scanFastPaths.test.ts compares the two).
 */
export function forEachBase64Token(text: string, onToken: (start: number, end: number) => void): void {
  const length = text.length;
  // `from`: where the text not yet read starts (every run before it has been reported or is
  // shorter than MIN_RUN); the next probe is MIN_RUN - 1 past it.
  let from = 0;
  for (let probe = MIN_RUN - 1; probe < length; probe = from + MIN_RUN - 1) {
    if (!isBase64(text.charCodeAt(probe))) {
      from = probe + 1;
      continue;
    }
    let start = probe;
    while (start > from && isBase64(text.charCodeAt(start - 1))) start--;
    let end = probe + 1;
    const quick = Math.min(length, probe + QUICK_CHARS);
    while (end < quick && isBase64(text.charCodeAt(end))) end++;
    if (end === quick && end < length) {
      // A long run: the regex engine reads it about twice as fast as this loop.
      RUN.lastIndex = end;
      RUN.test(text);
      end = RUN.lastIndex;
    }
    // `end` is a character outside the alphabet (or the end of the text): the run is maximal.
    if (end - start >= MIN_RUN) {
      let padded = end;
      if (text.charCodeAt(padded) === EQUALS) padded++;
      if (text.charCodeAt(padded) === EQUALS) padded++;
      onToken(start, padded);
    }
    from = end + 1;
  }
}
