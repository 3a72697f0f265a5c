import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isJSONRPCRequest, type JSONRPCMessage, type JSONRPCRequest, type MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/** The `Protocol` method that runs a request's handler (private in the SDK's types). */
interface RequestRunner {
  _onrequest(request: JSONRPCRequest, extra?: MessageExtraInfo): void;
}

/**
 * Makes an upstream server hand each request straight to its handler once connected.
 *
 * `Protocol.connect` sorts every incoming message by trying, in this order, whether it is a
 * result response, an error response, a request, a notification, each a zod `safeParse`. A
 * client mostly sends requests, so every `tools/call` first failed two strict schemas; a failed
 * `safeParse` builds its issues and an error with a stack trace (~18 µs a call, more than the
 * request's own parse). The three schemas are strict: a message that passes the request schema
 * has neither `result` nor `error`, which the response schemas require, so it would fail both. It
 * is therefore checked against the request schema first and, if it is one, run as the SDK would
 * run it; anything else takes the SDK's path unchanged.
 */
export function directRequests(server: Server): void {
  const connect = server.connect.bind(server);
  server.connect = async (transport: Transport): Promise<void> => {
    // What the SDK's dispatcher calls first with every message (the transport's own hook).
    const before = transport.onmessage;
    await connect(transport);
    const dispatch = transport.onmessage;
    const runner = server as unknown as RequestRunner;
    if (!dispatch || typeof runner._onrequest !== 'function') return;
    transport.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) => {
      if (isJSONRPCRequest(message)) {
        before?.(message, extra);
        runner._onrequest(message, extra);
        return;
      }
      dispatch(message, extra);
    };
  };
}

