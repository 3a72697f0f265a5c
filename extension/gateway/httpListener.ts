import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { isInitializeRequest, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../common/logger';
import { newToken, tokenMatcher } from './bearerToken';
import type { Gateway } from './gateway';
import { refuse } from './http/replies';
import { connectionBearer, endpointOf, isMessage, loopbackHosts, readBody, refusedHost } from './http/requestChecks';
import { SessionTransport } from './http/sessionTransport';
import { EventStreams } from './routing/eventStreams';

export interface HttpListenerOptions {
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  /** Largest accepted request body. */
  maxBodyBytes?: number;
  /** Fixed token (tests); a fresh random one per start otherwise. */
  token?: string;
  /** Most sessions kept at once; beyond it the least recently active one is closed. */
  maxSessions?: number;
  /** Names of the registry's profiles, each served at `/mcp/<profile>` (read per new session). */
  profiles?: () => readonly string[];
  /** How long `stop()` lets requests in flight finish (default 1 s, DESIGN.md §1). */
  drainMs?: number;
  logger: Logger;
}

/** Where the listener is reachable; the token is shown to trusted code only, never logged. */
export interface HttpEndpoint {
  url: string;
  port: number;
  token: string;
}

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;
/**
 * A client that vanishes without DELETE leaves its session (and an MCP `Server`) behind; the
 * cap keeps a long-running gateway's memory bounded. Far above what one machine's clients use.
 */
const DEFAULT_MAX_SESSIONS = 256;

/**
 * Serves the gateway over Streamable HTTP on 127.0.0.1 (never another interface) at `/mcp`.
 *
 * Defences, in the order a request meets them:
 * 1. Host must be a loopback name (DNS rebinding): 403.
 * 2. A request carrying a browser `Origin` is refused: a web page has no business here. 403.
 * 3. `Authorization: Bearer <token>`, compared in constant time: 401.
 * 4. Body size limit: 413.
 * Only then does a request reach an MCP session. Every client gets its own session (and MCP
 * `Server`), all sharing one gateway. Plain `node:http` with keep-alive and a transport of our
 * own (http/sessionTransport.ts): the request checks and answers of the SDK's Streamable HTTP
 * transport, without its per-request conversion to web Request/Response objects.
 */
export class HttpListener {
  private server: HttpServer | undefined;
  private readonly sessions = new Map<string, SessionTransport>();
  /** The profile each session was opened on (`/mcp/<profile>`); absent for `/mcp`. */
  private readonly sessionProfiles = new Map<string, string>();
  /** Which sessions can receive the gateway's requests (sampling, elicitation, roots). */
  private readonly eventStreams = new EventStreams();
  /** Transports (each with its MCP `Server`) not yet closed. */
  private liveTransports = 0;
  private endpoint: HttpEndpoint | undefined;
  /** POSTed requests whose response has not gone out yet (standalone GET streams excluded). */
  private inFlight = 0;
  private readonly responded = (): void => {
    this.inFlight--;
  };
  private stopping = false;
  /** Host header values accepted without parsing (`127.0.0.1:<port>` and its kin). */
  private hosts: ReadonlySet<string> = new Set();
  /** The bearer check, remembered per keep-alive connection (http/requestChecks.ts). */
  private refusedToken: (req: IncomingMessage) => string | undefined = () => 'Invalid token';

  constructor(
    private readonly gateway: Gateway,
    private readonly options: HttpListenerOptions,
  ) {}

  get info(): HttpEndpoint | undefined {
    return this.endpoint;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Transports held, sessions or not: a refused initialize must not leave one behind. */
  get transportCount(): number {
    return this.liveTransports;
  }

  async start(): Promise<HttpEndpoint> {
    if (this.endpoint) return this.endpoint;
    this.stopping = false;
    const token = this.options.token ?? newToken();
    this.refusedToken = connectionBearer(tokenMatcher(token));
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger.error(`HTTP request failed: ${err instanceof Error ? err.message : String(err)}`);
        refuse(res, 500, -32603, 'Internal error');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.hosts = loopbackHosts(port);
    this.endpoint = { url: `http://127.0.0.1:${port}/mcp`, port, token };
    return this.endpoint;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { headers } = req;
    const badHost = refusedHost(headers.host, this.hosts);
    if (badHost) return refuse(res, 403, -32000, badHost);
    const origin = headers.origin;
    if (origin !== undefined) return refuse(res, 403, -32000, `Requests from a browser origin (${origin}) are refused`);
    const badToken = this.refusedToken(req);
    if (badToken) return refuseToken(res, badToken);
    const endpoint = endpointOf(req.url);
    if (endpoint === undefined) return refuse(res, 404, -32000, 'Not found: the MCP endpoint is /mcp (or /mcp/<profile>)');
    const profile = endpoint === '' ? undefined : endpoint;
    if (this.stopping) return refuse(res, 503, -32000, 'Gatehouse is shutting down');
    switch (req.method) {
      case 'POST':
        return this.post(req, res, profile);
      case 'GET':
        return this.stream(req, res, profile);
      case 'DELETE':
        return this.end(req, res, profile);
      default:
        return refuse(res, 405, -32000, 'Method not allowed.', { allow: 'GET, POST, DELETE' });
    }
  }

  private async post(req: IncomingMessage, res: ServerResponse, profile: string | undefined): Promise<void> {
    // The checks of the SDK's transport, in its order, with its status codes and texts.
    const accept = req.headers.accept;
    if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) {
      return refuse(res, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    }
    if (!isJsonContentType(req.headers['content-type'])) return refuse(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    const body = await readBody(req, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY);
    // Node discards the rest of an oversized body after the answer (bounded by its requestTimeout).
    if (!body) return refuse(res, 413, -32000, 'Request body too large');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(res, 400, -32700, 'Parse error: Invalid JSON');
    }
    const batch = Array.isArray(parsed);
    const messages = (batch ? parsed : [parsed]) as unknown[];
    if (messages.length > MAX_BATCH_SIZE) return refuse(res, 400, -32600, `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`);
    for (const m of messages) if (!isMessage(m)) return refuse(res, 400, -32700, 'Parse error: Invalid JSON-RPC message');
    const checked = messages as JSONRPCMessage[];

    const initialize = checked.some((m) => 'method' in m && m.method === 'initialize');
    let transport: SessionTransport | undefined;
    if (initialize) {
      if (checked.length > 1) return refuse(res, 400, -32600, 'Invalid Request: Only one initialization request is allowed');
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string' && this.session(sessionId, profile)) return refuse(res, 400, -32600, 'Invalid Request: Server already initialized');
      if (sessionId === undefined && isInitializeRequest(checked[0])) transport = await this.open(checked[0], profile, res);
      else transport = this.sessionOf(req, res, profile);
    } else {
      transport = this.sessionOf(req, res, profile);
    }
    if (!transport) return;
    if (!initialize && !protocolVersionOk(req, res)) return;

    // Counted until the response closes (the transport calls back only for a POST carrying requests).
    const carriesRequest = checked.some((m) => 'method' in m && 'id' in m);
    if (carriesRequest) this.inFlight++;
    transport.post(req, res, checked, batch, this.responded);
  }

  /** `GET`: the session's event stream (notifications, the gateway's requests to the client). */
  private stream(req: IncomingMessage, res: ServerResponse, profile: string | undefined): void {
    if (!req.headers.accept?.includes('text/event-stream')) return refuse(res, 406, -32000, 'Not Acceptable: Client must accept text/event-stream');
    const transport = this.sessionOf(req, res, profile);
    if (!transport || !protocolVersionOk(req, res)) return;
    if (transport.hasEventStream) return refuse(res, 409, -32000, 'Conflict: Only one SSE stream is allowed per session');
    transport.openStream(res);
    this.eventStreams.watch(transport, req, res);
  }

  /** `DELETE`: the client ends its session. */
  private async end(req: IncomingMessage, res: ServerResponse, profile: string | undefined): Promise<void> {
    const transport = this.sessionOf(req, res, profile);
    if (!transport || !protocolVersionOk(req, res)) return;
    await transport.close();
    res.writeHead(200).end();
  }

  /** The live session a request names, made the most recent; undefined once refused (400 without an id, 404 unknown). */
  private sessionOf(req: IncomingMessage, res: ServerResponse, profile: string | undefined): SessionTransport | undefined {
    const sessionId = req.headers['mcp-session-id'];
    const transport = typeof sessionId === 'string' ? this.session(sessionId, profile) : undefined;
    if (transport) {
      // Map order is recency order: the first entry is the least recently active session.
      this.sessions.delete(transport.sessionId);
      this.sessions.set(transport.sessionId, transport);
      return transport;
    }
    if (profile !== undefined && !this.knownProfile(profile)) {
      const known = this.options.profiles?.() ?? [];
      refuse(res, 404, -32000, `No profile '${profile.slice(0, 64)}' in registry.yaml; profiles: ${known.join(', ') || '(none)'}`);
      return undefined;
    }
    if (sessionId !== undefined) refuse(res, 404, -32000, 'Unknown or expired session; initialize again');
    else refuse(res, 400, -32000, 'Send initialize first');
    return undefined;
  }

  /** A session by id, when it belongs to this endpoint: its id must not widen another profile. */
  private session(sessionId: string, profile: string | undefined): SessionTransport | undefined {
    const transport = this.sessions.get(sessionId);
    return transport && this.sessionProfiles.get(sessionId) === profile ? transport : undefined;
  }

  private knownProfile(profile: string): boolean {
    return (this.options.profiles?.() ?? []).includes(profile);
  }

  /** A new session for an initialize request: its transport, connected to a new MCP `Server`. */
  private async open(init: JSONRPCMessage, profile: string | undefined, res: ServerResponse): Promise<SessionTransport | undefined> {
    if (profile !== undefined && !this.knownProfile(profile)) {
      const known = this.options.profiles?.() ?? [];
      refuse(res, 404, -32000, `No profile '${profile.slice(0, 64)}' in registry.yaml; profiles: ${known.join(', ') || '(none)'}`);
      return undefined;
    }
    const client = clientLabel(init);
    const transport = new SessionTransport(randomUUID());
    const id = transport.sessionId;
    this.liveTransports++;
    transport.onclose = () => {
      this.liveTransports--;
      this.sessionProfiles.delete(id);
      if (this.sessions.delete(id)) this.options.logger.info(`MCP client disconnected: ${client} (${this.sessions.size} open)`);
    };
    const server = this.gateway.createServer(profile);
    this.eventStreams.bind(transport, this.gateway.sessions.get(server));
    await server.connect(transport);
    this.sessions.set(id, transport);
    if (profile !== undefined) this.sessionProfiles.set(id, profile);
    this.evictOverCap();
    // Which clients connected is the first question when "my client shows no tools".
    this.options.logger.info(`MCP client connected: ${client} (${this.sessions.size} open)`);
    return transport;
  }

  private evictOverCap(): void {
    const max = this.options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    for (const [id, transport] of this.sessions) {
      if (this.sessions.size <= max) break;
      this.sessions.delete(id);
      this.sessionProfiles.delete(id);
      this.options.logger.warn(`closing the least recently active MCP session: more than ${max} open`);
      void transport.close().catch(() => undefined);
    }
  }

  /**
   * Stops accepting (new connections refused, new requests answered 503), lets the responses
   * in flight go out for up to `drainMs`, then closes every session and connection.
   */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.endpoint = undefined;
    this.stopping = true;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const deadline = Date.now() + (this.options.drainMs ?? 1000);
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    this.sessionProfiles.clear();
    await Promise.all(sessions.map((t) => t.close().catch(() => undefined)));
    server?.closeAllConnections();
    await closed;
  }
}

/** The most messages one POST may carry, as the SDK's transport allows. */
const MAX_BATCH_SIZE = 100;

/** `MCP-Protocol-Version`, when sent, must name a version the SDK speaks: 400 otherwise (as the SDK's transport). */
function protocolVersionOk(req: IncomingMessage, res: ServerResponse): boolean {
  const version = req.headers['mcp-protocol-version'];
  if (version === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(String(version))) return true;
  const message = `Bad Request: Unsupported protocol version: ${String(version)} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`;
  refuse(res, 400, -32000, message);
  return false;
}

/** 401 with the OAuth-style body and `WWW-Authenticate` header the SDK's bearer middleware gives. */
function refuseToken(res: ServerResponse, reason: string): void {
  const body = JSON.stringify({ error: 'invalid_token', error_description: reason });
  res.writeHead(401, {
    'www-authenticate': `Bearer error="invalid_token", error_description="${reason}"`,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** `name version` from an initialize request's clientInfo: client-chosen text, so printable and short. */
function clientLabel(body: unknown): string {
  const info = (body as { params?: { clientInfo?: { name?: unknown; version?: unknown } } }).params?.clientInfo;
  const label = [info?.name, info?.version].filter((v) => typeof v === 'string').join(' ');
  return label.replace(/[^\x20-\x7e]/g, '?').slice(0, 80) || 'an unnamed client';
}
