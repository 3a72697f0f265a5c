/**
 * Drives the code-server workbench with Debian's Chromium through playwright-core (no browser
 * download), plus the test-electron equivalent: running a test suite inside the extension host.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { startCodeServer, type CodeServerOptions } from './codeServer';

/** Debian's Chromium (apt-get install chromium), or $GATEHOUSE_CHROMIUM. */
export const CHROMIUM = process.env.GATEHOUSE_CHROMIUM || '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** Exactly the flags of shared E2E.md. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Workbench {
  page: Page;
  context: BrowserContext;
  /** Browser console lines (`type: text`) and page errors, for failure messages. */
  consoleLines(): string[];
  close(): Promise<void>;
}

export interface OpenWorkbenchOptions {
  /** Deadline for `.monaco-workbench` (default 60 s). */
  timeoutMs?: number;
  /** Extra query parameters (e.g. `payload` for the smoke-test driver). */
  query?: Record<string, string>;
  /** Called before navigation, e.g. to expose functions to the page. */
  beforeNavigate?: (page: Page) => Promise<void>;
  viewport?: { width: number; height: number };
}

/** The workbench URL for `folder` on a code-server at `url`. */
export function workbenchUrl(url: string, folder?: string, query: Record<string, string> = {}): string {
  const u = new URL(url);
  if (folder) u.searchParams.set('folder', path.resolve(folder));
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/** Opens `folder` in a fresh headless Chromium profile and waits until the workbench renders. */
export async function openWorkbench(url: string, folder?: string, options: OpenWorkbenchOptions = {}): Promise<Workbench> {
  // A fresh profile, and XDG folders beside it: Chromium writes crash reports and a dconf
  // cache under XDG_CONFIG_HOME / XDG_CACHE_HOME, which would otherwise be the home directory.
  const base = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-chromium-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.XDG_CONFIG_HOME = path.join(base, 'config');
  env.XDG_CACHE_HOME = path.join(base, 'cache');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(path.join(base, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
      env,
      viewport: options.viewport ?? { width: 1400, height: 900 },
    });
  } catch (err) {
    rmSync(base, { recursive: true, force: true });
    throw err;
  }
  const lines: string[] = [];
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await context.close().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    })());
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => lines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => lines.push(`[pageerror] ${e.message}`));
    if (options.beforeNavigate) await options.beforeNavigate(page);
    const timeout = options.timeoutMs ?? 60_000;
    await page.goto(workbenchUrl(url, folder, options.query), { timeout });
    await page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout });
    return { page, context, consoleLines: () => lines.slice(), close };
  } catch (err) {
    await close();
    throw err;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runs a command from the palette (F1) by its full title as shown there ("Category: Title").
 * Picks the row whose label is exactly `title`; fails when the palette never lists it.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const input = page.locator('.quick-input-widget input.input');
  const exact = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }) })
    .first();
  // The palette lists the commands known when it opens: commands of extensions that are still
  // being registered show up only in a palette opened later, so reopen it until the row is there.
  for (let attempt = 1; ; attempt++) {
    if (!(await input.isVisible())) {
      await page.keyboard.press('F1');
    }
    await input.waitFor({ state: 'visible', timeout: Math.max(1_000, deadline - Date.now()) });
    await input.fill(`>${title}`);
    try {
      await exact.waitFor({ state: 'visible', timeout: Math.max(500, Math.min(2_000 * attempt, deadline - Date.now())) });
      break;
    } catch (err) {
      if (Date.now() >= deadline) {
        const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts().catch(() => []);
        await page.keyboard.press('Escape').catch(() => undefined);
        throw new Error(`command "${title}" not in the palette after ${timeoutMs} ms; rows: ${JSON.stringify(rows)}`, { cause: err });
      }
      await page.keyboard.press('Escape');
      await input.waitFor({ state: 'hidden', timeout: 2_000 }).catch(() => undefined);
    }
  }
  await exact.click();
  await input.waitFor({ state: 'hidden', timeout: Math.max(1_000, deadline - Date.now()) }).catch(() => undefined);
}

/** A status-bar entry containing `text`. */
export function statusBarItem(page: Page, text: string | RegExp): Locator {
  return page.locator('.statusbar-item').filter({ hasText: text });
}

/** A tree row (explorer, custom tree views) containing `text`. A row's aria-label is its tooltip when one is set. */
export function treeRow(page: Page, text: string | RegExp): Locator {
  return page.locator('.monaco-list-row[role=treeitem]').filter({ hasText: text });
}

/** An activity-bar entry (view container) by the start of its title. */
export function activityBarItem(page: Page, title: string): Locator {
  return page.locator(`.activitybar a.action-label[aria-label^="${title.replace(/"/g, '\\"')}"]`);
}

/**
 * The content of a webview: the visible `iframe.webview`, then its `iframe#active-frame`.
 * The webview appears a moment after the command that opens it returns: poll with a deadline.
 */
export function webviewFrame(page: Page, nth = 0): FrameLocator {
  return page.locator('iframe.webview').filter({ visible: true }).nth(nth).contentFrame().locator('iframe#active-frame').contentFrame();
}

export async function screenshot(page: Page, file: string): Promise<string> {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  await page.screenshot({ path: file });
  return file;
}

export interface ExtensionTestsOptions {
  /** Folder of the extension under test (its package.json). */
  extensionDevelopmentPath: string;
  /** The suite module (built JS) exporting `run(): Promise<void>`, as for @vscode/test-electron. */
  extensionTestsPath: string;
  /** Folder opened in the window. */
  workspace: string;
  /** Whole-run deadline (default 120 s); the run counts as failed (exit 124) when it passes. */
  timeoutMs?: number;
  /** Passed to startCodeServer (settings, env, vsix, trusted, …). */
  codeServer?: Omit<CodeServerOptions, 'workspace' | 'smokeTestDriver'>;
  /** Where the server output and browser console go when the run fails (default stderr). */
  onFailureLog?: (text: string) => void;
  /**
   * Each browser console line as it comes; the extension host's console (the suite's output)
   * is forwarded there.
   */
  onConsole?: (line: string) => void;
  /**
   * Runs beside the suite once the workbench is open, for what only the page can do (click a
   * notification's button, a tree checkbox); its rejection is reported through `onFailureLog`
   * and fails the run. The run's result waits for it; `suiteExited` aborts when the suite exits
   * (or the run times out), so a hook waiting for the suite's cue can give up instead.
   */
  withPage?: (page: Page, suiteExited: AbortSignal) => Promise<void>;
}

/**
 * Runs `extensionTestsPath` inside the extension host of a real workbench (code-server's
 * smoke-test driver): resolves with the suite's exit code (0 = passed). Starts and stops its own
 * code-server and Chromium.
 */
export async function runExtensionTests(options: ExtensionTestsOptions): Promise<number> {
  const server = await startCodeServer({ ...options.codeServer, workspace: options.workspace, smokeTestDriver: true });
  let workbench: Workbench | undefined;
  let code: number;
  try {
    let resolveExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((r) => (resolveExit = r));
    const remote = (p: string): string => `vscode-remote://127.0.0.1:${server.port}${path.resolve(p)}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)],
      ['extensionTestsPath', remote(options.extensionTestsPath)],
    ]);
    workbench = await openWorkbench(server.url, options.workspace, {
      query: { payload },
      beforeNavigate: async (page) => {
        if (options.onConsole) {
          const onConsole = options.onConsole;
          page.on('console', (m) => onConsole(`[${m.type()}] ${m.text()}`));
        }
        await page.exposeFunction('codeAutomationExit', (c: number) => resolveExit(Number(c)));
      },
    });
    const timeoutMs = options.timeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    let pageError: unknown;
    const suiteExited = new AbortController();
    const beside = options.withPage?.(workbench.page, suiteExited.signal).catch((err: unknown) => (pageError = err));
    code = await Promise.race([
      exited.then(async (c) => {
        suiteExited.abort();
        await beside;
        return pageError === undefined ? c : c || 1;
      }),
      new Promise<number>((r) => {
        timer = setTimeout(() => r(124), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    suiteExited.abort();
    if (code !== 0) {
      const log = options.onFailureLog ?? ((t: string) => process.stderr.write(t));
      log(
        `\n[runExtensionTests] exit ${code}${code === 124 ? ` (no exit within ${timeoutMs} ms)` : ''}\n` +
          (pageError !== undefined ? `--- page driver ---\n${pageError instanceof Error ? (pageError.stack ?? pageError.message) : String(pageError)}\n` : '') +
          `--- code-server output ---\n${server.logs()}\n` +
          `--- browser console ---\n${workbench.consoleLines().join('\n')}\n` +
          // Extensions' output channels (exthost<N>/<publisher.name>/<channel>.log): what the
          // extension under test said, e.g. which MCP clients reached its gateway.
          Object.entries(server.logFiles())
            .filter(([file]) => /exthost\d*[\\/][^\\/]+[\\/][^\\/]+\.log$/.test(file))
            .map(([file, text]) => `--- ${file} ---\n${text.split('\n').slice(-60).join('\n')}\n`)
            .join(''),
      );
    }
  } finally {
    await workbench?.close();
    await server.stop();
  }
  return code;
}
