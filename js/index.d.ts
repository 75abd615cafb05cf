export * from "./wsocket.js";

/** Where the `.wasm` comes from: a URL, a `Response` (or a Promise of one), the bytes,
 * or a compiled `WebAssembly.Module` (that one in `{ module_or_path }` only: its type
 * has no members, so bare it would accept anything). */
export type WasmSource = string | URL | Request | Response | Promise<Response> | BufferSource | WebAssembly.Module;

/** Loads the wasm once; every later call (from any entry point) returns the same promise.
 * `module_or_path` is used on the first call; by default `wsocket_bg.wasm` next to the
 * module. A failed load is not kept: it rejects with a `WsError` `LOAD_FAILED` and the
 * next call tries again. (A bare source is taken as `{ module_or_path }`.) */
export function ready(input?: { module_or_path?: WasmSource } | string | URL | Request | Response | Promise<Response> | BufferSource): Promise<unknown>;
/** True once the wasm is loaded: `new WsClient(...)` works synchronously from then on. */
export function isReady(): boolean;
export default ready;

export { preconnect } from "./preconnect.js";
