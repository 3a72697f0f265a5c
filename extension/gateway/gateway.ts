import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { Disposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { Logger } from '../common/logger';
import type { GatewaySnapshot } from '../protocol/model';
import { splitToolName } from '../pool/pool';
import type { AggregatedTool, DownstreamDirectory } from '../pool/types';
import type { CallContext } from './chain/callContext';
import { compose, type Middleware } from './chain/chain';
import { HEALTH_TOOL_NAME, healthReport, healthToolDescriptor, type HealthExtras } from './healthTool';

/** The reserved server name: `gatehouse__*` tools belong to the gateway itself. */
export const RESERVED_SERVER = 'gatehouse';

export interface GatewayOptions {
  pool: DownstreamDirectory;
  sessionId: string;
  /** The chain's layers, outermost first, ending with the dispatcher. */
  layers: readonly Middleware[];
  snapshot: () => GatewaySnapshot;
  /** Read per health call (policy may change while running). */
  exposeDiagnostics?: () => boolean;
  healthExtras?: () => HealthExtras | Promise<HealthExtras>;
  /** Turns every outgoing error text safe (redaction); identity until governance plugs in. */
  sanitizeError?: (text: string, ctx: CallContext | undefined) => Promise<string> | string;
  /** Called for calls refused before the chain (unknown server, no prefix), so they can be audited. */
  onRefused?: (ctx: CallContext) => void;
  /** Called on every health call (the gateway audits it as its own record). */
  onHealth?: () => void;
  /** Rewrites listed tools (e.g. description scanning); identity by default. */
  transformTools?: (tools: Tool[]) => Promise<Tool[]> | Tool[];
  logger: Logger;
  version?: string;
  /**
   * How long the first `tools/list` may wait for servers still starting (default 5 s; the
   * service passes the lesser of that and the connect timeout).
   */
  startupWaitMs?: () => number;
}

/** One governed call, finished (refusals before the chain and health calls are not included). */
export interface CallFinished {
  server: string;
  tool: string;
  status: CallContext['status'];
  reason_code: string | undefined;
  /** From the gateway receiving `tools/call` to its answer, governance included. */
  duration_ms: number;
}

/** How often the first list re-checks whether every server has left `starting`. */
const STARTUP_POLL_MS = 25;

/**
 * The upstream face of Gatehouse: an MCP server (official SDK) that lists the pool's aggregate
 * plus `gatehouse__health`, and sends each `tools/call` through the middleware chain.
 *
 * One `Server` instance is created per upstream session (`createServer`), all sharing this
 * gateway's pool and chain; `tools/list_changed` goes to every live session when the
 * aggregate changes.
 */
export class Gateway extends Disposable {
  private readonly servers = new Set<Server>();
  private readonly run: (ctx: CallContext) => Promise<void>;
  /** Shared by every list that arrives before the servers first settled; see {@link listTools}. */
  private startup: Promise<void> | undefined;
  private settled = false;
  private readonly _onDidFinishCall = this.register(new Emitter<CallFinished>());
  /** Fires after every call that went through the chain (metrics feed on it). */
  readonly onDidFinishCall: Event<CallFinished> = this._onDidFinishCall.event;

  constructor(private readonly options: GatewayOptions) {
    super();
    this.run = compose(options.layers);
    this.register(options.pool.onDidChangeTools(() => this.broadcastToolsChanged()));
  }

  /** A new MCP server for one upstream client; connect it to a transport. */
  createServer(): Server {
    const server = new Server(
      { name: 'gatehouse', version: this.options.version ?? '0.1.0' },
      {
        capabilities: { tools: { listChanged: true } },
        instructions:
          'Gatehouse proxies the tools of several MCP servers as <server>__<tool>. Call gatehouse__health to see which servers are up.',
      },
    );
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await this.listTools() }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) =>
      this.callTool(request.params.name, request.params.arguments ?? {}, extra.signal, {
        meta: request.params._meta,
        headers: extra.requestInfo?.headers,
        client_name: server.getClientVersion()?.name,
      }),
    );
    this.servers.add(server);
    const previous = server.onclose;
    server.onclose = () => {
      previous?.();
      this.servers.delete(server);
    };
    return server;
  }

  /** Closes every upstream session. */
  async close(): Promise<void> {
    const servers = [...this.servers];
    this.servers.clear();
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
  }

  override dispose(): void {
    void this.close();
    super.dispose();
  }

  /**
   * The aggregate as clients see it (internal routing fields stripped).
   *
   * A client usually lists right after it connects, which is when the gateway has just spawned
   * its servers. Many clients ignore `tools/list_changed`, so whatever the first list returns
   * is all they will ever see: the first list(s) therefore wait, bounded, until no server is
   * still `starting`. Later lists never wait.
   */
  async listTools(): Promise<Tool[]> {
    if (!this.settled) await this.settleStartup();
    const tools = [healthToolDescriptor, ...this.options.pool.listTools().map(publicTool)];
    return this.options.transformTools ? this.options.transformTools(tools) : tools;
  }

  private settleStartup(): Promise<void> {
    this.startup ??= (async () => {
      const deadline = Date.now() + (this.options.startupWaitMs?.() ?? 5000);
      // Polling the snapshot: the pool has no single "state changed" event, and this runs once.
      while (Date.now() < deadline && this.options.pool.snapshot().some((v) => v.state === 'starting')) {
        await new Promise((resolve) => setTimeout(resolve, STARTUP_POLL_MS));
      }
      this.settled = true;
    })();
    return this.startup;
  }

  /** Handles one `tools/call`; never throws (errors become `isError` results). */
  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal, upstream?: CallContext['upstream']): Promise<CallToolResult> {
    if (name === HEALTH_TOOL_NAME) return this.health();
    const split = splitToolName(name);
    const ctx: CallContext = {
      tool_name: split?.tool ?? name,
      server_name: split?.server ?? '',
      full_name: name,
      arguments: args,
      session_id: this.options.sessionId,
      status: 'allowed',
      start_time: performance.now(),
      metadata: {},
      signal,
      upstream,
    };
    // Refused before any stateful layer: unknown names must not create breaker, rate-limit
    // or metrics entries (SPEC §13.1 item 12).
    const refusal = this.refusal(split?.server, name);
    if (refusal) {
      ctx.status = 'denied';
      ctx.reason_code = refusal.code;
      ctx.error = refusal.message;
      this.options.onRefused?.(ctx);
      return this.toResult(ctx);
    }
    ctx.tool = this.options.pool.describeTool(name);
    await this.run(ctx);
    this._onDidFinishCall.fire({
      server: ctx.server_name,
      tool: ctx.tool_name,
      status: ctx.status,
      reason_code: ctx.reason_code,
      duration_ms: performance.now() - ctx.start_time,
    });
    return this.toResult(ctx);
  }

  private refusal(server: string | undefined, name: string): { code: string; message: string } | undefined {
    const servers = this.options.pool.serverNames();
    const valid = servers.length ? servers.join(', ') : '(none configured: add one to registry.yaml)';
    if (server === undefined) {
      return {
        code: 'missing_prefix',
        message: `Tool '${name}' is missing the server prefix: expected <server>__<tool>. Servers: ${valid}.`,
      };
    }
    if (server === RESERVED_SERVER) {
      return { code: 'reserved_namespace', message: `'${name}' is in Gatehouse's reserved namespace; the only tool there is ${HEALTH_TOOL_NAME}.` };
    }
    if (!servers.includes(server)) {
      return { code: 'unknown_server', message: `Unknown server '${server}' in '${name}'. Servers: ${valid}.` };
    }
    return undefined;
  }

  private async toResult(ctx: CallContext): Promise<CallToolResult> {
    if (ctx.status === 'allowed' && ctx.result) return ctx.result;
    const raw = ctx.error ?? ctx.status;
    const text = this.options.sanitizeError ? await this.options.sanitizeError(raw, ctx) : raw;
    return { isError: true, content: [{ type: 'text', text }] };
  }

  private async health(): Promise<CallToolResult> {
    this.options.onHealth?.();
    const report = healthReport(this.options.snapshot(), this.options.exposeDiagnostics?.() ?? false, await this.options.healthExtras?.());
    return {
      content: [{ type: 'text', text: JSON.stringify(report, null, 2) }],
      structuredContent: report,
    };
  }

  private broadcastToolsChanged(): void {
    for (const server of this.servers) {
      server.sendToolListChanged().catch((err: unknown) => {
        this.options.logger.debug(`could not send tools/list_changed: ${String(err)}`);
      });
    }
  }

}

function publicTool(tool: AggregatedTool): Tool {
  const { server: _server, originalName: _original, ...rest } = tool;
  return rest;
}
