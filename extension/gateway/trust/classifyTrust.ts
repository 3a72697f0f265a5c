import { fingerprint } from '../../config/fingerprint';
import type { ServerConfig } from '../../config/registrySchema';

/** What TOFU says of one declared server (SPEC §10.4). */
export type TrustVerdict =
  | { name: string; kind: 'unchanged'; current: string }
  | { name: string; kind: 'first-seen'; current: string }
  | { name: string; kind: 'drifted'; current: string; stored: string };

/**
 * Classifies every declared server, enabled or not, against the stored fingerprints, with
 * rea's rename-with-removal heuristic: when in one pass some stored names vanished AND some new
 * names appeared, every new name counts as drifted (a rename must not launder a changed command
 * through "first seen").
 */
export function classifyTrust(servers: readonly ServerConfig[], stored: Readonly<Record<string, string>>): TrustVerdict[] {
  const declared = new Set(servers.map((s) => s.name));
  const vanished = Object.keys(stored).filter((name) => !declared.has(name));
  const hasNew = servers.some((s) => stored[s.name] === undefined);
  const renameSuspect = vanished.length > 0 && hasNew;
  return servers.map((server): TrustVerdict => {
    const current = fingerprint(server);
    const previous = stored[server.name];
    if (previous === undefined) {
      const firstVanished = vanished[0];
      if (renameSuspect && firstVanished !== undefined) {
        return { name: server.name, kind: 'drifted', current, stored: stored[firstVanished] ?? '' };
      }
      return { name: server.name, kind: 'first-seen', current };
    }
    return previous === current ? { name: server.name, kind: 'unchanged', current } : { name: server.name, kind: 'drifted', current, stored: previous };
  });
}
