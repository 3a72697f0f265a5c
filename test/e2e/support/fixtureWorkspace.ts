/**
 * A private copy of test/fixtures/workspace per test: the gateway writes runtime files
 * (gateway.json, serve.state.json, audit log) into its config dir, and tests edit registry.yaml.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './gatehouseBuild';

export const FIXTURE_WORKSPACE = path.join(REPO_ROOT, 'test', 'fixtures', 'workspace');
export const FIXTURE_SERVERS = path.join(REPO_ROOT, 'test', 'fixtures', 'servers');

export interface FixtureWorkspace {
  dir: string;
  configDir: string;
  remove(): void;
}

/** Copies the fixture and points its `../servers/` paths at the real fixture servers. */
export function fixtureWorkspace(): FixtureWorkspace {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-ws-'));
  const dir = path.join(parent, 'workspace');
  cpSync(FIXTURE_WORKSPACE, dir, { recursive: true });
  for (const file of [path.join(dir, '.gatehouse', 'registry.yaml'), path.join(dir, '.vscode', 'mcp.json')]) {
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('../servers/', `${FIXTURE_SERVERS}/`));
  }
  return { dir, configDir: path.join(dir, '.gatehouse'), remove: () => rmSync(parent, { recursive: true, force: true }) };
}

/**
 * Live fixture-server processes whose working directory is `dir`: the downstream servers the
 * gateway spawned for that workspace. They run in sessions of their own, so the harness's
 * process-group view of code-server does not include them; other tiers may run the same
 * fixture scripts at the same time, hence the working-directory match.
 */
export function processesIn(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== dir) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(FIXTURE_SERVERS)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') out.push(pid);
    } catch {
      /* gone, or not ours to inspect */
    }
  }
  return out;
}

/**
 * Live processes whose working directory or command line lies under `dir` (any program, any
 * depth): what a run in a private copy of the repository may leave behind. Broader than
 * {@link processesIn}, and safe because nothing else on the machine knows that folder.
 */
export function processesUnder(dir: string): number[] {
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  const under = (p: string): boolean => p === dir || p.startsWith(prefix);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (under(cwd) || argv.some((arg) => arg.includes(prefix) || arg === dir)) out.push(pid);
    } catch {
      /* gone, or not ours to inspect */
    }
  }
  return out;
}
