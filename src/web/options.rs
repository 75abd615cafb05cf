//! Reads the options object JS passes to `new WsClient(url, options)`.
//!
//! JS checks the types (`readOptions` in early.js, which `preconnect` shares: JS is
//! smaller than the same checks through the boundary, BENCHMARKS.md, size); the core's
//! `Options::validate` checks ranges. Unknown keys are an error, so a typo (`maxDelay`) is found at once.

use alloc::string::String;

use super::js::{Array, Function};
use wasm_bindgen::{JsCast, JsValue};

use super::bindings::read_options;

use crate::options::{Options, Protocol, TokenIn};
use crate::queue::Overflow;

/// Where the token comes from.
#[derive(Debug, Clone)]
pub enum Token {
    /// No token.
    None,
    /// A fixed token.
    Fixed(String),
    /// A function returning a token or a Promise of one, called before every connect.
    Provider(Function),
}

/// Reads `options` (undefined or null mean all defaults). JS checks the types
/// (`readOptions`, which throws INVALID_OPTION naming the field) and returns the checked
/// values by name; the core checks ranges and the rules across fields.
pub fn read(options: &JsValue) -> Result<(Options, Token), JsValue> {
    let values = read_options(options)?;
    let at = |name: &str| super::js::field(&values, name);
    let number = |name: &str, to: &mut f64| {
        if let Some(n) = at(name).as_f64() {
            *to = n;
        }
    };
    let mut o = Options::default();
    // The protocol first: it changes other defaults.
    match at("protocol").as_string().as_deref() {
        Some("raw") => {
            o.heartbeat_interval_ms = 0.0;
            o.protocol = Protocol::Raw;
        }
        Some("socketio") => {
            // The server pings; the token goes in the CONNECT packet's auth.
            o.heartbeat_interval_ms = 0.0;
            o.token_in = TokenIn::Message;
            o.protocol = Protocol::SocketIo;
        }
        _ => {}
    }
    if let Some(key) = at("eventKey").as_string() {
        o.event_key = key;
    }
    // Arrays of strings (the hub checked them; a lone subprotocol string is an array).
    for (name, to) in [("topics", &mut o.topics), ("subprotocols", &mut o.subprotocols)] {
        let v = at(name);
        if Array::is_array(&v) {
            let v = v.unchecked_ref::<Array>();
            for j in 0..v.length() {
                to.extend(v.get(j).as_string());
            }
        }
    }
    let token = at("token");
    let token = if let Some(s) = token.as_string() {
        Token::Fixed(s)
    } else if let Some(f) = token.dyn_ref::<Function>() {
        Token::Provider(f.clone())
    } else {
        Token::None
    };
    match at("tokenIn").as_string().as_deref() {
        Some("query") => o.token_in = TokenIn::Query,
        Some("message") => o.token_in = TokenIn::Message,
        _ => {}
    }
    if let Some(b) = at("reconnect").as_bool() {
        o.reconnect = b;
    }
    number("minDelayMs", &mut o.min_delay_ms);
    number("maxDelayMs", &mut o.max_delay_ms);
    // `null` and `Infinity` (the hub reads both as Infinity): no limit.
    if let Some(n) = at("maxAttempts").as_f64() {
        o.max_attempts = if n.is_finite() { Some(n as u32) } else { None };
    }
    number("stableAfterMs", &mut o.stable_after_ms);
    number("connectTimeoutMs", &mut o.connect_timeout_ms);
    number("heartbeatIntervalMs", &mut o.heartbeat_interval_ms);
    number("heartbeatTimeoutMs", &mut o.heartbeat_timeout_ms);
    if let Some(m) = at("heartbeatMessage").as_string() {
        o.heartbeat_message = Some(m);
    }
    if let Some(n) = at("queueMax").as_f64() {
        o.queue_max = n as usize;
    }
    match at("queueOverflow").as_string().as_deref() {
        Some("reject") => o.queue_overflow = Overflow::Reject,
        Some("drop-oldest") => o.queue_overflow = Overflow::DropOldest,
        Some("drop-newest") => o.queue_overflow = Overflow::DropNewest,
        _ => {}
    }
    number("requestTimeoutMs", &mut o.request_timeout_ms);
    if let Some(b) = at("debug").as_bool() {
        o.debug = b;
    }
    if let Some(n) = at("namespace").as_string() {
        o.namespace = n;
    }
    if let Some(n) = at("maxMessageBytes").as_f64() {
        o.max_message_bytes = if n.is_finite() { Some(n as u32) } else { None };
    }
    o.refresh_token = matches!(token, Token::Provider(_));
    Ok((o, token))
}
