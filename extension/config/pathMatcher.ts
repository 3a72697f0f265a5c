/**
 * Blocked-path normalisation and matching, shared by the gateway's blocked-paths layer and the
 * language server's warnings so both read a path the same way.
 *
 * Every rule fails closed: when a file system *might* read two spellings as one file, both are
 * treated as the same. What applies everywhere (as rea, SPEC §7.6):
 * - percent-decoding until stable (values; shell tokens are not decoded);
 * - C0/C1 control characters are dropped and surrounding whitespace is trimmed (a tool that trims
 *   its input would otherwise open `.env` from `".env\n"`);
 * - Unicode NFC (APFS and HFS+ treat NFC and NFD spellings as one name);
 * - lower-casing (NTFS and APFS are case-insensitive by default; on a case-sensitive Linux file
 *   system this blocks `.ENV` too, as rea does — over-blocking, never a bypass);
 * - `\` is a separator, `.` and `..` are resolved lexically, trailing dots and spaces of a segment
 *   are dropped (Windows ignores them);
 * - a `~` prefix is the home directory; `file:` URIs lose scheme, query and fragment; any other
 *   `scheme://` is remote and never matches.
 * What depends on the platform (the `platform` option, a seam so Linux tests cover the others):
 * - win32: drive letters (`C:\x` is absolute on drive C; a drive-less `\x` may be on any drive),
 *   UNC `\\server\share\…`, the `\\?\` and `\\.\` prefixes (incl. `\\?\UNC\…`), `file:///C:/…`
 *   and `file://server/share/…`, alternate data streams (`.env::$DATA` opens `.env`), and 8.3
 *   short names (`GATEHO~1` may be `.gatehouse`);
 * - darwin: `/etc`, `/tmp` and `/var` are symlinks to `/private/…`, so `/private/etc/passwd`
 *   matches a `/etc/passwd` pattern.
 */
/** Options of {@link parsePath}. */
export interface PathRuleOptions {
  /** Whose path rules apply (default: this machine's). */
  platform?: NodeJS.Platform;
  /** What a leading `~` means (none: `~` is literal). */
  home?: string;
  /** Percent-decode until stable (default true; false for shell tokens, which no shell decodes). */
  decode?: boolean;
}

/** A path in normalised form; lower-case throughout. */
export interface ParsedPath {
  /** `''` relative, `/` rooted, `c:/` a drive root, `//server/share/` a UNC root. */
  root: string;
  /** The UNC server and share (also matched by relative patterns), else empty. */
  rootSegments: string[];
  segments: string[];
  /** Written with a trailing separator. */
  directory: boolean;
}

/** A blocked-path pattern, normalised once. */
export interface CompiledPathPattern {
  source: string;
  absolute: boolean;
  directory: boolean;
  glob: boolean;
  root: string;
  segments: string[];
  platform: NodeJS.Platform;
  /** Literal pieces of the segments, each of which a matching value contains (see {@link mayMatch}). */
  needles: string[];
}

/** C0 and C1 controls and DEL: never part of a name a user means. */
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

/** Where {@link percentDecode} stopped. */
export interface PercentDecoding {
  /** The last value decoded (the input when nothing decoded). */
  value: string;
  /** The round whose decode threw (0: the input itself is not valid percent-encoding), if one did. */
  failedRound?: number;
}

/**
 * Percent-decodes until the value stops changing or a decode fails (as rea), at most 64 rounds.
 * `visit` sees each value that a round changed and stops the decoding by returning false (a
 * caller refusing an encoded NUL need not decode further).
 */
export function percentDecode(value: string, visit?: (next: string) => boolean): PercentDecoding {
  let current = value;
  for (let round = 0; round < 64; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return { value: current, failedRound: round };
    }
    if (next === current) break;
    current = next;
    if (visit && !visit(next)) break;
  }
  return { value: current };
}

/** Percent-decodes until the value stops changing (or a decode fails, as rea). */
export function decodeUntilStable(value: string): string {
  return percentDecode(value).value;
}

/** Drops control characters and trims surrounding whitespace: what a tool that trims would open. */
export function stripNoise(value: string): string {
  return value.replace(CONTROLS, '').trim();
}

/** Parses a value or pattern under the platform's rules; undefined means "never matches" (remote). */
export function parsePath(raw: string, options: PathRuleOptions = {}): ParsedPath | undefined {
  const win32 = (options.platform ?? process.platform) === 'win32';
  let value = stripNoise(options.decode === false ? raw : decodeUntilStable(raw)).normalize('NFC').toLowerCase();
  const home = options.home;
  if (home && (value === '~' || value.startsWith('~/') || value.startsWith('~\\'))) value = home.normalize('NFC').toLowerCase() + value.slice(1);

  // RFC 8089: file:///C:/x is a drive path, file://server/share/x a UNC path (on Windows).
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(value);
  if (scheme) {
    const rest = value.slice(scheme[0].length);
    if (scheme[1] !== 'file') {
      if (rest.startsWith('//')) return undefined;
    } else {
      let p = rest.replace(/[?#].*$/s, '');
      if (p.startsWith('//')) {
        const slash = p.indexOf('/', 2);
        const authority = slash < 0 ? p.slice(2) : p.slice(2, slash);
        p = slash < 0 ? '/' : p.slice(slash);
        if (win32 && authority !== '' && authority !== 'localhost') p = `//${authority}${p}`;
      }
      if (win32 && /^\/[a-z][:|]/i.test(p)) p = `${p[1]}:${p.slice(3)}`;
      value = p;
    }
  }
  value = value.replace(/\\/g, '/');
  if (value === '') return undefined;

  let root = '';
  let rootSegments: string[] = [];
  if (win32) {
    // Microsoft, "Naming Files, Paths, and Namespaces": \\?\ and \\.\ prefixes, UNC, drives.
    let device = /^\/\/[?.]\//.exec(value);
    if (device) {
      value = value.slice(device[0].length);
      if (value.startsWith('unc/')) value = `//${value.slice(4)}`;
      else if (!/^[a-z]:/i.test(value)) value = `/${value}`;
    }
    device = /^\/\/([^/]+)\/([^/]*)/.exec(value);
    const drive = /^([a-z]):(\/?)/i.exec(value);
    if (device) {
      rootSegments = [device[1]!, device[2]!].filter((s) => s !== '');
      root = `//${rootSegments.join('/')}/`;
      value = value.slice(device[0].length);
    } else if (drive) {
      // `C:x` (no separator) is relative to drive C's current directory: matched as relative.
      root = drive[2] ? `${drive[1]!}:/` : '';
      value = value.slice(drive[0].length);
    } else if (value.startsWith('/')) {
      root = '/';
    }
  } else if (value.startsWith('/')) {
    root = '/';
  }

  const directory = value.endsWith('/');
  const segments: string[] = [];
  for (const part of value.split('/')) {
    // Plain loops, no regex per segment: a 1 MiB value may hold half a million segments.
    let seg = part;
    if (seg.endsWith(' ')) seg = seg.replace(/ +$/, '');
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (segments.length > 0 && segments[segments.length - 1] !== '..') segments.pop();
      else if (root === '') segments.push('..');
      continue;
    }
    // NTFS: `name:stream:type` opens `name` (File Streams); `:` is not allowed in a name.
    if (win32 && seg.includes(':')) seg = seg.slice(0, seg.indexOf(':'));
    if (seg.endsWith('.') || seg.endsWith(' ')) seg = seg.replace(/[. ]+$/, '');
    if (seg !== '') segments.push(seg);
  }
  return { root, rootSegments, segments, directory };
}

/** The parsed path as one string (`''` when it never matches); for messages and tests. */
export function normalisePath(raw: string, options: PathRuleOptions = {}): string {
  const p = parsePath(raw, options);
  if (!p) return '';
  const body = p.segments.join('/');
  return `${p.root}${body}${p.directory && body ? '/' : ''}`;
}

export function compilePathPattern(source: string, options: PathRuleOptions = {}): CompiledPathPattern | undefined {
  const platform = options.platform ?? process.platform;
  const p = parsePath(source, { ...options, platform });
  if (!p || p.segments.length === 0) return undefined;
  return {
    source,
    absolute: p.root !== '',
    directory: p.directory,
    glob: p.segments.some((s) => /[*?]/.test(s)),
    root: p.root,
    segments: p.segments,
    platform,
    needles: p.segments.flatMap((s) => s.split(/[*?]+/)).filter((n) => n !== '' && n !== '..'),
  };
}

/**
 * What {@link mayMatch} compares: the value decoded, without controls, NFC and lower-case — the
 * same steps {@link parsePath} takes before it splits, done once over the whole string.
 */
export function prefilterText(raw: string, options: PathRuleOptions = {}): string {
  const text = (options.decode === false ? raw : decodeUntilStable(raw)).replace(CONTROLS, '').normalize('NFC').toLowerCase();
  // A `~` may become the home directory, whose segments a pattern may name.
  return options.home && text.includes('~') ? `${text}\n${options.home.normalize('NFC').toLowerCase()}` : text;
}

/**
 * A fast, exact-or-over-inclusive test: parsing only removes or splits text, so a value can only
 * match a pattern whose every literal piece it contains. Windows short names (`GATEHO~1`) are
 * the one spelling that does not contain its name, so on win32 a `~` always means "parse".
 */
export function mayMatch(text: string, pattern: CompiledPathPattern): boolean {
  if (pattern.platform === 'win32' && text.includes('~')) return true;
  return pattern.needles.every((n) => text.includes(n));
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

const SHORT_NAME = /^([^~]{1,6})~[0-9]{1,6}(?:\.([^.]{1,3}))?$/;

/**
 * Whether `short` may be the 8.3 alias Windows generated for `long` ("Naming Files…", Short vs.
 * Long Names): leading dots and embedded dots and spaces go, the base keeps up to six characters
 * (or two plus a four-hex hash after many collisions), the extension three.
 */
function couldBeShortName(short: string, long: string): boolean {
  const m = SHORT_NAME.exec(short);
  if (!m) return false;
  const name = long.replace(/^[. ]+/, '');
  const dot = name.lastIndexOf('.');
  const base = (dot > 0 ? name.slice(0, dot) : name).replace(/[. ]/g, '');
  const ext = dot > 0 ? name.slice(dot + 1) : '';
  const shortBase = m[1]!;
  const hashed = /^(.{1,2})[0-9a-f]{4}$/.exec(shortBase);
  if (!base.startsWith(shortBase) && !(hashed && base.startsWith(hashed[1]!))) return false;
  return m[2] === undefined || ext === '' || ext.startsWith(m[2]);
}

/** Shell wildcards in a command token. */
const SHELL_GLOB = /[*?[]/;

/**
 * Whether a shell would expand the token segment `glob` to the name `name`: `*`, `?` and `[…]`
 * (read as any one character: over-inclusive). As in bash without `dotglob`, a wildcard never
 * matches a leading dot; a segment of wildcards only (`*`) is not taken as naming anything, or
 * every `rm *` would be refused.
 */
function shellGlobMatches(glob: string, name: string): boolean {
  if (name.startsWith('.') && !glob.startsWith('.')) return false;
  if (!/[^*?[\]]/.test(glob.replace(/\[[^\]]*\]/g, ''))) return false;
  return globSegmentMatch(glob.replace(/\[[^\]]*\]/g, '?'), name);
}

function segmentMatches(patternSeg: string, seg: string, pattern: CompiledPathPattern, shell: boolean): boolean {
  if (pattern.glob) return globSegmentMatch(patternSeg, seg);
  if (seg === patternSeg) return true;
  if (shell && SHELL_GLOB.test(seg) && shellGlobMatches(seg, patternSeg)) return true;
  return pattern.platform === 'win32' && seg.includes('~') && couldBeShortName(seg, patternSeg);
}

function windowMatches(segs: readonly string[], start: number, pattern: CompiledPathPattern, shell: boolean): boolean {
  for (let j = 0; j < pattern.segments.length; j++) {
    const s = segs[start + j];
    if (s === undefined || !segmentMatches(pattern.segments[j]!, s, pattern, shell)) return false;
  }
  return true;
}

/** Whether a command token holds shell wildcards (then it is parsed without the prefilter). */
export function hasShellGlob(token: string): boolean {
  return SHELL_GLOB.test(token);
}

function rootMatches(patternRoot: string, valueRoot: string, win32: boolean): boolean {
  if (patternRoot === valueRoot) return true;
  // On Windows `\etc\x` is on the current drive, which may be any drive.
  const drive = /^[a-z]:\/$/;
  return win32 && ((patternRoot === '/' && drive.test(valueRoot)) || (valueRoot === '/' && drive.test(patternRoot)));
}

/** Spellings of one value a file system may resolve to the same file (macOS /private links). */
function variants(value: ParsedPath, platform: NodeJS.Platform): ParsedPath[] {
  if (platform === 'darwin' && value.root === '/' && value.segments[0] === 'private' && ['etc', 'tmp', 'var'].includes(value.segments[1] ?? '')) {
    return [value, { ...value, segments: value.segments.slice(1) }];
  }
  return [value];
}

/**
 * True when the parsed value is (or, for a directory pattern, is under) the pattern. `shell`:
 * the value is a command token, whose wildcards a shell expands (`cat .gate*` / `~/.ss?/`).
 */
export function matchesParsed(value: ParsedPath | undefined, pattern: CompiledPathPattern, shell = false): boolean {
  if (!value) return false;
  return variants(value, pattern.platform).some((v) => matchesOne(v, pattern, shell));
}

function matchesOne(value: ParsedPath, pattern: CompiledPathPattern, shell: boolean): boolean {
  const k = pattern.segments.length;
  if (pattern.absolute) {
    if (!rootMatches(pattern.root, value.root, pattern.platform === 'win32')) return false;
    const segs = value.segments;
    if (segs.length < k || (!pattern.directory && segs.length !== k)) return false;
    return windowMatches(segs, 0, pattern, shell);
  }
  const segs = value.rootSegments.length ? [...value.rootSegments, ...value.segments] : value.segments;
  if (pattern.directory || (pattern.glob && k === 1)) {
    // The directory anywhere in the path (everything under it included); a one-segment glob
    // matches any segment (rea).
    for (let i = 0; i + k <= segs.length; i++) if (windowMatches(segs, i, pattern, shell)) return true;
    return false;
  }
  // A file pattern: a tail of the path.
  return segs.length >= k && windowMatches(segs, segs.length - k, pattern, shell);
}

/** The first pattern the raw value matches, if any. */
export function findBlockedPattern(raw: string, patterns: readonly CompiledPathPattern[], options: PathRuleOptions = {}): CompiledPathPattern | undefined {
  const parsed = parsePath(raw, options);
  if (!parsed) return undefined;
  return patterns.find((p) => matchesParsed(parsed, p));
}
