/**
 * Accessibility of the webview dashboard in a real VS Code (code-server + Debian's Chromium):
 * axe-core (WCAG 2.1 A/AA + best practices) injected into the webview frame finds no critical
 * or serious violation in every built-in theme (light, dark, both high-contrast), at rest and
 * with the pointer over a row; at 700 px the main columns stay in view; the keyboard reaches
 * every action, Enter and Space activate it, and the focus stays on it afterwards (dialogs
 * included); tabbing backwards never leaves the focus under the sticky header. Takes the
 * screenshots in Light Modern and at 700 px (media/screenshots with GATEHOUSE_UPDATE_SCREENSHOTS=1).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Frame, FrameLocator, Locator, Page } from 'playwright-core';
import { CHROMIUM, chromiumAvailable, openWorkbench, runCommand, screenshot, webviewFrame, type Workbench } from './harness/browser';
import { ensureCodeServer, startCodeServer, type CodeServer } from './harness/codeServer';
import { waitUntil } from './harness/wait';
import { fixtureWorkspace, type FixtureWorkspace } from './support/fixtureWorkspace';
import { packageGatehouse, REPO_ROOT } from './support/gatehouseBuild';
import { connectGateway, readDiscovery } from './support/gatewayClient';
import { ARTIFACTS, shoot } from './support/screenshots';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;

/** Every built-in theme: label in the picker (= the webview's data-vscode-theme-name). */
const THEMES = ['Light Modern', 'Light+', 'Dark Modern', 'Dark+', 'Dark High Contrast', 'Light High Contrast'] as const;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
const AXE_SOURCE = readFileSync(path.join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

const row = (frame: FrameLocator, server: string): Locator => frame.locator(`tr.server-row[data-server="${server}"]`);

async function field(frame: FrameLocator, server: string, name: string): Promise<string | null> {
  return row(frame, server).locator(`[data-field="${name}"]`).textContent({ timeout: 500 }).catch(() => null);
}

/** The webview's inner document as a Frame (to evaluate scripts in it). */
async function contentFrame(frame: FrameLocator): Promise<Frame> {
  const body = await frame.locator('body').elementHandle({ timeout: 10_000 });
  const owner = await body.ownerFrame();
  assert.ok(owner, 'the webview content frame');
  return owner;
}

/** Runs axe in the webview (injected once per document) and returns the critical and serious violations. */
async function axe(frame: FrameLocator, rules?: string[]): Promise<Violation[]> {
  const body = frame.locator('body');
  if (!(await body.evaluate((b) => 'axe' in (b.ownerDocument.defaultView ?? {})))) await (await contentFrame(frame)).evaluate(AXE_SOURCE);
  const options = rules ? { runOnly: { type: 'rule', values: rules } } : { runOnly: { type: 'tag', values: AXE_TAGS } };
  const violations = await body.evaluate(async (b, opts) => {
    type Result = {
      violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }>;
      passes: Array<{ id: string; nodes: unknown[] }>;
    };
    const api = (b.ownerDocument.defaultView as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<Result> } }).axe;
    const result = await api.run(b.ownerDocument, opts);
    return {
      violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`) })),
      contrastChecked: result.passes.find((p) => p.id === 'color-contrast')?.nodes.length ?? 0,
    };
  }, options);
  // Not a vacuous pass: axe saw the page's text (dozens of elements in the tables alone).
  assert.ok(violations.contrastChecked >= 20, `axe checked the contrast of ${violations.contrastChecked} elements`);
  return violations.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');
}

/** Picks a colour theme through the palette and waits until the webview has it. */
async function setTheme(page: Page, frame: FrameLocator, label: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  const input = page.locator('.quick-input-widget input.input');
  await input.fill(label);
  const exact = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${label.replace('+', '\\+')}\\s*$`) }) });
  await exact.first().click({ timeout: 10_000 });
  await waitUntil(`the webview to take the ${label} theme`, async () => (await frame.locator('body').getAttribute('data-vscode-theme-name')) === label, 15_000, 100);
  // VS Code sends the colour variables with the theme name; one frame later they are applied.
  await frame.locator('body').evaluate((b) => new Promise<void>((resolve) => b.ownerDocument.defaultView?.requestAnimationFrame(() => resolve())));
}

/** What the webview's focused element is: `action:server`, an id, or a tag. */
async function focused(frame: FrameLocator): Promise<{ key: string; hasFocus: boolean; top: number; headerBottom: number }> {
  return frame.locator('body').evaluate((body) => {
    const document = body.ownerDocument;
    const el = document.activeElement as (typeof body) | null;
    const header = document.querySelector('header.header');
    const headerBottom = header ? header.getBoundingClientRect().bottom : 0;
    const top = el ? el.getBoundingClientRect().top : 0;
    let key = 'none';
    if (el && el !== document.body) {
      const server = el.closest('tr[data-server]')?.getAttribute('data-server');
      const action = el.getAttribute('data-action') ?? (el.classList.contains('toggle') ? 'toggle' : null);
      key = action ? `${action}${server ? `:${server}` : ''}` : el.id ? `#${el.id}` : el.getAttribute('aria-label') ? `[${el.getAttribute('aria-label')}]` : el.tagName.toLowerCase();
    } else if (el === document.body) key = 'body';
    return { key, hasFocus: document.hasFocus(), top, headerBottom };
  });
}

describe('dashboard accessibility', { timeout: 15 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  let client: Client | undefined;
  let frame: FrameLocator;
  let page: Page;

  before(async () => {
    if (skip) return;
    await ensureCodeServer();
    const vsix = await packageGatehouse();
    ws = fixtureWorkspace();
    server = await startCodeServer({ workspace: ws.dir, vsix, settings: { 'workbench.colorTheme': 'Default Light Modern' } });
    workbench = await openWorkbench(server.url, ws.dir, { viewport: { width: 1280, height: 800 } });
    page = workbench.page;
    await runCommand(page, 'Gatehouse: Open Dashboard', 90_000);
    frame = webviewFrame(page);
    await waitUntil(
      'echo and flaky to show as ready in the webview',
      async () => (await field(frame, 'echo', 'state')) === 'ready' && (await field(frame, 'flaky', 'state')) === 'ready',
      90_000,
      200,
    );
    await runCommand(page, 'View: Close Primary Side Bar');

    // Every kind of badge: allowed, error and denied calls of every tier; a server that gave
    // up (flaky crashes on its 4th call, and the fixture policy gives up after one crash) with
    // an open circuit and a last error.
    await waitUntil('the gateway discovery file', () => readDiscovery(ws!.configDir), 30_000, 200);
    client = await connectGateway(ws.configDir);
    for (let i = 0; i < 3; i++) await client.callTool({ name: 'echo__echo', arguments: { text: `hello ${i}` } });
    await client.callTool({ name: 'echo__write', arguments: { id: 'a' } });
    await client.callTool({ name: 'echo__fail', arguments: {} }).catch(() => undefined);
    await client.callTool({ name: 'echo__delete_everything', arguments: {} }).catch(() => undefined);
    for (let i = 0; i < 4; i++) await client.callTool({ name: 'flaky__echo', arguments: { text: 'x' } }).catch(() => undefined);
    await waitUntil('flaky to give up', async () => (await field(frame, 'flaky', 'state')) === 'gave up', 20_000, 100);
    for (let i = 0; i < 6; i++) await client.callTool({ name: 'flaky__echo', arguments: { text: 'anyone?' } }).catch(() => undefined);
    await waitUntil('the flaky circuit to open', async () => (await field(frame, 'flaky', 'circuit')) === 'open', 10_000, 100);
    await waitUntil('the audit list', async () => (await frame.locator('table.audit tbody tr[data-seq]').count()) >= 12, 10_000, 100);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await workbench?.close();
    await server?.stop();
    ws?.remove();
  });

  async function onFailure(t: TestContext, err: unknown): Promise<never> {
    if (workbench) {
      const shot = await screenshot(workbench.page, path.join(ARTIFACTS, `a11y-failure-${Date.now()}.png`)).catch(() => undefined);
      t.diagnostic(`screenshot: ${shot}`);
      t.diagnostic(`browser console:\n${workbench.consoleLines().slice(-40).join('\n')}`);
    }
    throw err;
  }

  test('axe finds no critical or serious violation in any built-in theme, at rest or on a hovered row', { skip, timeout: 6 * 60_000 }, async (t) => {
    try {
      const found: string[] = [];
      for (const theme of THEMES) {
        await setTheme(page, frame, theme);
        await page.mouse.move(5, 5);
        for (const v of await axe(frame)) found.push(`${theme}: ${v.id} (${v.impact}) ${v.help}\n    ${v.nodes.join('\n    ')}`);
        // The row-hover colour is a background too: every text on it must still reach 4.5:1.
        for (const server of ['echo', 'flaky']) {
          await row(frame, server).hover();
          for (const v of await axe(frame, ['color-contrast'])) found.push(`${theme}, ${server} row hovered: ${v.id} ${v.help}\n    ${v.nodes.join('\n    ')}`);
        }
        if (theme === 'Light Modern') await shoot(page, 'dashboard-light-modern', ['workbench']);
      }
      assert.deepEqual(found, [], found.join('\n'));
    } catch (err) {
      await onFailure(t, err);
    }
  });

  test('at 700 px the server, state, circuit and actions columns stay in view; the scroll region is labelled and focusable', { skip, timeout: 3 * 60_000 }, async (t) => {
    try {
      await setTheme(page, frame, 'Light Modern');
      await page.setViewportSize({ width: 700, height: 800 });
      const region = frame.locator('section[aria-labelledby="servers-heading"] .table-scroll');
      assert.equal(await region.getAttribute('role'), 'region');
      assert.match((await region.getAttribute('aria-label')) ?? '', /Servers/);
      assert.equal(await region.getAttribute('tabindex'), '0');
      await waitUntil('the table to be wider than the panel', async () => region.evaluate((el) => el.scrollWidth > el.clientWidth), 10_000, 100);
      const inView = async (): Promise<string[]> => {
        const box = await region.boundingBox();
        assert.ok(box);
        const out: string[] = [];
        for (const server of ['echo', 'flaky']) {
          for (const cell of ['th.server-name', '[data-field="state"]', '[data-field="circuit"]', 'td.col-actions']) {
            const b = await row(frame, server).locator(cell).boundingBox();
            if (!b || b.x < box.x - 1 || b.x + b.width > box.x + box.width + 1) out.push(`${server} ${cell}`);
          }
        }
        return out;
      };
      assert.deepEqual(await inView(), [], 'the main columns are in view');
      // Scrolled sideways from the keyboard, they stay.
      await region.focus();
      for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
      await waitUntil('the region to scroll', async () => region.evaluate((el) => el.scrollLeft > 0), 5_000, 100);
      assert.deepEqual(await inView(), [], 'the main columns are in view after scrolling');
      assert.match((await field(frame, 'flaky', 'lastError')) ?? '', /\S/);
      const clipped = await row(frame, 'flaky').locator('[data-field="lastError"]').evaluate((el) => el.scrollWidth > el.clientWidth + 1);
      assert.equal(clipped, false, 'the last error wraps instead of being cut');
      await region.evaluate((el) => {
        el.scrollTo({ left: 0 });
        el.blur();
      });
      await page.mouse.move(5, 5);
      await shoot(page, 'dashboard-700px', ['workbench']);
      const violations = await axe(frame);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
    } catch (err) {
      await onFailure(t, err);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  test('the keyboard reaches every action, Enter and Space activate it, and the focus stays on it', { skip, timeout: 5 * 60_000 }, async (t) => {
    try {
      // Into the page: focus the first control, then walk the whole tab order.
      await frame.locator('button[data-action="freeze"]').focus();
      const order: string[] = [(await focused(frame)).key];
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        const { key } = await focused(frame);
        if (key === order[0] || key === 'body' || key === 'none') break;
        order.push(key);
      }
      const expected = ['freeze', 'refresh', '[Servers table, scrolls sideways]'];
      for (const s of ['echo', 'flaky']) expected.push(`toggle:${s}`, `respawn:${s}`, `resetCircuit:${s}`, `showOutput:${s}`, `enabled:${s}`);
      expected.push('#audit-filter', '[Audit events table, scrolls sideways]');
      for (const key of expected) assert.ok(order.includes(key), `${key} is in the tab order: ${order.join(', ')}`);

      /** Tabs forward (or back) to `key`, as a keyboard user would. */
      const tabTo = async (key: string): Promise<void> => {
        for (let i = 0; i < 40 && (await focused(frame)).key !== key; i++) await page.keyboard.press('Tab');
        assert.equal((await focused(frame)).key, key, `reached ${key} with Tab`);
      };
      const status = frame.locator('p.status');
      /**
       * Tabs to `target`, presses `key` on it, answers its dialog if any, waits for `done`, then
       * checks the same button (named `after` once its action flipped, e.g. Unfreeze) still has
       * the focus, with the webview focused.
       */
      const activate = async (
        target: string,
        key: 'Enter' | 'Space',
        done: () => Promise<boolean>,
        options: { dialog?: () => Promise<void>; after?: string } = {},
      ): Promise<void> => {
        await tabTo(target);
        await page.keyboard.press(key);
        if (options.dialog) await options.dialog();
        await waitUntil(`${target} (${key}) to take effect`, done, 20_000, 100);
        const want = options.after ?? target;
        await waitUntil(`the focus to be back on ${want}`, async () => {
          const f = await focused(frame);
          return f.key === want && f.hasFocus;
        }, 5_000, 100).catch(async (err: unknown) => {
          throw new Error(`after ${target} (${key}) the focus is on ${JSON.stringify(await focused(frame))}`, { cause: err });
        });
      };
      const notBusy = (target: Locator) => async () => (await target.getAttribute('aria-busy')) === null;
      const said = (re: RegExp) => async () => re.test((await status.textContent()) ?? '');

      const freeze = frame.locator('button[data-action="freeze"], button[data-action="unfreeze"]');
      const quickInput = page.locator('.quick-input-widget input.input');
      await activate('freeze', 'Enter', said(/Frozen/), {
        after: 'unfreeze',
        dialog: async () => {
          await quickInput.waitFor({ state: 'visible', timeout: 10_000 });
          await page.keyboard.press('Enter');
        },
      });
      assert.equal(await frame.locator('.halt-banner').isVisible(), true);
      await activate('unfreeze', 'Space', said(/Unfrozen/), { after: 'freeze' });
      assert.equal(await freeze.textContent(), 'Freeze (HALT)');
      await activate('refresh', 'Enter', notBusy(frame.locator('button[data-action="refresh"]')));
      await activate('refresh', 'Space', notBusy(frame.locator('button[data-action="refresh"]')));

      const echoToggle = row(frame, 'echo').locator('button.toggle');
      await activate('toggle:echo', 'Enter', async () => (await echoToggle.getAttribute('aria-expanded')) === 'true');
      await activate('toggle:echo', 'Space', async () => (await echoToggle.getAttribute('aria-expanded')) === 'false');
      await activate('respawn:echo', 'Enter', said(/Respawning echo/));
      await waitUntil('echo to be ready again', async () => (await field(frame, 'echo', 'state')) === 'ready', 30_000, 100);
      await status.evaluate((el) => (el.textContent = ''));
      await activate('respawn:echo', 'Space', said(/Respawning echo/));
      // Reset is unavailable while the circuit is closed: focusable, announced, and inert.
      const echoReset = row(frame, 'echo').locator('button[data-action="resetCircuit"]');
      assert.equal(await echoReset.getAttribute('aria-disabled'), 'true');
      await activate('resetCircuit:echo', 'Enter', notBusy(echoReset));
      const echoOutput = row(frame, 'echo').locator('button[data-action="showOutput"]');
      await activate('showOutput:echo', 'Enter', notBusy(echoOutput));
      await activate('showOutput:echo', 'Space', notBusy(echoOutput));

      // flaky's circuit is open: Reset closes it, then turns unavailable under the focus.
      const flakyReset = row(frame, 'flaky').locator('button[data-action="resetCircuit"]');
      assert.equal(await flakyReset.getAttribute('aria-disabled'), null);
      await activate('resetCircuit:flaky', 'Space', said(/Circuit of flaky reset/));
      await waitUntil('flaky Reset to turn unavailable', async () => (await flakyReset.getAttribute('aria-disabled')) === 'true', 10_000, 100);
      assert.equal((await focused(frame)).key, 'resetCircuit:flaky');
      await activate('respawn:flaky', 'Enter', said(/Respawning flaky/));
      await waitUntil('flaky to be ready again', async () => (await field(frame, 'flaky', 'state')) === 'ready', 30_000, 100);

      // Disable asks first (a modal dialog): the focus comes back to the button after it.
      const flakyEnabled = row(frame, 'flaky').locator('button[data-action="enabled"]');
      await activate('enabled:flaky', 'Space', said(/flaky disabled/), {
        dialog: async () => {
          const dialog = page.locator('.monaco-dialog-box');
          await dialog.waitFor({ state: 'visible', timeout: 10_000 });
          await dialog.locator('.dialog-buttons .monaco-button', { hasText: 'Disable' }).first().press('Enter');
        },
      });
      await waitUntil('the button to offer Enable', async () => (await flakyEnabled.textContent()) === 'Enable', 10_000, 100);
      await activate('enabled:flaky', 'Enter', said(/flaky enabled/));
      await waitUntil('flaky to come back', async () => (await field(frame, 'flaky', 'state')) === 'ready', 30_000, 100);

      // Backwards through the page in an 800 px window: no focused control under the sticky header.
      const auditRegion = frame.locator('section[aria-labelledby="audit-heading"] .table-scroll');
      await auditRegion.focus();
      const scrolled = await frame.locator('body').evaluate((b) => {
        const win = b.ownerDocument.defaultView!;
        win.scrollTo(0, b.ownerDocument.documentElement.scrollHeight);
        return win.scrollY;
      });
      assert.ok(scrolled > 0, 'the page scrolls in an 800 px window');
      const covered: string[] = [];
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press('Shift+Tab');
        const f = await focused(frame);
        if (f.key === 'refresh' || f.key === 'freeze' || f.key === 'body') break;
        if (f.top < f.headerBottom) covered.push(`${f.key} at ${f.top} under the header ending at ${f.headerBottom}`);
      }
      assert.deepEqual(covered, []);
    } catch (err) {
      await onFailure(t, err);
    }
  });
});
