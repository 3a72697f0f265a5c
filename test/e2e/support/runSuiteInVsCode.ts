/**
 * Runs one suite of test/e2e/suite/ inside the extension host of a real VS Code (code-server's
 * smoke-test driver) with Gatehouse under development, and collects what it reported. The suite
 * is bundled with esbuild (vscode external) because the extension host loads plain CommonJS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { runExtensionTests, type ExtensionTestsOptions } from '../harness/browser';
import type { FixtureWorkspace } from './fixtureWorkspace';
import { buildExtension, REPO_ROOT } from './gatehouseBuild';

export interface SuiteInVsCodeOptions
  extends Omit<ExtensionTestsOptions, 'extensionDevelopmentPath' | 'extensionTestsPath' | 'workspace'> {
  /** The suite's file name in test/e2e/suite/ (`index.ts`, `approvals.ts`, …). */
  suite: string;
  /** The prefix of the suite's report lines (`[gatehouse suite]`). */
  tag: string;
  /** The folder opened in the window. */
  workspace: FixtureWorkspace;
}

export interface SuiteInVsCodeRun {
  /** The suite's exit code (0 = passed, 124 = the run timed out). */
  code: number;
  /** Every browser console line, in order (the extension host's console is forwarded there). */
  lines: string[];
  /** The suite's own lines, each from its tag on. */
  report: string[];
  /** The report's `not ok` lines, cut to 1 500 characters so an assertion message stays readable. */
  failed: string[];
}

export async function runSuiteInVsCode(options: SuiteInVsCodeOptions): Promise<SuiteInVsCodeRun> {
  const { suite, tag, workspace, onConsole, ...rest } = options;
  await buildExtension();
  const outDir = mkdtempSync(path.join(os.tmpdir(), `gatehouse-e2e-${path.parse(suite).name}-`));
  try {
    const bundle = path.join(outDir, 'index.js');
    await build({
      entryPoints: [path.join(__dirname, '..', 'suite', suite)],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      logLevel: 'silent',
    });
    const lines: string[] = [];
    const code = await runExtensionTests({
      ...rest,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: bundle,
      workspace: workspace.dir,
      onConsole: (line) => {
        lines.push(line);
        onConsole?.(line);
      },
    });
    const report = lines.filter((l) => l.includes(tag)).map((l) => l.slice(l.indexOf(tag)));
    const failed = report.filter((l) => l.startsWith(`${tag} not ok`)).map((l) => l.slice(0, 1500));
    return { code, lines, report, failed };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
