//! The registry of live connections: their slots (how many may be open, and how many
//! may still be authenticating), the shutdown signal, and the test-control commands.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use crate::Config;

/// Commands a connection may have waiting; more are dropped (the test-control API is
/// the only sender, and it waits for nothing).
pub const CONTROL_QUEUE: usize = 64;

/// A command from the test-control API to one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Drop the TCP connection without a close frame (the browser sees 1006).
    Drop,
    /// Send a close frame with this code and reason; then, for a while (a draining load
    /// balancer), keep the TCP connection up and still process what the client sends
    /// until its close (the browser refuses writes all that time: `CLOSING`).
    Close(u16, String, std::time::Duration),
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
    /// Panic in the connection's task (the test that a panic ends that connection only).
    Panic,
}

/// Whether a server may send `code` in a close frame (RFC 6455 §7.4: 1004-1006 and 1015
/// are reserved, 1016-2999 unassigned).
pub fn legal_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

struct Entry {
    cid: Option<String>,
    tx: mpsc::Sender<Control>,
    /// Heartbeats (`ping`) received, for the test control API.
    pings: u64,
}

/// Which count a connection's slot is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// An authenticated connection (or any, when no auth is configured).
    Open,
    /// A connection that has still to authenticate.
    Pending,
}

/// A connection's place in `max_connections` or `max_unauthenticated`, given back on
/// drop.
pub struct Slot {
    kind: SlotKind,
    counts: Arc<Counts>,
}

impl Slot {
    /// Which count the slot is from.
    pub fn kind(&self) -> SlotKind {
        self.kind
    }

    /// Moves an authenticating connection's slot to the open ones; false (and the slot
    /// unchanged) when they are all taken.
    pub fn promote(&mut self, config: &Config) -> bool {
        if self.kind == SlotKind::Open {
            return true;
        }
        if !take(&self.counts.open, config.max_connections) {
            return false;
        }
        self.counts.pending.fetch_sub(1, Ordering::AcqRel);
        self.kind = SlotKind::Open;
        true
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let count = match self.kind {
            SlotKind::Open => &self.counts.open,
            SlotKind::Pending => &self.counts.pending,
        };
        count.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Default)]
struct Counts {
    open: AtomicUsize,
    pending: AtomicUsize,
}

fn take(count: &AtomicUsize, max: usize) -> bool {
    count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1)).is_ok()
}

/// Live connections by id, each with the client-chosen `cid` from its URL.
pub struct Conns {
    next: AtomicU64,
    map: Mutex<HashMap<u64, Entry>>,
    counts: Arc<Counts>,
    shutdown: watch::Sender<bool>,
}

impl Default for Conns {
    fn default() -> Self {
        Conns {
            next: AtomicU64::new(0),
            map: Mutex::new(HashMap::new()),
            counts: Arc::default(),
            shutdown: watch::channel(false).0,
        }
    }
}

impl Conns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot among `max_connections`, if one is free.
    pub fn open_slot(&self, config: &Config) -> Option<Slot> {
        take(&self.counts.open, config.max_connections)
            .then(|| Slot { kind: SlotKind::Open, counts: self.counts.clone() })
    }

    /// A slot among `max_unauthenticated`, if one is free.
    pub fn pending_slot(&self, config: &Config) -> Option<Slot> {
        take(&self.counts.pending, config.max_unauthenticated)
            .then(|| Slot { kind: SlotKind::Pending, counts: self.counts.clone() })
    }

    /// (open, authenticating) connections.
    pub fn slots(&self) -> (usize, usize) {
        (self.counts.open.load(Ordering::Acquire), self.counts.pending.load(Ordering::Acquire))
    }

    /// Registers a connection; returns its id and the receiver of its commands.
    pub fn add(&self, cid: Option<String>) -> (u64, mpsc::Receiver<Control>) {
        let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(id, Entry { cid, tx, pings: 0 });
        (id, rx)
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
            .filter(|e| e.tx.try_send(control.clone()).is_ok())
            .count()
    }

    /// How many connections have this cid (or all, when `None`).
    pub fn count(&self, cid: Option<&str>) -> usize {
        self.lock().values().filter(|e| cid.is_none() || e.cid.as_deref() == cid).count()
    }

    /// Counts a `ping` of connection `id`.
    pub fn pinged(&self, id: u64) {
        if let Some(e) = self.lock().get_mut(&id) {
            e.pings += 1;
        }
    }

    /// The pings received by the connections with this cid (or all, when `None`).
    pub fn pings(&self, cid: Option<&str>) -> u64 {
        self.lock()
            .values()
            .filter(|e| cid.is_none() || e.cid.as_deref() == cid)
            .map(|e| e.pings)
            .sum()
    }

    /// Tells every connection to close with 1012 (service restart) and refuses new ones.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Whether the server is shutting down.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// What a connection task waits on to learn of the shutdown.
    pub fn on_shutdown(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// Completes when the server starts shutting down (never, if it cannot any more).
pub async fn stopping(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}
