//! wsocket: a browser WebSocket client in Rust/WebAssembly that survives every ordinary
//! failure: reconnect with backoff and jitter, a heartbeat watchdog, a bounded send queue,
//! topics resubscribed on every open, and requests with timeouts.
//!
//! The crate has two halves (see ARCHITECTURE.md):
//! - the **core** ([`machine`], [`backoff`], [`close`], [`queue`], [`topics`], [`socketio`],
//!   [`requests`], [`recovery`], [`codec`], [`protocol`], [`options`], [`error`]): pure Rust, no
//!   browser APIs, no clock, tested natively;
//! - the **driver** (`web`, wasm32 only): the `WsClient` class JS uses, and the only code
//!   that touches JS (its own imports, `web/js.rs`; `js-sys` for the Rust API);
//! - the **Rust API** (wasm32 only): [`Client`], the same client for Rust/wasm frontends
//!   (Leptos, Yew), with Rust closures ([`Client::on`]) or a `Stream` of [`ClientEvent`]s
//!   ([`Client::events`]). See `examples/rust_client.rs`.

#![no_std]
#![warn(missing_docs, missing_debug_implementations)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod backoff;
pub mod close;
pub mod codec;
pub mod error;
mod fifo;
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

#[cfg(all(target_arch = "wasm32", feature = "std"))]
pub use web::rust::{
    Client, ClientEvent, ErrorCode, Events, Listener, Message, Request, Stats, WsError,
};
#[cfg(target_arch = "wasm32")]
pub use web::WsClient;

/// The npm package's allocator (feature `npm-package`): a free list. A client keeps a few
/// dozen long-lived allocations (options, topics, the queue's and request table's
/// buffers), so a list walk is short, and it is about 7 KB smaller than the default
/// `dlmalloc` (BENCHMARKS.md, size).
#[cfg(all(target_arch = "wasm32", feature = "npm-package"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// The npm package's panic handler (feature `npm-package`, built without `std`): trap at
/// once, as `panic = "abort"` does anyway, without formatting a message nobody reads.
/// `std`'s handler formats it, which links `core::fmt` (about 10% of the wasm). Panics
/// are bugs here, not input handling: bad input becomes an `Error` (ARCHITECTURE.md).
#[cfg(all(target_arch = "wasm32", feature = "npm-package", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
