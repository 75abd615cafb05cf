//! `wsocket-server`: the companion server. Run with
//! `cargo run -p wsocket-server -- [--port 8080] [--host 127.0.0.1] [--token T] [--no-feeds]`
//! then open the printed URL.

use std::net::SocketAddr;

use wsocket_server::{app, feeds, start_socketio, AppState, Config};

fn usage() -> ! {
    eprintln!("usage: wsocket-server [--host 127.0.0.1] [--port 8080] [--root DIR] [--token TOKEN] [--jwt-secret S] [--allow-origin URL]... [--max-connections N] [--history N] [--rate-limit N] [--socketio-upstream HOST:PORT] [--sio-ping-ms INTERVAL,TIMEOUT] [--no-feeds]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut config = Config::default();
    let mut host = "127.0.0.1".to_owned();
    let mut port: u16 = 8080;
    let mut feeds_on = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--host" => host = value(),
            "--port" => port = value().parse().unwrap_or_else(|_| usage()),
            "--root" => config.root = value().into(),
            "--token" => config.auth_token = Some(value()),
            "--jwt-secret" => config.jwt_secret = Some(value()),
            "--allow-origin" => config.allowed_origins.push(value()),
            "--max-connections" => {
                config.max_connections = value().parse().unwrap_or_else(|_| usage())
            }
            "--history" => config.history = value().parse().unwrap_or_else(|_| usage()),
            "--socketio-upstream" => config.socketio_upstream = Some(value()),
            "--sio-ping-ms" => {
                let (interval, timeout) = value()
                    .split_once(',')
                    .and_then(|(i, t)| Some((i.parse().ok()?, t.parse().ok()?)))
                    .unwrap_or_else(|| usage());
                config.sio_ping_interval_ms = interval;
                config.sio_ping_timeout_ms = timeout;
            }
            "--rate-limit" => {
                config.rate_limit_per_sec = value().parse().unwrap_or_else(|_| usage())
            }
            "--no-feeds" => feeds_on = false,
            "--help" | "-h" => {
                println!("usage: wsocket-server [--host 127.0.0.1] [--port 8080] [--root DIR] [--token TOKEN] [--jwt-secret S] [--allow-origin URL]... [--max-connections N] [--history N] [--rate-limit N] [--socketio-upstream HOST:PORT] [--sio-ping-ms INTERVAL,TIMEOUT] [--no-feeds]");
                return;
            }
            _ => usage(),
        }
    }
    let addr: SocketAddr = match format!("{host}:{port}").parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bad address {host}:{port}: {e}");
            std::process::exit(2)
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot bind {addr}: {e}");
            std::process::exit(1)
        }
    };
    let state = AppState::new(config);
    if let Err(e) = start_socketio(&state).await {
        eprintln!("cannot start the Socket.IO gateway: {e}");
        std::process::exit(1)
    }
    if feeds_on {
        tokio::spawn(feeds::run(state.clone()));
    }
    let local = listener.local_addr().unwrap_or(addr);
    // The first line is machine-read by `cargo xtask` to find the port.
    println!("wsocket-server listening on http://{local}/");
    if let Err(e) = axum::serve(listener, app(state)).await {
        eprintln!("server error: {e}");
        std::process::exit(1)
    }
}
