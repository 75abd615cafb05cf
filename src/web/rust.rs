//! The Rust API, for Rust/wasm frontends (Leptos, Yew, or none): the same client as JS's
//! `WsClient` (same core, same driver, same message path), with Rust closures and a
//! [`Stream`](futures_core::Stream) of events instead of JS callbacks.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wsocket::WsError> {
//! use wsocket::{Client, ClientEvent, Options};
//!
//! let client = Client::new("/ws", Options { topics: vec!["task:progress".into()], ..Options::default() })?;
//! let mut events = client.events(&["task_progress"])?;
//! client.connect();
//! while let Some(event) = events.recv().await {
//!     match event {
//!         ClientEvent::Message(m) => web_sys::console::log_1(m.data()),
//!         ClientEvent::State { to, .. } => web_sys::console::log_1(&to.as_str().into()),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Ownership follows the rest of the driver: a [`Listener`] or an [`Events`] stream owns
//! its closures and removes them from the client when dropped; the client itself closes
//! its socket and clears its timers when the [`Client`] is dropped.

use alloc::borrow::ToOwned;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::{Token, WsClient};
use crate::{Options, State};

/// An error from the client: the same `WsError` JS sees, with its stable `code`
/// (`INVALID_OPTION`, `REQUEST_TIMEOUT`, `QUEUE_FULL`, a server's code, ...).
#[derive(Clone)]
pub struct WsError(JsValue);

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal,)*) => {
        /// The stable error codes: the JS `WsErrorCode` list (the README's "Errors"
        /// table says when each is raised), to `match` on.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
            /// A code of the app's own server (with `from_server`), as it was sent.
            Other(String),
        }

        impl ErrorCode {
            /// The code as JS and the wire spell it, e.g. `"INVALID_OPTION"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$name => $code,)*
                    ErrorCode::Other(code) => code,
                }
            }

            /// The code named `code`; `Other` for one wsocket does not raise.
            pub fn from_code(code: &str) -> ErrorCode {
                match code {
                    $($code => ErrorCode::$name,)*
                    other => ErrorCode::Other(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    /// An option is invalid (`WsError::field` names it).
    InvalidOption = "INVALID_OPTION",
    /// The URL is not a WebSocket URL, or its provider gave none.
    InvalidUrl = "INVALID_URL",
    /// `close` with a code outside 1000 and 3000–4999.
    InvalidCloseCode = "INVALID_CLOSE_CODE",
    /// `close` with a reason over 123 UTF-8 bytes.
    InvalidCloseReason = "INVALID_CLOSE_REASON",
    /// A method's argument is not what it takes.
    InvalidArgument = "INVALID_ARGUMENT",
    /// The queue is full under the `reject` policy.
    QueueFull = "QUEUE_FULL",
    /// The queue dropped a message under the `drop-oldest`/`drop-newest` policy.
    QueueOverflow = "QUEUE_OVERFLOW",
    /// A request got no reply in time.
    RequestTimeout = "REQUEST_TIMEOUT",
    /// A request ended with the client (or its signal).
    RequestAborted = "REQUEST_ABORTED",
    /// The socket did not open in time.
    ConnectTimeout = "CONNECT_TIMEOUT",
    /// The server stopped answering the heartbeat.
    HeartbeatTimeout = "HEARTBEAT_TIMEOUT",
    /// `max_attempts` reconnects failed.
    ReconnectFailed = "RECONNECT_FAILED",
    /// Socket.IO: the server refused the namespace.
    ConnectError = "CONNECT_ERROR",
    /// Socket.IO: an event larger than the server's `maxPayload`.
    PayloadTooLarge = "PAYLOAD_TOO_LARGE",
    /// The server closed with a code that means "do not come back".
    ClosedByServer = "CLOSED_BY_SERVER",
    /// The server refused the credentials, and a fresh token did not help.
    AuthFailed = "AUTH_FAILED",
    /// An inbound frame could not be read (skipped).
    MalformedFrame = "MALFORMED_FRAME",
    /// An inbound frame over `max_message_bytes` (skipped).
    FrameTooLarge = "FRAME_TOO_LARGE",
    /// A listener threw (or panicked).
    ListenerError = "LISTENER_ERROR",
    /// The token provider failed.
    TokenError = "TOKEN_ERROR",
    /// A call on a freed client.
    ClientFreed = "CLIENT_FREED",
    /// A client created before the wasm was loaded.
    NotReady = "NOT_READY",
    /// The wasm, or the code of an option, could not be loaded.
    LoadFailed = "LOAD_FAILED",
    /// `outbox: "indexeddb"` could not use IndexedDB (a JS client's option).
    OutboxUnavailable = "OUTBOX_UNAVAILABLE",
    /// The server's: an unknown message `type`.
    UnknownMessageType = "UNKNOWN_MESSAGE_TYPE",
    /// The server's: a frame it could not take.
    BadRequest = "BAD_REQUEST",
    /// The server's: missing or invalid credentials.
    Unauthorized = "UNAUTHORIZED",
    /// The server's: not allowed.
    Forbidden = "FORBIDDEN",
    /// The server's: too many messages per second.
    RateLimited = "RATE_LIMITED",
    /// The server's: a frame over its size limit.
    TooLarge = "TOO_LARGE",
    /// The server's: something it needs is unreachable; try again.
    Unavailable = "UNAVAILABLE",
    /// A server error frame without a code.
    ServerError = "SERVER_ERROR",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl WsError {
    fn text(&self, field: &str) -> Option<String> {
        Reflect::get(&self.0, &JsValue::from_str(field)).ok().and_then(|v| v.as_string())
    }

    fn new(code: ErrorCode, message: &str) -> WsError {
        WsError(super::bindings::make_error(code.as_str(), message))
    }

    /// The stable error code, to `match` on (`code().as_str()` for the string).
    pub fn code(&self) -> ErrorCode {
        ErrorCode::from_code(&self.text("code").unwrap_or_default())
    }

    /// Whether the server sent it (an `error` frame, or a Socket.IO refusal).
    pub fn from_server(&self) -> bool {
        get(&self.0, "fromServer").as_bool().unwrap_or(false)
    }

    /// The human-readable message.
    pub fn message(&self) -> String {
        self.text("message").unwrap_or_else(|| format!("{:?}", self.0))
    }

    /// For `INVALID_OPTION`: the option's name (the JS name, e.g. `"maxDelayMs"`).
    pub fn field(&self) -> Option<String> {
        self.text("field")
    }

    /// The JS `WsError` object.
    pub fn as_js(&self) -> &JsValue {
        &self.0
    }
}

impl From<JsValue> for WsError {
    fn from(value: JsValue) -> Self {
        WsError(value)
    }
}

impl From<crate::Error> for WsError {
    fn from(e: crate::Error) -> Self {
        WsError(e.into())
    }
}

impl fmt::Debug for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WsError({}: {})", self.code(), self.message())
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl core::error::Error for WsError {}

/// An inbound message: the frame as `JSON.parse` gave it, and its `data` field.
#[derive(Clone)]
pub struct Message {
    data: JsValue,
    frame: JsValue,
}

impl Message {
    /// The frame's `data` field (for `raw` clients: the frame itself).
    pub fn data(&self) -> &JsValue {
        &self.data
    }

    /// The whole frame.
    pub fn frame(&self) -> &JsValue {
        &self.frame
    }

    /// A string field of the frame, e.g. `"type"`, `"id"` or `"topic"`.
    pub fn field(&self, name: &str) -> Option<String> {
        if !self.frame.is_object() {
            return None;
        }
        Reflect::get(&self.frame, &JsValue::from_str(name)).ok().and_then(|v| v.as_string())
    }

    /// The frame's `topic`, when it is a topic push.
    pub fn topic(&self) -> Option<String> {
        self.field("topic")
    }

    /// `data` as JSON text (`"null"` when there is none).
    pub fn data_json(&self) -> String {
        js_sys::JSON::stringify(&self.data)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "null".to_owned())
    }

    /// `data` decoded into a Rust type (needs the crate's `serde` feature).
    #[cfg(feature = "serde")]
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.data_json())
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message").field("data", &self.data_json()).finish()
    }
}

/// Everything a client reports: its lifecycle, and the messages asked for.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// The socket opened (the first time and after every reconnect).
    Open {
        /// The subprotocol the server picked of [`Options::subprotocols`](crate::Options),
        /// empty for none.
        subprotocol: String,
    },
    /// The socket closed.
    Close {
        /// The close code (1006 for a drop).
        code: u16,
        /// The close reason.
        reason: String,
        /// Whether the closing handshake completed.
        was_clean: bool,
    },
    /// The client changed state.
    State {
        /// The state left.
        from: State,
        /// The state entered.
        to: State,
    },
    /// A reconnect is scheduled.
    Reconnecting {
        /// Which attempt (1 is the first after a drop).
        attempt: u32,
        /// The delay before it.
        delay_ms: f64,
    },
    /// Messages of `topic` from seq `expected` on were missed and cannot be replayed.
    Gap {
        /// The topic.
        topic: String,
        /// The first missing seq.
        expected: f64,
        /// The seq that arrived instead, if any.
        got: Option<f64>,
    },
    /// An error the client reported (and survived).
    Error(WsError),
    /// A message of one of the names passed to [`Client::events`].
    Message(Message),
}

const LIFECYCLE: [&str; 6] = ["open", "close", "error", "state", "reconnecting", "gap"];

fn get(value: &JsValue, field: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(field)).unwrap_or(JsValue::UNDEFINED)
}

/// The client's counters: what `stats()` returns in JS, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The connection state.
    pub state: State,
    /// Frames received (every frame, including skipped ones).
    pub messages_in: u64,
    /// Frames sent.
    pub messages_out: u64,
    /// Text frames count UTF-16 code units; binary frames count bytes.
    pub bytes_in: u64,
    /// As `bytes_in`, for frames sent.
    pub bytes_out: u64,
    /// Reconnects since the client was created.
    pub reconnects: u64,
    /// The last heartbeat round trip; `None` before the first pong.
    pub rtt_ms: Option<f64>,
    /// Messages queued while not open.
    pub queue_length: u64,
    /// Requests waiting for their reply.
    pub pending_requests: u64,
    /// Messages dropped or rejected by the queue's overflow policy.
    pub dropped: u64,
    /// Topic pushes dropped because they had been delivered already.
    pub duplicates: u64,
    /// `gap` events emitted.
    pub gaps: u64,
    /// Frames skipped as malformed (`MALFORMED_FRAME`).
    pub malformed: u64,
    /// Frames skipped as larger than `max_message_bytes` (`FRAME_TOO_LARGE`).
    pub oversized: u64,
    /// Listeners that threw.
    pub listener_errors: u64,
    /// Bytes sent but still in the browser's buffer (`WebSocket.bufferedAmount`; 0 when
    /// not open).
    pub buffered_amount: u64,
}

impl Stats {
    fn from_js(stats: &JsValue) -> Stats {
        let count = |field| get(stats, field).as_f64().map_or(0, |n| n as u64);
        Stats {
            state: state(get(stats, "state")),
            messages_in: count("messagesIn"),
            messages_out: count("messagesOut"),
            bytes_in: count("bytesIn"),
            bytes_out: count("bytesOut"),
            reconnects: count("reconnects"),
            rtt_ms: get(stats, "rttMs").as_f64(),
            queue_length: count("queueLength"),
            pending_requests: count("pendingRequests"),
            dropped: count("dropped"),
            duplicates: count("duplicates"),
            gaps: count("gaps"),
            malformed: count("malformed"),
            oversized: count("oversized"),
            listener_errors: count("listenerErrors"),
            buffered_amount: count("bufferedAmount"),
        }
    }
}

fn state(value: JsValue) -> State {
    match value.as_string().as_deref() {
        Some("connecting") => State::Connecting,
        Some("open") => State::Open,
        Some("reconnecting") => State::Reconnecting,
        Some("closing") => State::Closing,
        _ => State::Closed,
    }
}

impl ClientEvent {
    fn lifecycle(name: &str, payload: JsValue) -> ClientEvent {
        let number = |field| get(&payload, field).as_f64().unwrap_or(0.0);
        match name {
            "open" => ClientEvent::Open {
                subprotocol: get(&payload, "subprotocol").as_string().unwrap_or_default(),
            },
            "close" => ClientEvent::Close {
                code: number("code") as u16,
                reason: get(&payload, "reason").as_string().unwrap_or_default(),
                was_clean: get(&payload, "wasClean").as_bool().unwrap_or(false),
            },
            "state" => ClientEvent::State {
                from: state(get(&payload, "from")),
                to: state(get(&payload, "to")),
            },
            "reconnecting" => ClientEvent::Reconnecting {
                attempt: number("attempt") as u32,
                delay_ms: number("delayMs"),
            },
            "gap" => ClientEvent::Gap {
                topic: get(&payload, "topic").as_string().unwrap_or_default(),
                expected: number("expected"),
                got: get(&payload, "got").as_f64(),
            },
            _ => ClientEvent::Error(WsError(payload)),
        }
    }
}

type Callback = Closure<dyn FnMut(JsValue, JsValue)>;

/// Listeners added by [`Client::on`] or [`Client::on_event`]: removed from the client
/// when this is dropped (keep it as long as you want the calls).
#[must_use = "dropping a Listener removes it"]
pub struct Listener {
    // Removers first: they run before the closures they call are freed.
    offs: Vec<Function>,
    _callbacks: Vec<Callback>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        for off in &self.offs {
            let _ = off.call0(&JsValue::UNDEFINED);
        }
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Listener({})", self.offs.len())
    }
}

#[derive(Default)]
struct Queue {
    events: VecDeque<ClientEvent>,
    waker: Option<Waker>,
    /// The last state yielded was `closed` (closed for good: by `close`, or given up).
    ended: bool,
}

/// The stream returned by [`Client::events`]. It ends (yields `None`) when the client
/// is closed for good (by `close`, or after giving up) or dropped, and nothing else is
/// buffered. Events are buffered until polled.
pub struct Events {
    queue: Rc<RefCell<Queue>>,
    _listener: Listener,
}

impl Events {
    /// The next event (the same as `StreamExt::next`, without needing `futures`); `None` once the client is closed for good and the buffer is empty.
    pub fn recv(&mut self) -> impl Future<Output = Option<ClientEvent>> + '_ {
        core::future::poll_fn(move |cx| self.poll(cx))
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        let mut q = self.queue.borrow_mut();
        match q.events.pop_front() {
            Some(event) => {
                if let ClientEvent::State { to, .. } = &event {
                    q.ended = *to == State::Closed;
                }
                Poll::Ready(Some(event))
            }
            None if q.ended => Poll::Ready(None),
            None => {
                q.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl futures_core::Stream for Events {
    type Item = ClientEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        self.get_mut().poll(cx)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Events({} buffered)", self.queue.borrow().events.len())
    }
}

/// A WebSocket client for Rust/wasm code: reconnect with backoff and jitter, heartbeat
/// watchdog, bounded send queue, topics resubscribed on every open, requests with
/// timeouts. See the module docs for an example.
pub struct Client {
    // Declared first, so it is dropped (socket closed) before the token closure it calls.
    js: WsClient,
    _token: Option<Closure<dyn Fn() -> JsValue>>,
    /// The queues of the `Events` streams made from this client: they end when it goes.
    streams: RefCell<Vec<alloc::rc::Weak<RefCell<Queue>>>>,
}

/// A dropped client ends its event streams: a `while let Some(e) = events.next().await`
/// loop in a component that is unmounted finishes.
impl Drop for Client {
    fn drop(&mut self) {
        for queue in self.streams.take().iter().filter_map(alloc::rc::Weak::upgrade) {
            let waker = {
                let mut q = queue.borrow_mut();
                q.ended = true;
                q.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("state", &self.state()).finish()
    }
}

impl Client {
    /// A client for `url` (`ws://`, `wss://`, `http://` or `https://`, or a path on the
    /// page's host); it does not connect until [`connect`](Self::connect). Invalid
    /// options are an `INVALID_OPTION` error naming the field.
    pub fn new(url: &str, options: Options) -> Result<Client, WsError> {
        Ok(Client::wrap(WsClient::build(Some(url), options, Token::None)?, None))
    }

    fn wrap(js: WsClient, token: Option<Closure<dyn Fn() -> JsValue>>) -> Client {
        Client { js, _token: token, streams: RefCell::default() }
    }

    /// The same, with a fixed token (sent as `?token=` or an `auth` message, per
    /// `options.token_in`).
    pub fn with_token(url: &str, options: Options, token: &str) -> Result<Client, WsError> {
        let token = Token::Fixed(token.to_owned());
        Ok(Client::wrap(WsClient::build(Some(url), options, token)?, None))
    }

    /// The same, with a token provider called before every connect; a connection
    /// refused for its token is retried once with a fresh one.
    pub fn with_token_provider(
        url: &str,
        options: Options,
        provider: impl Fn() -> String + 'static,
    ) -> Result<Client, WsError> {
        let closure = Closure::<dyn Fn() -> JsValue>::new(move || JsValue::from(provider()));
        Client::with_provider_closure(url, options, closure)
    }

    /// The same, with an async token provider (a call to your auth endpoint): the
    /// connect waits for it; an `Err` is a `TOKEN_ERROR` and the client tries again
    /// later, as after a failed connect.
    pub fn with_async_token_provider<F>(
        url: &str,
        options: Options,
        provider: impl Fn() -> F + 'static,
    ) -> Result<Client, WsError>
    where
        F: Future<Output = Result<String, String>> + 'static,
    {
        let closure = Closure::<dyn Fn() -> JsValue>::new(move || {
            let token = provider();
            wasm_bindgen_futures::future_to_promise(async move {
                token.await.map(JsValue::from).map_err(|why| js_sys::Error::new(&why).into())
            })
            .into()
        });
        Client::with_provider_closure(url, options, closure)
    }

    fn with_provider_closure(
        url: &str,
        mut options: Options,
        closure: Closure<dyn Fn() -> JsValue>,
    ) -> Result<Client, WsError> {
        let function = closure.as_ref().unchecked_ref::<super::js::Function>().clone();
        options.refresh_token = true;
        let js = WsClient::build(Some(url), options, Token::Provider(function))?;
        Ok(Client::wrap(js, Some(closure)))
    }

    /// Opens the connection (no-op when connecting or open).
    pub fn connect(&self) {
        self.js.connect();
    }

    /// Closes for good: `code` 1000 or 3000–4999, `reason` at most 123 UTF-8 bytes.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), WsError> {
        Ok(self.js.close(JsValue::from(code), JsValue::from_str(reason))?)
    }

    /// Calls `f` for every message of `event`: a server event (the frame's `type`, or
    /// the `event_key` field), a topic, or `"*"` for every message.
    pub fn on(
        &self,
        event: &str,
        mut f: impl FnMut(Message) + 'static,
    ) -> Result<Listener, WsError> {
        if LIFECYCLE.contains(&event) {
            return Err(WsError::from(crate::Error::option(
                "event",
                "a message name; lifecycle events go through on_event or events",
            )));
        }
        let callback = Callback::new(move |data, frame| f(Message { data, frame }));
        let off = self.js.listen(event, callback.as_ref())?.unchecked_into();
        Ok(Listener { offs: vec![off], _callbacks: vec![callback] })
    }

    /// Calls `f` with every lifecycle event: open, close, state, reconnecting, gap, error.
    pub fn on_event(&self, f: impl FnMut(ClientEvent) + 'static) -> Result<Listener, WsError> {
        let f = Rc::new(RefCell::new(f));
        let mut listener = Listener { offs: Vec::new(), _callbacks: Vec::new() };
        for name in LIFECYCLE {
            let f = f.clone();
            let callback = Callback::new(move |payload, _| {
                // A listener that re-enters the client and causes another event of this
                // listener would borrow twice: that event is skipped, not a panic.
                if let Ok(mut f) = f.try_borrow_mut() {
                    f(ClientEvent::lifecycle(name, payload));
                }
            });
            listener.offs.push(self.js.listen(name, callback.as_ref())?.unchecked_into());
            listener._callbacks.push(callback);
        }
        Ok(listener)
    }

    /// A stream of every lifecycle event and of the messages named in `messages`
    /// (server events, topics, or `"*"`), in the order they happened.
    pub fn events(&self, messages: &[&str]) -> Result<Events, WsError> {
        let queue = Rc::new(RefCell::new(Queue::default()));
        let push = {
            let queue = queue.clone();
            move |event: ClientEvent| {
                let waker = {
                    let mut q = queue.borrow_mut();
                    q.events.push_back(event);
                    q.waker.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            }
        };
        let mut listener = self.on_event(push.clone())?;
        for name in messages {
            let push = push.clone();
            let mut one = self.on(name, move |m| push(ClientEvent::Message(m)))?;
            listener.offs.append(&mut one.offs);
            listener._callbacks.append(&mut one._callbacks);
        }
        self.streams.borrow_mut().push(Rc::downgrade(&queue));
        Ok(Events { queue, _listener: listener })
    }

    /// Sends a JS value: an object as JSON (an `id` added when missing), a string or
    /// binary as it is. Queued while not open. Returns the message's id for objects.
    pub fn send(&self, message: &JsValue) -> Result<Option<String>, WsError> {
        Ok(self.js.send(message.clone(), JsValue::UNDEFINED)?.as_string())
    }

    /// Sends a text frame as it is.
    pub fn send_text(&self, text: &str) -> Result<(), WsError> {
        self.send(&JsValue::from_str(text)).map(drop)
    }

    /// Sends a binary frame.
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), WsError> {
        self.send(&js_sys::Uint8Array::from(bytes).into()).map(drop)
    }

    /// Sends JSON text as an object (parsed first, so it gets an `id` like any object).
    pub fn send_json(&self, json: &str) -> Result<Option<String>, WsError> {
        let value = js_sys::JSON::parse(json)
            .map_err(|_| WsError::new(ErrorCode::InvalidArgument, "send_json: not valid JSON"))?;
        self.send(&value)
    }

    /// Sends an object that is kept until the server replies with its id, and sent
    /// again after every reconnect until then. Returns its id.
    pub fn send_reliable(&self, message: &JsValue) -> Result<String, WsError> {
        let options = js_sys::Object::new();
        let _ = Reflect::set(&options, &"reliable".into(), &JsValue::TRUE);
        let id = self.js.send(message.clone(), options.into())?;
        Ok(id.as_string().unwrap_or_default())
    }

    /// Sends `{type: kind, id, data}` and resolves with the reply carrying the same id;
    /// fails with the server's error code, `REQUEST_TIMEOUT` after `timeout` (default:
    /// the `request_timeout_ms` option) or `REQUEST_ABORTED` when the client closes.
    /// Dropping the future cancels the request: no timeout, no resend.
    pub fn request(&self, kind: &str, data: &JsValue, timeout: Option<Duration>) -> Request {
        let options = js_sys::Object::new();
        if let Some(t) = timeout {
            let _ =
                Reflect::set(&options, &"timeoutMs".into(), &JsValue::from(t.as_secs_f64() * 1e3));
        }
        match self.js.start_request(JsValue::from_str(kind), data.clone(), options.into()) {
            Ok((n, promise)) => Request {
                n,
                client: Rc::downgrade(&self.js.inner),
                reply: Some(JsFuture::from(promise.unchecked_into::<js_sys::Promise>())),
                refused: None,
            },
            Err(e) => Request {
                n: 0,
                client: alloc::rc::Weak::new(),
                reply: None,
                refused: Some(WsError(e)),
            },
        }
    }

    /// Sends `message` (any `Serialize` that is a JSON object) as `send` does; returns
    /// its id. Needs the crate's `serde` feature.
    #[cfg(feature = "serde")]
    pub fn send_as<T: serde::Serialize + ?Sized>(
        &self,
        message: &T,
    ) -> Result<Option<String>, WsError> {
        self.send(&to_js(message)?)
    }

    /// `request` with typed data and reply: `data` serialized as the request's `data`,
    /// the reply's `data` decoded as `R` (a reply that does not decode is a
    /// `MALFORMED_FRAME` error). Needs the crate's `serde` feature.
    #[cfg(feature = "serde")]
    pub fn request_as<Q, R>(
        &self,
        kind: &str,
        data: &Q,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<R, WsError>>
    where
        Q: serde::Serialize + ?Sized,
        R: serde::de::DeserializeOwned,
    {
        let request = to_js(data).map(|data| self.request(kind, &data, timeout));
        async move {
            let reply = request?.await?;
            reply.data_as::<R>().map_err(|e| {
                WsError::new(ErrorCode::MalformedFrame, &format!("the reply does not decode: {e}"))
            })
        }
    }

    /// Subscribes to topics (reference counted; resubscribed on every open).
    pub fn subscribe(&self, topics: &[&str]) -> Result<(), WsError> {
        Ok(self.js.subscribe(topic_array(topics))?)
    }

    /// Drops one reference to each topic.
    pub fn unsubscribe(&self, topics: &[&str]) -> Result<(), WsError> {
        Ok(self.js.unsubscribe(topic_array(topics))?)
    }

    /// The connection state.
    pub fn state(&self) -> State {
        state(self.js.state())
    }

    /// The counters: messages and bytes in and out, reconnects, the last RTT, ...
    pub fn stats(&self) -> Stats {
        Stats::from_js(&self.js.stats())
    }

    /// Console logging, switchable at run time.
    pub fn set_debug(&self, on: bool) {
        // A boolean always passes the JS setter's check.
        let _ = self.js.set_debug(JsValue::from_bool(on));
    }

    /// The JS-facing client underneath, e.g. to hand it to JS code.
    pub fn as_js(&self) -> &WsClient {
        &self.js
    }
}

/// A value as the JS object its JSON is.
#[cfg(feature = "serde")]
fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue, WsError> {
    let json = serde_json::to_string(value)
        .map_err(|e| WsError::new(ErrorCode::InvalidArgument, &format!("cannot encode: {e}")))?;
    js_sys::JSON::parse(&json).map_err(WsError)
}

/// The future of a [`Client::request`]: the reply, or why there is none. Dropping it
/// before it is ready cancels the request (it is forgotten: no timeout, no resend).
#[must_use = "a request is cancelled when its future is dropped"]
pub struct Request {
    n: u64,
    client: alloc::rc::Weak<super::Inner>,
    reply: Option<JsFuture>,
    refused: Option<WsError>,
}

impl Future for Request {
    type Output = Result<Message, WsError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(e) = this.refused.take() {
            return Poll::Ready(Err(e));
        }
        let Some(reply) = this.reply.as_mut() else {
            return Poll::Ready(Err(WsError::new(
                ErrorCode::InvalidArgument,
                "polled after it was ready",
            )));
        };
        let frame = match Pin::new(reply).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(frame) => frame,
        };
        this.reply = None;
        Poll::Ready(
            frame.map(|frame| Message { data: get(&frame, "data"), frame }).map_err(WsError),
        )
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.reply.is_some() {
            if let Some(client) = self.client.upgrade() {
                client.cancel(self.n);
            }
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Request({}, {})", self.n, if self.reply.is_some() { "pending" } else { "done" })
    }
}

fn topic_array(topics: &[&str]) -> JsValue {
    topics.iter().map(|t| JsValue::from_str(t)).collect::<js_sys::Array>().into()
}
