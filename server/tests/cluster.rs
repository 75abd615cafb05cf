//! Many nodes over one real Redis (`--redis`), all on loopback: Debian's `redis-server`
//! (installed by `cargo xtask test`), started here on a free port without persistence.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as Frame;
use wsocket::protocol::Message;
use wsocket_server::{AppState, Config};

mod common;
use common::{post, start_with_state, Socket, PUBLISH_TOKEN};

/// A `redis-server` of its own: no RDB, no AOF, so a restart loses everything.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Redis { port, child: None };
        redis.up();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn up(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "yes"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's `redis-server`; `cargo xtask test` installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn command(&self, args: &[&str]) -> redis::Value {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query_async(&mut conn).await.unwrap()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.down();
    }
}

/// A node of the cluster, with `/publish` and the test-control API.
async fn node(redis: &Redis) -> (String, Arc<AppState>) {
    let config = Config {
        redis: Some(redis.url()),
        test_control: true,
        publish_token: Some(PUBLISH_TOKEN.into()),
        rate_limit_per_sec: 100_000,
        ..Config::default()
    };
    let (addr, state) = start_with_state(config).await;
    wait_subscribed(&state).await;
    (addr, state)
}

async fn wait_subscribed(state: &AppState) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !state.cluster.as_ref().unwrap().subscribed() {
        assert!(Instant::now() < deadline, "the node did not subscribe to Redis");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn connect(addr: &str, query: &str) -> Socket {
    let url = format!("ws://{addr}/ws{query}");
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

async fn send(s: &mut Socket, v: Value) {
    common::send_json(s, v).await;
}

async fn recv(s: &mut Socket) -> Message {
    common::recv_message(s).await
}

/// Subscribes to `topic` (from `since`, a `{seq, epoch}`); the `subscribed` answer.
async fn subscribe(s: &mut Socket, topic: &str, since: Option<Value>) -> Value {
    let mut data = json!({ "topics": [topic] });
    if let Some(since) = since {
        data["since"] = json!({ topic: since });
    }
    send(s, json!({ "type": "subscribe", "id": "sub", "data": data })).await;
    let answer = recv(s).await;
    assert_eq!(answer.kind, "subscribed", "{answer:?}");
    answer.data.unwrap()
}

/// The next `n` pushes: (seq, epoch, data.n).
async fn pushes(s: &mut Socket, n: usize) -> Vec<(u64, String, u64)> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let m = recv(s).await;
        if m.topic.is_some() {
            let data = m.data.as_ref().and_then(|d| d["n"].as_u64()).unwrap_or(0);
            got.push((m.seq.unwrap(), m.epoch.unwrap(), data));
        }
    }
    got
}

async fn publish(addr: &str, topic: &str, n: u64) -> Value {
    post(addr, "/publish", &json!({ "topic": topic, "data": { "n": n } }).to_string()).await
}

/// `publish`, again until it goes through (Redis was just restarted: the node's link
/// notices on its next command, and reconnects with backoff); at most 10 s.
async fn publish_when_back(addr: &str, topic: &str, n: u64) -> Value {
    let started = Instant::now();
    loop {
        let answer = publish(addr, topic, n).await;
        if answer["seq"].is_u64() {
            return answer;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "publishing again: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_publish_on_any_node_reaches_every_node_in_one_order() {
    let redis = Redis::start();
    let nodes = [node(&redis).await, node(&redis).await, node(&redis).await];
    let mut clients = Vec::new();
    for (addr, _) in &nodes {
        let mut c = connect(addr, "").await;
        subscribe(&mut c, "orders", None).await;
        clients.push(c);
    }
    for n in 1..=300u64 {
        let answer = publish(&nodes[(n % 3) as usize].0, "orders", n).await;
        assert_eq!(answer["seq"], n, "Redis numbers every node's publishes: {answer}");
        assert_eq!(answer["delivered"], 3, "three nodes receive it");
    }
    for c in &mut clients {
        let got = pushes(c, 300).await;
        let seqs: Vec<u64> = got.iter().map(|p| p.0).collect();
        assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
        assert!(got.iter().all(|p| p.2 == p.0 && p.1 == got[0].1), "one epoch, in publish order");
    }
    // The test-control epoch restart is one node's: with Redis it is refused, with why.
    let (status, body) = common::request(&nodes[0].0, "POST", "/control/epoch", &[], "").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("restart Redis"), "{body}");
}

#[tokio::test]
async fn a_client_that_moves_to_another_node_gets_exactly_what_it_missed() {
    let redis = Redis::start();
    let (a, _) = node(&redis).await;
    let (b, _) = node(&redis).await;
    let mut on_a = connect(&a, "").await;
    subscribe(&mut on_a, "feed", None).await;
    for n in 1..=10 {
        publish(&a, "feed", n).await;
    }
    let seen = pushes(&mut on_a, 10).await;
    let epoch = seen[9].1.clone();
    drop(on_a);
    for n in 11..=30 {
        publish(&b, "feed", n).await;
    }
    let mut on_b = connect(&b, "").await;
    let answer = subscribe(&mut on_b, "feed", Some(json!({ "seq": 10, "epoch": epoch }))).await;
    assert_eq!(answer["recovered"]["feed"], true, "{answer}");
    assert_eq!(answer["positions"]["feed"]["seq"], 30);
    publish(&a, "feed", 31).await;
    let got = pushes(&mut on_b, 21).await;
    assert_eq!(got.iter().map(|p| p.0).collect::<Vec<_>>(), (11..=31).collect::<Vec<_>>());
    // Too far back (the epoch is another's): not recovered, the client reports a gap.
    let mut late = connect(&b, "").await;
    let answer = subscribe(&mut late, "feed", Some(json!({ "seq": 3, "epoch": "other" }))).await;
    assert_eq!(answer["recovered"]["feed"], false);
}

#[tokio::test]
async fn a_reliable_publish_resent_to_another_node_takes_effect_once() {
    let redis = Redis::start();
    let (a, _) = node(&redis).await;
    let (b, _) = node(&redis).await;
    let mut watcher = connect(&a, "").await;
    subscribe(&mut watcher, "ledger", None).await;
    let message =
        json!({ "type": "publish", "id": "entry-1", "topic": "ledger", "data": { "n": 1 } });
    for addr in [&a, &b, &b] {
        let mut publisher = connect(addr, "?client=till-7").await;
        send(&mut publisher, message.clone()).await;
        let ack = recv(&mut publisher).await;
        assert_eq!((ack.kind.as_str(), ack.id.as_deref()), ("ack", Some("entry-1")));
    }
    let mut publisher = connect(&b, "?client=till-7").await;
    let next = json!({ "type": "publish", "id": "entry-2", "topic": "ledger", "data": { "n": 2 } });
    send(&mut publisher, next).await;
    // A backend's `POST /publish` with an id, retried on each node.
    let body = json!({ "topic": "ledger", "id": "job-3", "data": { "n": 3 } }).to_string();
    assert_eq!(post(&a, "/publish", &body).await["seq"], 3);
    for addr in [&a, &b] {
        assert_eq!(post(addr, "/publish", &body).await, json!({ "duplicate": true }));
    }
    let got = pushes(&mut watcher, 3).await;
    assert_eq!(got.iter().map(|p| (p.0, p.2)).collect::<Vec<_>>(), vec![(1, 1), (2, 2), (3, 3)]);
}

#[tokio::test]
async fn redis_losing_its_data_gives_one_new_epoch_and_delivery_goes_on() {
    let mut redis = Redis::start();
    let (a, state_a) = node(&redis).await;
    let (b, state_b) = node(&redis).await;
    let mut client = connect(&b, "").await;
    subscribe(&mut client, "t1", None).await;
    for n in 1..=5 {
        publish(&a, "t1", n).await;
    }
    let before = pushes(&mut client, 5).await;
    redis.down();
    redis.up();
    wait_subscribed(&state_a).await;
    wait_subscribed(&state_b).await;
    for n in 6..=10 {
        publish_when_back(&a, "t1", n).await;
    }
    let after = pushes(&mut client, 5).await;
    assert_ne!(after[0].1, before[0].1, "a new epoch");
    assert_eq!(
        after.iter().map(|p| (p.0, p.2)).collect::<Vec<_>>(),
        (1..=5).zip(6..=10).collect::<Vec<_>>()
    );
    assert!(after.iter().all(|p| p.1 == after[0].1), "one epoch change, not one per push");
}

#[tokio::test]
async fn while_redis_is_down_publishes_fail_clearly_and_nodes_recover_after() {
    let mut redis = Redis::start();
    let (a, state_a) = node(&redis).await;
    let (b, _) = node(&redis).await;
    let mut client = connect(&b, "").await;
    let first = subscribe(&mut client, "t2", None).await;
    publish(&a, "t2", 1).await;
    assert_eq!(pushes(&mut client, 1).await[0].0, 1);
    let epoch = first["positions"]["t2"]["epoch"].clone();
    redis.down();
    let started = Instant::now();
    // HTTP: 503 with the reason; WebSocket: UNAVAILABLE, and the connection stays.
    let body = json!({ "topic": "t2", "data": { "n": 2 } }).to_string();
    let (status, text) = common::request(
        &a,
        "POST",
        "/publish",
        &[("Authorization", &format!("Bearer {PUBLISH_TOKEN}"))],
        &body,
    )
    .await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("Redis"), "{text}");
    let mut publisher = connect(&a, "").await;
    send(&mut publisher, json!({ "type": "publish", "id": "x", "topic": "t2", "data": {} })).await;
    let error = recv(&mut publisher).await;
    assert_eq!(error.error.as_ref().map(|e| e.code.as_str()), Some("UNAVAILABLE"), "{error:?}");
    // Without an id the publish is not waited for (it is pipelined), but its failure
    // still comes back.
    send(&mut publisher, json!({ "type": "publish", "topic": "t2", "data": {} })).await;
    let error = recv(&mut publisher).await;
    assert_eq!(error.error.as_ref().map(|e| e.code.as_str()), Some("UNAVAILABLE"), "{error:?}");
    assert_eq!(error.id, None);
    // A subscribe is still answered, from what the node knows.
    let mut other = connect(&b, "").await;
    let answer = subscribe(&mut other, "t2", Some(json!({ "seq": 1, "epoch": epoch }))).await;
    assert_eq!(answer["recovered"]["t2"], true, "{answer}");
    let (status, _) = common::request(&b, "GET", "/healthz", &[], "").await;
    assert_eq!(status, 200);
    let (_, metrics) = common::request(&a, "GET", "/metrics", &[], "").await;
    assert!(!metrics.contains("wsocket_redis_errors_total 0"), "failures counted: {metrics}");
    let waited = started.elapsed();
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(waited)).await;
    redis.up();
    wait_subscribed(&state_a).await;
    let back = Instant::now();
    let answer = publish_when_back(&a, "t2", 3).await;
    assert_eq!(answer["seq"], 1, "Redis came back empty: a new epoch");
    let got = pushes(&mut client, 1).await;
    assert_eq!((got[0].0, got[0].2), (1, 3));
    println!(
        "Redis down {:.1} s; publishing again {} ms after it was back",
        started.elapsed().as_secs_f64(),
        back.elapsed().as_millis()
    );
}

#[tokio::test]
async fn pushes_published_while_a_node_is_cut_from_pub_sub_are_caught_up_in_order() {
    let redis = Redis::start();
    let (a, _) = node(&redis).await;
    let (b, state_b) = node(&redis).await;
    let mut client = connect(&b, "").await;
    subscribe(&mut client, "t3", None).await;
    publish(&a, "t3", 1).await;
    assert_eq!(pushes(&mut client, 1).await[0].0, 1);
    // Redis drops every Pub/Sub link (as it does to a subscriber past its output
    // buffer limit); what is published before the nodes subscribe again is read from the
    // history.
    redis.command(&["CLIENT", "KILL", "TYPE", "pubsub"]).await;
    for n in 2..=50 {
        publish(&a, "t3", n).await;
    }
    wait_subscribed(&state_b).await;
    for n in 51..=60 {
        publish(&a, "t3", n).await;
    }
    let got = pushes(&mut client, 59).await;
    assert_eq!(got.iter().map(|p| p.0).collect::<Vec<_>>(), (2..=60).collect::<Vec<_>>());
    // Operators see it: the pushes read from the history, and the link up again.
    let (_, metrics) = common::request(&b, "GET", "/metrics", &[], "").await;
    let value = |name: &str| {
        metrics.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok()).unwrap_or(0)
    };
    assert!(value("wsocket_redis_caught_up_total") > 0, "{metrics}");
    assert_eq!(value("wsocket_redis_subscribed"), 1, "{metrics}");
}

#[tokio::test]
async fn history_in_redis_is_bounded_in_count_and_bytes() {
    let redis = Redis::start();
    let config = Config {
        redis: Some(redis.url()),
        publish_token: Some(PUBLISH_TOKEN.into()),
        history: 20,
        history_bytes: 4_000,
        ..Config::default()
    };
    let (a, state) = start_with_state(config).await;
    wait_subscribed(&state).await;
    for n in 1..=50 {
        publish(&a, "small", n).await;
    }
    let len = redis.command(&["XLEN", "wsocket:{small}:hist"]).await;
    assert_eq!(len, redis::Value::Int(20));
    let big = "x".repeat(1_000);
    for _ in 0..10 {
        post(&a, "/publish", &json!({ "topic": "big", "data": big }).to_string()).await;
    }
    let redis::Value::Int(len) = redis.command(&["XLEN", "wsocket:{big}:hist"]).await else {
        panic!("XLEN")
    };
    assert!((1..=3).contains(&len), "about 4,000 bytes of 1 KB pushes: {len}");
}

#[tokio::test]
async fn a_client_that_returns_to_a_node_gets_each_push_once() {
    // A node follows a topic only while it has subscribers there: where it stood when the
    // last one left is stale, and must not be taken for missed pushes when one returns.
    let redis = Redis::start();
    let (a, _) = node(&redis).await;
    let mut first = connect(&a, "").await;
    subscribe(&mut first, "back", None).await;
    for n in 1..=10 {
        publish(&a, "back", n).await;
    }
    let epoch = pushes(&mut first, 10).await[9].1.clone();
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for n in 11..=110 {
        publish(&a, "back", n).await;
    }
    let mut again = connect(&a, "").await;
    let answer = subscribe(&mut again, "back", Some(json!({ "seq": 10, "epoch": epoch }))).await;
    assert_eq!(answer["recovered"]["back"], true);
    publish(&a, "back", 111).await;
    publish(&a, "back", 112).await;
    let got = pushes(&mut again, 102).await;
    assert_eq!(got.iter().map(|p| p.0).collect::<Vec<_>>(), (11..=112).collect::<Vec<_>>());
}

/// A Socket.IO client on `/events`, spoken frame by frame through the `/socket.io/` relay.
async fn sio_connect(addr: &str) -> Socket {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let mut ws = tokio_tungstenite::connect_async(url).await.unwrap().0;
    assert!(common::sio_next(&mut ws).await.starts_with("0{"));
    ws.send(Frame::text("40/events,")).await.unwrap();
    assert!(common::sio_next(&mut ws).await.starts_with("40/events,{\"sid\":"));
    ws
}

#[tokio::test]
async fn socket_io_rooms_and_broadcasts_span_the_nodes() {
    let mut redis = Redis::start();
    let (a, _) = node(&redis).await;
    let (b, _) = node(&redis).await;
    let mut on_a = sio_connect(&a).await;
    let mut on_b = sio_connect(&b).await;
    let mut outside = sio_connect(&b).await;
    on_a.send(Frame::text(r#"42/events,1["join",{"room":"lobby"}]"#)).await.unwrap();
    assert_eq!(
        common::sio_next(&mut on_a).await,
        r#"43/events,1[{"room":"lobby","success":true}]"#
    );
    on_b.send(Frame::text(r#"42/events,1["join",{"room":"lobby"}]"#)).await.unwrap();
    assert_eq!(
        common::sio_next(&mut on_b).await,
        r#"43/events,1[{"room":"lobby","success":true}]"#
    );
    let joined = common::sio_next(&mut on_a).await;
    assert!(joined.starts_with(r#"42/events,["user:joined","#), "b's join reaches a: {joined}");
    on_b.send(Frame::text(r#"42/events,2["message",{"room":"lobby","content":"hi"}]"#))
        .await
        .unwrap();
    assert_eq!(common::sio_next(&mut on_b).await, r#"43/events,2[{"success":true}]"#);
    let got = common::sio_next(&mut on_a).await;
    assert!(got.contains(r#""content":"hi""#), "a room message from node b on node a: {got}");
    // A server-initiated broadcast to the room, posted to node a, reaches node b's member
    // and not the socket outside the room.
    let body = json!({ "event": "notice", "data": { "n": 1 }, "room": "lobby" }).to_string();
    assert_eq!(post(&a, "/socketio/broadcast", &body).await["sent"], true);
    assert_eq!(common::sio_next(&mut on_b).await, r#"42/events,["notice",{"n":1}]"#);
    assert_eq!(common::sio_next(&mut on_a).await, r#"42/events,["notice",{"n":1}]"#);
    let everyone = json!({ "event": "all", "data": 2 }).to_string();
    post(&a, "/socketio/broadcast", &everyone).await;
    assert_eq!(common::sio_next(&mut outside).await, r#"42/events,["all",2]"#, "the first it gets");
    // Redis restarts: the adapter's link comes back and subscribes again.
    redis.down();
    redis.up();
    let started = Instant::now();
    let again = json!({ "event": "again", "data": 3 }).to_string();
    loop {
        post(&a, "/socketio/broadcast", &again).await;
        let next =
            tokio::time::timeout(Duration::from_millis(300), common::sio_next(&mut outside)).await;
        if let Ok(packet) = next {
            assert_eq!(packet, r#"42/events,["again",3]"#);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no broadcast across nodes after a Redis restart"
        );
    }
    println!(
        "Socket.IO across nodes again {} ms after Redis restarted",
        started.elapsed().as_millis()
    );
}
