//! Reads the options object JS passes to `new WsClient(url, options)`.
//!
//! The hub checks the types (`readOptions` in hub.js: JS is smaller than the same checks
//! through the boundary, BENCHMARKS.md, size); the core's `Options::validate` checks
//! ranges. Unknown keys are an error, so a typo (`maxDelay`) is found at once.

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

/// Reads `options` (undefined or null mean all defaults). The hub checks the types
/// (`readOptions`, which throws INVALID_OPTION naming the field) and returns the values
/// by position; the core checks ranges and the rules across fields.
pub fn read(options: &JsValue) -> Result<(Options, Token), JsValue> {
    let values = read_options(options)?;
    let at = |i: u32| values.get(i);
    let number = |i: u32, to: &mut f64| {
        if let Some(n) = at(i).as_f64() {
            *to = n;
        }
    };
    let mut o = Options::default();
    // The protocol first: it changes other defaults.
    match at(0).as_f64() {
        Some(1.0) => {
            o.heartbeat_interval_ms = 0.0;
            o.protocol = Protocol::Raw;
        }
        Some(2.0) => {
            // The server pings; the token goes in the CONNECT packet's auth.
            o.heartbeat_interval_ms = 0.0;
            o.token_in = TokenIn::Message;
            o.protocol = Protocol::SocketIo;
        }
        _ => {}
    }
    if let Some(key) = at(1).as_string() {
        o.event_key = key;
    }
    // Arrays of strings (the hub checked them): `topics`, `subprotocols`.
    for (i, to) in [(2, &mut o.topics), (20, &mut o.subprotocols)] {
        let v = at(i);
        if Array::is_array(&v) {
            let v = v.unchecked_ref::<Array>();
            for j in 0..v.length() {
                to.extend(v.get(j).as_string());
            }
        }
    }
    let token = at(3);
    let token = if let Some(s) = token.as_string() {
        Token::Fixed(s)
    } else if let Some(f) = token.dyn_ref::<Function>() {
        Token::Provider(f.clone())
    } else {
        Token::None
    };
    match at(4).as_f64() {
        Some(0.0) => o.token_in = TokenIn::Query,
        Some(1.0) => o.token_in = TokenIn::Message,
        _ => {}
    }
    if let Some(b) = at(5).as_bool() {
        o.reconnect = b;
    }
    number(6, &mut o.min_delay_ms);
    number(7, &mut o.max_delay_ms);
    if let Some(n) = at(8).as_f64() {
        o.max_attempts = if n.is_finite() { Some(n as u32) } else { None };
    }
    number(9, &mut o.stable_after_ms);
    number(10, &mut o.connect_timeout_ms);
    number(11, &mut o.heartbeat_interval_ms);
    number(12, &mut o.heartbeat_timeout_ms);
    if let Some(m) = at(13).as_string() {
        o.heartbeat_message = Some(m);
    }
    if let Some(n) = at(14).as_f64() {
        o.queue_max = n as usize;
    }
    match at(15).as_f64() {
        Some(0.0) => o.queue_overflow = Overflow::Reject,
        Some(1.0) => o.queue_overflow = Overflow::DropOldest,
        Some(2.0) => o.queue_overflow = Overflow::DropNewest,
        _ => {}
    }
    number(16, &mut o.request_timeout_ms);
    if let Some(b) = at(17).as_bool() {
        o.debug = b;
    }
    if let Some(n) = at(18).as_string() {
        o.namespace = n;
    }
    if let Some(n) = at(19).as_f64() {
        o.max_message_bytes = if n.is_finite() { Some(n as u32) } else { None };
    }
    o.refresh_token = matches!(token, Token::Provider(_));
    Ok((o, token))
}
