import { readPersistedGateway, type PersistedDashboardState } from '../extension/protocol/webview';

/**
 * What the webview keeps across hide/show through getState/setState: UI choices only (the
 * audit filter, expanded rows, the chosen gateway). Health data always comes fresh from the host.
 */
export interface UiState extends PersistedDashboardState {
  filter: string;
  /** Names of the servers whose detail row is open. */
  expanded: string[];
  /**
   * The gateway chosen, as the host last reported it. The host holds the choice while the panel
   * lives; this copy is for the serializer, which hands it back to the host after a window reload.
   */
  gateway?: string;
}

export const defaultUiState: UiState = { filter: '', expanded: [] };

/** Reads a stored state defensively (it may come from an older version of the webview). */
export function readUiState(stored: unknown): UiState {
  if (typeof stored !== 'object' || stored === null) return { ...defaultUiState };
  const s = stored as Record<string, unknown>;
  const gateway = readPersistedGateway(stored);
  return {
    filter: typeof s.filter === 'string' ? s.filter.slice(0, 200) : '',
    expanded: Array.isArray(s.expanded) ? s.expanded.filter((n): n is string => typeof n === 'string').slice(0, 200) : [],
    ...(gateway !== undefined ? { gateway } : {}),
  };
}
