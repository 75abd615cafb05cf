//! The request table: which request ids wait for a reply, and until when.

use std::collections::BTreeMap;

/// Pending requests by numeric id, each with a deadline in ms.
#[derive(Debug, Default)]
pub struct Requests {
    pending: BTreeMap<u64, f64>,
}

impl Requests {
    /// Starts waiting for a reply to `id` until `deadline_ms`.
    pub fn insert(&mut self, id: u64, deadline_ms: f64) {
        self.pending.insert(id, deadline_ms);
    }

    /// Stops waiting for `id`; returns whether it was pending.
    pub fn settle(&mut self, id: u64) -> bool {
        self.pending.remove(&id).is_some()
    }

    /// Removes and returns, in id order, every request whose deadline is at or before `now_ms`.
    pub fn expire(&mut self, now_ms: f64) -> Vec<u64> {
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, d)| **d <= now_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            self.pending.remove(id);
        }
        expired
    }

    /// Removes and returns every pending id (the client is closing for good).
    pub fn abort_all(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.pending).into_keys().collect()
    }

    /// The earliest deadline, if any request waits.
    pub fn next_deadline(&self) -> Option<f64> {
        self.pending.values().copied().reduce(f64::min)
    }

    /// How many requests wait.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no request waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}
