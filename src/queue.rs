//! The bounded send queue used while the socket is not open.

use alloc::vec::Vec;

use crate::fifo::Fifo;

/// What to do when the queue is full and another message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// `send` fails with `QUEUE_FULL`; nothing queued is lost.
    Reject,
    /// The oldest queued message is dropped (and reported) to make room.
    DropOldest,
    /// The new message is dropped (and reported); the queue is unchanged.
    DropNewest,
}

/// The outcome of [`SendQueue::push`].
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed<P> {
    /// Queued; nothing lost.
    Queued,
    /// Queued, and this older message was dropped to make room.
    DroppedOldest(P),
    /// Not queued: dropped by the `DropNewest` policy.
    DroppedNewest(P),
    /// Not queued: the `Reject` policy refuses it; the caller gets it back.
    Rejected(P),
}

/// A FIFO of outbound payloads with a fixed capacity and an overflow policy.
/// Generic over the payload so the browser driver can queue JS strings without copying.
#[derive(Debug)]
pub struct SendQueue<P> {
    items: Fifo<P>,
    max: usize,
    overflow: Overflow,
}

impl<P> SendQueue<P> {
    /// An empty queue holding at most `max` payloads.
    pub fn new(max: usize, overflow: Overflow) -> Self {
        SendQueue { items: Fifo::default(), max, overflow }
    }

    /// Adds a payload at the back, applying the overflow policy when full.
    pub fn push(&mut self, payload: P) -> Pushed<P> {
        if self.items.len() < self.max {
            self.items.push_back(payload);
            return Pushed::Queued;
        }
        match self.overflow {
            Overflow::Reject => Pushed::Rejected(payload),
            Overflow::DropNewest => Pushed::DroppedNewest(payload),
            Overflow::DropOldest => match self.items.pop_front() {
                Some(old) => {
                    self.items.push_back(payload);
                    Pushed::DroppedOldest(old)
                }
                // A zero-capacity queue has nothing to drop: the new payload goes.
                None => Pushed::DroppedNewest(payload),
            },
        }
    }

    /// Puts payloads that were already accepted (sent, but the socket refused them) back
    /// at the front, in order, before anything queued since. They are not counted against
    /// `max` again: accepted once, they are not dropped now.
    pub fn put_back(&mut self, payloads: Vec<P>) {
        if payloads.is_empty() {
            return;
        }
        let rest: Vec<P> = self.items.take_all().collect();
        for p in payloads.into_iter().chain(rest) {
            self.items.push_back(p);
        }
    }

    /// Takes every queued payload, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = P> + '_ {
        self.items.take_all()
    }

    /// How many payloads wait.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The capacity.
    pub fn max(&self) -> usize {
        self.max
    }
}
