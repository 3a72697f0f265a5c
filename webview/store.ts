import {
  PROTOCOL_VERSION,
  type DashboardDidPatch,
  type DashboardDidSnapshot,
  type DashboardState,
  type WebviewToHost,
} from '../extension/protocol/webview';
import { applyPatch } from './applyPatch';

/**
 * Where the webview is in the handshake:
 * - `waiting`: `webview/ready` sent, no snapshot yet;
 * - `live`: holding the host's state at `revision`, applying patches in order;
 * - `resyncing`: a patch did not fit (a gap), a snapshot was requested; patches are dropped;
 * - `incompatible`: the host speaks another protocol version (the panel must be reopened).
 */
export type Connection = 'waiting' | 'live' | 'resyncing' | 'incompatible';

/** Everything the webview knows about the host's data. UI state (filters) lives elsewhere. */
export interface ViewState {
  connection: Connection;
  /** Revision of `data`; -1 before the first snapshot. */
  revision: number;
  data: DashboardState | null;
  /** Host clock minus local clock at the last message (ms): host time = Date.now() + offset. */
  clockOffsetMs: number;
  /** Local time of the last request still unanswered (ready or getSnapshot); null when none. */
  awaitingSince: number | null;
  /** The host's protocol version, when it is not ours. */
  hostProtocolVersion: number | null;
}

/** A new state plus the messages to send to the host because of the transition. */
export interface Reduction {
  state: ViewState;
  send: WebviewToHost[];
}

/** How long an unanswered `webview/ready` or `dashboard/getSnapshot` waits before it is sent again. */
export const REQUEST_RETRY_MS = 2_000;

/** Stored data messages: the reducer's inputs besides time. */
export type DataMessage = DashboardDidSnapshot | DashboardDidPatch;

/** The state at load, and the `webview/ready` that starts the handshake. */
export function start(localNow: number): Reduction {
  return {
    state: { connection: 'waiting', revision: -1, data: null, clockOffsetMs: 0, awaitingSince: localNow, hostProtocolVersion: null },
    send: [{ type: 'webview/ready', protocolVersion: PROTOCOL_VERSION }],
  };
}

/** Applies one message from the host. Pure: the same inputs give the same outputs. */
export function reduce(state: ViewState, message: DataMessage, localNow: number): Reduction {
  switch (message.type) {
    case 'dashboard/didSnapshot':
      return onSnapshot(state, message, localNow);
    case 'dashboard/didPatch':
      return onPatch(state, message, localNow);
    default:
      return assertNever(message);
  }
}

/**
 * Time passing: re-sends a request the host did not answer (it may have been posted before the
 * host listened, e.g. while a restored panel was being revived).
 */
export function tick(state: ViewState, localNow: number): Reduction {
  if (state.awaitingSince === null || localNow - state.awaitingSince < REQUEST_RETRY_MS) return { state, send: [] };
  switch (state.connection) {
    case 'waiting':
      return { state: { ...state, awaitingSince: localNow }, send: [{ type: 'webview/ready', protocolVersion: PROTOCOL_VERSION }] };
    case 'resyncing':
      return { state: { ...state, awaitingSince: localNow }, send: [{ type: 'dashboard/getSnapshot', reason: 'retry' }] };
    case 'live':
    case 'incompatible':
      return { state: { ...state, awaitingSince: null }, send: [] };
    default:
      return assertNever(state.connection);
  }
}

/** The user asked for fresh data. */
export function refresh(state: ViewState, localNow: number): Reduction {
  if (state.connection === 'incompatible') return { state, send: [] };
  const connection: Connection = state.connection === 'waiting' ? 'waiting' : 'resyncing';
  return { state: { ...state, connection, awaitingSince: localNow }, send: [{ type: 'dashboard/getSnapshot', reason: 'user' }] };
}

/**
 * The user chose another gateway in the header. Until its snapshot arrives the page holds the
 * old gateway's data: patches still in flight for it are dropped (resyncing), and if the answer
 * is lost the request is retried as a plain `dashboard/getSnapshot` (the host kept the choice).
 */
export function select(state: ViewState, gateway: string, localNow: number): Reduction {
  if (state.connection === 'incompatible' || state.data?.picker.shown === gateway) return { state, send: [] };
  const connection: Connection = state.connection === 'waiting' ? 'waiting' : 'resyncing';
  return { state: { ...state, connection, awaitingSince: localNow }, send: [{ type: 'gateway/select', gateway }] };
}

function onSnapshot(state: ViewState, message: DashboardDidSnapshot, localNow: number): Reduction {
  if (message.protocolVersion !== PROTOCOL_VERSION) {
    return { state: { ...state, connection: 'incompatible', awaitingSince: null, hostProtocolVersion: message.protocolVersion }, send: [] };
  }
  return {
    state: {
      connection: 'live',
      revision: message.revision,
      data: message.state,
      clockOffsetMs: message.hostNow - localNow,
      awaitingSince: null,
      hostProtocolVersion: null,
    },
    send: [],
  };
}

function onPatch(state: ViewState, message: DashboardDidPatch, localNow: number): Reduction {
  switch (state.connection) {
    case 'waiting': // the answer to ready is a snapshot: nothing to patch yet
    case 'resyncing': // a snapshot is on its way and replaces everything
    case 'incompatible':
      return { state, send: [] };
    case 'live':
      break;
    default:
      return assertNever(state.connection);
  }
  // Already applied (a duplicate, or a patch overtaken by a newer snapshot): nothing to do.
  if (message.revision <= state.revision) return { state, send: [] };
  if (message.baseRevision !== state.revision || state.data === null) {
    return {
      state: { ...state, connection: 'resyncing', awaitingSince: localNow },
      send: [{ type: 'dashboard/getSnapshot', reason: 'gap' }],
    };
  }
  return {
    state: {
      ...state,
      revision: message.revision,
      data: applyPatch(state.data, message.patch),
      clockOffsetMs: message.hostNow - localNow,
    },
    send: [],
  };
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
