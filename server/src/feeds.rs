//! Demo feeds: task progress and a market ticker, published as any publish is (with
//! many nodes, each node's feeds reach every node).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::AppState;

/// Publishes `task_progress` on `task:progress` and `market_data` on `market:ticker`
/// forever (the demo server runs this; tests do not).
pub async fn run(state: Arc<AppState>) {
    let mut interval = tokio::time::interval(Duration::from_millis(500));
    let tasks = ["export-users", "rebuild-index", "send-digest"];
    let mut tick: u64 = 0;
    loop {
        interval.tick().await;
        tick += 1;
        for (i, task) in tasks.iter().enumerate() {
            let percent = (tick * (i as u64 + 2)) % 101;
            let data = json!({ "task": task, "percent": percent });
            let _ = state.publish("task:progress", "task_progress", data).await;
        }
        for symbol in ["BTC-USD", "ETH-USD", "SOL-USD"] {
            let data = json!({ "symbol": symbol, "price": crate::legacy::price(symbol, tick) });
            let _ = state.publish("market:ticker", "market_data", data).await;
        }
    }
}
