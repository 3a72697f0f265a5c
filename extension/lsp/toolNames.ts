/**
 * What the editor knows about tool names, from the running gateway's last listing: completion of
 * a server's own tool names in `tools.include` / `tools.exclude`, of `server__tool` names in a
 * profile's `tools`, and a warning for a pattern that matches none of them.
 *
 * Where the names come from: the extension host already pushes each gateway's live state to the
 * language server (`gatehouse/didChangeState`, per config directory); every server's entry
 * carries `tools`, its own tool names from its last listing (hidden ones included, kept while it
 * is down). No listing (no gateway, or a server that never listed) means no completion and no
 * warning: an unknown name is not evidence of a typo.
 */
import { CompletionItemKind, type CompletionItem } from 'vscode-languageserver';
import { parseDocument } from 'yaml';
import type { ConfigProblem } from '../config/problem';
import { matchesToolGlob, toolGlobProblem } from '../config/toolGlob';
import { rangeOf, type YamlSource } from '../config/yamlDocument';
import type { CursorContext } from './cursorContext';

/** Each server's own tool names from its last listing; absent servers are unknown. */
export type ToolListing = ReadonlyMap<string, readonly string[]>;

/** Codes of the warnings made here (editor only: the gateway may not have listed yet). */
export const TOOL_NAME_WARNING_CODES: readonly string[] = ['tool-glob-unmatched'];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Exposed names `server__tool` of every listed server (optionally only `servers`). */
function exposedNames(listing: ToolListing, servers?: readonly string[]): string[] {
  return [...listing].filter(([server]) => !servers || servers.includes(server)).flatMap(([server, tools]) => tools.map((t) => `${server}__${t}`));
}

/**
 * Tool-name completions at `context`, or undefined when the cursor is not on a tool pattern.
 * A new block-sequence item (`- rea|`) parses as a key in a map inside the list, so both the
 * key and the value form of a list item are accepted.
 */
export function toolNameCompletions(text: string, context: CursorContext, listing: ToolListing): CompletionItem[] | undefined {
  const path = context.path;
  const item = context.at === 'value' ? path : context.existingKeys.length === 0 ? path : undefined;
  if (!item || typeof item[item.length - 1] !== 'number') return undefined;
  const root: unknown = parseDocument(text, { uniqueKeys: false }).toJS();
  if (!isRecord(root)) return undefined;
  let names: string[] | undefined;
  if (item.length === 5 && item[0] === 'servers' && typeof item[1] === 'number' && item[2] === 'tools' && (item[3] === 'include' || item[3] === 'exclude')) {
    const server = Array.isArray(root.servers) ? (root.servers[item[1]] as { name?: unknown } | undefined)?.name : undefined;
    names = typeof server === 'string' ? [...(listing.get(server) ?? [])] : undefined;
  } else if (item.length === 4 && item[0] === 'profiles' && item[2] === 'tools') {
    const profile = isRecord(root.profiles) ? root.profiles[String(item[1])] : undefined;
    const servers = isRecord(profile) && Array.isArray(profile.servers) ? profile.servers.filter((s): s is string => typeof s === 'string') : undefined;
    names = exposedNames(listing, servers);
  }
  if (!names) return undefined;
  return names.map((name, index) => ({
    label: name,
    kind: CompletionItemKind.Value,
    detail: 'tool from the last listing',
    sortText: String(index).padStart(4, '0'),
  }));
}

/** A warning for each valid pattern that matches no tool of a server whose listing is known. */
export function toolGlobWarnings(source: YamlSource, listing: ToolListing): ConfigProblem[] {
  const root = source.value;
  if (!isRecord(root) || listing.size === 0) return [];
  const out: ConfigProblem[] = [];
  const check = (at: (string | number)[], pattern: unknown, names: readonly string[], what: string): void => {
    if (typeof pattern !== 'string' || toolGlobProblem(pattern) !== undefined) return;
    if (names.some((n) => matchesToolGlob(n, pattern))) return;
    out.push({
      file: source.file,
      ...rangeOf(source, at),
      severity: 'warning',
      code: 'tool-glob-unmatched',
      message: `'${pattern}' matches no tool of ${what} in the gateway's last listing; check the spelling (tools: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`,
    });
  };
  if (Array.isArray(root.servers)) {
    root.servers.forEach((server: unknown, index) => {
      if (!isRecord(server) || typeof server.name !== 'string' || !isRecord(server.tools)) return;
      const names = listing.get(server.name);
      if (!names?.length) return;
      for (const key of ['include', 'exclude']) {
        const patterns = server.tools[key];
        if (Array.isArray(patterns)) patterns.forEach((p: unknown, i) => check(['servers', index, 'tools', key, i], p, names, `'${server.name}'`));
      }
    });
  }
  if (isRecord(root.profiles)) {
    for (const [name, profile] of Object.entries(root.profiles)) {
      if (!isRecord(profile) || !Array.isArray(profile.tools)) continue;
      const servers = Array.isArray(profile.servers) ? profile.servers.filter((s): s is string => typeof s === 'string') : undefined;
      // Only when every server the profile serves has listed: otherwise a match may be missing.
      const wanted = servers ?? (Array.isArray(root.servers) ? root.servers.map((s: unknown) => (isRecord(s) ? s.name : undefined)).filter((s): s is string => typeof s === 'string') : []);
      if (wanted.length === 0 || wanted.some((s) => !listing.get(s)?.length)) continue;
      const names = exposedNames(listing, wanted);
      profile.tools.forEach((p: unknown, i) => check(['profiles', name, 'tools', i], p, names, `profile '${name}'`));
    }
  }
  return out;
}
