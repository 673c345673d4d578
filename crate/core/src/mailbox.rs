//! Actor mailboxes: many senders, one receiver, a system lane ahead of user messages, and an
//! optional bound with an overflow policy.
//!
//! The lanes are crossbeam's lock-free queues: an unbounded [`SegQueue`] for system messages and
//! unbounded mailboxes, a bounded [`ArrayQueue`] for bounded ones (its `force_push` evicts the
//! oldest message atomically, which is the `drop-oldest` policy). Both are linearizable FIFOs, so
//! the messages of one sender arrive in the order it sent them, across every policy. A bounded
//! mailbox never holds more than its capacity, whatever the senders do: memory stays flat under a
//! flood.
//!
//! What this module adds to the queues is its own small protocol, for the `wait` policy, kept in
//! [`WaitList`]: a sender that finds the mailbox full registers as waiting and looks once more;
//! the receiver, after taking a message, looks for waiters and calls the room callback. Either the
//! sender sees the room or the receiver sees the sender (a Dekker-style pair of SeqCst fences;
//! checked by loom on this very type, `tests/loom.rs`), so a waiting sender is never forgotten.

use crossbeam_queue::{ArrayQueue, SegQueue};

use crate::error::{Code, Error, Result};
pub use crate::notify::Notify;
use crate::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::sync::{lock, unmodelled, Mutex};

/// What a bounded mailbox does with a message that finds it full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Refuse the new message (the sender gets it back).
    Reject,
    /// Evict the oldest queued user message to make room (it becomes a dead letter).
    DropOldest,
    /// Discard the new message (it becomes a dead letter).
    DropNewest,
    /// Refuse the new message, and call the room callback once a message has been taken, so the
    /// sender can try again (backpressure).
    Wait,
}

/// The outcome of [`Mailbox::send`].
#[derive(Debug, PartialEq, Eq)]
pub enum Sent<T> {
    /// The message is queued.
    Queued,
    /// The message is queued; to make room the oldest one was evicted (here, a dead letter).
    Evicted(T),
    /// The mailbox was full and its policy is `drop-newest`: this message was discarded.
    Dropped(T),
    /// The mailbox was full (`reject` or `wait`): nothing was queued; here is the message back.
    /// With `wait` the sender is registered: the room callback runs after the next receive.
    Full(T),
    /// The mailbox is closed: nothing was queued.
    Closed(T),
}

enum Lane<T> {
    Unbounded(SegQueue<T>),
    Bounded(ArrayQueue<T>, Overflow),
}

/// Counters of a mailbox (all since it was made).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailboxStats {
    /// User messages queued now.
    pub depth: usize,
    /// System messages queued now.
    pub system_depth: usize,
    /// Messages received (both lanes).
    pub received: u64,
    /// Messages evicted or discarded by the overflow policy.
    pub dropped: u64,
    /// Sends refused because the mailbox was full (`reject`, `wait`).
    pub refused: u64,
    /// Bytes of the messages queued now (both lanes), as its weigher counts them (see
    /// [`Mailbox::weighed`]; 0 without one).
    pub bytes: usize,
    /// The most `bytes` ever was.
    pub peak_bytes: usize,
}

/// The waiters of a full `wait` mailbox: senders refused since the receiver last looked, and the
/// callback that tells them about room.
///
/// The handshake (a Dekker pair): the sender, refused, [`register`](Self::register)s (count up,
/// `fence(SeqCst)`) and then tries its push once more; the receiver, after a pop, calls
/// [`room_made`](Self::room_made) (`fence(SeqCst)`, take the count). By the two fences, either the
/// sender's second push sees the slot the pop freed, or the receiver sees the count and calls the
/// callback: a refused sender is always told.
pub struct WaitList {
    waiting: AtomicUsize,
    on_room: Mutex<Option<Notify>>,
}

impl Default for WaitList {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitList {
    /// No waiters and no callback.
    pub fn new() -> Self {
        WaitList {
            waiting: AtomicUsize::new(0),
            on_room: Mutex::new(None),
        }
    }

    /// Installs the callback [`room_made`](Self::room_made) calls.
    pub fn set_on_room(&self, notify: Notify) {
        *lock(&self.on_room) = Some(notify);
    }

    /// The sender's half, after its push failed: counts it as waiting. The sender must then try
    /// its push once more (a spare callback later is harmless if that works).
    pub fn register(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        // Pairs with the fence in `room_made`.
        fence(Ordering::SeqCst);
    }

    /// The receiver's half, after it took a message: calls the callback if any sender waits.
    pub fn room_made(&self) {
        // Pairs with the fence in `register`.
        fence(Ordering::SeqCst);
        if self.waiting.swap(0, Ordering::SeqCst) > 0 {
            if let Some(n) = lock(&self.on_room).as_ref() {
                n();
            }
        }
    }
}

/// A mailbox: send from any thread, receive from one (the actor's).
pub struct Mailbox<T> {
    system: SegQueue<T>,
    user: Lane<T>,
    closed: AtomicBool,
    /// Senders refused by a full `wait` mailbox.
    waiters: WaitList,
    received: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
    /// What one message weighs (bytes), for `bytes`/`peak_bytes`.
    weigh: fn(&T) -> usize,
    /// Bytes queued now: added after a message is in, taken off after it is out. While a
    /// receiver races a sender it can dip below zero for a moment, or count the message being
    /// taken out on top of a full mailbox (at most one message more than the bound, the receiver
    /// being one thread). Statistics only: std's atomics, not modelled by loom.
    bytes: unmodelled::AtomicIsize,
    peak_bytes: unmodelled::AtomicUsize,
}

fn weightless<T>(_: &T) -> usize {
    0
}

impl<T> Mailbox<T> {
    /// An unbounded mailbox.
    pub fn unbounded() -> Self {
        Self::with_lane(Lane::Unbounded(SegQueue::new()))
    }

    /// A mailbox holding at most `capacity` user messages (system messages are not counted).
    pub fn bounded(capacity: usize, overflow: Overflow) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::new(
                Code::InvalidArg,
                "a bounded mailbox needs a capacity of at least 1",
            ));
        }
        Ok(Self::with_lane(Lane::Bounded(
            ArrayQueue::new(capacity),
            overflow,
        )))
    }

    fn with_lane(user: Lane<T>) -> Self {
        Mailbox {
            system: SegQueue::new(),
            user,
            closed: AtomicBool::new(false),
            waiters: WaitList::new(),
            received: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            weigh: weightless::<T>,
            bytes: unmodelled::AtomicIsize::new(0),
            peak_bytes: unmodelled::AtomicUsize::new(0),
        }
    }

    /// Counts the bytes of queued messages with `weigh` (see [`MailboxStats::bytes`]).
    pub fn weighed(mut self, weigh: fn(&T) -> usize) -> Self {
        self.weigh = weigh;
        self
    }

    fn added(&self, w: usize) {
        if w == 0 {
            return;
        }
        let w = w as isize;
        let now = self.bytes.fetch_add(w, unmodelled::Ordering::Relaxed) + w;
        if now > 0 {
            self.peak_bytes
                .fetch_max(now as usize, unmodelled::Ordering::Relaxed);
        }
    }

    fn removed(&self, w: usize) {
        if w != 0 {
            self.bytes
                .fetch_sub(w as isize, unmodelled::Ordering::Relaxed);
        }
    }

    /// The capacity and policy of a bounded mailbox (`None`: unbounded).
    pub fn bound(&self) -> Option<(usize, Overflow)> {
        match &self.user {
            Lane::Unbounded(_) => None,
            Lane::Bounded(q, o) => Some((q.capacity(), *o)),
        }
    }

    /// Installs the callback a `wait` mailbox calls (on the receiving thread) when a message has
    /// been taken while senders were waiting for room.
    pub fn set_on_room(&self, notify: Notify) {
        self.waiters.set_on_room(notify);
    }

    /// Queues a user message, applying the overflow policy if the mailbox is bounded and full.
    pub fn send(&self, msg: T) -> Sent<T> {
        self.send_as(msg, || {})
    }

    /// [`send`](Self::send), with `before_wait` called when a `wait` mailbox refused the first
    /// push, before the sender is registered and pushes once more: whatever the room callback
    /// needs to find this sender (its host's id) must be recorded there, not after `Sent::Full`
    /// is returned, or the receiver may take a message, run the callback and find nobody in
    /// between (a lost wake-up). If the second push works, `before_wait` has run anyway: the
    /// callback then gets a spare call, which is harmless.
    pub fn send_as(&self, msg: T, before_wait: impl FnOnce()) -> Sent<T> {
        if self.closed.load(Ordering::Acquire) {
            return Sent::Closed(msg);
        }
        let w = (self.weigh)(&msg);
        match &self.user {
            Lane::Unbounded(q) => {
                q.push(msg);
                self.added(w);
                Sent::Queued
            }
            Lane::Bounded(q, Overflow::DropOldest) => match q.force_push(msg) {
                None => {
                    self.added(w);
                    Sent::Queued
                }
                Some(old) => {
                    self.removed((self.weigh)(&old));
                    self.added(w);
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    Sent::Evicted(old)
                }
            },
            Lane::Bounded(q, Overflow::DropNewest) => match q.push(msg) {
                Ok(()) => {
                    self.added(w);
                    Sent::Queued
                }
                Err(msg) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    Sent::Dropped(msg)
                }
            },
            Lane::Bounded(q, Overflow::Reject) => match q.push(msg) {
                Ok(()) => {
                    self.added(w);
                    Sent::Queued
                }
                Err(msg) => {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    Sent::Full(msg)
                }
            },
            Lane::Bounded(q, Overflow::Wait) => {
                let msg = match q.push(msg) {
                    Ok(()) => {
                        self.added(w);
                        return Sent::Queued;
                    }
                    Err(msg) => msg,
                };
                // Register, then look once more (see `WaitList`): either this push sees the room
                // the receiver made, or the receiver sees this waiter.
                before_wait();
                self.waiters.register();
                match q.push(msg) {
                    Ok(()) => {
                        self.added(w);
                        Sent::Queued // a spare wake-up later is harmless
                    }
                    Err(msg) => {
                        self.refused.fetch_add(1, Ordering::Relaxed);
                        Sent::Full(msg)
                    }
                }
            }
        }
    }

    /// Queues a system message (lifecycle, supervision): never bounded, always received before
    /// user messages. Fails only when the mailbox is closed.
    pub fn send_system(&self, msg: T) -> std::result::Result<(), T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(msg);
        }
        let w = (self.weigh)(&msg);
        self.system.push(msg);
        self.added(w);
        Ok(())
    }

    /// Takes the next message: system messages first. Call from the receiving thread only (any
    /// single thread at a time: the queues are safe with more, but order across receivers is
    /// not defined).
    pub fn recv(&self) -> Option<T> {
        if let Some(m) = self.system.pop() {
            self.removed((self.weigh)(&m));
            self.received.fetch_add(1, Ordering::Relaxed);
            return Some(m);
        }
        let m = match &self.user {
            Lane::Unbounded(q) => q.pop(),
            Lane::Bounded(q, overflow) => {
                let m = q.pop();
                if m.is_some() && *overflow == Overflow::Wait {
                    self.waiters.room_made();
                }
                m
            }
        };
        if let Some(m) = &m {
            self.removed((self.weigh)(m));
            self.received.fetch_add(1, Ordering::Relaxed);
        }
        m
    }

    /// Refuses every later send (they get [`Sent::Closed`]). Messages already queued, and those
    /// of sends racing with the close, stay receivable: drain them with [`drain`](Self::drain).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether it was closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Takes every queued message, system ones first (after a close: the dead letters).
    pub fn drain(&self) -> Vec<T> {
        let mut out = Vec::new();
        while let Some(m) = self.recv() {
            out.push(m);
        }
        out
    }

    /// User messages queued now.
    pub fn len(&self) -> usize {
        match &self.user {
            Lane::Unbounded(q) => q.len(),
            Lane::Bounded(q, _) => q.len(),
        }
    }

    /// Whether no message (of either lane) is queued now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.system.is_empty()
    }

    /// Its counters now.
    pub fn stats(&self) -> MailboxStats {
        MailboxStats {
            depth: self.len(),
            system_depth: self.system.len(),
            received: self.received.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            bytes: self.bytes.load(unmodelled::Ordering::Relaxed).max(0) as usize,
            peak_bytes: self.peak_bytes.load(unmodelled::Ordering::Relaxed),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn system_messages_come_first() {
        let m = Mailbox::unbounded();
        assert_eq!(m.send(1), Sent::Queued);
        assert_eq!(m.send(2), Sent::Queued);
        m.send_system(100).unwrap();
        assert_eq!(m.drain(), vec![100, 1, 2]);
        assert_eq!(m.stats().received, 3);
    }

    #[test]
    fn each_policy_when_full() {
        let r = Mailbox::bounded(2, Overflow::Reject).unwrap();
        assert_eq!(
            (r.send(1), r.send(2), r.send(3)),
            (Sent::Queued, Sent::Queued, Sent::Full(3))
        );
        assert_eq!(r.drain(), vec![1, 2]);
        assert_eq!(r.stats().refused, 1);

        let o = Mailbox::bounded(2, Overflow::DropOldest).unwrap();
        assert_eq!(
            (o.send(1), o.send(2), o.send(3)),
            (Sent::Queued, Sent::Queued, Sent::Evicted(1))
        );
        assert_eq!(o.drain(), vec![2, 3]);
        assert_eq!(o.stats().dropped, 1);

        let n = Mailbox::bounded(2, Overflow::DropNewest).unwrap();
        assert_eq!(
            (n.send(1), n.send(2), n.send(3)),
            (Sent::Queued, Sent::Queued, Sent::Dropped(3))
        );
        assert_eq!(n.drain(), vec![1, 2]);

        let w = Mailbox::bounded(1, Overflow::Wait).unwrap();
        let rooms = Arc::new(AtomicUsize::new(0));
        let r2 = rooms.clone();
        w.set_on_room(Box::new(move || {
            r2.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!((w.send(1), w.send(2)), (Sent::Queued, Sent::Full(2)));
        assert_eq!(rooms.load(Ordering::SeqCst), 0);
        assert_eq!(w.recv(), Some(1));
        assert_eq!(
            rooms.load(Ordering::SeqCst),
            1,
            "the waiting sender is told"
        );
        assert_eq!(w.send(2), Sent::Queued);
        assert_eq!(w.recv(), Some(2));
        assert_eq!(rooms.load(Ordering::SeqCst), 1, "no waiter, no call");

        assert!(Mailbox::<u8>::bounded(0, Overflow::Reject).is_err());
    }

    #[test]
    fn closed_mailboxes_refuse_and_keep_what_they_hold() {
        let m = Mailbox::bounded(4, Overflow::Reject).unwrap();
        m.send(1);
        m.close();
        assert_eq!(m.send(2), Sent::Closed(2));
        assert_eq!(m.send_system(3), Err(3));
        assert_eq!(m.drain(), vec![1]);
    }
}
