/** An MCP client in the test process, talking to the gateway the extension runs (via gateway.json). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface Discovery {
  url: string;
  token: string;
  pid: number;
}

export function readDiscovery(configDir: string): Discovery | undefined {
  try {
    return JSON.parse(readFileSync(path.join(configDir, 'gateway.json'), 'utf8')) as Discovery;
  } catch {
    return undefined;
  }
}

export async function connectGateway(configDir: string): Promise<Client> {
  const info = readDiscovery(configDir);
  if (!info) throw new Error(`no gateway.json in ${configDir}`);
  const client = new Client({ name: 'gatehouse-e2e', version: '0.0.0' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(info.url), { requestInit: { headers: { Authorization: `Bearer ${info.token}` } } }));
  return client;
}
