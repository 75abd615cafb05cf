//! wsocket: a browser WebSocket client in Rust/WebAssembly that survives every ordinary
//! failure: reconnect with backoff and jitter, a heartbeat watchdog, a bounded send queue,
//! topics resubscribed on every open, and requests with timeouts.
//!
//! The crate has two halves (see ARCHITECTURE.md):
//! - the **core** ([`machine`], [`backoff`], [`close`], [`queue`], [`topics`], [`socketio`],
//!   [`requests`], [`recovery`], [`codec`], [`protocol`], [`options`], [`error`]): pure Rust, no
//!   browser APIs, no clock, tested natively;
//! - the **driver** (`web`, wasm32 only): the `WsClient` class JS uses, and the only code
//!   that touches `js-sys`;
//! - the **Rust API** (wasm32 only): [`Client`], the same client for Rust/wasm frontends
//!   (Leptos, Yew), with Rust closures ([`Client::on`]) or a `Stream` of [`ClientEvent`]s
//!   ([`Client::events`]). See `examples/rust_client.rs`.

#![warn(missing_docs, missing_debug_implementations)]

pub mod backoff;
pub mod close;
pub mod codec;
pub mod error;
pub mod machine;
pub mod options;
pub mod protocol;
pub mod queue;
pub mod recovery;
pub mod requests;
pub mod socketio;
pub mod text;
pub mod topics;
mod vecmap;

#[cfg(target_arch = "wasm32")]
mod web;

pub use error::Error;
pub use machine::{Effect, Event, Input, Machine, State, Timer};
pub use options::Options;

#[cfg(target_arch = "wasm32")]
pub use web::rust::{Client, ClientEvent, Events, Listener, Message, WsError};
#[cfg(target_arch = "wasm32")]
pub use web::WsClient;

/// The npm package's allocator (feature `small-allocator`): a free list. A client keeps a
/// few dozen long-lived allocations (options, topics, the queue's and request table's
/// buffers), so a list walk is short, and it is about 7 KB smaller than the default
/// `dlmalloc` (BENCHMARKS.md, size).
#[cfg(all(target_arch = "wasm32", feature = "small-allocator"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
