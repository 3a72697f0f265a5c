/**
 * Starts and owns the config language server (dist/lspServer.js) through vscode-languageclient:
 * diagnostics, completion, hover, quick fixes and live-state code lenses for
 * `.gatehouse/` / `.rea/` `registry.yaml` and `policy.yaml`.
 *
 * - The server is a separate Node process over IPC, so a slow parse or a crash never stalls the
 *   extension host or the gateway.
 * - Restart policy: restart after a crash, but not after the 4th crash in 3 minutes
 *   (`lsp/restartPolicy.ts`); the user is told once, instead of the server crash-looping.
 * - Live state for the code lenses is pushed with {@link ConfigLanguageClient.sendState}; the
 *   last state of each gateway is re-sent whenever the server (re)starts, since a restarted
 *   server remembers nothing.
 */
import type * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { systemClock, type Clock } from '../common/clock';
import { CONFIG_FILE_GLOB } from '../lsp/configKind';
import { RestartPolicy } from '../lsp/restartPolicy';
import { DidChangeStateNotification, type DidChangeStateParams } from '../protocol/lsp';

/** Options of {@link ConfigLanguageClient}. */
export interface ConfigLanguageClientOptions {
  /** Absolute path of the bundled server, e.g. `context.asAbsolutePath('dist/lspServer.js')`. */
  serverModule: string;
  /** Where the client logs; by default it creates its own "Gatehouse Config" channel. */
  outputChannel?: vscode.LogOutputChannel;
  /** Injected for tests of the restart policy; defaults to the real clock. */
  clock?: Clock;
}

/** Connection errors tolerated before the client shuts the connection down (vscode-yaml's figure). */
const MAX_CONNECTION_ERRORS = 3;

/** See the module comment. Construct, then `start()`; `dispose()` (or `stop()`) ends the server. */
export class ConfigLanguageClient implements vscode.Disposable {
  private readonly client: LanguageClient;
  private readonly restarts: RestartPolicy;
  /** Last state sent per gateway (by configDir), re-sent after every (re)start. */
  private readonly lastState = new Map<string, DidChangeStateParams>();
  private readonly stateSubscription: vscode.Disposable;
  private disposed = false;

  constructor(options: ConfigLanguageClientOptions) {
    this.restarts = new RestartPolicy(options.clock ?? systemClock);
    const module = options.serverModule;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      // `file` only: an untitled buffer has no config directory, so it is never a gateway config.
      documentSelector: [{ scheme: 'file', pattern: CONFIG_FILE_GLOB }],
      diagnosticCollectionName: 'gatehouse',
      ...(options.outputChannel ? { outputChannel: options.outputChannel } : {}),
      errorHandler: {
        error: (_error, _message, count): ErrorHandlerResult => ({
          action: (count ?? 0) <= MAX_CONNECTION_ERRORS ? ErrorAction.Continue : ErrorAction.Shutdown,
        }),
        closed: (): CloseHandlerResult => {
          const decision = this.restarts.closed();
          // `handled: true` on restart keeps the client from popping a notification each time.
          return decision.restart ? { action: CloseAction.Restart, handled: true } : { action: CloseAction.DoNotRestart, message: decision.message };
        },
      },
    };
    this.client = new LanguageClient('gatehouse.config', 'Gatehouse Config', serverOptions, clientOptions);
    this.stateSubscription = this.client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.resendState();
    });
  }

  /** Starts the server; resolves once it is initialized. A failure is logged by the client and rethrown. */
  async start(): Promise<void> {
    await this.client.start();
  }

  /**
   * Forwards one gateway's live state to the server for the code lenses (`servers: []` clears
   * it). Cheap to call on every change: an unchanged state is not sent again. Sent only while the
   * server runs, and remembered for the next (re)start.
   */
  sendState(params: DidChangeStateParams): void {
    const key = params.configDir ?? '';
    const previous = this.lastState.get(key);
    if (params.servers.length === 0) {
      if (!previous) return;
      this.lastState.delete(key);
    } else {
      if (previous && JSON.stringify(previous) === JSON.stringify(params)) return;
      this.lastState.set(key, params);
    }
    if (this.client.isRunning()) void this.client.sendNotification(DidChangeStateNotification.method, params).catch(() => undefined);
  }

  /**
   * Replaces the state of every gateway at once: each entry is sent as by {@link sendState}, and
   * a gateway that is no longer listed (its folder was removed or it stopped) has its lenses
   * cleared. Meant for a "gateways changed" event.
   */
  setGateways(gateways: readonly DidChangeStateParams[]): void {
    const listed = new Set(gateways.map((g) => g.configDir ?? ''));
    for (const [key, params] of [...this.lastState]) {
      if (!listed.has(key)) this.sendState({ ...params, servers: [] });
    }
    for (const params of gateways) this.sendState(params);
  }

  /** Stops the server process (awaitable, for `deactivate()`). */
  async stop(): Promise<void> {
    if (this.client.needsStop()) await this.client.stop();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stateSubscription.dispose();
    void this.stop().catch(() => undefined);
  }

  private resendState(): void {
    for (const params of this.lastState.values()) void this.client.sendNotification(DidChangeStateNotification.method, params).catch(() => undefined);
  }
}
