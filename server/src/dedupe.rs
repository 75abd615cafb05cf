//! Ids already processed, so that a message the client sends again after a reconnect
//! (a reliable send) takes effect once.
//!
//! Ids are kept per scope, so one client cannot suppress another's messages by sending
//! its ids: the scope is the authenticated user (a JWT's `sub`), else the client id the
//! connection gave (`?client=`, which a client keeps across reconnects and reloads, or
//! the test `cid`), else one anonymous scope. Bounded three ways: `processed_per_scope`
//! ids per scope (the oldest go first), `processed_bytes` in all (the least recently
//! used scope goes first, so a stranger's many scopes cannot evict an active client's
//! recent ids before their own), and `processed_ttl` per id.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Config;

/// What one remembered id costs beyond its bytes (two copies' headers, the queue entry).
const ID_OVERHEAD: usize = 96;
/// `cid`s whose counts `/control/connections` reports; more are not counted.
const MAX_COUNTED: usize = 10_000;

/// The processed ids, and per `cid` how many were processed and repeated.
pub struct Processed {
    inner: Mutex<Inner>,
    per_scope: usize,
    max_bytes: usize,
    ttl: Duration,
}

#[derive(Default)]
struct Scope {
    seen: HashSet<String>,
    order: VecDeque<(String, Instant)>,
    bytes: usize,
    used: u64,
}

#[derive(Default)]
struct Inner {
    scopes: HashMap<String, Scope>,
    /// Scopes by last use, oldest first.
    lru: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
    counts: HashMap<String, (u64, u64)>,
}

impl Processed {
    /// Ids bounded as `config` says.
    pub fn new(config: &Config) -> Processed {
        Processed {
            inner: Mutex::new(Inner::default()),
            per_scope: config.processed_per_scope.max(1),
            max_bytes: config.processed_bytes,
            ttl: config.processed_ttl,
        }
    }

    /// Records `id` in `scope` for the connection tagged `cid`; true the first time it is
    /// seen there.
    pub fn first_time(&self, scope: &str, id: &str, cid: Option<&str>) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let first = inner.record(scope, id, now, self.per_scope, self.ttl);
        while inner.bytes > self.max_bytes && inner.scopes.len() > 1 {
            inner.evict_oldest_scope(scope);
        }
        inner.count(cid, first);
        first
    }

    /// Counts, for the connection tagged `cid`, an id processed (`first`) or repeated:
    /// with many nodes, Redis decides which (`cluster::Cluster::first_time`).
    pub fn count(&self, cid: Option<&str>, first: bool) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).count(cid, first);
    }

    /// For `cid`: (ids processed, repeats ignored).
    pub fn counts(&self, cid: &str) -> (u64, u64) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.counts.get(cid).copied().unwrap_or_default()
    }

    /// (scopes, ids, bytes) remembered now.
    pub fn size(&self) -> (usize, usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let ids = inner.scopes.values().map(|s| s.order.len()).sum();
        (inner.scopes.len(), ids, inner.bytes)
    }
}

impl Inner {
    fn count(&mut self, cid: Option<&str>, first: bool) {
        let Some(cid) = cid else { return };
        if self.counts.len() < MAX_COUNTED || self.counts.contains_key(cid) {
            let c = self.counts.entry(cid.to_owned()).or_default();
            if first {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
    }

    fn record(
        &mut self,
        key: &str,
        id: &str,
        now: Instant,
        per_scope: usize,
        ttl: Duration,
    ) -> bool {
        self.tick += 1;
        let tick = self.tick;
        if !self.scopes.contains_key(key) {
            self.scopes.insert(key.to_owned(), Scope::default());
        }
        let Some(scope) = self.scopes.get_mut(key) else { return true };
        self.lru.remove(&scope.used);
        scope.used = tick;
        self.lru.insert(tick, key.to_owned());
        let mut freed = 0;
        let mut forget = |scope: &mut Scope| {
            if let Some((old, _)) = scope.order.pop_front() {
                scope.seen.remove(&old);
                freed += old.len() + ID_OVERHEAD;
            }
        };
        while scope.order.front().is_some_and(|(_, at)| now.duration_since(*at) >= ttl) {
            forget(scope);
        }
        let first = !scope.seen.contains(id);
        if first {
            scope.seen.insert(id.to_owned());
            scope.order.push_back((id.to_owned(), now));
            let cost = id.len() + ID_OVERHEAD;
            scope.bytes += cost;
            self.bytes += cost;
            while scope.order.len() > per_scope {
                forget(scope);
            }
        }
        scope.bytes -= freed;
        self.bytes -= freed;
        first
    }

    fn evict_oldest_scope(&mut self, keep: &str) {
        let victim = self.lru.values().find(|k| k.as_str() != keep).cloned();
        let Some(victim) = victim else { return };
        if let Some(scope) = self.scopes.remove(&victim) {
            self.lru.remove(&scope.used);
            self.bytes -= scope.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn processed(per_scope: usize, bytes: usize) -> Processed {
        Processed::new(&Config {
            processed_per_scope: per_scope,
            processed_bytes: bytes,
            ..Config::default()
        })
    }

    #[test]
    fn an_id_is_first_once_per_scope() {
        let p = processed(10, 1 << 20);
        assert!(p.first_time("a", "m1", None));
        assert!(!p.first_time("a", "m1", None));
        assert!(p.first_time("b", "m1", None), "another scope's id is its own");
    }

    #[test]
    fn other_scopes_do_not_evict_an_active_scope_within_its_count() {
        let p = processed(100, 1 << 20);
        assert!(p.first_time("victim", "mine", None));
        for i in 0..100_700 {
            p.first_time(&format!("stranger-{}", i % 7), &format!("id-{i}"), None);
        }
        assert!(!p.first_time("victim", "mine", None), "the victim's id is still known");
    }

    #[test]
    fn bytes_are_bounded_by_evicting_the_least_recently_used_scope() {
        let p = processed(1_000_000, 200_000);
        for i in 0..20_000 {
            p.first_time(&format!("s{}", i % 1_000), &format!("id-{i:0>60}"), None);
        }
        let (_, _, bytes) = p.size();
        assert!(bytes <= 200_000, "{bytes} bytes");
    }
}
