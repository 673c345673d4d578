//! How pool workers with nothing to do wait, and how work wakes them: the idle/wake handshake.
//! See `README.md` beside this file for the protocol in prose.
//!
//! [`Idle`] owns every atomic of the handshake: each worker's state (running, spinning, parked,
//! waiting in its event loop), the stack of listed sleepers, the count of spinners, and the
//! [`Parker`] and event-loop waker each worker sleeps on. The queues themselves (the injector,
//! the deques, the inboxes, the mail) stay in [`Pool`](super::Pool): `Idle` sees them only through
//! the `look` closure a worker passes in, and relies on one rule about them: whoever makes work
//! visible calls [`wake_one`](Idle::wake_one) or [`wake_if_waiting`](Idle::wake_if_waiting)
//! *after* publishing it.
//!
//! The invariant (checked by loom on this type, `tests/loom.rs`): a worker never sleeps on work
//! that was published before it parked, or waits for it in its event loop, unwoken. It would
//! still find the work when its park times out, but a park timeout is not a wake-up.

use std::time::{Duration, Instant};

use super::Wait;
use crate::notify::Notify;
use crate::spin::{spin_for, SpinBudget};
use crate::stack::TreiberStack;
use crate::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering};
use crate::sync::{lock, Mutex, Parker};

const RUNNING: u8 = 0;
const PARKED: u8 = 1;
const LOOP_WAIT: u8 = 2;
/// Spinning before it parks: looking for work, so it counts as available (for fair shares).
const SPINNING: u8 = 3;
/// Waiting in its event loop with as many async tasks running as it may (a concurrency cap): woken
/// for its mail (completions of the tasks its own tasks forked) only, never picked for new work,
/// and not counted as available.
const CAPPED: u8 = 4;

/// One worker slot's side of the handshake.
struct Sleeper {
    /// `RUNNING`, `SPINNING`, `PARKED` or `LOOP_WAIT`.
    state: AtomicU8,
    /// True exactly while the worker has an entry in `Idle::sleepers` (at most one).
    listed: AtomicBool,
    parker: Parker,
    /// Wakes the worker's event loop (set while a worker incarnation is attached).
    waker: Mutex<Option<Notify>>,
    /// How long this worker spins before it parks (zero: it parks at once). Only the worker's
    /// own thread reads or writes it; see [`Idle::spin`].
    spin: SpinBudget,
}

/// What a worker that found nothing should do next (see [`Idle::wait`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Idled {
    /// Look for work again: it may have come (or the wait ended with a wake-up).
    LookAgain,
    /// Return to the caller: a bounded park ended with no wake-up, or the worker is now
    /// registered to be woken in its event loop.
    Return,
}

/// The idle/wake handshake of a pool's workers (see the [module](self) docs).
pub struct Idle {
    sleepers: TreiberStack<usize>,
    /// Workers spinning now, and the most that may spin at once.
    spinning: AtomicUsize,
    /// Threads other than the workers spinning now (the main thread waiting for completions,
    /// [`Idle::claim_other_spin`]): they count against `max_spinning` when a worker decides
    /// whether to spin, so that spinners never crowd out the threads doing the work, but not in
    /// `wake_one` (they take no tasks).
    others_spinning: AtomicUsize,
    max_spinning: usize,
    workers: Box<[Sleeper]>,
}

impl Idle {
    /// The handshake of `threads` worker slots, all running; at most half of them (at least one)
    /// spin at once.
    pub fn new(threads: usize) -> Self {
        Idle {
            sleepers: TreiberStack::new(),
            spinning: AtomicUsize::new(0),
            others_spinning: AtomicUsize::new(0),
            max_spinning: (threads / 2).max(1),
            workers: (0..threads)
                .map(|_| Sleeper {
                    state: AtomicU8::new(RUNNING),
                    listed: AtomicBool::new(false),
                    parker: Parker::new(),
                    waker: Mutex::new(None),
                    spin: SpinBudget::new(),
                })
                .collect(),
        }
    }

    /// A new worker incarnation in slot `k`: `waker` wakes its event loop; it starts running.
    pub fn attach(&self, k: usize, waker: Notify) {
        let w = &self.workers[k];
        *lock(&w.waker) = Some(waker);
        w.state.store(RUNNING, Ordering::SeqCst);
    }

    /// The worker in slot `k` is gone: forget its waker.
    pub fn detach(&self, k: usize) {
        *lock(&self.workers[k].waker) = None;
    }

    /// The worker in slot `k` is about to look for work.
    pub fn running(&self, k: usize) {
        self.workers[k].state.store(RUNNING, Ordering::Release);
    }

    /// How many workers are not running (spinning or waiting) now, roughly: they will want a
    /// share of the queued work.
    pub fn available(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| !matches!(w.state.load(Ordering::Relaxed), RUNNING | CAPPED))
            .count()
    }

    /// What the worker in slot `k` does when it found nothing to do: with [`Wait::EventLoop`] it
    /// registers to be woken in its event loop; with [`Wait::Park`] it spins for a while (once
    /// per park, tracked in `spun`), registers, and parks for at most the given time.
    ///
    /// `look(order)` must say whether there is work or mail for this worker now, reading its mail
    /// flag with `order`; `stop()` whether the pool is closing (checked while parked).
    pub fn wait(
        &self,
        k: usize,
        wait: Wait,
        spun: &mut bool,
        look: impl Fn(Ordering) -> bool,
        stop: impl Fn() -> bool,
    ) -> Idled {
        match wait {
            Wait::EventLoop => {
                if self.register(k, LOOP_WAIT, &look) {
                    return Idled::LookAgain;
                }
                Idled::Return
            }
            Wait::Capped => {
                if self.register_capped(k, &look) {
                    return Idled::LookAgain;
                }
                Idled::Return
            }
            Wait::Park(limit) => {
                if !*spun {
                    *spun = true;
                    if self.spin(k, &look) {
                        return Idled::LookAgain;
                    }
                }
                if self.register(k, PARKED, &look) {
                    return Idled::LookAgain;
                }
                let woken = self.park(k, limit, &stop);
                if !woken && !stop() {
                    // Bounded park over: give the event loop a turn (lets the thread be stopped
                    // and its timers run); the caller comes straight back.
                    return Idled::Return;
                }
                *spun = false;
                Idled::LookAgain
            }
        }
    }

    /// Spins for a while looking for work before the worker parks. Tasks often come within
    /// microseconds of each other (a caller awaiting one result and submitting the next), and
    /// waking a parked thread costs tens of microseconds on a virtual machine. The budget adapts
    /// per worker ([`SpinBudget`]), so an idle or lightly used pool burns no CPU; `park` restores
    /// it when work comes soon after a park. At most `max_spinning` workers (half the pool) spin
    /// at once, so spinners never crowd out the threads that submit the work, and a submit does
    /// not wake a sleeper while one spins (see `wake_one`). Returns true if work or mail is
    /// waiting.
    fn spin(&self, k: usize, look: impl Fn(Ordering) -> bool) -> bool {
        let w = &self.workers[k];
        let budget = w.spin.get();
        if budget.is_zero() {
            return false;
        }
        let others = self.others_spinning.load(Ordering::Relaxed);
        if self.spinning.fetch_add(1, Ordering::SeqCst) + others >= self.max_spinning {
            self.spinning.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        w.state.store(SPINNING, Ordering::Release);
        let found = spin_for(budget, || look(Ordering::Acquire));
        // A submit that saw this worker spinning woke nobody: the worker finds that work in the
        // look `register` makes after its fence (it always registers after a fruitless spin).
        self.spinning.fetch_sub(1, Ordering::SeqCst);
        w.spin.spun(budget, found);
        found
    }

    /// A thread other than the workers (the main thread) asks to spin for a while: granted
    /// (true) while fewer than `max_spinning` threads spin; it calls
    /// [`release_other_spin`](Self::release_other_spin) when done. Only an admission count:
    /// nothing in the wake-up handshake depends on it.
    pub fn claim_other_spin(&self) -> bool {
        let busy =
            self.spinning.load(Ordering::Relaxed) + self.others_spinning.load(Ordering::Relaxed);
        if busy >= self.max_spinning {
            return false;
        }
        self.others_spinning.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Ends a spin granted by [`claim_other_spin`](Self::claim_other_spin).
    pub fn release_other_spin(&self) {
        self.others_spinning.fetch_sub(1, Ordering::Relaxed);
    }

    /// Lists the worker as idle (in `state`: `PARKED` or `LOOP_WAIT`), then looks for work once
    /// more (a submit between the failed search and the listing would otherwise be missed).
    /// Returns true if work appeared: the worker is running again.
    fn register(&self, k: usize, state: u8, look: impl Fn(Ordering) -> bool) -> bool {
        let w = &self.workers[k];
        w.state.store(state, Ordering::SeqCst);
        if !w.listed.swap(true, Ordering::AcqRel) {
            self.sleepers.push(k);
        }
        // Pairs with the fence in `wake_one` / `wake_if_waiting` (Dekker style): either this
        // look sees the work published before that fence, or that thread sees this worker
        // waiting.
        fence(Ordering::SeqCst);
        if look(Ordering::SeqCst) {
            w.state.store(RUNNING, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Like [`register`](Self::register) in state `CAPPED`, but without listing the worker as a
    /// sleeper: `wake_one` never picks it for new work; `wake_if_waiting` (its mail, a fork)
    /// still wakes it. Returns true if `look` found something: the worker is running again.
    fn register_capped(&self, k: usize, look: impl Fn(Ordering) -> bool) -> bool {
        let w = &self.workers[k];
        w.state.store(CAPPED, Ordering::SeqCst);
        // Pairs with the fence in `wake_if_waiting`, as in `register`.
        fence(Ordering::SeqCst);
        if look(Ordering::SeqCst) {
            w.state.store(RUNNING, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Parks the worker until it is woken, the pool closes (`stop`) or `limit` passes. Returns
    /// whether it was woken.
    fn park(&self, k: usize, limit: Duration, stop: impl Fn() -> bool) -> bool {
        let w = &self.workers[k];
        let parked = Instant::now();
        let woken = w.parker.park_until(parked + limit, stop);
        w.state.store(RUNNING, Ordering::Release);
        if woken {
            // Work that came soon after the worker parked: spinning would have caught it.
            w.spin.woken_after(parked.elapsed());
        }
        woken
    }

    /// After work that any worker may take was published: wakes one waiting worker, if any and
    /// none is spinning (a spinner finds the work, and wakes the next sleeper if it leaves some).
    pub fn wake_one(&self) {
        // Pairs with the fence in `register`: either the waiting worker sees the work this
        // thread published before calling here, or this thread sees the worker listed.
        fence(Ordering::SeqCst);
        if self.spinning.load(Ordering::SeqCst) > 0 {
            return;
        }
        while let Some(k) = self.sleepers.pop() {
            let w = &self.workers[k];
            w.listed.store(false, Ordering::Release);
            // A capped worker (listed from an earlier wait) would take nothing new: skip it.
            if !matches!(w.state.load(Ordering::Acquire), RUNNING | CAPPED) {
                self.wake(k);
                return;
            }
        }
    }

    /// After work or mail for the worker in slot `k` only was published: wakes it unless it is
    /// running (it then finds it on its next look).
    pub fn wake_if_waiting(&self, k: usize) {
        // Pairs with the fence in `register`: the worker either sees the mail before it waits,
        // or this thread sees it waiting.
        fence(Ordering::SeqCst);
        if self.workers[k].state.load(Ordering::SeqCst) != RUNNING {
            self.wake(k);
        }
    }

    /// After tasks were pushed onto the deque of the worker in slot `k`: wakes it if it waits
    /// capped (`wake_one` never picks a capped worker, and these are tasks it may take).
    pub fn wake_if_capped(&self, k: usize) {
        // Pairs with the fence in `register_capped`, as in `wake_if_waiting`.
        fence(Ordering::SeqCst);
        if self.workers[k].state.load(Ordering::SeqCst) == CAPPED {
            self.wake(k);
        }
    }

    /// Wakes the worker in slot `k` however it waits (a spare wake-up is harmless: it looks for
    /// work and waits again).
    pub fn wake(&self, k: usize) {
        let w = &self.workers[k];
        match w.state.load(Ordering::Acquire) {
            LOOP_WAIT | CAPPED => {
                if let Some(waker) = lock(&w.waker).as_ref() {
                    waker();
                }
            }
            _ => w.parker.unpark(),
        }
    }

    /// Wakes every worker (the pool is closing).
    pub fn wake_all(&self) {
        for k in 0..self.workers.len() {
            self.wake(k);
        }
    }

    /// Under loom, which has no clock: lets the deadline of every park pass, now and later. A
    /// model calls it once every wake-up it expects has been sent; a worker whose park then ends
    /// by its deadline ([`Idled::Return`]) was left to a park timeout.
    #[cfg(loom)]
    pub fn time_passes(&self) {
        for w in self.workers.iter() {
            w.parker.expire();
        }
    }
}
