//! The Socket.IO gateway through the `/socket.io/` relay, spoken frame by frame: the
//! handshake, auth, the gateway's events and acks, validation, rooms, broadcasts, and a
//! control-API drop.

mod common;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use wsocket_server::Config;

use common::{post, Socket};

async fn open(addr: &str, query: &str) -> Socket {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket{query}");
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws
}

/// The next text frame that is not an Engine.IO ping (answered, as a client must).
async fn next(ws: &mut Socket) -> String {
    common::sio_next(ws).await
}

async fn send(ws: &mut Socket, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

/// Handshake and CONNECT to /events; returns the socket.
async fn connect(addr: &str, auth: &str, query: &str) -> Socket {
    let mut ws = open(addr, query).await;
    let open = next(&mut ws).await;
    assert!(open.starts_with("0{") && open.contains("\"pingInterval\""), "{open}");
    send(&mut ws, &format!("40/events,{auth}")).await;
    let ok = next(&mut ws).await;
    assert!(ok.starts_with("40/events,{\"sid\":"), "{ok}");
    ws
}

#[tokio::test]
async fn join_message_and_leave_reach_only_the_room() {
    let addr = common::start_open(Config::default()).await;
    let mut a = connect(&addr, "", "").await;
    let mut b = connect(&addr, "", "").await;
    let mut c = connect(&addr, "", "").await;
    send(&mut a, r#"42/events,1["join",{"room":"lobby"}]"#).await;
    assert_eq!(next(&mut a).await, r#"43/events,1[{"room":"lobby","success":true}]"#);
    send(&mut b, r#"42/events,1["join",{"room":"lobby"}]"#).await;
    assert_eq!(next(&mut b).await, r#"43/events,1[{"room":"lobby","success":true}]"#);
    let joined = next(&mut a).await;
    assert!(
        joined.starts_with(r#"42/events,["user:joined",{"#) && joined.contains(r#""room":"lobby""#),
        "{joined}"
    );

    send(&mut b, r#"42/events,2["message",{"room":"lobby","content":"hi"}]"#).await;
    assert_eq!(next(&mut b).await, r#"43/events,2[{"success":true}]"#);
    let got = next(&mut a).await;
    assert!(
        got.starts_with(r#"42/events,["message",{"#)
            && got.contains(r#""content":"hi""#)
            && got.contains("senderId")
            && got.contains("timestamp"),
        "{got}"
    );

    // Without a room: everyone but the sender, c included.
    send(&mut c, r#"42/events,1["message",{"content":"all"}]"#).await;
    assert_eq!(next(&mut c).await, r#"43/events,1[{"success":true}]"#);
    assert!(next(&mut a).await.contains(r#""content":"all""#));
    assert!(next(&mut b).await.contains(r#""content":"all""#));

    send(&mut b, r#"42/events,3["leave",{"room":"lobby"}]"#).await;
    assert_eq!(next(&mut b).await, r#"43/events,3[{"room":"lobby","success":true}]"#);
    assert!(next(&mut a).await.starts_with(r#"42/events,["user:left","#));
}

#[tokio::test]
async fn the_gateway_validates_content_and_room_access() {
    let addr = common::start_open(Config::default()).await;
    let mut a = connect(&addr, "", "").await;
    let long = "x".repeat(1001);
    send(&mut a, &format!(r#"42/events,4["message",{{"content":"{long}"}}]"#)).await;
    assert_eq!(
        next(&mut a).await,
        r#"43/events,4[{"message":"content must be at most 1000 characters","success":false}]"#
    );
    send(&mut a, r#"42/events,5["join",{"room":"private:someone-else"}]"#).await;
    assert!(next(&mut a).await.contains(r#""success":false"#));
}

#[tokio::test]
async fn auth_is_checked_on_connect_from_the_payload_or_the_query() {
    let config = Config { auth_token: Some("good-token".into()), ..Config::default() };
    let addr = common::start_open(config).await;
    // Refused: CONNECT_ERROR with the reason, not a connection.
    for auth in ["", r#"{"token":"bad"}"#] {
        let mut ws = open(&addr, "").await;
        next(&mut ws).await;
        send(&mut ws, &format!("40/events,{auth}")).await;
        let refused = next(&mut ws).await;
        assert!(refused.starts_with("44/events,{\"message\":\"unauthorized"), "{refused}");
    }
    connect(&addr, r#"{"token":"good-token"}"#, "").await;
    connect(&addr, "", "&token=good-token").await;
}

#[tokio::test]
async fn broadcast_endpoint_and_control_drop() {
    let addr = common::start_open(Config::default()).await;
    let mut a = connect(&addr, "", "&cid=sio-a").await;
    let sent = post(&addr, "/socketio/broadcast", r#"{"event":"notice","data":{"n":1}}"#).await;
    assert_eq!(sent["sent"], true, "{sent}");
    assert_eq!(next(&mut a).await, r#"42/events,["notice",{"n":1}]"#);
    let dropped = post(&addr, "/control/drop?cid=sio-a", "").await;
    assert_eq!(dropped["connections"], 1, "{dropped}");
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), a.next()).await.unwrap();
    assert!(
        !matches!(end, Some(Ok(Message::Close(_)))),
        "an abrupt drop, not a close frame: {end:?}"
    );
}

#[tokio::test]
async fn sending_to_a_private_room_is_refused_as_joining_it_is() {
    let secret = "s3cret";
    let addr =
        common::start_open(Config { jwt_secret: Some(secret.into()), ..Config::default() }).await;
    let exp = wsocket_server::auth::now_secs() + 600;
    let token = |sub: &str| {
        wsocket_server::auth::sign_jwt(
            &serde_json::json!({ "sub": sub, "exp": exp }),
            secret.as_bytes(),
        )
    };
    let mut victim = connect(&addr, &format!(r#"{{"token":"{}"}}"#, token("victim")), "").await;
    send(&mut victim, r#"42/events,1["join",{"room":"private:victim"}]"#).await;
    assert!(next(&mut victim).await.contains(r#""success":true"#), "the owner joins her room");
    let mut other = connect(&addr, &format!(r#"{{"token":"{}"}}"#, token("mallory")), "").await;
    send(&mut other, r#"42/events,2["join",{"room":"private:victim"}]"#).await;
    assert!(next(&mut other).await.contains(r#""success":false"#), "joining is refused");
    send(&mut other, r#"42/events,3["message",{"content":"hi","room":"private:victim"}]"#).await;
    let ack = next(&mut other).await;
    assert!(
        ack.starts_with("43/events,3") && ack.contains(r#""success":false"#),
        "sending is refused: {ack}"
    );
    send(&mut victim, "42/events,4[\"join\",{\"room\":\"public\"}]").await;
    let after = next(&mut victim).await;
    assert!(after.starts_with("43/events,4"), "the victim got nothing from mallory first: {after}");
}
