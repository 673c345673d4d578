//! A multi-producer, multi-consumer FIFO queue that JavaScript threads share, with the wake-ups
//! its async side needs: [`Queue`] and its waiter list [`Waiters`].
//!
//! The items live in crossbeam's lock-free queues, the same two the actor mailboxes use: an
//! unbounded [`SegQueue`] or a bounded [`ArrayQueue`]. Both are linearizable FIFOs, so what one
//! producer pushes comes out in its order, and each item is taken by exactly one pop.
//!
//! What this module adds is its own small protocol, for the async side (`popAsync`, `pushAsync`,
//! `close`):
//!
//! * **Waiting.** A thread that wants an item and finds none [`arm`](Waiters::arm)s its
//!   [`Waiter`] in the queue's list and looks once more; a producer, after its push, calls
//!   [`wake_all`](Waiters::wake_all), which wakes every armed waiter (each at most once until it
//!   re-arms: one wake-up per batch, never one per item). Either the consumer's second look sees
//!   the item or the producer sees the waiter (a Dekker pair of SeqCst fences, as in the
//!   mailbox's `WaitList`; loom-checked on this code in `tests/loom.rs`). A wake-up carries no
//!   item: the woken thread pops on its own thread. So an item is never handed to a thread that
//!   is gone: a consumer that exits between its wake-up and its pop leaves the item in the queue,
//!   where every other waiter (woken by the same push) can take it. The same list, on the other
//!   side, wakes producers that wait for room in a full bounded queue.
//! * **Closing.** [`close`](Queue::close) refuses every later push; the items already in it can
//!   still be popped, and a consumer knows it has seen the last one when [`drained`](Queue::drained)
//!   says so. Pushes in flight are counted in the same word as the closed bit, so `drained` can
//!   never end a consumer while a push that began before `close` has yet to land its item.

use crossbeam_queue::{ArrayQueue, SegQueue};

use crate::error::{Code, Error, Result};
use crate::notify::Notify;
use crate::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use crate::sync::{lock, unmodelled, Mutex};
use std::sync::Arc;

/// One thread's wake-up for one queue: armed while it waits, disarmed by the wake-up.
pub struct Waiter {
    /// Whether it is in the list (read and written under the list's lock only).
    armed: AtomicBool,
    notify: Notify,
}

impl Waiter {
    /// A waiter that runs `notify` when woken (on the waking thread: it must not block).
    pub fn new(notify: Notify) -> Arc<Self> {
        Arc::new(Waiter {
            armed: AtomicBool::new(false),
            notify,
        })
    }
}

/// The armed waiters of one side of a queue (consumers waiting for items, or producers waiting
/// for room).
pub struct Waiters {
    /// How many are armed (= `list.len()`, written under the lock, read without it by `wake_all`).
    count: AtomicUsize,
    list: Mutex<Vec<Arc<Waiter>>>,
}

impl Default for Waiters {
    fn default() -> Self {
        Self::new()
    }
}

impl Waiters {
    /// None armed.
    pub fn new() -> Self {
        Waiters {
            count: AtomicUsize::new(0),
            list: Mutex::new(Vec::new()),
        }
    }

    /// The waiting side's half, after it found nothing: arms `w` (once: an armed waiter stays in
    /// the list once). The caller must then look once more; a spare wake-up later is harmless.
    ///
    /// `armed` is read and written only under the list's lock, so a waiter is armed exactly when
    /// it is in the list: a wake-up that takes the list disarms what it took before anyone can
    /// arm again. (With the flag flipped outside the lock, a thread could arm between the take
    /// and the disarm, see itself armed, skip the list, and then lose its flag to the disarm:
    /// loom found that one.)
    pub fn arm(&self, w: &Arc<Waiter>) {
        {
            let mut list = lock(&self.list);
            if !w.armed.load(Ordering::Relaxed) {
                w.armed.store(true, Ordering::Relaxed);
                list.push(Arc::clone(w));
                self.count.store(list.len(), Ordering::SeqCst);
            }
        }
        // Pairs with the fence in `wake_all`.
        fence(Ordering::SeqCst);
    }

    /// Takes `w` out of the list if it is armed (its thread no longer waits, or is going away):
    /// it is not woken, and the list no longer holds it.
    pub fn disarm(&self, w: &Arc<Waiter>) {
        let mut list = lock(&self.list);
        if w.armed.load(Ordering::Relaxed) {
            w.armed.store(false, Ordering::Relaxed);
            list.retain(|x| !Arc::ptr_eq(x, w));
            self.count.store(list.len(), Ordering::SeqCst);
        }
    }

    /// The other side's half, after it made news (pushed an item, freed a slot, closed): wakes
    /// every armed waiter and disarms it. Cheap when nobody waits: a fence and a load.
    pub fn wake_all(&self) -> usize {
        // Pairs with the fence in `arm`.
        fence(Ordering::SeqCst);
        if self.count.load(Ordering::SeqCst) == 0 {
            return 0;
        }
        let woken = {
            let mut list = lock(&self.list);
            self.count.store(0, Ordering::SeqCst);
            for w in list.iter() {
                w.armed.store(false, Ordering::Relaxed);
            }
            std::mem::take(&mut *list)
        };
        // Outside the lock: a callback may be slow (it queues a call into another event loop).
        for w in &woken {
            (w.notify)();
        }
        woken.len()
    }

    /// How many are armed now.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether none is armed now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

enum Lane<T> {
    Unbounded(SegQueue<T>),
    Bounded(ArrayQueue<T>),
}

/// The closed bit of [`Queue::state`]; the pushes in flight are counted above it, in steps of 2.
const CLOSED: usize = 1;
const PUSHING: usize = 2;

/// Counters of a queue (since it was made).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Items queued now.
    pub len: usize,
    /// Its bound (`None`: unbounded).
    pub capacity: Option<usize>,
    /// Consumers waiting for an item now (threads with an async pop pending).
    pub waiting_pop: usize,
    /// Producers waiting for room now.
    pub waiting_push: usize,
    /// Pushes refused because the queue was full.
    pub full: u64,
    /// Wake-ups sent to waiting threads.
    pub wakes: u64,
    /// Whether it is closed.
    pub closed: bool,
}

/// What [`Queue::push`] did with an item.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed<T> {
    /// It is queued.
    Queued,
    /// The queue is bounded and full: here it is back.
    Full(T),
}

/// An MPMC FIFO queue, unbounded or bounded, with close and waiter lists (see the module docs).
pub struct Queue<T> {
    lane: Lane<T>,
    /// `CLOSED` bit + `PUSHING` × pushes in flight.
    state: AtomicUsize,
    /// Consumers waiting for items.
    pop_waiters: Waiters,
    /// Producers waiting for room (bounded queues).
    push_waiters: Waiters,
    full: unmodelled::AtomicU64,
    wakes: unmodelled::AtomicU64,
}

impl<T> Queue<T> {
    /// An unbounded queue.
    pub fn unbounded() -> Self {
        Self::with_lane(Lane::Unbounded(SegQueue::new()))
    }

    /// A queue holding at most `capacity` items.
    pub fn bounded(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::new(
                Code::InvalidArg,
                "a bounded queue needs a capacity of at least 1",
            ));
        }
        Ok(Self::with_lane(Lane::Bounded(ArrayQueue::new(capacity))))
    }

    fn with_lane(lane: Lane<T>) -> Self {
        Queue {
            lane,
            state: AtomicUsize::new(0),
            pop_waiters: Waiters::new(),
            push_waiters: Waiters::new(),
            full: unmodelled::AtomicU64::new(0),
            wakes: unmodelled::AtomicU64::new(0),
        }
    }

    fn closed_error() -> Error {
        Error::new(Code::Closed, "the queue is closed: it takes no more items")
    }

    /// Runs `f` as a push in flight: refused with `WEFT_CLOSED` once the queue is closed. While
    /// `f` runs, `drained` cannot report the end.
    fn pushing<R>(&self, f: impl FnOnce() -> R) -> Result<R> {
        let s = self.state.fetch_add(PUSHING, Ordering::SeqCst);
        let r = if s & CLOSED == 0 { Some(f()) } else { None };
        // After the item is in: a consumer that sees no push in flight and the closed bit sees
        // every item pushed before (SeqCst RMW, read by `drained`'s SeqCst load).
        let s = self.state.fetch_sub(PUSHING, Ordering::SeqCst);
        if s == CLOSED + PUSHING {
            // The last push in flight of a closed queue, whether it got in or backed out: a
            // consumer may have seen it in flight and armed; tell it the end may have come.
            // (loom found the backed-out case: `queue_consumer_gets_every_item_and_the_end`.)
            self.wake_consumers();
        }
        r.ok_or_else(Self::closed_error)
    }

    fn wake_consumers(&self) {
        let n = self.pop_waiters.wake_all();
        if n > 0 {
            self.wakes
                .fetch_add(n as u64, unmodelled::Ordering::Relaxed);
        }
    }

    fn wake_producers(&self) {
        let n = self.push_waiters.wake_all();
        if n > 0 {
            self.wakes
                .fetch_add(n as u64, unmodelled::Ordering::Relaxed);
        }
    }

    fn refused_full(&self) {
        self.full.fetch_add(1, unmodelled::Ordering::Relaxed);
    }

    /// Pushes one item at the back. `Err(WEFT_CLOSED)` once closed; [`Pushed::Full`] if bounded
    /// and full.
    pub fn push(&self, item: T) -> Result<Pushed<T>> {
        let pushed = self.pushing(|| match &self.lane {
            Lane::Unbounded(q) => {
                q.push(item);
                Pushed::Queued
            }
            Lane::Bounded(q) => match q.push(item) {
                Ok(()) => Pushed::Queued,
                Err(item) => Pushed::Full(item),
            },
        })?;
        match pushed {
            Pushed::Queued => self.wake_consumers(),
            Pushed::Full(_) => self.refused_full(),
        }
        Ok(pushed)
    }

    /// Pushes items in order until one does not fit, and returns how many were queued: an
    /// unbounded queue takes them all, a bounded one stops at the first that finds it full (that
    /// one and the rest are dropped: the caller still has its own copies, and the count says where
    /// to resume). Consumers are woken once for the batch.
    pub fn push_many<I: IntoIterator<Item = T>>(&self, items: I) -> Result<usize> {
        let n = self.pushing(|| {
            let mut n = 0usize;
            for item in items {
                let ok = match &self.lane {
                    Lane::Unbounded(q) => {
                        q.push(item);
                        true
                    }
                    Lane::Bounded(q) => q.push(item).is_ok(),
                };
                if !ok {
                    break;
                }
                n += 1;
            }
            n
        })?;
        if n > 0 {
            self.wake_consumers();
        }
        Ok(n)
    }

    /// Takes the item at the front, if any.
    pub fn pop(&self) -> Option<T> {
        match &self.lane {
            Lane::Unbounded(q) => q.pop(),
            Lane::Bounded(q) => {
                let item = q.pop();
                if item.is_some() {
                    self.wake_producers();
                }
                item
            }
        }
    }

    /// Takes up to `max` items from the front (producers waiting for room are woken once).
    pub fn pop_many(&self, max: usize) -> Vec<T> {
        let mut out = Vec::with_capacity(max.min(self.len()).min(1 << 16));
        self.pop_into(max, |item| out.push(item));
        out
    }

    /// Takes up to `max` items from the front, handing each to `sink`; returns how many.
    pub fn pop_into(&self, max: usize, mut sink: impl FnMut(T)) -> usize {
        let mut n = 0usize;
        while n < max {
            let item = match &self.lane {
                Lane::Unbounded(q) => q.pop(),
                Lane::Bounded(q) => q.pop(),
            };
            match item {
                Some(item) => sink(item),
                None => break,
            }
            n += 1;
        }
        if n > 0 && matches!(self.lane, Lane::Bounded(_)) {
            self.wake_producers();
        }
        n
    }

    /// Closes the queue: later pushes fail with `WEFT_CLOSED`, waiting consumers and producers are
    /// woken (consumers drain what is left, then end). Returns false if it was closed already.
    pub fn close(&self) -> bool {
        let was = self.state.fetch_or(CLOSED, Ordering::SeqCst);
        self.wake_consumers();
        self.wake_producers();
        was & CLOSED == 0
    }

    /// Whether it is closed.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Whether a consumer that just found the queue empty has seen the last item: it is closed and
    /// no push is in flight. (Then nothing can ever be pushed again; the caller still pops once
    /// more, for an item that landed between its empty pop and this check.)
    pub fn drained(&self) -> bool {
        self.state.load(Ordering::SeqCst) == CLOSED
    }

    /// Items queued now (exact when no push or pop is in flight).
    pub fn len(&self) -> usize {
        match &self.lane {
            Lane::Unbounded(q) => q.len(),
            Lane::Bounded(q) => q.len(),
        }
    }

    /// Whether it was empty at the moment of the check.
    pub fn is_empty(&self) -> bool {
        match &self.lane {
            Lane::Unbounded(q) => q.is_empty(),
            Lane::Bounded(q) => q.is_empty(),
        }
    }

    /// Its bound, if bounded.
    pub fn capacity(&self) -> Option<usize> {
        match &self.lane {
            Lane::Unbounded(_) => None,
            Lane::Bounded(q) => Some(q.capacity()),
        }
    }

    /// Whether a push would find room now (always true when unbounded).
    pub fn has_room(&self) -> bool {
        match &self.lane {
            Lane::Unbounded(_) => true,
            Lane::Bounded(q) => !q.is_full(),
        }
    }

    /// A consumer that found the queue empty waits: `w` is woken by the next push or by `close`.
    /// The caller must look once more after this (pop, then `drained`).
    pub fn wait_for_item(&self, w: &Arc<Waiter>) {
        self.pop_waiters.arm(w);
    }

    /// A producer that found the queue full waits: `w` is woken by the next pop or by `close`.
    /// The caller must try its push once more after this.
    pub fn wait_for_room(&self, w: &Arc<Waiter>) {
        self.push_waiters.arm(w);
    }

    /// Takes `w` out of both waiter lists (its thread stopped waiting, or is going away).
    pub fn stop_waiting(&self, w: &Arc<Waiter>) {
        self.pop_waiters.disarm(w);
        self.push_waiters.disarm(w);
    }

    /// Its counters.
    pub fn stats(&self) -> QueueStats {
        QueueStats {
            len: self.len(),
            capacity: self.capacity(),
            waiting_pop: self.pop_waiters.len(),
            waiting_push: self.push_waiters.len(),
            full: self.full.load(unmodelled::Ordering::Relaxed),
            wakes: self.wakes.load(unmodelled::Ordering::Relaxed),
            closed: self.is_closed(),
        }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;

    fn counter() -> (Arc<StdAtomicUsize>, Arc<Waiter>) {
        let hits = Arc::new(StdAtomicUsize::new(0));
        let h = hits.clone();
        let w = Waiter::new(Box::new(move || {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
        (hits, w)
    }

    #[test]
    fn fifo_and_batches() {
        let q = Queue::unbounded();
        assert_eq!(q.pop(), None::<i32>);
        assert_eq!(q.push(1).unwrap(), Pushed::Queued);
        assert_eq!(q.push_many([2, 3, 4]).unwrap(), 3);
        assert_eq!(q.len(), 4);
        assert_eq!(q.pop(), Some(1));
        assert_eq!(q.pop_many(2), vec![2, 3]);
        assert_eq!(q.pop_many(10), vec![4]);
        assert!(q.is_empty());
        assert_eq!(q.capacity(), None);
    }

    #[test]
    fn bounded_refuses_when_full_and_wakes_producers() {
        assert!(Queue::<u8>::bounded(0).is_err());
        let q = Queue::bounded(2).unwrap();
        assert_eq!(q.push_many([1, 2, 3]).unwrap(), 2);
        assert_eq!(q.push(9).unwrap(), Pushed::Full(9));
        assert!(!q.has_room());
        let (hits, w) = counter();
        q.wait_for_room(&w);
        q.wait_for_room(&w); // armed once
        assert_eq!(q.stats().waiting_push, 1);
        assert_eq!(q.pop(), Some(1));
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(q.stats().waiting_push, 0);
        assert_eq!(q.pop(), Some(2)); // disarmed: no second wake-up
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(q.stats().full, 1);
    }

    #[test]
    fn push_wakes_armed_consumers_once_per_arm() {
        let q = Queue::unbounded();
        let (a_hits, a) = counter();
        let (b_hits, b) = counter();
        q.wait_for_item(&a);
        q.wait_for_item(&b);
        q.push(1).unwrap();
        q.push(2).unwrap();
        assert_eq!(a_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(b_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(q.stats().wakes, 2);
        // A disarmed waiter is not woken and not held.
        q.wait_for_item(&a);
        q.wait_for_item(&b);
        q.stop_waiting(&a);
        assert_eq!(Arc::strong_count(&a), 1);
        assert_eq!(q.stats().waiting_pop, 1);
        q.push(3).unwrap();
        assert_eq!(a_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(b_hits.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn close_refuses_pushes_keeps_items_and_wakes() {
        let q = Queue::unbounded();
        q.push(1).unwrap();
        let (hits, w) = counter();
        q.wait_for_item(&w);
        assert!(q.close());
        assert!(!q.close());
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(q.push(2).unwrap_err().code, Code::Closed);
        assert_eq!(q.push_many([3]).unwrap_err().code, Code::Closed);
        assert!(q.is_closed());
        assert!(q.drained()); // closed, nothing in flight: the end comes once it is empty
        assert_eq!(q.pop(), Some(1));
        assert_eq!(q.pop(), None);
    }
}
