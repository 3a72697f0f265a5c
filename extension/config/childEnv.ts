/**
 * What a downstream server gets from the host: an allowlist, never the whole environment, so a
 * server cannot read the editor's tokens (SPEC §2.9). Layers, later wins:
 * 1. the allowlist below, copied when the host value is a string;
 * 2. the entry's `env_passthrough` names (secret-looking ones were refused by the schema);
 * 3. the entry's `env:` map, interpolated — typed deliberately by the operator, so it wins.
 *
 * Unlike rea, NODE_OPTIONS is not on the allowlist: it can `--require` arbitrary code into every
 * Node-based server (SPEC §13 item 21). A server that needs it lists it in env_passthrough.
 */
import type { ServerConfig } from './registrySchema';
import { interpolate, referencedNames, SECRET_NAME_PATTERN } from './interpolate';

/** Copied from the host on every platform. Includes the SDK's POSIX defaults (SHELL, TERM). */
export const CHILD_ENV_ALLOWLIST: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'NODE_ENV',
  'NODE_EXTRA_CA_CERTS',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SHELL',
  'TERM',
];

/** Added on Windows: what the MCP SDK's stdio transport inherits there, without which many tools fail. */
export const CHILD_ENV_ALLOWLIST_WINDOWS: readonly string[] = [
  'APPDATA',
  'HOMEDRIVE',
  'HOMEPATH',
  'LOCALAPPDATA',
  'PROCESSOR_ARCHITECTURE',
  'SYSTEMDRIVE',
  'SYSTEMROOT',
  'USERNAME',
  'USERPROFILE',
  'PROGRAMFILES',
  // How a bare `npx` resolves to `npx.cmd` (platform/resolveCommand.ts), and how cmd.exe resolves names inside it.
  'PATHEXT',
];

/** The host environment as given (usually `process.env`). */
export type HostEnv = Readonly<Record<string, string | undefined>>;

/** Options of {@link buildChildEnv}; the platform is a seam for tests. */
export interface ChildEnvOptions {
  platform?: NodeJS.Platform;
}

/** Result of {@link buildChildEnv}. */
export interface ChildEnv {
  /** The complete environment for the child; every value is a real string. */
  env: Record<string, string>;
  /** Variables referenced by `env:` values but unset on the host; the caller must not spawn. */
  missing: string[];
  /** Keys whose value must never be logged: secret-looking names, or values built from such variables. */
  secretKeys: string[];
}

/** Looks a name up; case-insensitively on Windows, where `Path` and `PATH` are the same variable. */
function lookup(hostEnv: HostEnv, windows: boolean): (name: string) => string | undefined {
  if (!windows) return (name) => (Object.prototype.hasOwnProperty.call(hostEnv, name) ? hostEnv[name] : undefined);
  const upper = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(hostEnv)) if (!upper.has(key.toUpperCase())) upper.set(key.toUpperCase(), value);
  return (name) => upper.get(name.toUpperCase());
}

/**
 * Builds the environment for a stdio server.
 * @throws {InterpolationError} only if `server` did not come through the registry schema, which
 *   rejects `${…}` syntax errors at load time.
 */
export function buildChildEnv(server: ServerConfig, hostEnv: HostEnv, options: ChildEnvOptions = {}): ChildEnv {
  const windows = (options.platform ?? process.platform) === 'win32';
  const get = lookup(hostEnv, windows);
  const env: Record<string, string> = {};

  for (const name of windows ? [...CHILD_ENV_ALLOWLIST, ...CHILD_ENV_ALLOWLIST_WINDOWS] : CHILD_ENV_ALLOWLIST) {
    const value = get(name);
    // `()…` values are exported shell functions (Shellshock-style); the SDK skips them too.
    if (typeof value === 'string' && !value.startsWith('()')) env[name] = value;
  }

  for (const name of server.env_passthrough ?? []) {
    const value = get(name);
    if (typeof value === 'string') env[name] = value;
  }

  const missing: string[] = [];
  const secretKeys: string[] = [];
  for (const [key, template] of Object.entries(server.env ?? {})) {
    const result = interpolate(template, hostEnv);
    env[key] = result.value;
    for (const name of result.missing) if (!missing.includes(name)) missing.push(name);
    if (SECRET_NAME_PATTERN.test(key) || referencedNames(template).some((n) => SECRET_NAME_PATTERN.test(n))) secretKeys.push(key);
  }
  return { env, missing, secretKeys };
}

/** Interpolates a remote server's `headers:` (e.g. `Authorization: "Bearer ${API_TOKEN}"`). */
export function resolveHeaders(server: ServerConfig, hostEnv: HostEnv): { headers: Record<string, string>; missing: string[] } {
  const headers: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, template] of Object.entries(server.headers ?? {})) {
    const result = interpolate(template, hostEnv);
    headers[key] = result.value;
    for (const name of result.missing) if (!missing.includes(name)) missing.push(name);
  }
  return { headers, missing };
}

/** Interpolates a stdio server's `args:`; same rules as env values. */
export function resolveArgs(server: ServerConfig, hostEnv: HostEnv): { args: string[]; missing: string[] } {
  const missing: string[] = [];
  const args = (server.args ?? []).map((arg) => {
    const result = interpolate(arg, hostEnv);
    for (const name of result.missing) if (!missing.includes(name)) missing.push(name);
    return result.value;
  });
  return { args, missing };
}

/** Interpolates a remote server's `url:`; the caller still checks the result parses as an http(s) URL. */
export function resolveUrl(server: ServerConfig, hostEnv: HostEnv): { url: string | undefined; missing: string[] } {
  if (server.url === undefined) return { url: undefined, missing: [] };
  const result = interpolate(server.url, hostEnv);
  return { url: result.value, missing: result.missing };
}
