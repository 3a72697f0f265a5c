import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  McpError,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { resolveConfigDir } from '../config/configDir';
import { UpstreamStdioTransport } from '../gateway/stdio/upstreamStdioTransport';
import { flag, type ParsedArgs } from './args';
import { GatewayLink, lostInFlight } from './gatewayLink';
import { NoGatewayError } from './noGatewayError';

/** The gateway enforces its own per-server call timeouts; the bridge must not cut a call short. */
const CALL_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/**
 * `gatehouse bridge`: a stdio MCP server for clients that only spawn servers, forwarding to
 * the gateway running for this folder (found through `gateway.json`). The token never
 * appears on a command line or in the client's config.
 *
 * Exits with 2 at once when no gateway runs (so a misconfigured client shows a clear error).
 * Once started it follows the gateway: when it stops, calls fail with an explanation instead
 * of hanging; when one runs again (new port and token after a VS Code reload), the bridge
 * reconnects on the next request and tells its client the tool list may have changed.
 */
export async function bridge(args: ParsedArgs, version: string): Promise<number> {
  const folder = flag(args, 'folder') ?? process.cwd();
  const { dir } = await resolveConfigDir(folder, flag(args, 'dir'));
  const log = (line: string) => process.stderr.write(`gatehouse bridge: ${line}\n`);

  // Set once the stdio server exists; the link may report changes before that (ignored then).
  const upstream: { server?: Server } = {};
  const link = new GatewayLink({
    folder,
    dir,
    version,
    profile: flag(args, 'profile'),
    log,
    onToolsChanged: () => void upstream.server?.sendToolListChanged().catch(() => undefined),
  });
  try {
    await link.current();
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    return 2;
  }

  const server = new Server(
    { name: 'gatehouse-bridge', version },
    { capabilities: { tools: { listChanged: true } }, instructions: link.serverInstructions },
  );
  upstream.server = server;
  server.setRequestHandler(ListToolsRequestSchema, async (req, extra) => {
    try {
      return await link.request((c) => c.request({ method: 'tools/list', params: req.params ?? {} }, ListToolsResultSchema, { signal: extra.signal }));
    } catch (err) {
      throw new McpError(ErrorCode.InternalError, `gatehouse bridge: ${explain(err)}`);
    }
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    try {
      return (await link.request((c) =>
        c.request({ method: 'tools/call', params: req.params }, CallToolResultSchema, { signal: extra.signal, timeout: CALL_TIMEOUT_MS }),
      )) as CallToolResult;
    } catch (err) {
      if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed) throw err;
      // A tool result the model can read, rather than a protocol error it may not see.
      return { isError: true, content: [{ type: 'text', text: `Gatehouse bridge: ${explain(err)}` }] };
    }
  });

  const transport = new UpstreamStdioTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve; // stdout failed (EPIPE): the client is gone
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(s, resolve);
  });
  await server.connect(transport);
  await closed;
  await link.close();
  await server.close().catch(() => undefined);
  return 0;
}

function explain(err: unknown): string {
  if (err instanceof NoGatewayError) return err.message;
  if ((err instanceof McpError && err.code === ErrorCode.ConnectionClosed) || lostInFlight(err)) {
    return 'the gateway went away during this call. It was not re-sent (it may have side effects); check its effect, then retry.';
  }
  return err instanceof Error ? err.message : String(err);
}
