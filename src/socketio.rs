//! Socket.IO over the WebSocket transport, the core's part: which namespaces are valid
//! (an option the core checks). Where a Socket.IO server answers (`/socket.io/` and the
//! Engine.IO query) and the framing both ways (Engine.IO v4 packets carrying Socket.IO v5
//! packets) are the driver's, where the sockets open and the frames arrive and leave
//! (`src/web/sio.js`, loaded only in Socket.IO mode, and `sioEncode` in `src/web/hub.js`):
//!
//! ```text
//! Engine.IO:  <type>[data]              0 open {sid, pingInterval, pingTimeout, maxPayload}
//!                                       1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop
//! Socket.IO:  4<type>[<n>-][<nsp>,][<ack id>][<JSON>]
//!             0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR,
//!             5 BINARY_EVENT, 6 BINARY_ACK
//! ```

/// A namespace is `/` or `/` followed by characters that cannot end the header.
pub fn valid_namespace(nsp: &str) -> bool {
    // Bytes, not `char` patterns: the forbidden characters are ASCII, and a control
    // character outside ASCII (U+0080..U+009F) is 0xC2 0x80..0x9F in UTF-8.
    let b = nsp.as_bytes();
    b.first() == Some(&b'/')
        && !b.iter().any(|c| matches!(c, b',' | b'[' | b'{' | b'"' | 0..=0x1f | 0x7f))
        && !b.windows(2).any(|w| matches!(w, [0xc2, 0x80..=0x9f]))
}
