// One client per URL for the whole page, shared by every React hook and Vue composable
// that asks for that URL, reference counted. The last release closes the client, but one
// task later: a component that unmounts and mounts again at once (React StrictMode, a
// keyed re-render, a route change that keeps the same socket) keeps the connection.
import { isReady, preconnect, ready, WsClient } from "./index.js";

const clients = new Map();

/** The key of `url`: the URL the client will open, so spellings of one endpoint share one
 * client (`"/ws"` on this page, `http://h/ws`, `WS://H:80/ws` and `ws://h/ws` are one).
 * A URL that does not parse keys as written; the client's constructor then refuses it. */
function keyOf(url) {
  if (typeof url !== "string") return url;
  try {
    const u = new URL(url, globalThis.location?.href);
    u.protocol = u.protocol.replace(/^http/, "ws");
    return u.href;
  } catch {
    return url;
  }
}

/** While the wasm loads, opens the socket the client of `url` will open first
 * (`preconnect`), so the handshake overlaps the download. Only where the client opens
 * `url` as given: not for Socket.IO (its own path and query) nor a token in the query,
 * and not with `crossTab` (the socket is shared, maybe already open in another tab). */
export function openEarly(url, options) {
  if (isReady() || typeof url !== "string") return;
  const o = options ?? {};
  if (o.protocol === "socketio" || o.crossTab || (o.token != null && o.tokenIn !== "message")) return;
  try {
    preconnect(url, o.subprotocols === undefined ? undefined : { subprotocols: o.subprotocols });
  } catch {
    // A URL or option the client refuses: its constructor reports it.
  }
}

/** Takes a reference to the client of `url`, creating and connecting it on first use
 * (the first caller's `options` win). `entry.promise` resolves with the client. */
export function acquire(url, options) {
  const key = keyOf(url);
  let entry = clients.get(key);
  if (entry) {
    entry.refs += 1;
    clearTimeout(entry.closing);
    entry.closing = undefined;
    return entry;
  }
  entry = { key, refs: 1, client: null, closing: undefined, promise: null };
  openEarly(url, options);
  entry.promise = ready().then(() => {
    const client = new WsClient(url, options);
    if (entry.refs === 0) {
      client.free(); // nobody saw it
      throw new Error("released before the wasm loaded");
    }
    entry.client = client;
    client.connect();
    return client;
  });
  // A failed entry (bad options) is not reused: the next acquire tries again.
  entry.promise.catch(() => clients.get(key) === entry && clients.delete(key));
  clients.set(key, entry);
  return entry;
}

/** Gives back a reference taken by `acquire`. */
export function release(entry) {
  entry.refs -= 1;
  if (entry.refs > 0) return;
  entry.closing = setTimeout(() => {
    if (entry.refs > 0) return;
    if (clients.get(entry.key) === entry) clients.delete(entry.key);
    // close(), not free(): a hook that still holds the client (passed down as a prop)
    // may call it once more; a closed client ignores that, and the GC frees it.
    entry.client?.close();
    entry.client = null;
  }, 0);
}

/** How many endpoints have a live shared client (for tests). */
export function sharedCount() {
  return clients.size;
}
