// What a page needs before the wasm and the rest of the client: the errors every part
// raises, the URL rule, and sockets opened early (`preconnect`). It imports nothing, so
// an app can load it alone first (the `wsocket/preconnect` entry) and the rest later.

/** Every error wsocket raises or emits: an `Error` with a stable `code`. */
export function makeError(code, message, extra) {
  const error = /** @type {Error & {code: string}} */ (new Error(message));
  error.name = "WsError";
  error.code = code;
  if (extra !== undefined) Object.assign(error, extra);
  return error;
}

/**
 * `url` as a WebSocket URL, as the `WebSocket` constructor takes it: `ws://` and `wss://`,
 * `http://` and `https://` as `ws://` and `wss://` (a scheme in any case), or a path
 * (`/ws`) on this page's host (`wss:` on `https:` pages); undefined for anything else, or
 * for a path where there is no page (a worker without `location`, server-side rendering).
 */
export function wsUrl(url) {
  const scheme = /^(?:ws|http)(s?):\/\//i.exec(url);
  if (scheme !== null) return `ws${scheme[1] && "s"}://${url.slice(scheme[0].length)}`;
  const page = globalThis.location;
  if (!url.startsWith("/") || url.startsWith("//") || typeof page?.host !== "string") return undefined;
  return `${page.protocol === "https:" ? "wss" : "ws"}://${page.host}${url}`;
}

// ---- sockets opened before their client ----------------------------------------------
//
// `preconnect(url)` opens a WebSocket while the wasm is still loading (README, "First
// load"): on a slow network the handshake then overlaps the download instead of
// following it. The first client whose core opens that same URL with the same
// subprotocols takes the socket (`Hub.open`), with everything it received until then, in
// order. A socket nobody takes within PARK_MS, or that receives more than PARK_FRAMES
// frames meanwhile, is closed and forgotten; one that closes by itself is forgotten.
const PARK_MS = 10000;
const PARK_FRAMES = 1000;
const parked = new Map();
const parkKey = (url, protocols) => `${protocols.join(",")} ${url}`;

/**
 * Opens the socket a client will ask for, before the client exists. Returns whether it
 * did: false outside a page or a worker (server-side rendering) or when that URL is
 * already waiting. Throws INVALID_ARGUMENT for a URL the client would refuse too, and
 * INVALID_OPTION naming the field for bad options.
 */
export function preconnect(url, options) {
  const protocols = subprotocols(options);
  // Only in a page or a worker: during server-side rendering (no `location`) a socket
  // would be opened by the server, for nobody.
  if (typeof WebSocket !== "function" || typeof globalThis.location?.href !== "string") return false;
  const target = typeof url === "string" ? wsUrl(url) : undefined;
  if (target === undefined) throw makeError("INVALID_ARGUMENT", `preconnect() takes a ws://, wss://, http://, https:// URL or a path, not ${preview(url)}`);
  const key = parkKey(target, protocols);
  if (parked.has(key)) return false;
  let ws;
  try {
    ws = new WebSocket(target, protocols);
  } catch (cause) {
    throw makeError("INVALID_ARGUMENT", `preconnect(): the browser refused the URL: ${cause.message}`, { cause });
  }
  const early = { ws, opened: false, frames: [], timer: undefined };
  const forget = (code, reason) => {
    if (parked.get(key) !== early) return;
    parked.delete(key);
    clearTimeout(early.timer);
    ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
    if (code !== undefined && ws.readyState <= 1) ws.close(code, reason);
  };
  ws.binaryType = "arraybuffer";
  ws.onopen = () => (early.opened = true);
  ws.onmessage = (e) => (early.frames.push(e.data) > PARK_FRAMES ? forget(1000, "preconnected socket: too many frames before its client") : undefined);
  ws.onclose = () => forget();
  ws.onerror = () => {};
  early.timer = setTimeout(() => forget(1000, "preconnected socket not used"), PARK_MS);
  parked.set(key, early);
  return true;
}

// The waiting socket of `url` and `protocols`, taken out of the waiting list.
export function takeParked(url, protocols) {
  const key = parkKey(url, protocols);
  const early = parked.get(key);
  if (early === undefined) return undefined;
  parked.delete(key);
  clearTimeout(early.timer);
  return early;
}

// `options.subprotocols` as `new WsClient` reads it (a string or an array of strings).
function subprotocols(options) {
  if (options === undefined || options === null) return [];
  const bad = (field, why) => makeError("INVALID_OPTION", `invalid option \`${field}\`: ${why}`, { field });
  if (typeof options !== "object" || Array.isArray(options)) throw bad("options", "expected an object");
  for (const key of Object.keys(options)) if (key !== "subprotocols") throw bad(key, "unknown option");
  const v = options.subprotocols;
  if (v === undefined) return [];
  if (typeof v === "string") return [v];
  if (!Array.isArray(v) || !v.every((t) => typeof t === "string")) throw bad("subprotocols", "expected a string or an array of strings");
  return v;
}

function preview(value) {
  const text = typeof value === "string" ? value : String(value);
  return text.length > 80 ? text.slice(0, 80) + "…" : text;
}
