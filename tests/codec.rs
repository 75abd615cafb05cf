//! The encoder on the golden frames in `tests/fixtures/`, byte for byte (the server's
//! tests decode them with the serde types; the client's decoder, the hub, decodes them in
//! the JS unit tier).
#![cfg(not(target_arch = "wasm32"))]

use wsocket::codec::Encoder;
use wsocket::protocol::{Message, SubscribeData};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).trim_end().to_owned()
}

#[test]
fn encoder_writes_the_client_frames_byte_for_byte() {
    let e = Encoder::new("type");
    let topics = vec!["task:progress".to_owned(), "user:42".to_owned()];
    assert_eq!(e.subscribe("c-1", &topics), fixture("subscribe.json"));
    assert_eq!(e.unsubscribe("c-2", &["user:42".to_owned()]), fixture("unsubscribe.json"));
    assert_eq!(e.ping("c-3", 1_700_000_000_000.0), fixture("ping.json"));
    assert_eq!(e.auth("c-4", "secret-token"), fixture("auth.json"));
    let since = [("task:progress", 41, "e1")];
    assert_eq!(e.subscribe_since("c-7", &topics, &since), fixture("subscribe_since.json"));
    assert_eq!(e.subscribe_since("c-1", &topics, &[]), fixture("subscribe.json"));
}

#[test]
fn encoder_output_round_trips_through_the_serde_types() {
    let e = Encoder::new("type");
    let frame = e.subscribe("id\"1", &["we\"ird\\topic\n\u{1}é".to_owned()]);
    let msg = one_text(&frame);
    let data: SubscribeData = serde_json::from_value(msg.data.unwrap()).unwrap();
    assert_eq!(msg.id.as_deref(), Some("id\"1"));
    assert_eq!(data.topics, vec!["we\"ird\\topic\n\u{1}é"]);
}

fn one_text(text: &str) -> Message {
    serde_json::from_str(text).unwrap()
}

#[test]
fn event_key_encoder_names_frames_with_event() {
    let e = Encoder::new("event");
    assert_eq!(e.ping("x", 5.0), r#"{"event":"ping","id":"x","timestamp":5}"#);
}
