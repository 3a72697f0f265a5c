import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { localhostHostValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../common/logger';
import { newToken, tokenMatches } from './bearerToken';
import type { Gateway } from './gateway';
import { cancelWhenDropped } from './routing/droppedRequests';
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
 * `Server`), all sharing one gateway.
 */
export class HttpListener {
  private server: HttpServer | undefined;
  private readonly sessions = new Map<string, StreamableHTTPServerTransport>();
  /** The profile each session was opened on (`/mcp/<profile>`); absent for `/mcp`. */
  private readonly sessionProfiles = new Map<string, string>();
  /** Which sessions can receive the gateway's requests (sampling, elicitation, roots). */
  private readonly eventStreams = new EventStreams();
  /** Transports (each with its MCP `Server`) not yet closed: sessions plus any still being set up. */
  private liveTransports = 0;
  private endpoint: HttpEndpoint | undefined;
  /** POSTed requests whose response has not gone out yet (standalone GET streams excluded). */
  private inFlight = 0;
  private stopping = false;

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
    const app = express();
    app.disable('x-powered-by');
    app.use(localhostHostValidation());
    app.use(refuseBrowserOrigins);
    app.use(
      requireBearerAuth({
        verifier: {
          verifyAccessToken: async (presented) => {
            if (!tokenMatches(presented, token)) throw new InvalidTokenError('Invalid token');
            // The SDK requires an expiry; ours lives as long as this gateway start.
            return { token: presented, clientId: 'local', scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
          },
        },
      }),
    );
    app.use(express.json({ limit: this.options.maxBodyBytes ?? DEFAULT_MAX_BODY }));
    app.all('/mcp', (req, res) => void this.handle(req, res));
    // One endpoint per registry profile, with the same token and chain (a path, not another port).
    app.all('/mcp/:profile', (req, res) => void this.handle(req, res, String(req.params.profile)));
    app.use(jsonRpcErrors(this.options.logger));

    const server = await new Promise<HttpServer>((resolve, reject) => {
      const s = app.listen(this.options.port ?? 0, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.endpoint = { url: `http://127.0.0.1:${port}/mcp`, port, token };
    return this.endpoint;
  }

  private async handle(req: Request, res: Response, profile?: string): Promise<void> {
    if (this.stopping) {
      res.status(503).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Gatehouse is shutting down' }, id: null });
      return;
    }
    if (req.method === 'POST' && carriesRequest(req.body)) {
      this.inFlight++;
      res.once('close', () => this.inFlight--);
    }
    // A transport made for this request: closed again unless the SDK accepted the initialize.
    let fresh: StreamableHTTPServerTransport | undefined;
    try {
      const sessionId = req.header('mcp-session-id');
      let transport = sessionId ? this.sessions.get(sessionId) : undefined;
      // A session belongs to the endpoint that opened it: its id must not widen another profile.
      if (transport && sessionId && this.sessionProfiles.get(sessionId) !== profile) transport = undefined;
      if (transport && sessionId) {
        // Map order is recency order: the first entry is the least recently active session.
        this.sessions.delete(sessionId);
        this.sessions.set(sessionId, transport);
      }
      if (!transport) {
        if (profile !== undefined && !(this.options.profiles?.() ?? []).includes(profile)) {
          const known = this.options.profiles?.() ?? [];
          res.status(404).json({
            jsonrpc: '2.0',
            error: { code: -32000, message: `No profile '${profile.slice(0, 64)}' in registry.yaml; profiles: ${known.join(', ') || '(none)'}` },
            id: null,
          });
          return;
        }
        if (sessionId || req.method !== 'POST' || !isInitializeRequest(req.body)) {
          res.status(sessionId ? 404 : 400).json({
            jsonrpc: '2.0',
            error: { code: -32000, message: sessionId ? 'Unknown or expired session; initialize again' : 'Send initialize first' },
            id: null,
          });
          return;
        }
        const client = clientLabel(req.body);
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          // A POST is answered with one JSON body instead of an event stream per request: no
          // stream set-up per call (p50 about halved in the bench). Notifications and the
          // children's requests to the client travel on the client's GET stream, which stays an
          // event stream; without one such a request is refused at once (routing/eventStreams.ts).
          enableJsonResponse: true,
          onsessioninitialized: (id) => {
            this.sessions.set(id, created);
            if (profile !== undefined) this.sessionProfiles.set(id, profile);
            this.evictOverCap();
            // Which clients connected is the first question when "my client shows no tools".
            this.options.logger.info(`MCP client connected: ${client} (${this.sessions.size} open)`);
          },
        });
        fresh = created;
        this.liveTransports++;
        let open = true;
        created.onclose = () => {
          if (open) this.liveTransports--;
          open = false;
          if (created.sessionId) this.sessionProfiles.delete(created.sessionId);
          if (created.sessionId && this.sessions.delete(created.sessionId)) {
            this.options.logger.info(`MCP client disconnected: ${client} (${this.sessions.size} open)`);
          }
        };
        const server = this.gateway.createServer(profile);
        this.eventStreams.bind(created, this.gateway.sessions.get(server));
        await server.connect(created);
        transport = created;
      }
      this.eventStreams.watch(transport, req, res);
      if (req.method === 'POST') cancelWhenDropped(transport, req.body, res);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      this.options.logger.error(`HTTP request failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
    } finally {
      // The SDK refuses an initialize (406 without the right Accept, 415, a bad batch) only
      // inside handleRequest, after the transport and its Server were made and connected:
      // without this each refused request kept ~29 KB for good.
      if (fresh && fresh.sessionId === undefined) await fresh.close().catch(() => undefined);
    }
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

/** `name version` from an initialize request's clientInfo: client-chosen text, so printable and short. */
function clientLabel(body: unknown): string {
  const info = (body as { params?: { clientInfo?: { name?: unknown; version?: unknown } } }).params?.clientInfo;
  const label = [info?.name, info?.version].filter((v) => typeof v === 'string').join(' ');
  return label.replace(/[^\x20-\x7e]/g, '?').slice(0, 80) || 'an unnamed client';
}

/** True when a POST body holds at least one JSON-RPC request (a response will follow). */
function carriesRequest(body: unknown): boolean {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  return messages.some((m) => typeof m === 'object' && m !== null && 'method' in m && 'id' in m);
}

function refuseBrowserOrigins(req: Request, res: Response, next: NextFunction): void {
  const origin = req.header('origin');
  if (origin !== undefined) {
    res.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message: `Requests from a browser origin (${origin}) are refused` }, id: null });
    return;
  }
  next();
}

/** Turns body-parser errors (too large, bad JSON) into JSON-RPC shaped answers. */
function jsonRpcErrors(logger: Logger) {
  return (err: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const status = err.status ?? 500;
    if (status >= 500) logger.error(`HTTP error: ${err.message}`);
    const message = err.type === 'entity.too.large' ? 'Request body too large' : status === 400 ? 'Parse error' : 'Internal error';
    res.status(status).json({ jsonrpc: '2.0', error: { code: status === 400 ? -32700 : -32000, message }, id: null });
  };
}
