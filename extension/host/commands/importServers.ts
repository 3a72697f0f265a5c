import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { resolveConfigDir } from '../../config/configDir';
import { REGISTRY_FILE } from '../../config/loadConfig';
import type { GatewayManager } from '../gatewayManager';
import { convertMcpJson, mergeIntoRegistry, type ImportedServer, type SkippedServer } from '../mcpJsonImport';
import { readSettings } from '../settings';
import type { PreviewDocuments } from '../previewDocuments';
import { pickFolder } from './pickFolder';

const SOURCES: ReadonlyArray<{ file: string; kind: 'vscode' | 'mcpJson' }> = [
  { file: '.vscode/mcp.json', kind: 'vscode' },
  { file: '.mcp.json', kind: 'mcpJson' },
];

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Import Servers: reads `.vscode/mcp.json` and `.mcp.json` of a folder, shows the resulting
 * registry.yaml as a diff against the current one, and writes it only after the user agrees.
 * The gateway then hot-reloads (or starts, when this created the config).
 */
export async function importServers(manager: GatewayManager, previews: PreviewDocuments, arg?: unknown): Promise<number> {
  const folder = await pickFolder(arg, 'Import MCP servers into which folder?');
  if (!folder) {
    void vscode.window.showInformationMessage('Gatehouse: open a folder first.');
    return 0;
  }
  const root = folder.uri.fsPath;
  const imported: ImportedServer[] = [];
  const skipped: SkippedServer[] = [];
  const found: string[] = [];
  for (const source of SOURCES) {
    const text = await readText(path.join(root, source.file));
    if (text === undefined) continue;
    found.push(source.file);
    const r = convertMcpJson(text, source.file, source.kind);
    imported.push(...r.servers);
    skipped.push(...r.skipped);
  }
  if (found.length === 0) {
    void vscode.window.showInformationMessage(`Gatehouse: neither .vscode/mcp.json nor .mcp.json exists in ${folder.name}.`);
    return 0;
  }
  const { dir } = await resolveConfigDir(root, readSettings().configDir || undefined);
  const registryFile = path.join(dir, REGISTRY_FILE);
  const current = await readText(registryFile);
  const merged = mergeIntoRegistry(current, imported);
  skipped.push(...merged.skipped);
  if (merged.added.length === 0) {
    const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
    void vscode.window.showInformationMessage(`Gatehouse: nothing new to import from ${found.join(' and ')}${why ? ` (${why})` : ''}.`);
    return 0;
  }

  const before = current === undefined ? previews.set('empty/registry.yaml', '') : vscode.Uri.file(registryFile);
  const after = previews.set(`proposed/${encodeURIComponent(folder.name)}/registry.yaml`, merged.text);
  await vscode.commands.executeCommand('vscode.diff', before, after, `registry.yaml ↔ with ${merged.added.length} imported servers`, { preview: true });
  const detail = [
    `Adds: ${merged.added.map((s) => s.name).join(', ')}`,
    skipped.length ? `Skips: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}` : '',
    'Imported servers start as soon as the file is written.',
  ]
    .filter(Boolean)
    .join('\n');
  const choice = await vscode.window.showInformationMessage(
    `Write ${merged.added.length} ${merged.added.length === 1 ? 'server' : 'servers'} to ${path.relative(root, registryFile)}?`,
    { modal: true, detail },
    'Write registry.yaml',
  );
  if (choice !== 'Write registry.yaml') return 0;
  // Re-read: the file may have changed while the dialog was open.
  if ((await readText(registryFile)) !== current) {
    void vscode.window.showWarningMessage('Gatehouse: registry.yaml changed meanwhile; run Import Servers again.');
    return 0;
  }
  await mkdir(dir, { recursive: true });
  await writeFile(registryFile, merged.text);
  const gateway = manager.gatewayFor(folder);
  if (gateway) await gateway.reload();
  else await manager.refresh();
  await vscode.window.showTextDocument(vscode.Uri.file(registryFile));
  return merged.added.length;
}
