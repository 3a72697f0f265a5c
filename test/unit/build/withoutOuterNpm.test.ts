/**
 * The e2e setup runs `npm install code-server` under Node 24, often from inside `npm test` (the
 * machine's npm under Node 20). npm takes npm_config_* of its environment as config, so the
 * inner npm inherited the outer user agent, and code-server's postinstall (which reads the Node
 * major from $npm_config_user_agent) refused "node v20": the install fell back to
 * --ignore-scripts, without @vscode/spdlog, so VS Code wrote no log and no Output panel text.
 * A real npm, started with withoutOuterNpm(env of an outer npm), reports its own Node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { withoutOuterNpm } from '../../e2e/harness/setup.mjs';

function userAgentSeenByScript(env: NodeJS.ProcessEnv): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-ua-'));
  try {
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'ua', version: '1.0.0', scripts: { ua: 'node -e "console.log(process.env.npm_config_user_agent)"' } }));
    const res = spawnSync('npm', ['run', '-s', 'ua'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    return res.stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an npm started from inside another npm run sees its own user agent, not the outer one', () => {
  // What the machine's npm exports to a script it runs (npm test → node → setup.mjs).
  const outer: NodeJS.ProcessEnv = {
    ...process.env,
    npm_config_user_agent: 'npm/10.0.0 node/v0.0.0-outer linux x64 workspaces/false',
    npm_config_node_gyp: '/outer/node-gyp.js',
    npm_execpath: '/outer/npm-cli.js',
    npm_node_execpath: '/outer/node',
    npm_lifecycle_event: 'test',
    npm_lifecycle_script: 'node test/run.mjs',
    npm_package_name: 'gatehouse',
    npm_config_registry: 'https://registry.npmjs.org/',
  };
  // The hazard is real: without the filter the inner npm keeps the outer Node's user agent.
  assert.match(userAgentSeenByScript(outer), /node\/v0\.0\.0-outer/);

  const cleaned = withoutOuterNpm(outer);
  assert.match(userAgentSeenByScript(cleaned), new RegExp(`^npm/\\S+ node/${process.version.replace(/\./g, '\\.')} `));
  for (const key of ['npm_config_user_agent', 'npm_config_node_gyp', 'npm_execpath', 'npm_node_execpath', 'npm_lifecycle_event', 'npm_lifecycle_script', 'npm_package_name']) {
    assert.equal(cleaned[key], undefined, `${key} is dropped`);
  }
  // What a user exports on purpose stays, as does everything that is not npm's.
  assert.equal(cleaned.npm_config_registry, 'https://registry.npmjs.org/');
  assert.equal(cleaned.PATH, process.env.PATH);
});
