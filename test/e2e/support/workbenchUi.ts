/** Gatehouse-specific selectors on top of the harness's generic ones. */
import type { Locator, Page } from 'playwright-core';
import { activityBarItem } from '../harness/browser';
import { waitUntil } from '../harness/wait';

/** The Gatehouse status-bar entry (created with id `gatehouse.status`). */
export function gatehouseStatus(page: Page): Locator {
  return page.locator('.statusbar-item[id$="gatehouse.status"]');
}

/** Text and background kind ('error' | 'warning' | 'none') of the Gatehouse status-bar entry. */
export async function statusState(page: Page): Promise<{ text: string; kind: 'error' | 'warning' | 'none' }> {
  const item = gatehouseStatus(page).first();
  const text = ((await item.innerText({ timeout: 2_000 })) ?? '').trim();
  const cls = (await item.getAttribute('class', { timeout: 2_000 })) ?? '';
  return { text, kind: cls.includes('error-kind') ? 'error' : cls.includes('warning-kind') ? 'warning' : 'none' };
}

/** The row of a server in the Gatehouse tree, by its exact label. */
export function serverRow(page: Page, name: string): Locator {
  return page
    .locator('.monaco-list-row[role=treeitem]')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${name}\\s*$`) }) });
}

/** The description part of a tree row (`ready · 6 tools · closed`). */
export async function rowDescription(row: Locator): Promise<string> {
  return ((await row.locator('.label-description').first().innerText({ timeout: 2_000 })) ?? '').trim();
}

/**
 * Opens the Gatehouse view container from the activity bar. Clicking the activity item toggles
 * the side bar, and after a window reload the workbench may still be restoring it: so click only
 * while the side bar does not show Gatehouse, and check again after each click.
 */
export async function openGatehouseView(page: Page): Promise<void> {
  const item = activityBarItem(page, 'Gatehouse');
  await item.waitFor({ state: 'visible', timeout: 90_000 });
  const shown = page.locator('.part.sidebar .composite.title').filter({ hasText: /gatehouse/i });
  await waitUntil(
    'the side bar to show Gatehouse',
    async () => {
      if (await shown.first().isVisible()) return true;
      await item.click();
      return shown.first().waitFor({ state: 'visible', timeout: 2_000 }).then(
        () => true,
        () => false,
      );
    },
    30_000,
    250,
  );
}
