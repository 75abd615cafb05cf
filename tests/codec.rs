//! Codecs on the golden frames in `tests/fixtures/` (the server's tests decode them too).
#![cfg(not(target_arch = "wasm32"))]

use wsocket::codec::{decode_event, decode_typed, DecodeError, Encoder};
use wsocket::protocol::{ErrorCode, Message, SubscribeData, SubscribedData};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).trim_end().to_owned()
}

fn one(name: &str) -> Message {
    let mut all = decode_typed(&fixture(name)).unwrap();
    assert_eq!(all.len(), 1, "{name}");
    all.remove(0)
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
    decode_typed(text).unwrap().remove(0)
}

#[test]
fn event_key_encoder_names_frames_with_event() {
    let e = Encoder::new("event");
    assert_eq!(e.ping("x", 5.0), r#"{"event":"ping","id":"x","timestamp":5}"#);
}

#[test]
fn decodes_every_server_frame() {
    assert_eq!(one("pong.json").kind, "pong");
    assert_eq!(one("auth_ok.json").id.as_deref(), Some("c-4"));
    assert_eq!(one("ack.json").kind, "ack");
    let sub = one("subscribed.json");
    let data: SubscribedData = serde_json::from_value(sub.data.unwrap()).unwrap();
    assert_eq!(data.recovered.get("task:progress"), Some(&true));
    let push = one("push.json");
    assert_eq!(push.topic.as_deref(), Some("task:progress"));
    assert_eq!((push.seq, push.epoch.as_deref()), (Some(7), Some("e1")));
    let err = one("error.json");
    assert_eq!(err.error.unwrap().code, ErrorCode::UnknownMessageType);
    assert_eq!(one("unsubscribed.json").kind, "unsubscribed");
    assert_eq!(one("publish.json").event.as_deref(), Some("chat_line"));
}

#[test]
fn batch_is_unpacked_in_order() {
    let all = decode_typed(&fixture("batch.json")).unwrap();
    let kinds: Vec<_> = all.iter().map(|m| (m.kind.as_str(), m.seq)).collect();
    assert_eq!(
        kinds,
        vec![("task_progress", Some(1)), ("task_progress", Some(2)), ("notice", None)]
    );
}

#[test]
fn nested_batches_are_bounded() {
    let mut frame = r#"{"type":"x"}"#.to_owned();
    for _ in 0..10 {
        frame = format!(r#"{{"type":"batch","messages":[{frame}]}}"#);
    }
    assert_eq!(decode_typed(&frame).unwrap_err(), DecodeError::TooDeep);
}

#[test]
fn legacy_event_json_decodes() {
    let m = decode_event(&fixture("event_market_data.json")).unwrap();
    assert_eq!((m.event.as_str(), m.message.as_deref()), ("market_data", Some("ok")));
    let r = decode_event(&fixture("event_reply.json")).unwrap();
    assert_eq!(r.id.as_deref(), Some("c-6"));
}

#[test]
fn bad_frames_are_errors_not_panics() {
    assert!(matches!(decode_typed(&fixture("malformed.txt")), Err(DecodeError::NotJson(_))));
    assert!(matches!(decode_typed(&fixture("legacy_heartbeat.txt")), Err(DecodeError::NotJson(_))));
    assert_eq!(decode_typed("[1,2]").unwrap_err(), DecodeError::NotObject);
    assert_eq!(decode_typed("null").unwrap_err(), DecodeError::NotObject);
    assert_eq!(decode_typed(r#"{"data":1}"#).unwrap_err(), DecodeError::MissingEvent("type"));
    assert_eq!(decode_typed(r#"{"type":7}"#).unwrap_err(), DecodeError::MissingEvent("type"));
    assert!(matches!(decode_typed(r#"{"type":"x","seq":"nope"}"#), Err(DecodeError::BadField(_))));
    assert_eq!(decode_event(r#"{"type":"x"}"#).unwrap_err(), DecodeError::MissingEvent("event"));
}

#[test]
fn every_error_code_has_its_wire_name() {
    for code in ErrorCode::ALL {
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{}\"", code.as_str()));
    }
}
