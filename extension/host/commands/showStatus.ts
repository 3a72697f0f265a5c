import * as vscode from 'vscode';
import type { GatewayManager } from '../gatewayManager';

/** Everything Gatehouse knows, as plain JSON (the token is never included). */
export function statusReport(manager: GatewayManager): Record<string, unknown> {
  return {
    generated_at: new Date().toISOString(),
    workspace_trusted: vscode.workspace.isTrusted,
    view: manager.viewMode,
    gateways: manager.gateways().map((g) => ({
      folder: g.folder.uri.fsPath,
      config_dir: g.configDir,
      state: g.state,
      error: g.error ?? null,
      endpoint: g.endpoint ? { url: g.endpoint.url, port: g.endpoint.port, token: '<in gateway.json, mode 0600>' } : null,
      metrics_port: g.service?.metricsPort ?? null,
      halt: g.halt,
      policy: g.service?.currentPolicy ? { autonomy_level: g.service.currentPolicy.autonomy_level } : null,
      config: g.configStatus ?? null,
      snapshot: g.snapshot ?? null,
    })),
  };
}

/** Opens the status report in an untitled JSON editor; returns the report. */
export async function showStatus(manager: GatewayManager): Promise<Record<string, unknown>> {
  const report = statusReport(manager);
  const doc = await vscode.workspace.openTextDocument({ language: 'json', content: `${JSON.stringify(report, null, 2)}\n` });
  await vscode.window.showTextDocument(doc, { preview: false });
  return report;
}
