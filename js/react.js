// React bindings: one shared client per URL (see shared.js), its state as React state,
// and listeners that see every message, even a burst that React renders once.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { acquire, release } from "./shared.js";

const noop = () => {};
const never = () => noop;

/** The page's client for `url` (created and connected on first use, closed after the
 * last component using it unmounts) and its connection state.
 * Returns `{ client, state, error }`; `client` is null until the wasm has loaded. */
export function useWsocket(url, options) {
  const [client, setClient] = useState(null);
  const [error, setError] = useState(null);
  const first = useRef(options);
  useEffect(() => {
    let live = true;
    const entry = acquire(url, first.current);
    entry.promise.then(
      (c) => live && setClient(c),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
      setClient(null);
      release(entry);
    };
  }, [url]);
  const subscribe = useCallback(
    (changed) => (client ? client.on("state", changed) : never()),
    [client],
  );
  const state = useSyncExternalStore(
    subscribe,
    () => (client ? client.state : error ? "closed" : "connecting"),
    () => "closed",
  );
  return { client, state, error };
}

/** Calls `listener(data, message)` for every message of `event` (a server event, a topic
 * or `"*"`) or for a lifecycle event, with the listener of the latest render. */
export function useWsocketEvent(client, event, listener) {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => {
    if (!client) return undefined;
    return client.on(event, (...args) => latest.current(...args));
  }, [client, event]);
}

/** Subscribes to `topic` while mounted (reference counted in the client) and calls
 * `listener(data, message)` for each of its messages. */
export function useWsocketTopic(client, topic, listener) {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => {
    if (!client) return undefined;
    const off = client.on(topic, (...args) => latest.current?.(...args));
    client.subscribe(topic);
    return () => {
      off();
      client.unsubscribe(topic);
    };
  }, [client, topic]);
}

/** The last `limit` (default 100) messages of `event`, oldest first. Each message is
 * appended with a functional update, so none is lost when React batches a burst.
 * With `{ topic: true }`, `event` is a topic subscribed while mounted. */
export function useWsocketMessages(client, event, { limit = 100, topic = false } = {}) {
  const [messages, setMessages] = useState([]);
  const append = useCallback(
    (_data, message) => setMessages((list) => [...list.slice(Math.max(0, list.length + 1 - limit)), message]),
    [limit],
  );
  useWsocketEvent(topic ? null : client, event, append);
  useWsocketTopic(topic ? client : null, event, append);
  return messages;
}
