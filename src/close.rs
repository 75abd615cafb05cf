//! Close codes: the named constants, the client-side validation of `close(code, reason)`,
//! and the reconnect policy per code (DESIGN §3).

use crate::Error;

/// 1000: normal closure. Never reconnects.
pub const NORMAL: u16 = 1000;
/// 1001: the server is going away (restart, deploy). Reconnects.
pub const GOING_AWAY: u16 = 1001;
/// 1005: no status code was present. Treated like an abnormal close.
pub const NO_STATUS: u16 = 1005;
/// A protocol error: a bad opcode, a fragmented control frame (sent by the server).
pub const PROTOCOL_ERROR: u16 = 1002;
/// Data not consistent with the message type: text that is not UTF-8 (sent by the server).
pub const INVALID_DATA: u16 = 1007;
/// 1006: the connection dropped without a close frame. Reconnects.
pub const ABNORMAL: u16 = 1006;
/// 1008: policy violation. Does not reconnect.
pub const POLICY: u16 = 1008;
/// 1009: a frame was too big for the peer. Does not reconnect: resending would fail again.
pub const TOO_BIG: u16 = 1009;
/// 1011: internal server error. Reconnects.
pub const INTERNAL_ERROR: u16 = 1011;
/// 1012: service restart. Reconnects.
pub const SERVICE_RESTART: u16 = 1012;
/// 1013: try again later. Reconnects.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// 4000: the client's heartbeat watchdog found the connection dead. Reconnects.
pub const HEARTBEAT_TIMEOUT: u16 = 4000;
/// 4001: the server refused the credentials. Does not reconnect.
pub const UNAUTHORIZED: u16 = 4001;
/// 4002: the client's connect timeout fired before the socket opened. Reconnects.
pub const CONNECT_TIMEOUT: u16 = 4002;
/// 4008: the client was rate limited. Reconnects after a longer delay.
pub const RATE_LIMITED: u16 = 4008;

/// What the client does after a close with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosePolicy {
    /// Reconnect with the normal backoff.
    Reconnect,
    /// Reconnect, but wait at least [`RATE_LIMIT_DELAY_MS`] first.
    ReconnectSlowly,
    /// Stay closed; the close is final.
    Stop,
}

/// The floor on the reconnect delay after a 4008 close.
pub const RATE_LIMIT_DELAY_MS: f64 = 5_000.0;

/// The reconnect policy for a close code received from the server or the browser.
///
/// Unknown codes reconnect: a client that stays down on a code it does not know is the
/// worse failure for a live dashboard.
pub fn policy(code: u16) -> ClosePolicy {
    match code {
        NORMAL | POLICY | TOO_BIG | UNAUTHORIZED => ClosePolicy::Stop,
        RATE_LIMITED => ClosePolicy::ReconnectSlowly,
        _ => ClosePolicy::Reconnect,
    }
}

/// Checks `close(code, reason)` the way the browser would, before touching the socket:
/// the code must be 1000 or 3000–4999 and the reason at most 123 UTF-8 bytes.
pub fn validate(code: u16, reason: &str) -> Result<(), Error> {
    if code != NORMAL && !(3000..=4999).contains(&code) {
        return Err(Error::InvalidCloseCode(code));
    }
    if reason.len() > 123 {
        return Err(Error::InvalidCloseReason(reason.len()));
    }
    Ok(())
}
