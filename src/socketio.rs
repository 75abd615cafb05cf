//! The Socket.IO wire format over the WebSocket transport: Engine.IO v4 packets carrying
//! Socket.IO v5 packets. Pure and allocation-free on the parse side; the driver calls
//! [`parse`] on every inbound frame of a `protocol: "socketio"` client, and `JSON.parse`
//! in the browser decodes the payload it points at.
//!
//! ```text
//! Engine.IO:  <type>[data]              0 open {sid, pingInterval, pingTimeout, maxPayload}
//!                                       1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop
//! Socket.IO:  4<type>[<n>-][<nsp>,][<ack id>][<JSON>]
//!             0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR,
//!             5 BINARY_EVENT, 6 BINARY_ACK
//! ```

use alloc::string::String;
use core::fmt;

/// The path a Socket.IO server answers on, and the query of the WebSocket transport.
pub const DEFAULT_PATH: &str = "/socket.io/";
/// Query parameters of a WebSocket-only Engine.IO v4 connection.
pub const TRANSPORT_QUERY: &str = "EIO=4&transport=websocket";
/// Engine.IO's default `maxPayload` (bytes), used until the open packet says otherwise.
pub const DEFAULT_MAX_PAYLOAD: u64 = 1_000_000;

/// An Engine.IO packet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EioKind {
    /// `0`: the handshake, with a JSON payload.
    Open = 0,
    /// `1`: the server closes the session.
    Close = 1,
    /// `2`: a ping (from the server in v4).
    Ping = 2,
    /// `3`: a pong.
    Pong = 3,
    /// `4`: a Socket.IO packet.
    Message = 4,
    /// `5`: transport upgrade (not used over WebSocket only).
    Upgrade = 5,
    /// `6`: no-op.
    Noop = 6,
}

/// A Socket.IO packet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SioKind {
    /// `0`: connect to a namespace (client: with the auth payload; server: with `{sid}`).
    Connect = 0,
    /// `1`: leave a namespace (from the server: do not reconnect).
    Disconnect = 1,
    /// `2`: an event, `["name", ...args]`.
    Event = 2,
    /// `3`: an acknowledgement, `[...args]`.
    Ack = 3,
    /// `4`: the namespace refused the connection, `{message, data?}`.
    ConnectError = 4,
    /// `5`: an event with binary attachments.
    BinaryEvent = 5,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck = 6,
}

/// One parsed frame. Offsets are in bytes of the frame (ASCII before the payload, so
/// they are also UTF-16 offsets for the JS side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The Engine.IO packet type.
    pub eio: EioKind,
    /// For `Message`: the Socket.IO packet.
    pub sio: Option<Packet<'a>>,
    /// Where the payload starts (JSON for `Open` and Socket.IO packets).
    pub payload_start: usize,
}

/// A Socket.IO packet's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The packet type.
    pub kind: SioKind,
    /// Binary attachments announced (`5`/`6` only).
    pub attachments: u32,
    /// The namespace (`"/"` when absent).
    pub nsp: &'a str,
    /// The acknowledgement id, when present.
    pub ack: Option<u64>,
}

/// Why a frame is not a valid packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// An empty frame.
    Empty,
    /// An Engine.IO type that is not 0–6.
    EngineType,
    /// A message with no Socket.IO type, or one that is not 0–6.
    SocketType,
    /// An attachment count without its `-`, or one on a packet that has none.
    Attachments,
    /// A namespace without its `,`.
    Namespace,
    /// An ack id that does not fit in 53 bits.
    AckId,
    /// A payload that cannot be JSON of the packet's type.
    Payload,
}

impl Malformed {
    /// What is wrong, in words (no formatting machinery: the wasm build uses this).
    pub fn reason(&self) -> &'static str {
        match self {
            Malformed::Empty => "an empty frame",
            Malformed::EngineType => "an unknown Engine.IO packet type",
            Malformed::SocketType => "an unknown Socket.IO packet type",
            Malformed::Attachments => "a bad attachment count",
            Malformed::Namespace => "a namespace without a comma",
            Malformed::AckId => "an ack id too large",
            Malformed::Payload => "a payload of the wrong shape",
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// The decimal number in `digits` (ASCII digits only), if it fits in `max`.
fn number(digits: &[u8], max: u64) -> Option<u64> {
    let mut n: u64 = 0;
    for d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    (n <= max).then_some(n)
}

/// The largest ack id: what a JS number holds exactly.
pub const MAX_ACK_ID: u64 = (1 << 53) - 1;

/// Parses the header of one text frame. The payload itself is left to `JSON.parse`;
/// only its first byte is checked against the packet type.
pub fn parse(frame: &str) -> Result<Frame<'_>, Malformed> {
    let bytes = frame.as_bytes();
    let eio = match bytes.first().ok_or(Malformed::Empty)? {
        b'0' => EioKind::Open,
        b'1' => EioKind::Close,
        b'2' => EioKind::Ping,
        b'3' => EioKind::Pong,
        b'4' => EioKind::Message,
        b'5' => EioKind::Upgrade,
        b'6' => EioKind::Noop,
        _ => return Err(Malformed::EngineType),
    };
    if eio == EioKind::Open && bytes.get(1) != Some(&b'{') {
        return Err(Malformed::Payload);
    }
    if eio != EioKind::Message {
        return Ok(Frame { eio, sio: None, payload_start: 1 });
    }
    let kind = match bytes.get(1).ok_or(Malformed::SocketType)? {
        b'0' => SioKind::Connect,
        b'1' => SioKind::Disconnect,
        b'2' => SioKind::Event,
        b'3' => SioKind::Ack,
        b'4' => SioKind::ConnectError,
        b'5' => SioKind::BinaryEvent,
        b'6' => SioKind::BinaryAck,
        _ => return Err(Malformed::SocketType),
    };
    let mut i = 2;
    let mut attachments = 0;
    if matches!(kind, SioKind::BinaryEvent | SioKind::BinaryAck) {
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start || i - start > 9 || bytes.get(i) != Some(&b'-') {
            return Err(Malformed::Attachments);
        }
        attachments = number(bytes.get(start..i).unwrap_or_default(), u64::from(u32::MAX))
            .ok_or(Malformed::Attachments)? as u32;
        i += 1;
    }
    let mut nsp = "/";
    if bytes.get(i) == Some(&b'/') {
        // `get` and byte searches, not indexing or `split_once`: `i` is at an ASCII
        // byte, and no slice may panic here (a panic path formats the index, which
        // links `core::fmt` into the wasm build).
        let rest = frame.get(i..).unwrap_or_default();
        // A namespace runs to the comma; without one the whole rest is the namespace
        // only when nothing follows (`41/events`).
        match rest.bytes().position(|b| b == b',') {
            Some(comma) => {
                nsp = rest.get(..comma).unwrap_or_default();
                i += comma + 1;
            }
            None if !rest.bytes().any(|b| matches!(b, b'[' | b'{' | b'"')) => {
                nsp = rest;
                i = frame.len();
            }
            None => return Err(Malformed::Namespace),
        }
    }
    let mut ack = None;
    let start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i > start {
        ack = Some(
            number(bytes.get(start..i).unwrap_or_default(), MAX_ACK_ID).ok_or(Malformed::AckId)?,
        );
    }
    let payload = bytes.get(i).copied();
    let shape_ok = match kind {
        SioKind::Event | SioKind::BinaryEvent | SioKind::Ack | SioKind::BinaryAck => {
            payload == Some(b'[')
        }
        SioKind::ConnectError => payload == Some(b'{') || payload == Some(b'"'),
        SioKind::Connect => payload.is_none() || payload == Some(b'{'),
        SioKind::Disconnect => payload.is_none(),
    };
    if !shape_ok || (matches!(kind, SioKind::Ack | SioKind::BinaryAck) && ack.is_none()) {
        return Err(Malformed::Payload);
    }
    Ok(Frame { eio, sio: Some(Packet { kind, attachments, nsp, ack }), payload_start: i })
}

/// The packet `type` (two digits: Engine.IO message, Socket.IO kind), then `<nsp>,` for
/// a namespace other than `/`, then the ack id if any.
fn head(kind: &str, nsp: &str, ack: Option<u64>) -> String {
    let mut out = String::from(kind);
    if nsp != "/" {
        out.push_str(nsp);
        out.push(',');
    }
    if let Some(ack) = ack {
        crate::text::push_u64(&mut out, ack);
    }
    out
}

/// The CONNECT packet for `nsp`, with the auth payload (a JSON object) if any.
pub fn connect(nsp: &str, auth_json: Option<&str>) -> String {
    let mut out = head("40", nsp, None);
    out.push_str(auth_json.unwrap_or(""));
    out
}

/// An EVENT packet: `args_json` is the JSON array `["name", ...args]`.
pub fn event(nsp: &str, ack: Option<u64>, args_json: &str) -> String {
    let mut out = head("42", nsp, ack);
    out.push_str(args_json);
    out
}

/// An ACK packet answering the server's ack id `id`.
pub fn ack(nsp: &str, id: u64, args_json: &str) -> String {
    let mut out = head("43", nsp, Some(id));
    out.push_str(args_json);
    out
}

/// `{"token": <token>}`, the auth payload socket.io clients send for a token.
pub fn auth_json(token: &str) -> String {
    let mut out = String::from("{\"token\":");
    crate::codec::push_str(&mut out, token);
    out.push('}');
    out
}

/// A namespace is `/` or `/` followed by characters that cannot end the header.
pub fn valid_namespace(nsp: &str) -> bool {
    // Bytes, not `char` patterns: the forbidden characters are ASCII, and a control
    // character outside ASCII (U+0080..U+009F) is 0xC2 0x80..0x9F in UTF-8.
    let b = nsp.as_bytes();
    b.first() == Some(&b'/')
        && !b.iter().any(|c| matches!(c, b',' | b'[' | b'{' | b'"' | 0..=0x1f | 0x7f))
        && !b.windows(2).any(|w| matches!(w, [0xc2, 0x80..=0x9f]))
}
