//! What every server test needs: a real server on port 0.
#![allow(dead_code)]

use wsocket_server::{serve, start_socketio, AppState, Config};

/// The publish credential `start_open` configures (a test value, not a secret).
pub const PUBLISH_TOKEN: &str = "test-publish-token";

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Starts the whole server on 127.0.0.1 port 0; returns `host:port`.
pub async fn start(config: Config) -> String {
    start_with_state(config).await.0
}

/// Starts the server with the test-control API and `/publish` (`PUBLISH_TOKEN`) on.
pub async fn start_open(config: Config) -> String {
    start(Config { test_control: true, publish_token: Some(PUBLISH_TOKEN.into()), ..config }).await
}

/// `start`, also returning the server's state.
pub async fn start_with_state(config: Config) -> (String, std::sync::Arc<AppState>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(config);
    start_socketio(&state).await.unwrap();
    let serving = state.clone();
    tokio::spawn(async move { serve(listener, serving, std::future::pending()).await });
    (format!("127.0.0.1:{}", addr.port()), state)
}

/// A bare HTTP/1.1 request with optional headers; (status, body).
pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).await.unwrap();
    let status = resp.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, resp.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}

/// A bare HTTP/1.1 POST with the publish credential, so the tests need no HTTP client
/// crate; the JSON answer.
pub async fn post(addr: &str, path: &str, body: &str) -> serde_json::Value {
    let bearer = format!("Bearer {PUBLISH_TOKEN}");
    let (_, answer) = request(addr, "POST", path, &[("Authorization", &bearer)], body).await;
    serde_json::from_str(&answer).unwrap_or(serde_json::Value::Null)
}

/// Sends `v` as a text frame.
pub async fn send_json(s: &mut Socket, v: serde_json::Value) {
    use futures_util::SinkExt;
    s.send(tokio_tungstenite::tungstenite::Message::text(v.to_string())).await.unwrap();
}

/// The next text frame, decoded with the shared protocol types (at most 10 s).
pub async fn recv_message(s: &mut Socket) -> wsocket::protocol::Message {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message as Frame;
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), s.next())
            .await
            .expect("a frame in 10 s");
        match frame.expect("socket open").expect("no socket error") {
            Frame::Text(t) => {
                return serde_json::from_str(&t).unwrap_or_else(|e| panic!("{t}: {e}"))
            }
            Frame::Close(c) => panic!("closed: {c:?}"),
            _ => {}
        }
    }
}

/// The next Socket.IO packet that is not an Engine.IO ping (answered, as a client must;
/// at most 10 s).
pub async fn sio_next(ws: &mut Socket) -> String {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Frame;
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a packet in 10 s")
            .expect("the socket open")
            .unwrap();
        match frame {
            Frame::Text(t) if t.as_str() == "2" => ws.send(Frame::text("3")).await.unwrap(),
            Frame::Text(t) => return t.as_str().to_owned(),
            other => panic!("unexpected {other:?}"),
        }
    }
}
