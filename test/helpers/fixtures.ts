import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import type { ServerConfig } from '../../extension/config/registrySchema';

/** Absolute path of the repository root. */
export const repoRoot = path.resolve(__dirname, '../..');

/** Absolute path of a fixture server script. */
export function fixtureServer(file: string): string {
  return path.join(repoRoot, 'test/fixtures/servers', file);
}

/** A registry entry that runs a fixture server with this Node. */
export function stdioServer(name: string, file: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name,
    command: process.execPath,
    args: [fixtureServer(file)],
    env: {},
    enabled: true,
    keep_tools_when_down: false,
    ...extra,
  } as ServerConfig;
}

/** A registry entry for a server package installed in node_modules. */
export function npmServer(name: string, bin: string, args: string[] = [], extra: Partial<ServerConfig> = {}): ServerConfig {
  return stdioServer(name, '', { command: process.execPath, args: [path.join(repoRoot, 'node_modules', bin), ...args], ...extra });
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'gatehouse-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
