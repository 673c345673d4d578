//! Cancelling a par job between chunks (an `AbortSignal` in JavaScript).
//!
//! The binding makes a [`Cancel`] per job whose caller gave a signal, and runs the job inside
//! [`scoped`]; the job reads it when it starts ([`current`], on the calling thread, before rayon
//! spreads its chunks), and every chunk that starts after [`Cancel::cancel`] does nothing. The
//! job then ends with `WEFT_ABORTED` instead of its result. A chunk already running finishes:
//! the latency of an abort is at most one chunk per thread ([`super::CHUNK`] elements).

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A job's cancellation flag, shared by the thread that aborts and the threads that run it.
#[derive(Debug, Default)]
pub struct Cancel(AtomicBool);

impl Cancel {
    /// A flag not set.
    pub fn new() -> Cancel {
        Cancel(AtomicBool::new(false))
    }

    /// Asks the job to stop: chunks that start from now on do nothing.
    pub fn cancel(&self) {
        // Relaxed: the flag orders nothing else; a chunk that misses it runs as before.
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

thread_local! {
    static SCOPE: RefCell<Option<Arc<Cancel>>> = const { RefCell::new(None) };
}

/// Runs `f` with `cancel` as the flag of the par jobs it starts on this thread.
pub fn scoped<R>(cancel: Option<Arc<Cancel>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<Cancel>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SCOPE.with(|s| *s.borrow_mut() = previous);
        }
    }
    let previous = SCOPE.with(|s| s.replace(cancel));
    let _restore = Restore(previous);
    f()
}

/// The flag of the scope this thread is in, if any.
pub(crate) fn current() -> Option<Arc<Cancel>> {
    SCOPE.with(|s| s.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        assert!(current().is_none());
        let a = Arc::new(Cancel::new());
        scoped(Some(a.clone()), || {
            assert!(Arc::ptr_eq(&current().unwrap(), &a));
            scoped(None, || assert!(current().is_none()));
            assert!(Arc::ptr_eq(&current().unwrap(), &a));
        });
        assert!(current().is_none());
        // Restored even when `f` panics.
        let r = std::panic::catch_unwind(|| scoped(Some(a.clone()), || panic!("boom")));
        assert!(r.is_err());
        assert!(current().is_none());
        assert!(!a.is_cancelled());
        a.cancel();
        assert!(a.is_cancelled());
    }
}
