import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * A fetch for the SDK's `StreamableHTTPClientTransport` that gives every request its own abort
 * signal, linked to the one the caller passed for as long as the request needs it.
 *
 * Why: the transport passes one connection-wide `AbortController` signal to every fetch, and
 * Node's fetch (undici) adds an abort listener to that signal per request and removes it only
 * when the request object is garbage-collected. A long session therefore piles up one listener
 * per call until a major GC (2,003 after 2,000 calls to a gateway, measured), each new one
 * costing a walk of the list, and `MaxListenersExceededWarning`s from 1,500 on. That transport
 * runs the `gatehouse` bridge (a client's every call) and every remote server of the pool.
 *
 * The link: a request gets a fresh controller that the shared signal aborts (same reason), and
 * the link is dropped as soon as the request no longer needs it — when fetch fails, when a
 * JSON (or empty) response has arrived, or when an event stream ends. A JSON body that is already
 * arriving is then read to its end even if the transport closes meanwhile; its request was
 * settled by the close already, and undici's body timeout bounds the read. An event stream stays
 * linked while it is read, so closing the transport still ends it.
 */
export function perRequestAbortFetch(inner: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const shared = init?.signal;
    if (!shared || shared.aborted) return inner(url, init);
    const own = new AbortController();
    const release = link(shared, own);
    let response: Response;
    try {
      response = await inner(url, { ...init, signal: own.signal });
    } catch (err) {
      release();
      throw err;
    }
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
      release();
      return response;
    }
    // `flush` runs when the stream ends normally; a cancel or an error ends it through `own`
    // (aborted with the shared signal) or leaves the link to the GC, with the stream.
    const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: release }));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/**
 * The requests linked to each shared signal, and the one listener that aborts them all: sixteen
 * calls in flight are sixteen links, not sixteen listeners (Node warns from the eleventh).
 */
const linked = new WeakMap<AbortSignal, Set<AbortController>>();

/** Aborts `own` with `shared`, until the returned function is called. */
function link(shared: AbortSignal, own: AbortController): () => void {
  const live = linked.get(shared) ?? listen(shared);
  live.add(own);
  return () => void live.delete(own);
}

function listen(shared: AbortSignal): Set<AbortController> {
  const live = new Set<AbortController>();
  const abortAll = (): void => {
    for (const controller of live) controller.abort(shared.reason);
    live.clear();
  };
  shared.addEventListener('abort', abortAll, { once: true });
  linked.set(shared, live);
  return live;
}
