/**
 * The custom part of the contract between the extension host (language client) and the config
 * language server (extension/lsp/server.ts). Standard LSP needs no declaration; only what
 * Gatehouse adds is here, so both sides import the same names and shapes.
 *
 * Runtime-neutral on purpose (no vscode, no Node, no LSP library): plain method strings and
 * JSON shapes, so the server, the client and the unit tests all read one file.
 */
import type { CircuitState, DownstreamState, GatewaySnapshot } from './model';

/** The live state of one server, as far as a code lens needs it. */
export interface ServerLiveState {
  name: string;
  state: DownstreamState;
  /** Tools advertised while connected; null when unknown (not connected). */
  tools_count: number | null;
  circuit_state: CircuitState;
  /** One human line explaining the state (already redacted by the gateway); null when none. */
  reason: string | null;
}

/** Params of {@link DidChangeStateNotification}. */
export interface DidChangeStateParams {
  /**
   * Absolute file-system path of the config directory the running gateway serves. Lenses are
   * shown only on `registry.yaml` in that directory, so a second workspace folder's registry
   * never shows another gateway's state. Omitted: every registry the server handles.
   */
  configDir?: string;
  /** Every server the gateway knows, in registry order. An empty list clears the lenses. */
  servers: ServerLiveState[];
}

/**
 * Client → server notification: the gateway's live state changed (or the client just started
 * and sends the current snapshot). Always a complete list, never a delta, so a lost or
 * reordered notification heals with the next one. `servers: []` with no gateway running.
 */
export const DidChangeStateNotification = {
  method: 'gatehouse/didChangeState',
} as const;

/** Command a lens runs to respawn a server; the one argument is the server name. */
export const RESPAWN_SERVER_COMMAND = 'gatehouse.respawnServer';
/** Command a lens runs to show a server's output (stderr and log); the one argument is the server name. */
export const SHOW_SERVER_OUTPUT_COMMAND = 'gatehouse.showServerOutput';

/** The slice of a gateway snapshot the language server needs. */
export function toDidChangeStateParams(snapshot: Pick<GatewaySnapshot, 'downstreams'>, configDir?: string): DidChangeStateParams {
  const servers = snapshot.downstreams.map(
    (d): ServerLiveState => ({ name: d.name, state: d.state, tools_count: d.tools_count, circuit_state: d.circuit_state, reason: d.reason }),
  );
  return configDir === undefined ? { servers } : { configDir, servers };
}
