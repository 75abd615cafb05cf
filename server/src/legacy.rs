//! `/legacy`: the event-JSON protocol of the old `Wsocket.js` backends, with a market feed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use wsocket::protocol::EventMessage;

use crate::conns::Control;
use crate::AppState;

/// How often subscribed symbols tick.
pub const MARKET_TICK: Duration = Duration::from_millis(250);

fn event(name: &str, data: Value, id: Option<String>) -> Utf8Bytes {
    let m = EventMessage {
        event: name.to_owned(),
        message: Some("ok".to_owned()),
        data: Some(data),
        id,
    };
    Utf8Bytes::from(serde_json::to_string(&m).unwrap_or_default())
}

/// A deterministic price walk, so the demo looks alive and tests can check shapes.
pub fn price(symbol: &str, tick: u64) -> f64 {
    let base = symbol.bytes().map(f64::from).sum::<f64>() * 100.0;
    let wave = ((tick as f64) / 7.0).sin() * base * 0.01;
    ((base + wave) * 100.0).round() / 100.0
}

/// Runs one `/legacy` connection.
pub async fn serve(socket: WebSocket, state: Arc<AppState>, cid: Option<String>) {
    let (mut sink, mut stream) = socket.split();
    let (ctl_tx, mut ctl_rx) = mpsc::unbounded_channel();
    let conn = state.conns.add(cid, ctl_tx);
    let mut symbols: BTreeSet<String> = BTreeSet::new();
    let mut ticker = tokio::time::interval(MARKET_TICK);
    let mut tick: u64 = 0;
    let mut stalled = false;
    loop {
        let mut out: Vec<Utf8Bytes> = Vec::new();
        tokio::select! {
            inbound = stream.next() => match inbound {
                Some(Ok(WsMessage::Text(text))) => out.extend(on_text(&text, &mut symbols)),
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ticker.tick() => {
                if !stalled {
                    tick += 1;
                    for s in &symbols {
                        let data = json!({ "symbol": s, "price": price(s, tick), "tick": tick });
                        out.push(event("market_data", data, None));
                    }
                }
            }
            control = ctl_rx.recv() => match control {
                Some(Control::Drop) | None => break,
                Some(Control::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: Utf8Bytes::from(reason) };
                    let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    break;
                }
                Some(Control::Stall(on)) => stalled = on,
                Some(Control::Raw(text)) => out.push(Utf8Bytes::from(text)),
                Some(Control::Binary(bytes)) => {
                    let _ = sink.send(WsMessage::Binary(bytes.into())).await;
                }
                Some(Control::Flood(_)) => {}
            },
        }
        // Stalled: half-open. What arrives is still processed, nothing gets back.
        if stalled {
            out.clear();
        }
        for text in out {
            if sink.send(WsMessage::Text(text)).await.is_err() {
                state.conns.remove(conn);
                return;
            }
        }
    }
    state.conns.remove(conn);
}

fn on_text(text: &str, symbols: &mut BTreeSet<String>) -> Vec<Utf8Bytes> {
    // The legacy heartbeat is a bare text frame; answer so a client watchdog sees life.
    if text == "PONG" || text == "PING" {
        return vec![event("pong", Value::Null, None)];
    }
    let m: EventMessage = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            return vec![event(
                "error",
                json!({ "code": "BAD_REQUEST", "message": e.to_string() }),
                None,
            )]
        }
    };
    let list = |data: &Option<Value>| -> Vec<String> {
        data.as_ref()
            .and_then(|d| d.get("symbols"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_else(|| vec!["BTC-USD".to_owned(), "ETH-USD".to_owned()])
    };
    match m.event.as_str() {
        "ping" => vec![event("pong", Value::Null, m.id)],
        "market_subscribe" => {
            let wanted = list(&m.data);
            symbols.extend(wanted.iter().cloned());
            vec![event("market_subscribe", json!({ "symbols": wanted }), m.id)]
        }
        "market_unsubscribe" => {
            let gone = list(&m.data);
            for s in &gone {
                symbols.remove(s);
            }
            vec![event("market_unsubscribe", json!({ "symbols": gone }), m.id)]
        }
        "get_unread_message" => vec![event("get_unread_message", json!({ "count": 3 }), m.id)],
        "echo" => vec![event("echo", m.data.unwrap_or(Value::Null), m.id)],
        other => {
            let data = json!({ "code": "UNKNOWN_MESSAGE_TYPE", "message": format!("unknown event `{other}`") });
            vec![event("error", data, m.id)]
        }
    }
}
