import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ElicitationCompleteNotificationSchema,
  ErrorCode,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../common/logger';
import { errorText } from './connectionText';
import type { RingBuffer } from './ringBuffer';
import type { UpstreamBridge } from './types';

// The handlers a child's client gets for traffic the child starts. Apart from connection.ts
// because they only forward: the one piece of connection state they read is "is this client
// still the live one", asked through `isLive`.

/** What the handlers need from the connection that owns `client`. */
export interface ChildMessageHost {
  readonly name: string;
  readonly output: RingBuffer;
  readonly logger: Logger;
  upstream(): UpstreamBridge | undefined;
  isLive(client: Client): boolean;
  relist(client: Client, kind: 'prompts' | 'resources'): void;
  log(level: 'info', message: string): void;
  redact(text: string): string;
}

/**
 * Child → client traffic (DESIGN.md §5b): requests go to the upstream bridge, which picks the
 * session; list changes re-list here; log messages and resource updates go up as they are.
 * Progress needs nothing here: the SDK delivers it to the request that asked for it.
 */
export function routeChildMessages(client: Client, host: ChildMessageHost): void {
  const forward = (method: string) => async (request: { params?: Record<string, unknown> }, extra: { signal: AbortSignal }) => {
    const bridge = host.upstream();
    if (!bridge) throw new McpError(ErrorCode.InternalError, `Gatehouse has no client connected that can answer ${method} from ${host.name}.`);
    return bridge.request(host.name, { method, params: request.params }, extra.signal) as never;
  };
  client.setRequestHandler(CreateMessageRequestSchema, forward('sampling/createMessage'));
  client.setRequestHandler(ElicitRequestSchema, forward('elicitation/create'));
  client.setRequestHandler(ListRootsRequestSchema, forward('roots/list'));
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => {
    host.log('info', 'server says its prompt list changed; listing again');
    host.relist(client, 'prompts');
  });
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
    host.log('info', 'server says its resource list changed; listing again');
    host.relist(client, 'resources');
  });
  const relay = (notification: { method: string; params?: Record<string, unknown> }): void => {
    if (!host.isLive(client)) return;
    try {
      host.upstream()?.notify(host.name, notification);
    } catch (err) {
      host.logger.debug(`${host.name}: could not relay ${notification.method}: ${errorText(err)}`);
    }
  };
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    const data = typeof n.params.data === 'string' ? n.params.data : JSON.stringify(n.params.data);
    // In the lifecycle line format, so the server's output channel shows it at its level.
    const level = ['debug', 'info', 'notice'].includes(n.params.level) ? 'info' : n.params.level === 'warning' ? 'warn' : 'error';
    host.output.push(`[gatehouse ${level}] log ${n.params.level}${n.params.logger ? ` ${n.params.logger}` : ''}: ${host.redact(data ?? '')}`);
    relay(n);
  });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => relay(n));
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => relay(n));
}
