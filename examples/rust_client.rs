//! The Rust API in a Rust/wasm frontend (the same code works inside a Leptos or Yew
//! component). `cargo xtask test` compiles it for wasm32:
//! `cargo build --example rust_client --target wasm32-unknown-unknown`.

#[cfg(target_arch = "wasm32")]
mod app {
    use std::time::Duration;

    use wasm_bindgen::JsValue;
    use web_sys::console;
    use wsocket::{Client, ClientEvent, Options, State, WsError};

    pub async fn run() -> Result<(), WsError> {
        let options = Options {
            topics: vec!["task:progress".to_owned()],
            max_delay_ms: 10_000.0,
            ..Options::default()
        };
        let client = Client::new("/ws", options)?;

        // A closure per event name or topic; removed when `_ticks` is dropped.
        let _ticks = client.on("market_data", |m| console::log_2(&"tick".into(), m.data()))?;

        // Or everything as a stream: lifecycle events and the messages named here.
        let mut events = client.events(&["task_progress"])?;
        client.connect();
        client.subscribe(&["market:ticker"])?;

        // Sends are queued until the socket opens; requests resolve with the reply.
        client.send_json(r#"{"type": "custom_action", "data": {}}"#)?;
        let unread = client
            .request("get_unread_message", &JsValue::NULL, Some(Duration::from_secs(3)))
            .await?;
        console::log_2(&"unread".into(), unread.data());

        while let Some(event) = events.recv().await {
            match event {
                ClientEvent::Message(m) => console::log_1(&m.data_json().into()),
                ClientEvent::State { to: State::Open, .. } => console::log_1(&"connected".into()),
                ClientEvent::Reconnecting { attempt, delay_ms } => {
                    console::log_1(&format!("reconnect {attempt} in {delay_ms} ms").into())
                }
                ClientEvent::Error(e) => console::warn_1(&e.to_string().into()),
                _ => {}
            }
        }
        Ok(())
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = app::run().await {
            web_sys::console::error_1(&e.to_string().into());
        }
    });
}
