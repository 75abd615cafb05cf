//! `wsocket-server`: the companion server. `wsocket-server --help` lists the flags; each
//! also reads an environment variable (`WSOCKET_PORT`, `WSOCKET_PUBLISH_TOKEN`, ...).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use wsocket_server::{feeds, serve, start_socketio, AppState, Config};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// The companion server of wsocket: `/ws` (typed JSON with topics and recovery),
/// `/legacy` (event JSON), `/socket.io/` (namespace `/events`), the demo page, `/healthz`
/// and `/metrics`. Closed by default: no test-control API, no publish endpoint, no CORS.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to bind.
    #[arg(long, env = "WSOCKET_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to bind (0: any free port; the first line printed says which).
    #[arg(long, env = "WSOCKET_PORT", default_value_t = 8080)]
    port: u16,
    /// Where `www/` and `pkg/` are (the repository root).
    #[arg(long, env = "WSOCKET_ROOT")]
    root: Option<PathBuf>,
    /// Require this fixed token on `/ws`, `/legacy` and Socket.IO (`?token=` or an `auth`
    /// message).
    #[arg(long, env = "WSOCKET_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Require a JWT signed with HS256 and this secret (`exp` required).
    #[arg(long, env = "WSOCKET_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Accept upgrades (and CORS requests) from this Origin only; repeatable.
    #[arg(long = "allow-origin", env = "WSOCKET_ALLOW_ORIGIN", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Turn on the test-control API (`/control/*`), for loopback peers only.
    #[arg(long, env = "WSOCKET_TEST_CONTROL")]
    test_control: bool,
    /// Turn on `POST /publish` and `POST /socketio/broadcast`, which then need
    /// `Authorization: Bearer TOKEN`.
    #[arg(long, env = "WSOCKET_PUBLISH_TOKEN", hide_env_values = true)]
    publish_token: Option<String>,
    /// `/metrics` needs `Authorization: Bearer TOKEN` (without it: loopback peers only).
    #[arg(long, env = "WSOCKET_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Authenticated connections at most; more are closed with 1013.
    #[arg(long, env = "WSOCKET_MAX_CONNECTIONS", default_value_t = Config::default().max_connections)]
    max_connections: usize,
    /// Connections still authenticating at most (apart from the above).
    #[arg(long, env = "WSOCKET_MAX_UNAUTHENTICATED", default_value_t = Config::default().max_unauthenticated)]
    max_unauthenticated: usize,
    /// TCP connections in their HTTP phase at most; more are dropped at accept.
    #[arg(long, env = "WSOCKET_MAX_HTTP_CONNECTIONS", default_value_t = Config::default().max_http_connections)]
    max_http_connections: usize,
    /// Messages per second per connection (token bucket); past it RATE_LIMITED, then 4008.
    #[arg(long = "rate-limit", env = "WSOCKET_RATE_LIMIT", default_value_t = Config::default().rate_limit_per_sec)]
    rate_limit: u32,
    /// The largest frame or message accepted, in bytes (close 1009 past it).
    #[arg(long, env = "WSOCKET_MAX_FRAME_BYTES", default_value_t = Config::default().max_frame_bytes)]
    max_frame_bytes: usize,
    /// Messages of history kept per topic.
    #[arg(long, env = "WSOCKET_HISTORY", default_value_t = Config::default().history)]
    history: usize,
    /// Bytes of history kept per topic.
    #[arg(long, env = "WSOCKET_HISTORY_BYTES", default_value_t = Config::default().history_bytes)]
    history_bytes: usize,
    /// Topics at most.
    #[arg(long, env = "WSOCKET_MAX_TOPICS", default_value_t = Config::default().max_topics)]
    max_topics: usize,
    /// Seconds after which a topic with no subscriber and no publish is reclaimed.
    #[arg(long, env = "WSOCKET_TOPIC_IDLE_SECS", default_value_t = Config::default().topic_idle.as_secs())]
    topic_idle_secs: u64,
    /// Pushes queued per connection before it is closed as a slow consumer (1013).
    #[arg(long, env = "WSOCKET_OUTBOUND_QUEUE", default_value_t = Config::default().outbound_queue)]
    outbound_queue: usize,
    /// Timeouts in milliseconds: request headers, first frame, authentication, idle, a
    /// write to a client that does not read, and the drain on shutdown.
    #[arg(long, env = "WSOCKET_HEADER_TIMEOUT_MS", default_value_t = ms(Config::default().header_read_timeout))]
    header_timeout_ms: u64,
    #[arg(long, env = "WSOCKET_FIRST_FRAME_TIMEOUT_MS", default_value_t = ms(Config::default().first_frame_timeout))]
    first_frame_timeout_ms: u64,
    #[arg(long, env = "WSOCKET_AUTH_TIMEOUT_MS", default_value_t = ms(Config::default().auth_timeout))]
    auth_timeout_ms: u64,
    #[arg(long, env = "WSOCKET_IDLE_TIMEOUT_MS", default_value_t = ms(Config::default().idle_timeout))]
    idle_timeout_ms: u64,
    #[arg(long, env = "WSOCKET_WRITE_TIMEOUT_MS", default_value_t = ms(Config::default().write_timeout))]
    write_timeout_ms: u64,
    #[arg(long, env = "WSOCKET_DRAIN_TIMEOUT_MS", default_value_t = ms(Config::default().drain_timeout))]
    drain_timeout_ms: u64,
    /// Relay `/socket.io/` to this Socket.IO server instead of the built-in gateway.
    #[arg(long, env = "WSOCKET_SOCKETIO_UPSTREAM")]
    socketio_upstream: Option<String>,
    /// The built-in gateway's Engine.IO ping interval and timeout, ms.
    #[arg(long, env = "WSOCKET_SIO_PING_MS", value_parser = ping_pair, default_value = "25000,20000")]
    sio_ping_ms: (u64, u64),
    /// Many nodes: the Redis (`redis://host:port/db`) every node shares. Topics' numbering
    /// and history and reliable sends' processed ids live there, and a publish on any
    /// node reaches every node's subscribers. Without it, this node alone.
    #[arg(long, env = "WSOCKET_REDIS")]
    redis: Option<String>,
    /// Do not run the demo feeds (task progress, market ticker).
    #[arg(long, env = "WSOCKET_NO_FEEDS")]
    no_feeds: bool,
    /// Log format (the level comes from RUST_LOG, default `info`).
    #[arg(long, env = "WSOCKET_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn ping_pair(s: &str) -> Result<(u64, u64), String> {
    s.split_once(',')
        .and_then(|(i, t)| Some((i.trim().parse().ok()?, t.trim().parse().ok()?)))
        .ok_or_else(|| "expected INTERVAL,TIMEOUT in milliseconds, e.g. 25000,20000".to_owned())
}

impl Args {
    fn config(&self) -> Config {
        let d = Config::default();
        Config {
            root: self.root.clone().unwrap_or(d.root),
            auth_token: self.token.clone(),
            jwt_secret: self.jwt_secret.clone(),
            allowed_origins: self.allowed_origins.clone(),
            test_control: self.test_control,
            publish_token: self.publish_token.clone().filter(|t| !t.is_empty()),
            metrics_token: self.metrics_token.clone().filter(|t| !t.is_empty()),
            max_connections: self.max_connections,
            max_unauthenticated: self.max_unauthenticated,
            max_http_connections: self.max_http_connections,
            header_read_timeout: Duration::from_millis(self.header_timeout_ms),
            first_frame_timeout: Duration::from_millis(self.first_frame_timeout_ms),
            auth_timeout: Duration::from_millis(self.auth_timeout_ms),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            write_timeout: Duration::from_millis(self.write_timeout_ms),
            drain_timeout: Duration::from_millis(self.drain_timeout_ms),
            outbound_queue: self.outbound_queue,
            rate_limit_per_sec: self.rate_limit,
            max_frame_bytes: self.max_frame_bytes,
            history: self.history,
            history_bytes: self.history_bytes,
            max_topics: self.max_topics,
            topic_idle: Duration::from_secs(self.topic_idle_secs),
            socketio_upstream: self.socketio_upstream.clone(),
            sio_ping_interval_ms: self.sio_ping_ms.0,
            sio_ping_timeout_ms: self.sio_ping_ms.1,
            redis: self.redis.clone().filter(|u| !u.is_empty()),
            ..d
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr: the first line on stdout is the address, read by `cargo xtask`.
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
}

/// SIGTERM or Ctrl-C.
async fn terminated() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    init_logs(args.log_format);
    // A panic ends its connection task only (the release profile unwinds); it is logged
    // like everything else, so it reaches the JSON log rather than bare stderr.
    std::panic::set_hook(Box::new(|info| tracing::error!(%info, "a task panicked")));
    let config = args.config();
    let addr: SocketAddr = match format!("{}:{}", args.host, args.port).parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bad address {}:{}: {e}", args.host, args.port);
            std::process::exit(2)
        }
    };
    if config.test_control && !addr.ip().is_loopback() {
        tracing::warn!("--test-control answers loopback peers only; other peers get 403");
    }
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot bind {addr}: {e}");
            std::process::exit(1)
        }
    };
    let state = match AppState::try_new(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2)
        }
    };
    if let Err(e) = start_socketio(&state).await {
        eprintln!("cannot start the Socket.IO gateway: {e}");
        std::process::exit(1)
    }
    if !args.no_feeds {
        tokio::spawn(feeds::run(state.clone()));
    }
    let local = listener.local_addr().unwrap_or(addr);
    // The first line is machine-read by `cargo xtask` to find the port.
    println!("wsocket-server listening on http://{local}/");
    tracing::info!(
        %local,
        test_control = state.config.test_control,
        publish = state.config.publish_token.is_some(),
        auth = wsocket_server::auth::required(&state.config),
        redis = state.cluster.is_some(),
        "listening"
    );
    if let Err(e) = serve(listener, state, terminated()).await {
        eprintln!("server error: {e}");
        std::process::exit(1)
    }
}
