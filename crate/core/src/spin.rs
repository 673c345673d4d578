//! Bounded, adaptive spinning before a thread sleeps: [`SpinBudget`] and [`spin_for`].
//!
//! Waking a sleeping thread costs tens of microseconds on a virtual machine (a futex or an
//! eventfd, and the scheduler), often more than the work it was woken for. A thread that expects
//! news within microseconds (a pool worker between two tasks, the main thread with asks in
//! flight) looks for it for a while before it sleeps. How long is learnt per thread: the budget
//! doubles (up to [`SpinBudget::MAX`]) when news came while spinning, halves when it did not,
//! down to not spinning at all, so a thread whose news comes late (or never) burns no CPU; a
//! wake-up that comes soon after the thread went to sleep sets it back to [`SpinBudget::MIN`].

use std::time::Duration;
#[cfg(not(loom))]
use std::time::Instant;

use crate::sync::atomic::{AtomicU64, Ordering};

/// How long one thread spins before it sleeps, learnt from whether spinning paid off. Only the
/// thread that spins reads or writes it (the atomic makes it shareable, not a handshake).
pub(crate) struct SpinBudget {
    ns: AtomicU64,
}

impl SpinBudget {
    /// The longest a thread spins.
    pub(crate) const MAX: Duration = Duration::from_micros(200);
    /// The budget a thread starts with, and the least it is set back to when spinning helps.
    pub(crate) const MIN: Duration = Duration::from_micros(25);

    /// A budget of [`MIN`](Self::MIN).
    pub(crate) fn new() -> Self {
        SpinBudget {
            ns: AtomicU64::new(Self::MIN.as_nanos() as u64),
        }
    }

    /// The budget now (zero: do not spin).
    pub(crate) fn get(&self) -> Duration {
        Duration::from_nanos(self.ns.load(Ordering::Relaxed))
    }

    /// After a spin of `budget`: doubled if it found something, else halved (to zero below
    /// half of `MIN`).
    pub(crate) fn spun(&self, budget: Duration, found: bool) {
        let next = if found {
            (budget * 2).clamp(Self::MIN, Self::MAX)
        } else if budget / 2 < Self::MIN / 2 {
            Duration::ZERO
        } else {
            budget / 2
        };
        self.ns.store(next.as_nanos() as u64, Ordering::Relaxed);
    }

    /// The thread began to wait (spin, then sleep) `waited` ago and news came only now: if it
    /// came within `MAX`, spinning twice that long would have caught it, and the budget grows to
    /// that (it never shrinks here).
    pub(crate) fn waited(&self, waited: Duration) {
        if waited < Self::MAX {
            let want = (waited * 2).clamp(Self::MIN, Self::MAX).as_nanos() as u64;
            if self.ns.load(Ordering::Relaxed) < want {
                self.ns.store(want, Ordering::Relaxed);
            }
        }
    }

    /// The thread slept for `slept` and was woken: if it had stopped spinning and the wake-up
    /// came within what a spin could have waited, it spins again (from `MIN`).
    pub(crate) fn woken_after(&self, slept: Duration) {
        if self.ns.load(Ordering::Relaxed) == 0 && slept < Self::MAX {
            self.ns
                .store(Self::MIN.as_nanos() as u64, Ordering::Relaxed);
        }
    }
}

/// Calls `look` until it finds something or `budget` has passed; returns whether it found
/// something.
#[cfg(not(loom))]
pub(crate) fn spin_for(budget: Duration, look: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    let mut rounds = 0u32;
    loop {
        if look() {
            return true;
        }
        if start.elapsed() >= budget {
            return false;
        }
        rounds += 1;
        if rounds.is_multiple_of(16) {
            // Let a thread that shares this core (the sender, on a small machine) run.
            std::thread::yield_now();
        } else {
            for _ in 0..32 {
                std::hint::spin_loop();
            }
        }
    }
}

/// Under loom a spin is one look: loom has no clock, and a loop that waits for another thread
/// would only multiply the interleavings. The handshakes do not depend on how long a thread
/// spins, only on what it does before and after.
#[cfg(loom)]
pub(crate) fn spin_for(_budget: Duration, look: impl Fn() -> bool) -> bool {
    look()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
    use std::sync::Arc;

    #[test]
    fn the_budget_doubles_on_success_halves_on_failure_and_comes_back_after_a_quick_wake() {
        let b = SpinBudget::new();
        assert_eq!(b.get(), SpinBudget::MIN);
        b.spun(b.get(), true);
        assert_eq!(b.get(), SpinBudget::MIN * 2);
        for _ in 0..10 {
            b.spun(b.get(), true);
        }
        assert_eq!(b.get(), SpinBudget::MAX);
        for _ in 0..20 {
            b.spun(b.get(), false);
        }
        assert_eq!(b.get(), Duration::ZERO, "a spin that never pays off stops");
        b.woken_after(SpinBudget::MAX * 2);
        assert_eq!(
            b.get(),
            Duration::ZERO,
            "a late wake-up does not restore it"
        );
        b.woken_after(SpinBudget::MIN);
        assert_eq!(b.get(), SpinBudget::MIN, "a quick wake-up does");
        b.waited(Duration::from_micros(40));
        assert_eq!(
            b.get(),
            Duration::from_micros(80),
            "news after 40 µs: spin 80 µs"
        );
        b.waited(Duration::from_micros(30));
        assert_eq!(b.get(), Duration::from_micros(80), "it does not shrink");
        b.waited(SpinBudget::MAX);
        assert_eq!(
            b.get(),
            Duration::from_micros(80),
            "news later than MAX does not count"
        );
    }

    #[test]
    fn spin_for_sees_what_another_thread_publishes_and_gives_up_after_its_budget() {
        let flag = Arc::new(AtomicBool::new(false));
        let f2 = flag.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2));
            f2.store(true, AtomicOrdering::Release);
        });
        assert!(spin_for(Duration::from_secs(5), || flag
            .load(AtomicOrdering::Acquire)));
        t.join().unwrap();
        let start = Instant::now();
        assert!(!spin_for(Duration::from_millis(1), || false));
        assert!(start.elapsed() >= Duration::from_millis(1));
    }
}
