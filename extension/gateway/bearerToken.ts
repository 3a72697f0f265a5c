import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh 256-bit token, URL-safe, for one gateway start. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Constant-time comparison of a presented token with the expected one. Both sides are hashed
 * first so that lengths match and the comparison time does not reveal the token's length.
 */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * {@link tokenMatches} against a fixed expected token, hashed once: the listener checks a token
 * on every request, and hashing the expected side each time was half the cost.
 */
export function tokenMatcher(expected: string): (presented: string) => boolean {
  const b = createHash('sha256').update(expected).digest();
  return (presented) => timingSafeEqual(createHash('sha256').update(presented).digest(), b);
}
