// `wsocket/compat`: the API of the hand-written `Wsocket.js` wrappers, unchanged for
// their callers, on top of WsClient. What callers keep: `new Wsocket(url, {onOpen,
// onClose, onError})`, `on(event, (message, data) => ...)`, `connection()`, `send(obj)`,
// `close()`, a `PONG` text heartbeat every 10 s, event-JSON frames `{event, message,
// data}`. What they lose: the seven bugs of the old wrappers (see README, "Migrating").
import { isReady, ready, WsClient } from "./index.js";
import { openEarly } from "./shared.js";

const COMPAT_KEYS = [
  "onOpen",
  "onClose",
  "onError",
  "onMessage",
  "reconnectInterval",
  "reconnectCount",
  "heartbeatInterval",
];

function invalid(field, expected) {
  const error = new Error(`invalid option \`${field}\`: expected ${expected}`);
  error.name = "WsError";
  error.code = "INVALID_OPTION";
  error.field = field;
  return error;
}

function check(options, field, type, expected) {
  const value = options[field];
  if (value !== undefined && typeof value !== type) throw invalid(field, expected);
  return value;
}

function positive(options, field) {
  const value = check(options, field, "number", "a number of ms");
  if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
    throw invalid(field, "a number of ms from 0");
  }
  return value;
}

/** Translates the legacy options into WsClient options (the rest are passed through,
 * and WsClient names any field it does not know). */
function translate(options) {
  if (options === null || typeof options !== "object") throw invalid("options", "an object");
  for (const field of ["onOpen", "onClose", "onError", "onMessage"]) {
    check(options, field, "function", "a function");
  }
  const interval = positive(options, "reconnectInterval") ?? 5000;
  const count = options.reconnectCount;
  if (count !== undefined && count !== null && !(Number.isInteger(count) && count >= 0)) {
    if (count !== Infinity) throw invalid("reconnectCount", "a whole number, null or Infinity");
  }
  const heartbeat = positive(options, "heartbeatInterval") ?? 10000;
  const rest = {};
  for (const [key, value] of Object.entries(options)) {
    if (!COMPAT_KEYS.includes(key)) rest[key] = value;
  }
  return {
    eventKey: "event",
    heartbeatMessage: "PONG",
    heartbeatIntervalMs: heartbeat,
    minDelayMs: interval,
    maxDelayMs: Math.max(interval, 30000),
    maxAttempts: count ?? null,
    ...rest,
  };
}

export class Wsocket {
  /** Same arguments as the old wrapper: `onOpen()`, `onClose({code, reason, wasClean})`,
   * `onError(error)`, `onMessage(frame)` (every frame), `reconnectInterval` (ms, default
   * 5000: the smallest delay; later ones back off with jitter up to 30 s),
   * `reconnectCount` (default unlimited), `heartbeatInterval` (ms of the `PONG`
   * heartbeat, default 10000), and any `WsClient` option. Throws `INVALID_OPTION` naming
   * the field. */
  constructor(url, options = {}) {
    this.url = url;
    this.options = options;
    this._settings = translate(options);
    this._client = null;
    this._listeners = [];
    this._ops = [];
    this._failed = null;
    this._closed = false;
    this._retry = undefined;
    // Loaded already: a bad option throws here. Otherwise it goes to `onError`.
    if (isReady()) this._start();
    else this._load(0);
  }

  // Loads the wasm; a failed fetch goes to `onError` (`LOAD_FAILED`) and is tried again
  // after 1 s, 2 s, 4 s ... (at most 30 s) until `close()`, with calls made meanwhile
  // kept for then.
  _load(attempt) {
    ready().then(
      () => {
        try {
          this._start();
        } catch (e) {
          this._fail(e);
        }
      },
      (e) => {
        if (e?.code !== "LOAD_FAILED") return this._fail(e);
        this._report(e);
        if (!this._closed) this._retry = setTimeout(() => this._load(attempt + 1), Math.min(30000, 1000 * 2 ** attempt));
      },
    );
  }

  _report(error) {
    if (this.options.onError) this.options.onError(error);
    else console.error("wsocket/compat:", error);
  }

  _fail(error) {
    this._failed = error;
    this._report(error);
  }

  _start() {
    const client = new WsClient(this.url, this._settings);
    const { onOpen, onClose, onError, onMessage } = this.options;
    if (onOpen) client.on("open", () => onOpen());
    if (onClose) client.on("close", (event) => onClose(event));
    if (onError) client.on("error", (error) => onError(error));
    if (onMessage) client.on("*", (_data, frame) => onMessage(frame));
    this._client = client;
    for (const listener of this._listeners) listener.attach();
    for (const op of this._ops.splice(0)) op(client);
  }

  /** Runs `op(client)` now, or once the wasm has loaded (in call order). */
  _do(op) {
    if (this._client) return op(this._client);
    if (this._failed) throw this._failed;
    this._ops.push(op);
    return undefined;
  }

  /** Opens the connection; calling it again while connected does nothing. */
  connection() {
    if (this._client === null && this._failed === null && !this._closed) openEarly(this.url, this._settings);
    this._do((c) => c.connect());
    return this;
  }

  /** Adds `callback(message, data)` for frames whose `event` is `event`. Every callback
   * added runs (the old wrapper kept only the last). Returns a function that removes it. */
  on(event, callback) {
    if (typeof callback !== "function") throw invalid("callback", "a function");
    const listener = {
      off: undefined,
      attach: () => {
        listener.off = this._client.on(event, (_data, frame) => callback(frame.message, frame.data));
      },
    };
    this._listeners.push(listener);
    if (this._client) listener.attach();
    return () => {
      this._listeners = this._listeners.filter((l) => l !== listener);
      listener.off?.();
    };
  }

  /** Sends `data` as JSON (a string as it is). Before the connection is open it is
   * queued and sent once it opens, instead of throwing or being lost. */
  send(data) {
    const frame = typeof data === "string" ? data : JSON.stringify(data);
    this._do((c) => c.send(frame));
  }

  /** Closes for good (no reconnect). Safe before `connection()` and twice. */
  close(code, reason) {
    this._closed = true;
    clearTimeout(this._retry);
    if (!this._failed) this._do((c) => c.close(code, reason));
  }

  /** The `WsClient` underneath (null until the wasm has loaded). */
  get client() {
    return this._client;
  }

  /** `"connecting"`, `"open"`, `"reconnecting"`, `"closing"` or `"closed"`. */
  get state() {
    return this._client ? this._client.state : "closed";
  }
}

export default Wsocket;
