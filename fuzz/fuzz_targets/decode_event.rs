//! Any bytes through the legacy event-JSON decoder: an error or a message, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = wsocket::codec::decode_event(text);
    }
});
