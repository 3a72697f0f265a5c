/**
 * Entry of the config-parse worker thread (bundled to dist/configWorker.js). A YAML parse with
 * positions takes seconds for a file near the 1 MiB cap; here it cannot hold up tool calls.
 */
import { parentPort } from 'node:worker_threads';
import { parseConfigText, type ParseRequest, type ParseReply } from './configParser';

const port = parentPort;
if (!port) throw new Error('the config worker must run in a worker thread');

port.on('message', (request: ParseRequest) => {
  let reply: ParseReply;
  try {
    reply = { id: request.id, result: parseConfigText(request.kind, request.text, request.file) };
  } catch (err) {
    reply = { id: request.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
