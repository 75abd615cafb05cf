//! The connection state machine: inputs (with `now`) in, effects out.
//!
//! [`Machine`] owns every decision of the client: when to open a socket, what to send on
//! open, when to ping and when the connection is dead, when and how long to wait before
//! reconnecting, what to queue and when a request times out. It never touches a socket,
//! a timer, a clock or a random source; the driver feeds it [`Input`]s and executes the
//! [`Effect`]s it returns from [`Machine::poll`]. Its only randomness is a seeded [`Rng`].
//!
//! The payload type `P` is opaque to the machine, so the browser driver queues JS
//! strings without copying them into Rust.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::backoff::{Backoff, Rng};
use crate::close::{self, ClosePolicy};
use crate::codec::Encoder;
use crate::fifo::Fifo;
use crate::options::{Options, TokenIn};
use crate::queue::{Pushed, SendQueue};
use crate::recovery::Position;
use crate::requests::Requests;
use crate::topics::Topics;
use crate::Error;

/// The public connection state (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not connected and not trying: before `connect()`, after `close()`, or after a
    /// final close.
    Closed,
    /// A socket is being opened.
    Connecting,
    /// The socket is open.
    Open,
    /// Waiting for the backoff delay before the next attempt.
    Reconnecting,
    /// `close()` was called; waiting for the socket's close.
    Closing,
}

impl State {
    /// The name JS sees.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Connecting => "connecting",
            State::Open => "open",
            State::Reconnecting => "reconnecting",
            State::Closing => "closing",
        }
    }
}

/// The machine's timers; the driver keeps at most one of each armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The connect timeout of the current attempt.
    Connect,
    /// The backoff delay before the next attempt.
    Retry,
    /// Time to send the next ping.
    Heartbeat,
    /// The deadline for a pong (or any frame) after a ping.
    PongDeadline,
    /// The connection has stayed open long enough to reset the attempt counter.
    Stable,
    /// The earliest request deadline.
    Requests,
}

impl Timer {
    /// Every timer, in index order.
    pub const ALL: [Timer; 6] = [
        Timer::Connect,
        Timer::Retry,
        Timer::Heartbeat,
        Timer::PongDeadline,
        Timer::Stable,
        Timer::Requests,
    ];

    /// A dense index for slot arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the driver tells the machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The user called `connect()`.
    Connect,
    /// Socket `gen` opened. `auth` is the token to send as an `auth` message, when the
    /// token goes in a message; `since`, where each topic stands for the client (the
    /// driver's: it sees every push and applies the duplicate and gap rule), what the
    /// resubscribe asks the server to replay from.
    SocketOpened {
        /// The socket's generation.
        gen: u32,
        /// The token, resolved by the driver from a string or a provider.
        auth: Option<String>,
        /// The last position delivered of each topic that has one.
        since: Vec<Position>,
    },
    /// The server of socket `gen` sends the pings (Socket.IO): it promised one at least
    /// every `window_ms` (its `pingInterval + pingTimeout`). Fed before `SocketOpened`;
    /// the watchdog then closes the socket (4000) when a window passes without a frame.
    ServerHeartbeat {
        /// The socket's generation.
        gen: u32,
        /// The longest silence allowed, ms.
        window_ms: f64,
    },
    /// Socket `gen` closed (the browser's `close` event).
    SocketClosed {
        /// The socket's generation.
        gen: u32,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
        /// Whether the closing handshake completed.
        was_clean: bool,
    },
    /// How many frames have arrived in total; fed before every timer so the watchdog
    /// counts any frame as a sign of life, without a call per frame.
    Activity {
        /// The running total of inbound frames.
        frames_in: u64,
    },
    /// A pong arrived on socket `gen`.
    Pong {
        /// The socket's generation.
        gen: u32,
    },
    /// A timer the driver armed has fired.
    Timer(Timer),
    /// The browser is back online.
    Online,
    /// The page became visible again, was restored from the back/forward cache, or
    /// resumed: check that the connection is alive, and retry a pending reconnect now.
    Wake,
    /// The server refused the credentials with an `UNAUTHORIZED` error on socket `gen`.
    Unauthorized {
        /// The socket's generation.
        gen: u32,
    },
    /// The Socket.IO server disconnected this client from its namespace on socket `gen`:
    /// final, as in socket.io (no reconnect until `connect()`), unless it came right
    /// after the open with nothing in between (refused credentials, see `on_close`).
    ServerDisconnected {
        /// The socket's generation.
        gen: u32,
    },
}

/// A frame to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound<P> {
    /// A user payload, already encoded by the driver.
    Payload(P),
    /// A reliable payload (`send_reliable`): kept until its reply, and sent again at
    /// every open. The driver writes it as a `Payload`.
    Reliable(P),
    /// A frame the machine encoded (ping, subscribe, auth).
    Text(String),
}

/// A lifecycle event for the user's listeners.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `state`: `{from, to}`.
    State {
        /// The previous state.
        from: State,
        /// The new state.
        to: State,
    },
    /// `open`.
    Open,
    /// `close`: `{code, reason, wasClean}`.
    Close {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
        /// Whether the closing handshake completed.
        was_clean: bool,
    },
    /// `reconnecting`: `{attempt, delayMs}`.
    Reconnecting {
        /// 1 for the first retry after a drop.
        attempt: u32,
        /// The delay before the attempt.
        delay_ms: f64,
    },
    /// `error`.
    Error(Error),
}

/// What the machine asks the driver to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect<P> {
    /// Open socket `gen` (resolving the token first when there is one).
    OpenSocket {
        /// The new socket's generation.
        gen: u32,
    },
    /// Send a frame on socket `gen`.
    Send {
        /// The socket's generation.
        gen: u32,
        /// The frame.
        frame: Outbound<P>,
    },
    /// Close socket `gen`. With `detach`, the driver drops its handlers first: the
    /// machine has already moved on and wants no events from it.
    CloseSocket {
        /// The socket's generation.
        gen: u32,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
        /// Whether to detach the handlers first.
        detach: bool,
    },
    /// Arm `timer` to fire after `after_ms`, replacing it if armed.
    Arm {
        /// Which timer.
        timer: Timer,
        /// The delay.
        after_ms: f64,
    },
    /// Cancel `timer`.
    Disarm(Timer),
    /// Tell the listeners.
    Emit(Event),
    /// Reject request `id`.
    RequestFailed {
        /// The request id.
        id: u64,
        /// Why.
        error: Error,
    },
}

/// How late past its due time a pong deadline may fire before the machine assumes the
/// page was asleep rather than the connection dead (with at least the timeout itself).
pub const LATE_TIMER_MS: f64 = 1_000.0;

#[derive(Debug, Clone, Copy)]
struct Ping {
    sent_at: f64,
    frames_at: u64,
}

/// Counters for `stats()`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// Successful opens after the first.
    pub reconnects: u32,
    /// The last heartbeat round trip, in ms.
    pub rtt_ms: Option<f64>,
    /// Messages waiting in the send queue.
    pub queue_len: usize,
    /// Requests waiting for a reply.
    pub pending_requests: usize,
    /// Messages the queue's overflow policy dropped or rejected.
    pub dropped: u64,
}

/// The sans-IO connection state machine. See the module docs.
#[derive(Debug)]
pub struct Machine<P> {
    opts: Options,
    backoff: Backoff,
    encoder: Encoder,
    id_prefix: String,
    state: State,
    gen: u32,
    attempt: u32,
    opens: u32,
    user_closed: bool,
    queue: SendQueue<P>,
    topics: Topics,
    requests: Requests<P>,
    armed: [bool; 6],
    frames_in: u64,
    /// `frames_in` when the current socket opened.
    frames_at_open: u64,
    /// The server has answered a heartbeat with a `pong` (on any socket of this client):
    /// from then on an unanswered one is a dead connection.
    answers_heartbeat: bool,
    ping: Option<Ping>,
    /// For this socket, the server pings within this window (Socket.IO); `None`: the
    /// client pings (the heartbeat options).
    server_window_ms: Option<f64>,
    /// When the pending server-ping check is due (to tell a late timer).
    server_check_due: f64,
    rtt_ms: Option<f64>,
    dropped: u64,
    auth_retried: bool,
    /// The driver could not write to the current socket (it is closing: the server's
    /// close frame arrived, the close event has not): sends queue until the next open.
    refused: bool,
    next_id: u64,
    rng: Rng,
    effects: Fifo<Effect<P>>,
    /// `writable()` as of the last `poll`: see `writable_at_poll`.
    writable_at_poll: bool,
}

impl<P: Clone> Machine<P> {
    /// A closed machine. `seed` drives the backoff jitter; `id_prefix` starts every id
    /// this client puts on the wire, so ids are unique across page loads.
    pub fn new(opts: Options, seed: u64, id_prefix: &str) -> Result<Self, Error> {
        opts.validate()?;
        let mut topics = Topics::default();
        topics.add(opts.topics.iter().map(String::as_str));
        Ok(Machine {
            backoff: Backoff { min_delay_ms: opts.min_delay_ms, max_delay_ms: opts.max_delay_ms },
            encoder: Encoder::new(&opts.event_key),
            id_prefix: id_prefix.to_owned(),
            state: State::Closed,
            gen: 0,
            attempt: 0,
            opens: 0,
            user_closed: false,
            queue: SendQueue::new(opts.queue_max, opts.queue_overflow),
            topics,
            requests: Requests::default(),
            armed: [false; 6],
            frames_in: 0,
            frames_at_open: 0,
            answers_heartbeat: false,
            server_window_ms: None,
            server_check_due: 0.0,
            ping: None,
            rtt_ms: None,
            dropped: 0,
            auth_retried: false,
            refused: false,
            next_id: 0,
            rng: Rng::new(seed),
            effects: Fifo::default(),
            writable_at_poll: false,
            opts,
        })
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The generation of the current (or last) socket.
    pub fn gen(&self) -> u32 {
        self.gen
    }

    /// The options the machine runs with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Switches debug logging at run time.
    pub fn set_debug(&mut self, on: bool) {
        self.opts.debug = on;
    }

    /// Whether `timer` is armed, as far as the machine knows.
    pub fn is_armed(&self, timer: Timer) -> bool {
        self.armed[timer.index()]
    }

    /// Reconnect attempts since the last stable connection.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The reference count of a topic.
    pub fn topic_count(&self, topic: &str) -> u32 {
        self.topics.count(topic)
    }

    /// Counters for `stats()`.
    pub fn stats(&self) -> Stats {
        Stats {
            reconnects: self.opens.saturating_sub(1),
            rtt_ms: self.rtt_ms,
            queue_len: self.queue.len(),
            pending_requests: self.requests.len(),
            dropped: self.dropped,
        }
    }

    /// The next numeric id; the wire id is `id_prefix` followed by it.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The wire form of a numeric id.
    pub fn wire_id(&self, id: u64) -> String {
        let mut out = self.id_prefix.clone();
        crate::text::push_u64(&mut out, id);
        out
    }

    /// The prefix of every wire id.
    pub fn id_prefix(&self) -> &str {
        &self.id_prefix
    }

    /// Whether a payload sent now may go straight to the socket: open, nothing queued
    /// and no effect waiting that it could overtake.
    pub fn writable(&self) -> bool {
        self.sends_now() && self.queue.is_empty() && self.effects.is_empty()
    }

    /// Whether a send goes to the socket rather than the queue.
    fn sends_now(&self) -> bool {
        self.state == State::Open && !self.refused
    }

    /// The driver could not write `frame` to socket `gen`: the socket is closing (the
    /// browser refuses writes from the server's close frame until its close event) or
    /// gone. Nothing more is written to it: `frame` and every send still waiting for it
    /// go back to the front of the queue, in order, for the next open. Protocol frames
    /// are not kept (the next open makes its own) and reliable ones are sent again at
    /// every open anyway.
    pub fn unsent(&mut self, gen: u32, frame: Outbound<P>) {
        if gen != self.gen {
            return;
        }
        self.refused = true;
        let mut back = Vec::new();
        if let Outbound::Payload(p) = frame {
            back.push(p);
        }
        for effect in self.effects.take_all().collect::<Vec<_>>() {
            match effect {
                Effect::Send { gen: g, frame } if g == gen => {
                    if let Outbound::Payload(p) = frame {
                        back.push(p);
                    }
                }
                other => self.effects.push_back(other),
            }
        }
        self.queue.put_back(back);
    }

    /// The next effect to execute, in order.
    pub fn poll(&mut self) -> Option<Effect<P>> {
        let effect = self.effects.pop_front();
        self.writable_at_poll = self.writable();
        effect
    }

    /// `writable()` as the last `poll` left it, kept as a field so that a driver can read
    /// it in place, with no call: the web driver's send fast path reads this byte from
    /// JS. A driver polls after every input (until `None`), and no app code runs between
    /// a change and that poll, so app code always sees the machine's current answer.
    pub fn writable_at_poll(&self) -> &bool {
        &self.writable_at_poll
    }

    /// Sends a payload now, or queues it until the next open. Fails only when the queue
    /// is full under the `reject` policy; drops by the other policies are reported as an
    /// `error` event.
    pub fn send(&mut self, payload: P) -> Result<(), Error> {
        if self.sends_now() && self.queue.is_empty() {
            self.effects
                .push_back(Effect::Send { gen: self.gen, frame: Outbound::Payload(payload) });
            return Ok(());
        }
        match self.queue.push(payload) {
            Pushed::Queued => Ok(()),
            Pushed::DroppedOldest(_) | Pushed::DroppedNewest(_) => {
                self.dropped += 1;
                self.emit(Event::Error(Error::QueueOverflow));
                Ok(())
            }
            Pushed::Rejected(_) => {
                self.dropped += 1;
                Err(Error::QueueFull(self.queue.max()))
            }
        }
    }

    /// Sends request `id` and starts its timeout.
    pub fn request(&mut self, now: f64, id: u64, payload: P, timeout_ms: f64) -> Result<(), Error> {
        self.send(payload)?;
        self.requests.insert(id, Some(now + timeout_ms), None);
        self.rearm_requests(now);
        Ok(())
    }

    /// Sends `payload` (with wire id `id`) and keeps it until a reply with that id
    /// arrives, sending it again after every reconnect: with a server that ignores ids it
    /// has processed, the effect happens exactly once. With `timeout_ms`, it fails with
    /// `REQUEST_TIMEOUT` after that long. Reliable payloads bypass the queue (they go out
    /// first on every open) and are bounded by `queueMax`; past it, `QUEUE_FULL`.
    pub fn send_reliable(
        &mut self,
        now: f64,
        id: u64,
        payload: P,
        timeout_ms: Option<f64>,
    ) -> Result<(), Error> {
        if self.requests.resend_count() >= self.queue.max() {
            self.dropped += 1;
            return Err(Error::QueueFull(self.queue.max()));
        }
        if self.sends_now() {
            let frame = Outbound::Reliable(payload.clone());
            self.effects.push_back(Effect::Send { gen: self.gen, frame });
        }
        self.requests.insert(id, timeout_ms.map(|t| now + t), Some(payload));
        self.rearm_requests(now);
        Ok(())
    }

    /// Request or reliable send `id` was answered (or the app gave up on it): it stops
    /// waiting, without a failure. Returns whether it was pending.
    pub fn settle(&mut self, now: f64, id: u64) -> bool {
        let pending = self.requests.settle(id);
        if pending {
            self.rearm_requests(now);
        }
        pending
    }

    /// Whether request or reliable send `id` waits for its reply.
    pub fn is_pending(&self, id: u64) -> bool {
        self.requests.contains(id)
    }

    /// Adds a reference to each topic; subscribes the new ones now when open.
    pub fn subscribe<'a>(&mut self, topics: impl IntoIterator<Item = &'a str>) {
        let fresh = self.topics.add(topics);
        if self.state == State::Open && !fresh.is_empty() {
            self.send_subscribe(&fresh, &[]);
        }
    }

    /// Drops a reference from each topic; unsubscribes the ones that reach zero, and
    /// returns them (the driver forgets their positions: a later subscribe starts fresh).
    pub fn unsubscribe<'a>(&mut self, topics: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let gone = self.topics.remove(topics);
        if self.state == State::Open && !gone.is_empty() {
            let id = self.next_wire_id();
            let frame = self.encoder.unsubscribe(&id, &gone);
            self.send_text(frame);
        }
        gone
    }

    /// The user's `close(code, reason)`: validated, then final (no reconnect).
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        close::validate(code, reason)?;
        self.user_closed = true;
        match self.state {
            State::Open | State::Connecting => {
                for timer in [Timer::Connect, Timer::Heartbeat, Timer::PongDeadline, Timer::Stable]
                {
                    self.disarm(timer);
                }
                self.ping = None;
                self.set_state(State::Closing);
                self.effects.push_back(Effect::CloseSocket {
                    gen: self.gen,
                    code,
                    reason: reason.to_owned(),
                    detach: false,
                });
            }
            State::Reconnecting => self.finish_closed(),
            State::Closed | State::Closing => {}
        }
        Ok(())
    }

    /// Feeds one input.
    pub fn handle(&mut self, now: f64, input: Input) {
        match input {
            Input::Connect => self.connect(),
            Input::Online => {
                if self.state == State::Reconnecting {
                    self.disarm(Timer::Retry);
                    self.start_connecting();
                }
            }
            Input::Wake => match self.state {
                State::Reconnecting => {
                    self.disarm(Timer::Retry);
                    self.start_connecting();
                }
                State::Open if self.ping.is_none() => self.ping_now(now),
                _ => {}
            },
            Input::Unauthorized { gen } => {
                if gen == self.gen && matches!(self.state, State::Open | State::Connecting) {
                    self.effects.push_back(Effect::CloseSocket {
                        gen,
                        code: close::UNAUTHORIZED,
                        reason: "unauthorized".to_owned(),
                        detach: true,
                    });
                    self.on_close(close::UNAUTHORIZED, "unauthorized".to_owned(), false);
                }
            }
            Input::ServerDisconnected { gen } => {
                if gen == self.gen && self.state == State::Open {
                    let reason = "io server disconnect";
                    self.effects.push_back(Effect::CloseSocket {
                        gen,
                        code: close::NORMAL,
                        reason: reason.to_owned(),
                        detach: true,
                    });
                    self.on_close(close::NORMAL, reason.to_owned(), true);
                }
            }
            Input::ServerHeartbeat { gen, window_ms } => {
                if gen == self.gen && self.state == State::Connecting && window_ms > 0.0 {
                    self.server_window_ms = Some(window_ms.min(crate::options::MAX_MS));
                }
            }
            Input::SocketOpened { gen, auth, since } => self.on_open(now, gen, auth, &since),
            Input::SocketClosed { gen, code, reason, was_clean } => {
                let live = matches!(self.state, State::Connecting | State::Open | State::Closing);
                if gen == self.gen && live {
                    self.on_close(code, reason, was_clean);
                }
            }
            Input::Activity { frames_in } => self.frames_in = self.frames_in.max(frames_in),
            Input::Pong { gen } => {
                if gen == self.gen && self.state == State::Open {
                    self.answers_heartbeat = true;
                    if let Some(ping) = self.ping.take() {
                        self.rtt_ms = Some(now - ping.sent_at);
                        self.disarm(Timer::PongDeadline);
                    }
                }
            }
            Input::Timer(timer) => {
                // A timer the machine did not arm (or already disarmed) is stale.
                if core::mem::replace(&mut self.armed[timer.index()], false) {
                    self.on_timer(now, timer);
                }
            }
        }
    }

    fn connect(&mut self) {
        match self.state {
            State::Closed => {
                self.user_closed = false;
                self.attempt = 0;
                self.start_connecting();
            }
            State::Reconnecting => {
                self.disarm(Timer::Retry);
                self.start_connecting();
            }
            // Already on its way, or closing: the caller can connect again after `close`.
            State::Connecting | State::Open | State::Closing => {}
        }
    }

    fn start_connecting(&mut self) {
        self.gen = self.gen.wrapping_add(1);
        self.server_window_ms = None;
        self.set_state(State::Connecting);
        self.effects.push_back(Effect::OpenSocket { gen: self.gen });
        if self.opts.connect_timeout_ms > 0.0 {
            self.arm(Timer::Connect, self.opts.connect_timeout_ms);
        }
    }

    fn on_open(&mut self, now: f64, gen: u32, auth: Option<String>, since: &[Position]) {
        if gen != self.gen || self.state != State::Connecting {
            return;
        }
        self.disarm(Timer::Connect);
        self.opens += 1;
        self.ping = None;
        self.refused = false;
        self.frames_at_open = self.frames_in;
        self.set_state(State::Open);
        self.arm(Timer::Stable, self.opts.stable_after_ms);
        if self.opts.heartbeat_interval_ms > 0.0 {
            self.arm(Timer::Heartbeat, self.opts.heartbeat_interval_ms);
        }
        if let Some(window) = self.server_window_ms {
            self.expect_server_ping(now, window);
        }
        // Socket.IO carries the token in its CONNECT packet, sent by the driver.
        let socketio = self.opts.protocol == crate::options::Protocol::SocketIo;
        if let (TokenIn::Message, Some(token), false) = (self.opts.token_in, auth, socketio) {
            let id = self.next_wire_id();
            let frame = self.encoder.auth(&id, &token);
            self.send_text(frame);
        }
        let topics = self.topics.active();
        if !topics.is_empty() {
            self.send_subscribe(&topics, since);
        }
        let gen = self.gen;
        for payload in self.requests.resends() {
            let frame = Outbound::Reliable(payload.clone());
            self.effects.push_back(Effect::Send { gen, frame });
        }
        for payload in self.queue.drain() {
            self.effects.push_back(Effect::Send { gen, frame: Outbound::Payload(payload) });
        }
        self.emit(Event::Open);
    }

    fn on_close(&mut self, code: u16, reason: String, was_clean: bool) {
        // With a token provider, a server that closes right after the open (before the
        // connection was stable) with nothing in between is refusing the credentials, as
        // the usual server-side check does (NestJS: disconnect in `handleConnection`):
        // one fresh token, one retry, then AUTH_FAILED; not a kick.
        // A close that is no server trouble: a code that stops, or none (1005: a server
        // closing without a code, as `ws`'s `close()` does).
        let deliberate = code == close::NO_STATUS || close::policy(code) == ClosePolicy::Stop;
        let refused = self.opts.refresh_token
            && self.state == State::Open
            && self.frames_in == self.frames_at_open
            && self.armed[Timer::Stable.index()]
            && deliberate;
        for timer in [Timer::Connect, Timer::Heartbeat, Timer::PongDeadline, Timer::Stable] {
            self.disarm(timer);
        }
        self.ping = None;
        self.emit(Event::Close { code, reason, was_clean });
        if self.user_closed || self.state == State::Closing || !self.opts.reconnect {
            return self.finish_closed();
        }
        let auth = code == close::UNAUTHORIZED || code == close::POLICY || refused;
        let policy = if refused { ClosePolicy::Stop } else { close::policy(code) };
        match policy {
            // A token provider gets one chance to give a fresh token.
            ClosePolicy::Stop if auth && self.opts.refresh_token && !self.auth_retried => {
                self.auth_retried = true;
                self.schedule_reconnect(0.0);
            }
            ClosePolicy::Stop if auth => {
                self.emit(Event::Error(Error::Unauthorized(code)));
                self.finish_closed();
            }
            ClosePolicy::Stop => {
                self.emit(Event::Error(Error::ClosedByServer(code)));
                self.finish_closed();
            }
            ClosePolicy::Reconnect => self.schedule_reconnect(0.0),
            ClosePolicy::ReconnectSlowly => self.schedule_reconnect(close::RATE_LIMIT_DELAY_MS),
        }
    }

    fn schedule_reconnect(&mut self, floor_ms: f64) {
        self.attempt += 1;
        if let Some(max) = self.opts.max_attempts {
            if self.attempt > max {
                self.emit(Event::Error(Error::ReconnectFailed(max)));
                return self.finish_closed();
            }
        }
        let delay = self.backoff.delay(self.attempt, self.rng.next_f64()).max(floor_ms);
        self.set_state(State::Reconnecting);
        self.emit(Event::Reconnecting { attempt: self.attempt, delay_ms: delay });
        self.arm(Timer::Retry, delay);
    }

    fn finish_closed(&mut self) {
        for timer in Timer::ALL {
            self.disarm(timer);
        }
        self.ping = None;
        for id in self.requests.abort_all() {
            self.effects.push_back(Effect::RequestFailed { id, error: Error::RequestAborted(id) });
        }
        self.set_state(State::Closed);
    }

    fn on_timer(&mut self, now: f64, timer: Timer) {
        match (timer, self.state) {
            (Timer::Retry, State::Reconnecting) => self.start_connecting(),
            (Timer::Connect, State::Connecting) => {
                self.effects.push_back(Effect::CloseSocket {
                    gen: self.gen,
                    code: close::CONNECT_TIMEOUT,
                    reason: "connect timeout".to_owned(),
                    detach: true,
                });
                self.emit(Event::Error(Error::ConnectTimeout));
                self.on_close(close::CONNECT_TIMEOUT, "connect timeout".to_owned(), false);
            }
            (Timer::Stable, State::Open) => {
                self.attempt = 0;
                self.auth_retried = false;
            }
            (Timer::Heartbeat, State::Open) => self.heartbeat(now),
            (Timer::PongDeadline, State::Open) => self.check_pong(now),
            (Timer::Requests, _) => {
                for id in self.requests.expire(now) {
                    self.effects
                        .push_back(Effect::RequestFailed { id, error: Error::RequestTimeout(id) });
                }
                self.rearm_requests(now);
            }
            // A timer for a state the machine has left does nothing.
            _ => {}
        }
    }

    fn heartbeat(&mut self, now: f64) {
        // A frame since the last ping already proved the connection alive.
        if let Some(ping) = self.ping {
            if self.frames_in > ping.frames_at {
                self.ping = None;
                self.disarm(Timer::PongDeadline);
            }
        }
        if self.ping.is_none() {
            self.ping_now(now);
        }
        self.arm(Timer::Heartbeat, self.opts.heartbeat_interval_ms);
    }

    /// Sends a ping and arms its deadline (when the watchdog is on).
    fn ping_now(&mut self, now: f64) {
        if self.opts.heartbeat_interval_ms <= 0.0 && self.opts.heartbeat_message.is_none() {
            return;
        }
        let frame = match &self.opts.heartbeat_message {
            Some(text) => text.clone(),
            None => {
                let id = self.next_wire_id();
                self.encoder.ping(&id, now)
            }
        };
        self.send_text(frame);
        self.ping = Some(Ping { sent_at: now, frames_at: self.frames_in });
        if self.opts.heartbeat_timeout_ms > 0.0 {
            self.arm(Timer::PongDeadline, self.opts.heartbeat_timeout_ms);
        }
    }

    /// Server-pinged mode: a frame must arrive within `window` ms of the last one seen
    /// (at `seen`). Checked every quarter window, so a dead server is found between 1
    /// and 1.25 windows after its last frame, with no call per frame.
    fn expect_server_ping(&mut self, seen: f64, window: f64) {
        self.ping = Some(Ping { sent_at: seen, frames_at: self.frames_in });
        self.server_check_due = seen + window / 4.0;
        self.arm(Timer::PongDeadline, window / 4.0);
    }

    fn check_pong(&mut self, now: f64) {
        let Some(ping) = self.ping else { return };
        if let Some(window) = self.server_window_ms {
            let step = window / 4.0;
            // A frame since the last check; or this check ran far late (a throttled
            // tab), and a frame may be queued behind it: count from now.
            let late = now - self.server_check_due > LATE_TIMER_MS.max(step);
            if self.frames_in > ping.frames_at || late {
                return self.expect_server_ping(now, window);
            }
            if now - ping.sent_at >= window {
                return self.heartbeat_timeout();
            }
            self.server_check_due = now + step;
            self.arm(Timer::PongDeadline, step);
            return;
        }
        if self.frames_in > ping.frames_at {
            self.ping = None;
            return;
        }
        // A legacy server (a heartbeat message of the app's, or events keyed other than
        // by `type`) need not answer the heartbeat: a stock NestJS gateway drops it. Until
        // it has answered one, or sent anything since the open, an idle connection to it
        // stays up. The typed protocol's server must answer `ping` (DESIGN §3).
        let legacy = self.opts.heartbeat_message.is_some() || self.opts.event_key != "type";
        if legacy && !self.answers_heartbeat && self.frames_in == self.frames_at_open {
            self.ping = None;
            return;
        }
        // Fired far past its due time: the page was asleep or throttled, and the pong
        // may be queued behind this timer. Ask again rather than conclude; a dead
        // connection is still found one timeout from now.
        let due = ping.sent_at + self.opts.heartbeat_timeout_ms;
        if now - due > LATE_TIMER_MS.max(self.opts.heartbeat_timeout_ms) {
            self.ping = None;
            return self.ping_now(now);
        }
        self.heartbeat_timeout();
    }

    fn heartbeat_timeout(&mut self) {
        self.effects.push_back(Effect::CloseSocket {
            gen: self.gen,
            code: close::HEARTBEAT_TIMEOUT,
            reason: "heartbeat timeout".to_owned(),
            detach: true,
        });
        self.emit(Event::Error(Error::HeartbeatTimeout));
        self.on_close(close::HEARTBEAT_TIMEOUT, "heartbeat timeout".to_owned(), false);
    }

    fn rearm_requests(&mut self, now: f64) {
        match self.requests.next_deadline() {
            Some(deadline) => self.arm(Timer::Requests, (deadline - now).max(0.0)),
            None => self.disarm(Timer::Requests),
        }
    }

    /// `subscribe` for `topics`, asking to replay from the positions in `positions` of
    /// those topics.
    fn send_subscribe(&mut self, topics: &[String], positions: &[Position]) {
        let id = self.next_wire_id();
        let since: Vec<(&str, u64, &str)> = positions
            .iter()
            .filter(|p| topics.contains(&p.topic))
            .map(|p| (p.topic.as_str(), p.seq, p.epoch.as_str()))
            .collect();
        let frame = self.encoder.subscribe_since(&id, topics, &since);
        self.send_text(frame);
    }

    fn next_wire_id(&mut self) -> String {
        let id = self.next_id();
        self.wire_id(id)
    }

    fn send_text(&mut self, frame: String) {
        self.effects.push_back(Effect::Send { gen: self.gen, frame: Outbound::Text(frame) });
    }

    fn set_state(&mut self, to: State) {
        let from = self.state;
        if from != to {
            self.state = to;
            self.emit(Event::State { from, to });
        }
    }

    fn emit(&mut self, event: Event) {
        self.effects.push_back(Effect::Emit(event));
    }

    fn arm(&mut self, timer: Timer, after_ms: f64) {
        self.armed[timer.index()] = true;
        self.effects.push_back(Effect::Arm { timer, after_ms });
    }

    fn disarm(&mut self, timer: Timer) {
        if core::mem::replace(&mut self.armed[timer.index()], false) {
            self.effects.push_back(Effect::Disarm(timer));
        }
    }
}
