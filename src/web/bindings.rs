//! Imports: the JS hub snippet and the few globals the driver calls.

use alloc::string::String;

use super::js::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/hub.js")]
extern "C" {
    /// The per-message half of a client, in JS (see `hub.js`).
    #[derive(Debug, Clone)]
    pub type Hub;

    #[wasm_bindgen(constructor)]
    pub fn new(raw: bool, key: &str, prefix: &str, port: super::Port, protocols: &Array) -> Hub;

    /// The Rust API's listeners (JS adds and removes its own on the hub directly).
    #[cfg(feature = "std")]
    #[wasm_bindgen(method, catch)]
    pub fn on(
        this: &Hub,
        name: &JsValue,
        listener: &JsValue,
        once: bool,
    ) -> Result<Function, JsValue>;

    #[wasm_bindgen(method, js_name = useSocketIo)]
    pub fn use_socket_io(this: &Hub, nsp: &str);
    /// The token the CONNECT packet carries as `{"token": ...}` (none: no auth).
    #[wasm_bindgen(method, js_name = sioAuth)]
    pub fn sio_auth(this: &Hub, token: Option<&str>);
    #[wasm_bindgen(method, js_name = emitState)]
    pub fn emit_state(this: &Hub, from: &str, to: &str);
    #[wasm_bindgen(method, js_name = emitOpen)]
    pub fn emit_open(this: &Hub);
    #[wasm_bindgen(method, js_name = emitClose)]
    pub fn emit_close(this: &Hub, code: u16, reason: &str, was_clean: bool);
    #[wasm_bindgen(method, js_name = emitReconnecting)]
    pub fn emit_reconnecting(this: &Hub, attempt: u32, delay_ms: f64);
    #[wasm_bindgen(method, js_name = emitError)]
    pub fn emit_error(this: &Hub, error: &JsValue);

    /// Opens socket `gen`; fails when the browser refuses the URL.
    #[wasm_bindgen(method, catch)]
    pub fn open(this: &Hub, url: &str, gen: u32) -> Result<(), JsValue>;
    #[wasm_bindgen(method)]
    pub fn close(this: &Hub, gen: u32, code: u16, reason: &str, detach: bool);
    #[wasm_bindgen(method)]
    pub fn arm(this: &Hub, slot: u32, ms: f64);
    #[wasm_bindgen(method)]
    pub fn disarm(this: &Hub, slot: u32);
    #[wasm_bindgen(method)]
    pub fn dispose(this: &Hub);
    /// Keeps the token provider with the listeners (see `TokenSource`).
    #[wasm_bindgen(method, js_name = useToken)]
    pub fn use_token(this: &Hub, provider: &Function);
    /// Keeps the URL provider with the listeners, as the token provider.
    #[wasm_bindgen(method, js_name = useUrl)]
    pub fn use_url(this: &Hub, provider: &Function);
    /// Calls the URL and token providers for socket `gen` (`Port::resolved` answers).
    #[wasm_bindgen(method)]
    pub fn resolve(this: &Hub, gen: u32);

    #[wasm_bindgen(method, catch)]
    pub fn frame(this: &Hub, msg: &JsValue, n: f64) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, js_name = takeId)]
    pub fn take_id(this: &Hub) -> JsValue;
    /// Writes to socket `gen` if it is still the current one and takes writes (its
    /// `readyState` is OPEN); false when it did not write.
    #[wasm_bindgen(method, catch, js_name = writeTo)]
    pub fn write_to(this: &Hub, gen: u32, frame: &JsValue) -> Result<bool, JsValue>;

    #[wasm_bindgen(method, catch, js_name = requestFrame)]
    pub fn request_frame(
        this: &Hub,
        kind: &JsValue,
        data: &JsValue,
        n: f64,
    ) -> Result<JsValue, JsValue>;
    /// A request's waiter: its promise and how to settle it, held by the core's side
    /// while the request is pending (`Core::waiters`); the hub settles it when
    /// `Port.settle` hands it back.
    #[derive(Debug, Clone)]
    #[wasm_bindgen(typescript_type = "import('../src/web/hub.js').HubRequest")]
    pub type Request;
    #[wasm_bindgen(method, getter)]
    pub fn promise(this: &Request) -> Promise;

    /// Request `n`'s waiter (with `reply_event`, a message of that name answers it too);
    /// `frame` for a request with `retry` (the outbox keeps it), else undefined.
    #[wasm_bindgen(method)]
    pub fn track(this: &Hub, n: f64, reply_event: &JsValue, frame: &JsValue) -> Request;
    /// Reliable send `n`'s waiter, whose wire id is `id` and frame `frame`.
    #[wasm_bindgen(method, js_name = expectAck)]
    pub fn expect_ack(this: &Hub, id: &JsValue, n: f64, frame: &JsValue) -> Request;
    /// `{topic, seq, epoch}` of every topic with a position (the hub owns them).
    #[wasm_bindgen(method)]
    pub fn positions(this: &Hub) -> Array;
    /// Forgets the positions of these topics (unsubscribed).
    #[wasm_bindgen(method)]
    pub fn forget(this: &Hub, topics: &Array);
    /// Rejects `request` (a reliable send's: reports an `error` event).
    #[wasm_bindgen(method)]
    pub fn fail(this: &Hub, request: &Request, code: &str, message: &str);

    #[wasm_bindgen(method)]
    pub fn stats(
        this: &Hub,
        state: &str,
        reconnects: u32,
        rtt_ms: f64,
        queue_length: u32,
        pending: u32,
        dropped: f64,
    ) -> JsValue;

    #[wasm_bindgen(method, getter, js_name = framesIn)]
    pub fn frames_in(this: &Hub) -> f64;
    #[wasm_bindgen(method, setter)]
    pub fn set_debug(this: &Hub, on: bool);
    /// Where the machine's `writable_at_poll` byte is, in the wasm `memory`.
    #[wasm_bindgen(method, js_name = readWritable)]
    pub fn read_writable(this: &Hub, memory: &JsValue, at: f64);
    /// `maxMessageBytes` (Infinity: no limit), checked per inbound frame.
    #[wasm_bindgen(method, setter, js_name = maxIn)]
    pub fn set_max_in(this: &Hub, bytes: f64);
}

// The hub's Socket.IO decoder, which it imports only in Socket.IO mode (`import("./sio.js")`,
// src/web/hub.js). Declared here, never called, so that wasm-bindgen copies the file
// beside the hub in every build (the package, the browser tests) without importing it:
// an app that never uses Socket.IO never downloads it.
#[wasm_bindgen(module = "/src/web/sio.js")]
extern "C" {
    #[allow(dead_code)]
    #[wasm_bindgen(js_name = receive)]
    fn sio_copied_not_imported();
}

// The shared sockets of `crossTab` (src/web/tabs.js, also the SharedWorker's script),
// which the hub imports only for a client with that option: copied the same way.
#[wasm_bindgen(module = "/src/web/tabs.js")]
extern "C" {
    #[allow(dead_code)]
    #[wasm_bindgen(js_name = socket)]
    fn tabs_copied_not_imported();
}

// The outbox of `outbox: "indexeddb"` (src/web/outbox.js): copied the same way.
#[wasm_bindgen(module = "/src/web/outbox.js")]
extern "C" {
    #[allow(dead_code)]
    #[wasm_bindgen(js_name = start)]
    fn outbox_copied_not_imported();
}

// What the hub shares with a page that has not loaded the client yet (`early.js`: errors,
// the option and URL rules, `preconnect`); the hub imports it by a relative path.
#[wasm_bindgen(module = "/src/web/early.js")]
extern "C" {
    /// The checked values of the `new WsClient` options, by name, or an INVALID_OPTION
    /// error.
    #[wasm_bindgen(catch, js_name = readOptions)]
    pub fn read_options(options: &JsValue) -> Result<JsValue, JsValue>;

    /// Throws INVALID_OPTION when the options of `send` or `request` (`method`) are not an
    /// object (or absent) or hold a key that method does not take.
    #[wasm_bindgen(catch, js_name = checkMethodOptions)]
    pub fn check_method_options(options: &JsValue, method: &str) -> Result<(), JsValue>;

    /// `url` resolved against the page (`/ws`), or None when it is not a WebSocket URL.
    #[wasm_bindgen(js_name = wsUrl)]
    pub fn ws_url(url: &str) -> Option<String>;

    /// Builds the JS `Error` with a `code` that every wsocket error is.
    #[wasm_bindgen(js_name = makeError)]
    pub fn make_error(code: &str, message: &str) -> JsValue;
}

#[wasm_bindgen]
extern "C" {

    #[wasm_bindgen(js_namespace = console, js_name = debug)]
    pub fn console_debug(a: &str, b: &JsValue);

    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    pub fn date_now() -> f64;
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    pub fn math_random() -> f64;
}
