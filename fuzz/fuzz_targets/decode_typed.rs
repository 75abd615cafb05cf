//! Any bytes through the typed-JSON decoder: an error or messages, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(messages) = wsocket::codec::decode_typed(text) {
            // Batches are unpacked: no `batch` is left.
            assert!(messages.iter().all(|m| m.kind != "batch"));
        }
    }
});
