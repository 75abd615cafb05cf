//! The attack tier: each attack a stranger on the network could make, as a bounded
//! loopback test that asserts the bound (close code, RSS ceiling, time to disconnect).
//! The server runs as its own process (the binary `cargo test` built), so its RSS is its
//! own; every loop is bounded in count and time.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;

mod common;
use common::Socket;

/// The server binary on a free port, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsocket-server"))
            .args(["--port", "0", "--no-feeds"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("a line");
        let addr = line.split("http://").nth(1).expect("an address").trim().trim_end_matches('/');
        Server { addr: addr.to_owned(), child }
    }

    /// Resident memory, in MiB.
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        kb / 1024.0
    }

    async fn connect(&self, path: &str) -> Socket {
        tokio_tungstenite::connect_async(format!("ws://{}{path}", self.addr))
            .await
            .expect("upgrade")
            .0
    }

    async fn metric(&self, name: &str) -> f64 {
        let (_, body) = common::request(&self.addr, "GET", "/metrics", &[], "").await;
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("metric {name} in {body}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The close code the socket ends with (1006: none), within `within`.
async fn closed_with(s: &mut Socket, within: Duration) -> u16 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.next()).await.expect("closed in time") {
            Some(Ok(Frame::Close(Some(c)))) => return c.code.into(),
            Some(Ok(Frame::Close(None))) | None | Some(Err(_)) => return 1006,
            Some(Ok(_)) => {}
        }
    }
}

async fn send(s: &mut Socket, v: serde_json::Value) {
    s.send(Frame::text(v.to_string())).await.expect("send");
}

async fn next_json(s: &mut Socket) -> serde_json::Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.next()).await.expect("a frame") {
            Some(Ok(Frame::Text(t))) => return serde_json::from_str(&t).expect("JSON"),
            Some(Ok(Frame::Close(c))) => return json!({ "closed": c.map(|c| u16::from(c.code)) }),
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
}

#[tokio::test]
async fn slowloris_connections_are_closed_at_the_header_timeout_and_the_server_still_answers() {
    let server = Server::start(&["--header-timeout-ms", "500", "--max-http-connections", "1024"]);
    let before = server.rss_mib();
    let started = Instant::now();
    let mut held = Vec::new();
    for _ in 0..2_000 {
        if let Ok(mut tcp) = TcpStream::connect(&server.addr).await {
            let _ = tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
            held.push(tcp);
        }
    }
    let peak = server.rss_mib();
    let connected = started.elapsed();
    // Every one is closed by the server (EOF or reset) soon after the header timeout:
    // the last one connected at most 3 s ago.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut closed = 0;
    for tcp in &mut held {
        let mut buf = [0u8; 256];
        if let Ok(Ok(_) | Err(_)) = tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            closed += 1;
        }
    }
    let took = started.elapsed() - connected;
    let (status, body) = common::request(&server.addr, "GET", "/healthz", &[], "").await;
    println!("slowloris: {closed}/{} closed {took:?} after the last was opened ({connected:?}); RSS {before:.1} -> {peak:.1} MiB", held.len());
    assert_eq!(closed, held.len(), "every half-sent request is closed");
    assert!(took < Duration::from_secs(3), "closed within the header timeout, not never");
    assert_eq!((status, body.as_str()), (200, "ok"), "the server still answers");
    assert!(peak - before < 64.0, "RSS grew {:.1} MiB", peak - before);
}

#[tokio::test]
async fn silent_strangers_neither_stay_nor_take_the_slots_of_users_with_a_token() {
    let server = Server::start(&[
        "--token",
        "right",
        "--max-connections",
        "20",
        "--max-unauthenticated",
        "10",
        "--auth-timeout-ms",
        "800",
    ]);
    let mut silent = Vec::new();
    for _ in 0..50 {
        if let Ok((s, _)) =
            tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await
        {
            silent.push(s);
        }
    }
    // Past the 10 authenticating slots, strangers are closed at once with 1013.
    let mut refused = 0;
    for s in silent.iter_mut().skip(10) {
        if closed_with(s, Duration::from_secs(2)).await == 1013 {
            refused += 1;
        }
    }
    assert_eq!(refused, 40, "strangers past max-unauthenticated are refused");
    // A user with the token still gets in and is served.
    let mut user = server.connect("/ws?token=right").await;
    send(&mut user, json!({ "type": "ping", "id": "p" })).await;
    assert_eq!(next_json(&mut user).await["type"], "pong");
    // The silent ones are closed 4001 at the authentication deadline.
    let started = Instant::now();
    let first = &mut silent[0];
    assert_eq!(next_json(first).await["error"]["code"], "UNAUTHORIZED");
    assert_eq!(closed_with(first, Duration::from_secs(2)).await, 4001);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_silent_upgrade_and_an_idle_connection_are_closed_1001() {
    let server = Server::start(&["--first-frame-timeout-ms", "300", "--idle-timeout-ms", "600"]);
    let mut silent = server.connect("/ws").await;
    let started = Instant::now();
    assert_eq!(closed_with(&mut silent, Duration::from_secs(2)).await, 1001);
    assert!(started.elapsed() < Duration::from_secs(1));
    let mut idle = server.connect("/legacy").await;
    idle.send(Frame::text("PONG")).await.expect("send");
    assert_eq!(closed_with(&mut idle, Duration::from_secs(3)).await, 1001, "idle after one frame");
}

#[tokio::test]
async fn a_subscriber_that_never_reads_is_disconnected_and_memory_stays_bounded() {
    let server = Server::start(&[
        "--outbound-queue",
        "256",
        "--write-timeout-ms",
        "500",
        "--rate-limit",
        "100000",
    ]);
    let mut lazy = server.connect("/ws?cid=lazy").await;
    send(&mut lazy, json!({ "type": "subscribe", "id": "s", "data": { "topics": ["flood"] } }))
        .await;
    let mut publisher = server.connect("/ws").await;
    let before = server.rss_mib();
    let data = "x".repeat(2_000);
    for i in 0..20_000 {
        let _ = publisher
            .feed(Frame::text(
                json!({ "type": "publish", "topic": "flood", "data": data, "n": i }).to_string(),
            ))
            .await;
        if i % 500 == 0 {
            let _ = publisher.flush().await;
        }
    }
    let _ = publisher.flush().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let after = server.rss_mib();
    let slow = server.metric("wsocket_slow_consumer_disconnects_total").await;
    println!("slow consumer: 20,000 x 2 KB pushes; RSS {before:.1} -> {after:.1} MiB; slow disconnects {slow}");
    assert!(slow >= 1.0, "the lazy subscriber is disconnected as a slow consumer");
    assert!(after - before < 48.0, "RSS grew {:.1} MiB", after - before);
}

#[tokio::test]
async fn an_oversized_frame_is_refused_from_its_header_with_1009_and_not_buffered() {
    let server = Server::start(&[]);
    let mut s = server.connect("/ws").await;
    let before = server.rss_mib();
    // A 16 MiB frame's header announces its length: the server closes before reading it.
    let big = "x".repeat(16 << 20);
    let _ = s.send(Frame::text(big)).await;
    let code = closed_with(&mut s, Duration::from_secs(5)).await;
    let after = server.rss_mib();
    println!("16 MiB frame: close {code}; RSS {before:.1} -> {after:.1} MiB");
    assert!(
        code == 1009 || code == 1006,
        "closed (1009, or reset while the client was still writing): {code}"
    );
    assert!(after - before < 8.0, "RSS grew {:.1} MiB: the frame was buffered", after - before);
}

#[tokio::test]
async fn a_flood_of_pings_whose_answers_are_never_read_is_closed_4008() {
    let server = Server::start(&[]);
    let mut s = server.connect("/ws").await;
    let before = server.rss_mib();
    for i in 0..20_000 {
        if s.feed(Frame::text(format!(r#"{{"type":"ping","id":"{i}"}}"#))).await.is_err() {
            break;
        }
    }
    let _ = s.flush().await;
    let code = closed_with(&mut s, Duration::from_secs(5)).await;
    let after = server.rss_mib();
    println!("ping flood: close {code}; RSS {before:.1} -> {after:.1} MiB");
    assert_eq!(code, 4008);
    assert!(after - before < 16.0, "RSS grew {:.1} MiB", after - before);
}

#[tokio::test]
async fn repeated_and_too_many_topics_and_long_ids_are_bounded() {
    let (addr, state) = common::start_with_state(wsocket_server::Config {
        max_topics_per_connection: 100,
        ..wsocket_server::Config::default()
    })
    .await;
    let mut s = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.expect("ws").0;
    // 48 KB: one topic named 12,000 times, with a position to replay from.
    let topics: Vec<&str> = vec!["s"; 12_000];
    let since = json!({ "s": { "seq": 0, "epoch": "x" } });
    send(
        &mut s,
        json!({ "type": "subscribe", "id": "a", "data": { "topics": topics, "since": since } }),
    )
    .await;
    let m = next_json(&mut s).await;
    assert_eq!(m["data"]["topics"], json!(["s"]), "a topic named 12,000 times is one: {m}");
    let many: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    send(&mut s, json!({ "type": "subscribe", "id": "b", "data": { "topics": many } })).await;
    let m = next_json(&mut s).await;
    assert_eq!(m["error"]["code"], "BAD_REQUEST", "past max-topics-per-connection: {m}");
    send(
        &mut s,
        json!({ "type": "subscribe", "id": "c", "data": { "topics": ["x".repeat(300)] } }),
    )
    .await;
    assert_eq!(next_json(&mut s).await["error"]["code"], "BAD_REQUEST", "a 300-byte topic name");
    send(&mut s, json!({ "type": "custom_action", "id": "i".repeat(60_000) })).await;
    let m = next_json(&mut s).await;
    assert_eq!(
        (m["error"]["code"].as_str(), m["id"].as_str()),
        (Some("BAD_REQUEST"), None),
        "a 60 KB id"
    );
    assert_eq!(state.hub.size().0, 1, "one topic held");
}

#[tokio::test]
async fn history_is_bounded_in_bytes_and_idle_topics_are_reclaimed() {
    let (addr, state) = common::start_with_state(wsocket_server::Config {
        history_bytes: 256 * 1024,
        topic_idle: Duration::from_millis(200),
        rate_limit_per_sec: 100_000,
        ..wsocket_server::Config::default()
    })
    .await;
    let mut s = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.expect("ws").0;
    let data = "y".repeat(30_000);
    for i in 0..50 {
        send(
            &mut s,
            json!({ "type": "publish", "id": format!("p{i}"), "topic": "big", "data": data }),
        )
        .await;
        next_json(&mut s).await;
    }
    let (_, history) = state.hub.size();
    assert!(history <= 256 * 1024, "history {history} bytes");
    for i in 0..2_000 {
        send(&mut s, json!({ "type": "publish", "topic": format!("many:{i}"), "data": i })).await;
    }
    send(&mut s, json!({ "type": "ping", "id": "sync" })).await;
    assert_eq!(next_json(&mut s).await["type"], "pong");
    assert!(state.hub.size().0 >= 2_000);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(state.hub.size().0, 0, "idle topics with no subscriber are reclaimed");
}

#[tokio::test]
async fn one_clients_ids_do_not_suppress_anothers_messages() {
    let (addr, _) = common::start_with_state(wsocket_server::Config::default()).await;
    let mut sub = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.expect("ws").0;
    send(&mut sub, json!({ "type": "subscribe", "id": "s", "data": { "topics": ["t"] } })).await;
    next_json(&mut sub).await;
    for client in ["alice", "bob"] {
        let mut s = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?client={client}"))
            .await
            .expect("ws")
            .0;
        send(&mut s, json!({ "type": "publish", "id": "same-id", "topic": "t", "data": client }))
            .await;
        assert_eq!(next_json(&mut s).await["type"], "ack");
    }
    assert_eq!(next_json(&mut sub).await["data"], "alice");
    assert_eq!(
        next_json(&mut sub).await["data"],
        "bob",
        "bob's message is not dropped as alice's repeat"
    );
}

#[tokio::test]
async fn a_connection_is_closed_4001_when_its_token_expires() {
    let secret = "s3cret";
    let (addr, _) = common::start_with_state(wsocket_server::Config {
        jwt_secret: Some(secret.into()),
        ..wsocket_server::Config::default()
    })
    .await;
    let now = wsocket_server::auth::now_secs();
    // Expired 3 s ago, inside the 5 s leeway: good for one to two more seconds (with
    // one, a loaded machine could see the expiry before the ping is answered).
    let token =
        wsocket_server::auth::sign_jwt(&json!({ "sub": "u", "exp": now - 3 }), secret.as_bytes());
    let mut s = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token={token}"))
        .await
        .expect("ws")
        .0;
    send(&mut s, json!({ "type": "ping", "id": "p" })).await;
    assert_eq!(next_json(&mut s).await["type"], "pong");
    let m = next_json(&mut s).await;
    assert_eq!(
        (m["error"]["code"].as_str(), m["error"]["message"].as_str()),
        (Some("UNAUTHORIZED"), Some("token expired"))
    );
    assert_eq!(closed_with(&mut s, Duration::from_secs(3)).await, 4001);
}

#[tokio::test]
async fn legacy_honours_the_token() {
    let (addr, _) = common::start_with_state(wsocket_server::Config {
        auth_token: Some("right".into()),
        max_connections: 2,
        ..wsocket_server::Config::default()
    })
    .await;
    let mut s =
        tokio_tungstenite::connect_async(format!("ws://{addr}/legacy")).await.expect("ws").0;
    s.send(Frame::text(r#"{"event":"get_unread_message"}"#)).await.expect("send");
    assert_eq!(next_json(&mut s).await["data"]["code"], "UNAUTHORIZED");
    assert_eq!(closed_with(&mut s, Duration::from_secs(2)).await, 4001);
    let mut ok = tokio_tungstenite::connect_async(format!("ws://{addr}/legacy?token=right"))
        .await
        .expect("ws")
        .0;
    ok.send(Frame::text(r#"{"event":"get_unread_message","id":"1"}"#)).await.expect("send");
    assert_eq!(next_json(&mut ok).await["data"]["count"], 3);
    let mut late =
        tokio_tungstenite::connect_async(format!("ws://{addr}/legacy")).await.expect("ws").0;
    late.send(Frame::text(r#"{"event":"auth","id":"a","data":{"token":"right"}}"#))
        .await
        .expect("send");
    assert_eq!(next_json(&mut late).await["event"], "auth_ok");
    // Good credentials with every authenticated slot taken: try again later, not 4001.
    let mut full =
        tokio_tungstenite::connect_async(format!("ws://{addr}/legacy")).await.expect("ws").0;
    full.send(Frame::text(r#"{"event":"auth","id":"a","data":{"token":"right"}}"#))
        .await
        .expect("send");
    assert_eq!(closed_with(&mut full, Duration::from_secs(2)).await, 1013);
}

/// Writes one masked client frame with this first byte and payload, by hand.
async fn raw_frame(s: &mut Socket, first: u8, payload: &[u8]) {
    let mut frame = vec![first, 0x80 | payload.len() as u8, 1, 2, 3, 4];
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]));
    let tcp = match s.get_mut() {
        tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp,
        _ => panic!("plain TCP"),
    };
    tcp.write_all(&frame).await.expect("write");
}

#[tokio::test]
async fn protocol_errors_get_the_close_codes_rfc_6455_gives_and_a_close_is_echoed() {
    let (addr, _) = common::start_with_state(wsocket_server::Config::default()).await;
    let connect = || async {
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.expect("ws").0
    };
    let mut s = connect().await;
    raw_frame(&mut s, 0x81, &[0xff, 0xfe, 0xfd]).await;
    assert_eq!(closed_with(&mut s, Duration::from_secs(2)).await, 1007, "text that is not UTF-8");
    let mut s = connect().await;
    raw_frame(&mut s, 0x83, b"x").await;
    assert_eq!(closed_with(&mut s, Duration::from_secs(2)).await, 1002, "a reserved opcode");
    let mut s = connect().await;
    raw_frame(&mut s, 0x89, &[0u8; 126][..125]).await;
    raw_frame(&mut s, 0x09, b"fragmented ping").await;
    assert_eq!(
        closed_with(&mut s, Duration::from_secs(2)).await,
        1002,
        "a fragmented control frame"
    );
    let mut s = connect().await;
    s.close(None).await.expect("close");
    let echoed = tokio::time::timeout(Duration::from_secs(2), s.next()).await.expect("an answer");
    assert!(matches!(echoed, Some(Ok(Frame::Close(_))) | None), "the close is echoed: {echoed:?}");
}

#[tokio::test]
async fn closed_by_default_no_control_no_publish_no_wildcard_cors() {
    let (addr, _) = common::start_with_state(wsocket_server::Config::default()).await;
    let (status, _) = common::request(&addr, "GET", "/control/connections", &[], "").await;
    assert_eq!(status, 404, "no test-control API without --test-control");
    let (status, _) = common::request(&addr, "POST", "/control/close?code=4001", &[], "").await;
    assert!(matches!(status, 404 | 405), "not served: {status}");
    let (status, _) =
        common::request(&addr, "POST", "/publish", &[], r#"{"topic":"private:alice","data":1}"#)
            .await;
    assert!(matches!(status, 404 | 405), "no publish endpoint without --publish-token: {status}");
    let (status, _) =
        common::request(&addr, "POST", "/socketio/broadcast", &[], r#"{"event":"x"}"#).await;
    assert!(matches!(status, 404 | 405), "{status}");
    let (status, body) = common::request(&addr, "GET", "/healthz", &[], "").await;
    assert_eq!((status, body.as_str()), (200, "ok"));

    let open = common::start_open(wsocket_server::Config::default()).await;
    let body = r#"{"topic":"private:alice","data":1}"#;
    let (status, _) = common::request(&open, "POST", "/publish", &[], body).await;
    assert_eq!(status, 401, "publish needs the bearer token");
    let (status, _) =
        common::request(&open, "POST", "/publish", &[("Authorization", "Bearer wrong")], body)
            .await;
    assert_eq!(status, 401);
    let bearer = format!("Bearer {}", common::PUBLISH_TOKEN);
    let (status, _) =
        common::request(&open, "POST", "/publish", &[("Authorization", &bearer)], body).await;
    assert_eq!(status, 200);
    for code in ["0", "1005", "1006", "1015", "2000", "5000"] {
        let (status, _) =
            common::request(&open, "POST", &format!("/control/close?code={code}"), &[], "").await;
        assert_eq!(status, 400, "close code {code} is refused");
    }
    // CORS: an outside page gets no allow-origin header; a loopback test page does.
    let cors = |origin: &'static str| {
        let open = open.clone();
        async move {
            use tokio::io::AsyncReadExt;
            let mut tcp = TcpStream::connect(&open).await.expect("tcp");
            let req = format!("OPTIONS /control/drop HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
            tcp.write_all(req.as_bytes()).await.expect("write");
            let mut out = String::new();
            let _ = tcp.read_to_string(&mut out).await;
            out.to_ascii_lowercase()
        }
    };
    let evil = cors("http://evil.example").await;
    assert!(!evil.contains("access-control-allow-origin"), "{evil}");
    let test_page = cors("http://127.0.0.1:4567").await;
    assert!(
        test_page.contains("access-control-allow-origin: http://127.0.0.1:4567"),
        "{test_page}"
    );
    assert!(!test_page.contains("access-control-allow-origin: *"));
}

#[tokio::test]
async fn the_internal_socketio_gateway_answers_only_the_relay() {
    let (addr, state) = common::start_with_state(wsocket_server::Config::default()).await;
    let internal = state.sio.get().expect("the gateway").0.clone();
    let (status, _) =
        common::request(&internal, "GET", "/socket.io/?EIO=4&transport=polling", &[], "").await;
    assert_eq!(status, 403, "long-polling on the internal port, without the relay's secret");
    let direct = tokio_tungstenite::connect_async(format!(
        "ws://{internal}/socket.io/?EIO=4&transport=websocket"
    ))
    .await;
    assert!(direct.is_err(), "a WebSocket on the internal port without the secret is refused");
    // Through the relay: a 1.9 MB event is over maxPayload (64 KiB) and closed 1009.
    let mut s = tokio_tungstenite::connect_async(format!(
        "ws://{addr}/socket.io/?EIO=4&transport=websocket"
    ))
    .await
    .expect("relay")
    .0;
    let open = next_text(&mut s).await;
    assert!(open.starts_with('0'), "{open}");
    let big = format!(r#"42/events,["message",{{"content":"{}"}}]"#, "z".repeat(1_900_000));
    let _ = s.send(Frame::text(big)).await;
    assert_eq!(closed_with(&mut s, Duration::from_secs(5)).await, 1009);
}

async fn next_text(s: &mut Socket) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.next()).await.expect("a frame") {
            Some(Ok(Frame::Text(t))) => return t.to_string(),
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
}

#[tokio::test]
async fn sigterm_closes_every_connection_with_1012_and_the_process_exits() {
    let mut server = Server::start(&["--drain-timeout-ms", "2000"]);
    let mut a = server.connect("/ws").await;
    let mut b = server.connect("/legacy").await;
    let started = Instant::now();
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    assert_eq!(closed_with(&mut a, Duration::from_secs(3)).await, 1012);
    assert_eq!(closed_with(&mut b, Duration::from_secs(3)).await, 1012);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "exited within the drain timeout");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn metrics_count_what_happened_and_need_loopback_or_a_token() {
    let server = Server::start(&["--metrics-token", "m"]);
    let (status, _) = common::request(&server.addr, "GET", "/metrics", &[], "").await;
    assert_eq!(status, 401, "with --metrics-token, loopback alone is not enough");
    let mut s = server.connect("/ws").await;
    send(&mut s, json!({ "type": "ping", "id": "p" })).await;
    next_json(&mut s).await;
    let (status, body) =
        common::request(&server.addr, "GET", "/metrics", &[("Authorization", "Bearer m")], "")
            .await;
    assert_eq!(status, 200);
    for name in [
        "wsocket_connections ",
        "wsocket_frames_in_total ",
        "wsocket_slow_consumer_disconnects_total ",
        "wsocket_push_queue_depth ",
        "wsocket_auth_failures_total ",
    ] {
        assert!(body.contains(name), "{name} in {body}");
    }
    assert!(body.contains("wsocket_connections 1"), "{body}");
}

#[tokio::test]
async fn a_panicking_connection_task_ends_that_connection_only() {
    let server = Server::start(&["--test-control", "--publish-token", common::PUBLISH_TOKEN]);
    let mut victim = server.connect("/ws?cid=boom").await;
    let mut bystander = server.connect("/ws?cid=calm").await;
    let mut old = server.connect("/legacy?cid=boom-legacy").await;
    for s in [&mut victim, &mut bystander] {
        send(s, json!({ "type": "subscribe", "id": "s", "data": { "topics": ["t"] } })).await;
        assert_eq!(next_json(s).await["type"], "subscribed");
    }
    for cid in ["boom", "boom-legacy"] {
        let (status, body) =
            common::request(&server.addr, "POST", &format!("/control/panic?cid={cid}"), &[], "")
                .await;
        assert_eq!((status, body.as_str()), (200, r#"{"connections":1}"#), "{cid}");
    }
    assert_eq!(closed_with(&mut victim, Duration::from_secs(5)).await, 1006);
    assert_eq!(closed_with(&mut old, Duration::from_secs(5)).await, 1006);

    // The process lives; the bystander still gets pushes; what the dead tasks held is
    // freed (registration, subscription, slot), as if they had closed.
    let bearer = format!("Bearer {}", common::PUBLISH_TOKEN);
    let (status, body) = common::request(
        &server.addr,
        "POST",
        "/publish",
        &[("Authorization", &bearer)],
        r#"{"topic":"t","data":"after"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(reply["delivered"], 1, "only the bystander holds the topic: {body}");
    assert_eq!(next_json(&mut bystander).await["data"], "after");
    for cid in ["boom", "boom-legacy"] {
        let (_, body) = common::request(
            &server.addr,
            "GET",
            &format!("/control/connections?cid={cid}"),
            &[],
            "",
        )
        .await;
        assert!(body.contains(r#""connections":0"#), "{cid}: {body}");
    }
    assert_eq!(server.metric("wsocket_connections").await, 1.0);
    let mut again = server.connect("/ws").await;
    send(&mut again, json!({ "type": "ping", "id": "p" })).await;
    assert_eq!(next_json(&mut again).await["type"], "pong");
}
