//! The wire protocol (DESIGN §3), defined once for the client and the companion server.
//!
//! Names of message types and error codes are plain constants, available in every build.
//! The serde types (behind the `serde` feature) are what the server decodes and encodes
//! and what native tests decode golden frames with; the browser build leaves them out and
//! lets `JSON.parse` do the decoding.

/// Message `type` names of the reference protocol.
pub mod types {
    /// Client → server: subscribe to `data.topics`.
    pub const SUBSCRIBE: &str = "subscribe";
    /// Server → client: answer to `subscribe`.
    pub const SUBSCRIBED: &str = "subscribed";
    /// Client → server: unsubscribe from `data.topics`.
    pub const UNSUBSCRIBE: &str = "unsubscribe";
    /// Server → client: answer to `unsubscribe`.
    pub const UNSUBSCRIBED: &str = "unsubscribed";
    /// Client → server heartbeat.
    pub const PING: &str = "ping";
    /// Server → client heartbeat answer.
    pub const PONG: &str = "pong";
    /// Client → server: authenticate with `data.token`.
    pub const AUTH: &str = "auth";
    /// Server → client: `auth` accepted.
    pub const AUTH_OK: &str = "auth_ok";
    /// Client → server: publish `data` to `topic`.
    pub const PUBLISH: &str = "publish";
    /// Server → client: generic acknowledgement of a message with an `id`.
    pub const ACK: &str = "ack";
    /// Server → client: several messages in one frame, in order.
    pub const BATCH: &str = "batch";
    /// Server → client: an error, with `id` when it answers a message.
    pub const ERROR: &str = "error";
    /// The default type of a topic push without an `event`.
    pub const MESSAGE: &str = "message";
}

/// The error codes a server sends in `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "SCREAMING_SNAKE_CASE"))]
pub enum ErrorCode {
    /// The `type` is not one the server handles.
    UnknownMessageType,
    /// The frame is not valid JSON, or a field has the wrong shape.
    BadRequest,
    /// Missing or invalid credentials.
    Unauthorized,
    /// Authenticated, but not allowed (a private topic).
    Forbidden,
    /// Too many messages per second.
    RateLimited,
    /// The frame is over the server's size limit.
    TooLarge,
    /// Something the server needs is unreachable (with many nodes, Redis): nothing was
    /// done; try again later.
    Unavailable,
}

impl ErrorCode {
    /// Every code, for tests that must cover each one.
    pub const ALL: [ErrorCode; 7] = [
        ErrorCode::UnknownMessageType,
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::TooLarge,
        ErrorCode::Unavailable,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnknownMessageType => "UNKNOWN_MESSAGE_TYPE",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::Unavailable => "UNAVAILABLE",
        }
    }
}

#[cfg(feature = "serde")]
pub use self::serde_types::*;

#[cfg(feature = "serde")]
mod serde_types {
    use super::ErrorCode;
    use alloc::collections::BTreeMap;
    use alloc::string::String;
    use alloc::vec::Vec;
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    /// One typed-JSON frame (DESIGN §3). Absent fields are omitted when encoding.
    #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
    pub struct Message {
        /// The event name.
        #[serde(rename = "type")]
        pub kind: String,
        /// Correlates a reply with its request.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        /// Milliseconds since the epoch (written as an integer when whole, as JS does).
        #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "millis")]
        pub timestamp: Option<f64>,
        /// The topic of a push or a `publish`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub topic: Option<String>,
        /// The payload.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub data: Option<Value>,
        /// Set on `error` frames.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error: Option<ErrorBody>,
        /// Per-topic sequence number of a push.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub seq: Option<u64>,
        /// The history epoch `seq` counts within.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub epoch: Option<String>,
        /// On `publish`: the `type` subscribers receive (default `message`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event: Option<String>,
        /// On `batch`: the messages, in order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub messages: Option<Vec<Message>>,
    }

    fn millis<S: serde::Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(ms) if ms.fract() == 0.0 && ms.abs() < 9e15 => s.serialize_i64(*ms as i64),
            Some(ms) => s.serialize_f64(*ms),
            None => s.serialize_none(),
        }
    }

    /// The `error` field.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ErrorBody {
        /// A stable code.
        pub code: ErrorCode,
        /// A human-readable sentence.
        pub message: String,
        /// Anything that helps.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub details: Option<Value>,
    }

    /// A recovery position: the last `seq` seen within `epoch`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Position {
        /// The last sequence number delivered.
        pub seq: u64,
        /// The epoch it belongs to.
        pub epoch: String,
    }

    /// `data` of `subscribe`.
    #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
    pub struct SubscribeData {
        /// Topics to subscribe.
        pub topics: Vec<String>,
        /// Where to resume each topic from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub since: Option<BTreeMap<String, Position>>,
    }

    /// `data` of `subscribed`.
    #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
    pub struct SubscribedData {
        /// Topics now subscribed.
        pub topics: Vec<String>,
        /// Per topic: whether the missed messages were replayed.
        #[serde(default)]
        pub recovered: BTreeMap<String, bool>,
        /// Per topic: the server's position now, after any replay. A client without a
        /// position for the topic starts from it, so a drop before its first push can
        /// still be recovered.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub positions: BTreeMap<String, Position>,
    }

    /// `data` of `unsubscribe` and `unsubscribed`.
    #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
    pub struct TopicsData {
        /// The topics.
        pub topics: Vec<String>,
    }

    /// `data` of `auth`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct AuthData {
        /// The bearer token.
        pub token: String,
    }

    /// One event-JSON frame of the legacy backends: `{event, message, data}`.
    #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
    pub struct EventMessage {
        /// The event name.
        pub event: String,
        /// A status line (`"ok"`), as legacy servers send.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<String>,
        /// The payload.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub data: Option<Value>,
        /// Correlates a reply with a request, when the client sent one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
    }
}
