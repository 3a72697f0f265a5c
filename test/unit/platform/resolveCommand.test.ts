/**
 * Windows command resolution and cmd.exe quoting, exercised on Linux through the platform seam.
 *
 * The fake file systems below are what real installers put on disk:
 * - Node.js's Windows installer: `C:\Program Files\nodejs\` holds `node.exe`, and for npm, npx
 *   and corepack an extensionless POSIX shell script, a `.cmd` and a `.ps1` side by side.
 * - uv's installer (0.5+): `uv.exe`, `uvx.exe` in `%USERPROFILE%\.local\bin`.
 * - `npm install -g pnpm`: `%APPDATA%\npm\pnpm`, `pnpm.cmd`, `pnpm.ps1` (cmd-shim).
 * PATHEXT: the default of a fresh Windows 10/11 (`set PATHEXT`), which PATHEXT lookups use in
 * its order (Microsoft, "Command-line reference: path"/cmd.exe search rules; `which` and
 * cross-spawn follow the same order).
 *
 * cmd.exe is not available here, so the quoting is checked against a model of the two parsers
 * the arguments pass through, with the rules from their documentation:
 * - cmd.exe (`cmd /?` for `/s`; the parsing phases as documented by Microsoft's "cmd" reference
 *   and the well-known analysis at https://stackoverflow.com/a/4095133): percent expansion runs
 *   on the whole line, quotes or not; then, outside double quotes, `& | < >` end or redirect
 *   the command and `^` escapes. A batch file's `%*` is re-parsed the same way (phase 2 only),
 *   which is what "BatBadBut" (CVE-2024-24576) exploits.
 * - The C runtime's argv parser (Microsoft, "Parsing C++ command-line arguments"): backslashes
 *   are literal unless they precede a `"`; 2n backslashes + `"` give n backslashes and a quote;
 *   2n+1 give n and a literal `"`; inside quotes `""` is a literal `"`.
 * Every argument must come out of both unchanged, and no metacharacter may ever stand outside
 * quotes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchCommandLine, findExecutable, quoteBatchArgument, resolveLaunch, type FileProbe } from '../../../extension/platform/resolveCommand';

/** NTFS as the resolver sees it: case-insensitive, every listed file runnable. */
function ntfs(files: string[]): FileProbe {
  const set = new Set(files.map((f) => f.toLowerCase()));
  return async (file) => (set.has(file.toLowerCase()) ? 'executable' : 'none');
}

const NODE_DIR = 'C:\\Program Files\\nodejs';
const WINDOWS_DISK = ntfs([
  'C:\\Windows\\System32\\cmd.exe',
  `${NODE_DIR}\\node.exe`,
  `${NODE_DIR}\\npx`,
  `${NODE_DIR}\\npx.cmd`,
  `${NODE_DIR}\\npx.ps1`,
  `${NODE_DIR}\\npm`,
  `${NODE_DIR}\\npm.cmd`,
  'C:\\Users\\ada\\.local\\bin\\uvx.exe',
  'C:\\Users\\ada\\AppData\\Roaming\\npm\\pnpm',
  'C:\\Users\\ada\\AppData\\Roaming\\npm\\pnpm.cmd',
  'C:\\Users\\ada\\AppData\\Roaming\\npm\\pnpm.ps1',
  'C:\\tools\\both.cmd',
  'C:\\tools\\both.exe',
  'C:\\work\\scripts\\serve.bat',
]);
const PATH = `C:\\Windows\\System32;${NODE_DIR}\\;C:\\Users\\ada\\.local\\bin;C:\\Users\\ada\\AppData\\Roaming\\npm;C:\\tools`;
const PATHEXT = '.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC';
const win = { platform: 'win32' as const, probe: WINDOWS_DISK };

test('Windows: a bare npx, uvx, pnpm resolves through PATH × PATHEXT, never to the extensionless shell script', async () => {
  const q = (command: string, extra: { pathExt?: string; cwd?: string } = {}) => findExecutable({ command, searchPath: PATH, cwd: extra.cwd ?? 'C:\\work', pathExt: extra.pathExt ?? PATHEXT }, win);
  assert.deepEqual(await q('npx'), { found: true, file: `${NODE_DIR}\\npx.cmd` });
  assert.deepEqual(await q('uvx'), { found: true, file: 'C:\\Users\\ada\\.local\\bin\\uvx.exe' });
  assert.deepEqual(await q('pnpm'), { found: true, file: 'C:\\Users\\ada\\AppData\\Roaming\\npm\\pnpm.cmd' });
  // PATHEXT's order decides within a folder (.EXE before .CMD by default) …
  assert.deepEqual(await q('both'), { found: true, file: 'C:\\tools\\both.exe' });
  assert.deepEqual(await q('both', { pathExt: '.CMD;.EXE' }), { found: true, file: 'C:\\tools\\both.cmd' });
  // … and lower-case or padded PATHEXT entries count the same.
  assert.deepEqual(await q('npx', { pathExt: '.com; .exe;.cmd' }), { found: true, file: `${NODE_DIR}\\npx.cmd` });
  // NTFS is case-insensitive: NPX finds npx.cmd.
  assert.equal((await q('NPX')).found, true);
  // A name with an extension is taken as written; a path with a separator is relative to cwd.
  assert.deepEqual(await q('npx.cmd'), { found: true, file: `${NODE_DIR}\\npx.cmd` });
  assert.deepEqual(await q('scripts\\serve', { cwd: 'C:\\work' }), { found: true, file: 'C:\\work\\scripts\\serve.bat' });
  assert.deepEqual(await q('./scripts/serve.bat', { cwd: 'C:\\work' }), { found: true, file: 'C:\\work\\scripts\\serve.bat' });
  // Only runnable extensions: a PATHEXT of .JS alone does not make npx runnable.
  assert.deepEqual(await q('npx', { pathExt: '.JS' }), { found: false, reason: 'missing' });
  assert.deepEqual(await q('no-such-tool'), { found: false, reason: 'missing' });
  // With no PATHEXT in the child's environment, Windows' default applies.
  assert.deepEqual(await findExecutable({ command: 'npx', searchPath: PATH, cwd: 'C:\\work' }, win), { found: true, file: `${NODE_DIR}\\npx.cmd` });
});

test('Windows launch: .cmd through cmd.exe (ComSpec, /d /e:ON /v:OFF /s /c), .exe directly, unknown names unchanged', async () => {
  const env = { Path: PATH, PathExt: PATHEXT, ComSpec: 'C:\\Windows\\System32\\cmd.exe' };
  assert.deepEqual(await resolveLaunch({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], env, cwd: 'C:\\work' }, win), {
    command: 'C:\\Windows\\System32\\cmd.exe',
    args: ['/d', '/e:ON', '/v:OFF', '/s', '/c', '""C:\\Program Files\\nodejs\\npx.cmd" -y @modelcontextprotocol/server-memory"'],
    windowsVerbatimArguments: true,
  });
  assert.deepEqual(await resolveLaunch({ command: 'uvx', args: ['mcp-server-git'], env, cwd: 'C:\\work' }, win), {
    command: 'C:\\Users\\ada\\.local\\bin\\uvx.exe',
    args: ['mcp-server-git'],
  });
  // Not found: spawned as written, so the spawn's own ENOENT reaches the user as before.
  assert.deepEqual(await resolveLaunch({ command: 'nope', args: ['x'], env, cwd: 'C:\\work' }, win), { command: 'nope', args: ['x'] });
  // Without ComSpec (the child's environment does not inherit it), cmd.exe under SystemRoot, else by name.
  assert.equal((await resolveLaunch({ command: 'npx', args: [], env: { PATH, SYSTEMROOT: 'C:\\Windows' }, cwd: 'C:\\work' }, win)).command, 'C:\\Windows\\System32\\cmd.exe');
  assert.equal((await resolveLaunch({ command: 'npx', args: [], env: { PATH }, cwd: 'C:\\work' }, win)).command, 'cmd.exe');
  // Linux and macOS: exactly what was asked, no lookup at all.
  let probed = 0;
  const counting: FileProbe = async () => {
    probed++;
    return 'none';
  };
  for (const platform of ['linux', 'darwin'] as const) {
    assert.deepEqual(await resolveLaunch({ command: 'npx', args: ['a&b'], env: { PATH: '/usr/bin' } }, { platform, probe: counting }), { command: 'npx', args: ['a&b'] });
  }
  assert.equal(probed, 0);
});

test('cmd.exe quoting: the exact lines for typical and hostile arguments', () => {
  assert.equal(quoteBatchArgument('-y'), '-y');
  assert.equal(quoteBatchArgument('@scope/pkg@1.2.3'), '@scope/pkg@1.2.3');
  assert.equal(quoteBatchArgument('C:\\dir\\file.txt'), 'C:\\dir\\file.txt');
  assert.equal(quoteBatchArgument(''), '""');
  assert.equal(quoteBatchArgument('two words'), '"two words"');
  assert.equal(quoteBatchArgument('a&calc'), '"a&calc"');
  assert.equal(quoteBatchArgument('a|b'), '"a|b"');
  assert.equal(quoteBatchArgument('^'), '"^"');
  assert.equal(quoteBatchArgument('%PATH%'), '"%%cd:~,%PATH%%cd:~,%"');
  assert.equal(quoteBatchArgument('say "hi"'), '"say ""hi"""');
  assert.equal(quoteBatchArgument('C:\\dir\\'), '"C:\\dir\\\\"');
  assert.equal(quoteBatchArgument('a\\"&calc'), '"a\\\\""&calc"');
  assert.throws(() => batchCommandLine('C:\\x.cmd', ['line\nbreak']), /line break/);
  assert.throws(() => batchCommandLine('C:\\x.cmd', ['cr\r']), /line break/);
  assert.throws(() => batchCommandLine('C:\\dir\\', []), /backslash/);
});

const HOSTILE = [
  'plain',
  '',
  ' ',
  'two words',
  'a&calc',
  'a && calc',
  'a|calc',
  'a||calc',
  '>out.txt',
  '<in.txt',
  '(x)',
  '^',
  '^^&calc',
  '%PATH%',
  '%USERPROFILE%\\x',
  '%',
  '%%',
  '100%',
  '!USERNAME!',
  '"',
  '""',
  '"quoted"',
  'say "hi" & calc',
  'a"&calc&"b',
  'a\\"&calc',
  '\\"&calc&\\"',
  'trailing\\',
  'trailing\\\\',
  'C:\\Program Files\\',
  '\\\\server\\share\\',
  ',;=',
  '\t tab',
  '--flag=a b',
  '{"json": "value & more"}',
  'ünïcødé ✓',
];

test('cmd.exe quoting: every hostile argument reaches the program unchanged and nothing leaves the quotes', () => {
  const env = { PATH: 'C:\\Windows', USERPROFILE: 'C:\\Users\\ada', USERNAME: 'ada', CD: 'C:\\work' };
  // One at a time, then all together (state must not leak from one argument into the next).
  for (const args of [...HOSTILE.map((a) => [a]), HOSTILE]) {
    const line = batchCommandLine('C:\\Program Files\\nodejs\\npx.cmd', args);
    // cmd /s /c: strip the first and the last quote of the line.
    assert.ok(line.startsWith('"') && line.endsWith('"'));
    const afterS = line.slice(1, -1);
    const expanded = percentPhase(afterS, env);
    assertNothingUnquoted(expanded, args);
    // The batch file sees the rest of the line after its own (quoted) name as %*; its line
    // `"%dp0%\node.exe" "%dp0%\node_modules\npm\bin\npx-cli.js" %*` is parsed again.
    const script = '"C:\\Program Files\\nodejs\\npx.cmd"';
    assert.ok(expanded.startsWith(script));
    const star = expanded.slice(script.length).replace(/^ /, '');
    const batchLine = `"C:\\Program Files\\nodejs\\node.exe" "C:\\npx-cli.js" ${star}`;
    assertNothingUnquoted(batchLine, args);
    assert.deepEqual(crtArgv(batchLine).slice(2), args, `argv of ${JSON.stringify(args)} from ${line}`);
  }
});

/**
 * cmd.exe's first phase on a command line: `%NAME%` of a defined variable expands (quotes do
 * not protect it); `%cd:~,%` is an empty substring; anything else leaves the `%` as it is and
 * scanning goes on from the next character.
 */
function percentPhase(text: string, env: Record<string, string>): string {
  const upper = new Map(Object.entries(env).map(([k, v]) => [k.toUpperCase(), v]));
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '%') {
      out += text[i++];
      continue;
    }
    const close = text.indexOf('%', i + 1);
    const name = close === -1 ? '' : text.slice(i + 1, close).toUpperCase();
    if (name === 'CD:~,') {
      i = close + 1;
    } else if (name !== '' && upper.has(name)) {
      out += upper.get(name);
      i = close + 1;
    } else {
      out += '%';
      i++;
    }
  }
  return out;
}

/** cmd.exe's second phase: outside double quotes, these end, pipe or redirect the command, or escape. */
function assertNothingUnquoted(text: string, args: string[]): void {
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && '&|<>^()%!'.includes(ch)) assert.fail(`'${ch}' outside quotes in ${text} (arguments ${JSON.stringify(args)})`);
  }
  assert.equal(quoted, false, `unbalanced quotes in ${text}`);
}

/** The C runtime's argv parser (Microsoft, "Parsing C++ command-line arguments", post-2008 rules). */
function crtArgv(line: string): string[] {
  const argv: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) return argv;
    let arg = '';
    let quoted = false;
    for (; i < line.length; ) {
      const ch = line[i] as string;
      if (ch === '\\') {
        let n = 0;
        while (line[i] === '\\') {
          n++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += '\\'.repeat(n);
        }
        continue;
      }
      if (ch === '"') {
        if (quoted && line[i + 1] === '"') {
          arg += '"';
          i += 2;
        } else {
          quoted = !quoted;
          i++;
        }
        continue;
      }
      if (!quoted && (ch === ' ' || ch === '\t')) break;
      arg += ch;
      i++;
    }
    argv.push(arg);
  }
}
