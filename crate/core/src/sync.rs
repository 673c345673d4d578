//! The one door through which weft-core's concurrent code reaches its synchronization primitives:
//! std's in a normal build, [loom]'s under `--cfg loom`, so that the model checker sees every
//! access of the code that really runs (`npm run test:loom`, `tests/loom.rs`).
//!
//! In a normal build every name here is a plain re-export of `std::sync`: the facade costs
//! nothing, and the code compiles to exactly the atomics it names.
//!
//! * [`atomic`]: the atomics and `fence` of every protocol (the Treiber stack, the pool's
//!   idle/wake handshake, the actor run state and host wake, the mailbox waiters), and of the
//!   structures around them.
//! * [`Mutex`], [`MutexGuard`], [`Condvar`], [`RwLock`]: the locks those structures hold. Under
//!   loom they must be loom's too: a std lock held across a modelled step would block loom's
//!   scheduler for real.
//! * [`unmodelled`]: std's atomics, always, for the few places loom cannot or need not see (see
//!   there).
//!
//! [loom]: https://docs.rs/loom

#[cfg(loom)]
pub(crate) use loom::sync::{atomic, Condvar, Mutex, MutexGuard, RwLock};

#[cfg(not(loom))]
pub(crate) use std::sync::{atomic, Condvar, Mutex, MutexGuard, RwLock};

use std::sync::PoisonError;

/// Std's atomics, also under loom, for code that loom cannot or need not model:
///
/// * `static`s and `const fn` constructors (the registries' id counters): loom's atomics have no
///   `const` constructor;
/// * the global allocator wrapper ([`crate::alloc`]): loom allocates itself;
/// * code that runs on rayon's threads (`par`): loom's atomics work only inside `loom::model`.
///
/// Nothing here takes part in a cross-thread handshake.
pub(crate) mod unmodelled {
    pub(crate) use std::sync::atomic::*;
}

/// Locks `m`, ignoring poisoning.
///
/// A poisoned lock means a panic while it was held. Every critical section in weft-core leaves
/// its data consistent at each step (it may have done less than it meant to, never something
/// half-way), so the data is still valid and the thread that finds it goes on: a panic stays the
/// bug of the call that panicked (it becomes a rejected Promise) and does not poison the pool or
/// the actor system for everyone else.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
