/**
 * Blocked paths (SPEC §7.6, with rea's later hardening and the 0.10.0 "Defect H" fix).
 *
 * Patterns: policy `blocked_paths` (read per call, so a reload applies to the next call) plus
 * `.gatehouse/` and `.rea/`, which are always blocked and cannot be unblocked.
 *
 * Which strings are checked — every string argument at any depth is considered:
 * - a value under a *path key* (`path`, `file`, `uri`, … compared case-insensitively on the leaf
 *   key; array elements inherit their parent's key) on one line, or a *path-shaped* value under
 *   any key (no whitespace, ≤ 1024 chars, and a separator, `~`, a leading dot, a drive prefix or
 *   an encoded separator/dot), gets the full check: hostile-encoding refusal, then matching;
 * - any other value without whitespace (≤ 4096 chars, e.g. `secrets.txt` under `name`) is
 *   matched too, with only the NUL check (a `%` in such a string is not evidence);
 * - a *command key* (`command`, `cmd`, `script`, …) is split into shell-ish tokens (quotes
 *   removed first, so `.gate''house` is seen as `.gatehouse`) and each token is matched. This is
 *   best effort: a shell can build a path in ways no scanner can follow;
 * - other text with whitespace (prose, file contents) is not matched — availability over a
 *   guess, as rea.
 *
 * Hostile values are refused before matching: a NUL byte (raw or decoded), a malformed percent
 * escape (`%` not followed by two hex digits, or escapes that are not UTF-8; a literal `%` must be
 * written `%25`), and an encoded separator or dot (`%2f`, `%5c`, `%2e`) that survives decoding
 * until stable.
 *
 * Normalisation of values and patterns: percent-decode until stable; a leading `~` is the home
 * directory (so `~/.ssh/` also blocks `/home/me/.ssh/id_rsa`); a `scheme://` other than
 * `file:` is remote and never matches; `file:` URIs lose scheme, authority, query and fragment;
 * C0 controls are stripped; `\` becomes `/`; `.` and `..` are resolved lexically (POSIX
 * normalize — `a/../.gatehouse/x` is `.gatehouse/x`); trailing dots and spaces of a segment are
 * dropped (Windows ignores them, so `.gatehouse./x` is `.gatehouse/x`); everything is lower-cased.
 *
 * Matching is per segment, never by substring, so a dotted pattern only ever matches a segment
 * that equals it — `.gatehouse/` blocks `x/.gatehouse/y` but not `Projects/gatehouse/y` (Defect H).
 * Absolute patterns are anchored at `/`; relative ones match a tail of the path (a directory
 * pattern, ending in `/`, matches its directory anywhere in the path and everything under it);
 * `*` and `?` match within one segment.
 */
import os from 'node:os';
import path from 'node:path';
import type { Policy } from '../../config/policySchema';
import { deny } from './callContext';
import type { Middleware } from './chain';

/** Always blocked, whatever the policy says: the config directories (trust roots). */
export const ALWAYS_BLOCKED_PATHS: readonly string[] = ['.gatehouse/', '.rea/'];

const PATH_KEYS: ReadonlySet<string> = new Set([
  'path', 'paths', 'file', 'files', 'file_path', 'filepath', 'filename', 'filenames', 'folder', 'folders', 'dir', 'directory',
  'directories', 'src', 'source', 'dst', 'dest', 'destination', 'target', 'input_path', 'output_path', 'from', 'to', 'pattern',
  'glob', 'uri', 'url',
]);

const COMMAND_KEYS: ReadonlySet<string> = new Set(['command', 'cmd', 'commandline', 'command_line', 'script', 'shell', 'exec']);

/** Longest string matched without being path-shaped or under a path key. */
const MAX_MATCH_ONLY_LENGTH = 4096;
/** Longest command string tokenised. */
const MAX_COMMAND_LENGTH = 64 * 1024;
/** More candidate strings than this in one call is refused rather than checked for seconds. */
const MAX_CANDIDATES = 10_000;

export interface BlockedPathsLayerOptions {
  /** The current policy, read per call. */
  policy: () => Pick<Policy, 'blocked_paths'> | undefined;
  /** More always-blocked patterns (e.g. a custom config directory), read per call. */
  alwaysBlocked?: () => readonly string[];
  /** How messages name the policy file (default "policy.yaml"). */
  policyFile?: string;
  /** What a leading `~` means in patterns and values (default: the user's home directory). */
  homeDir?: string;
}

type Mode = 'full' | 'match' | 'command';

interface Candidate {
  key: string;
  value: string;
  mode: Mode;
}

/** rea's path-shape heuristic. */
export function looksLikePath(value: string): boolean {
  if (value.length === 0 || value.length > 1024) return false;
  if (/\s/.test(value)) return false;
  if (value.includes('/') || value.includes('\\')) return true;
  if (value.startsWith('~')) return true;
  if (/^\.[A-Za-z0-9_-]/.test(value)) return true;
  if (/^[A-Za-z]:[/\\]/.test(value)) return true;
  return /%2[ef]|%5c/i.test(value);
}

function collectCandidates(args: unknown): Candidate[] | undefined {
  const out: Candidate[] = [];
  const seen = new WeakSet<object>();
  let overflow = false;
  const visit = (node: unknown, keyPath: string, leaf: string): void => {
    if (overflow) return;
    if (typeof node === 'string') {
      const mode = routeString(node, leaf);
      if (mode) {
        out.push({ key: keyPath || 'value', value: node, mode });
        if (out.length > MAX_CANDIDATES) overflow = true;
      }
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    if (seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, `${keyPath}[${i}]`, leaf));
      return;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      visit(value, keyPath ? `${keyPath}.${key}` : key, key.toLowerCase());
    }
  };
  visit(args, '', '');
  return overflow ? undefined : out;
}

function routeString(value: string, leaf: string): Mode | undefined {
  if (value.length === 0) return undefined;
  if (PATH_KEYS.has(leaf) && value.length <= MAX_MATCH_ONLY_LENGTH && !/[\r\n]/.test(value)) return 'full';
  if (looksLikePath(value)) return 'full';
  if (COMMAND_KEYS.has(leaf) && value.length <= MAX_COMMAND_LENGTH) return 'command';
  if (value.length <= MAX_MATCH_ONLY_LENGTH && !/\s/.test(value)) return 'match';
  return undefined;
}

/** Why a value is refused before matching, or undefined. */
export function hostileReason(value: string): string | undefined {
  if (value.includes('\0')) return 'contains a NUL byte';
  if (!value.includes('%')) return undefined;
  if (/%(?![0-9a-fA-F]{2})/.test(value)) return 'contains a malformed percent-escape (write a literal % as %25)';
  let current = value;
  for (let round = 0; round < 64; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      if (round === 0) return 'contains percent-escapes that are not valid UTF-8';
      break; // a literal % produced by %25: decoding stops here, as rea
    }
    if (next.includes('\0')) return 'contains an encoded NUL byte';
    if (next === current) break;
    current = next;
  }
  if (/%2[ef]|%5c/i.test(current)) return 'contains an encoded separator or dot that survives decoding';
  return undefined;
}

function decodeUntilStable(value: string): string {
  let current = value;
  for (let round = 0; round < 64; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/**
 * Normalises a value or pattern into lower-case `/`-separated form; `''` means "never matches"
 * (a remote URL). `decode` is false for shell tokens, which a shell never percent-decodes.
 */
export function normalisePath(raw: string, decode = true, home?: string): string {
  let value = decode ? decodeUntilStable(raw) : raw;
  if (home && (value === '~' || value.startsWith('~/') || value.startsWith('~\\'))) value = home + value.slice(1);
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(value);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'file') {
      if (value.slice(scheme[0].length).startsWith('//')) return '';
    } else {
      value = value.slice(scheme[0].length).replace(/^\/\/[^/]*/, '').replace(/[?#].*$/s, '');
    }
  }
  value = value.replace(/[\x00-\x1f\x7f]/g, '').replace(/\\/g, '/');
  if (value === '') return '';
  const absolute = value.startsWith('/');
  const trailing = value.endsWith('/');
  let normalised = path.posix.normalize(value);
  normalised = normalised
    .split('/')
    .map((seg) => (seg === '.' || seg === '..' ? seg : seg.replace(/[. ]+$/, '')))
    .join('/');
  if (trailing && !normalised.endsWith('/')) normalised += '/';
  if (absolute && !normalised.startsWith('/')) normalised = `/${normalised}`;
  return normalised.toLowerCase();
}

function segmentsOf(normalised: string): string[] {
  return normalised.split('/').filter((s) => s.length > 0 && s !== '.');
}

/** `*` = any run within a segment, `?` = one character; everything else literal. */
function globSegmentMatch(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === text[t]))) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      starText = t;
    } else if (star >= 0) {
      g = star + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

function windowMatches(segs: readonly string[], start: number, pattern: readonly string[], glob: boolean): boolean {
  for (let j = 0; j < pattern.length; j++) {
    const s = segs[start + j];
    if (s === undefined) return false;
    if (glob ? !globSegmentMatch(pattern[j]!, s) : s !== pattern[j]) return false;
  }
  return true;
}

/** A blocked-path pattern, normalised once. */
export interface CompiledPathPattern {
  source: string;
  absolute: boolean;
  directory: boolean;
  glob: boolean;
  segments: string[];
}

export function compilePathPattern(source: string, home?: string): CompiledPathPattern | undefined {
  const n = normalisePath(source, true, home);
  if (!n) return undefined;
  const segments = segmentsOf(n);
  if (segments.length === 0) return undefined;
  return { source, absolute: n.startsWith('/'), directory: n.endsWith('/'), glob: /[*?]/.test(n), segments };
}

/** True when the normalised value is (or, for a directory pattern, is under) the pattern. */
export function matchesPattern(normalisedValue: string, pattern: CompiledPathPattern): boolean {
  if (!normalisedValue) return false;
  const segs = segmentsOf(normalisedValue);
  const k = pattern.segments.length;
  if (pattern.absolute) {
    if (!normalisedValue.startsWith('/')) return false;
    if (segs.length < k || (!pattern.directory && segs.length !== k)) return false;
    return windowMatches(segs, 0, pattern.segments, pattern.glob);
  }
  if (pattern.directory || (pattern.glob && k === 1)) {
    // The directory anywhere in the path (everything under it included); a one-segment glob
    // matches any segment (rea).
    for (let i = 0; i + k <= segs.length; i++) if (windowMatches(segs, i, pattern.segments, pattern.glob)) return true;
    return false;
  }
  // A file pattern: a tail of the path.
  return segs.length >= k && windowMatches(segs, segs.length - k, pattern.segments, pattern.glob);
}

/** Splits a command line into tokens a shell might treat as words (quotes dropped first). */
function commandTokens(command: string): string[] {
  return command
    .replace(/["'`]/g, '')
    .split(/[\s;|&<>()=,]+/)
    .filter((t) => t.length > 0 && t.length <= 4096);
}

/** Denies calls whose arguments reference a blocked path; see the file comment. */
export function blockedPathsLayer(options: BlockedPathsLayerOptions): Middleware {
  const policyFile = options.policyFile ?? 'policy.yaml';
  const home = options.homeDir ?? os.homedir();
  let cacheKey = '';
  let cached: CompiledPathPattern[] = [];
  const patternsNow = (): CompiledPathPattern[] => {
    const list = [...new Set([...(options.policy()?.blocked_paths ?? []), ...ALWAYS_BLOCKED_PATHS, ...(options.alwaysBlocked?.() ?? [])])];
    const key = JSON.stringify(list);
    if (key !== cacheKey) {
      cached = list.map((p) => compilePathPattern(p, home)).filter((p): p is CompiledPathPattern => p !== undefined);
      cacheKey = key;
    }
    return cached;
  };

  return async (ctx, next) => {
    try {
      const patterns = patternsNow();
      const candidates = collectCandidates(ctx.arguments);
      if (!candidates) {
        deny(ctx, 'arguments_too_complex', `The arguments of ${ctx.full_name} hold more than ${MAX_CANDIDATES} strings; too many to check for blocked paths, so the call was refused.`);
        return;
      }
      for (const c of candidates) {
        if (c.mode !== 'command') {
          const hostile = c.mode === 'full' ? hostileReason(c.value) : c.value.includes('\0') ? 'contains a NUL byte' : undefined;
          if (hostile) {
            ctx.metadata.blocked_path = { argument: c.key, hostile: true };
            deny(ctx, 'hostile_path', `Argument "${c.key}" ${hostile}; refused as hostile. Tool: ${ctx.full_name}`);
            return;
          }
        }
        const values =
          c.mode === 'command' ? commandTokens(c.value).map((t) => normalisePath(t, false, home)) : [normalisePath(c.value, true, home)];
        for (const value of values) {
          const hit = patterns.find((p) => matchesPattern(value, p));
          if (!hit) continue;
          const always = ALWAYS_BLOCKED_PATHS.includes(hit.source) || (options.alwaysBlocked?.() ?? []).includes(hit.source);
          ctx.metadata.blocked_path = { argument: c.key, pattern: hit.source };
          deny(
            ctx,
            'blocked_path',
            `Argument "${c.key}" references blocked path "${hit.source}". Tool: ${ctx.full_name}. ` +
              (always
                ? 'The Gatehouse/rea configuration directory is always blocked for tools.'
                : `To allow it, remove "${hit.source}" from blocked_paths in ${policyFile}.`),
          );
          return;
        }
      }
    } catch (err) {
      deny(ctx, 'blocked_paths_failed', `Gatehouse could not check the arguments of ${ctx.full_name} for blocked paths (${err instanceof Error ? err.message : String(err)}); the call was refused.`);
      return;
    }
    await next();
  };
}
