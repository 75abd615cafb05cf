//! Client options: one struct, one `Default`, one `validate`.
//!
//! The browser driver reads a plain JS object into [`Options`] (rejecting unknown keys);
//! everything about ranges is checked here, natively testable, with errors that name the
//! field as the caller wrote it.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::queue::Overflow;
use crate::Error;

/// How frames are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// One JSON object per text frame, dispatched by `eventKey` (`type` or `event`).
    Json,
    /// No envelope: every frame goes to `message` listeners as it arrived.
    Raw,
    /// Socket.IO v5 over Engine.IO v4, WebSocket transport only ([`crate::socketio`]).
    SocketIo,
}

/// Where a token goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIn {
    /// Appended to the URL as `?token=...`.
    Query,
    /// Sent as the first frame after open: `{type: "auth", id, data: {token}}`.
    Message,
}

/// Every tunable of the client. Field docs give the JS name and the default.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `protocol`: `"json"` (default) or `"raw"`.
    pub protocol: Protocol,
    /// `eventKey`: the field that names a JSON frame's event. Default `"type"`.
    pub event_key: String,
    /// `topics`: subscribed at every open. Default none.
    pub topics: Vec<String>,
    /// `reconnect`: whether to reconnect after a drop. Default `true`.
    pub reconnect: bool,
    /// `minDelayMs`: smallest reconnect delay and base of the backoff. Default 500. With 0,
    /// every reconnect is immediate (no backoff at all): for tests and benchmarks.
    pub min_delay_ms: f64,
    /// `maxDelayMs`: largest reconnect delay. Default 30000.
    pub max_delay_ms: f64,
    /// `maxAttempts`: reconnect attempts before giving up; `None` is unlimited (default).
    pub max_attempts: Option<u32>,
    /// `stableAfterMs`: how long a connection must stay open before the attempt counter
    /// resets. Default 5000.
    pub stable_after_ms: f64,
    /// `connectTimeoutMs`: how long a socket may stay connecting; 0 disables. Default 10000.
    pub connect_timeout_ms: f64,
    /// `heartbeatIntervalMs`: how often to send a ping; 0 disables. Default 25000
    /// (0 for `raw`).
    pub heartbeat_interval_ms: f64,
    /// `heartbeatTimeoutMs`: how long after a ping a pong or any frame must arrive; 0
    /// disables the watchdog. Default 10000.
    pub heartbeat_timeout_ms: f64,
    /// `heartbeatMessage`: a text frame sent verbatim as the ping (the legacy `"PONG"`).
    /// Default: a protocol `ping` frame.
    pub heartbeat_message: Option<String>,
    /// `queueMax`: messages kept while not open. Default 1000.
    pub queue_max: usize,
    /// `queueOverflow`: `"reject"` (default), `"drop-oldest"` or `"drop-newest"`.
    pub queue_overflow: Overflow,
    /// `requestTimeoutMs`: default timeout of `request`. Default 10000.
    pub request_timeout_ms: f64,
    /// `maxMessageBytes`: the largest inbound frame (UTF-8 bytes of a text frame, bytes
    /// of a binary one) the client parses and delivers; a larger one is reported
    /// (`FRAME_TOO_LARGE`) and skipped. `None` (JS `null` or `Infinity`) is no limit.
    /// Default 64 MiB.
    pub max_message_bytes: Option<u32>,
    /// `tokenIn`: `"query"` (default) or `"message"`.
    pub token_in: TokenIn,
    /// `debug`: log to the console. Default `false`; switchable at run time.
    pub debug: bool,
    /// `namespace`: the Socket.IO namespace (`protocol: "socketio"`). Default `"/"`.
    pub namespace: String,
    /// `subprotocols`: the WebSocket subprotocols offered at every connect, in order of
    /// preference (the `protocols` argument of `new WebSocket`); the server picks one.
    /// Default none.
    pub subprotocols: Vec<String>,
    /// Whether a fresh token can be asked for (a token provider was given): then a
    /// 4001/1008 close or an `UNAUTHORIZED` error retries once with a new token.
    pub refresh_token: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            protocol: Protocol::Json,
            event_key: "type".to_owned(),
            topics: Vec::new(),
            reconnect: true,
            min_delay_ms: 500.0,
            max_delay_ms: 30_000.0,
            max_attempts: None,
            stable_after_ms: 5_000.0,
            connect_timeout_ms: 10_000.0,
            heartbeat_interval_ms: 25_000.0,
            heartbeat_timeout_ms: 10_000.0,
            heartbeat_message: None,
            queue_max: 1_000,
            namespace: "/".to_owned(),
            subprotocols: Vec::new(),
            queue_overflow: Overflow::Reject,
            request_timeout_ms: 10_000.0,
            max_message_bytes: Some(DEFAULT_MAX_MESSAGE_BYTES),
            token_in: TokenIn::Query,
            debug: false,
            refresh_token: false,
        }
    }
}

/// Fields every frame may carry besides the event name; `eventKey` must be none of them.
pub const RESERVED_FIELDS: [&str; 9] =
    ["id", "data", "topic", "seq", "epoch", "timestamp", "error", "messages", "since"];

/// The default `maxMessageBytes`: 64 MiB. Far above a sane message (a 16 MiB snapshot
/// still arrives), and a runaway frame of hundreds of MB is not parsed on the page's main
/// thread, where it would freeze the page or exhaust its memory.
pub const DEFAULT_MAX_MESSAGE_BYTES: u32 = 64 << 20;

/// The largest delay or timeout accepted: one day, far past any sane setting, and
/// small enough for `setTimeout` (which overflows past 2^31-1 ms).
pub const MAX_MS: f64 = 86_400_000.0;

/// Whether `b` may be in a subprotocol name: a token of RFC 7230, as RFC 6455 asks.
fn token_byte(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'^'..=b'`' | b'|' | b'~')
}

fn check_ms(field: &str, value: f64) -> Result<(), Error> {
    if !value.is_finite() || !(0.0..=MAX_MS).contains(&value) {
        // The value, whole part only: float formatting would cost the wasm build ~20 KB.
        let mut reason = String::from("expected 0..=86400000 ms, got ");
        if value < 0.0 {
            reason.push('-');
        }
        if value.is_nan() {
            reason.push_str("NaN");
        } else if value.abs() < 9e15 {
            crate::text::push_u64(&mut reason, value.abs() as u64);
        } else {
            reason.push_str("Infinity");
        }
        return Err(Error::option(field, reason));
    }
    Ok(())
}

impl Options {
    /// Checks every range and cross-field rule; the error names the offending field.
    pub fn validate(&self) -> Result<(), Error> {
        if self.event_key.is_empty() {
            return Err(Error::option("eventKey", "must not be empty"));
        }
        if RESERVED_FIELDS.contains(&self.event_key.as_str()) {
            return Err(Error::option(
                "eventKey",
                "must not be a protocol field (id, data, topic, ...)",
            ));
        }
        if self.topics.iter().any(|t| t.is_empty()) {
            return Err(Error::option("topics", "topics must be non-empty strings"));
        }
        check_ms("minDelayMs", self.min_delay_ms)?;
        check_ms("maxDelayMs", self.max_delay_ms)?;
        if self.max_delay_ms < self.min_delay_ms {
            return Err(Error::option("maxDelayMs", "must be at least minDelayMs"));
        }
        check_ms("stableAfterMs", self.stable_after_ms)?;
        check_ms("connectTimeoutMs", self.connect_timeout_ms)?;
        check_ms("heartbeatIntervalMs", self.heartbeat_interval_ms)?;
        check_ms("heartbeatTimeoutMs", self.heartbeat_timeout_ms)?;
        check_ms("requestTimeoutMs", self.request_timeout_ms)?;
        if self.max_message_bytes == Some(0) {
            return Err(Error::option("maxMessageBytes", "expected at least 1 (null: no limit)"));
        }
        if self.queue_max > 1_000_000 {
            return Err(Error::option("queueMax", "expected at most 1000000"));
        }
        if matches!(&self.heartbeat_message, Some(m) if m.is_empty()) {
            return Err(Error::option("heartbeatMessage", "must not be empty"));
        }
        for (i, p) in self.subprotocols.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(token_byte) {
                return Err(Error::option(
                    "subprotocols",
                    "each must be a token: letters, digits and !#$%&'*+-.^_`|~",
                ));
            }
            if self.subprotocols.get(..i).is_some_and(|before| before.contains(p)) {
                return Err(Error::option("subprotocols", "each may be offered once"));
            }
        }
        if !crate::socketio::valid_namespace(&self.namespace) {
            return Err(Error::option("namespace", "must start with / and hold no , [ { or \""));
        }
        if self.protocol == Protocol::SocketIo {
            if !self.topics.is_empty() {
                return Err(Error::option(
                    "topics",
                    "Socket.IO has rooms, not topics: emit your gateway's join event instead",
                ));
            }
            if self.heartbeat_message.is_some() || self.heartbeat_interval_ms > 0.0 {
                return Err(Error::option(
                    "heartbeatIntervalMs",
                    "Socket.IO servers send the pings; the watchdog uses their pingInterval + pingTimeout",
                ));
            }
        }
        Ok(())
    }
}
