/**
 * What the webview keeps across hide/show through getState/setState: UI choices only (the
 * audit filter, expanded rows). Health data always comes fresh from the host.
 */
export interface UiState {
  filter: string;
  /** Names of the servers whose detail row is open. */
  expanded: string[];
}

export const defaultUiState: UiState = { filter: '', expanded: [] };

/** Reads a stored state defensively (it may come from an older version of the webview). */
export function readUiState(stored: unknown): UiState {
  if (typeof stored !== 'object' || stored === null) return { ...defaultUiState };
  const s = stored as Record<string, unknown>;
  return {
    filter: typeof s.filter === 'string' ? s.filter.slice(0, 200) : '',
    expanded: Array.isArray(s.expanded) ? s.expanded.filter((n): n is string => typeof n === 'string').slice(0, 200) : [],
  };
}
