//! `/legacy`: the event-JSON protocol of the old `Wsocket.js` backends, with a market feed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use wsocket::protocol::EventMessage;

use crate::conns::{Control, Slot};
use crate::ws::codes::{self, UNAUTHORIZED};
use crate::ws::{Flow, Guard, Params, Refused};
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

/// Runs one `/legacy` connection, under the same policy as `/ws` (`ws::Guard`): when the
/// server requires credentials, `?token=` or a first `{"event": "auth", "data": {"token"}}`
/// (answered `auth_ok`), else an `error` event and close 4001.
pub async fn serve(socket: WebSocket, state: Arc<AppState>, params: Params, slot: Slot) {
    let (mut sink, mut stream) = socket.split();
    let (mut guard, mut ctl_rx) = Guard::new(state.clone(), slot, params.cid.clone());
    let mut shutdown = state.conns.on_shutdown();
    let mut symbols: BTreeSet<String> = BTreeSet::new();
    let mut ticker = tokio::time::interval(MARKET_TICK);
    let mut tick: u64 = 0;
    let mut stalled = false;
    let mut flow = Flow::Continue;
    let mut out: Vec<Utf8Bytes> = Vec::new();
    if let Some(token) = params.token.as_deref() {
        if let Err(why) = guard.authenticate(token) {
            flow = refuse(&why, None, &mut out);
        }
    }
    let stop = crate::conns::stopping(&mut shutdown);
    let timer = tokio::time::sleep_until(guard.next().0);
    tokio::pin!(stop, timer);
    'conn: {
        while let Flow::Continue = flow {
            // Stalled: half-open. What arrives is still processed, nothing gets back.
            if stalled {
                out.clear();
            }
            if !out.is_empty() && guard.write_all(&mut sink, &mut out).await.is_err() {
                break 'conn;
            }
            tokio::select! {
                inbound = stream.next() => match inbound {
                    Some(Ok(WsMessage::Text(text))) => match guard.arrived() {
                        Ok(()) => flow = on_text(&text, &mut symbols, &mut guard, &mut out),
                        Err(Some(Flow::Continue)) => out.push(event("error", json!({ "code": "RATE_LIMITED", "message": "too many messages per second" }), None)),
                        Err(Some(close)) => flow = close,
                        Err(None) => {}
                    },
                    Some(Ok(WsMessage::Close(_))) => {
                        let _ = tokio::time::timeout(state.config.write_timeout, sink.flush()).await;
                        break;
                    }
                    Some(Ok(_)) => {
                        if let Err(Some(f)) = guard.arrived() {
                            flow = f;
                        }
                    }
                    Some(Err(e)) => {
                        if let Some((code, reason)) = guard.read_error(e) {
                            guard.close(&mut sink, code, reason).await;
                        }
                        break 'conn;
                    }
                    None => break,
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
                () = &mut timer => {
                    if let Some(why) = guard.due(timer.as_mut()) {
                        let (error, close) = guard.expired(why);
                        if let Some(text) = error {
                            out.push(refusal(text, None));
                        }
                        flow = close;
                    }
                }
                () = &mut stop => flow = Flow::Close(codes::SERVICE_RESTART, "server restart"),
                control = ctl_rx.recv() => match control {
                    Some(Control::Drop) | None => break 'conn,
                    Some(Control::Close(code, reason, _)) => {
                        guard.close(&mut sink, code, &reason).await;
                        break;
                    }
                    Some(Control::Stall(on)) => stalled = on,
                    Some(Control::Raw(text)) => out.push(Utf8Bytes::from(text)),
                    Some(Control::Binary(bytes)) => {
                        let _ = guard.write(&mut sink, WsMessage::Binary(bytes.into())).await;
                    }
                    Some(Control::Flood(_)) => {}
                    Some(Control::Panic) => panic!("connection {}: /control/panic", guard.conn),
                },
            }
        }
        if let Flow::Close(code, reason) = flow {
            if guard.write_all(&mut sink, &mut out).await.is_err() {
                break 'conn;
            }
            guard.close(&mut sink, code, reason).await;
            guard.linger(&mut stream).await;
        }
    }
}

/// Answers a refused authentication: the error event (bad credentials), and the close.
fn refuse(why: &Refused, id: Option<String>, out: &mut Vec<Utf8Bytes>) -> Flow {
    let (error, close) = why.outcome();
    if let Some(text) = error {
        out.push(refusal(text, id));
    }
    close
}

fn refusal(why: &str, id: Option<String>) -> Utf8Bytes {
    event("error", json!({ "code": "UNAUTHORIZED", "message": why }), id)
}

fn on_text(
    text: &str,
    symbols: &mut BTreeSet<String>,
    guard: &mut Guard,
    out: &mut Vec<Utf8Bytes>,
) -> Flow {
    // The legacy heartbeat is a bare text frame; answer so a client watchdog sees life.
    if text == "PONG" || text == "PING" {
        out.push(event("pong", Value::Null, None));
        return Flow::Continue;
    }
    let m: EventMessage = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            let data = json!({ "code": "BAD_REQUEST", "message": e.to_string() });
            out.push(event("error", data, None));
            return Flow::Continue;
        }
    };
    let max_id = guard.state.config.max_id_bytes;
    if m.id.as_ref().is_some_and(|id| id.len() > max_id) {
        let data =
            json!({ "code": "BAD_REQUEST", "message": format!("an id is at most {max_id} bytes") });
        out.push(event("error", data, None));
        return Flow::Continue;
    }
    if m.event == "auth" {
        let token = m.data.as_ref().and_then(|d| d.get("token")).and_then(Value::as_str);
        return match guard.authenticate(token.unwrap_or_default()) {
            Ok(()) => {
                out.push(event("auth_ok", Value::Null, m.id));
                Flow::Continue
            }
            Err(why) => refuse(&why, m.id, out),
        };
    }
    if !guard.authed() {
        out.push(refusal("authenticate first", m.id));
        return Flow::Close(UNAUTHORIZED, "unauthorized");
    }
    out.extend(answer(m, symbols));
    Flow::Continue
}

fn answer(m: EventMessage, symbols: &mut BTreeSet<String>) -> Vec<Utf8Bytes> {
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
