//! The TypeScript declarations of the JS API, written by hand: an options type and an
//! event map, so `on("state", ...)` knows its payload. `WsClient` is `skip_typescript`
//! in Rust and declared here instead.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS: &str = r#"
/** The code of every error wsocket raises (the README's "Errors" table), and the codes
 * of the protocol's server errors (`fromServer: true`). A server of the app's may send
 * codes of its own: those arrive as they are, with `fromServer: true`. */
export type WsErrorCode =
  | "INVALID_OPTION" | "INVALID_URL" | "INVALID_CLOSE_CODE" | "INVALID_CLOSE_REASON"
  | "INVALID_ARGUMENT" | "QUEUE_FULL" | "QUEUE_OVERFLOW" | "REQUEST_TIMEOUT"
  | "REQUEST_ABORTED" | "CONNECT_TIMEOUT" | "HEARTBEAT_TIMEOUT" | "RECONNECT_FAILED"
  | "CONNECT_ERROR" | "PAYLOAD_TOO_LARGE" | "CLOSED_BY_SERVER" | "AUTH_FAILED"
  | "MALFORMED_FRAME" | "FRAME_TOO_LARGE" | "LISTENER_ERROR" | "TOKEN_ERROR"
  | "CLIENT_FREED" | "NOT_READY" | "LOAD_FAILED" | "OUTBOX_UNAVAILABLE"
  | "UNKNOWN_MESSAGE_TYPE" | "BAD_REQUEST" | "UNAUTHORIZED" | "FORBIDDEN"
  | "RATE_LIMITED" | "TOO_LARGE" | "UNAVAILABLE" | "SERVER_ERROR";

/** Every error wsocket throws or emits: an `Error` with a stable `code`. */
export interface WsError extends Error {
  name: "WsError";
  /** One of the documented codes, so a typo in `error.code === "AUTH_FAILD"` is a type
   * error: `CONNECT_ERROR` and `PAYLOAD_TOO_LARGE` are Socket.IO's; `CLIENT_FREED` a call
   * on a client after its `free()`; `NOT_READY` `new WsClient()` before the wasm is
   * loaded; `LOAD_FAILED` `ready()` could not fetch or compile the wasm (the next call
   * tries again), or a client the code of one of its options (`crossTab`, `outbox`,
   * Socket.IO); `OUTBOX_UNAVAILABLE` `outbox: "indexeddb"` could not use IndexedDB (its
   * sends are kept in memory only); `UNKNOWN_MESSAGE_TYPE`, `BAD_REQUEST`, `UNAUTHORIZED`, `FORBIDDEN`,
   * `RATE_LIMITED`, `TOO_LARGE`, `UNAVAILABLE` are the server's, `SERVER_ERROR` a server error frame
   * without a code (all with `fromServer: true`). */
  code: WsErrorCode;
  /** For `INVALID_OPTION`: the option's name. */
  field?: string;
  /** For `MALFORMED_FRAME` and `FRAME_TOO_LARGE`: the start of the frame; for server
   * errors: the frame. */
  frame?: unknown;
  /** For `FRAME_TOO_LARGE`: the frame's size in bytes. */
  size?: number;
  /** True when the server sent the error. */
  fromServer?: boolean;
  /** For `LISTENER_ERROR`: what the listener threw. */
  cause?: unknown;
}

export type WsState = "connecting" | "open" | "reconnecting" | "closing" | "closed";

export interface WsClientOptions {
  /** `"json"` (default): one JSON object per frame; `"raw"`: frames as they are;
   * `"socketio"`: Socket.IO v4 servers (WebSocket transport; see the README). */
  protocol?: "json" | "raw" | "socketio";
  /** The Socket.IO namespace, e.g. `"/events"` (`protocol: "socketio"`). Default `"/"`. */
  namespace?: string;
  /** The field that names a JSON frame's event. Default `"type"`; `"event"` for legacy backends. */
  eventKey?: string;
  /** Topics subscribed at every open. */
  topics?: string[];
  /** A token, or a function returning one (or a Promise of one), called before every connect. */
  token?: string | (() => string | Promise<string>) | null;
  /** `"query"` (default; `"message"` for socketio): `?token=`; `"message"`: an `auth`
   * message first thing after open (Socket.IO: `auth: {token}` in the CONNECT packet). */
  tokenIn?: "query" | "message";
  /** Reconnect after a drop. Default `true`. */
  reconnect?: boolean;
  /** Smallest reconnect delay, and the base of the backoff. Default 500. */
  minDelayMs?: number;
  /** Largest reconnect delay. Default 30000. */
  maxDelayMs?: number;
  /** Reconnect attempts before giving up; `null` or `Infinity` (default) is unlimited. */
  maxAttempts?: number | null;
  /** How long a connection must stay open before the attempt counter resets. Default 5000. */
  stableAfterMs?: number;
  /** How long a socket may stay connecting; 0 disables. Default 10000. */
  connectTimeoutMs?: number;
  /** Ping interval; 0 disables. Default 25000 (0 for `raw` and `socketio`: Socket.IO
   * servers ping). */
  heartbeatIntervalMs?: number;
  /** Deadline for a pong or any frame after a ping; 0 disables the watchdog. Default 10000. */
  heartbeatTimeoutMs?: number;
  /** A text frame sent verbatim as the ping (the legacy `"PONG"`). Default: a `ping` message. */
  heartbeatMessage?: string;
  /** Messages kept while not open. Default 1000. */
  queueMax?: number;
  /** What a send does when the queue is full. Default `"reject"` (throws `QUEUE_FULL`). */
  queueOverflow?: "reject" | "drop-oldest" | "drop-newest";
  /** Default timeout of `request`. Default 10000. */
  requestTimeoutMs?: number;
  /** The largest inbound frame parsed and delivered, in bytes (UTF-8 for text); a larger
   * one is skipped and reported as `FRAME_TOO_LARGE`. `null` or `Infinity`: no limit.
   * Default 67108864 (64 MiB). */
  maxMessageBytes?: number | null;
  /** WebSocket subprotocols offered at every connect, in order of preference (the
   * `protocols` argument of `new WebSocket`); `open` says which the server picked. */
  subprotocols?: string | string[];
  /** Share one WebSocket with every client of this origin's other tabs that opens the
   * same URL with the same protocol options (README, "One connection for many tabs"):
   * in a SharedWorker, else in one tab chosen with Web Locks, else (neither API) one per
   * tab. Each client keeps its own listeners, requests, subscriptions and state. Not with
   * `protocol: "socketio"`. Default `false`. */
  crossTab?: boolean;
  /** `"indexeddb"`: reliable sends (`send` with `reliable`, `request` with `retry`)
   * are also kept in IndexedDB until settled, and those a page left
   * (reloaded, crashed, closed) are sent again, with their ids, by the next client of the
   * same URL (a string URL: a provider has no fixed key); `restored` says how many.
   * Default `"memory"`. */
  outbox?: "memory" | "indexeddb";
  /** Log to the console. Default `false`. */
  debug?: boolean;
}

/** A typed-JSON message as the server sends it (DESIGN §3). */
export interface WsMessage<T = unknown> {
  type?: string;
  event?: string;
  id?: string;
  timestamp?: number;
  topic?: string;
  data?: T;
  error?: { code: string; message: string; details?: unknown };
  seq?: number;
  epoch?: string;
  /** Socket.IO: every argument of the event (`data` is the first). A binary attachment
   * is an `ArrayBuffer` where the server put it. */
  args?: unknown[];
  /** Socket.IO: present when the server asked for an acknowledgement; call it to answer
   * (an `ArrayBuffer`, typed array or `Blob` in the answer goes as an attachment). */
  ack?: (...args: unknown[]) => void;
  [field: string]: unknown;
}

/** Lifecycle events and their payloads. */
export interface WsLifecycleEvents {
  /** `subprotocol`: the one the server picked of `subprotocols`, `""` for none. */
  open: (event: { subprotocol: string }) => void;
  close: (event: { code: number; reason: string; wasClean: boolean }) => void;
  error: (error: WsError) => void;
  state: (change: { from: WsState; to: WsState }) => void;
  reconnecting: (event: { attempt: number; delayMs: number }) => void;
  /** Messages of `topic` from `expected` on were missed and cannot be replayed: refetch.
   * `got` is the seq that arrived instead, or null when the server said so up front. */
  gap: (event: { topic: string; expected: number; got: number | null }) => void;
  /** With `outbox: "indexeddb"`: reliable sends an earlier page (reloaded, crashed,
   * closed) left unacknowledged, sent again by this client with their own `ids`. */
  restored: (event: { count: number; ids: string[] }) => void;
}

export interface WsStats {
  state: WsState;
  messagesIn: number;
  messagesOut: number;
  /** Text frames count UTF-16 code units; binary frames count bytes. */
  bytesIn: number;
  bytesOut: number;
  reconnects: number;
  /** The last heartbeat round trip, or null before the first pong. */
  rttMs: number | null;
  queueLength: number;
  pendingRequests: number;
  /** Messages dropped or rejected by the queue's overflow policy. */
  dropped: number;
  /** Topic pushes dropped because they had been delivered already. */
  duplicates: number;
  /** `gap` events emitted. */
  gaps: number;
  /** Frames skipped as malformed (`MALFORMED_FRAME`). */
  malformed: number;
  /** Frames skipped as larger than `maxMessageBytes` (`FRAME_TOO_LARGE`). */
  oversized: number;
  listenerErrors: number;
  /** Bytes sent but still in the browser's buffer, not yet on the network
   * (`WebSocket.bufferedAmount`; 0 when not open): wait for it to fall before sending
   * more of a large upload. */
  bufferedAmount: number;
  /** With `crossTab`, where the shared socket lives: `"sharedworker"`, `"weblocks"` (a
   * leader tab) or `"tab"` (this tab's own: the browser has neither API). */
  crossTab?: "sharedworker" | "weblocks" | "tab";
  /** With `outbox: "indexeddb"`: the sends of earlier pages this client sent again. */
  restored?: number;
}

export type WsListener<T = unknown> = (data: T, message: WsMessage<T>) => void;

export class WsClient {
  /** Releases the client at once: detaches and closes the socket, clears every timer,
   * drops every listener and rejects pending requests with `REQUEST_ABORTED`. Called
   * from a listener, no other listener hears of the client again, not even the rest of
   * that dispatch (inside one of the client's own calls, such as a `state` listener
   * during `close()`, the rest is released as that call returns). Calling it again does
   * nothing; any other call on a freed client throws `CLIENT_FREED`. A closed client the
   * app no longer refers to is also released by the garbage collector, even when its
   * listeners or token provider use it. */
  free(): void;
  /** Creates a client for `url` (`ws://`, `wss://`, `http://` or `https://` as the
   * `WebSocket` constructor takes them, or a path on this page's host), or for the URL a
   * function returns (or resolves to) before every connect, such as a freshly signed one.
   * It does not connect until `connect()`. Throws a `WsError` (`INVALID_OPTION` with
   * `field`, or `INVALID_URL`). */
  constructor(url: string | (() => string | Promise<string>), options?: WsClientOptions);
  /** Opens the connection (no-op when already connecting or open). */
  connect(): void;
  /** Closes for good. `code`: 1000 (default) or 3000–4999; `reason`: at most 123 UTF-8 bytes. */
  close(code?: number, reason?: string): void;
  /** Listens to a lifecycle event. Returns a function that removes this listener (not
   * the same function added again; calling it twice does nothing). */
  on<K extends keyof WsLifecycleEvents>(event: K, listener: WsLifecycleEvents[K]): () => void;
  /** Listens to every inbound message. */
  on<T = unknown>(event: "*", listener: WsListener<T>): () => void;
  /** Listens to a server event by type (or `eventKey` value) or by topic. */
  on<T = unknown>(event: string, listener: WsListener<T>): () => void;
  once<K extends keyof WsLifecycleEvents>(event: K, listener: WsLifecycleEvents[K]): () => void;
  once<T = unknown>(event: string, listener: WsListener<T>): () => void;
  /** Removes `listener`, or every listener of `event` when omitted. */
  off(event: string, listener?: (...args: any[]) => void): void;
  /** Sends an object as JSON (with an `id` added when missing), a string or binary.
   * Queued while not open. With `{reliable: true}` (objects only) it is kept until the
   * server replies with its id, and sent again after every reconnect until then.
   * Returns the message's id (undefined for strings and binary). */
  send(message: object | string | ArrayBuffer | ArrayBufferView, options?: { reliable?: boolean }): string | undefined;
  /** Sends `{type, id, data}` and resolves with the reply carrying the same id. With
   * `replyEvent`, the first message of that event name answers it too: for a gateway that
   * cannot echo an id (a NestJS handler sees only `data`). With `retry: true` it is sent
   * again after every reconnect until answered or timed out. `signal` (the package's
   * `WsClient`) cancels it as it cancels a `fetch`: the promise rejects with
   * `REQUEST_ABORTED` and nothing more is sent or awaited for it. */
  request<T = unknown>(type: string, data?: unknown, options?: { timeoutMs?: number; retry?: boolean; replyEvent?: string; signal?: AbortSignal }): Promise<WsMessage<T>>;
  /** Subscribes to topics (reference counted; resubscribed on every open). */
  subscribe(topics: string | string[]): void;
  /** Drops one reference to each topic. */
  unsubscribe(topics: string | string[]): void;
  readonly state: WsState;
  stats(): WsStats;
  /** Console logging, switchable at run time. */
  debug: boolean;
}
"#;
