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

use std::net::SocketAddr;
use std::sync::Arc;

use axum::response::IntoResponse;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, Extension, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;

use crate::AppState;

/// The gateway's namespace.
pub const NAMESPACE: &str = "/events";
/// A second namespace, named outside ASCII, open to all.
pub const INTERNATIONAL: &str = "/événements";
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

fn query_token(s: &SocketRef) -> Option<String> {
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

/// Starts the gateway on an internal loopback port; returns its address, the secret the
/// relay must present (`RELAY_HEADER`) and its handle. The gateway answers nothing else:
/// a request without the secret (a stranger on the machine, a page's long-polling that
/// would bypass the Origin check and limits of `/socket.io/`) gets 403, and it speaks
/// the WebSocket transport only.
pub async fn start(state: Arc<AppState>) -> std::io::Result<(SocketAddr, String, SocketIo)> {
    let (layer, io) = SocketIo::builder()
        .ping_interval(std::time::Duration::from_millis(state.config.sio_ping_interval_ms))
        .ping_timeout(std::time::Duration::from_millis(state.config.sio_ping_timeout_ms))
        .max_payload(state.config.max_frame_bytes as u64)
        .max_buffer_size(state.config.outbound_queue)
        .transports([socketioxide::TransportType::Websocket])
        .build_layer();
    let st = state.clone();
    io.ns(
        NAMESPACE,
        on_connect.with(move |s: SocketRef, auth: TryData<Auth>| authenticate(s, auth, st.clone())),
    );
    // A namespace outside ASCII (the client's header offsets must be the string's): an
    // `echo` is answered with a `bienvenue` event, then echoed in its ack.
    io.ns(INTERNATIONAL, |s: SocketRef| async move {
        s.on("echo", |s: SocketRef, ack: AckSender, Data(body): Data<Value>| async move {
            let _ = s.emit("bienvenue", &json!({ "nsp": INTERNATIONAL }));
            let _ = ack.send(&body);
        });
    });
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
    Ok((addr, key, io))
}

async fn authenticate(
    s: SocketRef,
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

async fn on_connect(s: SocketRef) {
    s.on("message", on_message);
    s.on("join", on_join);
    s.on("leave", on_leave);
    s.on("file", on_file);
    s.on("file:ask-me", on_file_ask_me);
}

fn refuse(ack: AckSender, message: &str) {
    let _ = ack.send(&json!({ "success": false, "message": message }));
}

async fn on_message(
    s: SocketRef,
    Data(m): Data<MessageIn>,
    Extension(User(user)): Extension<User>,
    ack: AckSender,
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

async fn on_file(s: SocketRef, Data(f): Data<File>, ack: AckSender) {
    let size = f.bytes.len() + f.parts.iter().map(Bytes::len).sum::<usize>();
    let _ = s.emit("file:echo", &f);
    let _ = ack.send(&FileAck { success: true, name: &f.name, size, bytes: &f.bytes });
}

async fn on_file_ask_me(s: SocketRef) {
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

async fn on_join(
    s: SocketRef,
    Data(r): Data<RoomIn>,
    Extension(User(user)): Extension<User>,
    ack: AckSender,
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

async fn on_leave(
    s: SocketRef,
    Data(r): Data<RoomIn>,
    Extension(User(user)): Extension<User>,
    ack: AckSender,
) {
    let Some(room) = r.room.filter(|r| !r.is_empty()) else {
        return refuse(ack, "room is required");
    };
    s.leave(room.clone());
    announce(&s, "user:left", &user, &room, ack).await;
}

/// Tells the room's other members (`user:joined` / `user:left`) and acks `{success, room}`.
async fn announce(s: &SocketRef, event: &str, user: &str, room: &str, ack: AckSender) {
    let _ = s.to(room.to_owned()).emit(event, &json!({ "userId": user, "room": room })).await;
    let _ = ack.send(&json!({ "success": true, "room": room }));
}

/// A server-initiated push to the namespace (or one room of it).
pub async fn broadcast(io: &SocketIo, event: &str, data: &Value, room: Option<String>) -> bool {
    let Some(ns) = io.of(NAMESPACE) else { return false };
    match room {
        Some(room) => ns.to(room).emit(event, data).await.is_ok(),
        None => ns.emit(event, data).await.is_ok(),
    }
}
