/** An MCP client in the test process, talking to the gateway the extension runs (via gateway.json). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitUntil } from '../harness/wait';

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

/**
 * Connects to the gateway named by `gateway.json`, waiting for the file: during a restart it is
 * removed with the old listener and written again only once the new one listens, which can come
 * after the servers show ready. A connection refused by a listener that closed after the file was
 * read is retried with the file read again, until the deadline.
 */
export async function connectGateway(configDir: string, timeoutMs = 30_000): Promise<Client> {
  return waitUntil(`a gateway to connect to through ${configDir}/gateway.json`, async () => {
    const info = readDiscovery(configDir);
    if (!info) return undefined;
    const client = new Client({ name: 'gatehouse-e2e', version: '0.0.0' }, { capabilities: {} });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(info.url), { requestInit: { headers: { Authorization: `Bearer ${info.token}` } } }));
      return client;
    } catch {
      await client.close().catch(() => undefined);
      return undefined;
    }
  }, timeoutMs, 100);
}
