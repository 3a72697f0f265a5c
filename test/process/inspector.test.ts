import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ensureCliBuilt } from '../helpers/cli';
import { repoRoot, tempDir } from '../helpers/fixtures';
import { makeProject, type Project } from '../helpers/gatewayProject';
import { cliEnv, httpClient, listedWith, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';
import { alive, until } from '../helpers/poll';

after(() => stopAllCli());

/** The official MCP Inspector's CLI, as its package's bin (`mcp-inspector-cli`) runs it. */
const inspectorBin = path.join(repoRoot, 'node_modules/@modelcontextprotocol/inspector-cli/build/cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function inspector(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [inspectorBin, '--cli', ...args], { cwd, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A project folder the Inspector can run in. inspector-cli 1.0.3 tests for `../package.json`
 * relative to the working directory but imports it relative to its own file (an upstream
 * bug), so the folder gets a parent holding a package.json.
 */
function inspectorProject(): Project {
  const root = tempDir('gatehouse-inspector-');
  writeFileSync(path.join(root, 'package.json'), '{}\n');
  const folder = path.join(root, 'project');
  mkdirSync(folder);
  return makeProject([{ name: 'echo', fixture: 'echo.mjs' }], undefined, folder);
}

const parse = (run: Run) => {
  assert.equal(run.code, 0, `inspector failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
};

describe('the official MCP Inspector CLI against Gatehouse', () => {
  test('through `gatehouse serve` (stdio): tools/list and tools/call', async () => {
    const project = inspectorProject();
    const serve = [process.execPath, ensureCliBuilt(), 'serve'];

    // Each run spawns a fresh gateway whose first list waits for echo at most 5 s; a heavily
    // loaded machine can need longer, so a run without echo is repeated (bounded).
    const listed = await until(
      'an Inspector tools/list that includes echo__echo',
      async () => {
        const l = parse(await inspector([...serve, '--method', 'tools/list'], project.folder)) as { tools: Array<{ name: string }> };
        assert.equal(l.tools[0]?.name, 'gatehouse__health');
        return l.tools.some((t) => t.name === 'echo__echo') ? l : undefined;
      },
      90_000,
    );
    assert.ok(listed.tools.length >= 7);

    const called = parse(await inspector([...serve, '--method', 'tools/call', '--tool-name', 'echo__echo', '--tool-arg', 'text=from the inspector'], project.folder));
    assert.deepEqual(called, { content: [{ type: 'text', text: 'from the inspector' }] });

    const failed = parse(await inspector([...serve, '--method', 'tools/call', '--tool-name', 'echo__fail'], project.folder));
    assert.deepEqual(failed, { isError: true, content: [{ type: 'text', text: 'failed on purpose' }] });

    // The gateway the Inspector spawned stopped with it, children included.
    const pid = Number(
      (parse(await inspector([...serve, '--method', 'tools/call', '--tool-name', 'echo__pid'], project.folder)) as { content: Array<{ text: string }> })
        .content[0]?.text,
    );
    await until('the spawned gateway and its child are gone', () => !alive(pid) && !existsSync(path.join(project.configDir, 'serve.state.json')), 10_000);
  });

  test('through `gatehouse serve --http` with the bearer header', async () => {
    const project = inspectorProject();
    const gw = await startHttpGateway(project.folder);
    const warm = await httpClient(gw.info);
    await listedWith(warm, 'echo__echo');
    await warm.close();
    const http = [gw.info.url, '--transport', 'http', '--header', `Authorization: Bearer ${gw.info.token}`];

    const listed = parse(await inspector([...http, '--method', 'tools/list'], project.folder)) as { tools: Array<{ name: string }> };
    assert.equal(listed.tools[0]?.name, 'gatehouse__health');
    assert.ok(listed.tools.some((t) => t.name === 'echo__echo'));

    const called = parse(await inspector([...http, '--method', 'tools/call', '--tool-name', 'echo__echo', '--tool-arg', 'text=over http'], project.folder));
    assert.deepEqual(called, { content: [{ type: 'text', text: 'over http' }] });

    const health = parse(await inspector([...http, '--method', 'tools/call', '--tool-name', 'gatehouse__health'], project.folder)) as {
      content: Array<{ text: string }>;
    };
    const report = JSON.parse(health.content[0]?.text ?? '{}') as { downstreams: Array<{ name: string; state: string }> };
    assert.deepEqual(report.downstreams.map((d) => [d.name, d.state]), [['echo', 'ready']]);

    // Without the header the Inspector is turned away.
    const refused = await inspector([gw.info.url, '--transport', 'http', '--method', 'tools/list'], project.folder);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /401|nauthorized|invalid_token/i);
  });
});
