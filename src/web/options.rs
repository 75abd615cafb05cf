//! Reads the options object JS passes to `new WsClient(url, options)`.
//!
//! Only types are checked here; ranges are checked by the core's `Options::validate`.
//! Unknown keys are an error, so a typo (`maxDelay`) is found at once, not in production.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::options::{Options, Protocol, TokenIn};
use crate::queue::Overflow;
use crate::Error;

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

const KEYS: &[&str] = &[
    "protocol",
    "eventKey",
    "topics",
    "token",
    "tokenIn",
    "reconnect",
    "minDelayMs",
    "maxDelayMs",
    "maxAttempts",
    "stableAfterMs",
    "connectTimeoutMs",
    "heartbeatIntervalMs",
    "heartbeatTimeoutMs",
    "heartbeatMessage",
    "queueMax",
    "queueOverflow",
    "requestTimeoutMs",
    "debug",
    "namespace",
];

fn bad(field: &str, expected: &str) -> Error {
    Error::InvalidOption {
        field: field.to_owned(),
        reason: crate::text::concat(&["expected ", expected]),
    }
}

fn number(field: &str, v: &JsValue) -> Result<f64, Error> {
    v.as_f64().ok_or_else(|| bad(field, "a number"))
}

fn string(field: &str, v: &JsValue) -> Result<String, Error> {
    v.as_string().ok_or_else(|| bad(field, "a string"))
}

fn whole(field: &str, v: &JsValue, max: u32) -> Result<f64, Error> {
    let n = number(field, v)?;
    if !(0.0..=f64::from(max)).contains(&n) || f64::from(n as u32) != n {
        return Err(bad(
            field,
            &crate::text::with_number("a whole number from 0 to ", max.into(), ""),
        ));
    }
    Ok(n)
}

fn strings(field: &str, v: &JsValue) -> Result<Vec<String>, Error> {
    if !Array::is_array(v) {
        return Err(bad(field, "an array of strings"));
    }
    Array::from(v)
        .iter()
        .map(|t| t.as_string().ok_or_else(|| bad(field, "an array of strings")))
        .collect()
}

/// Reads `options` (undefined or null mean all defaults).
pub fn read(options: &JsValue) -> Result<(Options, Token), Error> {
    let mut o = Options::default();
    let mut token = Token::None;
    if options.is_undefined() || options.is_null() {
        return Ok((o, token));
    }
    if !options.is_object() || Array::is_array(options) {
        return Err(bad("options", "an object"));
    }
    let get =
        |key: &str| Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    let object: &Object = options.unchecked_ref();
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !KEYS.contains(&key.as_str()) {
            return Err(Error::InvalidOption { field: key, reason: "unknown option".to_owned() });
        }
    }
    // The protocol first: it changes other defaults.
    let protocol = get("protocol");
    if !protocol.is_undefined() {
        o.protocol = match string("protocol", &protocol)?.as_str() {
            "json" => Protocol::Json,
            "raw" => {
                o.heartbeat_interval_ms = 0.0;
                Protocol::Raw
            }
            "socketio" => {
                // The server pings; the token goes in the CONNECT packet's auth.
                o.heartbeat_interval_ms = 0.0;
                o.token_in = TokenIn::Message;
                Protocol::SocketIo
            }
            _ => return Err(bad("protocol", "\"json\", \"raw\" or \"socketio\"")),
        };
    }
    for &key in KEYS.iter().skip(1) {
        let v = get(key);
        if v.is_undefined() {
            continue;
        }
        match key {
            "eventKey" => o.event_key = string(key, &v)?,
            "topics" => o.topics = strings(key, &v)?,
            "token" => {
                token = if let Some(s) = v.as_string() {
                    Token::Fixed(s)
                } else if let Some(f) = v.dyn_ref::<Function>() {
                    Token::Provider(f.clone())
                } else if v.is_null() {
                    Token::None
                } else {
                    return Err(bad(
                        key,
                        "a string or a function returning one (or a Promise of one)",
                    ));
                }
            }
            "tokenIn" => {
                o.token_in = match string(key, &v)?.as_str() {
                    "query" => TokenIn::Query,
                    "message" => TokenIn::Message,
                    _ => return Err(bad(key, "\"query\" or \"message\"")),
                }
            }
            "reconnect" => o.reconnect = v.as_bool().ok_or_else(|| bad(key, "a boolean"))?,
            "minDelayMs" => o.min_delay_ms = number(key, &v)?,
            "maxDelayMs" => o.max_delay_ms = number(key, &v)?,
            "maxAttempts" => {
                o.max_attempts = if v.is_null() || v.as_f64() == Some(f64::INFINITY) {
                    None
                } else {
                    Some(whole(key, &v, u32::MAX)? as u32)
                }
            }
            "stableAfterMs" => o.stable_after_ms = number(key, &v)?,
            "connectTimeoutMs" => o.connect_timeout_ms = number(key, &v)?,
            "heartbeatIntervalMs" => o.heartbeat_interval_ms = number(key, &v)?,
            "heartbeatTimeoutMs" => o.heartbeat_timeout_ms = number(key, &v)?,
            "heartbeatMessage" => o.heartbeat_message = Some(string(key, &v)?),
            "queueMax" => o.queue_max = whole(key, &v, 1_000_000)? as usize,
            "queueOverflow" => {
                o.queue_overflow = match string(key, &v)?.as_str() {
                    "reject" => Overflow::Reject,
                    "drop-oldest" => Overflow::DropOldest,
                    "drop-newest" => Overflow::DropNewest,
                    _ => return Err(bad(key, "\"reject\", \"drop-oldest\" or \"drop-newest\"")),
                }
            }
            "requestTimeoutMs" => o.request_timeout_ms = number(key, &v)?,
            "debug" => o.debug = v.as_bool().ok_or_else(|| bad(key, "a boolean"))?,
            "namespace" => o.namespace = string(key, &v)?,
            _ => {}
        }
    }
    o.refresh_token = matches!(token, Token::Provider(_));
    o.validate()?;
    Ok((o, token))
}
