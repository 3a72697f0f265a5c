import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { errorText } from './connectionText';
import type { ServerCatalog } from './types';

// How a connection lists what a server offers (tools, prompts, resources, templates), all
// pages. Stateless: the connection decides what to do with a listing (and whether its client
// is still the live one), so these only need the client and a place to warn.

/** What one catalog listing found; a kind the server did not declare stays undefined. */
export type CatalogListing = Partial<Pick<ServerCatalog, 'prompts' | 'resources' | 'templates'>>;

/** Follows pagination; the gateway lists on its own after every (re)connect. */
export async function listAllTools(client: Client, timeout: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    // A raw request: Client.listTools would compile an output-schema validator per tool,
    // which the gateway does not need (the upstream client validates what it receives).
    const result = await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema, {
      timeout,
    });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

/**
 * Prompts, resources and resource templates, each only when the server declared the
 * capability, all pages. A listing that fails leaves that list empty with a warning: tools
 * still work, and the server's list_changed (or a respawn) lists again.
 */
export async function listCatalog(client: Client, timeout: number, warn: (message: string) => void): Promise<CatalogListing> {
  const caps = client.getServerCapabilities();
  const [prompts, resources, templates] = await Promise.all([
    caps?.prompts ? listAll(client, 'prompts/list', ListPromptsResultSchema, (r) => r.prompts, timeout, warn) : undefined,
    caps?.resources ? listAll(client, 'resources/list', ListResourcesResultSchema, (r) => r.resources, timeout, warn) : undefined,
    caps?.resources
      ? listAll(client, 'resources/templates/list', ListResourceTemplatesResultSchema, (r) => r.resourceTemplates, timeout, warn)
      : undefined,
  ]);
  return { prompts, resources, templates };
}

async function listAll<S extends AnySchema, T>(
  client: Client,
  method: string,
  schema: S,
  items: (result: SchemaOutput<S>) => T[],
  timeout: number,
  warn: (message: string) => void,
): Promise<T[] | undefined> {
  const out: T[] = [];
  let cursor: string | undefined;
  try {
    for (let page = 0; page < 100; page++) {
      const result = await client.request({ method, params: cursor ? { cursor } : {} }, schema, { timeout });
      out.push(...items(result));
      cursor = (result as { nextCursor?: string }).nextCursor;
      if (!cursor) break;
    }
  } catch (err) {
    warn(`${method} failed: ${errorText(err)}; listed as empty`);
    return [];
  }
  return out;
}
