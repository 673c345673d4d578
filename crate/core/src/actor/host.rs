//! A host: the run queue of one thread that runs actors, and its [`HostWake`].

use crossbeam_queue::SegQueue;

pub use crate::wake::HostWake;

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

    /// Whether anything waits for this host (a ready actor may be stale: the drain skips it).
    pub(super) fn has_work(&self) -> bool {
        !self.notices.is_empty() || !self.control.is_empty() || !self.ready.is_empty()
    }
}
