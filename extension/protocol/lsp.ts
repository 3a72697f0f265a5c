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
  /** The server's own tool names from its last listing (for completion in `tools:`); absent when unknown. */
  tools?: string[];
}

/** Params of {@link DidChangeStateNotification}: the state of one gateway (one workspace folder). */
export interface DidChangeStateParams {
  /**
   * Absolute file-system path of the config directory this gateway serves. Its lenses are shown
   * only on the `registry.yaml` in that directory, so in a multi-root workspace each folder's
   * registry shows its own gateway. Omitted: every registry without a gateway of its own.
   */
  configDir?: string;
  /**
   * Workspace folder name of this gateway. When set, lens commands get `<folder>:<server>` as
   * their argument (what the host's server commands accept) instead of the bare server name.
   */
  folder?: string;
  /** Every server the gateway knows, in registry order. An empty list clears its lenses. */
  servers: ServerLiveState[];
}

/**
 * Client → server notification: one gateway's live state changed (or the client just started,
 * or the server restarted, and the client resends what it last sent). Always a complete list per
 * gateway, never a delta, so a lost or reordered notification heals with the next one. A stopped
 * gateway is reported as `servers: []` for its configDir.
 */
export const DidChangeStateNotification = {
  method: 'gatehouse/didChangeState',
} as const;

/** Command a lens runs to respawn a server; the one argument is the server name (`<folder>:<server>` when the state named a folder). */
export const RESPAWN_SERVER_COMMAND = 'gatehouse.respawnServer';
/** Command a lens runs to show a server's output (stderr and log); the argument is as for {@link RESPAWN_SERVER_COMMAND}. */
export const SHOW_SERVER_OUTPUT_COMMAND = 'gatehouse.showServerOutput';

/** The slice of a gateway snapshot the language server needs; no snapshot (gateway stopped) clears. */
export function toDidChangeStateParams(
  snapshot: Pick<GatewaySnapshot, 'downstreams'> | undefined,
  where: { configDir?: string; folder?: string } = {},
): DidChangeStateParams {
  const servers = (snapshot?.downstreams ?? []).map(
    (d): ServerLiveState => ({
      name: d.name,
      state: d.state,
      tools_count: d.tools_count,
      circuit_state: d.circuit_state,
      reason: d.reason,
      ...(d.tool_names ? { tools: d.tool_names } : {}),
    }),
  );
  return { ...where, servers };
}
