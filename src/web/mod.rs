//! The browser driver: the only code that touches JS (the hub, and the built-ins of
//! `js.rs`).
//!
//! It feeds the core's [`Machine`] with inputs and executes its effects through the
//! hub (`hub.js`), which holds the browser objects: the socket, the timers, the page
//! listeners. Ownership, so nothing leaks and nothing stale runs:
//! - [`Inner`] owns the machine and the hub; the hub owns the one [`Port`] it calls back
//!   (typed, one method per event), created once per client; the port holds a
//!   `Weak<Inner>`, so there is no `Rc` cycle and a port outliving its client does
//!   nothing.
//! - The hub keeps at most one socket; replacing or releasing it detaches every handler
//!   before the socket is closed, so an old socket can never call back.
//! - Timers are handles in slots in the hub; arming replaces (and clears) the previous
//!   one. Dropping `Inner` disposes of the hub: timers cleared, page listeners removed,
//!   socket released, the app's listeners dropped, pending requests rejected
//!   (`REQUEST_ABORTED`). No `forget()` anywhere.
//! - No `RefCell` borrow is held while user code runs: effects are popped one at a time
//!   and executed with the borrow released, so listeners may call back into the client.

mod bindings;
pub(crate) mod js;
mod options;
#[cfg(feature = "std")]
pub mod rust;
mod ts;

use alloc::borrow::ToOwned;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use self::bindings::{
    check_method_options, console_debug, date_now, make_error, math_random, ws_url, Hub, Request,
};
use self::js::{Array, Promise};
pub(crate) use self::options::Token;
use crate::machine::{Effect, Event, Input, Machine, Outbound, State, Timer};
use crate::options::{Protocol, TokenIn};
use crate::recovery::Position;
use crate::vecmap::VecMap;
use crate::Error;

impl From<Error> for JsValue {
    fn from(e: Error) -> JsValue {
        let value = make_error(e.code(), &e.message());
        if let Error::InvalidOption { field, .. } = &e {
            let _ = js::reflect_set(&value, &"field".into(), &JsValue::from_str(field));
        }
        value
    }
}

/// Where the token comes from. A provider itself is held by the hub, with the listeners
/// (`useToken`): held here it would be a garbage-collector root, and keep alive a dropped
/// client that it refers to.
#[derive(Clone)]
enum TokenSource {
    None,
    Fixed(String),
    Provider,
}

struct Core {
    machine: Machine<JsValue>,
    /// The URL to open; `None` when a provider gives it before every connect (held by the
    /// hub, as the token provider is: `useUrl`).
    url: Option<String>,
    token: TokenSource,
    /// The token to send as an `auth` message once the socket opens.
    pending_auth: Option<String>,
    /// The waiter (promise) of each request and reliable send the machine holds, by its
    /// id. The machine decides which are pending and when they fail; this only settles
    /// them: an entry goes when the machine lets its request go, in `settle` or on
    /// `RequestFailed`.
    waiters: VecMap<u64, Request>,
}

/// Where `RefCell::borrow_mut` would panic: a second borrow of the core is a bug (effects
/// run with the borrow released), and it traps either way (`panic = "abort"`), but the
/// panic's message would link `core::fmt` into the package build (~450 B gzip for the
/// 33 borrows).
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

struct Inner {
    core: RefCell<Core>,
    hub: Hub,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // No `await client.request(...)` hangs on a freed client.
        if let Ok(mut core) = self.core.try_borrow_mut() {
            let waiters = core::mem::take(&mut core.waiters);
            drop(core);
            for (_, request) in waiters.iter() {
                self.hub.fail(request, "REQUEST_ABORTED", "request aborted: the client was freed");
            }
        }
        self.hub.dispose();
    }
}

fn now() -> f64 {
    date_now()
}

impl Inner {
    fn core_mut(&self) -> core::cell::RefMut<'_, Core> {
        self.core.try_borrow_mut().unwrap_or_else(|_| trap())
    }

    fn core_ref(&self) -> core::cell::Ref<'_, Core> {
        self.core.try_borrow().unwrap_or_else(|_| trap())
    }

    fn debug(&self, what: &str, detail: &JsValue) {
        if self.core_ref().machine.options().debug {
            console_debug(what, detail);
        }
    }

    /// Feeds one input to the machine, then executes every effect.
    fn input(self: &Rc<Self>, input: Input) {
        self.core_mut().machine.handle(now(), input);
        self.run();
    }

    /// Executes effects one at a time with no borrow held across user code. The hub's
    /// send fast path reads the machine's `writable_at_poll` in place: it is on only
    /// where the machine would send at once, after the run and inside a listener when no
    /// effect is left to overtake.
    fn run(self: &Rc<Self>) {
        loop {
            let effect = self.core_mut().machine.poll();
            match effect {
                Some(effect) => self.execute(effect),
                None => break,
            }
        }
    }

    fn execute(self: &Rc<Self>, effect: Effect<JsValue>) {
        match effect {
            Effect::OpenSocket { gen } => self.open_socket(gen),
            // The hub acts only if socket `gen` is still the one it holds.
            // The socket's `readyState` is the hub's to read: a socket that no longer
            // takes writes (closing) hands the frame back to the machine's queue.
            Effect::Send { gen, frame } => {
                let value = match &frame {
                    Outbound::Payload(p) | Outbound::Reliable(p) => p.clone(),
                    Outbound::Text(t) => JsValue::from_str(t),
                };
                match self.hub.write_to(gen, &value) {
                    Ok(true) => {}
                    Ok(false) => self.core_mut().machine.unsent(gen, frame),
                    Err(e) => self.hub.emit_error(&e),
                }
            }
            Effect::CloseSocket { gen, code, reason, detach } => {
                self.hub.close(gen, code, &reason, detach)
            }
            Effect::Arm { timer, after_ms } => self.hub.arm(timer.index() as u32, after_ms),
            Effect::Disarm(timer) => self.hub.disarm(timer.index() as u32),
            Effect::Emit(event) => self.emit(event),
            Effect::RequestFailed { id, error } => {
                let waiter = self.core_mut().waiters.remove(&id);
                if let Some(request) = waiter {
                    self.hub.fail(&request, error.code(), &error.message());
                }
            }
        }
    }

    fn emit(&self, event: Event) {
        match event {
            Event::State { from, to } => {
                self.debug("wsocket state", &JsValue::from_str(to.as_str()));
                self.hub.emit_state(from.as_str(), to.as_str());
            }
            Event::Open => self.hub.emit_open(),
            Event::Close { code, reason, was_clean } => {
                self.hub.emit_close(code, &reason, was_clean)
            }
            Event::Reconnecting { attempt, delay_ms } => {
                self.hub.emit_reconnecting(attempt, delay_ms)
            }
            Event::Error(error) => self.hub.emit_error(&error.into()),
        }
    }

    /// Opens socket `gen` once the hub has what it needs first (`resolve`): the URL and
    /// the token from their providers, and the chunk of the hub's own that the socket
    /// needs (the Socket.IO decoder, `crossTab`'s shared sockets). Always through the
    /// hub, which knows both; without any of them it answers in a microtask.
    fn open_socket(self: &Rc<Self>, gen: u32) {
        self.hub.resolve(gen);
    }

    /// The providers' answers for socket `gen`: the URL (already a WebSocket URL) and the
    /// token, each `None` when there is no such provider; `ok` false when one failed,
    /// which the hub reported (`INVALID_URL`, `TOKEN_ERROR`): then it is retried like a drop.
    fn on_resolved(
        self: &Rc<Self>,
        gen: u32,
        ok: bool,
        given_url: Option<String>,
        given_token: Option<String>,
    ) {
        let current = {
            let core = self.core_ref();
            core.machine.gen() == gen && core.machine.state() == State::Connecting
        };
        if !current {
            return;
        }
        if !ok {
            return self.input(Input::SocketClosed {
                gen,
                code: 1006,
                reason: "no socket: a provider failed".to_owned(),
                was_clean: false,
            });
        }
        let (url, token) = {
            let core = self.core_ref();
            let url = core.url.clone().or(given_url);
            let token = match &core.token {
                TokenSource::Fixed(t) => Some(t.clone()),
                _ => given_token,
            };
            (url, token)
        };
        self.create_socket(gen, url.unwrap_or_default(), token);
    }

    fn create_socket(self: &Rc<Self>, gen: u32, url: String, token: Option<String>) {
        let (url, auth) = {
            let core = self.core_ref();
            match (core.machine.options().token_in, token) {
                (TokenIn::Query, Some(t)) => {
                    let sep = if url.bytes().any(|b| b == b'?') { "&" } else { "?" };
                    let encoded = js::encode_uri_component(&t);
                    (crate::text::concat(&[&url, sep, "token=", &encoded]), None)
                }
                (_, token) => (url, token),
            }
        };
        // Socket.IO: the token goes in the CONNECT packet the hub sends.
        let auth = if core_is_socketio(&self.core_ref()) {
            self.hub.sio_auth(auth.as_deref());
            None
        } else {
            auth
        };
        match self.hub.open(&url, gen) {
            Ok(()) => self.core_mut().pending_auth = auth,
            Err(e) => {
                self.hub.emit_error(&e);
                self.input(Input::SocketClosed {
                    gen,
                    code: 1006,
                    reason: "the browser refused the URL".to_owned(),
                    was_clean: false,
                });
            }
        }
    }

    /// Socket `gen` opened (for Socket.IO: the namespace accepted the CONNECT, and the
    /// server promised a ping within `window_ms`).
    fn on_open(self: &Rc<Self>, gen: u32, window_ms: Option<f64>) {
        // The hub's positions (it owns them), for the `since` of the resubscribe.
        let mut since = Vec::new();
        for at in self.hub.positions().iter() {
            since.push(Position {
                topic: js::field(&at, "topic").as_string().unwrap_or_default(),
                seq: js::field(&at, "seq").as_f64().unwrap_or(0.0) as u64,
                epoch: js::field(&at, "epoch").as_string().unwrap_or_default(),
            });
        }
        let frames_in = self.hub.frames_in() as u64;
        let mut core = self.core_mut();
        core.machine.handle(now(), Input::Activity { frames_in });
        let auth = core.pending_auth.take();
        if let Some(window_ms) = window_ms {
            core.machine.handle(now(), Input::ServerHeartbeat { gen, window_ms });
        }
        drop(core);
        self.input(Input::SocketOpened { gen, auth, since });
    }

    /// Feeds `input` with the frames that arrived before it counted first: the watchdog
    /// takes any frame as a sign of life (timers, a wake), and the machine tells a
    /// refusal right after the open from a kick by them (a socket's end). `own`: the
    /// frames that are the input itself (a Socket.IO DISCONNECT packet).
    fn counted(self: &Rc<Self>, input: Input, own: u64) {
        let frames_in = (self.hub.frames_in() as u64).saturating_sub(own);
        self.core_mut().machine.handle(now(), Input::Activity { frames_in });
        self.input(input);
    }

    /// `subscribe` (`add`) or `unsubscribe`: one path for both (their shims would
    /// otherwise each carry the checks and the machine's code inlined).
    fn topics(self: &Rc<Self>, topics: &JsValue, add: bool) -> Result<(), JsValue> {
        no_topics_in_socketio(&self.core_ref())?;
        let topics = topic_list(topics)?;
        let topics = topics.iter().map(String::as_str);
        {
            let machine = &mut self.core_mut().machine;
            if add {
                machine.subscribe(topics);
            } else {
                let gone = machine.unsubscribe(topics);
                let list = Array::new();
                for topic in &gone {
                    list.push(&JsValue::from_str(topic));
                }
                self.hub.forget(&list);
            }
        }
        self.run();
        Ok(())
    }
}

/// A WebSocket client that reconnects, keeps a heartbeat, queues while offline,
/// resubscribes topics and matches replies to requests.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct WsClient {
    inner: Rc<Inner>,
}

/// The hub's calls into its client: the socket's and the page's events, each a named,
/// typed method (the generated `.d.ts` declares them, and `tsc --checkJs` checks the
/// hub's calls against it). Internal: only the hub holds one. It holds the client
/// weakly, so a port that outlives its client does nothing.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Port {
    inner: Weak<Inner>,
}

#[wasm_bindgen]
impl Port {
    /// Socket `gen` opened; for Socket.IO, `window_ms` is the server's
    /// `pingInterval + pingTimeout`.
    pub fn opened(&self, gen: u32, window_ms: Option<f64>) {
        if let Some(inner) = self.inner.upgrade() {
            inner.on_open(gen, window_ms);
        }
    }

    /// Socket `gen`'s close event.
    pub fn closed(&self, gen: u32, code: u16, reason: String, was_clean: bool) {
        if let Some(inner) = self.inner.upgrade() {
            inner.counted(Input::SocketClosed { gen, code, reason, was_clean }, 0);
        }
    }

    /// A `pong` arrived on socket `gen`.
    pub fn pong(&self, gen: u32) {
        if let Some(inner) = self.inner.upgrade() {
            inner.input(Input::Pong { gen });
        }
    }

    /// A reply (or the app's abort) names request `n`: if the machine still holds it,
    /// it stops waiting and its waiter is handed back, for the hub to settle.
    pub fn settle(&self, n: f64) -> Option<Request> {
        let inner = self.inner.upgrade()?;
        let waiter = {
            let mut core = inner.core_mut();
            if !core.machine.settle(now(), n as u64) {
                return None;
            }
            core.waiters.remove(&(n as u64))
        };
        inner.run();
        waiter
    }

    /// Whether the machine still holds request `n`.
    pub fn pending(&self, n: f64) -> bool {
        self.inner.upgrade().is_some_and(|inner| inner.core_ref().machine.is_pending(n as u64))
    }

    /// The server refused the credentials on socket `gen` (`UNAUTHORIZED`,
    /// `CONNECT_ERROR`).
    pub fn unauthorized(&self, gen: u32) {
        if let Some(inner) = self.inner.upgrade() {
            inner.input(Input::Unauthorized { gen });
        }
    }

    /// The Socket.IO server disconnected this client from its namespace.
    pub fn disconnected(&self, gen: u32) {
        if let Some(inner) = self.inner.upgrade() {
            inner.counted(Input::ServerDisconnected { gen }, 1);
        }
    }

    /// The timer in `slot` (a `Timer` index) fired.
    pub fn timer(&self, slot: u32) {
        if let (Some(inner), Some(&timer)) = (self.inner.upgrade(), Timer::ALL.get(slot as usize)) {
            inner.counted(Input::Timer(timer), 0);
        }
    }

    /// The browser is back online.
    pub fn online(&self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.input(Input::Online);
        }
    }

    /// The page is visible again (or restored, or resumed).
    pub fn wake(&self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.counted(Input::Wake, 0);
        }
    }

    /// The URL and token providers answered for socket `gen` (see `Inner::on_resolved`).
    pub fn resolved(&self, gen: u32, ok: bool, url: Option<String>, token: Option<String>) {
        if let Some(inner) = self.inner.upgrade() {
            inner.on_resolved(gen, ok, url, token);
        }
    }
}

impl core::fmt::Debug for Inner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inner").field("state", &self.core_ref().machine.state()).finish()
    }
}

/// The start of every id this client makes: 10 random base-36 characters and a `-`.
/// Ids are idempotency keys (a server drops a reliable send it already processed, from
/// any connection), so two clients must not share a prefix: ~51.7 bits of two
/// `Math.random()` draws make a shared prefix unlikely even among 10,000 clients of one
/// server (about 1 in 70 million; 6 characters, 31 bits, made it about 1 in 40).
fn id_prefix() -> String {
    let mut s = String::new();
    for _ in 0..2 {
        let mut n = (math_random() * 60_466_176.0) as u64; // 36^5
        for _ in 0..5 {
            let d = (n % 36) as u8;
            s.push(char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 }));
            n /= 36;
        }
    }
    s.push('-');
    s
}

#[wasm_bindgen]
impl WsClient {
    /// Creates a client for `url` (`ws://`, `wss://`, `http://` or `https://`, or a path on
    /// this page's host). It does not connect until `connect()`. Throws a `WsError`
    /// naming the bad field when an option is invalid.
    ///
    /// Arguments the JS API calls strings arrive as `JsValue` and are checked here: the
    /// glue's string passing assumes a string. Given a number or an object it asked the
    /// allocator for `undefined` and `NaN` bytes, and in a page that did that three times
    /// a later `request(123)` never returned (the page hung); given `undefined` it threw a
    /// `TypeError`.
    #[wasm_bindgen(constructor)]
    pub fn new(url: JsValue, options: JsValue) -> Result<WsClient, JsValue> {
        let fixed = url.as_string();
        if fixed.is_none() && !url.is_function() {
            let why = "the URL must be a string, or a function returning one (or a Promise of one)";
            return Err(make_error("INVALID_URL", why));
        }
        let (opts, token) = options::read(&options)?;
        let client = WsClient::build(fixed.as_deref(), opts, token)?;
        if fixed.is_none() {
            client.inner.hub.use_url(url.unchecked_ref());
        }
        Ok(client)
    }
}

impl WsClient {
    /// Adds a listener (the Rust API's `on`). Listeners are the hub's: the package's
    /// `on`, `once` and `off` (js/index.js) go to it with no call into the wasm.
    #[cfg(feature = "std")]
    pub(crate) fn listen(&self, event: &str, listener: &JsValue) -> Result<js::Function, JsValue> {
        self.inner.hub.on(&JsValue::from_str(event), listener, false)
    }

    /// The constructor behind `new WsClient(url, options)` and the Rust API's
    /// [`Client::new`](crate::Client::new): options already read, not yet validated. No
    /// `url`: a provider gives it before every connect (`useUrl`).
    pub(crate) fn build(
        url: Option<&str>,
        opts: crate::Options,
        token: Token,
    ) -> Result<WsClient, Error> {
        let socketio = opts.protocol == Protocol::SocketIo;
        // A Socket.IO server's path and query are added by the hub when it opens the
        // socket (`sio.js`, loaded only in Socket.IO mode).
        let url = match url {
            Some(given) => Some(ws_url(given).ok_or_else(|| Error::InvalidUrl(given.to_owned()))?),
            None => None,
        };
        let namespace = opts.namespace.clone();
        let seed = (math_random() * 9_007_199_254_740_991.0) as u64;
        let prefix = id_prefix();
        let raw = opts.protocol == Protocol::Raw;
        let key = opts.event_key.clone();
        let debug = opts.debug;
        let max_in = opts.max_message_bytes.map_or(f64::INFINITY, f64::from);
        let protocols = Array::new();
        for p in &opts.subprotocols {
            protocols.push(&JsValue::from_str(p));
        }
        let machine = Machine::new(opts, seed, &prefix)?;
        let inner = Rc::new_cyclic(|weak: &Weak<Inner>| {
            let port = Port { inner: weak.clone() };
            let hub = Hub::new(raw, &key, &prefix, port, &protocols);
            hub.set_debug(debug);
            hub.set_max_in(max_in);
            let token = match token {
                Token::None => TokenSource::None,
                Token::Fixed(t) => TokenSource::Fixed(t),
                Token::Provider(f) => {
                    hub.use_token(&f);
                    TokenSource::Provider
                }
            };
            if socketio {
                hub.use_socket_io(&namespace);
            }
            Inner {
                core: RefCell::new(Core {
                    machine,
                    url,
                    token,
                    pending_auth: None,
                    waiters: VecMap::default(),
                }),
                hub,
            }
        });
        // The machine lives in the `Rc`'s allocation, which does not move: the hub reads
        // its byte there for as long as the client lives (`dispose` stops it).
        let at = inner.core_ref().machine.writable_at_poll() as *const bool as usize;
        inner.hub.read_writable(&wasm_bindgen::memory(), at as f64);
        Ok(WsClient { inner })
    }
}

#[wasm_bindgen]
impl WsClient {
    /// Opens the connection (no-op when already connecting or open).
    pub fn connect(&self) {
        self.inner.input(Input::Connect);
    }

    /// Closes for good: no reconnect until `connect()` is called again. `code` must be
    /// 1000 or 3000–4999 and `reason` at most 123 UTF-8 bytes.
    pub fn close(&self, code: JsValue, reason: JsValue) -> Result<(), JsValue> {
        let code = if code.is_undefined() || code.is_null() {
            1000
        } else {
            match code.as_f64() {
                Some(c) if (0.0..=65535.0).contains(&c) && f64::from(c as u16) == c => c as u16,
                _ => {
                    return Err(make_error(
                        "INVALID_CLOSE_CODE",
                        "the close code must be 1000 or a whole number from 3000 to 4999",
                    ))
                }
            }
        };
        let reason = if reason.is_undefined() || reason.is_null() {
            String::new()
        } else {
            reason.as_string().ok_or_else(|| {
                make_error("INVALID_ARGUMENT", "the close reason must be a string")
            })?
        };
        self.inner.core_mut().machine.close(code, &reason)?;
        self.inner.run();
        Ok(())
    }

    /// Sends an object as JSON (adding an `id` when it has none), a string, or binary.
    /// While not open the message is queued and sent, once and in order, on the next
    /// open. With `{reliable: true}` (objects only), the message is kept until the
    /// server replies with its `id`, and sent again after every reconnect until then.
    /// Returns the message's `id` (undefined for strings and binary).
    pub fn send(&self, message: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
        method_options(&options, "send")?;
        let reliable = flag(&options, "reliable")?;
        if reliable && core_is_socketio(&self.inner.core_ref()) {
            return Err(make_error(
                "INVALID_ARGUMENT",
                "reliable sends need the typed-JSON protocol; with Socket.IO use request() (an ack)",
            ));
        }
        let n = self.inner.core_mut().machine.next_id();
        let frame = self.inner.hub.frame(&message, n as f64)?;
        let id = self.inner.hub.take_id();
        let sent = if reliable {
            if id.is_undefined() {
                return Err(make_error(
                    "INVALID_ARGUMENT",
                    "a reliable send takes an object (it needs an id)",
                ));
            }
            let mut core = self.inner.core_mut();
            let sent = core.machine.send_reliable(now(), n, frame.clone(), None);
            if sent.is_ok() {
                core.waiters.insert(n, self.inner.hub.expect_ack(&id, n as f64, &frame));
            }
            sent
        } else {
            self.inner.core_mut().machine.send(frame)
        };
        self.inner.run();
        sent?;
        Ok(id)
    }

    /// Sends `{type, id, data}` and resolves with the reply carrying the same `id` (with
    /// `replyEvent`, or the first message of that event name: for a gateway that cannot
    /// echo an id); rejects on an `error` reply, on timeout (`timeoutMs`, default
    /// `requestTimeoutMs`) or when the client closes for good.
    pub fn request(
        &self,
        kind: JsValue,
        data: JsValue,
        options: JsValue,
    ) -> Result<Promise, JsValue> {
        self.start_request(kind, data, options).map(|(_, promise)| promise)
    }

    /// Subscribes to one topic or an array of topics (reference counted; resubscribed
    /// on every open).
    pub fn subscribe(&self, topics: JsValue) -> Result<(), JsValue> {
        self.inner.topics(&topics, true)
    }

    /// Drops one reference to each topic; unsubscribes those that reach zero.
    pub fn unsubscribe(&self, topics: JsValue) -> Result<(), JsValue> {
        self.inner.topics(&topics, false)
    }

    /// `"connecting"`, `"open"`, `"reconnecting"`, `"closing"` or `"closed"`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> JsValue {
        JsValue::from_str(self.inner.core_ref().machine.state().as_str())
    }

    /// Counters: messages and bytes in and out, reconnects, last RTT, queue length.
    pub fn stats(&self) -> JsValue {
        let (state, s) = {
            let core = self.inner.core_ref();
            (core.machine.state(), core.machine.stats())
        };
        self.inner.hub.stats(
            state.as_str(),
            s.reconnects,
            s.rtt_ms.unwrap_or(-1.0),
            s.queue_len as u32,
            s.pending_requests as u32,
            s.dropped as f64,
        )
    }

    /// The per-message half of this client, for the package entry's `send` fast path
    /// (`js/index.js`). Not part of the documented API.
    #[wasm_bindgen(getter, js_name = __hub)]
    pub fn hub(&self) -> JsValue {
        self.inner.hub.clone().into()
    }

    /// Debug logging to the console, switchable at run time.
    #[wasm_bindgen(getter)]
    pub fn debug(&self) -> bool {
        self.inner.core_ref().machine.options().debug
    }

    /// Debug logging to the console, switchable at run time.
    #[wasm_bindgen(setter)]
    pub fn set_debug(&self, on: JsValue) -> Result<(), JsValue> {
        let on = on
            .as_bool()
            .ok_or_else(|| make_error("INVALID_ARGUMENT", "debug must be a boolean"))?;
        self.inner.core_mut().machine.set_debug(on);
        self.inner.hub.set_debug(on);
        Ok(())
    }
}

fn core_is_socketio(core: &Core) -> bool {
    core.machine.options().protocol == Protocol::SocketIo
}

fn no_topics_in_socketio(core: &Core) -> Result<(), JsValue> {
    if core_is_socketio(core) {
        return Err(make_error(
            "INVALID_ARGUMENT",
            "Socket.IO has rooms, not topics: request() your gateway's join event instead",
        ));
    }
    Ok(())
}

impl WsClient {
    /// `request`, also returning the request's id (the Rust API cancels by it).
    pub(crate) fn start_request(
        &self,
        kind: JsValue,
        data: JsValue,
        options: JsValue,
    ) -> Result<(u64, Promise), JsValue> {
        method_options(&options, "request")?;
        let timeout = option_ms(&options, "timeoutMs")?;
        let (n, timeout) = {
            let mut core = self.inner.core_mut();
            let timeout = timeout.unwrap_or(core.machine.options().request_timeout_ms);
            (core.machine.next_id(), timeout)
        };
        let retry = flag(&options, "retry")?;
        let frame = self.inner.hub.request_frame(&kind, &data, n as f64)?;
        let kept = if retry { frame.clone() } else { JsValue::UNDEFINED };
        let request = self.inner.hub.track(n as f64, &field(&options, "replyEvent"), &kept);
        let promise = request.promise();
        let sent = {
            let mut core = self.inner.core_mut();
            let sent = if retry {
                core.machine.send_reliable(now(), n, frame, Some(timeout))
            } else {
                core.machine.request(now(), n, frame, timeout)
            };
            if sent.is_ok() {
                core.waiters.insert(n, request.clone());
            }
            sent
        };
        self.inner.run();
        if let Err(e) = sent {
            self.inner.hub.fail(&request, e.code(), &e.message());
        }
        Ok((n, promise))
    }
}

#[cfg(feature = "std")]
impl Inner {
    /// Forgets request `n` (the Rust API: its future was dropped): no timeout, no
    /// resend, and its promise, which nobody awaits, is left to the garbage collector.
    pub(crate) fn cancel(self: &Rc<Self>, n: u64) {
        let pending = {
            let mut core = self.core_mut();
            core.waiters.remove(&n);
            core.machine.settle(now(), n)
        };
        if pending {
            self.run();
        }
    }
}

/// Checks the options object of `send` or `request` (`method`): unknown keys or a value
/// that is no object are INVALID_OPTION. Without options (most sends) nothing crosses to
/// JS.
fn method_options(options: &JsValue, method: &str) -> Result<(), JsValue> {
    if options.is_undefined() {
        return Ok(());
    }
    check_method_options(options, method)
}

/// A field of a method's options object (undefined when there is none; its keys and
/// type were checked by `method_options`).
fn field(options: &JsValue, name: &str) -> JsValue {
    if !options.is_object() {
        return JsValue::UNDEFINED;
    }
    js::field(options, name)
}

/// A boolean option of a method's options object (absent: false).
fn flag(options: &JsValue, name: &str) -> Result<bool, JsValue> {
    let v = field(options, name);
    match v.as_bool() {
        Some(b) => Ok(b),
        None if v.is_undefined() => Ok(false),
        None => Err(Error::option(name, "expected a boolean").into()),
    }
}

/// A duration option of a method's options object, in ms (absent: `None`).
fn option_ms(options: &JsValue, name: &str) -> Result<Option<f64>, JsValue> {
    let v = field(options, name);
    if v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(t) if t.is_finite() && (0.0..=crate::options::MAX_MS).contains(&t) => Ok(Some(t)),
        _ => Err(Error::option(name, "expected a number of ms from 0 to 86400000").into()),
    }
}

fn topic_list(topics: &JsValue) -> Result<Vec<String>, JsValue> {
    let bad =
        || make_error("INVALID_ARGUMENT", "topics must be a non-empty string or an array of them");
    let list: Vec<String> = if let Some(t) = topics.as_string() {
        vec![t]
    } else if Array::is_array(topics) {
        // A loop, not `collect::<Option<Vec<_>>>()`: its adapter cost ~270 B gzip.
        let mut list = Vec::new();
        for t in topics.unchecked_ref::<Array>().iter() {
            list.push(t.as_string().ok_or_else(bad)?);
        }
        list
    } else {
        return Err(bad());
    };
    if list.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(list)
}
