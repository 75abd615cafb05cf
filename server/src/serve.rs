//! Serving the router: the accept loop with its bounds (`max_http_connections` in the
//! HTTP phase, `header_read_timeout` against slowloris), the peer address for handlers
//! (`ConnectInfo`), the hub's sweeper, and graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::{app, AppState};

/// Serves `app(state)` on `listener` until `shutdown` completes, then closes every
/// WebSocket with 1012 (service restart, so clients reconnect at once elsewhere) and
/// waits up to `drain_timeout` for them to go.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router = app(state.clone());
    let http_slots = Arc::new(Semaphore::new(state.config.max_http_connections.max(1)));
    let sweeper = tokio::spawn(sweep(state.clone()));
    // Many nodes: every node's pushes, through Redis (does nothing without `--redis`).
    let bus = tokio::spawn(crate::cluster::run(state.clone()));
    let mut draining = state.conns.on_shutdown();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
            _ = draining.changed() => break,
        };
        let Ok(permit) = http_slots.clone().try_acquire_owned() else {
            state.metrics.http_refused.inc();
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(request)
                });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(state.config.header_read_timeout)
                .keep_alive(true);
            let connection = http.serve_connection(TokioIo::new(tcp), service).with_upgrades();
            tokio::pin!(connection);
            let mut stop = state.conns.on_shutdown();
            tokio::select! {
                _ = connection.as_mut() => {}
                () = crate::conns::stopping(&mut stop) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            // The HTTP phase is over (an upgraded WebSocket lives on in its own task).
            drop(permit);
        });
    }
    tracing::info!("shutting down: closing connections with 1012");
    state.conns.shut_down();
    let deadline = tokio::time::Instant::now() + state.config.drain_timeout;
    while state.conns.count(None) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sweeper.abort();
    bus.abort();
    tracing::info!(left = state.conns.count(None), "drained");
    Ok(())
}

async fn sweep(state: Arc<AppState>) {
    let mut every = tokio::time::interval(state.hub.sweep_every());
    loop {
        every.tick().await;
        let gone = state.hub.sweep();
        if gone > 0 {
            tracing::debug!(topics = gone, "reclaimed idle topics");
        }
    }
}
