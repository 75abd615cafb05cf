// The package entry: everything of the wasm-bindgen module, with a `WsClient` whose
// plain `send(message)` stays in JS while the core says the socket is writable. Every
// other case (offline, reliable, options) is the core's, as before. Measured in
// BENCHMARKS.md, "Outbound": the wasm boundary cost more than the send itself.
import init, { WsClient as CoreClient } from "./wsocket.js";

export * from "./wsocket.js";
export default init;

export class WsClient extends CoreClient {
  send(message, options) {
    if (options === undefined) {
      const hub = this._hub ?? (this._hub = this.__hub);
      const id = hub.sendFast(message);
      // `undefined`: not sent, the core decides; `null`: sent, strings and binary have no id.
      if (id !== undefined) return id ?? undefined;
    }
    return super.send(message, options);
  }
}
