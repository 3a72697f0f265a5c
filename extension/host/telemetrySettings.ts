import * as vscode from 'vscode';
import type { TelemetrySettings } from '../telemetry/telemetrySources';
import { SETTINGS_SECTION } from './settings';

/** SecretStorage key of the OTLP headers (`key=value,…`) set by Gatehouse: Set Telemetry Headers. */
export const TELEMETRY_HEADERS_SECRET = 'gatehouse.telemetry.headers';
export const SET_TELEMETRY_HEADERS_COMMAND = 'gatehouse.setTelemetryHeaders';
/** The settings whose change restarts the gateways (telemetry is set up when a gateway starts). */
export const TELEMETRY_SECTION = `${SETTINGS_SECTION}.telemetry`;

/**
 * The `gatehouse.telemetry.*` settings plus the headers kept in SecretStorage. The settings are
 * machine-scoped in package.json, so a workspace cannot point the export elsewhere; the core
 * validates them (telemetrySources.ts) and the OTEL_* variables win over them.
 */
export async function readTelemetrySettings(secrets: vscode.SecretStorage): Promise<TelemetrySettings> {
  const c = vscode.workspace.getConfiguration(TELEMETRY_SECTION);
  const text = (key: string) => {
    const v = c.get<unknown>(key);
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const record = (key: string) => {
    const v = c.get<unknown>(key);
    if (!v || typeof v !== 'object') return undefined;
    const entries = Object.entries(v as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string');
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  };
  let secretHeaders: string | undefined;
  try {
    secretHeaders = (await secrets.get(TELEMETRY_HEADERS_SECRET)) || undefined;
  } catch {
    // No keyring (some Linux desktops): the export runs without these headers and says why at its start.
    secretHeaders = undefined;
  }
  // Only an explicit user (or remote) value counts: the default `true` must not override
  // `enabled: false` in policy.yaml. Workspace values are ignored, as for every machine setting.
  const enabled = c.inspect<boolean>('enabled')?.globalValue;
  return {
    enabled: typeof enabled === 'boolean' ? enabled : undefined,
    endpoint: text('endpoint'),
    protocol: text('protocol'),
    headers: record('headers'),
    secretHeaders,
    serviceName: text('serviceName'),
    resourceAttributes: record('resourceAttributes'),
  };
}

/**
 * Gatehouse: Set Telemetry Headers — asks for the collector's headers (API keys) and keeps them
 * in VS Code's SecretStorage, never in a settings file; an empty answer removes them. Storing
 * fires SecretStorage's change event, on which the gateway manager restarts the gateways.
 */
export function registerTelemetryHeadersCommand(secrets: vscode.SecretStorage): vscode.Disposable {
  return vscode.commands.registerCommand(SET_TELEMETRY_HEADERS_COMMAND, async () => {
    const value = await vscode.window.showInputBox({
      title: 'Gatehouse: OpenTelemetry export headers',
      prompt: 'key=value pairs separated by commas (values percent-encoded), e.g. x-honeycomb-team=abc123. Kept in VS Code SecretStorage; empty removes them.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (text) => (text.trim() === '' || text.split(',').every((part) => part.trim() === '' || /^[!#$%&'*+.^_`|~0-9A-Za-z-]+=/.test(part.trim())) ? undefined : 'Each entry must be key=value'),
    });
    if (value === undefined) return;
    if (value.trim() === '') await secrets.delete(TELEMETRY_HEADERS_SECRET);
    else await secrets.store(TELEMETRY_HEADERS_SECRET, value.trim());
    void vscode.window.showInformationMessage(value.trim() === '' ? 'Gatehouse: telemetry headers removed.' : 'Gatehouse: telemetry headers stored in SecretStorage; the gateways restart to use them.');
  });
}
