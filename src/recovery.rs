//! Recovery positions: where a topic stands for the client, which a resubscribe asks the
//! server to replay from (`since`).
//!
//! The positions and the duplicate and gap rule are the driver's, on the side that sees
//! every push (the browser driver's `hub.js`, `sequence`): a push that is simply the next
//! of its topic is delivered with no call into the core. The rule, for a push of `topic`
//! with `seq` in `epoch`:
//! - first push of the topic: deliver;
//! - same epoch, `seq` below the next expected: a duplicate (a replay overlapping live
//!   pushes, a server resending): drop;
//! - same epoch, `seq` the next expected: deliver;
//! - same epoch, `seq` past the next expected, or another epoch: report a gap
//!   `{topic, expected, got}` first, then deliver.
//!
//! A `subscribed` answer with `recovered: false` for a topic with a position reports the
//! gap at once (`got: null`: the app refetches) and forgets the position; one that names
//! the server's position for a topic without one starts from it, so what is published
//! from then on is recoverable even if the socket drops before the first push.
//!
//! The core reads the positions only at an open ([`Input::SocketOpened`]'s `since`).
//!
//! [`Input::SocketOpened`]: crate::machine::Input::SocketOpened

use alloc::string::String;

/// The last position delivered on one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The topic.
    pub topic: String,
    /// The last `seq` delivered.
    pub seq: u64,
    /// The epoch it belongs to.
    pub epoch: String,
}
