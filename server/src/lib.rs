//! The companion server of wsocket: `/ws` (reference protocol), `/legacy` (event JSON),
//! `/socket.io/` (a relay to the Socket.IO gateway), demo feeds, a publish endpoint, the
//! demo page from `www/` and `pkg/`, `/healthz` and `/metrics`, and, only when asked for
//! and only on loopback, a test-control API. `app` builds the router, `serve` runs it with
//! the connection limits and timeouts; `main` only reads the flags.
//!
//! Closed by default: the test-control API exists only with `Config::test_control` and
//! answers loopback peers only; `POST /publish` and `POST /socketio/broadcast` exist only
//! with `Config::publish_token` and need it as a bearer token; CORS allows only the
//! configured origins. Every resource a client can make the server spend is bounded by a
//! `Config` field (see `Limits` in the README).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

pub mod auth;
pub mod cluster;
pub mod conns;
pub mod dedupe;
pub mod feeds;
pub mod hub;
pub mod legacy;
pub mod metrics;
pub mod relay;
pub mod serve;
pub mod sio;
pub mod ws;

use conns::{Conns, Control};
use hub::{Hub, Joined, Published};
pub use serve::serve;
use wsocket::protocol::Position;

/// Server settings. Every bound on what a client can make the server spend is here.
#[derive(Debug, Clone)]
pub struct Config {
    /// The repository root: `www/` and `pkg/` are served from under it.
    pub root: PathBuf,
    /// When set, `/ws`, `/legacy` and Socket.IO require this token (`?token=` or an
    /// `auth` message), compared in constant time.
    pub auth_token: Option<String>,
    /// When set, they require a JWT signed with this HS256 secret (`exp` required).
    pub jwt_secret: Option<String>,
    /// When not empty, upgrades from any other `Origin` are refused with 403
    /// (cross-site WebSocket hijacking), and CORS allows these origins only.
    pub allowed_origins: Vec<String>,
    /// The test-control API (`/control/*`): off unless set, and then for loopback peers
    /// only (CORS then also allows loopback origins, for test pages).
    pub test_control: bool,
    /// `POST /publish` and `POST /socketio/broadcast` need `Authorization: Bearer` this;
    /// without it they do not exist.
    pub publish_token: Option<String>,
    /// `/metrics` needs `Authorization: Bearer` this; without it, loopback peers only.
    pub metrics_token: Option<String>,
    /// Authenticated (or, with no auth configured, all) WebSocket connections past this
    /// are closed at once with 1013 (try again later).
    pub max_connections: usize,
    /// Connections that still have to authenticate, apart from `max_connections`, so
    /// that silent strangers cannot take the slots of users with a token.
    pub max_unauthenticated: usize,
    /// TCP connections still in their HTTP phase (before an upgrade); more are dropped.
    pub max_http_connections: usize,
    /// How long a client may take to send a request's headers (slowloris).
    pub header_read_timeout: Duration,
    /// How long a new WebSocket may stay silent before its first frame.
    pub first_frame_timeout: Duration,
    /// How long a connection may take to authenticate when a token is required.
    pub auth_timeout: Duration,
    /// How long a connection may stay silent (no frame, not even a ping) before it is
    /// closed with 1001.
    pub idle_timeout: Duration,
    /// How long one write may wait on a client that does not read (slow consumer).
    pub write_timeout: Duration,
    /// Pushes queued per connection before it is disconnected as a slow consumer.
    pub outbound_queue: usize,
    /// Messages per second per connection (a token bucket with this rate and burst);
    /// past it `RATE_LIMITED`, and after as many again close 4008.
    pub rate_limit_per_sec: u32,
    /// The largest frame (and message) accepted; the WebSocket layer refuses a larger
    /// one from its header, before buffering it, with close 1009.
    pub max_frame_bytes: usize,
    /// Messages kept per topic for recovery...
    pub history: usize,
    /// ...and at most this many bytes of them per topic.
    pub history_bytes: usize,
    /// Topics alive at once; a new topic past this is refused.
    pub max_topics: usize,
    /// A topic with no subscriber and no publish for this long is reclaimed (its
    /// history with it; a later one starts a new epoch).
    pub topic_idle: Duration,
    /// Topics one connection may hold.
    pub max_topics_per_connection: usize,
    /// The longest topic name, in bytes.
    pub max_topic_bytes: usize,
    /// The longest message `id`, in bytes.
    pub max_id_bytes: usize,
    /// Processed ids remembered per scope (user or client id)...
    pub processed_per_scope: usize,
    /// ...and in all, in bytes; the least recently used scope goes first.
    pub processed_bytes: usize,
    /// How long a processed id is remembered.
    pub processed_ttl: Duration,
    /// Where `/socket.io/` relays to (`host:port` of a Socket.IO server); `None`: the
    /// internal socketioxide gateway, once `start_socketio` has run.
    pub socketio_upstream: Option<String>,
    /// Engine.IO ping interval of the internal gateway, ms.
    pub sio_ping_interval_ms: u64,
    /// Engine.IO ping timeout of the internal gateway, ms.
    pub sio_ping_timeout_ms: u64,
    /// On shutdown, how long connections get to close before the process exits.
    pub drain_timeout: Duration,
    /// Many nodes: the Redis (`redis://host:port/db`) that holds the topics' numbering
    /// and history and the processed ids, shared by every node (see `cluster`). `None`:
    /// this node alone.
    pub redis: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            root: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")),
            auth_token: None,
            jwt_secret: None,
            allowed_origins: Vec::new(),
            test_control: false,
            publish_token: None,
            metrics_token: None,
            max_connections: 20_000,
            max_unauthenticated: 1_000,
            max_http_connections: 4_096,
            header_read_timeout: Duration::from_secs(10),
            first_frame_timeout: Duration::from_secs(30),
            auth_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            write_timeout: Duration::from_secs(10),
            outbound_queue: 1_024,
            rate_limit_per_sec: 100,
            max_frame_bytes: 64 * 1024,
            history: 1_000,
            history_bytes: 1 << 20,
            max_topics: 100_000,
            topic_idle: Duration::from_secs(300),
            max_topics_per_connection: 1_000,
            max_topic_bytes: 256,
            max_id_bytes: 128,
            processed_per_scope: 10_000,
            processed_bytes: 64 << 20,
            processed_ttl: Duration::from_secs(24 * 3600),
            socketio_upstream: None,
            sio_ping_interval_ms: 25_000,
            sio_ping_timeout_ms: 20_000,
            drain_timeout: Duration::from_secs(10),
            redis: None,
        }
    }
}

/// Shared state of every handler.
pub struct AppState {
    /// The settings.
    pub config: Config,
    /// Topics and their subscribers.
    pub hub: Hub,
    /// Live connections: slots, the shutdown signal, control commands.
    pub conns: Conns,
    /// Message ids already processed, so a resent message takes effect once.
    pub processed: dedupe::Processed,
    /// Counters and gauges for `/metrics`.
    pub metrics: metrics::Metrics,
    /// The internal Socket.IO gateway: its address, the secret the relay presents to it,
    /// and its handle (set by `start_socketio`).
    pub sio: std::sync::OnceLock<(String, String, sio::Gateway)>,
    /// With `Config::redis`: the link to the other nodes.
    pub cluster: Option<cluster::Cluster>,
}

/// Why a publish did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishError {
    /// The topic is refused (a bad name, one topic too many).
    Refused(String),
    /// Redis cannot be reached (many nodes): nothing was published.
    Unavailable(String),
}

impl AppState {
    /// State for `config`. Panics on a `redis` URL that cannot be read: `try_new` says why.
    pub fn new(config: Config) -> Arc<AppState> {
        AppState::try_new(config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// State for `config`, or why not (a `redis` URL that cannot be read).
    pub fn try_new(config: Config) -> Result<Arc<AppState>, String> {
        let cluster = match &config.redis {
            Some(url) => Some(cluster::Cluster::new(url, &config)?),
            None => None,
        };
        Ok(Arc::new(AppState {
            hub: Hub::new(&config),
            conns: Conns::default(),
            processed: dedupe::Processed::new(&config),
            metrics: metrics::Metrics::default(),
            sio: std::sync::OnceLock::new(),
            cluster,
            config,
        }))
    }

    /// Publishes `data` on `topic` as a push of type `event`: to this node's subscribers,
    /// or with many nodes, through Redis to every node's.
    pub async fn publish(
        &self,
        topic: &str,
        event: &str,
        data: Value,
    ) -> Result<Published, PublishError> {
        let published = self.publish_once(topic, event, data, None).await?;
        published.ok_or_else(|| PublishError::Refused("a repeat".to_owned()))
    }

    /// `publish`, but with `once` (a scope, a message id, and the connection's `cid` to
    /// count it for), only the first time that id is seen in that scope: `None` for a
    /// repeat (a reliable publish sent again after a reconnect). With many nodes, the
    /// check and the publish are one step in Redis, whichever node the resend reaches.
    pub async fn publish_once(
        &self,
        topic: &str,
        event: &str,
        data: Value,
        once: Option<(&str, &str, Option<&str>)>,
    ) -> Result<Option<Published>, PublishError> {
        self.hub.check_topic(topic).map_err(PublishError::Refused)?;
        let Some(cluster) = &self.cluster else {
            if let Some((scope, id, cid)) = once {
                if !self.processed.first_time(scope, id, cid) {
                    return Ok(None);
                }
            }
            return self.hub.publish(topic, event, data).map(Some).map_err(PublishError::Refused);
        };
        let published = cluster
            .publish(topic, event, data, once.map(|(scope, id, _)| (scope, id)))
            .await
            .map_err(|e| {
                self.metrics.redis_errors.inc();
                PublishError::Unavailable(e.0)
            })?;
        if let Some((_, _, cid)) = once {
            self.processed.count(cid, published.is_some());
        }
        Ok(published)
    }

    /// Subscribes connection `conn` to `topic`, with what it missed since `since` when
    /// that can be replayed. With many nodes and Redis unreachable, the answer is this
    /// node's own position (recovered only if the client is already there): the node
    /// catches its subscribers up once Redis is back (`cluster::run`).
    pub async fn subscribe(
        &self,
        conn: u64,
        topic: &str,
        outbox: &hub::Outbox,
        since: Option<&Position>,
    ) -> Result<Joined, String> {
        let Some(cluster) = &self.cluster else {
            return self.hub.subscribe(conn, topic, outbox, since);
        };
        self.hub.join(conn, topic, outbox)?;
        let mut joined = match cluster.recover(topic, since).await {
            Ok(joined) => {
                self.hub.note(topic, &joined.position);
                joined
            }
            Err(e) => {
                self.metrics.redis_errors.inc();
                tracing::warn!(error = %e.0, topic, "subscribed with this node's position");
                let last = self.hub.last(topic).filter(|p| !p.epoch.is_empty());
                let recovered = since.is_none() || last.as_ref() == since;
                let position = last
                    .or_else(|| since.cloned())
                    .unwrap_or(Position { seq: 0, epoch: String::new() });
                Joined { recovered, replay: Vec::new(), position }
            }
        };
        // What reached this node while Redis answered, after what the replay holds.
        joined.replay.extend(self.hub.joined(conn, topic, &joined.position));
        Ok(joined)
    }

    /// Records message `id` as processed in `scope` (for the connection tagged `cid`);
    /// true the first time. With many nodes, Redis remembers: a reliable send resent to
    /// another node after a drop is still processed once. An error when it cannot tell.
    pub async fn first_time(
        &self,
        scope: &str,
        id: &str,
        cid: Option<&str>,
    ) -> Result<bool, String> {
        let Some(cluster) = &self.cluster else {
            return Ok(self.processed.first_time(scope, id, cid));
        };
        let first = cluster.first_time(scope, id).await.map_err(|e| {
            self.metrics.redis_errors.inc();
            e.0
        })?;
        self.processed.count(cid, first);
        Ok(first)
    }
}

/// Starts the internal Socket.IO gateway that `/socket.io/` relays to (unless the
/// config names another upstream), and the hub's reclaiming of idle topics.
pub async fn start_socketio(state: &Arc<AppState>) -> std::io::Result<()> {
    if state.config.socketio_upstream.is_none() && state.sio.get().is_none() {
        let (addr, secret, io) = sio::start(state.clone()).await?;
        let _ = state.sio.set((addr.to_string(), secret, io));
    }
    Ok(())
}

/// Encodes a protocol message; the types cannot fail to serialize.
pub fn encode(message: &wsocket::protocol::Message) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

/// Whether an `Origin` header value is a loopback page (`http://127.0.0.1:5000`).
fn loopback_origin(origin: &HeaderValue) -> bool {
    let uri = origin.to_str().ok().and_then(|o| o.parse::<axum::http::Uri>().ok());
    matches!(uri.as_ref().and_then(|u| u.host()), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// CORS: the `--allow-origin` origins, and loopback pages when the test-control API is on
/// (the browser tests' pages). Never a wildcard.
fn cors(config: &Config) -> CorsLayer {
    let allowed: Vec<HeaderValue> =
        config.allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    let loopback = config.test_control;
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            allowed.contains(origin) || (loopback && loopback_origin(origin))
        }))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
}

/// The whole server as a router. Handlers that check the peer's address need
/// `ConnectInfo<SocketAddr>`, which `serve` provides.
pub fn app(state: Arc<AppState>) -> Router {
    let root = state.config.root.clone();
    let cors = cors(&state.config);
    let mut router = Router::new()
        .route("/ws", any(ws_upgrade))
        .route("/legacy", any(legacy_upgrade))
        .route("/socket.io/", any(socketio_upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics));
    if state.config.publish_token.is_some() {
        router = router.merge(
            Router::new()
                .route("/publish", post(publish))
                .route("/socketio/broadcast", post(sio_broadcast))
                .layer(DefaultBodyLimit::max(state.config.max_frame_bytes))
                .route_layer(middleware::from_fn_with_state(state.clone(), publisher_only))
                .layer(cors.clone()),
        );
    }
    if state.config.test_control {
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
            .route("/control/panic", post(panic_conns))
            // Bad-input tests send 16 MiB frames through `/control/send`.
            .layer(DefaultBodyLimit::max(32 << 20))
            .route_layer(middleware::from_fn(loopback_only))
            .layer(cors.clone());
        router = router.merge(control);
    }
    router
        .nest_service("/pkg", tower::Layer::layer(&cors, ServeDir::new(root.join("pkg"))))
        .nest_service("/bench", ServeDir::new(root.join("bench")))
        .fallback_service(ServeDir::new(root.join("www")).append_index_html_on_directories(true))
        .with_state(state)
}

fn peer(request: &Request) -> Option<SocketAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// The test-control API answers loopback peers only (403 otherwise).
async fn loopback_only(request: Request, next: Next) -> Response {
    if !peer(&request).is_some_and(|p| p.ip().is_loopback()) {
        return (StatusCode::FORBIDDEN, "the test-control API is for loopback peers only")
            .into_response();
    }
    next.run(request).await
}

/// Whether `headers` carry `Authorization: Bearer <expected>` (constant-time).
fn bearer(headers: &HeaderMap, expected: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    auth::same(given, expected)
}

/// `/publish` and `/socketio/broadcast` need the publish token (401 otherwise).
async fn publisher_only(State(s): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let expected = s.config.publish_token.as_deref().unwrap_or_default();
    if expected.is_empty() || !bearer(request.headers(), expected) {
        s.metrics.auth_failures.inc();
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "bearer token required",
        )
            .into_response();
    }
    next.run(request).await
}

async fn healthz(State(s): State<Arc<AppState>>) -> Response {
    if s.conns.shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response();
    }
    "ok".into_response()
}

/// Prometheus metrics: with `metrics_token` as a bearer token, else loopback peers only.
async fn metrics(State(s): State<Arc<AppState>>, request: Request) -> Response {
    let allowed = match s.config.metrics_token.as_deref() {
        Some(token) => bearer(request.headers(), token),
        None => peer(&request).is_some_and(|p| p.ip().is_loopback()),
    };
    if !allowed {
        return (StatusCode::UNAUTHORIZED, "metrics need a bearer token").into_response();
    }
    let body = s.metrics.render(&s);
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body)
        .into_response()
}

/// The admission checks every WebSocket endpoint shares: an Origin on the allow-list
/// (else 403), not shutting down (else 503), the frame and write-buffer bounds, and a
/// slot (`conns::Slot`; none left: the socket is closed at once with 1013). `accept`
/// upgrades an admitted request with its slot.
fn admit(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
    authenticated: bool,
    accept: impl FnOnce(WebSocketUpgrade, conns::Slot) -> Response,
) -> Response {
    let allowed = &state.config.allowed_origins;
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if !allowed.is_empty() && !origin.is_some_and(|o| allowed.iter().any(|a| a == o)) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    if state.conns.shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response();
    }
    let max = state.config.max_frame_bytes;
    // What one connection may have waiting to be written: a batch of ten of the largest
    // pushes and more; with the test-control API, its 32 MiB frames (`/control/send`).
    let write_buffer = if state.config.test_control { 64 << 20 } else { (max * 16).max(1 << 20) };
    let upgrade =
        upgrade.max_frame_size(max).max_message_size(max).max_write_buffer_size(write_buffer);
    let slot = if authenticated || !auth::required(&state.config) {
        state.conns.open_slot(&state.config)
    } else {
        state.conns.pending_slot(&state.config)
    };
    match slot {
        Some(slot) => accept(upgrade, slot),
        None => {
            state.metrics.refused.inc();
            upgrade.on_upgrade(ws::refuse_busy)
        }
    }
}

async fn ws_upgrade(
    upgrade: WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let params = ws::Params::from_query(&q);
    let credential = params.token.as_deref().and_then(|t| auth::check(&state.config, t).ok());
    admit(&state.clone(), &headers, upgrade, credential.is_some(), |u, slot| {
        u.protocols([ws::SUBPROTOCOL])
            .on_upgrade(move |socket| ws::serve(socket, state, params, slot))
    })
}

async fn legacy_upgrade(
    upgrade: WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let params = ws::Params::from_query(&q);
    let credential = params.token.as_deref().and_then(|t| auth::check(&state.config, t).ok());
    admit(&state.clone(), &headers, upgrade, credential.is_some(), |u, slot| {
        u.on_upgrade(move |socket| legacy::serve(socket, state, params, slot))
    })
}

async fn socketio_upgrade(
    upgrade: WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let (upstream, secret) = match (&state.config.socketio_upstream, state.sio.get()) {
        (Some(up), _) => (up.clone(), None),
        (None, Some((addr, secret, _))) => (addr.clone(), Some(secret.clone())),
        (None, None) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "no Socket.IO gateway").into_response()
        }
    };
    let url = format!("ws://{upstream}/socket.io/?{}", uri.query().unwrap_or(""));
    let cid = q.get("cid").cloned();
    // The gateway authenticates in its CONNECT packet: a Socket.IO connection counts as
    // authenticated for its slot (the gateway's own timeouts end a silent one).
    admit(&state.clone(), &headers, upgrade, true, |u, slot| {
        u.on_upgrade(move |socket| relay::serve(socket, state, url, secret, cid, slot))
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
    let Some((_, _, io)) = s.sio.get() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no internal Socket.IO gateway").into_response();
    };
    let sent = io.broadcast(&b.event, &b.data, b.room).await;
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
    /// `/control/close`: how long the connection stays up after the close frame, ms
    /// (at most 10 s).
    linger_ms: Option<u64>,
}

fn applied(n: usize) -> Json<Value> {
    Json(json!({ "connections": n }))
}

async fn drop_conns(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Json<Value> {
    applied(s.conns.command(t.cid.as_deref(), &Control::Drop))
}

/// Makes the connection(s) with this cid panic in their task: the test that a panic
/// ends that connection only (test control, loopback only, like the rest).
async fn panic_conns(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Json<Value> {
    applied(s.conns.command(t.cid.as_deref(), &Control::Panic))
}

async fn close_conns(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Response {
    let code = t.code.unwrap_or(1000);
    let reason = t.reason.unwrap_or_default();
    if !conns::legal_close_code(code) {
        let text = format!("close code {code} may not be sent (1000-1003, 1007-1014, 3000-4999)");
        return (StatusCode::BAD_REQUEST, text).into_response();
    }
    if reason.len() > 123 {
        return (StatusCode::BAD_REQUEST, "the close reason is at most 123 bytes").into_response();
    }
    let linger = std::time::Duration::from_millis(t.linger_ms.unwrap_or(0).min(10_000));
    applied(s.conns.command(t.cid.as_deref(), &Control::Close(code, reason, linger)))
        .into_response()
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

async fn restart_epoch(State(s): State<Arc<AppState>>) -> Response {
    // With many nodes the history is Redis's: restart Redis (without persistence) to lose
    // it; a node's own restart of its positions would only confuse its delivery.
    if s.cluster.is_some() {
        let error = "with --redis the history lives in Redis: restart Redis to lose it";
        return (StatusCode::CONFLICT, Json(json!({ "error": error }))).into_response();
    }
    Json(json!({ "epoch": s.hub.restart_epoch() })).into_response()
}

async fn connections(State(s): State<Arc<AppState>>, Query(t): Query<Target>) -> Json<Value> {
    let (processed, repeated) = t.cid.as_deref().map_or((0, 0), |cid| s.processed.counts(cid));
    Json(json!({
        "connections": s.conns.count(t.cid.as_deref()),
        "pings": s.conns.pings(t.cid.as_deref()),
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
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        let mut n = 0;
        while n < count {
            tick.tick().await;
            for _ in 0..per_ms.min(count - n) {
                n += 1;
                let _ = state.publish(&b.topic, &event, json!({ "n": n })).await;
            }
        }
    });
    Json(json!({ "count": count, "epoch": s.hub.epoch() }))
}

/// Body of `POST /publish`. With `id`, a publish sent again (a publisher retrying after
/// a timeout, or on another node) takes effect once: the repeat answers
/// `{"duplicate": true}`.
#[derive(Debug, Deserialize)]
struct PublishBody {
    topic: String,
    event: Option<String>,
    #[serde(default)]
    data: Value,
    id: Option<String>,
}

/// The scope of `POST /publish` ids (apart from every client's).
const PUBLISH_API_SCOPE: &str = "publish-api";

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
    if let Err(e) = s.hub.check_topic(&body.topic) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response();
    }
    if body.id.as_ref().is_some_and(|id| id.len() > s.config.max_id_bytes) {
        let error = format!("an id is at most {} bytes", s.config.max_id_bytes);
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
    }
    let event = body.event.as_deref().unwrap_or(wsocket::protocol::types::MESSAGE);
    let once = body.id.as_deref().map(|id| (PUBLISH_API_SCOPE, id, None));
    // `delivered`: subscribers reached on this node; with many nodes, nodes reached.
    match s.publish_once(&body.topic, event, body.data, once).await {
        Ok(Some(p)) => Json(json!({ "seq": p.seq, "epoch": p.epoch, "delivered": p.delivered }))
            .into_response(),
        Ok(None) => Json(json!({ "duplicate": true })).into_response(),
        // One topic too many, or Redis unreachable.
        Err(PublishError::Refused(e) | PublishError::Unavailable(e)) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": e }))).into_response()
        }
    }
}
