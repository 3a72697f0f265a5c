import path from 'node:path';
import * as vscode from 'vscode';
import type { GatewayManager } from '../gatewayManager';
import { notAvailable } from '../serverActions';
import { pickGateway } from './pickFolder';

/** Which client the copied configuration is for. */
export type ClientTarget = 'claude' | 'cursor' | 'mcpJson' | 'http';

export interface CopyClientConfigArgs {
  target?: ClientTarget;
  /** Folder name or path (multi-root). */
  folder?: string;
  /** A registry profile (its own endpoint); '' or absent: the default endpoint, every server. */
  profile?: string;
}

/**
 * Copies a ready-to-paste configuration for another MCP client to the clipboard and returns it.
 * Stdio clients get `gatehouse bridge`, which reads URL and token from the 0600, git-ignored
 * `gateway.json` at run time, so no token ever lands in a client config file that might be
 * committed. Only the explicit "HTTP" choice puts the token on the clipboard (it stops working
 * at the next gateway restart). Stdio entries start the bridge through the launcher kept in the
 * extension's global storage (platform/bridgeLauncher.ts), so they keep working after updates.
 */
export async function copyClientConfig(
  manager: GatewayManager,
  extensionPath: string,
  args: CopyClientConfigArgs = {},
  bridgeLauncher?: Promise<string>,
): Promise<string | undefined> {
  const gateway = await pickGateway(manager, args.folder, 'Copy the client configuration of which folder?');
  if (!gateway) {
    await notAvailable(manager);
    return undefined;
  }
  let target = args.target;
  if (!target) {
    const items: Array<vscode.QuickPickItem & { target: ClientTarget }> = [
      { label: 'Claude Code', description: 'claude mcp add … (stdio bridge)', target: 'claude' },
      { label: 'Cursor', description: '.cursor/mcp.json entry (stdio bridge)', target: 'cursor' },
      { label: '.mcp.json', description: 'project .mcp.json entry (stdio bridge)', target: 'mcpJson' },
      { label: 'HTTP URL and token', description: 'valid until the gateway restarts; never commit it', target: 'http' },
    ];
    target = (await vscode.window.showQuickPick(items, { placeHolder: 'Copy a Gatehouse configuration for which client?' }))?.target;
    if (!target) return undefined;
  }
  // Profiles are offered only when the registry has some; the default endpoint stays first.
  let profile = args.profile || undefined;
  const profiles = gateway.service?.profileNames ?? [];
  if (args.profile === undefined && profiles.length > 0) {
    const items: Array<vscode.QuickPickItem & { profile?: string }> = [
      { label: 'All servers', description: 'the default endpoint' },
      ...profiles.map((name) => ({ label: name, description: `profile: /mcp/${name}`, profile: name })),
    ];
    const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Which tools should this client see?' });
    if (!picked) return undefined;
    profile = picked.profile;
  }
  // The launcher in global storage survives extension updates; this version's dist/cli.js is
  // deleted by the next one. Only if the launcher could not be written, the direct path.
  const cli = (await bridgeLauncher?.catch(() => undefined)) ?? path.join(extensionPath, 'dist', 'cli.js');
  const folder = gateway.folder.uri.fsPath;
  const bridgeArgs = [cli, 'bridge', '--folder', folder, ...(profile ? ['--profile', profile] : [])];
  const entryName = profile ? `gatehouse-${profile}` : 'gatehouse';
  const stdioEntry = { [entryName]: { command: 'node', args: bridgeArgs } };
  let text: string;
  switch (target) {
    case 'claude':
      text = `claude mcp add --scope local ${entryName} -- node ${bridgeArgs.map(shellQuote).join(' ')}`;
      break;
    case 'cursor':
    case 'mcpJson':
      text = JSON.stringify({ mcpServers: stdioEntry }, null, 2);
      break;
    case 'http': {
      const endpoint = gateway.endpoint;
      if (!endpoint) {
        void vscode.window.showWarningMessage('Gatehouse: the gateway has no HTTP endpoint yet.');
        return undefined;
      }
      const url = profile ? `${endpoint.url}/${encodeURIComponent(profile)}` : endpoint.url;
      text = JSON.stringify({ mcpServers: { [entryName]: { type: 'http', url, headers: { Authorization: `Bearer ${endpoint.token}` } } } }, null, 2);
      break;
    }
  }
  try {
    await vscode.env.clipboard.writeText(text);
  } catch (err) {
    // A browser-hosted workbench may deny clipboard access: show the text to copy by hand.
    const doc = await vscode.workspace.openTextDocument({ language: target === 'claude' ? 'shellscript' : 'json', content: `${text}\n` });
    await vscode.window.showTextDocument(doc);
    void vscode.window.showWarningMessage(`Gatehouse: could not use the clipboard (${err instanceof Error ? err.message : String(err)}); the configuration is in this editor.`);
    return text;
  }
  const note =
    target === 'http'
      ? 'It holds the bearer token: paste it into a user-level config, never a tracked file. It stops working when the gateway restarts.'
      : 'It starts `gatehouse bridge`, which finds the running gateway through gateway.json; no token is in it. Needs `node` on PATH.';
  void vscode.window.showInformationMessage(`Gatehouse: configuration copied. ${note}`);
  return text;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
