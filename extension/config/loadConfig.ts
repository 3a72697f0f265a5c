/**
 * Reading `registry.yaml` and `policy.yaml` into validated objects plus positioned problems.
 *
 * `parseRegistry` / `parsePolicy` are synchronous and pure (text in, result out) so the language
 * server can run them on unsaved editor text on every keystroke; `loadRegistry` / `loadPolicy`
 * add the file reading. None of them throws for a bad config: errors come back as problems (a
 * result is returned only when there are no errors; warnings never block it). Callers that must
 * stop can throw `new ConfigError(problems)`.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigTextParser } from './configParser';
import { REA_DIR } from './configDir';
import { AUTONOMY_LEVELS, REA_REQUIRED_POLICY_FIELDS, gatehouseFileSchema, policySchema, type Policy } from './policySchema';
import { fileProblem, hasErrors, type ConfigProblem } from './problem';
import { registrySchema, type Registry } from './registrySchema';
import { rangeOf, parseYamlDocument, type YamlPath, type YamlSource } from './yamlDocument';
import { validateWithProblems } from './zodProblems';

/** File name of the server registry inside the config directory. */
export const REGISTRY_FILE = 'registry.yaml';
/** File name of the policy inside the config directory. */
export const POLICY_FILE = 'policy.yaml';
/** Gatehouse-only settings beside a policy.yaml rea also reads (see `gatehouseFileSchema`). */
export const GATEHOUSE_FILE = 'gatehouse.yaml';
/** The `gateway:` keys rea's strict policy schema accepts; every other one makes `rea status` fail. */
const REA_GATEWAY_KEYS: readonly string[] = ['health'];

/** Result of parsing or loading the registry. */
export interface RegistryResult {
  /** Present when there are no errors. */
  registry?: Registry;
  problems: ConfigProblem[];
}

/** Result of parsing or loading the policy. */
export interface PolicyResult {
  /** Present when there are no errors; `undefined` with no errors means "no policy: use defaults". */
  policy?: Policy;
  problems: ConfigProblem[];
}

/** Keys only Gatehouse understands; rea's strict schema refuses a registry that uses them. */
const GATEHOUSE_ONLY_SERVER_KEYS = ['url', 'headers', 'cwd', 'timeouts', 'keep_tools_when_down', 'tools'];
/** Keys that mean nothing for a remote (url) server. */
const STDIO_ONLY_SERVER_KEYS = ['args', 'env', 'env_passthrough', 'cwd'];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** True when `file` sits in a `.rea/` directory, whose files rea itself also reads. */
function inReaDir(file: string): boolean {
  return path.basename(path.dirname(file)) === REA_DIR;
}

function problem(source: YamlSource, at: YamlPath, severity: ConfigProblem['severity'], code: string, message: string, key = false): ConfigProblem {
  return { file: source.file, ...rangeOf(source, at, key ? { at: 'key' } : {}), severity, code, message };
}

function sorted(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Parses registry text. `file` labels problems and anchors relative `cwd:` paths when absolute. */
export function parseRegistry(text: string, file: string): RegistryResult {
  const tooLarge = checkConfigSize(text, file);
  if (tooLarge) return { problems: [tooLarge] };
  const source = parseYamlDocument(text, file);
  if (hasErrors(source.problems)) return { problems: source.problems };
  // An empty (or comment-only) file is a valid registry with no servers, as in rea.
  const raw = source.value === null ? { version: '1', servers: [] } : source.value;
  const problems = [...source.problems];
  const { data, problems: schemaProblems } = validateWithProblems(registrySchema, source, raw);
  problems.push(...schemaProblems, ...registryWarnings(source, raw, file));
  if (!data || hasErrors(problems)) return { problems: sorted(problems) };

  // The workspace folder is the parent of the config directory (DESIGN §6).
  if (path.isAbsolute(file)) {
    const workspace = path.dirname(path.dirname(file));
    for (const server of data.servers) if (server.cwd !== undefined) server.cwd = path.resolve(workspace, server.cwd);
  }
  return { registry: data, problems: sorted(problems) };
}

/** Warnings that do not make the registry unusable. */
function registryWarnings(source: YamlSource, raw: unknown, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!isRecord(raw)) return out;
  const rea = inReaDir(file);
  if (rea && raw.version === 1) {
    out.push(problem(source, ['version'], 'warning', 'rea-incompatible', 'rea rejects version: 1 (a number) in .rea/registry.yaml; write version: "1" so both gateways accept it'));
  }
  if (rea && 'profiles' in raw) {
    out.push(problem(source, ['profiles'], 'warning', 'rea-incompatible', "'profiles' is a Gatehouse extension that rea refuses; move the config to .gatehouse/ if rea also reads this file", true));
  }
  const servers = Array.isArray(raw.servers) ? raw.servers : [];
  servers.forEach((server: unknown, index) => {
    if (!isRecord(server)) return;
    if (typeof server.url === 'string' && typeof server.command !== 'string') {
      for (const key of STDIO_ONLY_SERVER_KEYS) {
        if (key in server) out.push(problem(source, ['servers', index, key], 'warning', 'ignored-for-remote', `'${key}' has no effect on a remote (url) server; remove it`, true));
      }
    }
    if (typeof server.command === 'string' && 'headers' in server) {
      out.push(problem(source, ['servers', index, 'headers'], 'warning', 'ignored-for-stdio', "'headers' only apply to remote (url) servers; use env: for a local server", true));
    }
    if (rea) {
      for (const key of GATEHOUSE_ONLY_SERVER_KEYS) {
        if (key in server) {
          out.push(
            problem(source, ['servers', index, key], 'warning', 'rea-incompatible', `'${key}' is a Gatehouse extension that rea refuses; move the config to .gatehouse/ if rea also reads this file`, true),
          );
        }
      }
    }
  });
  return out;
}

/** Parses policy text. An empty file behaves like a missing one (defaults), with a warning. */
export function parsePolicy(text: string, file: string): PolicyResult {
  const tooLarge = checkConfigSize(text, file);
  if (tooLarge) return { problems: [tooLarge] };
  const source = parseYamlDocument(text, file);
  if (hasErrors(source.problems)) return { problems: source.problems };
  const problems = [...source.problems];
  if (source.value === null) {
    problems.push(problem(source, [], 'warning', 'empty-policy', "policy.yaml is empty, so it is ignored and defaults apply; add at least 'autonomy_level: L1' or delete the file"));
    return { policy: undefined, problems: sorted(problems) };
  }
  const { data, problems: schemaProblems } = validateWithProblems(policySchema, source, source.value);
  problems.push(...schemaProblems);

  if (inReaDir(file) && isRecord(source.value)) {
    const gateway = source.value.gateway;
    if (isRecord(gateway)) {
      for (const key of Object.keys(gateway).filter((k) => !REA_GATEWAY_KEYS.includes(k))) {
        problems.push(
          problem(
            source,
            ['gateway', key],
            'warning',
            'rea-incompatible',
            `'gateway.${key}' is a Gatehouse setting that rea's strict policy schema refuses (\`rea status\` fails on this file); move the gateway: settings to .rea/${GATEHOUSE_FILE}, which Gatehouse reads and rea ignores`,
            true,
          ),
        );
      }
    }
    const absent = REA_REQUIRED_POLICY_FIELDS.filter((key) => !(key in (source.value as Record<string, unknown>)));
    if (absent.length > 0) {
      problems.push(
        problem(source, [], 'warning', 'rea-incompatible', `rea also reads .rea/policy.yaml and refuses it without ${absent.join(', ')}; add them, or move the config to .gatehouse/ if you no longer use rea`),
      );
    }
  }
  if (!data || hasErrors(problems)) return { problems: sorted(problems) };

  // rea clamps rather than rejects (SPEC §7.5); we do the same, but say so where the user looks.
  const max = data.max_autonomy_level;
  if (max !== undefined && AUTONOMY_LEVELS.indexOf(data.autonomy_level) > AUTONOMY_LEVELS.indexOf(max)) {
    problems.push(
      problem(
        source,
        ['autonomy_level'],
        'warning',
        'autonomy-clamped',
        `autonomy_level ${data.autonomy_level} is above max_autonomy_level ${max}, so ${max} is used; lower autonomy_level to ${max} or raise max_autonomy_level`,
      ),
    );
    data.autonomy_level = max;
  }
  return { policy: data, problems: sorted(problems) };
}

/**
 * Largest registry.yaml or policy.yaml read. A YAML parse with positions takes seconds per MiB
 * (measured: 1 MiB registry 5–9 s, 1 MiB policy 2–4 s on a loaded 2-core machine), and a 5 MB
 * file took 2.5 GB; a real config is a few KiB.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function sizeProblem(file: string, bytes: number): ConfigProblem {
  const mib = (n: number): string => `${Number((n / (1024 * 1024)).toFixed(2))} MiB`;
  return fileProblem(
    file,
    'file-too-large',
    `${path.basename(file)} is ${bytes} bytes (${mib(bytes)}), over the limit of ${MAX_CONFIG_BYTES} bytes (${mib(MAX_CONFIG_BYTES)}), so it is not parsed; a config is normally a few KiB`,
  );
}

/** The size problem of a config text, if it is over {@link MAX_CONFIG_BYTES}. */
export function checkConfigSize(text: string, file: string): ConfigProblem | undefined {
  // Cheap bound first: UTF-8 takes at least one byte per UTF-16 unit, at most three.
  if (text.length * 3 <= MAX_CONFIG_BYTES) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > MAX_CONFIG_BYTES ? sizeProblem(file, bytes) : undefined;
}

/**
 * Reads a file, turning "missing" into `undefined` and other failures into a problem. The size
 * is checked on the open handle before anything is read, so an oversized file costs nothing.
 */
async function read(file: string): Promise<{ text?: string; problem?: ConfigProblem }> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_CONFIG_BYTES) return { problem: sizeProblem(file, size) };
      const text = await handle.readFile('utf8');
      const grown = checkConfigSize(text, file);
      return grown ? { problem: grown } : { text };
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    const message = `cannot read ${path.basename(file)} (${code ?? (err as Error).message}); check that it is a readable file`;
    return { problem: fileProblem(file, 'file-unreadable', message) };
  }
}

/**
 * Parses through `parse` (e.g. a worker thread) when given, else on this thread. Only the type of
 * `ConfigTextParser` is imported: configParser.ts imports this file.
 */
async function parseWith<K extends keyof ParsedKinds>(parse: ConfigTextParser | undefined, kind: K, text: string, file: string): Promise<ParsedKinds[K]> {
  if (parse) return parse(kind, text, file);
  const result = kind === 'registry' ? parseRegistry(text, file) : kind === 'policy' ? parsePolicy(text, file) : parseGatehouseFile(text, file);
  return result as ParsedKinds[K];
}

interface ParsedKinds {
  registry: RegistryResult;
  policy: PolicyResult;
  gatehouse: ReturnType<typeof parseGatehouseFile>;
}

/** Reads and parses `<dir>/registry.yaml`; a missing file is an error (there is nothing to serve). */
export async function loadRegistry(dir: string, parse?: ConfigTextParser): Promise<RegistryResult & { file: string }> {
  const file = path.join(dir, REGISTRY_FILE);
  const { text, problem: readProblem } = await read(file);
  if (readProblem) return { file, problems: [readProblem] };
  if (text === undefined) {
    return {
      file,
      problems: [
        fileProblem(file, 'registry-not-found', `no ${REGISTRY_FILE} in ${dir}; create it with 'version: "1"' and a 'servers:' list (each server has a name and a command or url)`),
      ],
    };
  }
  return { file, ...(await parseWith(parse, 'registry', text, file)) };
}

/** Parses `gatehouse.yaml` text: only a `gateway:` block (the policy's tunables). */
export function parseGatehouseFile(text: string, file: string): { gateway?: Policy['gateway']; problems: ConfigProblem[] } {
  const tooLarge = checkConfigSize(text, file);
  if (tooLarge) return { problems: [tooLarge] };
  const source = parseYamlDocument(text, file);
  if (hasErrors(source.problems) || source.value === null) return { problems: source.problems };
  const { data, problems } = validateWithProblems(gatehouseFileSchema, source, source.value);
  const all = [...source.problems, ...problems];
  return hasErrors(all) || !data ? { problems: sorted(all) } : { gateway: data.gateway, problems: sorted(all) };
}

/**
 * Reads and parses `<dir>/policy.yaml`; a missing file is `{ policy: undefined, problems: [] }`
 * (defaults). `<dir>/gatehouse.yaml`, when present, adds its `gateway:` blocks, each replacing
 * the policy's block of the same name.
 */
export async function loadPolicy(dir: string, parse?: ConfigTextParser): Promise<PolicyResult & { file: string }> {
  const file = path.join(dir, POLICY_FILE);
  const extraFile = path.join(dir, GATEHOUSE_FILE);
  const [{ text, problem: readProblem }, extra] = await Promise.all([read(file), read(extraFile)]);
  if (readProblem) return { file, problems: [readProblem] };
  const parsedExtra: ParsedKinds['gatehouse'] = extra.problem
    ? { problems: [extra.problem] }
    : extra.text !== undefined
      ? await parseWith(parse, 'gatehouse', extra.text, extraFile)
      : { problems: [] };
  if (text === undefined) return { file, policy: undefined, problems: parsedExtra.problems };
  const result = await parseWith(parse, 'policy', text, file);
  const problems = [...result.problems, ...parsedExtra.problems];
  if (!result.policy || hasErrors(problems)) return { file, ...(hasErrors(problems) ? {} : { policy: result.policy }), problems };
  const gateway = parsedExtra.gateway ? { ...result.policy.gateway, ...parsedExtra.gateway } : result.policy.gateway;
  return { file, policy: gateway ? { ...result.policy, gateway } : result.policy, problems };
}
