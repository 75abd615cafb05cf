//! Recovery positions: the last `seq` seen per topic within its `epoch`, the duplicate
//! and gap rule, and the `since` a resubscribe asks the server to replay from.
//!
//! The rule, for a push of `topic` with `seq` in `epoch`:
//! - first push of the topic (or after a gap was reported): deliver;
//! - same epoch, `seq <= last`: a duplicate (a replay overlapping live pushes): drop;
//! - same epoch, `seq == last + 1`: deliver;
//! - same epoch, `seq > last + 1`, or another epoch: deliver, and report a gap first.
//!
//! A `subscribed` answer with `recovered: false` for a topic with a position reports the
//! gap at once (the app refetches) and forgets the position.

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::vecmap::VecMap;

/// The last position delivered on one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The last `seq` delivered.
    pub seq: u64,
    /// The epoch it belongs to.
    pub epoch: String,
}

/// What to do with one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// In order: deliver.
    Deliver,
    /// Already delivered: drop it.
    Duplicate,
    /// Deliver, after telling the app that messages were missed.
    Gap(Gap),
}

/// Messages were missed on a topic: the app should refetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The topic.
    pub topic: String,
    /// The first `seq` that was not delivered.
    pub expected: u64,
    /// The `seq` that arrived instead, when one did.
    pub got: Option<u64>,
}

/// Positions of every topic that has delivered a push.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    topics: VecMap<String, Position>,
}

impl Positions {
    /// Applies the rule to one push and moves the position.
    pub fn observe(&mut self, topic: &str, seq: u64, epoch: &str) -> Verdict {
        let Some(pos) = self.topics.get_mut(topic) else {
            self.topics.insert(topic.to_owned(), Position { seq, epoch: epoch.to_owned() });
            return Verdict::Deliver;
        };
        if pos.epoch == epoch {
            if seq <= pos.seq {
                return Verdict::Duplicate;
            }
            let expected = pos.seq + 1;
            pos.seq = seq;
            if seq == expected {
                return Verdict::Deliver;
            }
            return Verdict::Gap(Gap { topic: topic.to_owned(), expected, got: Some(seq) });
        }
        let expected = pos.seq + 1;
        *pos = Position { seq, epoch: epoch.to_owned() };
        Verdict::Gap(Gap { topic: topic.to_owned(), expected, got: Some(seq) })
    }

    /// The server could not replay `topic`: report the gap now and start over.
    pub fn unrecovered(&mut self, topic: &str) -> Option<Gap> {
        let pos = self.topics.remove(topic)?;
        Some(Gap { topic: topic.to_owned(), expected: pos.seq + 1, got: None })
    }

    /// Sets a position that was advanced elsewhere (the driver's in-order fast path).
    pub fn set(&mut self, topic: &str, seq: u64, epoch: &str) {
        self.topics.insert(topic.to_owned(), Position { seq, epoch: epoch.to_owned() });
    }

    /// The position of a topic.
    pub fn get(&self, topic: &str) -> Option<&Position> {
        self.topics.get(topic)
    }

    /// Forgets a topic (unsubscribed: a later subscribe starts fresh).
    pub fn forget(&mut self, topic: &str) {
        self.topics.remove(topic);
    }
}
