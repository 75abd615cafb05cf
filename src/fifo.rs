//! A first-in first-out queue on a plain `Vec`.
//!
//! `VecDeque` code is generated once per element type, and its ring-buffer copies were
//! about 2.5 KB of the browser build for the two FIFOs the core keeps (effects, the send
//! queue). Here a pop takes the slot at `head` and moves `head` on; the taken slots are
//! dropped all at once when the queue empties, or when they are half of it, so both
//! operations stay O(1) amortized.

use alloc::vec::Vec;

/// Items in arrival order.
#[derive(Debug, Clone)]
pub(crate) struct Fifo<T> {
    slots: Vec<Option<T>>,
    head: usize,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo { slots: Vec::new(), head: 0 }
    }
}

impl<T> Fifo<T> {
    pub fn push_back(&mut self, item: T) {
        self.slots.push(Some(item));
    }

    pub fn pop_front(&mut self) -> Option<T> {
        let item = self.slots.get_mut(self.head)?.take();
        self.head += 1;
        if self.head == self.slots.len() {
            self.slots.clear();
            self.head = 0;
        } else if self.head * 2 >= self.slots.len() {
            // The taken slots are exactly those before `head` (and `None`); `retain`
            // drops them without `drain`'s range check, which links `core::fmt`.
            self.slots.retain(Option::is_some);
            self.head = 0;
        }
        item
    }

    /// Takes every item, oldest first (the slots before `head` are the taken ones,
    /// `None`, which `flatten` skips).
    pub fn take_all(&mut self) -> impl Iterator<Item = T> {
        self.head = 0;
        core::mem::take(&mut self.slots).into_iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.slots.len() - self.head
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Fifo;
    use alloc::vec::Vec;

    #[test]
    fn keeps_arrival_order_across_compactions() {
        let mut q = Fifo::default();
        let mut next_in = 0;
        let mut next_out = 0;
        // Uneven pushes and pops, so the queue empties, half-empties and grows again.
        for round in 0..50 {
            for _ in 0..(round % 7 + 1) {
                q.push_back(next_in);
                next_in += 1;
            }
            for _ in 0..(round % 5) {
                if let Some(x) = q.pop_front() {
                    assert_eq!(x, next_out);
                    next_out += 1;
                }
            }
            assert_eq!(q.len(), next_in - next_out);
            // Compaction keeps the taken slots at most half of the storage.
            assert!(q.head * 2 < q.slots.len().max(1));
        }
        let rest: Vec<_> = q.take_all().collect();
        assert_eq!(rest, (next_out..next_in).collect::<Vec<_>>());
        assert!(q.is_empty());
        assert_eq!(q.pop_front(), None);
    }
}
