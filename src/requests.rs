//! The request table: which ids wait for a reply, until when, and which must be sent
//! again after a reconnect until the server acknowledges them.

use alloc::vec::Vec;

use crate::vecmap::VecMap;

#[derive(Debug)]
struct Pending<P> {
    deadline: Option<f64>,
    resend: Option<P>,
}

/// Pending requests and reliable sends by numeric id.
#[derive(Debug)]
pub struct Requests<P> {
    pending: VecMap<u64, Pending<P>>,
}

impl<P> Default for Requests<P> {
    fn default() -> Self {
        Requests { pending: VecMap::default() }
    }
}

impl<P> Requests<P> {
    /// Waits for a reply to `id` until `deadline_ms` (never, when `None`). With `resend`,
    /// the payload is sent again on every open until the reply comes.
    pub fn insert(&mut self, id: u64, deadline_ms: Option<f64>, resend: Option<P>) {
        self.pending.insert(id, Pending { deadline: deadline_ms, resend });
    }

    /// Stops waiting for `id`; returns whether it was pending.
    pub fn settle(&mut self, id: u64) -> bool {
        self.pending.remove(&id).is_some()
    }

    /// Whether `id` waits.
    pub fn contains(&self, id: u64) -> bool {
        self.pending.get(&id).is_some()
    }

    /// Removes and returns, in id order, every request whose deadline is at or before `now_ms`.
    pub fn expire(&mut self, now_ms: f64) -> Vec<u64> {
        let mut expired = Vec::new();
        for (id, p) in self.pending.iter() {
            if p.deadline.is_some_and(|d| d <= now_ms) {
                expired.push(*id);
            }
        }
        for id in &expired {
            self.pending.remove(id);
        }
        expired
    }

    /// Removes and returns every pending id (the client is closing for good).
    pub fn abort_all(&mut self) -> Vec<u64> {
        self.pending.take_keys()
    }

    /// The earliest deadline, if any request has one.
    pub fn next_deadline(&self) -> Option<f64> {
        let mut earliest: Option<f64> = None;
        for p in self.pending.values() {
            if let Some(d) = p.deadline {
                earliest = Some(earliest.map_or(d, |e| e.min(d)));
            }
        }
        earliest
    }

    /// The payloads to send again, oldest id first.
    pub fn resends(&self) -> impl Iterator<Item = &P> + '_ {
        self.pending.values().flat_map(|p| &p.resend)
    }

    /// How many payloads wait for an acknowledgement to be resent.
    pub fn resend_count(&self) -> usize {
        let mut n = 0;
        for p in self.pending.values() {
            n += usize::from(p.resend.is_some());
        }
        n
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
