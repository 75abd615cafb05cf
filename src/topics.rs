//! The topic registry: reference-counted subscriptions that survive reconnects.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::vecmap::VecMap;

/// Desired subscriptions with a count per topic. A topic is on the wire while its count
/// is above zero; every open resubscribes all of them.
#[derive(Debug, Default)]
pub struct Topics {
    counts: VecMap<String, u32>,
}

impl Topics {
    /// Adds one reference to each topic; returns the topics that went from 0 to 1, which
    /// are the ones to send a `subscribe` for.
    pub fn add<'a>(&mut self, topics: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut fresh = Vec::new();
        for topic in topics {
            match self.counts.get_mut(topic) {
                Some(count) => *count += 1,
                None => {
                    self.counts.insert(topic.to_owned(), 1);
                    fresh.push(topic.to_owned());
                }
            }
        }
        fresh
    }

    /// Drops one reference from each topic; returns the topics that reached 0, which are
    /// the ones to send an `unsubscribe` for. Unknown topics are ignored.
    pub fn remove<'a>(&mut self, topics: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut gone = Vec::new();
        for topic in topics {
            if let Some(count) = self.counts.get_mut(topic) {
                *count -= 1;
                if *count == 0 {
                    self.counts.remove(topic);
                    gone.push(topic.to_owned());
                }
            }
        }
        gone
    }

    /// Every topic with a count above zero, in a stable order.
    pub fn active(&self) -> Vec<String> {
        let mut out = Vec::new();
        for topic in self.counts.keys() {
            out.push(topic.clone());
        }
        out
    }

    /// The reference count of one topic (0 when absent).
    pub fn count(&self, topic: &str) -> u32 {
        self.counts.get(topic).copied().unwrap_or(0)
    }
}
