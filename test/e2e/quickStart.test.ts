/**
 * The README's quick start from a clean copy of the repository: `npm start` builds, packages,
 * starts code-server with Gatehouse on demo/ and prints a URL and a password; code-server
 * answers there; once a browser has logged in, the demo's three servers are ready in
 * demo/.gatehouse/serve.state.json; Ctrl-C (SIGINT to npm's process group, as a terminal sends
 * it) ends everything promptly and leaves no process behind in the copy.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseBanner } from '../../demo/banner';
import { parseStateFile } from '../../extension/state/stateFile';
import { CHROMIUM, chromiumAvailable, openWorkbench, screenshot, type Workbench } from './harness/browser';
import { ensureCodeServer } from './harness/codeServer';
import { CACHE_DIR } from './harness/setup.mjs';
import { waitUntil } from './harness/wait';
import { processesUnder } from './support/fixtureWorkspace';
import { REPO_ROOT } from './support/gatehouseBuild';
import { ARTIFACTS } from './support/screenshots';
import { statusState } from './support/workbenchUi';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;
const DEMO_SERVERS = ['echo', 'flaky', 'memory'];
/** "Promptly": the harness's own budget is 8 s TERM + 5 s KILL + 8 s for detached children. */
const STOP_BUDGET_MS = 25_000;

/**
 * A copy of the files git knows (tracked, plus new files not ignored), read from the working
 * tree. Not `git clone --local`: a clone holds the last commit only, while this test should
 * tell a developer whether the quick start works with the change they are making (in CI the
 * two are the same). Either way no build output, cache or runtime file comes along, which is
 * what "a clean clone" is about.
 */
function copyTree(dest: string): void {
  const ls = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(ls.status, 0, `git ls-files: ${ls.stderr}`);
  for (const file of ls.stdout.split('\0').filter(Boolean)) {
    const from = path.join(REPO_ROOT, file);
    const to = path.join(dest, file);
    let stat;
    try {
      stat = lstatSync(from);
    } catch {
      continue; // deleted in the working tree, not yet in the index
    }
    mkdirSync(path.dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (stat.isFile()) cpSync(from, to);
  }
}

function commandLines(pids: number[]): string {
  return pids
    .map((pid) => {
      try {
        return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`;
      } catch {
        return `${pid}: (gone)`;
      }
    })
    .join('\n');
}

describe('quick start: npm start in a clean copy', { timeout: 15 * 60_000 }, () => {
  let parent: string | undefined;
  let npm: ChildProcess | undefined;
  before(async () => {
    if (skip) return;
    // Installed once in the repository's cache (as the other e2e files do); the copy reuses it.
    await ensureCodeServer();
  });
  after(() => {
    if (npm?.pid && npm.exitCode === null && npm.signalCode === null) {
      try {
        process.kill(-npm.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (parent) {
      for (const pid of processesUnder(parent)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test('builds, serves VS Code with the demo, the servers get ready, Ctrl-C leaves nothing behind', { skip, timeout: 12 * 60_000 }, async (t) => {
    const t0 = Date.now();
    const timings: Record<string, number> = {};
    const mark = (what: string): void => {
      timings[what] = Date.now() - t0;
    };
    // realpath: /proc reports resolved working directories.
    parent = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'gatehouse-quickstart-')));
    const clone = path.join(parent, 'gatehouse');
    copyTree(clone);
    // `npm ci` would need the registry and minutes of install; what is under test is what
    // happens after it. The repository's node_modules is what that `npm ci` produced.
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
    assert.ok(!existsSync(path.join(clone, 'dist')), 'the copy starts without a build');
    mark('copied');

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // The code-server install of the repository: nothing is downloaded.
      GATEHOUSE_E2E_CACHE: CACHE_DIR,
      npm_config_update_notifier: 'false',
    };
    // The test runner's own variables are no business of npm start's Node.
    for (const key of Object.keys(env)) if (key.startsWith('NODE_TEST') || key === 'NODE_OPTIONS') delete env[key];
    // detached: npm gets a process group of its own, so SIGINT can go to the whole group, as a
    // terminal's Ctrl-C does (npm, sh and node all receive it).
    const child = spawn('npm', ['start'], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    npm = child;
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void exited.then((e) => (exit = e));

    let workbench: Workbench | undefined;
    try {
      // Each wait stops at once if npm start dies (waitUntil retries a throwing check).
      const alive = (): void => {
        if (exit) throw new Error(`npm start exited early (${JSON.stringify(exit)}):\n${output}`);
      };
      const banner = await waitUntil('npm start to print the URL and the password', () => parseBanner(output) ?? exit, 8 * 60_000, 200);
      alive();
      assert.ok('url' in banner);
      mark('bannerPrinted');
      assert.match(output, /Build \(esbuild bundles \+ JSON schemas\): done/);

      // code-server answers: with password auth, / sends the browser to its login page.
      const root = await fetch(banner.url, { redirect: 'manual' });
      assert.equal(root.status, 302);
      assert.match(root.headers.get('location') ?? '', /login/);
      const loginPage = await fetch(new URL('login', banner.url));
      assert.equal(loginPage.status, 200);
      assert.match(await loginPage.text(), /name="password"/);
      const wrong = await fetch(new URL('login', banner.url), { method: 'POST', body: new URLSearchParams({ password: 'not-it' }), redirect: 'manual' });
      assert.doesNotMatch(wrong.headers.get('set-cookie') ?? '', /code-server-session=/, 'a wrong password gets no session');
      const login = await fetch(new URL('login', banner.url), { method: 'POST', body: new URLSearchParams({ password: banner.password }), redirect: 'manual' });
      const session = /code-server-session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
      assert.ok(session, `the printed password logs in (status ${login.status})`);
      mark('loggedIn');

      // The extension host (and so the gateway) starts when a window connects.
      workbench = await openWorkbench(banner.url, undefined, {
        timeoutMs: 120_000,
        beforeNavigate: (page) => page.context().addCookies([{ name: 'code-server-session', value: session, url: banner.url }]),
      });
      mark('workbench');
      const stateFile = path.join(clone, 'demo', '.gatehouse', 'serve.state.json');
      let last = '';
      await waitUntil(
        `echo, flaky and memory ready in ${stateFile}`,
        () => {
          let text: string;
          try {
            text = readFileSync(stateFile, 'utf8');
          } catch {
            return undefined;
          }
          const downstreams = parseStateFile(text)?.downstreams ?? [];
          last = downstreams.map((d) => `${d.name}:${d.state ?? '?'}`).join(' ');
          const ready = downstreams.filter((d) => d.state === 'ready').map((d) => d.name).sort();
          return JSON.stringify(ready) === JSON.stringify(DEMO_SERVERS) || exit;
        },
        180_000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last seen: ${last || '(no state file)'}`);
      });
      alive();
      mark('serversReady');
      const page = workbench.page;
      await waitUntil('the status bar to read 3/3', async () => ((await statusState(page).catch(() => undefined))?.text === '3/3' ? true : undefined), 60_000, 250);
      mark('statusBar');
      const running = processesUnder(parent);
      assert.ok(running.length >= 3, `the demo servers run in the copy (found ${running.length}):\n${commandLines(running)}`);

      // Ctrl-C, with the browser still connected as a user's would be.
      const sigint = Date.now();
      process.kill(-child.pid!, 'SIGINT');
      const result = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), STOP_BUDGET_MS + 10_000).unref())]);
      timings.stopMs = Date.now() - sigint;
      assert.ok(result, `npm start exits after SIGINT (waited ${timings.stopMs} ms):\n${output.slice(-3000)}`);
      assert.ok(timings.stopMs < STOP_BUDGET_MS, `npm start stopped within ${STOP_BUDGET_MS} ms (took ${timings.stopMs})`);
      assert.match(output, /Stopped \([\d.]+ s\): no process of this run is left/);
      // npm waits for its script, then dies of the SIGINT it got itself (the shell's convention
      // for Ctrl-C); start.mjs exits 0 after a clean stop, so npm reports no error.
      assert.ok(result.signal === 'SIGINT' || result.code === 0, `npm start exit status ${JSON.stringify(result)}`);
      assert.doesNotMatch(output, /npm (error|ERR!)/, 'npm reports no failure');
      const left = processesUnder(parent);
      assert.deepEqual(left, [], `no process left under ${parent}:\n${commandLines(left)}`);
      await assert.rejects(fetch(banner.url), 'code-server no longer answers');
      mark('stopped');
    } catch (err) {
      if (workbench) {
        const shot = await screenshot(workbench.page, path.join(ARTIFACTS, `quickstart-${Date.now()}.png`)).catch(() => undefined);
        t.diagnostic(`screenshot: ${shot}`);
      }
      t.diagnostic(`npm start output:\n${output.slice(-6000)}`);
      throw err;
    } finally {
      await workbench?.close();
    }
    t.diagnostic(`timings (ms from start): ${JSON.stringify(timings)}`);
  });
});
