/**
 * Which config file a document is. The language server handles exactly two files, and only
 * where the gateway reads them: `registry.yaml` / `policy.yaml` directly inside `.gatehouse/`
 * or `.rea/` (DESIGN §6). Any other YAML file is left to whatever else the user has installed.
 */

/** The two config files the language server understands. */
export type ConfigKind = 'registry' | 'policy';

/** Glob for the client's document selector; keep in step with {@link configKindOf}. */
export const CONFIG_FILE_GLOB = '**/{.gatehouse,.rea}/{registry,policy}.yaml';

const CONFIG_FILE = /(?:^|[\\/])\.(?:gatehouse|rea)[\\/](registry|policy)\.yaml$/;

/** `registry` / `policy` for a config file path (either separator), else undefined. */
export function configKindOf(file: string): ConfigKind | undefined {
  const match = CONFIG_FILE.exec(file);
  return match ? (match[1] as ConfigKind) : undefined;
}
