import type {
  WsClient,
  WsClientOptions,
  WsError,
  WsLifecycleEvents,
  WsListener,
  WsMessage,
  WsState,
} from "./index.js";

export interface UseWsocket {
  /** The shared client of the URL; null until the wasm has loaded. */
  client: WsClient | null;
  state: WsState;
  /** Why the client could not be created (an `INVALID_OPTION`, a failed wasm load). */
  error: WsError | Error | null;
}

/** The page's client for `url`: created and connected by the first component that asks
 * (its `options` are used), shared by every other, closed after the last unmounts. */
export function useWsocket(url: string, options?: WsClientOptions): UseWsocket;

/** Calls `listener` for every message of `event` (or for a lifecycle event). */
export function useWsocketEvent<K extends keyof WsLifecycleEvents>(
  client: WsClient | null,
  event: K,
  listener: WsLifecycleEvents[K],
): void;
export function useWsocketEvent<T = unknown>(
  client: WsClient | null,
  event: string,
  listener: WsListener<T>,
): void;

/** Subscribes to `topic` while mounted and calls `listener` for its messages. */
export function useWsocketTopic<T = unknown>(
  client: WsClient | null,
  topic: string,
  listener?: WsListener<T>,
): void;

/** The last `limit` (default 100) messages of `event` (or of a topic with `topic: true`). */
export function useWsocketMessages<T = unknown>(
  client: WsClient | null,
  event: string,
  options?: { limit?: number; topic?: boolean },
): WsMessage<T>[];
