//! Prometheus metrics (`GET /metrics`, OpenMetrics text), by `prometheus-client`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::AppState;

/// Every counter and gauge the server keeps. Clones share their values.
pub struct Metrics {
    registry: Registry,
    /// WebSocket connections accepted (all endpoints).
    pub connections_opened: Counter,
    /// Upgrades refused for want of a slot (closed with 1013).
    pub refused: Counter,
    /// Frames received from clients.
    pub frames_in: Counter,
    /// Frames sent to clients.
    pub frames_out: Counter,
    /// Connections closed because they did not read what was sent to them.
    pub slow_consumers: Counter,
    /// Refused credentials (bad tokens, expired tokens, missing bearer tokens).
    pub auth_failures: Counter,
    /// Messages refused by the rate limit.
    pub rate_limited: Counter,
    /// Connections closed for a timeout (first frame, authentication, idle).
    pub timeouts: Counter,
    /// Connections closed for a protocol error (bad UTF-8, bad opcode, too large).
    pub protocol_errors: Counter,
    /// TCP connections dropped at accept: too many in their HTTP phase.
    pub http_refused: Counter,
    /// Many nodes: Redis commands that failed (a publish refused with `UNAVAILABLE`, a
    /// subscribe answered from the node's own position, a failed check).
    pub redis_errors: Counter,
    /// Many nodes: pushes read from the history because Pub/Sub did not bring them (a
    /// dropped subscription, a message Redis dropped, a new epoch).
    pub redis_caught_up: Counter,
    redis_subscribed: Gauge,
    queue_depth: Gauge,
    open: Gauge,
    pending: Gauge,
    topics: Gauge,
    history_bytes: Gauge,
    processed_bytes: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("wsocket"),
            connections_opened: Counter::default(),
            refused: Counter::default(),
            frames_in: Counter::default(),
            frames_out: Counter::default(),
            slow_consumers: Counter::default(),
            auth_failures: Counter::default(),
            rate_limited: Counter::default(),
            timeouts: Counter::default(),
            protocol_errors: Counter::default(),
            http_refused: Counter::default(),
            redis_errors: Counter::default(),
            redis_caught_up: Counter::default(),
            redis_subscribed: Gauge::default(),
            queue_depth: Gauge::default(),
            open: Gauge::default(),
            pending: Gauge::default(),
            topics: Gauge::default(),
            history_bytes: Gauge::default(),
            processed_bytes: Gauge::default(),
        };
        let r = &mut m.registry;
        r.register(
            "connections_opened",
            "WebSocket connections accepted",
            m.connections_opened.clone(),
        );
        r.register(
            "connections_refused",
            "upgrades refused for want of a slot (1013)",
            m.refused.clone(),
        );
        r.register("frames_in", "frames received from clients", m.frames_in.clone());
        r.register("frames_out", "frames sent to clients", m.frames_out.clone());
        r.register(
            "slow_consumer_disconnects",
            "connections closed for not reading",
            m.slow_consumers.clone(),
        );
        r.register("auth_failures", "refused credentials", m.auth_failures.clone());
        r.register("rate_limited", "messages refused by the rate limit", m.rate_limited.clone());
        r.register("timeouts", "connections closed for a timeout", m.timeouts.clone());
        r.register(
            "protocol_errors",
            "connections closed for a protocol error",
            m.protocol_errors.clone(),
        );
        r.register(
            "http_connections_refused",
            "TCP connections dropped at accept",
            m.http_refused.clone(),
        );
        r.register("redis_errors", "Redis commands that failed", m.redis_errors.clone());
        r.register(
            "redis_caught_up",
            "pushes read from the Redis history that Pub/Sub did not bring",
            m.redis_caught_up.clone(),
        );
        r.register(
            "redis_subscribed",
            "1 while the node receives every node's pushes through Redis",
            m.redis_subscribed.clone(),
        );
        r.register(
            "push_queue_depth",
            "pushes queued for clients, not yet written",
            m.queue_depth.clone(),
        );
        r.register("connections", "open (authenticated) WebSocket connections", m.open.clone());
        r.register(
            "connections_authenticating",
            "connections that have still to authenticate",
            m.pending.clone(),
        );
        r.register("topics", "topics held", m.topics.clone());
        r.register("history_bytes", "bytes of topic history held", m.history_bytes.clone());
        r.register("processed_id_bytes", "bytes of processed ids held", m.processed_bytes.clone());
        m
    }
}

impl Metrics {
    /// The OpenMetrics text of every metric, the gauges read from `state` now.
    pub fn render(&self, state: &AppState) -> String {
        let (open, pending) = state.conns.slots();
        let (topics, history) = state.hub.size();
        let (_, _, processed) = state.processed.size();
        self.open.set(open as i64);
        self.pending.set(pending as i64);
        self.topics.set(topics as i64);
        self.history_bytes.set(history as i64);
        self.processed_bytes.set(processed as i64);
        self.queue_depth.set(state.hub.queue_depth() as i64);
        self.redis_subscribed
            .set(i64::from(state.cluster.as_ref().is_some_and(|c| c.subscribed())));
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}
