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
//! * [`Parker`]: how a pool worker sleeps until it is woken or its time is up.
//! * [`unmodelled`]: std's atomics, always, for the few places loom cannot or need not see (see
//!   there).
//!
//! [loom]: https://docs.rs/loom

use std::time::Instant;

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
/// * statistics that no protocol reads (a mailbox's byte counts).
///
/// Nothing here takes part in a cross-thread handshake.
pub(crate) mod unmodelled {
    pub(crate) use std::sync::atomic::*;
}

/// A spin-wait hint (`std::hint::spin_loop`; under loom, a yield, so that a bounded wait lets the
/// other modelled threads run).
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
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

/// A one-shot wake-up flag a thread can sleep on: [`park_until`](Parker::park_until) blocks until
/// [`unpark`](Parker::unpark) was called (since the last park returned), `stop` says so, or the
/// deadline passes.
///
/// It is a `Mutex<bool>` and a `Condvar`, the pair every platform (and loom) provides; std builds
/// them on a futex on Linux. An `unpark` before the park is not lost: the flag stays set and the
/// next park returns at once.
///
/// Loom has no futex and no clock: it models the mutex and the condvar exactly, but its
/// `Condvar::wait_timeout` never times out. So under loom a deadline passes only when the model
/// says so (`expire`): a model lets time pass once every wake-up it expects has been sent, and a
/// park that then ends by its deadline instead of a wake-up is a lost wake-up.
pub(crate) struct Parker {
    flag: Mutex<bool>,
    cv: Condvar,
    /// Under loom: whether the model has let every deadline pass.
    #[cfg(loom)]
    expired: atomic::AtomicBool,
}

impl Parker {
    pub(crate) fn new() -> Self {
        Parker {
            flag: Mutex::new(false),
            cv: Condvar::new(),
            #[cfg(loom)]
            expired: atomic::AtomicBool::new(false),
        }
    }

    /// Blocks until unparked, `stop()` is true, or `deadline`. Returns whether it was unparked
    /// (and takes the wake-up: the next park blocks again). `stop` is checked under the lock,
    /// before each wait; whoever makes it true must `unpark` afterwards.
    pub(crate) fn park_until(&self, deadline: Instant, stop: impl Fn() -> bool) -> bool {
        let mut flag = lock(&self.flag);
        while !*flag && !stop() {
            #[cfg(loom)]
            if self.expired.load(atomic::Ordering::SeqCst) {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            flag = self
                .cv
                .wait_timeout(flag, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        std::mem::replace(&mut *flag, false)
    }

    /// Wakes the parked thread, or the next park if none is parked now.
    pub(crate) fn unpark(&self) {
        *lock(&self.flag) = true;
        self.cv.notify_one();
    }

    /// Under loom: every deadline has passed, for the park now and every later one.
    #[cfg(loom)]
    pub(crate) fn expire(&self) {
        self.expired.store(true, atomic::Ordering::SeqCst);
        // Under the lock: a park that checked `expired` before the store is waiting by now.
        let _flag = lock(&self.flag);
        self.cv.notify_all();
    }
}
