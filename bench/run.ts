/**
 * `npm run bench`: builds the CLI if needed, runs every section in its own Node process (so one
 * section's heap, children and event loop never colour another's numbers), checks that nothing
 * was left running, and prints the results as markdown — also written to
 * bench/results/latest.md. Informs, never gates: exits 0 whatever the numbers say.
 *
 *   BENCH_QUICK=1   smoke run with small counts (< 60 s on 2 idle cores)
 *   BENCH_ONLY=overhead,audit   run only these sections
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt } from './lib/build';
import { machineInfo, quick, repoRoot } from './lib/env';
import { killStrays, straysUnder, type Stray } from './lib/orphans';
import { renderReport, type SectionRun } from './lib/report';
import type { SectionResult } from './lib/section';

const SECTIONS: Array<{ id: string; title: string; timeoutS: number }> = [
  { id: 'overhead', title: '1. Call overhead', timeoutS: quick ? 150 : 480 },
  { id: 'breakdown', title: '1b. Where a governed call spends its time', timeoutS: quick ? 60 : 120 },
  { id: 'recovery', title: '2. Recovery after kill -9', timeoutS: quick ? 60 : 120 },
  { id: 'responsiveness', title: '3. Responsiveness', timeoutS: quick ? 60 : 120 },
  { id: 'scale', title: '4. Scale', timeoutS: quick ? 90 : 300 },
  { id: 'audit', title: '5. Audit log size', timeoutS: quick ? 60 : 180 },
  { id: 'protocol', title: '6. Prompts and resources', timeoutS: quick ? 60 : 120 },
  { id: 'memory', title: '7. Memory under concurrency; scan split', timeoutS: quick ? 60 : 120 },
  { id: 'telemetry', title: '8. OpenTelemetry export', timeoutS: quick ? 90 : 300 },
];

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

/** Runs one section file; resolves with its result (or a failure result) and the strays it left. */
async function runSection(id: string, title: string, timeoutS: number, root: string): Promise<SectionRun> {
  const out = path.join(root, `${id}.json`);
  const loadBefore = loadavg();
  const began = performance.now();
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(__dirname, 'sections', `${id}.ts`), out], {
    cwd: repoRoot,
    env: { ...process.env, GATEHOUSE_BENCH_ROOT: root },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  current = child;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }, timeoutS * 1000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  current = undefined;
  let result: SectionResult;
  if (existsSync(out)) {
    result = JSON.parse(readFileSync(out, 'utf8')) as SectionResult;
    // A section saves after each round: what it wrote before the limit is still worth showing.
    if (timedOut) result.error = `stopped at the ${timeoutS} s limit; the results below are what it had measured by then`;
  } else {
    result = { id, title, tables: [], notes: [], checks: [], seconds: (performance.now() - began) / 1000, error: timedOut ? `timed out after ${timeoutS} s` : `exited with code ${code} before writing a result` };
  }
  // A section stops everything it started before it exits; give stragglers a moment, then look.
  await new Promise((r) => setTimeout(r, 500));
  const strays: Stray[] = straysUnder(root);
  killStrays(strays);
  return { result, strays, loadBefore, loadAfter: loadavg() };
}

let current: ReturnType<typeof spawn> | undefined;

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
  const cleanup = (): void => {
    current?.kill('SIGKILL');
    killStrays(straysUnder(root));
    rmSync(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const began = performance.now();
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const machine = machineInfo();
  process.stderr.write(`gatehouse bench${quick ? ' (BENCH_QUICK)' : ''}: ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, load ${loadavg()}\n`);
  const build = await ensureBuilt();
  process.stderr.write(`build: ${build}\n`);
  const runs: SectionRun[] = [];
  try {
    for (const s of SECTIONS) {
      if (only && !only.includes(s.id)) continue;
      process.stderr.write(`\n▶ ${s.title}\n`);
      const run = await runSection(s.id, s.title, s.timeoutS, root);
      process.stderr.write(`  done in ${run.result.seconds} s${run.result.error ? ` — FAILED: ${run.result.error.split('\n')[0]}` : ''}\n`);
      runs.push(run);
    }
  } finally {
    cleanup();
  }
  const report = renderReport({ machine, quick, build, runs, totalSeconds: (performance.now() - began) / 1000, loadAtStart: runs[0]?.loadBefore ?? loadavg() });
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, quick ? 'quick.md' : 'latest.md'), report);
  process.stdout.write(`\n${report}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // The bench informs; it never fails the command.
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(0);
  },
);
