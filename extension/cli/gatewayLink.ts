import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { readDiscoveryFile, type DiscoveryInfo } from '../gateway/discoveryFile';
import { perRequestAbortFetch } from '../platform/perRequestAbortFetch';
import { NoGatewayError } from './noGatewayError';
import { probePid } from '../state/probePid';

interface Link {
  client: Client;
  transport: StreamableHTTPClientTransport;
  info: DiscoveryInfo;
}

export interface GatewayLinkOptions {
  folder: string;
  /** The config directory holding `gateway.json`. */
  dir: string;
  version: string;
  /** Registry profile to connect to (`<url>/<profile>`); the default endpoint when absent. */
  profile?: string;
  /** The gateway's tool list may have changed (its own list_changed, or a different gateway now). */
  onToolsChanged: () => void;
  log: (line: string) => void;
}

/**
 * The bridge's connection to "the gateway running for this folder", which is not one fixed
 * endpoint: a VS Code window reload or a `serve --http` restart brings a new port and token.
 * So the link connects lazily through the discovery file, notices when its gateway is gone
 * (then fails the calls in flight at once instead of letting them hang), and re-reads the
 * discovery file on the next request.
 */
export class GatewayLink {
  private link: Link | undefined;
  private connecting: Promise<Link> | undefined;
  private instructions: string | undefined;
  private closed = false;

  constructor(private readonly options: GatewayLinkOptions) {}

  /** The first gateway's instructions, relayed to the bridge's own client. */
  get serverInstructions(): string | undefined {
    return this.instructions || undefined;
  }

  /** The live link, connecting (single-flight) when there is none. Throws {@link NoGatewayError}. */
  current(): Promise<Link> {
    if (this.link) return Promise.resolve(this.link);
    if (this.closed) return Promise.reject(new NoGatewayError('the bridge is shutting down'));
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * Runs `fn` against the gateway. When the request provably never reached a gateway (nothing
   * listening, a token or session of a gateway that has since restarted), the link is rebuilt
   * from the discovery file and the request sent once more; a request that may have reached
   * it is never repeated (it could be a write).
   */
  async request<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const link = await this.live();
      try {
        return await fn(link.client);
      } catch (err) {
        if (attempt === 0 && neverArrived(err)) {
          await this.drop(link, 'the gateway changed; reconnecting');
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * {@link current}, after dropping a link whose gateway process is already gone. The SDK learns
   * of a killed gateway only when its event stream errors, which races the next call: sent on
   * the dead gateway's kept-alive socket, that call would fail as if cut mid-call ("went away
   * during this call") although it never left. One `kill(pid, 0)` before each call answers
   * "no running gateway" instead, whatever the timing; a gateway that dies after this check
   * may have received the call, and is still reported as such.
   */
  private async live(): Promise<Link> {
    const link = this.link;
    if (link && !isAlive(link.info.pid)) await this.drop(link, 'the gateway stopped');
    return this.current();
  }

  async close(): Promise<void> {
    this.closed = true;
    const link = this.link;
    this.link = undefined;
    if (!link) return;
    await link.transport.terminateSession().catch(() => undefined);
    await link.client.close().catch(() => undefined);
  }

  private async connect(): Promise<Link> {
    const { folder, dir } = this.options;
    const info = await readDiscoveryFile(dir);
    if (!info || !isAlive(info.pid)) {
      throw new NoGatewayError(
        `no running Gatehouse gateway found for ${folder} (looked for ${dir}/gateway.json). ` +
          'Start one with `gatehouse serve --http` in that folder, or open the folder in VS Code with the Gatehouse extension.',
      );
    }
    const client = new Client({ name: 'gatehouse-bridge', version: this.options.version }, { capabilities: {} });
    const url = this.options.profile === undefined ? info.url : `${info.url}/${encodeURIComponent(this.options.profile)}`;
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Authorization: `Bearer ${info.token}` } },
      fetch: perRequestAbortFetch(),
    });
    try {
      await client.connect(transport);
    } catch (err) {
      await client.close().catch(() => undefined);
      // Never the token: only the URL and the reason.
      throw new NoGatewayError(`could not reach the gateway at ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const link: Link = { client, transport, info };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.options.onToolsChanged());
    // The SDK reports a dropped stream through onerror (and retries the standalone stream a
    // couple of times); it never rejects a call whose response stream was cut. Each report is
    // a cue to check whether our gateway still exists.
    transport.onerror = () => void this.checkAlive(link);
    this.link = link;
    if (this.instructions === undefined) {
      this.instructions = client.getInstructions() ?? '';
    } else {
      this.options.log(`connected to the gateway at ${info.url}`);
      // A different gateway (or the same one restarted) may list different tools.
      this.options.onToolsChanged();
    }
    return link;
  }

  /** Drops the link when its gateway is gone: in-flight calls fail now, the next request reconnects. */
  private async checkAlive(link: Link): Promise<void> {
    if (this.link !== link) return;
    const info = await readDiscoveryFile(this.options.dir);
    const same = info !== undefined && info.pid === link.info.pid && info.url === link.info.url && info.token === link.info.token;
    if (same && isAlive(link.info.pid)) return;
    await this.drop(link, 'the gateway stopped');
  }

  private async drop(link: Link, why: string): Promise<void> {
    if (this.link !== link) return;
    this.link = undefined;
    this.options.log(`${why} (${link.info.url})`);
    // Closing the client rejects every request still waiting on this gateway.
    await link.client.close().catch(() => undefined);
  }
}

/** True for failures that show the request was never processed by a gateway. */
function neverArrived(err: unknown): boolean {
  if (err instanceof StreamableHTTPError) return err.code === 401 || err.code === 404;
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

/**
 * True for a connection lost after the request went out (reset, socket closed mid-response):
 * the gateway may have run the call. With JSON responses the SDK surfaces this as fetch's own
 * error rather than a closed stream; only a refused connection proves nothing was delivered.
 */
export function lostInFlight(err: unknown): boolean {
  if (!(err instanceof TypeError) || err.message !== 'fetch failed') return false;
  return !neverArrived(err);
}

function isAlive(pid: number): boolean {
  return probePid(pid) === 'alive';
}
