import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

/** Absolute path of the repository root (bench/lib → ../..). */
export const repoRoot = path.resolve(__dirname, '../..');

/**
 * BENCH_QUICK=1 scales every count down for a smoke run (< 60 s on 2 cores). The numbers it
 * prints are not meant to be compared with a full run: fewer samples, one round fewer.
 */
export const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';

/** Full-run value or quick-run value. */
export function scaled(full: number, quickValue: number): number {
  return quick ? quickValue : full;
}

/**
 * Every temp project of one `npm run bench` lives under this directory (set by the runner), so the
 * runner can find any process left behind: every gateway and every downstream runs with its cwd
 * inside it.
 */
export function benchRoot(): string {
  const root = process.env.GATEHOUSE_BENCH_ROOT;
  if (!root) throw new Error('GATEHOUSE_BENCH_ROOT is not set: run the sections through bench/run.ts');
  return root;
}

/** What the results file records about the machine the numbers come from. */
export interface MachineInfo {
  cores: number;
  cpu: string;
  node: string;
  platform: string;
  memoryGiB: number;
  date: string;
  commit: string;
}

export function machineInfo(): MachineInfo {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain -- extension', { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (dirty) commit += ' (+ uncommitted changes in extension/)';
  } catch {
    // not a git checkout: the commit stays unknown
  }
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    date: new Date().toISOString(),
    commit,
  };
}
