import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { resolveConfigDir } from '../../config/configDir';
import { POLICY_FILE, REGISTRY_FILE } from '../../config/loadConfig';
import type { GatewayManager } from '../gatewayManager';
import { readSettings } from '../settings';
import { pickFolder } from './pickFolder';

const REGISTRY_TEMPLATE = `# Gatehouse registry: the MCP servers behind the gateway (rea-compatible format).
# Each server has a name and either a command (a local stdio server, started without a shell)
# or a url (a remote Streamable HTTP server). Values may use \${VAR} from the environment.
# Saving this file hot-reloads the gateway: changed servers restart, the others keep running.
version: "1"
servers: []
#  - name: memory
#    command: npx
#    args: ["-y", "@modelcontextprotocol/server-memory"]
#  - name: docs
#    url: "https://example.com/mcp"
#    headers:
#      Authorization: "Bearer \${DOCS_TOKEN}"
`;

const POLICY_TEMPLATE = `# Gatehouse policy (rea-compatible). L0 read-only · L1/L2 read and write · L3 also destructive.
autonomy_level: L1
`;

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Writes a starter registry.yaml (+ policy.yaml) into the folder's config dir and opens it. */
export async function createConfig(manager: GatewayManager, arg?: unknown): Promise<vscode.Uri | undefined> {
  const folder = await pickFolder(arg, 'Create the Gatehouse config in which folder?');
  if (!folder) {
    void vscode.window.showInformationMessage('Gatehouse: open a folder first.');
    return undefined;
  }
  const { dir } = await resolveConfigDir(folder.uri.fsPath, readSettings().configDir || undefined);
  const registry = path.join(dir, REGISTRY_FILE);
  if (!(await exists(registry))) {
    await mkdir(dir, { recursive: true });
    await writeFile(registry, REGISTRY_TEMPLATE, { flag: 'wx' });
    const policy = path.join(dir, POLICY_FILE);
    if (!(await exists(policy))) await writeFile(policy, POLICY_TEMPLATE, { flag: 'wx' });
  }
  const uri = vscode.Uri.file(registry);
  await vscode.window.showTextDocument(uri);
  await manager.refresh();
  return uri;
}
