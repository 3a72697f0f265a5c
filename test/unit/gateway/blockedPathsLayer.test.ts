import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedPathsLayer, normalisePath } from '../../../extension/gateway/chain/blockedPathsLayer';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose } from '../../../extension/gateway/chain/chain';

function rig(blocked: string[] = [], alwaysBlocked: string[] = [], platform: NodeJS.Platform = 'linux') {
  let paths = blocked;
  let reached = 0;
  const run = compose([
    blockedPathsLayer({ policy: () => ({ blocked_paths: paths }), alwaysBlocked: () => alwaysBlocked, homeDir: '/home/me', platform }),
    async () => void reached++,
  ]);
  return {
    get reached() {
      return reached;
    },
    set(next: string[]) {
      paths = next;
    },
    async call(args: Record<string, unknown>): Promise<CallContext> {
      const ctx: CallContext = {
        tool_name: 'read_file',
        server_name: 'fs',
        full_name: 'fs__read_file',
        arguments: args,
        session_id: 's1',
        status: 'allowed',
        start_time: 0,
        metadata: {},
      };
      await run(ctx);
      return ctx;
    },
  };
}

async function expectDenied(r: ReturnType<typeof rig>, args: Record<string, unknown>, code: string, why: string): Promise<CallContext> {
  const ctx = await r.call(args);
  assert.equal(ctx.status, 'denied', `${why}: expected denial for ${JSON.stringify(args).slice(0, 200)}`);
  assert.equal(ctx.reason_code, code, `${why}: ${ctx.error}`);
  return ctx;
}

async function expectAllowed(r: ReturnType<typeof rig>, args: Record<string, unknown>, why: string): Promise<void> {
  const ctx = await r.call(args);
  assert.equal(ctx.status, 'allowed', `${why}: ${ctx.error}`);
}

describe('blockedPathsLayer', () => {
  it('always blocks .gatehouse/ and .rea/, even with an empty policy list', async () => {
    const r = rig([]);
    const ctx = await expectDenied(r, { path: '.gatehouse/policy.yaml' }, 'blocked_path', 'config dir');
    assert.match(ctx.error!, /Argument "path" references blocked path "\.gatehouse\/"\. Tool: fs__read_file/);
    assert.ok(!ctx.error!.includes('policy.yaml"'), 'the value itself is not echoed');
    await expectDenied(r, { path: '/home/me/project/.rea/HALT' }, 'blocked_path', 'rea dir');
    await expectDenied(r, { path: '.gatehouse' }, 'blocked_path', 'the directory itself');
    await expectDenied(r, { path: '.GateHouse/X' }, 'blocked_path', 'case-insensitive');
    assert.equal(r.reached, 0);
  });

  it('Defect H: folders merely named gatehouse or rea are not blocked', async () => {
    const r = rig([]);
    await expectAllowed(r, { path: 'Projects/gatehouse/x' }, 'not dotted');
    await expectAllowed(r, { path: '/src/rea/index.ts' }, 'not dotted');
    await expectAllowed(r, { path: 'my.gatehouse/x' }, 'different segment');
    await expectAllowed(r, { path: '.gatehouse-backup/x' }, 'different segment');
    await expectAllowed(r, { path: './gatehouse/x' }, 'not dotted');
  });

  it('normalises .. traversal and URL encoding', async () => {
    const r = rig([]);
    await expectDenied(r, { path: '../.gatehouse/x' }, 'blocked_path', '../');
    await expectDenied(r, { path: 'docs/../.gatehouse/policy.yaml' }, 'blocked_path', 'inner ..');
    await expectDenied(r, { file: '%2e%2e%2f.gatehouse%2fHALT' }, 'blocked_path', '%2e%2e%2f');
    await expectDenied(r, { path: '%2Egatehouse/x' }, 'blocked_path', 'encoded dot');
    await expectDenied(r, { path: '%252egatehouse%252fHALT' }, 'blocked_path', 'double-encoded');
    await expectDenied(r, { path: 'C:\\work\\.gatehouse\\registry.yaml' }, 'blocked_path', 'backslashes');
    await expectDenied(r, { path: '.gatehouse./registry.yaml' }, 'blocked_path', 'Windows trailing dot');
    await expectDenied(r, { uri: 'file:///home/me/.gatehouse/audit.jsonl?x=1#y' }, 'blocked_path', 'file URI');
    await expectDenied(r, { uri: 'file://host/p/.rea/HALT' }, 'blocked_path', 'file URI with host');
    await expectAllowed(r, { url: 'https://example.com/.gatehouse/x' }, 'remote URL');
    await expectAllowed(r, { path: 'a/../b/c.txt' }, 'harmless traversal');
    assert.equal(normalisePath('A/./B/../C//d/'), 'a/c/d/');
  });

  it('refuses hostile values: NUL bytes, malformed escapes, encodings that survive decoding', async () => {
    const r = rig([]);
    await expectDenied(r, { path: 'notes\u0000.txt' }, 'hostile_path', 'NUL');
    await expectDenied(r, { path: '.gate\u0000house/x' }, 'hostile_path', 'NUL inside');
    await expectDenied(r, { path: 'a/%00/b' }, 'hostile_path', 'encoded NUL');
    await expectDenied(r, { id: 'x\u0000y.txt' }, 'hostile_path', 'NUL under any key');
    await expectDenied(r, { path: '.gatehouse%ZZ/x' }, 'hostile_path', 'malformed escape');
    await expectDenied(r, { path: 'a/%C3%28' }, 'hostile_path', 'invalid UTF-8');
    await expectDenied(r, { path: 'a/%25ZZ%252egatehouse/x' }, 'hostile_path', 'encoded dot left after decoding stops');
    await expectAllowed(r, { path: 'builds/50%25done/log.txt' }, 'a literal % written as %25');
  });

  it('checks every string argument at any depth; array elements inherit their key', async () => {
    const r = rig(['secrets.txt']);
    const ctx = await expectDenied(r, { options: { target: ['ok.txt', '.rea/HALT'] } }, 'blocked_path', 'nested');
    assert.match(ctx.error!, /Argument "options\.target\[1\]"/);
    assert.deepEqual(ctx.metadata.blocked_path, { argument: 'options.target[1]', pattern: '.rea/' });
    await expectDenied(r, { name: '.gatehouse/x' }, 'blocked_path', 'content key with a path-shaped value');
    await expectDenied(r, { id: 'secrets.txt' }, 'blocked_path', 'bare file name under any key');
    await expectAllowed(r, { content: 'See .gatehouse/policy.yaml for the settings.' }, 'prose is not matched');
    await expectAllowed(r, { text: 'a\n.gatehouse/x\n' }, 'file contents are not matched');
  });

  it('tokenises command strings (best effort)', async () => {
    const r = rig([]);
    await expectDenied(r, { command: "cat .gate''house/HALT && echo hi" }, 'blocked_path', 'quoted split');
    await expectDenied(r, { cmd: 'tool --config=~/.rea/policy.yaml' }, 'blocked_path', 'flag=value');
    await expectAllowed(r, { command: 'ls -la src/gatehouse' }, 'harmless command');
    // Issue 13 item 4: what a shell expands before the tool sees it.
    await expectDenied(r, { command: 'cat .gate\\house/gateway.json' }, 'blocked_path', 'backslash escape');
    await expectDenied(r, { command: 'cat .gate*/gateway.json' }, 'blocked_path', 'shell wildcard');
    await expectDenied(r, { command: 'cat ./.re?/HALT' }, 'blocked_path', 'shell ?');
    await expectDenied(r, { command: 'cat .[g]atehouse/HALT' }, 'blocked_path', 'shell [...]');
    await expectAllowed(r, { command: 'rm -rf * && ls *.txt' }, 'wildcards alone name nothing, and never a dotfile');
    await expectAllowed(r, { command: 'ls g*' }, 'a wildcard does not match a leading dot');
  });

  it('policy patterns: files, directories, globs, absolute anchors; reloaded per call', async () => {
    const r = rig(['.env', '.env.*', '/etc/passwd', 'secrets/', '*.pem']);
    await expectDenied(r, { path: '/proj/.env' }, 'blocked_path', 'file tail');
    await expectDenied(r, { path: '.env.local' }, 'blocked_path', 'glob');
    await expectAllowed(r, { path: '.envrc' }, 'not .env');
    await expectDenied(r, { path: '/etc/passwd' }, 'blocked_path', 'absolute');
    await expectAllowed(r, { path: '/project/etc/passwd' }, 'absolute is anchored');
    await expectDenied(r, { path: 'a/secrets/b/c' }, 'blocked_path', 'directory anywhere');
    await expectDenied(r, { path: 'keys/server.PEM' }, 'blocked_path', 'glob, case-insensitive');
    await expectAllowed(r, { path: 'keys/server.pem.txt' }, 'glob is anchored');
    r.set([]);
    await expectAllowed(r, { path: '/proj/.env' }, 'pattern removed');
  });

  it('patterns are rebuilt when a reload replaces either list (or the policy goes), and only then', async () => {
    let policy: { blocked_paths: string[] } | undefined = { blocked_paths: ['.env'] };
    let extra: string[] = [];
    const run = compose([blockedPathsLayer({ policy: () => policy, alwaysBlocked: () => extra, homeDir: '/home/me', platform: 'linux' }), async () => undefined]);
    const status = async (path: string): Promise<string> => {
      const ctx: CallContext = { tool_name: 't', server_name: 's', full_name: 's__t', arguments: { path }, session_id: 's1', status: 'allowed', start_time: 0, metadata: {} };
      await run(ctx);
      return ctx.status;
    };
    assert.equal(await status('a/.env'), 'denied');
    assert.equal(await status('a/.env'), 'denied', 'the same lists again');
    policy = undefined;
    assert.equal(await status('a/.env'), 'allowed', 'no policy: only the config directories');
    assert.equal(await status('.gatehouse/policy.yaml'), 'denied');
    policy = { blocked_paths: ['*.pem'] };
    assert.equal(await status('k/server.pem'), 'denied', 'a new policy');
    extra = ['.mine/'];
    assert.equal(await status('x/.mine/y'), 'denied', 'a new always-blocked list');
    extra = [];
    assert.equal(await status('x/.mine/y'), 'allowed');
    policy = { blocked_paths: ['*.pem'] };
    assert.equal(await status('k/server.pem'), 'denied', 'an equal policy, new arrays');
  });

  it('a leading ~ means the home directory, in patterns and values', async () => {
    const r = rig(['~/.ssh/']);
    await expectDenied(r, { path: '/home/me/.ssh/id_rsa' }, 'blocked_path', 'expanded pattern');
    await expectDenied(r, { path: '~/.ssh/config' }, 'blocked_path', 'expanded value');
    await expectAllowed(r, { path: '/home/other/.ssh/id_rsa' }, 'another home');
  });

  it('extra always-blocked directories (custom config dir)', async () => {
    const r = rig([], ['.my-config/']);
    await expectDenied(r, { path: 'x/.my-config/policy.yaml' }, 'blocked_path', 'custom dir');
  });

  it('fails closed when the policy cannot be read', async () => {
    const run = compose([
      blockedPathsLayer({
        policy: () => {
          throw new Error('nope');
        },
      }),
    ]);
    const ctx: CallContext = {
      tool_name: 't',
      server_name: 's',
      full_name: 's__t',
      arguments: { path: 'a' },
      session_id: 'x',
      status: 'allowed',
      start_time: 0,
      metadata: {},
    };
    await run(ctx);
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'blocked_paths_failed');
  });

  // Issue 13 item 4: a length limit or surrounding noise let a blocked path through.
  it('a long value is checked or refused, never passed: ./ x 2100 + .env', async () => {
    const r = rig(['.env']);
    const long = `${'./'.repeat(2100)}.env`;
    await expectDenied(r, { path: long }, 'blocked_path', 'long value under a path key');
    await expectDenied(r, { name: long }, 'blocked_path', 'long path-shaped value under any key');
    await expectDenied(r, { command: `cat ${long}` }, 'blocked_path', 'long token in a command');
    await expectDenied(r, { path: `${'a/'.repeat(3000)}../`.repeat(1) + '.env' }, 'blocked_path', 'long with ..');
    const huge = `${'a/'.repeat(600_000)}x.txt`;
    const ctx = await expectDenied(r, { path: huge }, 'path_too_long', 'too long to check');
    assert.match(ctx.error!, /Argument "path" is 1200005 characters long, more than the 1048576 that blocked-path checking reads; refused/);
    await expectDenied(r, { blob: 'A'.repeat(1_100_000) }, 'path_too_long', 'a one-word value too long to check');
    await expectAllowed(r, { content: `${'word '.repeat(300_000)}` }, 'long prose is not a path');
    await expectAllowed(r, { data: 'QUJD/+'.repeat(150_000) }, 'a long one-word value with no pattern text in it');
    // Text that contains a pattern's literal text is parsed precisely up to 64 KiB per call.
    await expectDenied(r, { data: 'x/.envy'.repeat(20_000) }, 'path_too_long', 'too much suspect text to parse');
    assert.equal(r.reached, 2);
  });

  it('whitespace and control characters around a path do not hide it', async () => {
    const r = rig(['.env', 'secrets/']);
    for (const v of ['.env\n', '.env\r\n', ' .env', '\t.env\t', '.env\u0007', '\u0085.env', '.env\u00a0', '\ufeff.env', '.e\u001fnv']) {
      await expectDenied(r, { path: v }, 'blocked_path', `path key ${JSON.stringify(v)}`);
      await expectDenied(r, { query: v }, 'blocked_path', `any key ${JSON.stringify(v)}`);
    }
    await expectDenied(r, { path: 'README.md\n.env' }, 'blocked_path', 'second line under a path key');
    await expectDenied(r, { paths: ['ok.txt', ' secrets/key.txt\n'] }, 'blocked_path', 'array element with a newline');
    await expectDenied(r, { file: '%2e%65nv' }, 'blocked_path', 'URL-encoded .env');
    await expectDenied(r, { file: '%2e%65nv%0a' }, 'blocked_path', 'URL-encoded trailing newline');
    await expectDenied(r, { file: './././.env' }, 'blocked_path', 'repeated ./');
    await expectDenied(r, { file: 'a/b/../../.env' }, 'blocked_path', '../ segments');
    await expectDenied(r, { file: 'file:///proj/.ENV' }, 'blocked_path', 'file URI, mixed case');
    await expectDenied(r, { file: 'SECRETS\\key.txt' }, 'blocked_path', 'backslash, upper case');
    await expectDenied(r, { file: '.env' .normalize('NFD') }, 'blocked_path', 'NFD');
    await expectAllowed(r, { text: 'do not open\n.env files' }, 'prose still passes');
  });

  // Issue 18 item 3, through the platform seam. Sources:
  // - Microsoft, "Naming Files, Paths, and Namespaces"
  //   (learn.microsoft.com/windows/win32/fileio/naming-a-file): names are case-insensitive;
  //   `\` and `/` both separate; `C:\` is absolute, `\x` is relative to the current drive's root,
  //   `C:x` to drive C's current directory; UNC `\\server\share\`; `\\?\` and `\\.\` prefixes,
  //   `\\?\UNC\server\share\`; trailing spaces and periods are dropped; 8.3 short names.
  // - Microsoft, "File Streams (Local File Systems)": `file::$DATA` is the file's default stream.
  // - RFC 8089 Appendix E: `file:///C:/x` (drive) and `file://server/share/x` (UNC).
  // - Apple, "File System Programming Guide" / APFS FAQ: APFS is case-insensitive by default and
  //   normalization-insensitive (NFC and NFD name one file); /etc, /tmp and /var link to /private.
  it('win32: drive letters, UNC, \\\\?\\ prefixes, file:///C:/ URIs, streams, short names, case', async () => {
    const r = rig(['C:\\Users\\me\\secrets\\', '/etc/passwd', '\\\\fileserver\\share\\hr\\', '.env'], [], 'win32');
    await expectDenied(r, { path: 'c:/users/ME/Secrets/k.txt' }, 'blocked_path', 'drive pattern, other case and separators');
    await expectDenied(r, { path: '\\\\?\\C:\\Users\\me\\secrets\\k.txt' }, 'blocked_path', '\\\\?\\ prefix');
    await expectDenied(r, { path: '\\\\.\\C:\\Users\\me\\secrets\\k.txt' }, 'blocked_path', '\\\\.\\ prefix');
    await expectDenied(r, { uri: 'file:///C:/Users/me/secrets/k.txt' }, 'blocked_path', 'file:///C:/');
    await expectDenied(r, { uri: 'file:///c|/Users/me/secrets/k.txt' }, 'blocked_path', 'file:///c|/');
    await expectAllowed(r, { path: 'D:\\Users\\me\\secrets\\k.txt' }, 'another drive');
    await expectDenied(r, { path: 'D:\\etc\\passwd' }, 'blocked_path', 'drive-less pattern: any drive');
    await expectDenied(r, { path: '\\etc\\passwd' }, 'blocked_path', 'rooted on the current drive');
    await expectDenied(r, { path: '\\\\FileServer\\Share\\HR\\pay.xlsx' }, 'blocked_path', 'UNC');
    await expectDenied(r, { path: '\\\\?\\UNC\\fileserver\\share\\hr\\pay.xlsx' }, 'blocked_path', '\\\\?\\UNC\\');
    await expectDenied(r, { uri: 'file://fileserver/share/hr/pay.xlsx' }, 'blocked_path', 'file://server/share');
    await expectAllowed(r, { path: '\\\\fileserver\\share\\public\\x' }, 'another folder of the share');
    await expectDenied(r, { path: 'C:\\proj\\.env::$DATA' }, 'blocked_path', 'default data stream');
    await expectDenied(r, { path: 'C:\\proj\\.env:hidden' }, 'blocked_path', 'named stream');
    await expectDenied(r, { path: 'C:\\proj\\.env. . ' }, 'blocked_path', 'trailing dots and spaces');
    await expectDenied(r, { path: 'C:\\proj\\GATEHO~1\\gateway.json' }, 'blocked_path', '8.3 short name of .gatehouse');
    await expectDenied(r, { path: 'C:.env' }, 'blocked_path', 'drive-relative');
    await expectAllowed(r, { path: 'C:\\proj\\PROGRA~1\\x' }, 'a short name of something else');
  });

  it('linux: the Windows-only readings do not apply', async () => {
    const r = rig(['C:\\Users\\me\\secrets\\', '.env'], [], 'linux');
    await expectAllowed(r, { path: '/proj/GATEHO~1/gateway.json' }, 'no short names on Linux');
    await expectAllowed(r, { path: '/proj/.env::$DATA' }, 'a different file on Linux');
    await expectDenied(r, { path: '/proj/.ENV' }, 'blocked_path', 'case-insensitive everywhere, as rea (over-blocks on Linux)');
  });

  it('darwin: case and normalization-insensitive; /private/etc is /etc', async () => {
    const r = rig(['/etc/passwd', 'Résumé.pdf'], [], 'darwin');
    await expectDenied(r, { path: '/private/etc/passwd' }, 'blocked_path', '/private link');
    await expectDenied(r, { path: '/ETC/PASSWD' }, 'blocked_path', 'case');
    await expectDenied(r, { path: '/Users/me/re\u0301sume\u0301.PDF' }, 'blocked_path', 'NFD spelling');
    await expectAllowed(r, { path: '/private/var/x/passwd' }, 'not /etc');
    const linux = rig(['/etc/passwd'], [], 'linux');
    await expectAllowed(linux, { path: '/private/etc/passwd' }, 'no /private link on Linux');
  });
});
