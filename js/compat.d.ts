import type { WsClient, WsClientOptions, WsError, WsState } from "./index.js";

/** A legacy event-JSON frame: `{event, message, data}`. */
export interface WsocketFrame<T = unknown> {
  event: string;
  message?: string;
  data?: T;
  [field: string]: unknown;
}

export interface WsocketOptions extends Omit<WsClientOptions, "protocol"> {
  /** Called on every open (the first and each reconnect). */
  onOpen?: () => void;
  /** Called on every close of the socket. */
  onClose?: (event: { code: number; reason: string; wasClean: boolean }) => void;
  /** Called with every error: malformed frames, listener errors, timeouts, give-up. */
  onError?: (error: WsError) => void;
  /** Called with every inbound frame. */
  onMessage?: (frame: WsocketFrame) => void;
  /** Smallest reconnect delay in ms (later ones back off with jitter up to 30 s). Default 5000. */
  reconnectInterval?: number;
  /** Reconnect attempts before giving up; `null`/`Infinity` (default) is unlimited. */
  reconnectCount?: number | null;
  /** Interval of the `PONG` text heartbeat in ms. Default 10000. */
  heartbeatInterval?: number;
}

/** The legacy `Wsocket.js` API on top of `WsClient`. */
export class Wsocket {
  constructor(url: string, options?: WsocketOptions);
  readonly url: string;
  readonly options: WsocketOptions;
  /** Opens the connection; again while connected does nothing. Returns `this`. */
  connection(): this;
  /** Adds `callback(message, data)` for frames whose `event` is `event`; returns a remover. */
  on<T = unknown>(event: string, callback: (message: string | undefined, data: T) => void): () => void;
  /** Sends an object as JSON or a string as it is; queued until open. */
  send(data: object | string): void;
  /** Closes for good; safe before `connection()` and twice. */
  close(code?: number, reason?: string): void;
  /** The `WsClient` underneath (null until the wasm has loaded). */
  readonly client: WsClient | null;
  readonly state: WsState;
}

export default Wsocket;
