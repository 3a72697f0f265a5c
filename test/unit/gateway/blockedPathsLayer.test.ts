import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedPathsLayer, normalisePath } from '../../../extension/gateway/chain/blockedPathsLayer';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose } from '../../../extension/gateway/chain/chain';

function rig(blocked: string[] = [], alwaysBlocked: string[] = []) {
  let paths = blocked;
  let reached = 0;
  const run = compose([
    blockedPathsLayer({ policy: () => ({ blocked_paths: paths }), alwaysBlocked: () => alwaysBlocked, homeDir: '/home/me' }),
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
  assert.equal(ctx.status, 'denied', `${why}: expected denial for ${JSON.stringify(args)}`);
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
});
