//! Server hardening, each with a test: Origin allow-list, JWT HS256, max connections,
//! exactly-once processing of resent ids (rate limit and frame size: tests/ws.rs).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;
use wsocket_server::auth::{sign_jwt, verify_jwt, JwtError};
use wsocket_server::Config;

mod common;
use common::{start, Socket};

async fn connect_from(addr: &str, path: &str, origin: Option<&str>) -> Result<Socket, String> {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(o) = origin {
        request.headers_mut().insert("Origin", o.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.map(|(s, _)| s).map_err(|e| e.to_string())
}

async fn text(s: &mut Socket) -> serde_json::Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.next()).await.expect("a frame") {
            Some(Ok(Frame::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Frame::Close(c))) => return json!({ "closed": c.map(|c| u16::from(c.code)) }),
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn an_origin_outside_the_allow_list_is_refused_with_403() {
    let config = Config { allowed_origins: vec!["http://app.example".into()], ..Config::default() };
    let addr = start(config).await;
    let refused = connect_from(&addr, "/ws", Some("http://evil.example")).await.unwrap_err();
    assert!(refused.contains("403"), "{refused}");
    assert!(
        connect_from(&addr, "/ws", None).await.unwrap_err().contains("403"),
        "no Origin is refused too"
    );
    assert!(connect_from(&addr, "/legacy", Some("http://evil.example")).await.is_err());
    assert!(connect_from(&addr, "/ws", Some("http://app.example")).await.is_ok());
}

#[tokio::test]
async fn without_an_allow_list_any_origin_connects() {
    let addr = start(Config::default()).await;
    assert!(connect_from(&addr, "/ws", Some("http://anywhere.example")).await.is_ok());
}

#[test]
fn jwt_verification_checks_signature_algorithm_and_expiry() {
    let secret = b"s3cret";
    let good = sign_jwt(&json!({ "sub": "42", "exp": now() + 60 }), secret);
    assert_eq!(verify_jwt(&good, secret, now()).unwrap().user.as_deref(), Some("42"));
    assert_eq!(verify_jwt(&good, b"other", now()), Err(JwtError::Signature));
    let expired = sign_jwt(&json!({ "sub": "42", "exp": now() - 10 }), secret);
    assert_eq!(verify_jwt(&expired, secret, now()), Err(JwtError::Expired));
    assert_eq!(verify_jwt("a.b", secret, now()), Err(JwtError::Malformed));
    assert_eq!(verify_jwt("!!.!!.!!", secret, now()), Err(JwtError::Malformed));
    // alg "none" with the signature stripped must not pass.
    let none = format!(
        "{}.{}.",
        base64_url(br#"{"alg":"none"}"#),
        base64_url(json!({ "sub": "42" }).to_string().as_bytes())
    );
    assert!(verify_jwt(&none, secret, now()).is_err(), "alg none is refused");
}

#[test]
fn jwt_claims_must_be_well_formed_integers_and_current() {
    let secret = b"s3cret";
    let refused = |claims: serde_json::Value| verify_jwt(&sign_jwt(&claims, secret), secret, now());
    assert_eq!(refused(json!({ "sub": "1" })), Err(JwtError::Malformed), "no exp");
    assert_eq!(
        refused(json!({ "exp": (now() + 60) as f64 + 0.5 })),
        Err(JwtError::Malformed),
        "float exp"
    );
    assert_eq!(
        refused(json!({ "exp": (now() + 60).to_string() })),
        Err(JwtError::Malformed),
        "string exp"
    );
    assert_eq!(refused(json!({ "exp": -1 })), Err(JwtError::Malformed), "negative exp");
    assert_eq!(
        refused(json!({ "exp": now() + 7200, "nbf": now() + 3600 })),
        Err(JwtError::NotYetValid),
        "nbf ahead"
    );
    assert_eq!(
        refused(json!({ "exp": now() + 7200, "iat": now() + 3600 })),
        Err(JwtError::NotYetValid),
        "iat ahead"
    );
    assert!(refused(json!({ "exp": now() + 60, "nbf": now() + 2 })).is_ok(), "within the leeway");
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn a_valid_jwt_in_the_query_authenticates_and_a_bad_one_is_closed_4001() {
    let config = Config { jwt_secret: Some("s3cret".into()), ..Config::default() };
    let addr = start(config).await;
    let token = sign_jwt(&json!({ "sub": "7", "exp": now() + 60 }), b"s3cret");
    let mut ok = connect_from(&addr, &format!("/ws?token={token}"), None).await.unwrap();
    ok.send(Frame::text(r#"{"type":"echo","id":"e"}"#)).await.unwrap();
    assert_eq!(text(&mut ok).await["type"], "echo");
    let forged = sign_jwt(&json!({ "sub": "7" }), b"guess");
    let mut bad = connect_from(&addr, &format!("/ws?token={forged}"), None).await.unwrap();
    assert_eq!(text(&mut bad).await["error"]["code"], "UNAUTHORIZED");
    assert_eq!(text(&mut bad).await["closed"], 4001);
}

#[tokio::test]
async fn a_jwt_in_an_auth_message_authenticates() {
    let config = Config { jwt_secret: Some("s3cret".into()), ..Config::default() };
    let addr = start(config).await;
    let token = sign_jwt(&json!({ "sub": "7", "exp": now() + 60 }), b"s3cret");
    let mut s = connect_from(&addr, "/ws", None).await.unwrap();
    s.send(Frame::text(
        json!({ "type": "auth", "id": "a", "data": { "token": token } }).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(text(&mut s).await["type"], "auth_ok");
}

#[tokio::test]
async fn connections_past_the_maximum_are_closed_1013() {
    let addr = start(Config { max_connections: 2, ..Config::default() }).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(connect_from(&addr, "/ws", None).await.unwrap());
    }
    // The registry counts a connection once its task runs; give both a moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = connect_from(&addr, "/ws", None).await.unwrap();
    assert_eq!(text(&mut third).await["closed"], 1013);
    drop(held);
}

#[tokio::test]
async fn a_resent_id_takes_effect_once_and_is_acknowledged_each_time() {
    let addr = start(Config::default()).await;
    let mut sub = connect_from(&addr, "/ws", None).await.unwrap();
    sub.send(Frame::text(r#"{"type":"subscribe","id":"s","data":{"topics":["t"]}}"#))
        .await
        .unwrap();
    text(&mut sub).await;
    let publish = r#"{"type":"publish","id":"abc-1","topic":"t","data":1}"#;
    for _ in 0..2 {
        let mut s = connect_from(&addr, "/ws?cid=resend", None).await.unwrap();
        s.send(Frame::text(publish)).await.unwrap();
        assert_eq!(text(&mut s).await["type"], "ack", "acknowledged every time");
    }
    sub.send(Frame::text(r#"{"type":"ping","id":"after"}"#)).await.unwrap();
    let first = text(&mut sub).await;
    assert_eq!((first["type"].as_str(), first["seq"].as_u64()), (Some("message"), Some(1)));
    assert_eq!(text(&mut sub).await["type"], "pong", "no second push before the pong");
}
