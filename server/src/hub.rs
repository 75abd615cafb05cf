//! Topic fan-out with per-topic sequence numbers and a bounded history for recovery.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use axum::extract::ws::Utf8Bytes;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use wsocket::protocol::{Message, Position};

/// What a connection's writer receives from the hub: one pre-encoded push.
pub type Push = Utf8Bytes;

struct Topic {
    seq: u64,
    history: VecDeque<(u64, Utf8Bytes)>,
    subscribers: HashMap<u64, UnboundedSender<Push>>,
}

/// The outcome of a subscribe for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// Whether the missed messages are replayed (or nothing was missed).
    pub recovered: bool,
    /// The replayed pushes, in order.
    pub replay: Vec<Utf8Bytes>,
    /// Where the topic stands now (after the replay).
    pub position: Position,
}

/// Every topic, its subscribers and its recent history.
pub struct Hub {
    inner: Mutex<HubInner>,
    history_len: usize,
}

struct HubInner {
    epoch: String,
    epochs: u64,
    topics: HashMap<String, Topic>,
}

impl Hub {
    /// A hub that keeps the last `history_len` messages of each topic.
    pub fn new(history_len: usize) -> Hub {
        Hub {
            inner: Mutex::new(HubInner { epoch: new_epoch(1), epochs: 1, topics: HashMap::new() }),
            history_len,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubInner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current epoch.
    pub fn epoch(&self) -> String {
        self.lock().epoch.clone()
    }

    /// Starts a new epoch: sequence numbers restart and the history is gone, as after a
    /// server restart.
    pub fn restart_epoch(&self) -> String {
        let mut inner = self.lock();
        inner.epochs += 1;
        inner.epoch = new_epoch(inner.epochs);
        for topic in inner.topics.values_mut() {
            topic.seq = 0;
            topic.history.clear();
        }
        inner.epoch.clone()
    }

    /// Subscribes connection `conn` to `topic`, replaying from `since` when possible.
    pub fn subscribe(
        &self,
        conn: u64,
        topic: &str,
        tx: UnboundedSender<Push>,
        since: Option<&Position>,
    ) -> Joined {
        let mut inner = self.lock();
        let epoch = inner.epoch.clone();
        let t = inner.topic(topic);
        t.subscribers.insert(conn, tx);
        let position = Position { seq: t.seq, epoch: epoch.clone() };
        let Some(since) = since else {
            return Joined { recovered: true, replay: Vec::new(), position };
        };
        let oldest = t.history.front().map_or(t.seq + 1, |(seq, _)| *seq);
        let recovered = since.epoch == epoch && since.seq <= t.seq && since.seq + 1 >= oldest;
        let replay = if recovered {
            t.history.iter().filter(|(seq, _)| *seq > since.seq).map(|(_, m)| m.clone()).collect()
        } else {
            Vec::new()
        };
        Joined { recovered, replay, position }
    }

    /// Removes `conn` from `topic`.
    pub fn unsubscribe(&self, conn: u64, topic: &str) {
        if let Some(t) = self.lock().topics.get_mut(topic) {
            t.subscribers.remove(&conn);
        }
    }

    /// Removes `conn` from every topic (it disconnected).
    pub fn leave_all(&self, conn: u64) {
        for t in self.lock().topics.values_mut() {
            t.subscribers.remove(&conn);
        }
    }

    /// Publishes `data` on `topic` as a push of type `event`; returns the push's `seq`
    /// and how many subscribers it was handed to.
    pub fn publish(&self, topic: &str, event: &str, data: Value) -> (u64, usize) {
        let mut inner = self.lock();
        let epoch = inner.epoch.clone();
        let t = inner.topic(topic);
        t.seq += 1;
        let message = Message {
            kind: event.to_owned(),
            topic: Some(topic.to_owned()),
            data: Some(data),
            seq: Some(t.seq),
            epoch: Some(epoch),
            timestamp: Some(now_ms()),
            ..Message::default()
        };
        let text = Utf8Bytes::from(crate::encode(&message));
        t.history.push_back((t.seq, text.clone()));
        while t.history.len() > self.history_len {
            t.history.pop_front();
        }
        t.subscribers.retain(|_, tx| tx.send(text.clone()).is_ok());
        (t.seq, t.subscribers.len())
    }

    /// Current positions of every topic, for tests and the demo.
    pub fn positions(&self) -> BTreeMap<String, u64> {
        self.lock().topics.iter().map(|(k, t)| (k.clone(), t.seq)).collect()
    }
}

impl HubInner {
    fn topic(&mut self, name: &str) -> &mut Topic {
        self.topics.entry(name.to_owned()).or_insert_with(|| Topic {
            seq: 0,
            history: VecDeque::new(),
            subscribers: HashMap::new(),
        })
    }
}

fn new_epoch(n: u64) -> String {
    format!("e{}-{n}", now_ms() as u64 % 1_000_000_000)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}
