import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { resolveConfigDir } from '../config/configDir';
import { readDiscoveryFile } from '../gateway/discoveryFile';
import { flag, type ParsedArgs } from './args';

/**
 * `gatehouse bridge`: a stdio MCP server for clients that only spawn servers, forwarding to
 * the gateway already running for this folder (found through `gateway.json`). The token never
 * appears on a command line or in the client's config.
 */
export async function bridge(args: ParsedArgs, version: string): Promise<number> {
  const folder = flag(args, 'folder') ?? process.cwd();
  const { dir } = await resolveConfigDir(folder, flag(args, 'dir'));
  const info = await readDiscoveryFile(dir);
  if (!info || !pidAlive(info.pid)) {
    process.stderr.write(
      `gatehouse bridge: no running Gatehouse gateway found for ${folder} (looked for ${dir}/gateway.json).\n` +
        'Start one with `gatehouse serve --http` in that folder, or open the folder in VS Code with the Gatehouse extension.\n',
    );
    return 2;
  }

  const upstream = new Client({ name: 'gatehouse-bridge', version }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(info.url), {
    requestInit: { headers: { Authorization: `Bearer ${info.token}` } },
  });
  try {
    await upstream.connect(transport);
  } catch (err) {
    process.stderr.write(`gatehouse bridge: could not reach the gateway at ${info.url}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }

  const server = new Server(
    { name: 'gatehouse-bridge', version },
    { capabilities: { tools: { listChanged: true } }, instructions: upstream.getInstructions() },
  );
  server.setRequestHandler(ListToolsRequestSchema, (req, extra) =>
    upstream.request({ method: 'tools/list', params: req.params ?? {} }, ListToolsResultSchema, { signal: extra.signal }),
  );
  server.setRequestHandler(CallToolRequestSchema, (req, extra) =>
    upstream.request({ method: 'tools/call', params: req.params }, CallToolResultSchema, {
      signal: extra.signal,
      // The gateway enforces its own per-server timeouts; don't cut it short here.
      timeout: 24 * 60 * 60 * 1000,
    }),
  );
  upstream.setNotificationHandler(ToolListChangedNotificationSchema, () => void server.sendToolListChanged().catch(() => undefined));

  const closed = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(s, resolve);
    upstream.onclose = () => {
      process.stderr.write('gatehouse bridge: the gateway closed the connection\n');
      resolve();
    };
  });
  await server.connect(new StdioServerTransport());
  await closed;
  await transport.terminateSession().catch(() => undefined);
  await upstream.close().catch(() => undefined);
  return 0;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
