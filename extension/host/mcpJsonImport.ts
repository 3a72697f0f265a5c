/**
 * Converts the MCP server lists of other clients into registry.yaml entries (no vscode here:
 * pure data in, data out). Sources:
 * - `.vscode/mcp.json` (VS Code): `{ "servers": { name: { type?, command, args, env, envFile, cwd, url, headers } }, "inputs": [...] }`
 * - `.mcp.json` (Claude Code and others): `{ "mcpServers": { name: { type?, command, args, env, url, headers } } }`
 * Both may contain comments and trailing commas (VS Code parses its file as JSONC).
 */
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import { RESERVED_SERVER_NAMES, SERVER_NAME_PATTERN, suggestServerName } from '../config/registrySchema';

/** One server ready for registry.yaml (only the keys the registry knows). */
export interface ImportedServer {
  name: string;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  /** Where it came from, e.g. `.vscode/mcp.json: github`. */
  source: string;
  /** What the conversion changed or could not carry over. */
  notes: string[];
}

export interface SkippedServer {
  name: string;
  source: string;
  reason: string;
}

export interface ImportResult {
  servers: ImportedServer[];
  skipped: SkippedServer[];
}

/** Removes comments and trailing commas (outside strings), so JSON.parse reads JSONC. */
export function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '"') {
      const start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      out += text.slice(start, ++i);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

/**
 * Rewrites a VS Code / Claude variable reference into the registry's `${VAR}` form:
 * `${env:X}` → `${X}`; `${input:id}` → `${ID}` (the value must now come from the environment);
 * `${workspaceFolder}` → `.` (servers run with the workspace folder as their directory);
 * `${userHome}` → `${HOME}`.
 */
function rewrite(value: string, notes: Set<string>): string {
  return value.replace(/\$\{([^}]+)\}/g, (whole, inner: string) => {
    if (inner.startsWith('env:')) return `\${${inner.slice(4)}}`;
    if (inner.startsWith('input:')) {
      const name = inner.slice(6).replace(/[^A-Za-z0-9_]/g, '_').toUpperCase();
      notes.add(`\${${inner}} became \${${name}}: set ${name} in the environment VS Code starts with`);
      return `\${${name}}`;
    }
    if (inner === 'workspaceFolder' || inner === 'workspaceRoot') return '.';
    if (inner === 'userHome') return '${HOME}';
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) return whole;
    notes.add(`left ${whole} as is: Gatehouse only interpolates \${VAR} from the environment`);
    return whole;
  });
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number') ? value.map(String) : undefined;
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  return out;
}

/** Reads one file's text; `kind` picks the top-level key. */
export function convertMcpJson(text: string, source: string, kind: 'vscode' | 'mcpJson'): ImportResult {
  const result: ImportResult = { servers: [], skipped: [] };
  let data: unknown;
  try {
    data = JSON.parse(stripJsonc(text));
  } catch (err) {
    result.skipped.push({ name: '*', source, reason: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` });
    return result;
  }
  const list = (data as Record<string, unknown> | null)?.[kind === 'vscode' ? 'servers' : 'mcpServers'];
  if (typeof list !== 'object' || list === null) return result;
  for (const [rawName, raw] of Object.entries(list as Record<string, unknown>)) {
    const where = `${source}: ${rawName}`;
    if (typeof raw !== 'object' || raw === null) {
      result.skipped.push({ name: rawName, source, reason: 'not an object' });
      continue;
    }
    const entry = raw as Record<string, unknown>;
    const notes = new Set<string>();
    const type = typeof entry.type === 'string' ? entry.type : undefined;
    if (type === 'sse') {
      result.skipped.push({ name: rawName, source, reason: 'SSE servers are not supported (Gatehouse speaks Streamable HTTP to remote servers)' });
      continue;
    }
    const name = SERVER_NAME_PATTERN.test(rawName) && !RESERVED_SERVER_NAMES.includes(rawName) ? rawName : suggestServerName(rawName);
    if (name !== rawName) notes.add(`renamed from '${rawName}' (names are a-z, 0-9 and '-')`);
    const server: ImportedServer = { name, source: where, notes: [] };
    if (typeof entry.command === 'string' && entry.command.trim()) {
      server.command = rewrite(entry.command, notes);
      const args = strings(entry.args);
      if (args?.length) server.args = args.map((a) => rewrite(a, notes));
      const env = stringRecord(entry.env);
      if (env && Object.keys(env).length) server.env = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, rewrite(v, notes)]));
      if (typeof entry.cwd === 'string') {
        const cwd = rewrite(entry.cwd, notes);
        if (cwd !== '.') server.cwd = cwd.replace(/^\.\//, '');
      }
      if (typeof entry.envFile === 'string') notes.add(`envFile ${entry.envFile} was not imported: put its variables in env or the environment`);
    } else if (typeof entry.url === 'string') {
      server.url = rewrite(entry.url, notes);
      const headers = stringRecord(entry.headers);
      if (headers && Object.keys(headers).length) server.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, rewrite(v, notes)]));
    } else {
      result.skipped.push({ name: rawName, source, reason: 'neither a command nor a url' });
      continue;
    }
    // Literal secrets in a tracked file are a leak waiting to happen; point it out, don't guess.
    for (const [k, v] of Object.entries({ ...server.env, ...server.headers })) {
      if (/(TOKEN|KEY|SECRET|PASSWORD|AUTHORIZATION)/i.test(k) && !v.includes('${')) notes.add(`${k} holds a literal value: consider \${VAR} instead`);
    }
    server.notes = [...notes];
    result.servers.push(server);
  }
  return result;
}

/**
 * The registry text with `servers` appended (existing names win and the newcomer is skipped).
 * Keeps the existing file's comments and layout; starts a fresh file when there is none.
 */
export function mergeIntoRegistry(existing: string | undefined, imported: readonly ImportedServer[]): { text: string; added: ImportedServer[]; skipped: SkippedServer[] } {
  const doc = parseDocument(existing ?? '# Gatehouse registry: the MCP servers behind the gateway (rea-compatible).\nversion: "1"\nservers: []\n');
  if (doc.errors.length) throw new Error(`registry.yaml does not parse: ${doc.errors[0]?.message ?? ''}; fix it before importing`);
  if (!doc.has('version')) doc.set('version', '1');
  let servers = doc.get('servers');
  if (!isSeq(servers)) {
    servers = new YAMLSeq();
    doc.set('servers', servers);
  }
  const seq = servers as YAMLSeq;
  // A flow-style `servers: []` would put every import on one line.
  seq.flow = false;
  const names = new Set(seq.items.map((item) => (isMap(item) ? String(item.get('name')) : '')));
  const added: ImportedServer[] = [];
  const skipped: SkippedServer[] = [];
  for (const s of imported) {
    if (names.has(s.name)) {
      skipped.push({ name: s.name, source: s.source, reason: 'a server with this name is already in registry.yaml' });
      continue;
    }
    names.add(s.name);
    const { source, notes, ...entry } = s;
    const node = doc.createNode(entry);
    node.commentBefore = [` imported from ${source}`, ...notes.map((n) => ` note: ${n}`)].join('\n');
    seq.items.push(node);
    added.push(s);
  }
  return { text: doc.toString(), added, skipped };
}
