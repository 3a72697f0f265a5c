import * as vscode from 'vscode';

/** Which events raise a notification (setting `gatehouse.notifications`). */
export type NotificationLevel = 'all' | 'sessionBlockers' | 'off';

/** The extension's settings, read in one place so their names and defaults live here only. */
export interface GatehouseSettings {
  /** Override of the config dir ('' = `.gatehouse/`, falling back to `.rea/`). */
  configDir: string;
  httpPort: number;
  autoStart: boolean;
  notifications: NotificationLevel;
  /** 0 = no metrics endpoint. */
  metricsPort: number;
}

export const SETTINGS_SECTION = 'gatehouse';

/**
 * Reads the settings. `configDir`, `http.port`, `autoStart` and `metrics.port` are
 * machine-scoped in package.json, so VS Code itself ignores workspace values for them: a cloned
 * repository cannot redirect the config, pin a port or turn auto-start on.
 */
export function readSettings(): GatehouseSettings {
  const c = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const port = (key: string): number => {
    const v = c.get<number>(key, 0);
    return Number.isInteger(v) && v >= 0 && v <= 65535 ? v : 0;
  };
  const level = c.get<string>('notifications', 'all');
  return {
    configDir: (c.get<string>('configDir', '') ?? '').trim(),
    httpPort: port('http.port'),
    autoStart: c.get<boolean>('autoStart', true) !== false,
    notifications: level === 'off' || level === 'sessionBlockers' ? level : 'all',
    metricsPort: port('metrics.port'),
  };
}
