/**
 * The editor's "not found on PATH" and the gateway's spawn use one resolver: for the same
 * registry, environment and disk, a command the language server accepts is the file the spawn
 * runs, and one it flags is one the spawn cannot find. Windows cases run through the platform
 * seam (a case-insensitive fake NTFS), Linux cases on the real file system.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { buildChildEnv } from '../../../extension/config/childEnv';
import type { ServerConfig } from '../../../extension/config/registrySchema';
import { CommandResolver } from '../../../extension/lsp/commandResolver';
import { validateConfig } from '../../../extension/lsp/validate';
import { resolveLaunch, type FileProbe, type Launch } from '../../../extension/platform/resolveCommand';

const REGISTRY = `version: "1"
servers:
  - name: memory
    command: npx
    args: ["-y", "@modelcontextprotocol/server-memory"]
  - name: git
    command: uvx
    args: ["mcp-server-git"]
  - name: pm
    command: pnpm
  - name: ghost
    command: gatehouse-no-such-command
`;
const COMMANDS = ['npx', 'uvx', 'pnpm', 'gatehouse-no-such-command'];

/** The file a launch runs: the program, or the batch file cmd.exe is asked to run. */
function target(launch: Launch): string {
  if (!launch.windowsVerbatimArguments) return launch.command;
  return /^""([^"]+)"/.exec(launch.args.at(-1) as string)?.[1] as string;
}

async function editorVerdicts(file: string, env: Record<string, string>, resolver: CommandResolver, platform: NodeJS.Platform): Promise<string[]> {
  const input = { file, text: REGISTRY, kind: 'registry' as const };
  const options = { env, commands: resolver.peek, platform };
  const first = validateConfig(input, options);
  await resolver.resolve(first.pendingCommands);
  return validateConfig(input, options).diagnostics.filter((d) => d.code === 'command-not-found').map((d) => /^'([^']+)'/.exec(d.message)?.[1] as string);
}

test('Windows: the editor accepts exactly the commands the spawn resolves, to the same files', async () => {
  const disk = new Set(['c:\\program files\\nodejs\\npx', 'c:\\program files\\nodejs\\npx.cmd', 'c:\\users\\ada\\.local\\bin\\uvx.exe', 'c:\\users\\ada\\appdata\\roaming\\npm\\pnpm.cmd']);
  const probe: FileProbe = async (file) => (disk.has(file.toLowerCase()) ? 'executable' : 'none');
  // Windows spells it Path; both sides must match keys case-insensitively.
  const env = { Path: 'C:\\Program Files\\nodejs\\;C:\\Users\\ada\\.local\\bin;C:\\Users\\ada\\AppData\\Roaming\\npm', PATHEXT: '.COM;.EXE;.BAT;.CMD' };
  const resolver = new CommandResolver({ platform: 'win32', probe });
  const flagged = await editorVerdicts('/w/.gatehouse/registry.yaml', env, resolver, 'win32');
  assert.deepEqual(flagged, ['gatehouse-no-such-command'], 'before: npx, uvx via .com/.exe only — npx and pnpm were flagged though they run');
  for (const command of COMMANDS) {
    const launch = await resolveLaunch({ command, args: [], env, cwd: '/w' }, { platform: 'win32', probe });
    const editor = resolver.peek({ command, searchPath: env.Path, cwd: '/w', pathExt: env.PATHEXT });
    if (flagged.includes(command)) {
      assert.deepEqual(editor, { found: false, reason: 'missing' });
      assert.equal(launch.command, command, 'not found: spawned as written, ENOENT');
    } else {
      assert.ok(editor?.found);
      assert.equal(target(launch), editor.file, command);
    }
  }
});

test("Windows: the child's environment keeps PATHEXT, so the spawn looks up what the host would", () => {
  const host = { Path: 'C:\\Windows', PATHEXT: '.COM;.EXE;.CMD', SystemRoot: 'C:\\Windows' };
  const server: ServerConfig = { name: 's', command: 'npx', args: [], env: {}, env_passthrough: [], tier_overrides: {}, enabled: true, keep_tools_when_down: false };
  const { env } = buildChildEnv(server, host, { platform: 'win32' });
  assert.equal(env.PATHEXT, '.COM;.EXE;.CMD');
});

test('Linux: the same verdicts on the real file system', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gh-parity-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['npx', 'uvx', 'pnpm']) {
    await writeFile(path.join(dir, name), '#!/bin/sh\n');
    await chmod(path.join(dir, name), 0o755);
  }
  const env = { PATH: dir };
  const resolver = new CommandResolver({ platform: 'linux' });
  const flagged = await editorVerdicts(path.join(dir, '.gatehouse', 'registry.yaml'), env, resolver, 'linux');
  assert.deepEqual(flagged, ['gatehouse-no-such-command']);
  for (const command of ['npx', 'uvx', 'pnpm']) {
    const launch = await resolveLaunch({ command, args: ['a'], env, cwd: dir }, { platform: 'linux' });
    // Off Windows the spawn does its own execvp lookup of the same PATH: the name goes as written.
    assert.deepEqual(launch, { command, args: ['a'] });
    assert.deepEqual(resolver.peek({ command, searchPath: dir, cwd: dir }), { found: true, file: path.join(dir, command) });
  }
});
