/**
 * The language server's diagnostics for one config file. Every rule the gateway enforces comes
 * from the gateway's own parser (`parseRegistry` / `parsePolicy`), so the editor and the gateway
 * cannot disagree about what is wrong; this file only converts their 1-based, end-exclusive
 * ranges to LSP's 0-based ones and adds the editor-only warnings of `editorWarnings.ts`.
 *
 * Synchronous and side-effect free: command lookups come from a cache the caller fills
 * (`pending` lists what was missing from it), so it can run on every keystroke.
 */
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation } from 'vscode-languageserver';
import type { HostEnv } from '../config/childEnv';
import { parsePolicy, parseRegistry } from '../config/loadConfig';
import { hasErrors, type ConfigProblem, type SourceRange } from '../config/problem';
import { rangeOf, parseYamlDocument, type YamlSource } from '../config/yamlDocument';
import type { CommandLookup, CommandQuery } from './commandResolver';
import type { ConfigKind } from './configKind';
import { blockedPathWarnings } from './blockedPathWarnings';
import { editorWarnings } from './editorWarnings';
import { toolGlobWarnings, type ToolListing } from './toolNames';

/** Shown as the diagnostic's source in the Problems panel. */
export const DIAGNOSTIC_SOURCE = 'gatehouse';

/** A diagnostic whose `code` is always the stable problem code (quick fixes key on it), with a plain-text message. */
export interface ConfigDiagnostic extends Diagnostic {
  code: string;
  message: string;
}

/** The document to validate. */
export interface ValidateInput {
  /** File-system path: anchors relative paths and decides `.rea/` compatibility warnings. */
  file: string;
  /** The document URI, for related information; defaults to a `file://` URI of `file`. */
  uri?: string;
  text: string;
  kind: ConfigKind;
}

/** What the environment-dependent warnings need. */
export interface ValidateOptions {
  /** The environment the gateway will see; names are checked, values never reported. */
  env: HostEnv;
  /** Cached command lookups (see CommandResolver.peek); without it, commands are not checked. */
  commands?: CommandLookup;
  platform?: NodeJS.Platform;
  /** The gateway's last listing per server, for the unmatched-pattern warning. */
  toolListing?: ToolListing;
}

/** Diagnostics in file order, and the command lookups that were not cached yet. */
export interface ValidationResult {
  diagnostics: ConfigDiagnostic[];
  pendingCommands: CommandQuery[];
}

/** See the module comment. */
export function validateConfig(input: ValidateInput, options: ValidateOptions): ValidationResult {
  const { file, text, kind } = input;
  const uri = input.uri ?? pathToFileURL(file).href;
  const problems = kind === 'registry' ? parseRegistry(text, file).problems : parsePolicy(text, file).problems;
  // A second parse for positions is cheap next to zod, and keeps the loader's API as it is.
  const source = parseYamlDocument(text, file);
  let pendingCommands: CommandQuery[] = [];
  const all = [...problems];
  if (kind === 'registry' && !hasErrors(source.problems)) {
    const extra = editorWarnings(source, options);
    all.push(...extra.problems);
    pendingCommands = extra.pending;
    if (options.toolListing) all.push(...toolGlobWarnings(source, options.toolListing));
  }
  if (kind === 'policy' && !hasErrors(source.problems)) {
    all.push(...blockedPathWarnings(source, { platform: options.platform, home: options.env.HOME ?? options.env.USERPROFILE }));
  }
  all.sort((a, b) => a.line - b.line || a.column - b.column || a.endLine - b.endLine || a.endColumn - b.endColumn);
  const diagnostics = all.map((p) => toDiagnostic(p, related(p, source, uri)));
  return { diagnostics, pendingCommands };
}

/** Converts a loader range (1-based, end exclusive) to an LSP range (0-based, end exclusive). */
export function toLspRange(range: SourceRange): Diagnostic['range'] {
  return {
    start: { line: range.line - 1, character: range.column - 1 },
    end: { line: range.endLine - 1, character: range.endColumn - 1 },
  };
}

/** One problem as an LSP diagnostic. */
export function toDiagnostic(problem: ConfigProblem, relatedInformation?: DiagnosticRelatedInformation[]): ConfigDiagnostic {
  const diagnostic: ConfigDiagnostic = {
    range: toLspRange(problem),
    severity: problem.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: problem.code,
    source: DIAGNOSTIC_SOURCE,
    message: problem.message,
  };
  if (relatedInformation?.length) diagnostic.relatedInformation = relatedInformation;
  return diagnostic;
}

/** For a duplicate name, a link to the first use, so the editor can jump there. */
function related(problem: ConfigProblem, source: YamlSource, uri: string): DiagnosticRelatedInformation[] | undefined {
  if (problem.code !== 'duplicate-server-name' || source.value === undefined) return undefined;
  const servers = (source.value as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(servers)) return undefined;
  const names = servers.map((s: unknown) => (typeof s === 'object' && s !== null ? (s as { name?: unknown }).name : undefined));
  const index = names.findIndex((name, i) => {
    if (typeof name !== 'string') return false;
    const at = rangeOf(source, ['servers', i, 'name']);
    return at.line === problem.line && at.column === problem.column;
  });
  const first = index === -1 ? -1 : names.indexOf(names[index]);
  if (first === -1 || first === index) return undefined;
  return [{ location: { uri, range: toLspRange(rangeOf(source, ['servers', first, 'name'])) }, message: `'${String(names[first])}' is first used here` }];
}
