//! The registry of live connections, and the test-control commands they obey.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::mpsc::UnboundedSender;

/// A command from the test-control API to one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Drop the TCP connection without a close frame (the browser sees 1006).
    Drop,
    /// Send a close frame with this code and reason.
    Close(u16, String),
    /// Stop (true) or resume (false) sending anything, like a half-open connection: what
    /// the client sends is still processed, but no answer or push gets back.
    Stall(bool),
    /// Send this text frame as is (a malformed frame, a hand-made batch, ...).
    Raw(String),
    /// Send this binary frame.
    Binary(Vec<u8>),
    /// Send `count` small frames `{"type":"tick","data":{"n":1..}}` as fast as the socket
    /// takes them, pre-encoded (the inbound benchmark).
    Flood(u32),
}

struct Entry {
    cid: Option<String>,
    tx: UnboundedSender<Control>,
}

/// Live connections by id, each with the client-chosen `cid` from its URL.
#[derive(Default)]
pub struct Conns {
    next: AtomicU64,
    map: Mutex<HashMap<u64, Entry>>,
}

impl Conns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a connection; returns its id.
    pub fn add(&self, cid: Option<String>, tx: UnboundedSender<Control>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(id, Entry { cid, tx });
        id
    }

    /// Forgets a connection.
    pub fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Sends `control` to every connection whose cid is `cid` (or to all when `None`);
    /// returns how many got it.
    pub fn command(&self, cid: Option<&str>, control: &Control) -> usize {
        self.lock()
            .values()
            .filter(|e| cid.is_none() || e.cid.as_deref() == cid)
            .filter(|e| e.tx.send(control.clone()).is_ok())
            .count()
    }

    /// How many connections have this cid (or all, when `None`).
    pub fn count(&self, cid: Option<&str>) -> usize {
        self.lock().values().filter(|e| cid.is_none() || e.cid.as_deref() == cid).count()
    }
}
