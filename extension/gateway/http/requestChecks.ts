import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Why a Host header is refused (DNS rebinding), or undefined when it names loopback; the same
 * rule and texts as the SDK's `localhostHostValidation`. `fast` holds the exact values a local
 * client sends (`127.0.0.1:<port>`), accepted without parsing.
 */
export function refusedHost(host: string | undefined, fast: ReadonlySet<string>): string | undefined {
  if (host === undefined) return 'Missing Host header';
  if (fast.has(host)) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return `Invalid Host header: ${host}`;
  }
  return LOOPBACK_NAMES.includes(hostname) ? undefined : `Invalid Host: ${hostname}`;
}

/** The Host values a client of `port` on loopback sends. */
export function loopbackHosts(port: number): Set<string> {
  return new Set(LOOPBACK_NAMES.flatMap((n) => [n, `${n}:${port}`]));
}

/**
 * Why an Authorization header is refused, or undefined when it carries `Bearer <token>` that
 * `matches`; the texts of the SDK's `requireBearerAuth`.
 */
export function refusedBearer(header: string | undefined, matches: (token: string) => boolean): string | undefined {
  if (!header) return 'Missing Authorization header';
  const [type, token] = header.split(' ');
  if (type?.toLowerCase() !== 'bearer' || !token) return "Invalid Authorization header format, expected 'Bearer TOKEN'";
  return matches(token) ? undefined : 'Invalid token';
}

/**
 * {@link refusedBearer} for a listener, remembered per connection: once a keep-alive connection
 * has presented the token, later requests on it carrying the very same header skip the hash
 * and constant-time compare (a SHA-256 object per request, most of the listener's own check
 * cost). Any other header on that connection, and every new connection, is checked in full.
 * The plain string comparison can only meet a header that already proved itself on this same
 * connection, so it tells a peer nothing it did not send; a peer without the token never
 * gets an entry to compare against.
 */
export function connectionBearer(matches: (token: string) => boolean): (req: IncomingMessage) => string | undefined {
  const accepted = new WeakMap<Socket, string>();
  return (req) => {
    const header = req.headers.authorization;
    if (header !== undefined && accepted.get(req.socket) === header) return undefined;
    const refused = refusedBearer(header, matches);
    if (refused === undefined && header !== undefined) accepted.set(req.socket, header);
    return refused;
  };
}

/**
 * Which endpoint a request path names: `''` for `/mcp`, the profile for `/mcp/<profile>`,
 * undefined for anything else. One trailing slash and a query are ignored, `/mcp` matches in any
 * case (as the express routes it replaces did).
 */
export function endpointOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path.length === 4) return path.toLowerCase() === '/mcp' ? '' : undefined;
  if (path.length < 6 || path.slice(0, 5).toLowerCase() !== '/mcp/') return undefined;
  const segment = path.slice(5);
  if (segment.includes('/')) return undefined;
  try {
    return decodeURIComponent(segment) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a body of at most `max` bytes; undefined when it is larger (a declared length is
 * refused before anything is read). One chunk, the usual case, is used as it is.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (declared > max) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

/**
 * Whether a parsed value has the shape of a JSON-RPC 2.0 message: a request or notification
 * (`method`), or a response (`id` with `result` or `error`). Only the envelope: the SDK's
 * `Server` checks each method's params against its schema, so nothing is validated twice.
 */
export function isMessage(value: unknown): value is JSONRPCMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const m = value as { jsonrpc?: unknown; method?: unknown; id?: unknown; result?: unknown; error?: unknown };
  if (m.jsonrpc !== '2.0') return false;
  const idOk = m.id === undefined || typeof m.id === 'string' || (typeof m.id === 'number' && Number.isInteger(m.id));
  if (typeof m.method === 'string') return idOk && !('result' in m) && !('error' in m);
  if (m.id === undefined || !idOk) return false;
  if ('result' in m) return typeof m.result === 'object' && m.result !== null && !('error' in m);
  const error = m.error as { code?: unknown; message?: unknown } | null | undefined;
  return typeof error === 'object' && error !== null && Number.isInteger(error.code) && typeof error.message === 'string';
}
