//! Any bytes through the Socket.IO packet parser: a header with in-bounds offsets or a
//! reason, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(frame) = wsocket::socketio::parse(text) {
            assert!(text.is_char_boundary(frame.payload_start));
        }
    }
});
