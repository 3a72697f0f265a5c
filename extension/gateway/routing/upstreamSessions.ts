import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  ListRootsResultSchema,
  LoggingLevelSchema,
  McpError,
  type ClientCapabilities,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../common/logger';
import type { UpstreamBridge } from '../../pool/types';

/** One upstream client connection (one SDK `Server`), as the router sees it. */
export interface UpstreamSession {
  readonly server: Server;
  /** Monotonic sequence of its last request (higher is more recent). */
  lastActive: number;
  /** Downstream server → sequence numbers of this session's requests in flight there. */
  readonly inFlight: Map<string, Set<number>>;
  /** Exposed URI → where it was subscribed (server and the server's own URI). */
  readonly subscriptions: Map<string, { server: string; uri: string }>;
  /** From `logging/setLevel`; undefined: everything. */
  logLevel?: LoggingLevel;
  /** Set when requests reach this client only on a stream it opens (HTTP); undefined: always (stdio). */
  channel?: RequestChannel;
}

/** Where a transport can carry the gateway's requests to its client only on a stream the client opened. */
export interface RequestChannel {
  /** While a stream is open: a signal aborted when it closes. Undefined while none is. */
  current(): AbortSignal | undefined;
  /** The same, waiting up to `withinMs` for a stream to open. */
  opened(withinMs: number, signal: AbortSignal): Promise<AbortSignal | undefined>;
}

/** How long a request to a client waits for the client to open its event stream, by default. */
export const DEFAULT_STREAM_WAIT_MS = 2000;

/**
 * Whether a request can reach `session`'s client now: `{}` when it always can (stdio),
 * `{ streamEnd }` when it travels on an open event stream (HTTP; the signal aborts when that
 * stream closes), waiting up to `withinMs` for one to open; undefined when none did. The one
 * check before the gateway sends a client anything: a child's request, an approval's elicitation.
 */
export async function reachClient(session: UpstreamSession, signal: AbortSignal, withinMs = DEFAULT_STREAM_WAIT_MS): Promise<{ streamEnd?: AbortSignal } | undefined> {
  if (!session.channel) return {};
  const streamEnd = session.channel.current() ?? (await session.channel.opened(withinMs, signal));
  return streamEnd ? { streamEnd } : undefined;
}

/** The three requests a child may send to the client, with the capability each needs. */
const SERVER_REQUESTS = {
  'sampling/createMessage': { capability: 'sampling', schema: CreateMessageResultSchema },
  'elicitation/create': { capability: 'elicitation', schema: ElicitResultSchema },
  'roots/list': { capability: 'roots', schema: ListRootsResultSchema },
} as const;

type ServerRequestMethod = keyof typeof SERVER_REQUESTS;

export interface UpstreamSessionsOptions {
  logger: Logger;
  /** How long a child's request to the client may wait for its answer (a person may be answering). */
  requestTimeoutMs?: number;
  /** How long a child's request waits for the chosen client to open its event stream (default 2 s). */
  streamWaitMs?: number;
  /**
   * Asked before a child's request goes to a client: a string refuses it (policy, HALT) with
   * that text. Called with the chosen session's absence too (`session` undefined) so it can audit.
   */
  admit?: (server: string, method: string, session: UpstreamSession | undefined) => Promise<string | undefined> | string | undefined;
  /** Answers `roots/list` when no client can (the extension: the workspace folders). */
  fallbackRoots?: () => Array<{ uri: string; name?: string }> | undefined;
  /**
   * Makes a child's log message safe to relay (redaction): the data as text, the same text or
   * a redacted copy back. Messages wait for it in order, per server.
   */
  redactLog?: (text: string) => Promise<string>;
  /** Called with every log message a child sends (the audit log keeps a per-server summary). */
  onLogMessage?: (server: string, level: LoggingLevel) => void;
  /** Called with every relayed or refused child request, for the audit log. */
  onServerRequest?: (event: { server: string; method: string; status: 'allowed' | 'denied' | 'error'; error?: string; duration_ms: number }) => void;
}

const LEVELS = LoggingLevelSchema.options;

/**
 * Every live upstream session and the routing of child → client traffic (DESIGN.md §5b): a
 * child's request goes to the session whose call is in flight on that server (the most recent
 * if several), else to the most recently active session that declared the capability; log
 * messages go to every session whose level admits them, with the server's name as logger;
 * resource updates only to the sessions that subscribed.
 */
export class UpstreamSessions implements UpstreamBridge {
  private readonly sessions = new Map<Server, UpstreamSession>();
  /** URL-mode elicitations in progress: `server elicitationId` → the session that was asked. */
  private readonly elicitations = new Map<string, UpstreamSession>();
  private seq = 0;
  /** Per server, the last log message still being redacted: the next one goes out after it. */
  private readonly logQueues = new Map<string, Promise<void>>();

  constructor(private readonly options: UpstreamSessionsOptions) {}

  add(server: Server): UpstreamSession {
    const session: UpstreamSession = { server, lastActive: ++this.seq, inFlight: new Map(), subscriptions: new Map() };
    this.sessions.set(server, session);
    return session;
  }

  remove(server: Server): UpstreamSession | undefined {
    const session = this.sessions.get(server);
    this.sessions.delete(server);
    for (const [key, s] of this.elicitations) if (s === session) this.elicitations.delete(key);
    return session;
  }

  get(server: Server): UpstreamSession | undefined {
    return this.sessions.get(server);
  }

  all(): UpstreamSession[] {
    return [...this.sessions.values()];
  }

  /** Marks a request of `session` to `downstream` in flight; the returned function ends it. */
  begin(session: UpstreamSession | undefined, downstream: string): () => void {
    if (!session) return () => undefined;
    const id = ++this.seq;
    session.lastActive = id;
    let set = session.inFlight.get(downstream);
    if (!set) session.inFlight.set(downstream, (set = new Set()));
    set.add(id);
    return () => {
      set.delete(id);
      if (set.size === 0 && session.inFlight.get(downstream) === set) session.inFlight.delete(downstream);
    };
  }

  /** Notes activity of a session that routed nothing (a list, a ping). */
  touch(session: UpstreamSession | undefined): void {
    if (session) session.lastActive = ++this.seq;
  }

  /** The session a child's request about `capability` goes to (see the class comment). */
  pick(downstream: string, capability: keyof ClientCapabilities): UpstreamSession | undefined {
    const declared = (s: UpstreamSession) => s.server.getClientCapabilities()?.[capability] !== undefined;
    let best: { session: UpstreamSession; at: number } | undefined;
    for (const s of this.sessions.values()) {
      const ids = s.inFlight.get(downstream);
      if (!ids || ids.size === 0) continue;
      const at = Math.max(...ids);
      if (!best || at > best.at) best = { session: s, at };
    }
    // The caller's own client, or nobody: another client's user must not be asked about a call
    // they did not make.
    if (best) return declared(best.session) ? best.session : undefined;
    // Outside any call: a client that can be reached now, else the most recent one (whose
    // stream may be opening).
    let recent: UpstreamSession | undefined;
    let reachable: UpstreamSession | undefined;
    for (const s of this.sessions.values()) {
      if (!declared(s)) continue;
      if (!recent || s.lastActive > recent.lastActive) recent = s;
      if ((!s.channel || s.channel.current()) && (!reachable || s.lastActive > reachable.lastActive)) reachable = s;
    }
    return reachable ?? recent;
  }

  async request(server: string, request: { method: string; params?: Record<string, unknown> }, signal: AbortSignal): Promise<Record<string, unknown>> {
    const began = performance.now();
    const route = SERVER_REQUESTS[request.method as ServerRequestMethod];
    const report = (status: 'allowed' | 'denied' | 'error', error?: string) =>
      this.options.onServerRequest?.({ server, method: request.method, status, error, duration_ms: performance.now() - began });
    if (!route) {
      report('denied', `unsupported request ${request.method}`);
      throw new McpError(ErrorCode.MethodNotFound, `Gatehouse does not relay ${request.method} to clients.`);
    }
    const session = this.pick(server, route.capability);
    const refused = await this.options.admit?.(server, request.method, session);
    if (refused !== undefined) {
      report('denied', refused);
      throw new McpError(ErrorCode.InvalidRequest, refused);
    }
    // Over HTTP a request reaches the client only on the event stream it opened (GET): without
    // one the transport would drop it silently and the child would wait out its own timeout.
    const reach = session ? await reachClient(session, signal, this.options.streamWaitMs) : undefined;
    const streamEnd = reach?.streamEnd;
    const unreachable = session !== undefined && reach === undefined;
    if (!session || unreachable) {
      if (request.method === 'roots/list') {
        const roots = this.options.fallbackRoots?.();
        if (roots) {
          report('allowed');
          return { roots };
        }
      }
      const text = unreachable
        ? `The client that was to answer ${request.method} from ${server} declared ${route.capability} but has no open event stream (GET /mcp) ` +
          'to receive requests on; Gatehouse answers HTTP requests with JSON bodies, so its requests to a client travel only on that stream.'
        : `No client connected to Gatehouse supports ${route.capability} (${request.method} from ${server})` +
          (this.sessions.size === 0 ? ': no client is connected.' : '; the client with a call in flight there (or every client) did not declare it.');
      report('error', text);
      throw new McpError(ErrorCode.InvalidRequest, text);
    }
    const elicitationId = request.method === 'elicitation/create' ? request.params?.elicitationId : undefined;
    if (typeof elicitationId === 'string') this.elicitations.set(`${server} ${elicitationId}`, session);
    try {
      const result = (await session.server.request({ method: request.method, params: request.params } as never, route.schema, {
        signal: streamEnd ? AbortSignal.any([signal, streamEnd]) : signal,
        timeout: this.options.requestTimeoutMs ?? 10 * 60_000,
      })) as Record<string, unknown>;
      report('allowed');
      return result;
    } catch (err) {
      const streamClosed = streamEnd?.aborted === true && !signal.aborted;
      const gone = streamClosed || (err instanceof McpError && err.code === ErrorCode.ConnectionClosed);
      const text = gone
        ? `The client that was to answer ${request.method} from ${server} ${streamClosed ? 'closed its event stream' : 'disconnected'} before answering.`
        : `The client could not answer ${request.method} from ${server}: ${err instanceof Error ? err.message : String(err)}`;
      report('error', text);
      throw new McpError(err instanceof McpError && !gone ? err.code : ErrorCode.InternalError, text);
    }
  }

  notify(server: string, notification: { method: string; params?: Record<string, unknown> }): void {
    const params = notification.params ?? {};
    if (notification.method === 'notifications/message') {
      this.relayLog(server, params);
      return;
    }
    if (notification.method === 'notifications/elicitation/complete') {
      // Only to the session that was asked to open the URL.
      const key = `${server} ${String(params.elicitationId)}`;
      const session = this.elicitations.get(key);
      this.elicitations.delete(key);
      if (session && this.sessions.has(session.server)) this.send(session, notification);
      return;
    }
    if (notification.method === 'notifications/resources/updated') {
      for (const s of this.sessions.values()) {
        for (const [exposed, sub] of s.subscriptions) {
          if (sub.server === server && sub.uri === params.uri) this.send(s, { method: notification.method, params: { ...params, uri: exposed } });
        }
      }
    }
  }

  /**
   * A child's log message to every session whose level admits it, with the server's name as
   * logger, its data redacted first like everything else that leaves the gateway.
   */
  private relayLog(server: string, params: Record<string, unknown>): void {
    const level = params.level as LoggingLevel;
    try {
      this.options.onLogMessage?.(server, level);
    } catch (err) {
      this.options.logger.debug(`log message audit: ${err instanceof Error ? err.message : String(err)}`);
    }
    const safe = this.redactData(params.data);
    const previous = this.logQueues.get(server) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        const data = await safe;
        for (const s of this.sessions.values()) {
          if (s.logLevel && LEVELS.indexOf(level) < LEVELS.indexOf(s.logLevel)) continue;
          this.send(s, { method: 'notifications/message', params: { ...params, data, logger: server } });
        }
      })
      .catch((err: unknown) => this.options.logger.debug(`could not relay a log message of ${server}: ${err instanceof Error ? err.message : String(err)}`));
    this.logQueues.set(server, next);
    void next.then(() => {
      if (this.logQueues.get(server) === next) this.logQueues.delete(server);
    });
  }

  /** Log data is any JSON: redacted as its JSON text, parsed back when it still parses. */
  private async redactData(data: unknown): Promise<unknown> {
    const redact = this.options.redactLog;
    if (!redact) return data;
    if (typeof data === 'string') return redact(data);
    const text = JSON.stringify(data) ?? '';
    const safe = await redact(text);
    if (safe === text) return data;
    try {
      return JSON.parse(safe) as unknown;
    } catch {
      return safe;
    }
  }

  /** The most verbose level any session asked for (what the children are set to). */
  effectiveLogLevel(): LoggingLevel | undefined {
    let min: number | undefined;
    for (const s of this.sessions.values()) {
      const i = LEVELS.indexOf(s.logLevel ?? 'debug');
      min = min === undefined ? i : Math.min(min, i);
    }
    return min === undefined ? undefined : LEVELS[min];
  }

  private send(session: UpstreamSession, notification: { method: string; params?: Record<string, unknown> }): void {
    session.server.notification(notification as never).catch((err: unknown) => {
      this.options.logger.debug(`could not relay ${notification.method}: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}
