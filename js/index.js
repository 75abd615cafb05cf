// The package entry: everything of the wasm-bindgen module, with a `WsClient` whose
// plain `send(message)` stays in JS while the core says the socket is writable. Every
// other case (offline, reliable, options) is the core's, as before. Measured in
// BENCHMARKS.md, "Outbound": the wasm boundary cost more than the send itself.
//
// Nothing here touches `window` or fetches anything at import time, so the module can be
// imported during server-side rendering; the wasm loads on the first `init()`/`ready()`.
import load, { initSync as loadSync, WsClient as CoreClient } from "./wsocket.js";

export * from "./wsocket.js";
// src/web/early.js, which wasm-bindgen puts under snippets/wsocket-<hash>/: the build
// (js/finish-package.mjs) writes its path here.
import { makeError, preconnect } from "./snippets/EARLY";

export { preconnect };

let loading;
let loaded = false;

/**
 * Loads the wasm once. Every call (and every entry: compat, react, vue) shares one load.
 * A failed load is not kept: it rejects with a `WsError` `LOAD_FAILED` (the cause in
 * `cause`), and the next call tries again, so one network blip does not leave the page
 * without a client until it is reloaded.
 */
export function ready(input) {
  // wasm-bindgen's loader takes `{ module_or_path }` and warns about anything else.
  const plain = input === undefined || Object.getPrototypeOf(input) === Object.prototype;
  loading ??= load(plain ? input : { module_or_path: input }).then(
    (exports) => {
      loaded = true;
      return exports;
    },
    (cause) => {
      loading = undefined;
      throw makeError("LOAD_FAILED", `the wasm could not be loaded: ${cause?.message ?? cause}`, { cause });
    },
  );
  return loading;
}

/** wasm-bindgen's synchronous loader (a `WebAssembly.Module` or the bytes), counted as loaded. */
export function initSync(module) {
  const exports = loadSync(module);
  loaded = true;
  return exports;
}

/** Whether the wasm is loaded, so a `WsClient` can be created synchronously. */
export function isReady() {
  return loaded;
}

export default ready;

// The errors this entry raises itself: `NOT_READY`, `LOAD_FAILED`, and `CLIENT_FREED`
// (after `free()` the glue's pointer is 0, and wasm-bindgen would answer any call with
// "null pointer passed to rust").
const freed = () => makeError("CLIENT_FREED", "this WsClient was freed: create a new one");

// The hub of a client that is not freed.
const hub = (client) => {
  if (client.__wbg_ptr === 0) throw freed();
  return client._hub;
};

export class WsClient extends CoreClient {
  // Before the wasm is loaded the glue would fail with "Cannot read properties of undefined".
  constructor(url, options) {
    if (!loaded) throw makeError("NOT_READY", "the wasm is not loaded yet: await ready() before new WsClient()");
    super(url, options);
    // This object holds the listeners while the client is closed, so a closed client
    // the app dropped can be collected even when its listeners use it (the hub's `adopt`).
    // What the chunks of `crossTab` and `outbox` need (src/web/tabs.js, outbox.js): not
    // the options themselves, whose token provider the hub must not hold (`adopt`).
    const o = options ?? {};
    const boxed = o.outbox === "indexeddb";
    const opts = o.crossTab || boxed ? { crossTab: o.crossTab, boxed, ping: o.heartbeatMessage, url: typeof url === "string" ? url : undefined } : undefined;
    (this._hub = this.__hub).adopt(this, opts);
  }

  // Listeners are the hub's (src/web/hub.js): added and removed there, with no call into
  // the wasm.
  on(event, listener) {
    return hub(this).on(event, listener, false);
  }

  once(event, listener) {
    return hub(this).on(event, listener, true);
  }

  off(event, listener) {
    hub(this).off(event, listener);
  }

  send(message, options) {
    const h = hub(this);
    if (options === undefined) {
      const id = h.sendFast(message);
      // `undefined`: not sent, the core decides; `null`: sent, strings and binary have no id.
      if (id !== undefined) return id ?? undefined;
    }
    return super.send(message, options);
  }

  /**
   * `options.signal`, an `AbortSignal`, cancels the request as it cancels a `fetch`: the
   * promise rejects with `REQUEST_ABORTED` and the core forgets the request (no timeout,
   * no resend). Already aborted, the request is not sent at all.
   */
  request(type, data, options) {
    const h = hub(this);
    if (options?.signal === undefined) return super.request(type, data, options);
    const { signal, ...rest } = options;
    return h.watch(signal, () => super.request(type, data, rest));
  }

  /**
   * Releases the client; again, it does nothing. Its listeners are dropped at once (the
   * hub's `mute`): inside a listener of the client's own call (a `state` listener in
   * `close()`) the glue releases the client only when that call returns, and until then
   * the call's other listeners would still hear of it.
   */
  free() {
    if (this.__wbg_ptr === 0) return;
    this._hub.mute();
    super.free();
  }
}

// Every other method and accessor of a freed client throws `CLIENT_FREED` (not the
// glue's own, `__`).
const guard = (f) =>
  f &&
  function (...args) {
    if (this.__wbg_ptr === 0) throw freed();
    return f.apply(this, args);
  };
for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(CoreClient.prototype))) {
  if (name === "constructor" || name.startsWith("__") || Object.hasOwn(WsClient.prototype, name)) continue;
  const own = d.get || d.set ? { ...d, get: guard(d.get), set: guard(d.set) } : { ...d, value: guard(d.value) };
  Object.defineProperty(WsClient.prototype, name, own);
}
if (Symbol.dispose) WsClient.prototype[Symbol.dispose] = WsClient.prototype.free;
