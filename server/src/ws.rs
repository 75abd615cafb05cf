//! `/ws`: the reference protocol (DESIGN §3), one task per connection.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use wsocket::protocol::{
    types, AuthData, ErrorBody, ErrorCode, Message, SubscribeData, SubscribedData, TopicsData,
};

use crate::conns::Control;
use crate::hub::now_ms;
use crate::{auth, encode, AppState};

/// The WebSocket subprotocol `/ws` picks when a client offers it (a client that offers
/// none gets none): the reference protocol, version 1.
pub const SUBPROTOCOL: &str = "wsocket.v1";

/// Batching of pushes: at most this many per batch frame...
const BATCH_MAX: usize = 10;
/// ...and at most this long in the buffer.
const BATCH_WINDOW: Duration = Duration::from_millis(100);

/// Per-connection settings from the upgrade request's query string.
#[derive(Debug, Default, Clone)]
pub struct Params {
    /// A client-chosen id the test-control API can address.
    pub cid: Option<String>,
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
            token: q.get("token").cloned(),
            batch: q.get("batch").is_some_and(|v| v == "1" || v == "true"),
        }
    }
}

enum Flow {
    Continue,
    /// Close with this code after flushing.
    Close(u16, &'static str),
}

struct Session {
    state: Arc<AppState>,
    conn: u64,
    cid: Option<String>,
    push_tx: mpsc::UnboundedSender<Utf8Bytes>,
    authed: bool,
    window_start: Instant,
    window_count: u32,
    out: Vec<Utf8Bytes>,
}

/// Runs one `/ws` connection until it closes or is dropped.
pub async fn serve(socket: WebSocket, state: Arc<AppState>, params: Params) {
    let (mut sink, mut stream) = socket.split();
    let (ctl_tx, mut ctl_rx) = mpsc::unbounded_channel();
    let (push_tx, mut push_rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    let conn = state.conns.add(params.cid.clone(), ctl_tx);
    let mut session = Session {
        authed: false,
        conn,
        cid: params.cid.clone(),
        push_tx,
        window_start: Instant::now(),
        window_count: 0,
        out: Vec::new(),
        state: state.clone(),
    };
    let mut flow = session.authenticate_query(params.token.as_deref());
    let mut stalled = false;
    let mut batch: Vec<Utf8Bytes> = Vec::new();
    let mut batch_deadline: Option<tokio::time::Instant> = None;

    while let Flow::Continue = flow {
        // Stalled: half-open. What arrives is still processed, nothing gets back.
        if stalled {
            session.out.clear();
        }
        for text in session.out.drain(..) {
            if sink.send(WsMessage::Text(text)).await.is_err() {
                return finish(&state, conn);
            }
        }
        let flush_at = batch_deadline;
        tokio::select! {
            inbound = stream.next() => match inbound {
                Some(Ok(WsMessage::Text(text))) => flow = session.on_text(&text),
                Some(Ok(WsMessage::Binary(_))) => {
                    session.error(None, ErrorCode::BadRequest, "binary frames are not part of the protocol");
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            push = push_rx.recv() => {
                let Some(push) = push else { break };
                if stalled {
                    continue;
                }
                if params.batch {
                    batch.push(push);
                    batch_deadline.get_or_insert_with(|| tokio::time::Instant::now() + BATCH_WINDOW);
                    if batch.len() >= BATCH_MAX {
                        session.out.push(batch_frame(&mut batch));
                        batch_deadline = None;
                    }
                } else {
                    session.out.push(push);
                }
            }
            _ = sleep_until(flush_at) => {
                if !batch.is_empty() {
                    session.out.push(batch_frame(&mut batch));
                }
                batch_deadline = None;
            }
            control = ctl_rx.recv() => match control {
                // Returning drops the socket without a close frame: the peer sees 1006.
                Some(Control::Drop) | None => return finish(&state, conn),
                Some(Control::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: Utf8Bytes::from(reason) };
                    let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    break;
                }
                Some(Control::Stall(on)) => stalled = on,
                Some(Control::Raw(text)) => session.out.push(Utf8Bytes::from(text)),
                Some(Control::Binary(bytes)) => {
                    if sink.send(WsMessage::Binary(bytes.into())).await.is_err() {
                        return finish(&state, conn);
                    }
                }
                Some(Control::Flood(count)) => {
                    if flood(&mut sink, count).await.is_err() {
                        return finish(&state, conn);
                    }
                }
            },
        }
    }
    if let Flow::Close(code, reason) = flow {
        for text in session.out.drain(..) {
            let _ = sink.send(WsMessage::Text(text)).await;
        }
        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        let _ = sink.send(WsMessage::Close(Some(frame))).await;
    }
    finish(&state, conn);
}

/// Closes a connection past `max_connections` at once with 1013 (try again later), so
/// the client backs off instead of piling on.
pub async fn refuse_busy(mut socket: WebSocket) {
    let reason = Utf8Bytes::from_static("too many connections");
    let frame = CloseFrame { code: wsocket::close::TRY_AGAIN_LATER, reason };
    let _ = socket.send(WsMessage::Close(Some(frame))).await;
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

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn finish(state: &AppState, conn: u64) {
    state.conns.remove(conn);
    state.hub.leave_all(conn);
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

impl Session {
    fn reply(&mut self, message: &Message) {
        self.out.push(Utf8Bytes::from(encode(message)));
    }

    fn error(&mut self, id: Option<String>, code: ErrorCode, text: impl Into<String>) {
        self.reply(&Message {
            kind: types::ERROR.to_owned(),
            id,
            error: Some(ErrorBody { code, message: text.into(), details: None }),
            ..Message::default()
        });
    }

    fn authenticate_query(&mut self, token: Option<&str>) -> Flow {
        let Some(token) = token else { return Flow::Continue };
        if !auth::accepts(&self.state.config, token) {
            self.error(None, ErrorCode::Unauthorized, "invalid token");
            return Flow::Close(wsocket::close::UNAUTHORIZED, "unauthorized");
        }
        self.authed = true;
        Flow::Continue
    }

    /// Whether a message with side effects is new; a repeat (a reliable send sent again
    /// after a reconnect) only gets its acknowledgement again.
    fn first_time(&self, id: Option<&str>) -> bool {
        id.is_none_or(|id| self.state.processed.first_time(id, self.cid.as_deref()))
    }

    fn rate_limited(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window_start) >= Duration::from_secs(1) {
            self.window_start = now;
            self.window_count = 0;
        }
        self.window_count += 1;
        self.window_count > self.state.config.rate_limit_per_sec
    }

    fn on_text(&mut self, text: &str) -> Flow {
        if text.len() > self.state.config.max_frame_bytes {
            let limit = self.state.config.max_frame_bytes;
            self.error(
                None,
                ErrorCode::TooLarge,
                format!("frame of {} bytes; the limit is {limit}", text.len()),
            );
            return Flow::Close(wsocket::close::TOO_BIG, "too large");
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.error(None, ErrorCode::BadRequest, format!("not JSON: {e}"));
                return Flow::Continue;
            }
        };
        let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
        if self.rate_limited() {
            let limit = self.state.config.rate_limit_per_sec;
            self.error(
                id,
                ErrorCode::RateLimited,
                format!("more than {limit} messages per second"),
            );
            return Flow::Continue;
        }
        let message: Message = match serde_json::from_value(value) {
            Ok(m) => m,
            Err(e) => {
                self.error(id, ErrorCode::BadRequest, format!("not a protocol message: {e}"));
                return Flow::Continue;
            }
        };
        self.on_message(message)
    }

    fn on_message(&mut self, m: Message) -> Flow {
        let needs_auth = auth::required(&self.state.config) && !self.authed;
        if needs_auth && m.kind != types::AUTH && m.kind != types::PING {
            self.error(m.id, ErrorCode::Unauthorized, "authenticate first");
            return Flow::Close(wsocket::close::UNAUTHORIZED, "unauthorized");
        }
        match m.kind.as_str() {
            types::PING => self.reply(&Message {
                kind: types::PONG.to_owned(),
                id: m.id,
                timestamp: m.timestamp.or(Some(now_ms())),
                ..Message::default()
            }),
            types::AUTH => return self.on_auth(m),
            types::SUBSCRIBE => self.on_subscribe(m),
            types::UNSUBSCRIBE => match data::<TopicsData>(&m) {
                Ok(d) => {
                    for topic in &d.topics {
                        self.state.hub.unsubscribe(self.conn, topic);
                    }
                    self.reply(&Message {
                        kind: types::UNSUBSCRIBED.to_owned(),
                        id: m.id,
                        data: Some(json!({ "topics": d.topics })),
                        ..Message::default()
                    });
                }
                Err(e) => self.error(m.id, ErrorCode::BadRequest, e),
            },
            types::PUBLISH => self.on_publish(m),
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
                self.first_time(m.id.as_deref());
                if m.id.is_some() {
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
        if !auth::accepts(&self.state.config, &token) {
            self.error(m.id, ErrorCode::Unauthorized, "invalid token");
            return Flow::Close(wsocket::close::UNAUTHORIZED, "unauthorized");
        }
        self.authed = true;
        self.reply(&Message { kind: types::AUTH_OK.to_owned(), id: m.id, ..Message::default() });
        Flow::Continue
    }

    fn on_subscribe(&mut self, m: Message) {
        let d = match data::<SubscribeData>(&m) {
            Ok(d) => d,
            Err(e) => return self.error(m.id, ErrorCode::BadRequest, e),
        };
        if let Some(topic) = d.topics.iter().find(|t| is_private(t) && !self.authed) {
            let text = format!("topic `{topic}` needs authentication");
            return self.error(m.id, ErrorCode::Forbidden, text);
        }
        let since = d.since.unwrap_or_default();
        let mut recovered = BTreeMap::new();
        let mut positions = BTreeMap::new();
        let mut replay = Vec::new();
        for topic in &d.topics {
            let tx = self.push_tx.clone();
            let joined = self.state.hub.subscribe(self.conn, topic, tx, since.get(topic));
            recovered.insert(topic.clone(), joined.recovered);
            positions.insert(topic.clone(), joined.position);
            replay.extend(joined.replay);
        }
        let answer = SubscribedData { topics: d.topics, recovered, positions };
        self.reply(&Message {
            kind: types::SUBSCRIBED.to_owned(),
            id: m.id,
            data: serde_json::to_value(answer).ok(),
            ..Message::default()
        });
        self.out.extend(replay);
    }

    fn on_publish(&mut self, m: Message) {
        let Some(topic) = m.topic.filter(|t| !t.is_empty()) else {
            return self.error(m.id, ErrorCode::BadRequest, "publish needs a `topic`");
        };
        if is_private(&topic) && !self.authed {
            let text = format!("topic `{topic}` needs authentication");
            return self.error(m.id, ErrorCode::Forbidden, text);
        }
        let event = m.event.as_deref().unwrap_or(types::MESSAGE);
        if self.first_time(m.id.as_deref()) {
            self.state.hub.publish(&topic, event, m.data.unwrap_or(Value::Null));
        }
        if m.id.is_some() {
            self.reply(&Message { kind: types::ACK.to_owned(), id: m.id, ..Message::default() });
        }
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
