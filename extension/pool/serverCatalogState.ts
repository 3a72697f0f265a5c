import type { Prompt, Resource, ResourceTemplate, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { Disposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { CatalogListing } from './serverListings';
import type { ServerCatalog } from './types';

// What one server offers besides tools (prompts, resources, templates, capabilities) and the
// event that says it changed. Apart from connection.ts because it is plain bookkeeping: the
// connection says what was listed and whether its client is live.

export class ServerCatalogState extends Disposable {
  /** What the live client's server declared; set on every connect. */
  capabilities: ServerCapabilities | undefined;
  private prompts: Prompt[] = [];
  private resources: Resource[] = [];
  private templates: ResourceTemplate[] = [];
  private live = false;
  private readonly _onDidChange = this.register(new Emitter<'prompts' | 'resources'>());
  /** Fires when this server's prompts, or its resources/templates, changed. */
  readonly onDidChange: Event<'prompts' | 'resources'> = this._onDidChange.event;

  /** The catalog as offered: empty lists unless `live` (a client is up). */
  snapshot(server: string, live: boolean): ServerCatalog {
    const caps = live ? this.capabilities : undefined;
    return {
      server,
      prompts: caps ? this.prompts : [],
      resources: caps ? this.resources : [],
      templates: caps ? this.templates : [],
      capabilities: {
        prompts: caps?.prompts !== undefined,
        resources: caps?.resources !== undefined,
        subscribe: caps?.resources?.subscribe === true,
        completions: caps?.completions !== undefined,
        logging: caps?.logging !== undefined,
      },
    };
  }

  /** Counts for the view: null where the server is down or did not declare the kind. */
  counts(connected: boolean): { prompts_count: number | null; resources_count: number | null } {
    return {
      prompts_count: connected && this.capabilities?.prompts ? this.prompts.length : null,
      resources_count: connected && this.capabilities?.resources ? this.resources.length : null,
    };
  }

  set(catalog: CatalogListing): void {
    if (catalog.prompts) {
      this.prompts = [...catalog.prompts];
      this._onDidChange.fire('prompts');
    }
    if (catalog.resources || catalog.templates) {
      if (catalog.resources) this.resources = [...catalog.resources];
      if (catalog.templates) this.templates = [...catalog.templates];
      this._onDidChange.fire('resources');
    }
  }

  /** The catalog is offered only while a client is live: going up or down changes it. */
  setLive(live: boolean): void {
    if (live === this.live) return;
    this.live = live;
    this._onDidChange.fire('prompts');
    this._onDidChange.fire('resources');
  }
}
