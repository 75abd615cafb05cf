//! The encoder of the frames the core itself sends (ping, subscribe, unsubscribe, auth),
//! hand-written so the browser build carries no JSON library.
//!
//! Decoding is the driver's, where frames arrive (`src/web/hub.js`: `JSON.parse`, batch
//! unpacking, the event key): in the browser `JSON.parse` is faster than anything shipped
//! in wasm (ARCHITECTURE.md, "Inbound path"). The JS unit tier decodes the golden frames
//! of `tests/fixtures/` through it, as the server's tests decode them with the serde
//! types of [`crate::protocol`].

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
