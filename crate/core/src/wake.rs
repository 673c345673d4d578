//! [`HostWake`]: how a thread that drains queues filled by other threads is woken, at most once
//! per batch, and how it may spin for news before it sleeps. Each actor host (the main thread or
//! a pool worker, `actor::host`) has one, and so has a pool's main thread for its completions
//! (`pool::mail`).

use std::time::Instant;

use crate::notify::Notify;
use crate::spin::{spin_for, SpinBudget};
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{lock, Mutex};

/// A host's wake-up, run at most once per batch: a `notified` flag and the callback.
///
/// A sender queues its work for the host, then calls [`wake`](Self::wake), which sets the flag
/// and runs the callback only if the flag was clear. The host calls [`rearm`](Self::rearm)
/// (clears the flag) and then looks at its queues. Both are swaps on the one flag, so they are
/// ordered: if the sender's swap comes first, the host's swap reads its `true` and (acquire)
/// sees what the sender queued before; if the host's comes first, the sender's swap reads `false`
/// and runs the callback. The host never sleeps on queued work with no wake-up pending.
///
/// A host that expects news soon (the main thread with asks in flight) may spin for it before it
/// sleeps ([`spin_wait`](Self::spin_wait)): it sets the flag while it spins, so senders skip the
/// callback (the host is looking), and clears it before its last look.
pub struct HostWake {
    notified: AtomicBool,
    notify: Mutex<Option<Notify>>,
    /// How long `spin_wait` spins (learnt; only the host's thread uses it).
    spin: SpinBudget,
    /// When the host began the `spin_wait` after which it went to sleep (only its thread uses
    /// it): how long news then took teaches the spin budget.
    waiting_since: Mutex<Option<Instant>>,
}

impl Default for HostWake {
    fn default() -> Self {
        Self::new()
    }
}

impl HostWake {
    /// No callback yet; not notified.
    pub fn new() -> Self {
        HostWake {
            notified: AtomicBool::new(false),
            notify: Mutex::new(None),
            spin: SpinBudget::new(),
            waiting_since: Mutex::new(None),
        }
    }

    /// Installs the callback.
    pub fn set(&self, notify: Notify) {
        *lock(&self.notify) = Some(notify);
    }

    /// Runs the callback unless a wake-up is already pending. Pairs with the swap in `rearm`.
    pub fn wake(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            if let Some(n) = lock(&self.notify).as_ref() {
                n();
            }
        }
    }

    /// Called by the host before it looks at its queues: whatever is queued after this wakes it
    /// again.
    pub fn rearm(&self) {
        self.notified.swap(false, Ordering::AcqRel);
    }

    /// Called by the host, after a look at its queues found nothing, when news is due soon:
    /// looks again (`look`) for up to its spin budget. Returns true if something is waiting;
    /// the host then drains, which re-arms. Returns false once the host may sleep: the flag is
    /// clear again, so whatever is queued from then on runs the callback.
    ///
    /// While it spins the flag is set, so a sender skips the callback (pairs with the swap in
    /// `wake`): either the sender's swap comes first and this thread's later swap (acquire) sees
    /// what it queued before, in the last look; or this swap comes first and the sender's reads
    /// `false` and runs the callback.
    pub fn spin_wait(&self, look: impl Fn() -> bool) -> bool {
        let since = Instant::now();
        let budget = self.spin.get();
        if !budget.is_zero() {
            if self.notified.swap(true, Ordering::AcqRel) {
                // A wake-up is pending already: something was queued since the last re-arm.
                return true;
            }
            let found = spin_for(budget, &look);
            self.spin.spun(budget, found);
            if found {
                return true; // the flag stays set until the drain re-arms
            }
            self.notified.swap(false, Ordering::AcqRel);
            if look() {
                return true;
            }
        }
        *lock(&self.waiting_since) = Some(since);
        false
    }

    /// The host found work after it slept (from `spin_wait`): if it came soon enough, a longer
    /// spin would have caught it, and the budget grows to that (see [`SpinBudget::waited`]).
    pub fn found_work(&self) {
        if let Some(at) = lock(&self.waiting_since).take() {
            self.spin.waited(at.elapsed());
        }
    }
}
