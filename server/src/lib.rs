//! The companion server of wsocket: `/ws` (reference protocol), `/legacy` (event JSON),
//! demo feeds, a publish endpoint and a test-control API, and the demo page from `www/`
//! and `pkg/`. `app` builds the router; `main` only binds and serves.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Query, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

pub mod auth;
pub mod conns;
pub mod dedupe;
pub mod feeds;
pub mod hub;
pub mod legacy;
pub mod relay;
pub mod sio;
pub mod ws;

use conns::{Conns, Control};
use hub::Hub;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The repository root: `www/` and `pkg/` are served from under it.
    pub root: PathBuf,
    /// When set, `/ws` requires this token (`?token=` or an `auth` message).
    pub auth_token: Option<String>,
    /// When set, `/ws` requires a JWT signed with this HS256 secret (`exp` checked).
    pub jwt_secret: Option<String>,
    /// When not empty, upgrades from any other `Origin` are refused with 403
    /// (cross-site WebSocket hijacking).
    pub allowed_origins: Vec<String>,
    /// Connections past this are closed at once with 1013 (try again later).
    pub max_connections: usize,
    /// Messages per second per connection before `RATE_LIMITED`.
    pub rate_limit_per_sec: u32,
    /// The largest text frame accepted before `TOO_LARGE` and close 1009.
    pub max_frame_bytes: usize,
    /// Messages kept per topic for recovery.
    pub history: usize,
    /// Where `/socket.io/` relays to (`host:port` of a Socket.IO server); `None`: the
    /// internal socketioxide gateway, once `sio::start` has run.
    pub socketio_upstream: Option<String>,
    /// Engine.IO ping interval of the internal gateway, ms.
    pub sio_ping_interval_ms: u64,
    /// Engine.IO ping timeout of the internal gateway, ms.
    pub sio_ping_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            root: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")),
            auth_token: None,
            jwt_secret: None,
            allowed_origins: Vec::new(),
            max_connections: 20_000,
            rate_limit_per_sec: 100,
            max_frame_bytes: 64 * 1024,
            history: 1_000,
            socketio_upstream: None,
            sio_ping_interval_ms: 25_000,
            sio_ping_timeout_ms: 20_000,
        }
    }
}

/// Shared state of every handler.
pub struct AppState {
    /// The settings.
    pub config: Config,
    /// Topics and their subscribers.
    pub hub: Hub,
    /// Live connections, for the control API.
    pub conns: Conns,
    /// Message ids already processed, so a resent message takes effect once.
    pub processed: dedupe::Processed,
    /// The internal Socket.IO gateway: its address and handle (set by `start_socketio`).
    pub sio: std::sync::OnceLock<(String, socketioxide::SocketIo)>,
}

impl AppState {
    /// State for `config`.
    pub fn new(config: Config) -> Arc<AppState> {
        Arc::new(AppState {
            hub: Hub::new(config.history),
            conns: Conns::default(),
            processed: dedupe::Processed::new(100_000),
            sio: std::sync::OnceLock::new(),
            config,
        })
    }
}

/// Starts the internal Socket.IO gateway that `/socket.io/` relays to (unless the
/// config names another upstream).
pub async fn start_socketio(state: &Arc<AppState>) -> std::io::Result<()> {
    if state.config.socketio_upstream.is_none() && state.sio.get().is_none() {
        let (addr, io) = sio::start(state.clone()).await?;
        let _ = state.sio.set((addr.to_string(), io));
    }
    Ok(())
}

/// Encodes a protocol message; the types cannot fail to serialize.
pub fn encode(message: &wsocket::protocol::Message) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

/// The whole server as a router.
pub fn app(state: Arc<AppState>) -> Router {
    let root = state.config.root.clone();
    let control = Router::new()
        .route("/control/drop", post(drop_conns))
        .route("/control/close", post(close_conns))
        .route("/control/stall", post(stall_conns))
        .route("/control/malformed", post(malformed))
        .route("/control/send", post(send_raw))
        .route("/control/epoch", post(restart_epoch))
        .route("/control/connections", get(connections))
        .route("/control/burst", post(burst))
        .route("/control/flood", post(flood))
        .route("/publish", post(publish))
        .route("/socketio/broadcast", post(sio_broadcast))
        // Bad-input tests send 16 MiB frames through `/control/send`.
        .layer(DefaultBodyLimit::max(32 << 20))
        .layer(CorsLayer::permissive());
    Router::new()
        .route("/ws", any(ws_upgrade))
        .route("/legacy", any(legacy_upgrade))
        .route("/socket.io/", any(socketio_upgrade))
        .merge(control)
        // CORS, so test pages on another origin can import the built package.
        .nest_service(
            "/pkg",
            tower::Layer::layer(&CorsLayer::permissive(), ServeDir::new(root.join("pkg"))),
        )
        .nest_service("/bench", ServeDir::new(root.join("bench")))
        .fallback_service(ServeDir::new(root.join("www")).append_index_html_on_directories(true))
        .with_state(state)
}

/// The admission checks every WebSocket endpoint shares: an Origin on the allow-list
/// (else 403), and room under `max_connections` (else the socket is closed with 1013).
/// `accept` upgrades an admitted request.
fn admit(
    state: &AppState,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
    accept: impl FnOnce(WebSocketUpgrade) -> Response,
) -> Response {
    let allowed = &state.config.allowed_origins;
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if !allowed.is_empty() && !origin.is_some_and(|o| allowed.iter().any(|a| a == o)) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let upgrade = upgrade.max_message_size(state.config.max_frame_bytes.max(1 << 20) * 2);
    if state.conns.count(None) >= state.config.max_connections {
        return upgrade.on_upgrade(ws::refuse_busy);
    }
    accept(upgrade)
}

async fn ws_upgrade(
    upgrade: WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let params = ws::Params::from_query(&q);
    admit(&state.clone(), &headers, upgrade, |u| {
        u.protocols([ws::SUBPROTOCOL]).on_upgrade(move |socket| ws::serve(socket, state, params))
    })
}

async fn legacy_upgrade(
    upgrade: WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let cid = q.get("cid").cloned();
    admit(&state.clone(), &headers, upgrade, |u| {
        u.on_upgrade(move |socket| legacy::serve(socket, state, cid))
    })
}

async fn socketio_upgrade(
    upgrade: WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let upstream = match (&state.config.socketio_upstream, state.sio.get()) {
        (Some(up), _) => up.clone(),
        (None, Some((addr, _))) => addr.clone(),
        (None, None) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "no Socket.IO gateway").into_response()
        }
    };
    let url = format!("ws://{upstream}/socket.io/?{}", uri.query().unwrap_or(""));
    let cid = q.get("cid").cloned();
    admit(&state.clone(), &headers, upgrade, |u| {
        u.on_upgrade(move |socket| relay::serve(socket, state, url, cid))
    })
}

/// Body of `POST /socketio/broadcast`.
#[derive(Debug, Deserialize)]
struct SioBroadcast {
    event: String,
    #[serde(default)]
    data: Value,
    room: Option<String>,
}

async fn sio_broadcast(State(s): State<Arc<AppState>>, Json(b): Json<SioBroadcast>) -> Response {
    let Some((_, io)) = s.sio.get() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no internal Socket.IO gateway").into_response();
    };
    let sent = sio::broadcast(io, &b.event, &b.data, b.room).await;
    Json(json!({ "sent": sent })).into_response()
}

/// Query of the control endpoints: which connections (`cid`), and command arguments.
#[derive(Debug, Deserialize)]
struct Target {
    cid: Option<String>,
    code: Option<u16>,
    reason: Option<String>,
    on: Option<String>,
    binary: Option<String>,
}

fn applied(n: usize) -> Json<Value> {
    Json(json!({ "connections": n }))
}

async fn drop_conns(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Json<Value> {
    applied(s.conns.command(t.cid.as_deref(), &Control::Drop))
}

async fn close_conns(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Json<Value> {
    let control = Control::Close(t.code.unwrap_or(1000), t.reason.unwrap_or_default());
    applied(s.conns.command(t.cid.as_deref(), &control))
}

async fn stall_conns(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Json<Value> {
    let on = t.on.as_deref() != Some("0");
    applied(s.conns.command(t.cid.as_deref(), &Control::Stall(on)))
}

async fn malformed(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Json<Value> {
    let control = Control::Raw(r#"{"type": "task_progress", "data": "#.to_owned());
    applied(s.conns.command(t.cid.as_deref(), &control))
}

async fn send_raw(
    State(s): State<Arc<AppState>>,
    Query(t): Query<Target>,
    body: String,
) -> Json<Value> {
    let control = match t.binary.as_deref() {
        Some("1") => Control::Binary(body.into_bytes()),
        _ => Control::Raw(body),
    };
    applied(s.conns.command(t.cid.as_deref(), &control))
}

async fn restart_epoch(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({ "epoch": s.hub.restart_epoch() }))
}

async fn connections(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Json<Value> {
    let (processed, repeated) = t.cid.as_deref().map_or((0, 0), |cid| s.processed.counts(cid));
    Json(json!({
        "connections": s.conns.count(t.cid.as_deref()),
        "topics": s.hub.positions(),
        "processed": processed,
        "repeated": repeated,
    }))
}

/// Query of `POST /control/flood`: `count` pre-encoded frames to the connection `cid`.
#[derive(Debug, Deserialize)]
struct Flood {
    cid: String,
    count: u32,
}

async fn flood(State(s): State<Arc<AppState>>, Query(f): Query<Flood>) -> Json<Value> {
    applied(s.conns.command(Some(&f.cid), &Control::Flood(f.count.min(10_000_000))))
}

/// Query of `POST /control/burst`: publish `count` messages on `topic`, `per_ms` each
/// millisecond, from a background task. Bounded: at most 1,000,000 messages.
#[derive(Debug, Deserialize)]
struct Burst {
    topic: String,
    count: u64,
    per_ms: Option<u64>,
    event: Option<String>,
}

async fn burst(State(s): State<Arc<AppState>>, Query(b): Query<Burst>) -> Json<Value> {
    let count = b.count.min(1_000_000);
    let per_ms = b.per_ms.unwrap_or(10).max(1);
    let event = b.event.unwrap_or_else(|| "burst".to_owned());
    let state = s.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(1));
        let mut n = 0;
        while n < count {
            tick.tick().await;
            for _ in 0..per_ms.min(count - n) {
                n += 1;
                state.hub.publish(&b.topic, &event, json!({ "n": n }));
            }
        }
    });
    Json(json!({ "count": count, "epoch": s.hub.epoch() }))
}

/// Body of `POST /publish`.
#[derive(Debug, Deserialize)]
struct PublishBody {
    topic: String,
    event: Option<String>,
    #[serde(default)]
    data: Value,
}

async fn publish(
    State(s): State<Arc<AppState>>,
    body: Result<Json<PublishBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": e.body_text() })))
                .into_response()
        }
    };
    let event = body.event.as_deref().unwrap_or(wsocket::protocol::types::MESSAGE);
    let (seq, delivered) = s.hub.publish(&body.topic, event, body.data);
    Json(json!({ "seq": seq, "epoch": s.hub.epoch(), "delivered": delivered })).into_response()
}
