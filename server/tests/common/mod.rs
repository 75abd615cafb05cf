//! What every server test needs: a real server on port 0.
#![allow(dead_code)]

use wsocket_server::{app, start_socketio, AppState, Config};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Starts the whole server on 127.0.0.1 port 0; returns `host:port`.
pub async fn start(config: Config) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(config);
    start_socketio(&state).await.unwrap();
    let app = app(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("127.0.0.1:{}", addr.port())
}
