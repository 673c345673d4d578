//! One actor's state in the transport: its [`Cell`] (mailbox, host, counters) and the
//! [`RunState`] flag that decides who schedules it.

use std::sync::Arc;

use crate::mailbox::Mailbox;
use crate::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, Ordering};
use crate::sync::Mutex;

/// One actor's mailbox and scheduling state.
pub struct Cell {
    pub(super) id: u32,
    pub(super) mailbox: Mailbox<Box<[u8]>>,
    pub(super) host: AtomicU32,
    pub(super) state: RunState,
    /// Hosts with senders waiting for room (`wait` policy).
    pub(super) waiters: Arc<Mutex<Vec<u32>>>,
    pub(super) processed: AtomicU64,
    pub(super) restarts: AtomicU64,
    pub(super) dead_letters: AtomicU64,
}

const IDLE: u8 = 0;
const SCHEDULED: u8 = 1;
const RUNNING: u8 = 2;

/// The three-state scheduling flag of an actor (see the [module](super) docs):
///
/// * `IDLE`: nothing queued, or its host has not been told yet;
/// * `SCHEDULED`: its id sits in its host's ready queue (exactly once);
/// * `RUNNING`: its host took a batch of its messages and has not released it yet.
///
/// The handshake (a Dekker pair, `fence(SeqCst)` on both sides): a sender queues its message and
/// then calls [`schedule`](Self::schedule); the host, done with a batch, calls
/// [`release`](Self::release), which stores `IDLE` and then looks at the mailbox. Either the
/// sender sees `IDLE` (and schedules), or the host sees the message (and schedules): never
/// neither, and never both, since only one `IDLE → SCHEDULED` exchange can win.
pub struct RunState(AtomicU8);

impl Default for RunState {
    fn default() -> Self {
        Self::new()
    }
}

impl RunState {
    /// `IDLE`.
    pub fn new() -> Self {
        RunState(AtomicU8::new(IDLE))
    }

    /// After a message was queued: `IDLE → SCHEDULED`. True if this call made the move: the
    /// caller must then put the actor on its host's ready queue.
    pub fn schedule(&self) -> bool {
        // Pairs with the fence in `release`: either this thread sees the actor IDLE, or the
        // releasing host sees the message just queued.
        fence(Ordering::SeqCst);
        self.0
            .compare_exchange(IDLE, SCHEDULED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The host takes the actor off its ready queue: `SCHEDULED → RUNNING`. False for a stale
    /// entry (the actor was taken back meanwhile): skip it.
    pub fn start(&self) -> bool {
        self.0
            .compare_exchange(SCHEDULED, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The host is done with a batch: `RUNNING → IDLE`, then, if `queued()` says messages came
    /// meanwhile, schedules the actor again. True if it did: the caller must put the actor on the
    /// ready queue. Nothing happens if the actor was not running.
    pub fn release(&self, queued: impl FnOnce() -> bool) -> bool {
        if self
            .0
            .compare_exchange(RUNNING, IDLE, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return false;
        }
        // Pairs with the fence in `schedule`.
        fence(Ordering::SeqCst);
        queued() && self.schedule()
    }

    /// Whether the host holds a batch of the actor's messages now.
    pub fn is_running(&self) -> bool {
        self.0.load(Ordering::SeqCst) == RUNNING
    }

    /// Back to `IDLE` whatever the state (the actor's host died and will never release it).
    pub fn reset(&self) {
        self.0.store(IDLE, Ordering::SeqCst);
    }
}
