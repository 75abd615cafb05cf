//! The Socket.IO gateway (socketioxide): namespace `/events`, behaving like a NestJS
//! `EventsGateway`. It listens on an internal loopback port; browsers reach it through
//! the `/socket.io/` relay (`relay.rs`), which is where the test-control API acts.
//!
//! - connect: a token in `auth: {token}` or `?token=` is checked like `/ws` tokens (the
//!   fixed `--token` or a JWT with `--jwt-secret`; its `sub` is the user id). Refused:
//!   `connect_error` with `{message}`. Without `--token`/`--jwt-secret` anyone may connect.
//! - `message` `{content, room?}`: to the room, or to everyone but the sender, as
//!   `{senderId, content, timestamp}`; ack `{success: true}`, or `{success: false,
//!   message}` for content over 1,000 characters.
//! - `join` / `leave` `{room}`: `user:joined` / `user:left` `{userId, room}` to the room;
//!   ack `{success, room}`. Rooms `private:<user>` are for that user only.
//! - `file` `{name, bytes, parts?}` (binary attachments, as a NestJS gateway takes a
//!   `Buffer`): `file:echo` with the same to the sender; ack `{success, name, size,
//!   bytes}`. `file:ask-me`: the gateway emits `file:ask` with an ack and sends the
//!   client's answer (`{name, bytes}`) back as `file:answered`.
//! - `POST /socketio/broadcast` `{event, data, room?}` (lib.rs): a server-initiated push.
//!
//! With `--redis`, rooms and broadcasts span every node: socketioxide's Redis adapter
//! (`socketioxide-redis`), over a driver of ours (`Managed`) whose connection comes back
//! after Redis does, and subscribes again.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::response::IntoResponse;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use socketioxide::adapter::{Adapter, Emitter};
use socketioxide::extract::{AckSender, Data, Extension, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterCtr};

use crate::AppState;

/// The gateway's namespace.
pub const NAMESPACE: &str = "/events";
/// A second namespace, named outside ASCII, open to all.
pub const INTERNATIONAL: &str = "/événements";
/// How long a node with `--redis` waits for Redis when it starts.
const REDIS_AT_START: std::time::Duration = std::time::Duration::from_secs(30);
/// The longest `content` a `message` may have.
pub const MAX_CONTENT: usize = 1_000;

/// Who a socket is, set on connect.
#[derive(Debug, Clone)]
struct User(String);

#[derive(Debug, Deserialize)]
struct Auth {
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MessageIn {
    content: Option<String>,
    room: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RoomIn {
    room: Option<String>,
}

/// A file as binary attachments: `bytes`, and any number of further `parts`.
#[derive(Debug, Deserialize, Serialize)]
struct File {
    name: String,
    bytes: Bytes,
    #[serde(default)]
    parts: Vec<Bytes>,
}

#[derive(Debug, Serialize)]
struct FileAck<'a> {
    success: bool,
    name: &'a str,
    size: usize,
    bytes: &'a Bytes,
}

fn query_token<A: Adapter>(s: &SocketRef<A>) -> Option<String> {
    let query = s.req_parts().uri.query()?;
    query.split('&').find_map(|pair| pair.strip_prefix("token=").map(str::to_owned))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The header the `/socket.io/` relay presents to the internal gateway.
pub const RELAY_HEADER: &str = "x-wsocket-relay";

/// 128 random bits as hex, from the standard library's per-process random hash keys.
fn secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("{:016x}{:016x}", word(), word())
}

/// The gateway's handle: on one node, or on every node through Redis.
#[derive(Debug, Clone)]
pub enum Gateway {
    /// This node alone.
    Local(SocketIo),
    /// Rooms and broadcasts across the nodes.
    Redis(SocketIo<CustomRedisAdapter<Emitter, Managed>>),
}

impl Gateway {
    /// A server-initiated push to the namespace (or one room of it), on every node.
    pub async fn broadcast(&self, event: &str, data: &Value, room: Option<String>) -> bool {
        match self {
            Gateway::Local(io) => broadcast(io, event, data, room).await,
            Gateway::Redis(io) => broadcast(io, event, data, room).await,
        }
    }
}

/// Starts the gateway on an internal loopback port; returns its address, the secret the
/// relay must present (`RELAY_HEADER`) and its handle. The gateway answers nothing else:
/// a request without the secret (a stranger on the machine, a page's long-polling that
/// would bypass the Origin check and limits of `/socket.io/`) gets 403, and it speaks
/// the WebSocket transport only.
pub async fn start(state: Arc<AppState>) -> std::io::Result<(SocketAddr, String, Gateway)> {
    let builder = SocketIo::builder()
        .ping_interval(std::time::Duration::from_millis(state.config.sio_ping_interval_ms))
        .ping_timeout(std::time::Duration::from_millis(state.config.sio_ping_timeout_ms))
        .max_payload(state.config.max_frame_bytes as u64)
        .max_buffer_size(state.config.outbound_queue)
        .transports([socketioxide::TransportType::Websocket]);
    match &state.config.redis {
        None => {
            let (layer, io) = builder.build_layer();
            io.ns(NAMESPACE, events(state.clone()));
            io.ns(INTERNATIONAL, international);
            let (addr, key) = listen(layer).await?;
            Ok((addr, key, Gateway::Local(io)))
        }
        Some(url) => {
            let driver = Managed::new(url).map_err(std::io::Error::other)?;
            let adapter = RedisAdapterCtr::new_with_driver(driver, Default::default());
            let (layer, io) =
                builder.with_adapter::<CustomRedisAdapter<_, _>>(adapter).build_layer();
            // The adapter subscribes to its channels as each namespace starts: a node
            // waits for Redis (started alongside it) up to `REDIS_AT_START`, then gives up
            // with the reason.
            let started = std::time::Instant::now();
            loop {
                let up = async {
                    io.ns(NAMESPACE, events(state.clone())).await?;
                    io.ns(INTERNATIONAL, international).await
                };
                match up.await {
                    Ok(()) => break,
                    Err(e) if started.elapsed() < REDIS_AT_START => {
                        tracing::warn!(error = %e, "Socket.IO gateway: waiting for Redis");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                    Err(e) => return Err(std::io::Error::other(format!("Redis: {e}"))),
                }
            }
            let (addr, key) = listen(layer).await?;
            Ok((addr, key, Gateway::Redis(io)))
        }
    }
}

/// Serves `layer` on an internal loopback port, to the relay only (`RELAY_HEADER`).
async fn listen<A: Adapter>(
    layer: socketioxide::layer::SocketIoLayer<A>,
) -> std::io::Result<(SocketAddr, String)> {
    let key = secret();
    let expected = key.clone();
    let app = axum::Router::new().layer(layer).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let ok = request
                .headers()
                .get(RELAY_HEADER)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| crate::auth::same(v, &expected));
            async move {
                if ok {
                    next.run(request).await
                } else {
                    axum::http::StatusCode::FORBIDDEN.into_response()
                }
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, key))
}

/// The `/events` namespace's connect handler: authenticate, then the gateway's events.
fn events<A: Adapter>(state: Arc<AppState>) -> impl ConnectHandler<A, (SocketRef<A>,)> {
    on_connect
        .with(move |s: SocketRef<A>, auth: TryData<Auth>| authenticate(s, auth, state.clone()))
}

/// A namespace outside ASCII (the client's header offsets must be the string's): an
/// `echo` is answered with a `bienvenue` event, then echoed in its ack.
async fn international<A: Adapter>(s: SocketRef<A>) {
    s.on("echo", |s: SocketRef<A>, ack: AckSender<A>, Data(body): Data<Value>| async move {
        let _ = s.emit("bienvenue", &json!({ "nsp": INTERNATIONAL }));
        let _ = ack.send(&body);
    });
}

async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    TryData(auth): TryData<Auth>,
    state: Arc<AppState>,
) -> Result<(), String> {
    let token = auth.ok().and_then(|a| a.token).or_else(|| query_token(&s));
    let config = &state.config;
    let user = if !crate::auth::required(config) {
        s.id.to_string()
    } else {
        let token = token.ok_or("unauthorized: no token")?;
        match crate::auth::check(config, &token) {
            Ok(credential) => credential.user.unwrap_or_else(|| s.id.to_string()),
            Err(why) => {
                state.metrics.auth_failures.inc();
                return Err(format!("unauthorized: {why}"));
            }
        }
    };
    s.extensions.insert(User(user));
    Ok(())
}

async fn on_connect<A: Adapter>(s: SocketRef<A>) {
    s.on("message", on_message);
    s.on("join", on_join);
    s.on("leave", on_leave);
    s.on("file", on_file);
    s.on("file:ask-me", on_file_ask_me);
}

fn refuse<A: Adapter>(ack: AckSender<A>, message: &str) {
    let _ = ack.send(&json!({ "success": false, "message": message }));
}

async fn on_message<A: Adapter>(
    s: SocketRef<A>,
    Data(m): Data<MessageIn>,
    Extension(User(user)): Extension<User>,
    ack: AckSender<A>,
) {
    let content = m.content.unwrap_or_default();
    if content.chars().count() > MAX_CONTENT {
        return refuse(ack, "content must be at most 1000 characters");
    }
    if m.room.as_deref().is_some_and(|room| !may_enter(&user, room)) {
        return refuse(ack, "forbidden: you may not send to this room");
    }
    let payload = json!({ "senderId": user, "content": content, "timestamp": now_ms() });
    let sent = match &m.room {
        Some(room) => s.to(room.clone()).emit("message", &payload).await,
        None => s.broadcast().emit("message", &payload).await,
    };
    let _ = ack.send(&json!({ "success": sent.is_ok() }));
}

async fn on_file<A: Adapter>(s: SocketRef<A>, Data(f): Data<File>, ack: AckSender<A>) {
    let size = f.bytes.len() + f.parts.iter().map(Bytes::len).sum::<usize>();
    let _ = s.emit("file:echo", &f);
    let _ = ack.send(&FileAck { success: true, name: &f.name, size, bytes: &f.bytes });
}

async fn on_file_ask_me<A: Adapter>(s: SocketRef<A>) {
    let Ok(answer) = s.emit_with_ack::<_, File>("file:ask", &json!({ "want": "bytes" })) else {
        return;
    };
    if let Ok(answer) = answer.await {
        let _ = s.emit("file:answered", &answer);
    }
}

fn may_enter(user: &str, room: &str) -> bool {
    room.strip_prefix("private:").is_none_or(|owner| owner == user)
}

async fn on_join<A: Adapter>(
    s: SocketRef<A>,
    Data(r): Data<RoomIn>,
    Extension(User(user)): Extension<User>,
    ack: AckSender<A>,
) {
    let Some(room) = r.room.filter(|r| !r.is_empty()) else {
        return refuse(ack, "room is required");
    };
    if !may_enter(&user, &room) {
        return refuse(ack, "forbidden: you may not join this room");
    }
    s.join(room.clone());
    announce(&s, "user:joined", &user, &room, ack).await;
}

async fn on_leave<A: Adapter>(
    s: SocketRef<A>,
    Data(r): Data<RoomIn>,
    Extension(User(user)): Extension<User>,
    ack: AckSender<A>,
) {
    let Some(room) = r.room.filter(|r| !r.is_empty()) else {
        return refuse(ack, "room is required");
    };
    s.leave(room.clone());
    announce(&s, "user:left", &user, &room, ack).await;
}

/// Tells the room's other members (`user:joined` / `user:left`) and acks `{success, room}`.
async fn announce<A: Adapter>(
    s: &SocketRef<A>,
    event: &str,
    user: &str,
    room: &str,
    ack: AckSender<A>,
) {
    let _ = s.to(room.to_owned()).emit(event, &json!({ "userId": user, "room": room })).await;
    let _ = ack.send(&json!({ "success": true, "room": room }));
}

/// A server-initiated push to the namespace (or one room of it).
async fn broadcast<A: Adapter>(
    io: &SocketIo<A>,
    event: &str,
    data: &Value,
    room: Option<String>,
) -> bool {
    let Some(ns) = io.of(NAMESPACE) else { return false };
    match room {
        Some(room) => ns.to(room).emit(event, data).await.is_ok(),
        None => ns.emit(event, data).await.is_ok(),
    }
}

/// socketioxide-redis's driver on a connection that comes back: a `ConnectionManager`
/// (RESP3, the pushes of its subscriptions sent to the adapter's handlers) reconnects
/// with backoff after Redis goes, and subscribes to every channel again. The driver the
/// crate ships holds one connection for the life of the process.
#[derive(Clone)]
pub struct Managed {
    conn: redis::aio::ConnectionManager,
    handlers: Arc<std::sync::RwLock<HashMap<String, tokio::sync::mpsc::Sender<ChanItem>>>>,
}

type ChanItem = socketioxide_redis::drivers::ChanItem;

impl Managed {
    fn new(url: &str) -> Result<Managed, String> {
        use redis::IntoConnectionInfo;
        let info = url.into_connection_info().map_err(|e| format!("--redis {url}: {e}"))?;
        let resp3 = info.redis_settings().clone().set_protocol(redis::ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(resp3))
            .map_err(|e| format!("--redis {url}: {e}"))?;
        let handlers: Arc<std::sync::RwLock<HashMap<String, _>>> = Arc::default();
        let to = handlers.clone();
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
            .set_response_timeout(Some(std::time::Duration::from_secs(2)))
            .set_max_delay(std::time::Duration::from_secs(2))
            .set_push_sender(move |push: redis::PushInfo| {
                deliver(push, &to);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription();
        let conn = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("--redis {url}: {e}"))?;
        Ok(Managed { conn, handlers })
    }
}

fn deliver(
    push: redis::PushInfo,
    handlers: &std::sync::RwLock<HashMap<String, tokio::sync::mpsc::Sender<ChanItem>>>,
) {
    if !matches!(push.kind, redis::PushKind::Message | redis::PushKind::SMessage) {
        return;
    }
    let mut data = push.data.into_iter();
    let (Some(chan), Some(message)) = (data.next(), data.next()) else { return };
    let (Ok(chan), Ok(message)) =
        (redis::from_redis_value::<String>(chan), redis::from_redis_value::<Vec<u8>>(message))
    else {
        return;
    };
    let handlers = handlers.read().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = handlers.get(&chan) {
        if tx.try_send((chan, message)).is_err() {
            tracing::warn!("Socket.IO adapter: a Redis message dropped (its queue is full)");
        }
    }
}

impl socketioxide_redis::drivers::Driver for Managed {
    type Error = redis::RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        redis::cmd("PUBLISH").arg(chan).arg(val).exec_async(&mut self.conn.clone()).await
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<socketioxide_redis::drivers::MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = tokio::sync::mpsc::channel(size);
        self.handlers.write().unwrap_or_else(|e| e.into_inner()).insert(chan.clone(), tx);
        self.conn.clone().subscribe(chan).await?;
        Ok(socketioxide_redis::drivers::MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers.write().unwrap_or_else(|e| e.into_inner()).remove(&chan);
        self.conn.clone().unsubscribe(chan).await
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(count)
    }
}
