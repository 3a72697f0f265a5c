/**
 * Blocked paths (SPEC §7.6, with rea's later hardening and the 0.10.0 "Defect H" fix).
 *
 * Patterns: policy `blocked_paths` (read per call, so a reload applies to the next call) plus
 * `.gatehouse/` and `.rea/`, which are always blocked and cannot be unblocked.
 *
 * Which strings are checked — every string argument at any depth is considered, as a tool that
 * trims its input would see it (control characters dropped, surrounding whitespace trimmed, so
 * `".env\n"` is `.env`):
 * - a value under a *path key* (`path`, `file`, `uri`, … compared case-insensitively on the leaf
 *   key; array elements inherit their parent's key) — each of its lines when it has several — or
 *   a *path-shaped* value under any key (one word with a separator, `~`, a leading dot, a drive
 *   prefix or an encoded separator/dot), gets the full check: hostile-encoding refusal, then
 *   matching;
 * - any other one-word value (e.g. `secrets.txt` under `name`) is matched too, with only the NUL
 *   check (a `%` in such a string is not evidence);
 * - a *command key* (`command`, `cmd`, `script`, …) is split into shell-ish tokens (quotes
 *   removed first, so `.gate''house` is seen as `.gatehouse`) and each token is matched. This is
 *   best effort: a shell can build a path in ways no scanner can follow;
 * - other text with whitespace inside (prose, file contents) is not matched — availability over
 *   a guess, as rea.
 * A string that would be checked but is longer than {@link MAX_CHECKED_LENGTH} is refused
 * (`path_too_long`), never passed: there is no length below which a path hides.
 *
 * Hostile values are refused before matching: a NUL byte (raw or decoded), a malformed percent
 * escape (`%` not followed by two hex digits, or escapes that are not UTF-8; a literal `%` must be
 * written `%25`), and an encoded separator or dot (`%2f`, `%5c`, `%2e`) that survives decoding
 * until stable.
 *
 * Normalisation of values and patterns (`config/pathMatcher.ts`, shared with the language
 * server): percent-decode until stable; a leading `~` is the home directory; `file:` URIs are
 * paths, other `scheme://` values are remote and never match; `\` is a separator, `.` and `..`
 * resolve lexically, trailing dots and spaces of a segment are dropped, everything is NFC and
 * lower-case; Windows drive letters, UNC, `\\?\` prefixes, alternate data streams and 8.3 short
 * names, and macOS `/private` links, by the `platform` option (see that file).
 *
 * Matching is per segment, never by substring, so a dotted pattern only ever matches a segment
 * that equals it — `.gatehouse/` blocks `x/.gatehouse/y` but not `Projects/gatehouse/y` (Defect H).
 * Absolute patterns are anchored at their root (`/`, a drive, a UNC share); relative ones match
 * a tail of the path (a directory pattern, ending in `/`, matches its directory anywhere in the
 * path and everything under it); `*` and `?` match within one segment.
 */
import os from 'node:os';
import { compilePathPattern, hasShellGlob, matchesParsed, mayMatch, parsePath, percentDecode, prefilterText, stripNoise, type CompiledPathPattern } from '../../config/pathMatcher';
import type { Policy } from '../../config/policySchema';
import { deny } from './callContext';
import { gateLayer, type Middleware } from './chain';

export { normalisePath } from '../../config/pathMatcher';

/** Always blocked, whatever the policy says: the config directories (trust roots). */
export const ALWAYS_BLOCKED_PATHS: readonly string[] = ['.gatehouse/', '.rea/'];

const PATH_KEYS: ReadonlySet<string> = new Set([
  'path', 'paths', 'file', 'files', 'file_path', 'filepath', 'filename', 'filenames', 'folder', 'folders', 'dir', 'directory',
  'directories', 'src', 'source', 'dst', 'dest', 'destination', 'target', 'input_path', 'output_path', 'from', 'to', 'pattern',
  'glob', 'uri', 'url',
]);

const COMMAND_KEYS: ReadonlySet<string> = new Set(['command', 'cmd', 'commandline', 'command_line', 'script', 'shell', 'exec']);

/**
 * Longest string checked. A candidate longer than this is refused, never passed unchecked: a
 * limit that let a long value through (`'./'×2100 + '.env'`) is a bypass, not a limit.
 */
export const MAX_CHECKED_LENGTH = 1024 * 1024;
/** Characters checked in one call across all candidates; more is refused (stdio has no body cap). */
const MAX_TOTAL_CHECKED = 4 * MAX_CHECKED_LENGTH;
/**
 * Characters parsed precisely per call. Only text that contains every literal piece of some
 * pattern is parsed (see `mayMatch`); a call with more such text than this is refused, so a
 * crafted argument cannot hold the event loop for long.
 */
export const MAX_PARSED_LENGTH = 64 * 1024;
/** Strings or tokens parsed precisely per call (many short suspects cost more than their length). */
const MAX_PARSED_UNITS = 2048;
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
  /** Whose path rules apply (default: this machine's); a seam for Windows and macOS tests. */
  platform?: NodeJS.Platform;
}

type Mode = 'full' | 'match' | 'command' | 'too_long';

interface Candidate {
  key: string;
  value: string;
  mode: Mode;
  /** A multi-line value under a path key: each line is checked as a path. */
  lines?: boolean;
}

/** rea's path-shape heuristic (without its length limit: a long path is still a path). */
export function looksLikePath(value: string): boolean {
  if (value.length === 0) return false;
  if (/\s/.test(value)) return false;
  if (value.includes('/') || value.includes('\\')) return true;
  if (value.startsWith('~')) return true;
  if (/^\.[A-Za-z0-9_-]/.test(value)) return true;
  if (/^[A-Za-z]:[/\\]/.test(value)) return true;
  return /%2[ef]|%5c/i.test(value);
}

interface Collected {
  candidates: Candidate[];
  overflow: boolean;
}

function collectCandidates(args: unknown): Collected {
  const out: Candidate[] = [];
  const seen = new WeakSet<object>();
  let overflow = false;
  let total = 0;
  const visit = (node: unknown, keyPath: string, leaf: string): void => {
    if (overflow) return;
    if (typeof node === 'string') {
      for (const c of routeString(node, keyPath || 'value', leaf)) {
        out.push(c);
        total += c.mode === 'too_long' ? 0 : c.value.length;
        if (out.length > MAX_CANDIDATES || total > MAX_TOTAL_CHECKED) overflow = true;
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
  return { candidates: out, overflow };
}

/**
 * Which checks a string gets. Routing looks at the value as a trimming tool would see it
 * (controls dropped, surrounding whitespace trimmed): `".env\n"` is the path `.env`.
 */
function routeString(raw: string, key: string, leaf: string): Candidate[] {
  const value = stripNoise(raw);
  if (value === '' && !raw.includes('\0')) return [];
  const tooLong = raw.length > MAX_CHECKED_LENGTH;
  if (PATH_KEYS.has(leaf)) {
    // Several lines under a path key: each line may be a path to the tool.
    return [{ key, value: raw, mode: tooLong ? 'too_long' : 'full', lines: /[\r\n\u2028\u2029]/.test(raw) }];
  }
  const oneWord = !/\s/.test(value);
  if (oneWord && looksLikePath(value)) return [{ key, value: raw, mode: tooLong ? 'too_long' : 'full' }];
  if (COMMAND_KEYS.has(leaf)) return [{ key, value: raw, mode: tooLong ? 'too_long' : 'command' }];
  if (oneWord) return [{ key, value: raw, mode: tooLong ? 'too_long' : 'match' }];
  return [];
}

/** Why a value is refused before matching, or undefined. */
export function hostileReason(value: string): string | undefined {
  if (value.includes('\0')) return 'contains a NUL byte';
  if (!value.includes('%')) return undefined;
  if (/%(?![0-9a-fA-F]{2})/.test(value)) return 'contains a malformed percent-escape (write a literal % as %25)';
  let nul = false;
  // A later round that fails met a literal % produced by %25: decoding stops there, as rea.
  const decoded = percentDecode(value, (next) => !(nul = next.includes('\0')));
  if (decoded.failedRound === 0) return 'contains percent-escapes that are not valid UTF-8';
  if (nul) return 'contains an encoded NUL byte';
  if (/%2[ef]|%5c/i.test(decoded.value)) return 'contains an encoded separator or dot that survives decoding';
  return undefined;
}

/**
 * The tokens of a command line a shell might treat as words (quotes dropped first), lazily: a
 * call refused after a few thousand suspects never splits the rest of a 1 MiB script.
 */
function* commandTokens(command: string): Generator<string> {
  for (const m of command.replace(/["'`]/g, '').matchAll(/[^\s;|&<>()=,]+/g)) yield m[0];
}

/** Denies calls whose arguments reference a blocked path; see the file comment. */
export function blockedPathsLayer(options: BlockedPathsLayerOptions): Middleware {
  const policyFile = options.policyFile ?? 'policy.yaml';
  const home = options.homeDir ?? os.homedir();
  const platform = options.platform ?? process.platform;
  let cacheKey = '';
  let cached: CompiledPathPattern[] = [];
  // The lists the patterns were last built from: a reload parses new ones, so while both are the
  // very same arrays there is nothing to compare (no list built and serialised per call).
  let fromPolicy: readonly string[] | undefined;
  let fromExtra: readonly string[] | undefined;
  const patternsNow = (): CompiledPathPattern[] => {
    const policyList = options.policy()?.blocked_paths;
    const extra = options.alwaysBlocked?.();
    if (cacheKey !== '' && policyList === fromPolicy && extra === fromExtra) return cached;
    const list = [...new Set([...(policyList ?? []), ...ALWAYS_BLOCKED_PATHS, ...(extra ?? [])])];
    const key = JSON.stringify(list);
    if (key !== cacheKey) {
      cached = list.map((p) => compilePathPattern(p, { home, platform })).filter((p): p is CompiledPathPattern => p !== undefined);
      cacheKey = key;
    }
    // Only once built: a list that failed to build fails every call again (closed), as before.
    fromPolicy = policyList;
    fromExtra = extra;
    return cached;
  };

  return gateLayer((ctx) => {
    try {
      const patterns = patternsNow();
      const { candidates, overflow } = collectCandidates(ctx.arguments);
      if (overflow) {
        deny(
          ctx,
          'arguments_too_complex',
          `The arguments of ${ctx.full_name} hold more than ${MAX_CANDIDATES} strings or ${MAX_TOTAL_CHECKED} characters to check for blocked paths; too many to check, so the call was refused.`,
        );
        return false;
      }
      let parsed = 0;
      let parsedUnits = 0;
      for (const c of candidates) {
        if (c.mode === 'too_long') {
          ctx.metadata.blocked_path = { argument: c.key, too_long: c.value.length };
          deny(
            ctx,
            'path_too_long',
            `Argument "${c.key}" is ${c.value.length} characters long, more than the ${MAX_CHECKED_LENGTH} that blocked-path checking reads; refused rather than passed unchecked. Tool: ${ctx.full_name}`,
          );
          return false;
        }
        if (c.mode !== 'command') {
          const hostile = c.mode === 'full' ? hostileReason(c.value) : c.value.includes('\0') ? 'contains a NUL byte' : undefined;
          if (hostile) {
            ctx.metadata.blocked_path = { argument: c.key, hostile: true };
            deny(ctx, 'hostile_path', `Argument "${c.key}" ${hostile}; refused as hostile. Tool: ${ctx.full_name}`);
            return false;
          }
        }
        // Most strings contain no pattern's literal text: one native scan rules them out, so a
        // long argument costs a few milliseconds, and only suspects are parsed — up to a budget.
        const decode = c.mode !== 'command';
        const shell = c.mode === 'command';
        // A shell drops quotes and backslash escapes (`.gate\house` is `.gatehouse`).
        const body = shell ? c.value.replace(/["'`]/g, '') : c.value;
        const text = prefilterText(shell ? `${body}\n${body.replace(/\\/g, '')}` : body, { decode, home });
        const globbed = shell && hasShellGlob(body);
        const suspects = globbed ? patterns : patterns.filter((p) => mayMatch(text, p));
        if (suspects.length === 0) continue;
        const several = shell || c.lines === true;
        const units = shell ? commandTokens(c.value) : c.lines ? c.value.split(/[\r\n\u2028\u2029]+/) : [c.value];
        for (const unit of units) {
          if (several && !(shell && hasShellGlob(unit))) {
            const unitText = prefilterText(shell ? `${unit}\n${unit.replace(/\\/g, '')}` : unit, { decode, home });
            if (!suspects.some((p) => mayMatch(unitText, p))) continue;
          }
          parsed += unit.length;
          if (parsed > MAX_PARSED_LENGTH || ++parsedUnits > MAX_PARSED_UNITS) {
            ctx.metadata.blocked_path = { argument: c.key, too_long: parsed };
            deny(
              ctx,
              'path_too_long',
              `Argument "${c.key}" brings the text that may name a blocked path to more than the ${MAX_PARSED_LENGTH} characters (or ${MAX_PARSED_UNITS} paths) checked precisely per call; refused rather than passed unchecked. Tool: ${ctx.full_name}`,
            );
            return false;
          }
          const readings = shell && unit.includes('\\') ? [unit, unit.replace(/\\/g, '')] : [unit];
          const values = readings.map((r) => parsePath(r, { decode, home, platform }));
          const hit = suspects.find((p) => values.some((value) => matchesParsed(value, p, shell)));
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
          return false;
        }
      }
    } catch (err) {
      deny(ctx, 'blocked_paths_failed', `Gatehouse could not check the arguments of ${ctx.full_name} for blocked paths (${err instanceof Error ? err.message : String(err)}); the call was refused.`);
      return false;
    }
    return true;
  });
}
