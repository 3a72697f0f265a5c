/**
 * Screenshots of the e2e runs: always under .test-runs/e2e/screenshots/ (git-ignored), and
 * copied to media/screenshots/ (for the README) when GATEHOUSE_UPDATE_SCREENSHOTS=1, so a
 * normal test run never dirties the working tree.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './gatehouseBuild';

export const ARTIFACTS = path.join(REPO_ROOT, '.test-runs', 'e2e');

export type ShotPart = 'workbench' | 'tree' | 'status-bar';

/** Saves `name-<part>.png` for each part: the window, the side bar, the status bar. */
export async function shoot(page: Page, name: string, parts: readonly ShotPart[] = ['workbench', 'tree', 'status-bar']): Promise<string[]> {
  const dir = path.join(ARTIFACTS, 'screenshots');
  mkdirSync(dir, { recursive: true });
  // Gatehouse's one-time "MCP: List Servers shows it as Stopped" hint is not part of the picture.
  const hint = page.locator('.notification-toast', { hasText: "VS Code's chat starts its MCP connection" });
  if (await hint.isVisible().catch(() => false)) {
    await hint.hover().catch(() => undefined);
    await hint.locator('.codicon-notifications-clear').first().click({ timeout: 2000 }).catch(() => undefined);
  }
  // No hover left over from the last click in the picture.
  await page.mouse.move(900, 300);
  const files: string[] = [];
  for (const part of parts) {
    const file = path.join(dir, `${name}-${part}.png`);
    if (part === 'workbench') await page.screenshot({ path: file });
    else await page.locator(part === 'tree' ? '.part.sidebar' : '.part.statusbar').screenshot({ path: file });
    files.push(file);
  }
  if (process.env.GATEHOUSE_UPDATE_SCREENSHOTS === '1') {
    const media = path.join(REPO_ROOT, 'media', 'screenshots');
    mkdirSync(media, { recursive: true });
    for (const f of files) copyFileSync(f, path.join(media, path.basename(f)));
  }
  return files;
}
