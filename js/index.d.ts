export * from "./wsocket.js";

/** Loads the wasm once; every later call (from any entry point) returns the same promise.
 * `input` is passed to the wasm-bindgen loader on the first call (a URL, a `Response`, the
 * bytes or a compiled `WebAssembly.Module`); by default `wsocket_bg.wasm` next to the module. */
export function ready(input?: unknown): Promise<unknown>;
/** True once the wasm is loaded: `new WsClient(...)` works synchronously from then on. */
export function isReady(): boolean;
export default ready;
