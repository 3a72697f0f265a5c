import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { fixtureServer, tempDir } from './fixtures';

/** One registry entry as written to registry.yaml (the subset the process tests use). */
export interface ProjectServer {
  name: string;
  /** A fixture script under test/fixtures/servers, run with this Node. */
  fixture?: string;
  /** Or an explicit command line. */
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  enabled?: boolean;
  timeouts?: { connect_ms?: number; call_ms?: number };
}

/** A temp project folder with `.gatehouse/registry.yaml` (and `policy.yaml` when given). */
export interface Project {
  folder: string;
  configDir: string;
}

/**
 * Lays out a project folder as a user would: `.gatehouse/registry.yaml` naming the fixture
 * servers by absolute `process.execPath`, so no PATH lookup is involved, plus an optional
 * `policy.yaml` (an object rendered as YAML). `folder` defaults to a fresh temp directory.
 */
export function makeProject(servers: ProjectServer[], policy?: Record<string, unknown>, folder = tempDir('gatehouse-proj-')): Project {
  const configDir = path.join(folder, '.gatehouse');
  mkdirSync(configDir, { recursive: true });
  const registry = {
    version: '1',
    servers: servers.map((s) => ({
      name: s.name,
      command: s.command ?? process.execPath,
      args: s.args ?? (s.fixture ? [fixtureServer(s.fixture)] : []),
      ...(s.env ? { env: s.env } : {}),
      ...(s.enabled === false ? { enabled: false } : {}),
      ...(s.timeouts ? { timeouts: s.timeouts } : {}),
    })),
  };
  writeFileSync(path.join(configDir, 'registry.yaml'), stringify(registry));
  if (policy) writeFileSync(path.join(configDir, 'policy.yaml'), stringify(policy));
  return { folder, configDir };
}
