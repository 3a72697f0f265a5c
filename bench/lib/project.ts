import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { benchRoot, repoRoot } from './env';

/** One registry entry, run with this Node. */
export interface BenchServer {
  name: string;
  /** A script path relative to the repo root, e.g. test/fixtures/servers/echo.mjs. */
  script: string;
  env?: Record<string, string>;
}

export interface BenchProject {
  folder: string;
  configDir: string;
}

/** The script of a test fixture server. */
export const fixture = (file: string): string => `test/fixtures/servers/${file}`;

/**
 * A temp project as a user lays it out (`.gatehouse/registry.yaml` + `policy.yaml`), under the
 * bench root so that every process started for it has its cwd there (the orphan check relies
 * on that). Servers run with `process.execPath`, so no PATH lookup is timed.
 */
export function makeProject(
  label: string,
  serversOf: BenchServer[] | ((folder: string) => BenchServer[]),
  policy: Record<string, unknown>,
): BenchProject {
  const folder = mkdtempSync(path.join(benchRoot(), `${label}-`));
  // A function when an entry needs the folder (e.g. a COUNT_FILE inside it).
  const servers = typeof serversOf === 'function' ? serversOf(folder) : serversOf;
  const configDir = path.join(folder, '.gatehouse');
  mkdirSync(configDir, { recursive: true });
  const registry = {
    version: '1',
    servers: servers.map((s) => ({
      name: s.name,
      command: process.execPath,
      args: [path.join(repoRoot, s.script)],
      ...(s.env ? { env: s.env } : {}),
    })),
  };
  writeFileSync(path.join(configDir, 'registry.yaml'), stringify(registry));
  writeFileSync(path.join(configDir, 'policy.yaml'), stringify(policy));
  return { folder, configDir };
}

/**
 * The policy every bench gateway runs with: the full chain at its defaults (audit, HALT probe,
 * tier, L1 policy, blocked paths, breaker, redaction, injection `block`), plus what the
 * measurement needs. `result_max_bytes` is raised so a 1 MiB result reaches the client whole
 * and is scanned whole (at the default 512 KiB the cap would cut it first, and the gateway would
 * return half of what the direct connection returns).
 */
export function benchPolicy(extra: { gateway?: Record<string, unknown>; [key: string]: unknown } = {}): Record<string, unknown> {
  const { gateway, ...rest } = extra;
  return {
    autonomy_level: 'L1',
    injection_detection: 'block',
    ...rest,
    gateway: { result_max_bytes: 4 * 1024 * 1024, ...(gateway ?? {}) },
  };
}
