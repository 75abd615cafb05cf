import type { Ref, ShallowRef } from "vue";
import type {
  WsClient,
  WsClientOptions,
  WsError,
  WsLifecycleEvents,
  WsListener,
  WsMessage,
  WsState,
} from "./index.js";

type ClientSource = WsClient | null | Readonly<Ref<WsClient | null>>;

export interface UseWsocket {
  /** The shared client of the URL; null until the wasm has loaded (and during SSR). */
  client: ShallowRef<WsClient | null>;
  state: Ref<WsState>;
  /** Why the client could not be created (an `INVALID_OPTION`, a failed wasm load). */
  error: ShallowRef<WsError | Error | null>;
}

/** The page's client for `url`: created and connected by the first scope that asks (its
 * `options` are used), shared by every other, closed after the last is disposed. */
export function useWsocket(url: string, options?: WsClientOptions): UseWsocket;

/** Calls `listener` for every message of `event` (or for a lifecycle event). */
export function useWsocketEvent<K extends keyof WsLifecycleEvents>(
  client: ClientSource,
  event: K,
  listener: WsLifecycleEvents[K],
): void;
export function useWsocketEvent<T = unknown>(client: ClientSource, event: string, listener: WsListener<T>): void;

/** Subscribes to `topic` while the scope lives and calls `listener` for its messages. */
export function useWsocketTopic<T = unknown>(client: ClientSource, topic: string, listener?: WsListener<T>): void;

/** A ref of the last `limit` (default 100) messages of `event` (or of a topic with `topic: true`). */
export function useWsocketMessages<T = unknown>(
  client: ClientSource,
  event: string,
  options?: { limit?: number; topic?: boolean },
): ShallowRef<WsMessage<T>[]>;
