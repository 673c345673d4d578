//! A lock-free Treiber stack with epoch-based memory reclamation.
//!
//! The stack of the seed article is unsound in four ways; each is closed here:
//!
//! * **Use-after-free**: the article frees a popped node at once, while another thread that
//!   loaded the same head may still read `(*head).next`. Here a node is only *retired* on pop
//!   (`Guard::defer_destroy`) and crossbeam-epoch frees it once every thread that could hold a
//!   pointer to it has unpinned.
//! * **ABA**: a node's address cannot be reused while any thread that loaded it is still
//!   pinned, so a `compare_exchange` on `head` can never succeed against a recycled node.
//! * **Leak on drop**: `Drop` walks the remaining chain and frees every node and value.
//! * **Send/Sync**: the article's raw pointers make the type `!Send`/`!Sync` or, once forced,
//!   unconditionally shareable. Here the auto traits follow `T`: the stack is `Send + Sync`
//!   exactly when `T: Send + Sync` (values move between threads and are read by `peek` on
//!   several threads at once).
//!
//! **Under contention** a plain Treiber loop moves the head's cache line between cores on every
//! attempt, and a losing compare-exchange retries at once, which moves it again. So a push or pop
//! whose compare-exchange fails first tries the **elimination slot**: a push offers its node
//! there for a moment, and a pop that failed its own compare-exchange takes an offered node
//! instead of the head. A push and a pop that meet this way cancel out (the push is linearized
//! just before the pop) without touching the head at all. An operation that does not meet a
//! partner backs off (exponential spin, crossbeam-utils' `Backoff`) before it retries, so one
//! thread can run a short streak on the head's line while the other waits, instead of both
//! trading it. The uncontended path (one thread, or no collision) is unchanged: the slot is only
//! looked at after a failed compare-exchange. The offered node is protected like a stack node:
//! the taker retires it through the epoch, so its address cannot be reused (no ABA on the slot)
//! while the offering push, which is pinned, may still compare against it.
//!
//! `pop` hands out a *clone* of the value and lets the reclaimer drop the original with its node.
//! That is what makes `peek` sound: a concurrent peeker may be cloning the very value a popper
//! is returning, so the popper must not move it out and free its heap memory while the peeker
//! is still pinned. For the payloads weft stores (numbers, `Arc`-backed bytes and strings) the
//! clone is a copy or a reference-count increment.

use std::mem::ManuallyDrop;

use crate::sync::atomic::{AtomicUsize, Ordering};
use crossbeam_epoch::{self as epoch, Atomic, Guard, Owned, Shared};
use crossbeam_utils::{Backoff, CachePadded};

/// How many times an offering push looks at the elimination slot for a taker before it tries to
/// withdraw its node (a few hundred ns: about one contended head round trip on two cores).
#[cfg(not(loom))]
const OFFER_SPINS: u32 = 64;
/// Under loom every look is a modelled step: one look is enough to reach every outcome.
#[cfg(loom)]
const OFFER_SPINS: u32 = 1;

struct Node<T> {
    value: ManuallyDrop<T>,
    next: Atomic<Node<T>>,
}

impl<T> Node<T> {
    fn boxed(value: T) -> Owned<Node<T>> {
        Owned::new(Node {
            value: ManuallyDrop::new(value),
            next: Atomic::null(),
        })
    }
}

/// A multi-producer, multi-consumer LIFO stack that never blocks.
pub struct TreiberStack<T> {
    head: CachePadded<Atomic<Node<T>>>,
    /// The elimination slot: null, or the node of a push that waits there for a pop (see the
    /// module docs). On a line of its own, away from `head`.
    offer: CachePadded<Atomic<Node<T>>>,
    /// Pushes and pops that met in the elimination slot (statistics).
    eliminated: crate::sync::unmodelled::AtomicU64,
    /// Never below the number of reachable nodes: incremented before a node is published and
    /// decremented after one is unlinked. Approximate while operations are in flight.
    len: AtomicUsize,
}

impl<T> Default for TreiberStack<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TreiberStack<T> {
    /// An empty stack.
    pub fn new() -> Self {
        Self {
            head: CachePadded::new(Atomic::null()),
            offer: CachePadded::new(Atomic::null()),
            eliminated: crate::sync::unmodelled::AtomicU64::new(0),
            len: AtomicUsize::new(0),
        }
    }

    /// Pushes one value on top.
    pub fn push(&self, value: T) {
        self.len.fetch_add(1, Ordering::Relaxed);
        let guard = epoch::pin();
        let node = Node::boxed(value).into_shared(&guard);
        self.publish(node, node, &guard);
    }

    /// Pushes a batch as one atomic step: the values appear together, the last one on top, and no
    /// concurrent pop can interleave with them. Returns the number pushed.
    pub fn push_many<I: IntoIterator<Item = T>>(&self, values: I) -> usize {
        let mut iter = values.into_iter();
        let Some(first) = iter.next() else { return 0 };
        let guard = epoch::pin();
        // Build the chain privately: `bottom` holds the first value, `top` the last. Nothing
        // else can see these nodes until `publish` swings the head to `top`.
        let bottom = Node::boxed(first).into_shared(&guard);
        let mut top = bottom;
        let mut count = 1usize;
        for value in iter {
            let node = Node::boxed(value);
            node.next.store(top, Ordering::Relaxed);
            top = node.into_shared(&guard);
            count += 1;
        }
        self.len.fetch_add(count, Ordering::Relaxed);
        self.publish(top, bottom, &guard);
        count
    }

    /// Makes `top` the new head; `bottom` is the last node of the private chain that starts at
    /// `top` (the same node for a single push), whose `next` is pointed at the old head.
    fn publish<'g>(&self, top: Shared<'g, Node<T>>, bottom: Shared<'g, Node<T>>, guard: &'g Guard) {
        // SAFETY: `bottom` belongs to a chain built by the caller from fresh `Owned` nodes and not
        // yet published, so this thread is its only user and it is allocated; it cannot be freed
        // before the compare-exchange below publishes it (or a pop takes it from the elimination
        // slot, after which this loop returns without touching it), and only then do others see
        // it.
        let bottom_ref = unsafe { bottom.deref() };
        let backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Relaxed, guard);
        loop {
            bottom_ref.next.store(head, Ordering::Relaxed);
            // Release: a thread that acquires `top` also sees the values and links written by
            // this thread before the publish.
            match self
                .head
                .compare_exchange(head, top, Ordering::Release, Ordering::Relaxed, guard)
            {
                Ok(_) => return,
                Err(_) => {
                    // Contended: a single node may meet a pop in the elimination slot.
                    if top == bottom && self.offer_to_pop(top, guard) {
                        return;
                    }
                    backoff.spin();
                    head = self.head.load(Ordering::Relaxed, guard);
                }
            }
        }
    }

    /// Offers a single, unpublished node to a pop through the elimination slot. Returns true if a
    /// pop took it (the push is done: the pop owns and retires the node), false if nobody did
    /// (the node is this thread's again). Cold and out of line: the uncontended push stays small.
    #[cold]
    #[inline(never)]
    fn offer_to_pop<'g>(&self, node: Shared<'g, Node<T>>, guard: &'g Guard) -> bool {
        // Release: a pop that acquires the node sees its value.
        if self
            .offer
            .compare_exchange(
                Shared::null(),
                node,
                Ordering::Release,
                Ordering::Relaxed,
                guard,
            )
            .is_err()
        {
            return false; // another push is offering
        }
        for _ in 0..OFFER_SPINS {
            if self.offer.load(Ordering::Acquire, guard) != node {
                return true; // taken
            }
            crate::sync::spin_hint();
        }
        // Withdraw. Fails only if a pop took the node meanwhile: a later offer of another node
        // cannot have the same address while this thread is pinned (the taker retires it
        // through the epoch), so the compare is not fooled by reuse.
        self.offer
            .compare_exchange(
                node,
                Shared::null(),
                Ordering::Acquire,
                Ordering::Relaxed,
                guard,
            )
            .is_err()
    }

    /// A pop whose compare-exchange failed takes the node a push offers, if any: it is unlinked
    /// by construction (it was never in the stack) and now this thread's to retire. Returns its
    /// value, valid while `guard` is pinned. Cold and out of line, like `offer_to_pop`.
    #[cold]
    #[inline(never)]
    fn take_offer<'g>(&self, guard: &'g Guard) -> Option<&'g T> {
        let offered = self.offer.load(Ordering::Acquire, guard);
        if offered.is_null() {
            return None;
        }
        self.offer
            .compare_exchange(
                offered,
                Shared::null(),
                Ordering::Acquire,
                Ordering::Relaxed,
                guard,
            )
            .ok()?;
        self.len.fetch_sub(1, Ordering::Relaxed);
        self.eliminated
            .fetch_add(1, crate::sync::unmodelled::Ordering::Relaxed);
        // SAFETY: the compare-exchange made this thread the only taker of `offered`, a node the
        // offering push built from a fresh `Owned` and never published to the stack; the pusher
        // no longer dereferences it (its withdraw fails). So it is retired exactly once, here, and
        // stays allocated while `guard` (and the pusher's pin) last.
        unsafe {
            self.retire(offered, guard);
            Some(&offered.deref().value)
        }
    }

    /// Pushes and pops that met in the elimination slot instead of the head, since the stack was
    /// made (a measure of contention).
    pub fn eliminated(&self) -> u64 {
        self.eliminated
            .load(crate::sync::unmodelled::Ordering::Relaxed)
    }

    /// Unlinks the top node, if any, and retires it. Returns a reference to its value that is
    /// valid for as long as `guard` is pinned.
    fn unlink<'g>(&self, guard: &'g Guard) -> Option<&'g T> {
        let backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Acquire, guard);
        loop {
            // SAFETY: `head` was loaded with Acquire under `guard`; a node reachable from `head`
            // is retired only after being unlinked, and retired nodes are freed only once every
            // guard pinned before the retirement is dropped, so the node outlives `guard`.
            let node = unsafe { head.as_ref() }?;
            let next = node.next.load(Ordering::Relaxed, guard);
            match self.head.compare_exchange(
                head,
                next,
                Ordering::Acquire,
                Ordering::Acquire,
                guard,
            ) {
                Ok(_) => {
                    self.len.fetch_sub(1, Ordering::Relaxed);
                    // SAFETY: the compare-exchange made this thread the unique unlinker of
                    // `head`, so it is retired exactly once; other threads may still read it
                    // (peek, or a losing pop reading `next`), which the epoch defers around.
                    // `Node` has no drop glue for the value (ManuallyDrop), so the value is
                    // dropped by the deferred closure below, after the same grace period.
                    unsafe { self.retire(head, guard) };
                    return Some(&node.value);
                }
                Err(_) => {
                    // Contended: meet a push in the elimination slot, or back off.
                    if let Some(v) = self.take_offer(guard) {
                        return Some(v);
                    }
                    backoff.spin();
                    head = self.head.load(Ordering::Acquire, guard);
                }
            }
        }
    }

    /// Retires an unlinked node: frees it and drops its value after a grace period.
    ///
    /// # Safety
    /// `node` must be unlinked from the stack, non-null, and retired only once.
    unsafe fn retire(&self, node: Shared<'_, Node<T>>, guard: &Guard) {
        let raw = node.as_raw() as usize;
        // SAFETY (of the closure): runs once, after every guard that could observe the node is
        // gone, so nobody else can reach the node or its value; the caller guarantees a single
        // retirement, so the value and the box are dropped exactly once.
        let free = move || {
            // SAFETY: see above; `raw` came from `Owned::into_shared`, i.e. a `Box<Node<T>>`.
            let mut boxed = unsafe { Box::from_raw(raw as *mut Node<T>) };
            // SAFETY: the value was never taken out (pop clones it), so it is dropped here once.
            unsafe { ManuallyDrop::drop(&mut boxed.value) };
        };
        // SAFETY: the closure captures only a `usize` and touches memory no thread can reach
        // any more once it runs (see above). `T: Send` is required by every caller that can
        // retire from a thread other than the owner: the public methods carry that bound, so the
        // deferred drop on another thread is sound.
        unsafe { guard.defer_unchecked(free) };
    }

    /// Approximate number of values: exact when the stack is quiescent, never below the true
    /// count while pushes and pops are in flight.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the stack was empty at the moment of the check.
    pub fn is_empty(&self) -> bool {
        let guard = epoch::pin();
        self.head.load(Ordering::Acquire, &guard).is_null()
    }

    /// Removes every value. Returns how many were removed.
    pub fn clear(&self) -> usize
    where
        T: Send,
    {
        let guard = epoch::pin();
        // Detach the whole chain at once; from here on no new reader can reach it.
        let mut node = self.head.swap(Shared::null(), Ordering::Acquire, &guard);
        let mut count = 0usize;
        // SAFETY: each node was loaded under `guard` and stays allocated until it unpins; the
        // detached chain is owned by this thread alone, so each node is retired exactly once.
        while let Some(n) = unsafe { node.as_ref() } {
            let next = n.next.load(Ordering::Relaxed, &guard);
            // SAFETY: `node` is unlinked (its chain was detached above), non-null, and visited
            // once by this walk.
            unsafe { self.retire(node, &guard) };
            node = next;
            count += 1;
        }
        self.len.fetch_sub(count, Ordering::Relaxed);
        count
    }
}

impl<T: Clone + Send> TreiberStack<T> {
    /// Pops the top value.
    pub fn pop(&self) -> Option<T> {
        let guard = epoch::pin();
        self.unlink(&guard).cloned()
    }

    /// Pops up to `max` values, top first, under a single pin.
    pub fn pop_many(&self, max: usize) -> Vec<T> {
        let guard = epoch::pin();
        let mut out = Vec::with_capacity(max.min(self.len()).min(1 << 16));
        while out.len() < max {
            match self.unlink(&guard) {
                Some(v) => out.push(v.clone()),
                None => break,
            }
        }
        out
    }
}

impl<T: Clone + Sync> TreiberStack<T> {
    /// A copy of the top value, without removing it.
    pub fn peek(&self) -> Option<T> {
        let guard = epoch::pin();
        let head = self.head.load(Ordering::Acquire, &guard);
        // SAFETY: loaded with Acquire under `guard`; a retired node is freed only after `guard`
        // is dropped, and its value is dropped by that same deferred step, so `&value` is valid
        // for the clone. `T: Sync` because other threads may clone the same value concurrently.
        unsafe { head.as_ref() }.map(|n| T::clone(&n.value))
    }
}

impl<T> Drop for TreiberStack<T> {
    fn drop(&mut self) {
        // The elimination slot is empty: a node sits there only while its push runs, and no
        // push runs once the stack is borrowed mutably.
        // SAFETY: `&mut self` proves no other thread can access the stack, so the unprotected
        // guard is enough and the remaining nodes (never retired) are owned here alone.
        unsafe {
            let guard = epoch::unprotected();
            let mut node = self.head.load(Ordering::Relaxed, guard);
            while !node.is_null() {
                let mut owned = node.into_owned();
                node = owned.next.load(Ordering::Relaxed, guard);
                ManuallyDrop::drop(&mut owned.value);
            }
        }
    }
}

impl<T> std::fmt::Debug for TreiberStack<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreiberStack")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn lifo_order() {
        let s = TreiberStack::new();
        assert_eq!(s.pop(), None::<i32>);
        s.push(1);
        s.push(2);
        s.push(3);
        assert_eq!(s.len(), 3);
        assert_eq!(s.peek(), Some(3));
        assert_eq!(s.pop(), Some(3));
        assert_eq!(s.pop(), Some(2));
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), None);
        assert!(s.is_empty());
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn push_many_keeps_order_and_pop_many_limits() {
        let s = TreiberStack::new();
        s.push(0);
        assert_eq!(s.push_many(1..=4), 4);
        assert_eq!(s.push_many(std::iter::empty()), 0);
        assert_eq!(s.len(), 5);
        assert_eq!(s.pop_many(3), vec![4, 3, 2]);
        assert_eq!(s.pop_many(10), vec![1, 0]);
        assert_eq!(s.pop_many(10), Vec::<i32>::new());
    }

    #[test]
    fn clear_removes_all() {
        let s = TreiberStack::new();
        s.push_many((0..100).map(|i| i.to_string()));
        assert_eq!(s.clear(), 100);
        assert_eq!(s.len(), 0);
        assert_eq!(s.pop(), None);
    }

    /// Counts live values so the tests can see every value dropped exactly once.
    #[derive(Clone)]
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn drop_frees_remaining_values() {
        let drops = Arc::new(AtomicUsize::new(0));
        let s = TreiberStack::new();
        for _ in 0..10 {
            s.push(Tracked(drops.clone()));
        }
        // A popped value: the caller's clone is dropped here, the original after the grace period.
        drop(s.pop());
        drop(s);
        // The 9 values still in the stack were dropped by Drop; flush the retired one too (it is
        // freed once every registered thread, other tests included, has moved on).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while drops.load(Ordering::SeqCst) < 9 + 2 && std::time::Instant::now() < deadline {
            epoch::pin().flush();
            std::thread::yield_now();
        }
        assert_eq!(drops.load(Ordering::SeqCst), 9 + 2);
    }

    #[test]
    fn auto_traits_follow_t() {
        fn send_sync<X: Send + Sync>() {}
        send_sync::<TreiberStack<u64>>();
        send_sync::<TreiberStack<Arc<str>>>();
        // `TreiberStack<Rc<_>>` must not be Send/Sync; checked by the compile-fail doc test on
        // the crate root.
    }
}
