import { EmptyResultSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../common/logger';
import type { DownstreamRequest } from '../../pool/types';
import type { RequestFinished } from '../gateway';
import type { ResourceRoute } from './resourceIndex';
import type { UpstreamSession } from './upstreamSessions';

export interface ResourceSubscriptionsDeps {
  /** Where a URI goes (the gateway's resource index), or why it goes nowhere. */
  resolve(uri: string): Promise<ResourceRoute>;
  /** Sends `resources/subscribe` or `unsubscribe` to a child (breaker, timeouts, tracing). */
  request(server: string, req: DownstreamRequest<typeof EmptyResultSchema>): Promise<unknown>;
  /** Audits a request outside the chain (off the answer's path, never failing it). */
  record(kind: RequestFinished['kind'], server: string, uri: string, began: number, status: RequestFinished['status'], error?: string): Promise<void>;
  /** Redacts a text that goes back to the client. */
  sanitize(text: string): Promise<string>;
  logger: Logger;
}

/** One child's URI as a map key. */
function subscriptionKey(server: string, uri: string): string {
  return `${server}\u0000${uri}`;
}

/**
 * The sessions' `resources/subscribe` and `unsubscribe`: each child is subscribed to a URI once,
 * however many sessions asked, and unsubscribed when the last of them unsubscribes or goes away.
 * Which session gets `notifications/resources/updated` is the sessions' routing (upstreamSessions.ts).
 */
export class ResourceSubscriptions {
  /** Per child and URI: how many sessions subscribed. */
  private readonly counts = new Map<string, number>();

  constructor(private readonly deps: ResourceSubscriptionsDeps) {}

  /** A session's `resources/subscribe`: the child is subscribed once, whoever asks; audited (kind `subscribe`). */
  async subscribe(session: UpstreamSession, uri: string): Promise<Record<string, never>> {
    const began = performance.now();
    const route = await this.deps.resolve(uri);
    if (route.refusal) {
      void this.deps.record('subscribe', route.server ?? '', uri, began, 'denied', route.refusal.message);
      throw new McpError(ErrorCode.InvalidParams, await this.deps.sanitize(route.refusal.message));
    }
    if (session.subscriptions.has(uri)) {
      void this.deps.record('subscribe', route.server, uri, began, 'allowed');
      return {};
    }
    session.subscriptions.set(uri, { server: route.server, uri: route.uri });
    const key = subscriptionKey(route.server, route.uri);
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count === 1) {
      try {
        await this.deps.request(route.server, { method: 'resources/subscribe', params: { uri: route.uri }, schema: EmptyResultSchema, label: `subscription to '${route.uri}'` });
      } catch (err) {
        session.subscriptions.delete(uri);
        this.release(key);
        const text = await this.deps.sanitize(err instanceof Error ? err.message : String(err));
        void this.deps.record('subscribe', route.server, uri, began, 'error', text);
        throw new McpError(ErrorCode.InternalError, text);
      }
    }
    void this.deps.record('subscribe', route.server, uri, began, 'allowed');
    return {};
  }

  /**
   * Drops a session's subscription; the child is unsubscribed when no session wants the URI.
   * What a client asked for is audited (kind `unsubscribe`); the clean-up after a disconnect is not.
   */
  async unsubscribe(session: UpstreamSession, uri: string, asked = false): Promise<Record<string, never>> {
    const began = performance.now();
    const sub = session.subscriptions.get(uri);
    if (asked) void this.deps.record('unsubscribe', sub?.server ?? '', uri, began, 'allowed');
    if (!sub) return {};
    session.subscriptions.delete(uri);
    const key = subscriptionKey(sub.server, sub.uri);
    if (this.release(key) === 0) {
      await this.deps.request(sub.server, { method: 'resources/unsubscribe', params: { uri: sub.uri }, schema: EmptyResultSchema, label: `unsubscription from '${sub.uri}'` }).catch(
        (err: unknown) => this.deps.logger.debug(`unsubscribe ${sub.uri} at ${sub.server}: ${String(err)}`),
      );
    }
    return {};
  }

  private release(key: string): number {
    const left = (this.counts.get(key) ?? 1) - 1;
    if (left <= 0) this.counts.delete(key);
    else this.counts.set(key, left);
    return Math.max(0, left);
  }
}
