//! `/ws`: the reference protocol (DESIGN §3), one task per connection, and the policy
//! every WebSocket endpoint shares (`Guard`): the rate limit before parsing, the
//! deadlines (first frame, authentication, idle, token expiry), writes bounded in time,
//! and the close codes RFC 6455 asks for.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;
use wsocket::protocol::{
    types, AuthData, ErrorBody, ErrorCode, Message, SubscribeData, SubscribedData, TopicsData,
};

use crate::auth::{self, Credential};
use crate::conns::{Control, Slot, SlotKind};
use crate::hub::{now_ms, Outbox};
use crate::PublishError;
use crate::{encode, AppState};

/// The WebSocket subprotocol `/ws` picks when a client offers it (a client that offers
/// none gets none): the reference protocol, version 1.
pub const SUBPROTOCOL: &str = "wsocket.v1";

/// Batching of pushes: at most this many per batch frame...
const BATCH_MAX: usize = 10;
/// ...and at most this long in the buffer.
const BATCH_WINDOW: Duration = Duration::from_millis(100);

/// The close codes the server sends: the protocol's own list, shared with the client.
pub use wsocket::close as codes;

/// Per-connection settings from the upgrade request's query string.
#[derive(Debug, Default, Clone)]
pub struct Params {
    /// A client-chosen id the test-control API can address.
    pub cid: Option<String>,
    /// A client id the client keeps across reconnects and reloads: the scope of its
    /// processed ids when it is not authenticated as a user.
    pub client: Option<String>,
    /// `?token=`.
    pub token: Option<String>,
    /// `?batch=1`: batch pushes.
    pub batch: bool,
}

impl Params {
    /// Reads the known keys of a query map.
    pub fn from_query(q: &HashMap<String, String>) -> Params {
        Params {
            cid: q.get("cid").cloned(),
            client: q.get("client").cloned(),
            token: q.get("token").cloned(),
            batch: q.get("batch").is_some_and(|v| v == "1" || v == "true"),
        }
    }
}

/// What the connection does next.
pub(crate) enum Flow {
    Continue,
    /// Close with this code after flushing.
    Close(u16, &'static str),
}

/// The write half of a connection.
pub(crate) type Sink = SplitSink<WebSocket, WsMessage>;

/// A write that gave up: the client is gone, or did not read for `write_timeout`.
pub(crate) struct Gone;

/// The policy every WebSocket connection shares.
pub(crate) struct Guard {
    pub state: Arc<AppState>,
    pub slot: Slot,
    /// The connection's id in `state.conns`, forgotten when the guard drops.
    pub conn: u64,
    pub credential: Option<Credential>,
    /// Until the first frame arrives.
    first_frame: Option<Instant>,
    /// Until the connection authenticates (when a token is required).
    auth_deadline: Option<Instant>,
    /// The token's expiry.
    expires: Option<Instant>,
    last_in: Instant,
    /// Token bucket: tokens left, and when it was last filled.
    tokens: f64,
    filled: Instant,
    /// Messages refused since the last second without a refusal.
    strikes: u32,
    last_strike: Instant,
    /// Frames counted and not yet added to the shared counters (`flush_counts`).
    frames_in: u64,
    frames_out: AtomicU64,
}

/// How many queued pushes a connection takes in one turn of its loop, besides the one
/// that woke it.
const PUSH_RUN: usize = 63;

/// Why `Guard::authenticate` said no.
pub(crate) enum Refused {
    /// The token is not good (the reason, for the client).
    Credentials(&'static str),
    /// Good credentials, but every authenticated slot is taken.
    Full,
}

impl Refused {
    /// The error to send first (if any), and the close.
    pub fn outcome(&self) -> (Option<&'static str>, Flow) {
        match self {
            Refused::Credentials(why) => {
                (Some(why), Flow::Close(codes::UNAUTHORIZED, "unauthorized"))
            }
            Refused::Full => (None, Flow::Close(codes::TRY_AGAIN_LATER, "too many connections")),
        }
    }
}

/// How many frames a connection counts before it adds them to the shared counters.
const COUNT_BATCH: u64 = 256;

/// Why `Guard::deadline` fired.
pub(crate) enum Deadline {
    FirstFrame,
    Auth,
    Idle,
    Expired,
}

impl Guard {
    /// Registers the connection (its `cid` from the URL); returns the guard and the
    /// receiver of its test-control commands. Dropping the guard, also while a panic
    /// unwinds, forgets the connection and frees its slot.
    pub fn new(
        state: Arc<AppState>,
        slot: Slot,
        cid: Option<String>,
    ) -> (Guard, mpsc::Receiver<Control>) {
        let (conn, ctl_rx) = state.conns.add(cid);
        let now = Instant::now();
        let c = &state.config;
        let rate = f64::from(c.rate_limit_per_sec);
        let auth_deadline =
            (auth::required(c) && slot.kind() == SlotKind::Pending).then(|| now + c.auth_timeout);
        state.metrics.connections_opened.inc();
        let guard = Guard {
            conn,
            first_frame: Some(now + c.first_frame_timeout),
            auth_deadline,
            expires: None,
            last_in: now,
            tokens: rate,
            filled: now,
            strikes: 0,
            last_strike: now,
            frames_in: 0,
            frames_out: AtomicU64::new(0),
            credential: None,
            slot,
            state,
        };
        (guard, ctl_rx)
    }

    /// Whether the connection has credentials (or none are required).
    pub fn authed(&self) -> bool {
        self.credential.is_some() || !auth::required(&self.state.config)
    }

    /// Checks `token`; on success the connection is authenticated until the token's
    /// expiry, its slot moved among the authenticated ones.
    pub fn authenticate(&mut self, token: &str) -> Result<(), Refused> {
        let credential = match auth::check(&self.state.config, token) {
            Ok(c) => c,
            Err(why) => {
                self.state.metrics.auth_failures.inc();
                tracing::info!(why, "credentials refused");
                return Err(Refused::Credentials(why));
            }
        };
        if !self.slot.promote(&self.state.config) {
            return Err(Refused::Full);
        }
        self.expires = credential
            .expires_at
            .map(|exp| Instant::now() + Duration::from_secs(exp.saturating_sub(auth::now_secs())));
        self.auth_deadline = None;
        self.credential = Some(credential);
        Ok(())
    }

    /// Where this connection's processed ids live (see `dedupe`).
    pub fn scope(&self, params: &Params) -> String {
        match (self.credential.as_ref().and_then(|c| c.user.as_ref()), &params.client, &params.cid)
        {
            (Some(user), _, _) => format!("user:{user}"),
            (None, Some(client), _) => format!("client:{client}"),
            (None, None, Some(cid)) => format!("cid:{cid}"),
            (None, None, None) => "anonymous".to_owned(),
        }
    }

    /// A frame arrived: the deadlines move, and the rate limit takes a token before the
    /// frame is parsed. `Err(None)`: refuse it silently; `Err(Some(flow))`: refuse it and
    /// answer (the first refusal) or close (4008, after a second's worth of refusals).
    pub fn arrived(&mut self) -> Result<(), Option<Flow>> {
        let now = Instant::now();
        self.frames_in += 1;
        if self.frames_in >= COUNT_BATCH {
            self.flush_counts();
        }
        self.first_frame = None;
        self.last_in = now;
        let rate = f64::from(self.state.config.rate_limit_per_sec);
        self.tokens =
            (self.tokens + now.duration_since(self.filled).as_secs_f64() * rate).min(rate);
        self.filled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            if now.duration_since(self.last_strike) >= Duration::from_secs(1) {
                self.strikes = 0;
            }
            return Ok(());
        }
        self.state.metrics.rate_limited.inc();
        self.strikes += 1;
        self.last_strike = now;
        if self.strikes > self.state.config.rate_limit_per_sec.max(1) {
            return Err(Some(Flow::Close(codes::RATE_LIMITED, "rate limited")));
        }
        Err((self.strikes == 1).then_some(Flow::Continue))
    }

    /// The next deadline, if any.
    pub fn next(&self) -> (Instant, Deadline) {
        let idle = self.last_in + self.state.config.idle_timeout;
        let mut best = (idle, Deadline::Idle);
        for (at, why) in [
            (self.first_frame, Deadline::FirstFrame),
            (self.auth_deadline, Deadline::Auth),
            (self.expires, Deadline::Expired),
        ] {
            if let Some(at) = at.filter(|at| *at < best.0) {
                best = (at, why);
            }
        }
        best
    }

    /// The deadline timer fired: the deadline that is due, or `None` when the deadlines
    /// moved later since it was set (a frame arrived: the idle deadline moves with every
    /// frame, and resetting the timer each time would cost a timer-wheel update per
    /// frame), after setting it again.
    pub fn due(&self, timer: std::pin::Pin<&mut tokio::time::Sleep>) -> Option<Deadline> {
        let (at, why) = self.next();
        if at <= Instant::now() {
            return Some(why);
        }
        timer.reset(at);
        None
    }

    /// Adds the frames counted since the last call to the shared counters (batched: a
    /// shared atomic per frame would bounce between cores on the fan-out path).
    fn flush_counts(&mut self) {
        self.state.metrics.frames_in.inc_by(std::mem::take(&mut self.frames_in));
        self.state.metrics.frames_out.inc_by(self.frames_out.swap(0, Ordering::Relaxed));
    }

    /// What a fired deadline does: the error to send first (if any), and the close.
    pub fn expired(&self, why: Deadline) -> (Option<&'static str>, Flow) {
        self.state.metrics.timeouts.inc();
        match why {
            Deadline::FirstFrame => (None, Flow::Close(codes::GOING_AWAY, "no frame in time")),
            Deadline::Idle => (None, Flow::Close(codes::GOING_AWAY, "idle")),
            Deadline::Auth => (
                Some("authenticate first"),
                Flow::Close(codes::UNAUTHORIZED, "authentication timeout"),
            ),
            Deadline::Expired => {
                (Some("token expired"), Flow::Close(codes::UNAUTHORIZED, "token expired"))
            }
        }
    }

    /// Sends `message`, waiting at most `write_timeout` for a client that does not read.
    pub async fn write(&self, sink: &mut Sink, message: WsMessage) -> Result<(), Gone> {
        self.bounded(sink.send(message), 1).await
    }

    /// Writes every text in `out` (emptied, its buffer kept) with one flush: one system
    /// call for a run of pushes rather than one each. Bounded by `write_timeout` in all.
    pub async fn write_all(&self, sink: &mut Sink, out: &mut Vec<Utf8Bytes>) -> Result<(), Gone> {
        let count = out.len() as u64;
        self.bounded(
            async {
                for text in out.drain(..) {
                    sink.feed(WsMessage::Text(text)).await?;
                }
                sink.flush().await
            },
            count,
        )
        .await
    }

    /// Runs a write of `frames` frames within `write_timeout` (the timer is armed only if
    /// the write has to wait), counting the frames.
    async fn bounded<E>(
        &self,
        write: impl std::future::Future<Output = Result<(), E>>,
        frames: u64,
    ) -> Result<(), Gone> {
        match tokio::time::timeout(self.state.config.write_timeout, write).await {
            Ok(Ok(())) => {
                // Per connection, so uncontended; an atomic only because writes take `&self`.
                let out = self.frames_out.fetch_add(frames, Ordering::Relaxed) + frames;
                if out >= COUNT_BATCH {
                    self.state
                        .metrics
                        .frames_out
                        .inc_by(self.frames_out.swap(0, Ordering::Relaxed));
                }
                Ok(())
            }
            Ok(Err(_)) => Err(Gone),
            Err(_) => {
                self.state.metrics.slow_consumers.inc();
                tracing::info!("slow consumer: a write waited too long, connection dropped");
                Err(Gone)
            }
        }
    }

    /// Sends a close frame (bounded in time like any write).
    pub async fn close(&self, sink: &mut Sink, code: u16, reason: &str) {
        let frame = CloseFrame { code, reason: Utf8Bytes::from(reason) };
        let _ = self.write(sink, WsMessage::Close(Some(frame))).await;
    }

    /// After sending a close: reads (and drops) what the client still sends until its
    /// close arrives, for at most a second, so the close frame is not lost to a TCP reset
    /// of unread data (RFC 6455 §7.1.1: the server waits for the client's close).
    pub async fn linger<S>(&self, stream: &mut S)
    where
        S: futures_util::Stream<Item = Result<WsMessage, axum::Error>> + Unpin,
    {
        let until = Instant::now() + Duration::from_secs(1);
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(until, stream.next()).await {
            if let WsMessage::Close(_) = frame {
                break;
            }
        }
    }

    /// The close code for a read error, as RFC 6455 says (`None`: the connection is just
    /// gone, nothing to send).
    pub fn read_error(&self, error: axum::Error) -> Option<(u16, &'static str)> {
        use tungstenite::error::{CapacityError, Error as E};
        let inner = error.into_inner();
        let answer = match inner.downcast_ref::<E>()? {
            E::Capacity(CapacityError::MessageTooLong { .. }) => (codes::TOO_BIG, "too large"),
            E::Capacity(_) => (codes::TOO_BIG, "too large"),
            E::Utf8(_) => (codes::INVALID_DATA, "invalid UTF-8"),
            E::Protocol(_) => (codes::PROTOCOL_ERROR, "protocol error"),
            _ => return None,
        };
        self.state.metrics.protocol_errors.inc();
        tracing::debug!(code = answer.0, "closing on a protocol error");
        Some(answer)
    }
}

struct Session {
    guard: Guard,
    params: Params,
    outbox: Outbox,
    /// The topics this connection holds.
    topics: HashSet<String>,
    out: Vec<Utf8Bytes>,
}

/// Runs one `/ws` connection until it closes or is dropped.
pub async fn serve(socket: WebSocket, state: Arc<AppState>, params: Params, slot: Slot) {
    let (mut sink, mut stream) = socket.split();
    let (guard, mut ctl_rx) = Guard::new(state.clone(), slot, params.cid.clone());
    let (outbox, mut push_rx, slow) = Outbox::new(state.config.outbound_queue);
    let mut shutdown = state.conns.on_shutdown();
    let mut session =
        Session { guard, params: params.clone(), outbox, topics: HashSet::new(), out: Vec::new() };
    let mut flow = session.authenticate_query(params.token.as_deref());
    let mut stalled = false;
    let mut batch: Vec<Utf8Bytes> = Vec::new();
    let mut batch_deadline: Option<Instant> = None;
    // Futures that live as long as the connection, polled by every turn of the loop
    // without registering anew: the shutdown, the slow-consumer signal and the deadline
    // timer (reset only when it fires early: `Guard::due`).
    let stop = crate::conns::stopping(&mut shutdown);
    let slow = slow.notified();
    let timer = tokio::time::sleep_until(session.guard.next().0);
    tokio::pin!(stop, slow, timer);

    'conn: {
        while let Flow::Continue = flow {
            // Stalled: half-open. What arrives is still processed, nothing gets back.
            if stalled {
                session.out.clear();
            }
            // Drained in place: the buffer is reused, not allocated per turn.
            let Session { guard, out, .. } = &mut session;
            if !out.is_empty() && guard.write_all(&mut sink, out).await.is_err() {
                break 'conn;
            }
            let flush_at = batch_deadline;
            tokio::select! {
                inbound = stream.next() => match inbound {
                    Some(Ok(WsMessage::Text(text))) => flow = match session.guard.arrived() {
                        Ok(()) => session.on_text(&text).await,
                        Err(refused) => session.rate_limited(refused),
                    },
                    Some(Ok(WsMessage::Binary(_))) => flow = match session.guard.arrived() {
                        Ok(()) => {
                            session.error(None, ErrorCode::BadRequest, "binary frames are not part of the protocol");
                            Flow::Continue
                        }
                        Err(refused) => session.rate_limited(refused),
                    },
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {
                        if let Err(Some(f)) = session.guard.arrived() {
                            flow = f;
                        }
                    }
                    // The close is echoed (tungstenite queued the answer; the flush sends it).
                    Some(Ok(WsMessage::Close(_))) => {
                        let _ = tokio::time::timeout(state.config.write_timeout, sink.flush()).await;
                        break;
                    }
                    Some(Err(e)) => {
                        if let Some((code, reason)) = session.guard.read_error(e) {
                            if code == codes::TOO_BIG {
                                let limit = state.config.max_frame_bytes;
                                session.error(None, ErrorCode::TooLarge, format!("a frame over {limit} bytes"));
                            }
                            flow = Flow::Close(code, reason);
                        }
                        break;
                    }
                    None => break,
                },
                push = push_rx.recv() => {
                    let Some(push) = push else { break };
                    if stalled {
                        continue;
                    }
                    // What else is queued comes along, up to a bound: one turn of this
                    // loop and one flush for a run of pushes.
                    let more = std::iter::from_fn(|| push_rx.try_recv().ok()).take(PUSH_RUN);
                    for push in std::iter::once(push).chain(more) {
                        if params.batch {
                            batch.push(push);
                            batch_deadline.get_or_insert_with(|| Instant::now() + BATCH_WINDOW);
                            if batch.len() >= BATCH_MAX {
                                session.out.push(batch_frame(&mut batch));
                                batch_deadline = None;
                            }
                        } else {
                            session.out.push(push);
                        }
                    }
                }
                () = &mut slow => {
                    state.metrics.slow_consumers.inc();
                    tracing::info!(conn = session.guard.conn, "slow consumer: its push queue is full");
                    flow = Flow::Close(codes::TRY_AGAIN_LATER, "slow consumer");
                }
                _ = sleep_until(flush_at) => {
                    if !batch.is_empty() {
                        session.out.push(batch_frame(&mut batch));
                    }
                    batch_deadline = None;
                }
                () = &mut timer => {
                    if let Some(why) = session.guard.due(timer.as_mut()) {
                        let (error, close) = session.guard.expired(why);
                        if let Some(text) = error {
                            session.error(None, ErrorCode::Unauthorized, text);
                        }
                        flow = close;
                    }
                }
                () = &mut stop => flow = Flow::Close(codes::SERVICE_RESTART, "server restart"),
                control = ctl_rx.recv() => match control {
                    // Returning drops the socket without a close frame: the peer sees 1006.
                    Some(Control::Drop) | None => break 'conn,
                    Some(Control::Close(code, reason, linger)) => {
                        session.guard.close(&mut sink, code, &reason).await;
                        session.drain_closing(&mut stream, linger).await;
                        break;
                    }
                    Some(Control::Stall(on)) => stalled = on,
                    Some(Control::Raw(text)) => session.out.push(Utf8Bytes::from(text)),
                    Some(Control::Binary(bytes)) => {
                        if session.guard.write(&mut sink, WsMessage::Binary(bytes.into())).await.is_err() {
                            break 'conn;
                        }
                    }
                    Some(Control::Flood(count)) => {
                        if flood(&mut sink, count).await.is_err() {
                            break 'conn;
                        }
                    }
                    Some(Control::Panic) => panic!("connection {}: /control/panic", session.guard.conn),
                },
            }
        }
        if let Flow::Close(code, reason) = flow {
            let Session { guard, out, .. } = &mut session;
            if !stalled && guard.write_all(&mut sink, out).await.is_err() {
                break 'conn;
            }
            session.guard.close(&mut sink, code, reason).await;
            session.guard.linger(&mut stream).await;
        }
    }
}

/// Closes a connection past `max_connections` at once with 1013 (try again later), so
/// the client backs off instead of piling on.
pub async fn refuse_busy(mut socket: WebSocket) {
    let reason = Utf8Bytes::from_static("too many connections");
    let frame = CloseFrame { code: codes::TRY_AGAIN_LATER, reason };
    let _ =
        tokio::time::timeout(Duration::from_secs(5), socket.send(WsMessage::Close(Some(frame))))
            .await;
}

/// Writes `count` pre-encoded frames, flushing once per 1,000, so the sender is never
/// what limits an inbound benchmark.
async fn flood<S>(sink: &mut S, count: u32) -> Result<(), S::Error>
where
    S: futures_util::Sink<WsMessage> + Unpin,
{
    let frames: Vec<Utf8Bytes> = (1..=count)
        .map(|n| Utf8Bytes::from(format!(r#"{{"type":"tick","data":{{"n":{n}}}}}"#)))
        .collect();
    for chunk in frames.chunks(1_000) {
        for frame in chunk {
            sink.feed(WsMessage::Text(frame.clone())).await?;
        }
        sink.flush().await?;
    }
    Ok(())
}

pub(crate) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Wraps buffered pushes (already JSON objects) into one `batch` frame, in order.
fn batch_frame(batch: &mut Vec<Utf8Bytes>) -> Utf8Bytes {
    let mut out = String::from(r#"{"type":"batch","messages":["#);
    for (i, push) in batch.drain(..).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(push.as_str());
    }
    out.push_str("]}");
    Utf8Bytes::from(out)
}

/// Leaving every topic happens on drop, so a connection task that panics leaves no
/// subscriptions behind (its guard, dropped next, frees the rest).
impl Drop for Guard {
    fn drop(&mut self) {
        self.flush_counts();
        self.state.conns.remove(self.conn);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.guard.state.hub.leave(self.guard.conn, &self.topics);
    }
}

impl Session {
    /// After the server's close (test control): what the client sent before it saw the
    /// close is still processed until its close arrives (answers are not sent: the close
    /// went first), for at least a second; then the connection stays up until `linger`
    /// has passed, as behind a draining load balancer.
    async fn drain_closing<S>(&mut self, stream: &mut S, linger: Duration)
    where
        S: futures_util::Stream<Item = Result<WsMessage, axum::Error>> + Unpin,
    {
        let hold = Instant::now() + linger;
        let read_until = hold.max(Instant::now() + Duration::from_secs(1));
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(read_until, stream.next()).await {
            match frame {
                WsMessage::Text(text) => {
                    let _ = self.on_text(&text).await;
                }
                WsMessage::Close(_) => break,
                _ => {}
            }
        }
        self.out.clear();
        tokio::time::sleep_until(hold).await;
    }

    fn reply(&mut self, message: &Message) {
        self.out.push(Utf8Bytes::from(encode(message)));
    }

    fn error(&mut self, id: Option<String>, code: ErrorCode, text: impl Into<String>) {
        self.reply(&error_frame(id, code, text.into()));
    }

    fn rate_limited(&mut self, refused: Option<Flow>) -> Flow {
        match refused {
            Some(Flow::Continue) => {
                let limit = self.guard.state.config.rate_limit_per_sec;
                let text = format!("more than {limit} messages per second; more are dropped unanswered, and as many again close the connection with 4008");
                self.error(None, ErrorCode::RateLimited, text);
                Flow::Continue
            }
            Some(close) => close,
            None => Flow::Continue,
        }
    }

    fn authenticate_query(&mut self, token: Option<&str>) -> Flow {
        let Some(token) = token else { return Flow::Continue };
        match self.guard.authenticate(token) {
            Ok(()) => Flow::Continue,
            Err(why) => self.refuse(None, &why),
        }
    }

    fn refuse(&mut self, id: Option<String>, why: &Refused) -> Flow {
        let (error, close) = why.outcome();
        if let Some(text) = error {
            self.error(id, ErrorCode::Unauthorized, text);
        }
        close
    }

    /// Whether a message with side effects is new; a repeat (a reliable send sent again
    /// after a reconnect) only gets its acknowledgement again. With many nodes and Redis
    /// unreachable, it cannot tell: an error, and the message is not processed.
    async fn first_time(&self, id: Option<&str>) -> Result<bool, String> {
        let Some(id) = id else { return Ok(true) };
        let scope = self.guard.scope(&self.params);
        self.guard.state.first_time(&scope, id, self.params.cid.as_deref()).await
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        let config = &self.guard.state.config;
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.error(None, ErrorCode::BadRequest, format!("not JSON: {e}"));
                return Flow::Continue;
            }
        };
        let id = match value.get("id") {
            Some(Value::String(id)) if id.len() > config.max_id_bytes => {
                let text = format!("an id is at most {} bytes", config.max_id_bytes);
                self.error(None, ErrorCode::BadRequest, text);
                return Flow::Continue;
            }
            Some(Value::String(id)) => Some(id.clone()),
            _ => None,
        };
        let message: Message = match serde_json::from_value(value) {
            Ok(m) => m,
            Err(e) => {
                self.error(id, ErrorCode::BadRequest, format!("not a protocol message: {e}"));
                return Flow::Continue;
            }
        };
        self.on_message(message).await
    }

    async fn on_message(&mut self, m: Message) -> Flow {
        if !self.guard.authed() && m.kind != types::AUTH && m.kind != types::PING {
            self.error(m.id, ErrorCode::Unauthorized, "authenticate first");
            return Flow::Close(codes::UNAUTHORIZED, "unauthorized");
        }
        match m.kind.as_str() {
            types::PING => {
                self.guard.state.conns.pinged(self.guard.conn);
                self.reply(&Message {
                    kind: types::PONG.to_owned(),
                    id: m.id,
                    timestamp: m.timestamp.or(Some(now_ms())),
                    ..Message::default()
                })
            }
            types::AUTH => return self.on_auth(m),
            types::SUBSCRIBE => self.on_subscribe(m).await,
            types::UNSUBSCRIBE => match data::<TopicsData>(&m) {
                Ok(d) => {
                    for topic in &d.topics {
                        if self.topics.remove(topic) {
                            self.guard.state.hub.unsubscribe(self.guard.conn, topic);
                        }
                    }
                    let topics: BTreeSet<&String> = d.topics.iter().collect();
                    self.reply(&Message {
                        kind: types::UNSUBSCRIBED.to_owned(),
                        id: m.id,
                        data: Some(json!({ "topics": topics })),
                        ..Message::default()
                    });
                }
                Err(e) => self.error(m.id, ErrorCode::BadRequest, e),
            },
            types::PUBLISH => self.on_publish(m).await,
            "echo" => self.reply(&Message {
                kind: "echo".to_owned(),
                id: m.id,
                data: m.data,
                ..Message::default()
            }),
            "get_unread_message" => self.reply(&Message {
                kind: "get_unread_message".to_owned(),
                id: m.id,
                data: Some(json!({ "count": 3 })),
                ..Message::default()
            }),
            // Discarded without a reply: the outbound benchmark's sink.
            "bench_sink" => {}
            "custom_action" => {
                if let Err(e) = self.first_time(m.id.as_deref()).await {
                    self.error(m.id, ErrorCode::Unavailable, e);
                } else if m.id.is_some() {
                    self.reply(&Message {
                        kind: types::ACK.to_owned(),
                        id: m.id,
                        ..Message::default()
                    });
                }
            }
            other => {
                let text = format!("unknown message type `{other}`");
                self.error(m.id, ErrorCode::UnknownMessageType, text);
            }
        }
        Flow::Continue
    }

    fn on_auth(&mut self, m: Message) -> Flow {
        let token = match data::<AuthData>(&m) {
            Ok(d) => d.token,
            Err(e) => {
                self.error(m.id, ErrorCode::BadRequest, e);
                return Flow::Continue;
            }
        };
        if let Err(why) = self.guard.authenticate(&token) {
            return self.refuse(m.id, &why);
        }
        self.reply(&Message { kind: types::AUTH_OK.to_owned(), id: m.id, ..Message::default() });
        Flow::Continue
    }

    async fn on_subscribe(&mut self, m: Message) {
        let d = match data::<SubscribeData>(&m) {
            Ok(d) => d,
            Err(e) => return self.error(m.id, ErrorCode::BadRequest, e),
        };
        // Each topic once, in the order first named.
        let mut named = HashSet::new();
        let topics: Vec<String> =
            d.topics.into_iter().filter(|t| named.insert(t.clone())).collect();
        let state = self.guard.state.clone();
        if let Some(e) = topics.iter().find_map(|t| state.hub.check_topic(t).err()) {
            return self.error(m.id, ErrorCode::BadRequest, e);
        }
        let max = self.guard.state.config.max_topics_per_connection;
        let new = topics.iter().filter(|t| !self.topics.contains(*t)).count();
        if self.topics.len() + new > max {
            let text = format!("at most {max} topics per connection");
            return self.error(m.id, ErrorCode::BadRequest, text);
        }
        if let Some(topic) = topics.iter().find(|t| is_private(t) && !self.private_ok()) {
            let text = format!("topic `{topic}` needs authentication");
            return self.error(m.id, ErrorCode::Forbidden, text);
        }
        let since = d.since.unwrap_or_default();
        let mut recovered = BTreeMap::new();
        let mut positions = BTreeMap::new();
        let mut replay = Vec::new();
        for topic in &topics {
            let joined = state.subscribe(self.guard.conn, topic, &self.outbox, since.get(topic));
            let joined = match joined.await {
                Ok(j) => j,
                Err(e) => return self.error(m.id, ErrorCode::BadRequest, e),
            };
            self.topics.insert(topic.clone());
            recovered.insert(topic.clone(), joined.recovered);
            positions.insert(topic.clone(), joined.position);
            replay.extend(joined.replay);
        }
        let answer = SubscribedData { topics, recovered, positions };
        self.reply(&Message {
            kind: types::SUBSCRIBED.to_owned(),
            id: m.id,
            data: serde_json::to_value(answer).ok(),
            ..Message::default()
        });
        self.out.extend(replay);
    }

    /// Private topics need a credential (a user's, when the server knows users).
    fn private_ok(&self) -> bool {
        self.guard.credential.is_some()
    }

    async fn on_publish(&mut self, m: Message) {
        let Some(topic) = m.topic.filter(|t| !t.is_empty()) else {
            return self.error(m.id, ErrorCode::BadRequest, "publish needs a `topic`");
        };
        if let Err(e) = self.guard.state.hub.check_topic(&topic) {
            return self.error(m.id, ErrorCode::BadRequest, e);
        }
        if is_private(&topic) && !self.private_ok() {
            let text = format!("topic `{topic}` needs authentication");
            return self.error(m.id, ErrorCode::Forbidden, text);
        }
        let event = m.event.as_deref().unwrap_or(types::MESSAGE);
        let state = self.guard.state.clone();
        if let (None, Some(cluster)) = (&m.id, &state.cluster) {
            // Nothing to acknowledge: queued for Redis in order and not waited for, so a
            // burst goes out in pipelines. A failure still comes back, as an error.
            let queued = cluster.publish(&topic, event, m.data.unwrap_or(Value::Null), None);
            let outbox = self.outbox.clone();
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(e) = queued.await {
                    state.metrics.redis_errors.inc();
                    let frame = error_frame(None, ErrorCode::Unavailable, e.0);
                    outbox.offer(&Utf8Bytes::from(encode(&frame)));
                }
            });
            return;
        }
        let scope = self.guard.scope(&self.params);
        let once = m.id.as_deref().map(|id| (scope.as_str(), id, self.params.cid.as_deref()));
        let data = m.data.clone().unwrap_or(Value::Null);
        match state.publish_once(&topic, event, data, once).await {
            Ok(_) => {}
            Err(PublishError::Refused(e)) => return self.error(m.id, ErrorCode::BadRequest, e),
            Err(PublishError::Unavailable(e)) => {
                return self.error(m.id, ErrorCode::Unavailable, e)
            }
        }
        if m.id.is_some() {
            self.reply(&Message { kind: types::ACK.to_owned(), id: m.id, ..Message::default() });
        }
    }
}

/// An `error` frame answering message `id` (none: not tied to one).
fn error_frame(id: Option<String>, code: ErrorCode, message: String) -> Message {
    Message {
        kind: types::ERROR.to_owned(),
        id,
        error: Some(ErrorBody { code, message, details: None }),
        ..Message::default()
    }
}

/// Topics under `private:` need an authenticated connection.
fn is_private(topic: &str) -> bool {
    topic.starts_with("private:")
}

fn data<T: serde::de::DeserializeOwned>(m: &Message) -> Result<T, String> {
    let value = m.data.clone().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|e| format!("bad `data` for `{}`: {e}", m.kind))
}
