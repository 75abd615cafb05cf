//! Ids already processed, so that a message the client sends again after a reconnect
//! (a reliable send) takes effect once. Bounded: the oldest ids are forgotten first.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

/// The processed ids, and per `cid` how many were processed and repeated.
pub struct Processed {
    inner: Mutex<Inner>,
    max: usize,
}

#[derive(Default)]
struct Inner {
    seen: HashSet<String>,
    order: VecDeque<String>,
    counts: HashMap<String, (u64, u64)>,
}

impl Processed {
    /// Remembers at most `max` ids.
    pub fn new(max: usize) -> Processed {
        Processed { inner: Mutex::new(Inner::default()), max }
    }

    /// Records `id` for the connection tagged `cid`; true the first time it is seen.
    pub fn first_time(&self, id: &str, cid: Option<&str>) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let first = inner.seen.insert(id.to_owned());
        if first {
            inner.order.push_back(id.to_owned());
            while inner.order.len() > self.max {
                if let Some(old) = inner.order.pop_front() {
                    inner.seen.remove(&old);
                }
            }
        }
        if let Some(cid) = cid {
            let c = inner.counts.entry(cid.to_owned()).or_default();
            if first {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
        first
    }

    /// For `cid`: (ids processed, repeats ignored).
    pub fn counts(&self, cid: &str) -> (u64, u64) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.counts.get(cid).copied().unwrap_or_default()
    }
}
