// What a page needs before the wasm and the rest of the client: the errors every part
// raises, the options and URL rules, and sockets opened early (`preconnect`). It imports nothing, so
// an app can load it alone first (the `wsocket/preconnect` entry) and the rest later.

/** Every error wsocket raises or emits: an `Error` with a stable `code`. */
export function makeError(code, message, extra) {
  const error = /** @type {Error & {code: string}} */ (new Error(message));
  error.name = "WsError";
  error.code = code;
  if (extra !== undefined) Object.assign(error, extra);
  return error;
}

// The options of `new WsClient(url, options)` (src/web/options.rs reads the checked
// values by these names).
const OPTIONS = ["protocol", "eventKey", "topics", "token", "tokenIn", "reconnect", "minDelayMs", "maxDelayMs", "maxAttempts", "stableAfterMs", "connectTimeoutMs", "heartbeatIntervalMs", "heartbeatTimeoutMs", "heartbeatMessage", "queueMax", "queueOverflow", "requestTimeoutMs", "debug", "namespace", "maxMessageBytes", "subprotocols", "crossTab", "outbox"];
const CHOICES = { protocol: ["json", "raw", "socketio"], tokenIn: ["query", "message"], queueOverflow: ["reject", "drop-oldest", "drop-newest"], outbox: ["memory", "indexeddb"] };
const STRINGS = ["eventKey", "heartbeatMessage", "namespace"];
const BOOLEANS = ["reconnect", "debug", "crossTab"];

export const badOption = (field, reason) => makeError("INVALID_OPTION", `invalid option \`${field}\`: ${reason}`, { field });

/**
 * Whether there is an options object (undefined and null mean none); throws INVALID_OPTION
 * when it is not an object or has a key outside `known`, so a typo is found at once.
 */
function knownKeys(options, known) {
  if (options === undefined || options === null) return false;
  if (typeof options !== "object" || Array.isArray(options)) throw badOption("options", "expected an object");
  for (const key of Object.keys(options)) if (!known.includes(key)) throw badOption(key, "unknown option");
  return true;
}

/** The options of `send` (`"send"`) or `request`: INVALID_OPTION as `knownKeys` says. */
export function checkMethodOptions(options, method) {
  knownKeys(options, method === "send" ? ["reliable"] : ["timeoutMs", "retry", "replyEvent"]);
  const event = options?.replyEvent;
  if (method !== "send" && event !== undefined && (typeof event !== "string" || event === "")) throw badOption("replyEvent", "expected a non-empty string");
}

/**
 * Checks the types of `options` and returns the checked values by name (absent ones
 * left out; `maxAttempts` and `maxMessageBytes` null as Infinity; one subprotocol as an
 * array). Ranges and rules across fields are the core's (`Options::validate`). Throws
 * INVALID_OPTION naming the field: an unknown key first, so a typo (`maxDelay`) is found
 * at once.
 */
export function readOptions(options) {
  const out = {};
  if (!knownKeys(options, OPTIONS)) return out;
  for (const key of OPTIONS) out[key] = readOption(options, key);
  if (out.crossTab && out.protocol === "socketio") throw badOption("crossTab", 'not available with protocol "socketio"');
  return out;
}

function readOption(options, key) {
  const v = options[key];
  const expect = (ok, what) => {
    if (!ok) throw badOption(key, `expected ${what}`);
    return v;
  };
  const whole = (max) => {
    expect(typeof v === "number", "a number");
    return expect(Number.isInteger(v) && v >= 0 && v <= max, `a whole number from 0 to ${max}`);
  };
  const choices = CHOICES[key];
  if (v === undefined) return v;
  if (choices) {
    expect(typeof v === "string", "a string");
    const quoted = choices.map((c) => `"${c}"`);
    return expect(choices.includes(v), `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`);
  }
  if (STRINGS.includes(key)) return expect(typeof v === "string", "a string");
  if (BOOLEANS.includes(key)) return expect(typeof v === "boolean", "a boolean");
  const strings = Array.isArray(v) && v.every((t) => typeof t === "string");
  if (key === "topics") return expect(strings, "an array of strings");
  if (key === "subprotocols") return typeof v === "string" ? [v] : expect(strings, "a string or an array of strings");
  if (key === "token") return expect(v === null || typeof v === "string" || typeof v === "function", "a string or a function returning one (or a Promise of one)");
  if (key === "maxAttempts" || key === "maxMessageBytes") return v === null || v === Infinity ? Infinity : whole(4294967295);
  if (key === "queueMax") return whole(1000000);
  return expect(typeof v === "number", "a number");
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
  knownKeys(options, ["subprotocols"]);
  const protocols = readOption(options ?? {}, "subprotocols") ?? [];
  // Only in a page or a worker: during server-side rendering (no `location`) a socket
  // would be opened by the server, for nobody.
  if (typeof WebSocket !== "function" || typeof globalThis.location?.href !== "string") return false;
  const target = typeof url === "string" ? wsUrl(url) : undefined;
  if (target === undefined) throw makeError("INVALID_ARGUMENT", "preconnect() takes a ws://, wss://, http://, https:// URL or a path");
  const key = parkKey(target, protocols);
  if (parked.has(key)) return false;
  let ws;
  try {
    ws = new WebSocket(target, protocols);
  } catch (cause) {
    throw makeError("INVALID_ARGUMENT", `preconnect(): ${cause.message}`, { cause });
  }
  const early = { ws, opened: false, frames: [], timer: 0 };
  // Closed by the server (no reason) or by us: forgotten, unless a client took it.
  const forget = (reason) => {
    if (parked.get(key) !== early) return;
    parked.delete(key);
    clearTimeout(early.timer);
    ws.onopen = ws.onclose = ws.onmessage = null;
    if (reason) ws.close(1000, reason);
  };
  ws.binaryType = "arraybuffer";
  ws.onopen = () => (early.opened = true);
  ws.onmessage = (e) => early.frames.push(e.data) > PARK_FRAMES && forget("too many frames before a client");
  ws.onclose = () => forget();
  early.timer = setTimeout(forget, PARK_MS, "not used");
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
