/**
 * The config language server's behaviour, wired onto a connection it is given (so tests can
 * hand it any transport; `server.ts` is only the process entry). Documents are synced
 * incrementally; diagnostics are pushed after a short debounce; completion, hover, quick fixes
 * and code lenses are computed on demand from the current text.
 *
 * Only `registry.yaml` / `policy.yaml` in `.gatehouse/` or `.rea/` are handled; the client's
 * selector already says so, but a document that slips through is ignored here too.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  CompletionTriggerKind,
  TextDocumentSyncKind,
  TextDocuments,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { HostEnv } from '../config/childEnv';
import { DidChangeStateNotification, type DidChangeStateParams } from '../protocol/lsp';
import { GATEHOUSE_FILE } from '../config/loadConfig';
import { quickFixes } from './codeActions';
import { serverLenses } from './codeLenses';
import { CommandResolver } from './commandResolver';
import { completionsAt } from './completion';
import { configKindOf, type ConfigKind } from './configKind';
import { hoverAt } from './hover';
import type { ToolListing } from './toolNames';
import { moveGatewayKeysFix } from './moveGatewayKeys';
import { DIAGNOSTIC_SOURCE, validateConfig } from './validate';

/** Options of {@link listenConfigServer}; the defaults are what the real server uses. */
export interface ConfigServerOptions {
  /** The environment the gateway sees; the server inherits the extension host's. */
  env?: HostEnv;
  resolver?: CommandResolver;
  /** Delay after the last keystroke before validating. Default 150 ms. */
  debounceMs?: number;
}

/** Registers every handler on `connection`; the caller calls `connection.listen()`. */
export function listenConfigServer(connection: Connection, options: ConfigServerOptions = {}): void {
  const env = options.env ?? process.env;
  const resolver = options.resolver ?? new CommandResolver();
  const debounceMs = options.debounceMs ?? 150;
  const documents = new TextDocuments(TextDocument);
  const timers = new Map<string, NodeJS.Timeout>();
  /** Each gateway's last state, by resolved configDir ('' for a state without one). */
  const states = new Map<string, DidChangeStateParams>();
  let lensRefresh = false;

  const target = (uri: string): { document: TextDocument; file: string; kind: ConfigKind } | undefined => {
    const document = documents.get(uri);
    const file = fsPathOf(uri);
    const kind = file === undefined ? undefined : configKindOf(file);
    return document && file !== undefined && kind ? { document, file, kind } : undefined;
  };

  /** The last listing of the gateway serving `file`'s config directory (see toolNames.ts). */
  const listingFor = (file: string): ToolListing => {
    const state = states.get(path.resolve(path.dirname(file))) ?? states.get('');
    return new Map((state?.servers ?? []).filter((s) => Array.isArray(s.tools)).map((s) => [s.name, s.tools as string[]]));
  };

  const validate = async (uri: string): Promise<void> => {
    const t = target(uri);
    if (!t) return;
    const { document, file, kind } = t;
    const input = { file, uri, text: document.getText(), kind };
    const validateOptions = { env, commands: resolver.peek, toolListing: listingFor(file) };
    let result = validateConfig(input, validateOptions);
    if (result.pendingCommands.length > 0) {
      // One publish per version: wait for the PATH lookups rather than flash a partial list.
      await resolver.resolve(result.pendingCommands);
      if (documents.get(uri)?.version !== document.version) return;
      result = validateConfig(input, validateOptions);
    }
    await connection.sendDiagnostics({ uri, version: document.version, diagnostics: result.diagnostics });
  };

  const schedule = (uri: string): void => {
    clearTimeout(timers.get(uri));
    timers.set(
      uri,
      setTimeout(() => {
        timers.delete(uri);
        validate(uri).catch((err: unknown) => connection.console.error(`validating ${uri} failed: ${String(err)}`));
      }, debounceMs),
    );
  };

  connection.onInitialize((params): InitializeResult => {
    lensRefresh = params.capabilities.workspace?.codeLens?.refreshSupport === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        completionProvider: { triggerCharacters: [' '] },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'gatehouse-config' },
    };
  });

  documents.onDidChangeContent((e) => schedule(e.document.uri));
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onCompletion((params) => {
    const t = target(params.textDocument.uri);
    const byTrigger = params.context?.triggerKind === CompletionTriggerKind.TriggerCharacter;
    return t ? completionsAt(t.document, params.position, t.kind, byTrigger, listingFor(t.file)) : [];
  });

  connection.onHover((params) => {
    const t = target(params.textDocument.uri);
    return t ? hoverAt(t.document, params.position, t.kind, env) : null;
  });

  connection.onCodeAction(async (params) => {
    const t = target(params.textDocument.uri);
    if (!t) return [];
    const ours = params.context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE);
    if (t.kind !== 'policy') return quickFixes(t.document, t.kind, ours);
    const gatehouseFile = path.join(path.dirname(t.file), GATEHOUSE_FILE);
    const exists = await access(gatehouseFile).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
    );
    return moveGatewayKeysFix(t.document, ours, exists);
  });

  connection.onCodeLens((params) => {
    const t = target(params.textDocument.uri);
    if (!t || t.kind !== 'registry') return [];
    // Another folder's registry must not show this gateway's state.
    const state = states.get(path.resolve(path.dirname(t.file))) ?? states.get('');
    return state ? serverLenses(t.document, state.servers, state.folder) : [];
  });

  connection.onNotification(DidChangeStateNotification.method, (params: DidChangeStateParams) => {
    const servers = Array.isArray(params?.servers) ? params.servers : [];
    const key = typeof params?.configDir === 'string' ? path.resolve(params.configDir) : '';
    const toolsOf = (list: readonly { name: string; tools?: string[] }[] | undefined): string => JSON.stringify((list ?? []).map((s) => [s.name, s.tools]));
    const toolsChanged = toolsOf(states.get(key)?.servers) !== toolsOf(servers);
    if (servers.length === 0) states.delete(key);
    else states.set(key, { ...params, servers });
    if (lensRefresh) connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
    // A new listing can make a tool pattern match (or stop matching): re-check open registries.
    if (toolsChanged) for (const document of documents.all()) if (target(document.uri)?.kind === 'registry') schedule(document.uri);
  });

  connection.onShutdown(() => {
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
  });

  documents.listen(connection);
}

/** The file-system path of a document URI (`file:`), or the decoded path of another scheme. */
export function fsPathOf(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    return url.protocol === 'file:' ? fileURLToPath(url) : decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
}
