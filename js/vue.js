// Vue bindings: one shared client per URL (see shared.js), its state as a ref, and
// listeners tied to the calling component's (or effect scope's) lifetime.
import { getCurrentScope, isRef, onScopeDispose, ref, shallowRef, watch } from "vue";
import { acquire, release } from "./shared.js";

const inBrowser = typeof window !== "undefined";

function onDispose(fn) {
  if (getCurrentScope()) onScopeDispose(fn);
}

/** The page's client for `url` (created and connected on first use, closed after the
 * last scope using it is disposed). Returns refs: `{ client, state, error }`; `client`
 * is null until the wasm has loaded, and on the server (SSR) where nothing connects. */
export function useWsocket(url, options) {
  const client = shallowRef(null);
  const state = ref(inBrowser ? "connecting" : "closed");
  const error = shallowRef(null);
  if (!inBrowser) return { client, state, error };
  let live = true;
  let offState;
  const entry = acquire(url, options);
  entry.promise.then(
    (c) => {
      if (!live) return;
      client.value = c;
      state.value = c.state;
      offState = c.on("state", ({ to }) => {
        state.value = to;
      });
    },
    (e) => {
      if (!live) return;
      error.value = e;
      state.value = "closed";
    },
  );
  onDispose(() => {
    live = false;
    offState?.();
    release(entry);
  });
  return { client, state, error };
}

/** Attaches `attach(client)` (which returns a detach function) to a client or a ref of
 * one, again whenever the ref changes, and detaches on dispose. */
function withClient(source, attach) {
  let detach;
  const stop = watch(
    () => (isRef(source) ? source.value : source),
    (client) => {
      detach?.();
      detach = client ? attach(client) : undefined;
    },
    { immediate: true },
  );
  onDispose(() => {
    stop();
    detach?.();
  });
}

/** Calls `listener(data, message)` for every message of `event` (a server event, a topic
 * or `"*"`) or for a lifecycle event. `client` may be a ref (as `useWsocket` returns). */
export function useWsocketEvent(client, event, listener) {
  withClient(client, (c) => c.on(event, listener));
}

/** Subscribes to `topic` while the scope lives (reference counted in the client) and
 * calls `listener(data, message)` for each of its messages. */
export function useWsocketTopic(client, topic, listener) {
  withClient(client, (c) => {
    const off = listener ? c.on(topic, listener) : undefined;
    c.subscribe(topic);
    return () => {
      off?.();
      c.unsubscribe(topic);
    };
  });
}

/** A ref of the last `limit` (default 100) messages of `event`, oldest first. With
 * `{ topic: true }`, `event` is a topic subscribed while the scope lives. */
export function useWsocketMessages(client, event, { limit = 100, topic = false } = {}) {
  const messages = shallowRef([]);
  const append = (_data, message) => {
    const list = messages.value;
    messages.value = [...list.slice(Math.max(0, list.length + 1 - limit)), message];
  };
  if (topic) useWsocketTopic(client, event, append);
  else useWsocketEvent(client, event, append);
  return messages;
}
