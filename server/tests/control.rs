//! The test-control API and the golden fixtures, against a real server on port 0.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as Frame;
use wsocket::protocol::{EventMessage, Message};
use wsocket_server::Config;

mod common;
use common::{post, Socket};

async fn start() -> String {
    common::start_open(Config::default()).await
}

async fn connect(addr: &str, path: &str) -> Socket {
    tokio_tungstenite::connect_async(format!("ws://{addr}{path}")).await.unwrap().0
}

async fn next(s: &mut Socket) -> Option<Frame> {
    tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("a frame in 5 s")
        .and_then(Result::ok)
}

async fn text(s: &mut Socket) -> String {
    loop {
        match next(s).await {
            Some(Frame::Text(t)) => return t.to_string(),
            Some(Frame::Close(c)) => panic!("closed: {c:?}"),
            None => panic!("dropped"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn drop_ends_the_connection_without_a_close_frame() {
    let addr = start().await;
    let mut s = connect(&addr, "/ws?cid=a").await;
    let mut other = connect(&addr, "/ws?cid=b").await;
    assert_eq!(post(&addr, "/control/drop?cid=a", "").await["connections"], 1);
    assert!(!matches!(next(&mut s).await, Some(Frame::Close(_))), "no close frame");
    other.send(Frame::text(r#"{"type":"ping","id":"x"}"#)).await.unwrap();
    assert!(text(&mut other).await.contains("pong"), "other cids are untouched");
}

#[tokio::test]
async fn close_sends_the_given_code() {
    let addr = start().await;
    let mut s = connect(&addr, "/ws?cid=c").await;
    post(&addr, "/control/close?cid=c&code=1012&reason=restart", "").await;
    match next(&mut s).await {
        Some(Frame::Close(Some(c))) => {
            assert_eq!((u16::from(c.code), c.reason.as_str()), (1012, "restart"))
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn stall_stops_answering_pings_until_resumed() {
    let addr = start().await;
    let mut s = connect(&addr, "/ws?cid=s").await;
    post(&addr, "/control/stall?cid=s", "").await;
    s.send(Frame::text(r#"{"type":"ping","id":"1"}"#)).await.unwrap();
    let silent = tokio::time::timeout(Duration::from_millis(300), s.next()).await;
    assert!(silent.is_err(), "a stalled connection answers nothing");
    post(&addr, "/control/stall?cid=s&on=0", "").await;
    s.send(Frame::text(r#"{"type":"ping","id":"2"}"#)).await.unwrap();
    assert!(text(&mut s).await.contains(r#""id":"2""#));
}

#[tokio::test]
async fn malformed_and_raw_frames_are_sent_as_is() {
    let addr = start().await;
    let mut s = connect(&addr, "/ws?cid=m").await;
    post(&addr, "/control/malformed?cid=m", "").await;
    assert!(serde_json::from_str::<Value>(&text(&mut s).await).is_err());
    post(&addr, "/control/send?cid=m", "hello").await;
    assert_eq!(text(&mut s).await, "hello");
}

#[tokio::test]
async fn publish_endpoint_reaches_subscribers_and_epoch_restart_resets_seq() {
    let addr = start().await;
    let mut s = connect(&addr, "/ws").await;
    s.send(Frame::text(r#"{"type":"subscribe","id":"s","data":{"topics":["t"]}}"#)).await.unwrap();
    text(&mut s).await;
    let r = post(&addr, "/publish", r#"{"topic":"t","event":"news","data":{"n":1}}"#).await;
    assert_eq!((r["seq"].as_u64(), r["delivered"].as_u64()), (Some(1), Some(1)));
    let m: Message = serde_json::from_str(&text(&mut s).await).unwrap();
    assert_eq!((m.kind.as_str(), m.seq), ("news", Some(1)));
    let old = m.epoch.unwrap();
    let e = post(&addr, "/control/epoch", "").await;
    assert_ne!(e["epoch"].as_str(), Some(old.as_str()));
    let r = post(&addr, "/publish", r#"{"topic":"t","data":2}"#).await;
    assert_eq!(r["seq"].as_u64(), Some(1));
    assert!(
        post(&addr, "/publish", "{bad").await["error"].is_string(),
        "bad JSON is a 400 with a reason"
    );
    // With an `id`, a publisher's retry takes effect once.
    let body = r#"{"topic":"t","id":"job-9","data":3}"#;
    assert_eq!(post(&addr, "/publish", body).await["seq"].as_u64(), Some(2));
    assert_eq!(post(&addr, "/publish", body).await, serde_json::json!({ "duplicate": true }));
    let next = post(&addr, "/publish", r#"{"topic":"t","id":"job-10","data":4}"#).await;
    assert_eq!(next["seq"].as_u64(), Some(3));
}

#[tokio::test]
async fn legacy_endpoint_speaks_event_json_with_a_market_feed() {
    let addr = start().await;
    let mut s = connect(&addr, "/legacy").await;
    s.send(Frame::text("PONG")).await.unwrap();
    let hb: EventMessage = serde_json::from_str(&text(&mut s).await).unwrap();
    assert_eq!(hb.event, "pong");
    s.send(Frame::text(r#"{"event":"get_unread_message","id":"g"}"#)).await.unwrap();
    let r: EventMessage = serde_json::from_str(&text(&mut s).await).unwrap();
    assert_eq!(
        (r.event.as_str(), r.id.as_deref(), r.data),
        ("get_unread_message", Some("g"), Some(json!({"count": 3})))
    );
    s.send(Frame::text(r#"{"event":"market_subscribe","data":{"symbols":["BTC-USD"]}}"#))
        .await
        .unwrap();
    let ack: EventMessage = serde_json::from_str(&text(&mut s).await).unwrap();
    assert_eq!(ack.event, "market_subscribe");
    let tick: EventMessage = serde_json::from_str(&text(&mut s).await).unwrap();
    assert_eq!((tick.event.as_str(), tick.message.as_deref()), ("market_data", Some("ok")));
    assert_eq!(tick.data.unwrap()["symbol"], "BTC-USD");
    s.send(Frame::text("not json")).await.unwrap();
    loop {
        let m: EventMessage = serde_json::from_str(&text(&mut s).await).unwrap();
        if m.event == "error" {
            assert_eq!(m.data.unwrap()["code"], "BAD_REQUEST");
            break;
        }
    }
}

#[tokio::test]
async fn server_decodes_every_golden_fixture() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");
    let mut typed = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if name.starts_with("event_") {
            let m: EventMessage =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!m.event.is_empty());
        } else {
            let m: Message = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            // Re-encoding gives the same JSON: the server writes what the fixtures say.
            let again: Value = serde_json::from_str(&wsocket_server::encode(&m)).unwrap();
            assert_eq!(again, serde_json::from_str::<Value>(&text).unwrap(), "{name}");
            typed += 1;
        }
    }
    assert!(typed >= 13, "only {typed} typed fixtures");
}
