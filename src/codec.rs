//! Codecs for the three framings: typed JSON (`type`), event JSON (`event`) and raw.
//!
//! Encoding of the frames the core itself sends (ping, subscribe, unsubscribe, auth) is
//! hand-written so the browser build carries no JSON library. Decoding lives behind the
//! `serde` feature: in the browser `JSON.parse` is faster than anything shipped in wasm,
//! so the hot path never calls into Rust to decode (ARCHITECTURE.md, "Inbound path").

use alloc::borrow::ToOwned;
use alloc::string::String;

/// Builds the JSON text of the core's own frames. `key` is the event field: `"type"`
/// for typed JSON, `"event"` for legacy event JSON.
#[derive(Debug, Clone)]
pub struct Encoder {
    key: String,
}

impl Encoder {
    /// An encoder that names frames with `key`.
    pub fn new(key: &str) -> Encoder {
        Encoder { key: key.to_owned() }
    }

    fn head(&self, kind: &str, id: &str) -> String {
        let mut out = String::with_capacity(64);
        out.push('{');
        push_str(&mut out, &self.key);
        out.push(':');
        push_str(&mut out, kind);
        out.push_str(",\"id\":");
        push_str(&mut out, id);
        out
    }

    /// `{"type":"ping","id":..,"timestamp":..}`, the timestamp in whole ms.
    pub fn ping(&self, id: &str, timestamp_ms: f64) -> String {
        let mut out = self.head(crate::protocol::types::PING, id);
        out.push_str(",\"timestamp\":");
        push_millis(&mut out, timestamp_ms);
        out.push('}');
        out
    }

    /// `{"type":"subscribe","id":..,"data":{"topics":[..]}}`
    pub fn subscribe(&self, id: &str, topics: &[String]) -> String {
        self.topics_frame(crate::protocol::types::SUBSCRIBE, id, topics)
    }

    /// `subscribe` with recovery positions: `data.since` is
    /// `{topic: {"seq": .., "epoch": ..}}` for the topics in `since`.
    pub fn subscribe_since(
        &self,
        id: &str,
        topics: &[String],
        since: &[(&str, u64, &str)],
    ) -> String {
        let mut out = self.topics_frame(crate::protocol::types::SUBSCRIBE, id, topics);
        if since.is_empty() {
            return out;
        }
        // Reopen `data` after the topics array: drop the closing `}}`.
        out.truncate(out.len() - 2);
        out.push_str(",\"since\":{");
        for (i, (topic, seq, epoch)) in since.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_str(&mut out, topic);
            out.push_str(":{\"seq\":");
            crate::text::push_u64(&mut out, *seq);
            out.push_str(",\"epoch\":");
            push_str(&mut out, epoch);
            out.push('}');
        }
        out.push_str("}}}");
        out
    }

    /// `{"type":"unsubscribe","id":..,"data":{"topics":[..]}}`
    pub fn unsubscribe(&self, id: &str, topics: &[String]) -> String {
        self.topics_frame(crate::protocol::types::UNSUBSCRIBE, id, topics)
    }

    fn topics_frame(&self, kind: &str, id: &str, topics: &[String]) -> String {
        let mut out = self.head(kind, id);
        out.push_str(",\"data\":{\"topics\":[");
        for (i, topic) in topics.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_str(&mut out, topic);
        }
        out.push_str("]}}");
        out
    }

    /// `{"type":"auth","id":..,"data":{"token":..}}`
    pub fn auth(&self, id: &str, token: &str) -> String {
        let mut out = self.head(crate::protocol::types::AUTH, id);
        out.push_str(",\"data\":{\"token\":");
        push_str(&mut out, token);
        out.push_str("}}");
        out
    }
}

/// Appends `s` as a JSON string literal.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends whole milliseconds (floored; 0 for what is not a finite time). Integer
/// formatting only: float formatting would cost the wasm build ~17 KB.
fn push_millis(out: &mut String, ms: f64) {
    let ms = if ms.is_finite() { ms.clamp(0.0, 9e15) } else { 0.0 };
    crate::text::push_u64(out, ms as u64); // `as` truncates: the floor of a non-negative
}

#[cfg(feature = "serde")]
pub use self::decode::*;

#[cfg(feature = "serde")]
mod decode {
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use core::fmt;

    use crate::protocol::{EventMessage, Message};

    /// Why a frame could not be decoded. The frame is skipped; nothing else is affected.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum DecodeError {
        /// Not JSON at all.
        NotJson(String),
        /// JSON, but not an object.
        NotObject,
        /// An object without a string event field.
        MissingEvent(&'static str),
        /// A field has the wrong type.
        BadField(String),
        /// Batches nested deeper than [`MAX_BATCH_DEPTH`].
        TooDeep,
    }

    impl fmt::Display for DecodeError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                DecodeError::NotJson(e) => write!(f, "not JSON: {e}"),
                DecodeError::NotObject => write!(f, "JSON that is not an object"),
                DecodeError::MissingEvent(key) => write!(f, "no string `{key}` field"),
                DecodeError::BadField(e) => write!(f, "wrong field type: {e}"),
                DecodeError::TooDeep => write!(f, "batches nested too deep"),
            }
        }
    }

    impl core::error::Error for DecodeError {}

    /// How deep batches may nest inside batches.
    pub const MAX_BATCH_DEPTH: usize = 4;

    fn object(text: &str, key: &'static str) -> Result<serde_json::Value, DecodeError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        let Some(obj) = value.as_object() else {
            return Err(DecodeError::NotObject);
        };
        if !obj.get(key).is_some_and(|v| v.is_string()) {
            return Err(DecodeError::MissingEvent(key));
        }
        Ok(value)
    }

    /// Decodes one typed-JSON text frame into its messages, unpacking `batch` in order.
    pub fn decode_typed(text: &str) -> Result<Vec<Message>, DecodeError> {
        let value = object(text, "type")?;
        let message: Message =
            serde_json::from_value(value).map_err(|e| DecodeError::BadField(e.to_string()))?;
        let mut out = Vec::new();
        unpack(message, 0, &mut out)?;
        Ok(out)
    }

    fn unpack(message: Message, depth: usize, out: &mut Vec<Message>) -> Result<(), DecodeError> {
        if message.kind != crate::protocol::types::BATCH {
            out.push(message);
            return Ok(());
        }
        if depth >= MAX_BATCH_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        for inner in message.messages.unwrap_or_default() {
            unpack(inner, depth + 1, out)?;
        }
        Ok(())
    }

    /// Decodes one legacy event-JSON text frame.
    pub fn decode_event(text: &str) -> Result<EventMessage, DecodeError> {
        let value = object(text, "event")?;
        serde_json::from_value(value).map_err(|e| DecodeError::BadField(e.to_string()))
    }
}
