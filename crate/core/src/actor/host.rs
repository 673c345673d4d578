//! A host: the run queue of one thread that runs actors, and its [`HostWake`].

use crossbeam_queue::SegQueue;

use crate::notify::Notify;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{lock, Mutex};

/// The run queue and wake-up of one thread.
pub(super) struct Host {
    pub(super) ready: SegQueue<u32>,
    pub(super) notices: SegQueue<Box<[u8]>>,
    /// System messages for actors this host is running (it holds their mailboxes until their
    /// batch is done, so these go around the mailbox): `(actor, envelope)`.
    pub(super) control: SegQueue<(u32, Box<[u8]>)>,
    pub(super) wake: HostWake,
}

impl Host {
    pub(super) fn new() -> Self {
        Host {
            ready: SegQueue::new(),
            notices: SegQueue::new(),
            control: SegQueue::new(),
            wake: HostWake::new(),
        }
    }

    /// After queueing something for this host: wakes it unless a wake-up is pending.
    pub(super) fn wake(&self) {
        self.wake.wake();
    }
}

/// A host's wake-up, run at most once per batch: a `notified` flag and the callback.
///
/// A sender queues its work for the host, then calls [`wake`](Self::wake), which sets the flag
/// and runs the callback only if the flag was clear. The host calls [`rearm`](Self::rearm)
/// (clears the flag) and then looks at its queues. Both are swaps on the one flag, so they are
/// ordered: if the sender's swap comes first, the host's swap reads its `true` and (acquire)
/// sees what the sender queued before; if the host's comes first, the sender's swap reads `false`
/// and runs the callback. The host never sleeps on queued work with no wake-up pending.
pub struct HostWake {
    notified: AtomicBool,
    notify: Mutex<Option<Notify>>,
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
}
