//! weft-core: every concurrent algorithm of weft, free of any Node.js binding.
//!
//! * [`stack::TreiberStack`]: a lock-free stack with epoch-based reclamation.
//! * [`mailbox::Mailbox`]: actor mailboxes (many senders, one receiver, a system lane, bounded
//!   with an overflow policy).
//! * [`actor`]: the actor transport (per-actor mailboxes, per-thread run queues, wake-ups).
//! * [`pool`]: the work-stealing scheduler of the worker pool; [`par`]: parallel pipelines.
//! * [`registry`]: process-wide, weakly held registries so threads can attach to shared
//!   structures by id.
//! * [`value::Value`]: the payload type that carries JavaScript values between threads.
//! * [`error`]: the stable error codes shared with the JavaScript layer.
//! * [`alloc::CountingAlloc`]: a global allocator wrapper that counts live bytes (for soak tests).
//!
//! The stack is `Send`/`Sync` only when its values are:
//!
//! ```compile_fail
//! fn shareable<T: Send + Sync>() {}
//! shareable::<weft_core::stack::TreiberStack<std::rc::Rc<u8>>>();
//! ```
//!
//! ```compile_fail
//! fn sendable<T: Send>() {}
//! sendable::<weft_core::stack::TreiberStack<std::cell::Cell<u8>>>();
//! ```

pub mod actor;
pub mod alloc;
pub mod error;
pub mod mailbox;
mod notify;
pub mod par;
pub mod pool;
pub mod registry;
pub mod shared;
pub mod stack;
mod sync;
pub mod value;

/// The handshake types `tests/loom.rs` model-checks, reachable from outside the crate only in a
/// loom build (`--cfg loom`): the tests drive the code that runs, not copies of it.
#[cfg(loom)]
#[doc(hidden)]
pub mod model {
    pub use crate::actor::cell::RunState;
    pub use crate::actor::host::HostWake;
    pub use crate::mailbox::WaitList;
    pub use crate::pool::idle::{Idle, Idled};
}
