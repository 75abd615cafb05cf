//! A small ordered map kept as a sorted `Vec`.
//!
//! The core's maps (topics, recovery positions, pending requests) hold a handful of
//! entries, and request ids only grow, so inserts mostly append. A sorted `Vec` costs far
//! less wasm than `BTreeMap`, whose node code was about 12 KB of the browser build, and
//! than a `VecDeque` (1.5 KB gzip more when this map used one).

use alloc::vec::Vec;
use core::borrow::Borrow;

/// Entries sorted by key, each key once.
#[derive(Debug, Clone)]
pub(crate) struct VecMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { items: Vec::new() }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        // Keys that only grow (request ids) land at the end: check it first.
        match self.items.last() {
            Some((last, _)) if last.borrow() < key => Err(self.items.len()),
            _ => self.items.binary_search_by(|(k, _)| k.borrow().cmp(key)),
        }
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.items[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.items[i].1)
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.items[i].1, value)),
            Err(i) => {
                self.items.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        Some(self.items.remove(i).1)
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.items.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.items.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.items.iter().map(|(_, v)| v)
    }

    /// Removes every entry; returns the keys in order.
    pub fn take_keys(&mut self) -> Vec<K> {
        let mut keys = Vec::with_capacity(self.items.len());
        for (k, _) in core::mem::take(&mut self.items) {
            keys.push(k);
        }
        keys
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;
    use alloc::string::String;
    use alloc::vec::Vec;

    #[test]
    fn behaves_like_an_ordered_map() {
        let mut m = VecMap::default();
        for k in [5u64, 1, 9, 3, 7] {
            assert_eq!(m.insert(k, k * 10), None);
        }
        assert_eq!(m.insert(3, 33), Some(30));
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [1, 3, 5, 7, 9]);
        assert_eq!(m.get(&3), Some(&33));
        assert_eq!(m.remove(&1), Some(10));
        assert_eq!(m.remove(&1), None);
        assert_eq!(m.remove(&9), Some(90));
        *m.get_mut(&5).unwrap() += 1;
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [33, 51, 70]);
        assert_eq!(m.len(), 3);
        assert_eq!(m.take_keys(), [3, 5, 7]);
        assert!(m.is_empty());

        let mut s: VecMap<String, u32> = VecMap::default();
        s.insert("b".into(), 2);
        s.insert("a".into(), 1);
        assert_eq!(s.get("a"), Some(&1));
        assert_eq!(s.iter().map(|(k, _)| k.as_str()).collect::<String>(), "ab");
    }
}
