import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CACHE_DIR, NODE_VERSION } from '../e2e/harness/setup.mjs';
import { ensureCliBuilt } from '../helpers/cli';
import { repoRoot, tempDir } from '../helpers/fixtures';
import { makeProject, type Project } from '../helpers/gatewayProject';
import { cliEnv, httpClient, listedWith, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';
import { alive, until } from '../helpers/poll';

after(() => stopAllCli());

/** The official MCP Inspector 2.x, as its package's bin (`mcp-inspector`) runs it. */
const inspectorBin = path.join(repoRoot, 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');

/**
 * Inspector 2.x needs Node 22.19 or newer; the tests run on the project's Node 20. The Node 24
 * that the e2e tier installs (test/e2e/cache, present in CI) runs it; so does a newer Node
 * running the tests. Without either the tests are skipped, saying why.
 */
function inspectorNode(): string | undefined {
  const cached = path.join(CACHE_DIR, `node-v${NODE_VERSION}`, 'bin', 'node');
  if (existsSync(cached)) return cached;
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 19) ? process.execPath : undefined;
}
const node = inspectorNode();
const skip = node
  ? false
  : `MCP Inspector 2.x needs Node >= 22.19: this is Node ${process.version} and the e2e cache's Node ${NODE_VERSION} is not installed (node test/e2e/harness/setup.mjs or .ci/install-e2e.sh)`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function inspector(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    // Its catalog (servers it remembers) defaults to ~/.mcp-inspector: keep it in the project.
    const env = { ...cliEnv(), MCP_CATALOG_PATH: path.join(cwd, '.inspector-catalog.json') };
    const p = spawn(node!, [inspectorBin, '--cli', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A project folder with one echo server (2.x runs from any folder: no package.json needed). */
function inspectorProject(): Project {
  return makeProject([{ name: 'echo', fixture: 'echo.mjs' }], undefined, tempDir('gatehouse-inspector-'));
}

/** The result JSON on stdout; exit code 0, or 5 for a tool result with isError (2.x). */
const parse = (run: Run, code = 0) => {
  assert.equal(run.code, code, `inspector exit code: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
};

describe('the official MCP Inspector 2.x CLI against Gatehouse', { skip }, () => {
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

    const failedRun = await inspector([...serve, '--method', 'tools/call', '--tool-name', 'echo__fail'], project.folder);
    assert.deepEqual(parse(failedRun, 5), { isError: true, content: [{ type: 'text', text: 'failed on purpose' }] });
    assert.match(failedRun.stderr, /tool_is_error/);

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

    // Without the header the Inspector is turned away (2.x would start an interactive OAuth
    // flow on a 401; --stored-auth-only makes it report instead).
    const refused = await inspector([gw.info.url, '--transport', 'http', '--stored-auth-only', '--method', 'tools/list'], project.folder);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /401|nauthorized|invalid_token|auth_required/i);
  });
});
