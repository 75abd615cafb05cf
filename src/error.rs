//! The one error type of wsocket, with a stable code per variant.
//!
//! Each variant says whose fault it is. The browser driver converts an [`Error`]
//! into a JS `Error` exactly once, with [`Error::code`] as its `code` property.

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;

/// Everything that can go wrong, for the caller or on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Caller mistake: an option has the wrong type or an out-of-range value.
    InvalidOption {
        /// The option's name as the caller wrote it (`"maxDelayMs"`).
        field: String,
        /// What was expected.
        reason: String,
    },
    /// Caller mistake: the URL is not a `ws://` or `wss://` URL.
    InvalidUrl(String),
    /// Caller mistake: `close(code)` with a code browsers refuse (not 1000 or 3000–4999).
    InvalidCloseCode(u16),
    /// Caller mistake: `close(code, reason)` with a reason over 123 UTF-8 bytes.
    InvalidCloseReason(usize),
    /// Runtime condition: the send queue is full and its overflow policy rejects.
    QueueFull(usize),
    /// Runtime condition: a queued message was dropped by the `drop-oldest` or
    /// `drop-newest` overflow policy.
    QueueOverflow,
    /// Runtime condition: a request got no reply in time.
    RequestTimeout(u64),
    /// Runtime condition: the client closed before a request was answered.
    RequestAborted(u64),
    /// Runtime condition: the socket did not open within `connectTimeoutMs`.
    ConnectTimeout,
    /// Runtime condition: no pong (or any frame) within `heartbeatTimeoutMs`.
    HeartbeatTimeout,
    /// Runtime condition: `maxAttempts` reconnects failed; the client stopped.
    ReconnectFailed(u32),
    /// The server closed with a code that forbids reconnecting (1000, 1009, ...).
    ClosedByServer(u16),
    /// The server refused the credentials (close 4001 or 1008, or an `UNAUTHORIZED`
    /// error), and no fresh token could fix it.
    Unauthorized(u16),
    /// Server's fault: a frame that is not what the protocol allows. It was skipped.
    MalformedFrame(String),
}

impl Error {
    /// The stable, upper-case code JS callers switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidOption { .. } => "INVALID_OPTION",
            Error::InvalidUrl(_) => "INVALID_URL",
            Error::InvalidCloseCode(_) => "INVALID_CLOSE_CODE",
            Error::InvalidCloseReason(_) => "INVALID_CLOSE_REASON",
            Error::QueueFull(_) => "QUEUE_FULL",
            Error::QueueOverflow => "QUEUE_OVERFLOW",
            Error::RequestTimeout(_) => "REQUEST_TIMEOUT",
            Error::RequestAborted(_) => "REQUEST_ABORTED",
            Error::ConnectTimeout => "CONNECT_TIMEOUT",
            Error::HeartbeatTimeout => "HEARTBEAT_TIMEOUT",
            Error::ReconnectFailed(_) => "RECONNECT_FAILED",
            Error::ClosedByServer(_) => "CLOSED_BY_SERVER",
            Error::Unauthorized(_) => "AUTH_FAILED",
            Error::MalformedFrame(_) => "MALFORMED_FRAME",
        }
    }

    pub(crate) fn option(field: &str, reason: impl Into<String>) -> Error {
        Error::InvalidOption { field: field.to_owned(), reason: reason.into() }
    }
}

impl Error {
    /// The human-readable message, built without `core::fmt` (which the wasm build must
    /// not link); `Display` prints the same text.
    pub fn message(&self) -> String {
        use crate::text::{concat, with_number};
        match self {
            Error::InvalidOption { field, reason } => {
                concat(&["invalid option `", field, "`: ", reason])
            }
            Error::InvalidUrl(url) => concat(&[
                "invalid URL \"",
                url,
                "\": expected ws://, wss://, http://, https:// or a path starting with /",
            ]),
            Error::InvalidCloseCode(code) => {
                with_number("invalid close code ", (*code).into(), ": use 1000 or 3000-4999")
            }
            Error::InvalidCloseReason(len) => {
                with_number("close reason is ", *len as u64, " UTF-8 bytes; the limit is 123")
            }
            Error::QueueFull(max) => with_number("send queue is full (", *max as u64, " messages)"),
            Error::QueueOverflow => "send queue overflowed; a message was dropped".into(),
            Error::RequestTimeout(id) => with_number("request ", *id, " timed out"),
            Error::RequestAborted(id) => {
                with_number("request ", *id, " aborted: the client closed")
            }
            Error::ConnectTimeout => "connect timed out".into(),
            Error::HeartbeatTimeout => "heartbeat timed out: no frame since the ping".into(),
            Error::ReconnectFailed(n) => {
                with_number("gave up after ", (*n).into(), " reconnect attempts")
            }
            Error::ClosedByServer(code) => {
                with_number("server closed with code ", (*code).into(), "; not reconnecting")
            }
            Error::MalformedFrame(why) => concat(&["malformed frame skipped: ", why]),
            Error::Unauthorized(code) => with_number(
                "the server refused the credentials (close ",
                (*code).into(),
                "); not reconnecting",
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}
