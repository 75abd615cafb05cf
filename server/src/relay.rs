//! `/socket.io/`: a frame-for-frame WebSocket relay to the Socket.IO server (the internal
//! socketioxide gateway, or `--socketio-upstream`, e.g. the reference `socket.io` server
//! from npm in the test tier). It changes nothing on the wire; it is where the test-control
//! API acts on Socket.IO connections (by the `cid` query parameter): drop the connection
//! abruptly, close with a code, stall (nothing reaches the client, not even pings: a dead
//! server), or send a raw frame.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message as AxMessage, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as TMessage;

use crate::conns::{Control, Slot};
use crate::ws::Guard;
use crate::AppState;

/// Relays one browser connection to `upstream_url`, presenting `secret` to the internal
/// gateway. The browser's frames are bounded by `max_frame_bytes` (the gateway's
/// `maxPayload`) before they are buffered: a larger one is closed with 1009.
pub async fn serve(
    client: WebSocket,
    state: Arc<AppState>,
    upstream_url: String,
    secret: Option<String>,
    cid: Option<String>,
    slot: Slot,
) {
    let (guard, mut ctl_rx) = Guard::new(state.clone(), slot, cid);
    let request = match upstream_url.as_str().into_client_request() {
        Ok(mut request) => {
            if let Some(secret) = secret.as_deref().and_then(|s| s.parse().ok()) {
                request.headers_mut().insert(crate::sio::RELAY_HEADER, secret);
            }
            request
        }
        Err(_) => return,
    };
    let Ok((upstream, _)) = tokio_tungstenite::connect_async(request).await else {
        let (mut sink, _) = client.split();
        let frame = CloseFrame {
            code: 1011,
            reason: Utf8Bytes::from_static("socket.io upstream unreachable"),
        };
        let _ = sink.send(AxMessage::Close(Some(frame))).await;
        return;
    };
    let (mut up_tx, mut up_rx) = upstream.split();
    let (mut tx, mut rx) = client.split();
    let mut shutdown = state.conns.on_shutdown();
    let stop = crate::conns::stopping(&mut shutdown);
    tokio::pin!(stop);
    let mut stalled = false;
    // Stalled and the upstream gave up on the silent client: the browser keeps a socket
    // on which nothing ever arrives again (a dead server, as the watchdog must find it).
    let mut upstream_gone = false;
    loop {
        tokio::select! {
            from_client = rx.next() => match from_client {
                Some(Ok(AxMessage::Text(t))) => {
                    if up_tx.send(TMessage::text(t.as_str())).await.is_err() && !upstream_gone { break; }
                }
                Some(Ok(AxMessage::Binary(b))) => {
                    if up_tx.send(TMessage::binary(b)).await.is_err() && !upstream_gone { break; }
                }
                Some(Ok(AxMessage::Close(_))) => {
                    // tungstenite queued the echo of the client's close; the flush sends it.
                    let _ = tokio::time::timeout(state.config.write_timeout, tx.flush()).await;
                    let _ = up_tx.close().await;
                    break;
                }
                Some(Err(e)) => {
                    if let Some((code, reason)) = guard.read_error(e) {
                        guard.close(&mut tx, code, reason).await;
                    }
                    let _ = up_tx.close().await;
                    break;
                }
                None => {
                    let _ = up_tx.close().await;
                    break;
                }
                Some(Ok(_)) => {}
            },
            from_upstream = up_rx.next(), if !upstream_gone => match from_upstream {
                Some(Ok(TMessage::Text(t))) => {
                    if !stalled && guard.write(&mut tx, AxMessage::Text(Utf8Bytes::from(t.as_str()))).await.is_err() { break; }
                }
                Some(Ok(TMessage::Binary(b))) => {
                    if !stalled && guard.write(&mut tx, AxMessage::Binary(b)).await.is_err() { break; }
                }
                Some(Ok(TMessage::Close(_))) | None | Some(Err(_)) if stalled => upstream_gone = true,
                Some(Ok(TMessage::Close(frame))) => {
                    let frame = frame.map(|f| CloseFrame { code: f.code.into(), reason: Utf8Bytes::from(f.reason.as_str()) });
                    let _ = tx.send(AxMessage::Close(frame)).await;
                    break;
                }
                None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            () = &mut stop => {
                guard.close(&mut tx, crate::ws::codes::SERVICE_RESTART, "server restart").await;
                let _ = up_tx.close().await;
                break;
            }
            control = ctl_rx.recv() => match control {
                // Both ends dropped without a close frame: the browser sees 1006, the
                // Socket.IO server a transport error.
                Some(Control::Drop) | None => break,
                Some(Control::Close(code, reason, _)) => {
                    let _ = tx.send(AxMessage::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(reason) }))).await;
                    break;
                }
                Some(Control::Stall(on)) => stalled = on,
                Some(Control::Raw(text)) => {
                    let _ = tx.send(AxMessage::Text(Utf8Bytes::from(text))).await;
                }
                Some(Control::Binary(bytes)) => {
                    let _ = tx.send(AxMessage::Binary(bytes.into())).await;
                }
                Some(Control::Flood(_)) => {}
                Some(Control::Panic) => panic!("connection {}: /control/panic", guard.conn),
            },
        }
    }
}
