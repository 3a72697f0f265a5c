/**
 * Warnings the loader does not need but an editor should show, because they predict a server
 * that will not start although the file is valid:
 * - `env-unset`: a `${NAME}` whose variable is not set in the environment the gateway sees
 *   (the gateway refuses to spawn such a server). Only the NAME is ever reported, never a value.
 * - `command-not-found` / `command-not-executable`: `command` would fail with ENOENT/EACCES.
 *
 * Both are skipped for `enabled: false` entries: those are not started, and a shared registry
 * often disables exactly the servers whose tools are not installed on this machine.
 */
import path from 'node:path';
import type { HostEnv } from '../config/childEnv';
import { checkInterpolationSyntax, interpolate } from '../config/interpolate';
import type { ConfigProblem } from '../config/problem';
import { rangeOf, type YamlPath, type YamlSource } from '../config/yamlDocument';
import { BLOCKED_PATH_WARNING_CODES } from './blockedPathWarnings';
import { TOOL_NAME_WARNING_CODES } from './toolNames';
import type { CommandLookup, CommandQuery } from './commandResolver';

/** Codes of the problems the editor adds (here and in blockedPathWarnings.ts); the gateway never reports them. */
export const EDITOR_ONLY_CODES: readonly string[] = ['env-unset', 'command-not-found', 'command-not-executable', ...BLOCKED_PATH_WARNING_CODES, ...TOOL_NAME_WARNING_CODES];

/** Inputs of {@link editorWarnings}. */
export interface EditorWarningOptions {
  /** The environment the gateway will see (the extension host's, which the server inherits). */
  env: HostEnv;
  /** Cached command lookups; without it, commands are not checked. */
  commands?: CommandLookup;
  platform?: NodeJS.Platform;
}

/** The warnings, plus the command lookups that were not cached yet. */
export interface EditorWarnings {
  problems: ConfigProblem[];
  pending: CommandQuery[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `${NAME}` occurrences of a syntactically valid template, with their offsets. */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Registry warnings; `source` must be free of YAML errors (its `value` is read). */
export function editorWarnings(source: YamlSource, options: EditorWarningOptions): EditorWarnings {
  const out: EditorWarnings = { problems: [], pending: [] };
  const root = source.value;
  if (!isRecord(root) || !Array.isArray(root.servers)) return out;

  root.servers.forEach((server: unknown, index) => {
    if (!isRecord(server) || server.enabled === false) return;
    const name = typeof server.name === 'string' && server.name !== '' ? server.name : `servers[${index}]`;
    const local = typeof server.command === 'string';
    const remote = typeof server.url === 'string';
    const templates: [YamlPath, unknown][] = [];
    if (local || !remote) {
      if (Array.isArray(server.args)) server.args.forEach((arg, i) => templates.push([['servers', index, 'args', i], arg]));
      if (isRecord(server.env)) for (const [key, value] of Object.entries(server.env)) templates.push([['servers', index, 'env', key], value]);
    }
    if (remote) {
      templates.push([['servers', index, 'url'], server.url]);
      if (isRecord(server.headers)) for (const [key, value] of Object.entries(server.headers)) templates.push([['servers', index, 'headers', key], value]);
    }
    for (const [at, value] of templates) out.problems.push(...unsetVariables(source, at, value, name, options.env));

    if (local && path.isAbsolute(source.file)) checkCommand(source, server, index, name, options, out);
  });
  return out;
}

function unsetVariables(source: YamlSource, at: YamlPath, value: unknown, server: string, env: HostEnv): ConfigProblem[] {
  // A malformed template is already an error of the loader; do not pile a guess on top of it.
  if (typeof value !== 'string' || checkInterpolationSyntax(value) !== null) return [];
  const problems: ConfigProblem[] = [];
  for (const match of value.matchAll(PLACEHOLDER)) {
    const variable = match[1] as string;
    // Same lookup as the gateway's interpolation (own properties only, exact name).
    if (interpolate(match[0], env).missing.length === 0) continue;
    problems.push({
      file: source.file,
      ...rangeOf(source, at, { span: { offset: match.index, length: match[0].length } }),
      severity: 'warning',
      code: 'env-unset',
      message: `${variable} is not set in the environment the gateway sees, so '${server}' will not start; set ${variable} before starting VS Code (or the gateway), or remove the reference`,
    });
  }
  return problems;
}

function checkCommand(
  source: YamlSource,
  server: Record<string, unknown>,
  index: number,
  name: string,
  options: EditorWarningOptions,
  out: EditorWarnings,
): void {
  const command = server.command as string;
  const lookup = options.commands;
  if (!lookup || command.trim() === '') return;
  const windows = (options.platform ?? process.platform) === 'win32';
  const searchPath = childSearchPath(server, options.env, windows);
  if (searchPath === undefined) return;
  // The workspace folder is the parent of the config directory, as for the loader's cwd.
  const workspace = path.dirname(path.dirname(source.file));
  const cwd = typeof server.cwd === 'string' && server.cwd !== '' ? path.resolve(workspace, server.cwd) : workspace;
  const query: CommandQuery = { command, searchPath, cwd, ...(windows ? { pathExt: envLookup(options.env, true)('PATHEXT') } : {}) };
  const status = lookup(query);
  if (status === undefined) {
    out.pending.push(query);
    return;
  }
  if (status.found) return;
  const at: YamlPath = ['servers', index, 'command'];
  const pathLike = windows ? /[\\/]/.test(command) : command.includes('/');
  const message =
    status.reason === 'not-executable'
      ? `'${command}' exists but is not executable, so '${name}' cannot start; make it executable (chmod +x) or run it through its interpreter`
      : pathLike
        ? `'${command}' does not exist (relative to ${cwd}), so '${name}' cannot start; fix the path or use an absolute one`
        : `'${command}' was not found on the PATH the gateway uses, so '${name}' cannot start; install it or give its absolute path`;
  out.problems.push({
    file: source.file,
    ...rangeOf(source, at),
    severity: 'warning',
    code: status.reason === 'not-executable' ? 'command-not-executable' : 'command-not-found',
    message,
  });
}

/**
 * The PATH the child will search: the entry's own `env: { PATH: … }` when it sets one (it wins
 * over the inherited allowlist), else the gateway's. Undefined when it cannot be known yet
 * (an `env.PATH` that references an unset variable).
 */
function childSearchPath(server: Record<string, unknown>, env: HostEnv, windows: boolean): string | undefined {
  const own = isRecord(server.env) ? Object.entries(server.env).find(([key]) => (windows ? key.toUpperCase() === 'PATH' : key === 'PATH')) : undefined;
  if (own) {
    if (typeof own[1] !== 'string' || checkInterpolationSyntax(own[1]) !== null) return undefined;
    const result = interpolate(own[1], env);
    return result.missing.length === 0 ? result.value : undefined;
  }
  // With no PATH at all, execvp falls back to the C library's default search path.
  return envLookup(env, windows)('PATH') ?? (windows ? '' : '/usr/bin:/bin');
}

function envLookup(env: HostEnv, windows: boolean): (key: string) => string | undefined {
  if (!windows) return (key) => (Object.prototype.hasOwnProperty.call(env, key) ? env[key] : undefined);
  const upper = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(env)) if (!upper.has(key.toUpperCase())) upper.set(key.toUpperCase(), value);
  return (key) => upper.get(key.toUpperCase());
}
