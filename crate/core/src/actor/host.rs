//! A host: the run queue of one thread that runs actors, and its [`HostWake`].

use crossbeam_queue::SegQueue;

pub use crate::wake::HostWake;

/// The run queue and wake-up of one thread.
pub(super) struct Host {
    pub(super) ready: SegQueue<u32>,
    /// Notices for this host, already framed as the drain writes them: `OUT_NOTICE` records,
    /// several to an entry when they were sent in one batch (a worker's replies to the asks of
    /// one turn go as one entry, not one allocation each).
    pub(super) notices: SegQueue<Notices>,
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

    /// Queues one notice (its body) and wakes the host.
    pub(super) fn notice(&self, body: &[u8]) {
        let mut framed = Vec::with_capacity(9 + body.len());
        frame_notice(&mut framed, body);
        self.push_notices(framed, 1);
    }

    /// Queues `count` notices already framed (see [`frame_notice`]) as one entry and wakes the
    /// host.
    pub(super) fn push_notices(&self, framed: Vec<u8>, count: usize) {
        self.notices.push(Notices {
            framed: framed.into_boxed_slice(),
            count,
        });
        self.wake();
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

/// Notices framed as `OUT_NOTICE` records (`count` of them), as the drain hands them out.
pub(super) struct Notices {
    pub(super) framed: Box<[u8]>,
    pub(super) count: usize,
}

/// Appends `body` to `out` as an `OUT_NOTICE` record (`u8 kind | u32 0 | u32 len | body`), as
/// the drain writes its records.
pub(super) fn frame_notice(out: &mut Vec<u8>, body: &[u8]) {
    super::drain::write_out(out, super::OUT_NOTICE, 0, body);
}
