//! The `/ws` reference protocol against a real server on port 0: every message type
//! and every error code.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as Frame;
use wsocket::protocol::{ErrorCode, Message};
use wsocket_server::Config;

mod common;
use common::{start, Socket};

async fn connect(addr: &str, query: &str) -> Socket {
    let (socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws{query}")).await.unwrap();
    socket
}

async fn send(s: &mut Socket, v: Value) {
    common::send_json(s, v).await;
}

/// The next text frame, decoded with the shared protocol types.
async fn recv(s: &mut Socket) -> Message {
    common::recv_message(s).await
}

async fn recv_close(s: &mut Socket) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.next()).await.expect("close in 5 s") {
            Some(Ok(Frame::Close(Some(c)))) => return c.code.into(),
            Some(Ok(Frame::Close(None))) | None | Some(Err(_)) => return 1006,
            Some(Ok(_)) => {}
        }
    }
}

fn error_code(m: &Message) -> ErrorCode {
    assert_eq!(m.kind, "error", "{m:?}");
    m.error.as_ref().expect("error body").code
}

#[tokio::test]
async fn the_reference_subprotocol_is_picked_when_offered() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let addr = start(Config::default()).await;
    let offer = |protocols: Option<&str>| {
        let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
        if let Some(p) = protocols {
            request.headers_mut().insert("Sec-WebSocket-Protocol", p.parse().unwrap());
        }
        request
    };
    let (_, response) = tokio_tungstenite::connect_async(offer(Some("x-unknown, wsocket.v1")))
        .await
        .expect("the handshake");
    assert_eq!(response.headers()["Sec-WebSocket-Protocol"], "wsocket.v1");
    let (_, response) = tokio_tungstenite::connect_async(offer(None)).await.expect("the handshake");
    assert!(
        response.headers().get("Sec-WebSocket-Protocol").is_none(),
        "none offered, none picked"
    );
}

#[tokio::test]
async fn ping_gets_pong_with_the_same_id_and_timestamp() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "ping", "id": "p1", "timestamp": 42})).await;
    let m = recv(&mut s).await;
    assert_eq!((m.kind.as_str(), m.id.as_deref(), m.timestamp), ("pong", Some("p1"), Some(42.0)));
}

#[tokio::test]
async fn subscribe_ack_then_pushes_with_seq_and_epoch() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "subscribe", "id": "s1", "data": {"topics": ["t"]}})).await;
    let m = recv(&mut s).await;
    assert_eq!((m.kind.as_str(), m.id.as_deref()), ("subscribed", Some("s1")));
    assert_eq!(m.data.unwrap()["topics"], json!(["t"]));
    send(&mut s, json!({"type": "publish", "id": "p1", "topic": "t", "event": "chat", "data": 1}))
        .await;
    let mut got = [recv(&mut s).await, recv(&mut s).await];
    got.sort_by_key(|m| m.kind.clone());
    assert_eq!((got[0].kind.as_str(), got[0].id.as_deref()), ("ack", Some("p1")));
    assert_eq!(
        (got[1].kind.as_str(), got[1].topic.as_deref(), got[1].seq),
        ("chat", Some("t"), Some(1))
    );
    assert!(got[1].epoch.is_some());
}

#[tokio::test]
async fn publish_without_event_is_a_message_push() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "subscribe", "id": "s", "data": {"topics": ["t"]}})).await;
    recv(&mut s).await;
    send(&mut s, json!({"type": "publish", "topic": "t", "data": {"x": 1}})).await;
    let m = recv(&mut s).await;
    assert_eq!((m.kind.as_str(), m.data), ("message", Some(json!({"x": 1}))));
}

#[tokio::test]
async fn unsubscribe_stops_pushes() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "subscribe", "id": "s", "data": {"topics": ["t"]}})).await;
    recv(&mut s).await;
    send(&mut s, json!({"type": "unsubscribe", "id": "u", "data": {"topics": ["t"]}})).await;
    let m = recv(&mut s).await;
    assert_eq!((m.kind.as_str(), m.id.as_deref()), ("unsubscribed", Some("u")));
    send(&mut s, json!({"type": "publish", "topic": "t", "data": 1})).await;
    send(&mut s, json!({"type": "ping", "id": "after"})).await;
    assert_eq!(recv(&mut s).await.kind, "pong", "no push arrives before the pong");
}

#[tokio::test]
async fn resubscribe_with_since_replays_missed_messages_in_order() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "subscribe", "id": "s", "data": {"topics": ["t"]}})).await;
    recv(&mut s).await;
    send(&mut s, json!({"type": "publish", "topic": "t", "data": 1})).await;
    let first = recv(&mut s).await;
    drop(s);
    let mut other = connect(&addr, "").await;
    for i in 2..=4 {
        send(
            &mut other,
            json!({"type": "publish", "id": format!("p{i}"), "topic": "t", "data": i}),
        )
        .await;
        recv(&mut other).await;
    }
    let mut s = connect(&addr, "").await;
    let since = json!({"t": {"seq": first.seq, "epoch": first.epoch}});
    send(
        &mut s,
        json!({"type": "subscribe", "id": "s2", "data": {"topics": ["t"], "since": since}}),
    )
    .await;
    let m = recv(&mut s).await;
    assert_eq!(m.data.unwrap()["recovered"], json!({"t": true}));
    let seqs: Vec<_> = [recv(&mut s).await, recv(&mut s).await, recv(&mut s).await]
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![Some(2), Some(3), Some(4)]);
}

#[tokio::test]
async fn since_from_another_epoch_is_not_recovered() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    let since = json!({"t": {"seq": 3, "epoch": "old"}});
    send(
        &mut s,
        json!({"type": "subscribe", "id": "s", "data": {"topics": ["t"], "since": since}}),
    )
    .await;
    assert_eq!(recv(&mut s).await.data.unwrap()["recovered"], json!({"t": false}));
}

#[tokio::test]
async fn auth_message_gets_auth_ok_and_opens_private_topics() {
    let addr = start(Config { auth_token: Some("good".into()), ..Config::default() }).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "auth", "id": "a", "data": {"token": "good"}})).await;
    let m = recv(&mut s).await;
    assert_eq!((m.kind.as_str(), m.id.as_deref()), ("auth_ok", Some("a")));
    send(&mut s, json!({"type": "subscribe", "id": "s", "data": {"topics": ["private:me"]}})).await;
    assert_eq!(recv(&mut s).await.kind, "subscribed");
}

#[tokio::test]
async fn query_token_authenticates() {
    let addr = start(Config { auth_token: Some("good".into()), ..Config::default() }).await;
    let mut s = connect(&addr, "?token=good").await;
    send(&mut s, json!({"type": "echo", "id": "e", "data": "hi"})).await;
    let m = recv(&mut s).await;
    assert_eq!((m.kind.as_str(), m.data), ("echo", Some(json!("hi"))));
}

#[tokio::test]
async fn error_unauthorized_for_a_bad_token_then_close_4001() {
    let addr = start(Config { auth_token: Some("good".into()), ..Config::default() }).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "auth", "id": "a", "data": {"token": "bad"}})).await;
    let m = recv(&mut s).await;
    assert_eq!((error_code(&m), m.id.as_deref()), (ErrorCode::Unauthorized, Some("a")));
    assert_eq!(recv_close(&mut s).await, 4001);
    let mut q = connect(&addr, "?token=bad").await;
    assert_eq!(error_code(&recv(&mut q).await), ErrorCode::Unauthorized);
    assert_eq!(recv_close(&mut q).await, 4001);
}

#[tokio::test]
async fn error_unauthorized_before_auth_when_a_token_is_required() {
    let addr = start(Config { auth_token: Some("good".into()), ..Config::default() }).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "echo", "id": "e"})).await;
    assert_eq!(error_code(&recv(&mut s).await), ErrorCode::Unauthorized);
    assert_eq!(recv_close(&mut s).await, 4001);
}

#[tokio::test]
async fn error_forbidden_for_a_private_topic_without_auth() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "subscribe", "id": "s", "data": {"topics": ["private:x"]}})).await;
    let m = recv(&mut s).await;
    assert_eq!((error_code(&m), m.id.as_deref()), (ErrorCode::Forbidden, Some("s")));
    send(&mut s, json!({"type": "publish", "id": "p", "topic": "private:x", "data": 1})).await;
    assert_eq!(error_code(&recv(&mut s).await), ErrorCode::Forbidden);
}

#[tokio::test]
async fn error_unknown_message_type_carries_the_id() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "frobnicate", "id": "f"})).await;
    let m = recv(&mut s).await;
    assert_eq!((error_code(&m), m.id.as_deref()), (ErrorCode::UnknownMessageType, Some("f")));
}

#[tokio::test]
async fn error_bad_request_for_non_json_bad_shapes_and_binary() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    s.send(Frame::text("{not json")).await.unwrap();
    assert_eq!(error_code(&recv(&mut s).await), ErrorCode::BadRequest);
    send(&mut s, json!([1, 2])).await;
    assert_eq!(error_code(&recv(&mut s).await), ErrorCode::BadRequest);
    send(&mut s, json!({"type": "subscribe", "id": "s", "data": {"topics": "nope"}})).await;
    let m = recv(&mut s).await;
    assert_eq!((error_code(&m), m.id.as_deref()), (ErrorCode::BadRequest, Some("s")));
    send(&mut s, json!({"type": "publish", "id": "p", "data": 1})).await;
    assert_eq!(error_code(&recv(&mut s).await), ErrorCode::BadRequest);
    s.send(Frame::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(error_code(&recv(&mut s).await), ErrorCode::BadRequest);
    send(&mut s, json!({"type": "ping", "id": "still-alive"})).await;
    assert_eq!(recv(&mut s).await.kind, "pong");
}

#[tokio::test]
async fn error_rate_limited_past_the_limit_then_close_4008_after_as_many_again() {
    let addr = start(Config { rate_limit_per_sec: 5, ..Config::default() }).await;
    let mut s = connect(&addr, "").await;
    // The bucket is checked before parsing: a refused frame is not read, so its
    // answer carries no id, and only the first refusal is answered.
    for i in 0..8 {
        send(&mut s, json!({"type": "ping", "id": format!("p{i}")})).await;
    }
    for _ in 0..5 {
        assert_eq!(recv(&mut s).await.kind, "pong");
    }
    let m = recv(&mut s).await;
    assert_eq!((error_code(&m), m.id.as_deref()), (ErrorCode::RateLimited, None));
    for i in 8..20 {
        let _ = s.send(Frame::text(format!(r#"{{"type":"ping","id":"q{i}"}}"#))).await;
    }
    assert_eq!(recv_close(&mut s).await, 4008, "sustained abuse is closed with 4008");
}

#[tokio::test]
async fn error_too_large_then_close_1009() {
    let addr = start(Config { max_frame_bytes: 1024, ..Config::default() }).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "echo", "data": "x".repeat(2000)})).await;
    assert_eq!(error_code(&recv(&mut s).await), ErrorCode::TooLarge);
    assert_eq!(recv_close(&mut s).await, 1009);
}

#[tokio::test]
async fn app_replies_carry_the_request_id() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "").await;
    send(&mut s, json!({"type": "get_unread_message", "id": "g"})).await;
    let m = recv(&mut s).await;
    assert_eq!((m.id.as_deref(), m.data), (Some("g"), Some(json!({"count": 3}))));
    send(&mut s, json!({"type": "custom_action", "id": "c", "data": {}})).await;
    let m = recv(&mut s).await;
    assert_eq!((m.kind.as_str(), m.id.as_deref()), ("ack", Some("c")));
}

#[tokio::test]
async fn batching_wraps_pushes_in_order() {
    let addr = start(Config::default()).await;
    let mut s = connect(&addr, "?batch=1").await;
    send(&mut s, json!({"type": "subscribe", "id": "s", "data": {"topics": ["t"]}})).await;
    recv(&mut s).await;
    for i in 1..=12 {
        send(&mut s, json!({"type": "publish", "topic": "t", "data": i})).await;
    }
    let mut seqs = Vec::new();
    while seqs.len() < 12 {
        let frame = recv(&mut s).await;
        let pushes = match frame.kind.as_str() {
            "batch" => frame.messages.unwrap(),
            _ => vec![frame],
        };
        for m in pushes {
            seqs.push(m.seq.unwrap());
        }
    }
    assert_eq!(seqs, (1..=12).collect::<Vec<u64>>());
}
