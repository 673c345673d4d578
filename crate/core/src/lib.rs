//! weft-core: every concurrent algorithm of weft, free of any Node.js binding.
//!
//! * [`TreiberStack`]: a lock-free stack with epoch-based reclamation.
//! * [`ValueMap`]: the shared concurrent map (dashmap, or moka when bounded or expiring).
//! * [`Queue`]: the shared MPMC FIFO queue (crossbeam's queues) with close and the waiter lists
//!   its async side is woken through.
//! * [`Mailbox`]: actor mailboxes (many senders, one receiver, a system lane, bounded with an
//!   overflow policy).
//! * [`ActorSystem`]: the actor transport (per-actor mailboxes, per-thread run queues,
//!   wake-ups).
//! * [`Pool`]: the work-stealing scheduler of the worker pool; [`par`]: parallel pipelines;
//!   [`budget`]: the one thread budget both size themselves from and share at run time.
//! * [`registry`]: process-wide, weakly held registries so threads can attach to shared
//!   structures by id.
//! * [`Value`]: the payload type that carries JavaScript values between threads; [`ValueStack`]:
//!   the stack and queue of them that JavaScript shares.
//! * [`error`]: the stable error codes shared with the JavaScript layer.
//! * [`CountingAlloc`]: a global allocator wrapper that counts live bytes (for soak tests).
//!
//! The `pub use` list below is the crate's face: its types, by name. The modules stay public for
//! what only makes sense with their name in front: the functions and constants of a protocol
//! (`pool::new_pool`, `pool::frame`, `actor::envelope`, `par::run`, ...), which is also how the
//! Node binding reaches them today.
//!
//! Inside, every atomic, fence and lock comes through one private facade, `sync` (std's, or
//! loom's under `--cfg loom`), and every wake-up callback is one [`Notify`] type. The handshakes
//! between threads live in small types of their own (the pool's idle/wake handshake, an actor's
//! run state, a host's wake-up, a mailbox's waiters) that `tests/loom.rs` model-checks as they
//! are: see `src/pool/README.md`.
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

#![warn(missing_docs)]

pub mod actor;
pub mod alloc;
pub mod budget;
pub mod error;
pub mod mailbox;
#[cfg(not(loom))]
pub mod map;
mod notify;
pub mod par;
pub mod pool;
pub mod queue;
pub mod registry;
pub mod shared;
mod spin;
pub mod stack;
mod sync;
pub mod value;
mod wake;

pub use actor::{ActorSystem, Delivery};
pub use alloc::CountingAlloc;
pub use error::{Code, Error, Result};
pub use mailbox::{Mailbox, Overflow, Sent};
#[cfg(not(loom))]
pub use map::{Key, MapStats, ValueMap};
pub use notify::Notify;
pub use par::{Array, ArrayMut, ElemKind, Mode, Output, Pipeline, Source, Terminal};
pub use pool::{Cancelled, NameRefused, Pool, PoolStats, Taken, Wait};
pub use queue::{Pushed, Queue, QueueStats, Waiter, Waiters};
pub use registry::{Registered, Registry};
pub use shared::{ValueQueue, ValueStack};
pub use stack::TreiberStack;
pub use value::Value;

/// The handshake types `tests/loom.rs` model-checks, reachable from outside the crate only in a
/// loom build (`--cfg loom`): the tests drive the code that runs, not copies of it.
#[cfg(loom)]
#[doc(hidden)]
pub mod model {
    pub use crate::actor::cell::RunState;
    pub use crate::mailbox::WaitList;
    pub use crate::pool::idle::{Idle, Idled};
    pub use crate::wake::HostWake;
}
