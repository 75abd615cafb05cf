//! Load generator for the wsocket benchmarks. Loopback only, every loop bounded in count
//! and time. Prints one JSON line per run.
//!
//! - `flood ADDR COUNT`: how fast a native client receives COUNT frames from the
//!   server's flood: proof that the sender is not what limits the browser benchmark.
//! - `hold ADDR PATH N`: opens N connections, checks each answers, reports how many held.
//! - `fanout ADDRS PATH KIND SUBSCRIBERS MESSAGES`: KIND `wsocket` (subscribe/publish on
//!   the companion server), `broadcast` (a plain broadcast server such as Node `ws`) or
//!   `socketio` (a Socket.IO server that broadcasts each `fan` event to the others):
//!   publish MESSAGES, measure deliveries per second and publish-to-receive latency.
//!   ADDRS may name several nodes (`a,b,c`): subscribers are spread over them in turn, the
//!   publisher is on the first.
//!
//! Holding thousands of sockets needs a raised open-file limit; `bench/run.mjs` starts
//! this program and the servers under `ulimit -n 65536`.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const LIMIT: Duration = Duration::from_secs(120);

fn loopback(addr: &str) -> String {
    assert!(
        addr.starts_with("127.0.0.1:"),
        "the load generator targets 127.0.0.1 only, not {addr}"
    );
    addr.to_owned()
}

async fn connect(url: &str) -> Socket {
    tokio_tungstenite::connect_async(url).await.unwrap_or_else(|e| panic!("{url}: {e}")).0
}

async fn post(addr: &str, path: &str) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("server");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
}

async fn next_text(s: &mut Socket) -> Option<String> {
    loop {
        match tokio::time::timeout(LIMIT, s.next()).await.ok()?? {
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn flood(addr: &str, count: u32) -> Value {
    let mut s = connect(&format!("ws://{addr}/ws?cid=loadgen-flood")).await;
    let start = Instant::now();
    post(addr, &format!("/control/flood?cid=loadgen-flood&count={count}")).await;
    let mut got = 0;
    while got < count {
        if next_text(&mut s).await.is_none() {
            break;
        }
        got += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    json!({ "mode": "flood", "frames": got, "seconds": secs, "per_second": f64::from(got) / secs })
}

async fn hold(addr: &str, path: &str, n: usize) -> Value {
    let start = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (url, sem) = (format!("ws://{addr}{path}"), sem.clone());
        tasks.push(tokio::spawn(async move {
            let permit = sem.acquire_owned().await.ok()?;
            let socket = tokio::time::timeout(
                Duration::from_secs(30),
                tokio_tungstenite::connect_async(url),
            )
            .await
            .ok()?
            .ok()?
            .0;
            drop(permit);
            Some(socket)
        }));
    }
    let mut sockets = Vec::new();
    for t in tasks {
        if let Ok(Some(s)) = t.await {
            sockets.push(s);
        }
    }
    let opened = sockets.len();
    // Every held connection must still answer.
    let mut alive = 0;
    for s in sockets.iter_mut() {
        if s.send(Message::text(r#"{"type":"ping","id":"h"}"#)).await.is_ok()
            && next_text(s).await.is_some_and(|t| t.contains("pong"))
        {
            alive += 1;
        }
    }
    json!({ "mode": "hold", "requested": n, "opened": opened, "answering": alive, "seconds": start.elapsed().as_secs_f64() })
}

/// A Socket.IO client of the default namespace (Engine.IO 4, WebSocket transport).
async fn sio_connect(url: &str) -> Socket {
    let mut s = connect(url).await;
    let _ = next_text(&mut s).await; // the Engine.IO open packet
    let _ = s.send(Message::text("40")).await;
    while let Some(t) = next_text(&mut s).await {
        if t.starts_with("40") {
            break;
        }
    }
    s
}

/// The next frame's text; a Socket.IO ping is answered and skipped.
async fn next_event(s: &mut Socket) -> Option<String> {
    loop {
        let t = next_text(s).await?;
        if t == "2" {
            let _ = s.send(Message::text("3")).await;
            continue;
        }
        return Some(t);
    }
}

async fn fanout(
    addrs: &[String],
    path: &str,
    kind: &str,
    subscribers: usize,
    messages: usize,
) -> Value {
    let url = |i: usize| {
        let addr = &addrs[i % addrs.len()];
        if kind == "socketio" {
            format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")
        } else {
            format!("ws://{addr}{path}")
        }
    };
    let epoch = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u64>>();
    let ready = std::sync::Arc::new(tokio::sync::Barrier::new(subscribers + 1));
    for i in 0..subscribers {
        let (url, tx, ready, kind) = (url(i), tx.clone(), ready.clone(), kind.to_owned());
        tokio::spawn(async move {
            let mut s =
                if kind == "socketio" { sio_connect(&url).await } else { connect(&url).await };
            if kind == "wsocket" {
                let _ = s
                    .send(Message::text(
                        r#"{"type":"subscribe","id":"s","data":{"topics":["fan"]}}"#,
                    ))
                    .await;
                while let Some(t) = next_text(&mut s).await {
                    if t.contains("subscribed") {
                        break;
                    }
                }
            }
            ready.wait().await;
            let mut latencies = Vec::with_capacity(messages);
            while latencies.len() < messages {
                let Some(t) = next_event(&mut s).await else { break };
                // A Socket.IO event is `42["fan",{"t":..}]`.
                let json = if kind == "socketio" { t.strip_prefix("42").unwrap_or("") } else { &t };
                let v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
                let data = if kind == "socketio" { &v[1] } else { &v["data"] };
                if let Some(sent) = data["t"].as_u64() {
                    latencies.push(epoch.elapsed().as_micros() as u64 - sent);
                }
            }
            let _ = tx.send(latencies);
        });
    }
    drop(tx);
    let mut publisher =
        if kind == "socketio" { sio_connect(&url(0)).await } else { connect(&url(0)).await };
    ready.wait().await;
    let start = Instant::now();
    for _ in 0..messages {
        let t = epoch.elapsed().as_micros() as u64;
        let frame = match kind {
            "wsocket" => {
                json!({ "type": "publish", "topic": "fan", "event": "fan", "data": { "t": t } })
                    .to_string()
            }
            "socketio" => format!("42{}", json!(["fan", { "t": t }])),
            _ => json!({ "type": "fan", "data": { "t": t } }).to_string(),
        };
        publisher.send(Message::text(frame)).await.expect("publish");
    }
    let mut all = Vec::with_capacity(subscribers * messages);
    while let Ok(Some(l)) = tokio::time::timeout(LIMIT, rx.recv()).await {
        all.extend(l);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    json!({
        "mode": "fanout", "kind": kind, "nodes": addrs.len(), "subscribers": subscribers, "messages": messages,
        "deliveries": all.len(), "seconds": secs, "deliveries_per_second": all.len() as f64 / secs,
        "latency_us_p50": pct(0.5), "latency_us_p99": pct(0.99),
    })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let num = |i: usize| {
        arg(i).parse::<usize>().unwrap_or_else(|_| panic!("argument {i} must be a number"))
    };
    let result = match arg(0).as_str() {
        "flood" => flood(&loopback(&arg(1)), num(2) as u32).await,
        "hold" => hold(&loopback(&arg(1)), &arg(2), num(3)).await,
        "fanout" => {
            let addrs: Vec<String> = arg(1).split(',').map(loopback).collect();
            fanout(&addrs, &arg(2), &arg(3), num(4), num(5)).await
        }
        _ => {
            eprintln!("usage: wsocket-loadgen flood ADDR COUNT | hold ADDR PATH N | fanout ADDR[,ADDR..] PATH wsocket|broadcast|socketio SUBSCRIBERS MESSAGES");
            std::process::exit(2)
        }
    };
    println!("{result}");
}
