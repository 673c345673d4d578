//! Cancellation: [`Pool::cancel`] and [`Pool::uncancel`], where a cancelled task was
//! ([`Cancelled`]), and the empty completion records that tell a submitter its cancelled task
//! was dropped unrun.

use super::{frame, key, Origin, Pool, Task, MAIN};
use crate::sync::atomic::Ordering;
use crate::sync::lock;

/// Where a cancelled task was (see [`Pool::cancel`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// Not handed to a worker (or already completed): it will not run. A task that was still
    /// waiting is dropped when a worker would have taken it, and its submitter gets an empty
    /// completion record for it then, so that it knows the id is no longer in use.
    Queued,
    /// Handed to the worker in `slot` as its task number `seq` (see [`frame`]): an abort record
    /// was sent there. Its completion (or its worker's death) still comes.
    Running {
        /// The worker slot it was handed to.
        slot: usize,
        /// Its number among the tasks handed to that worker incarnation.
        seq: u32,
    },
}

impl Pool {
    /// Cancels a task submitted by `origin` (the main thread or a worker incarnation). A task
    /// still waiting is dropped when a worker would take it ([`Cancelled::Queued`]; so is one
    /// that completed already, whose completion is on its way); a task handed to a worker gets an
    /// abort record there ([`Cancelled::Running`]), and is dropped if it comes back unstarted
    /// (handed back, or its worker died). Either way exactly one completion record for
    /// the id still reaches its submitter (the result, a worker-exit failure, or an empty record
    /// for a dropped task), and the submitter must not reuse the id before it arrives.
    pub fn cancel(&self, origin: Origin, id: u32) -> Cancelled {
        let k = key(origin, id);
        for (slot, s) in self.slots.iter().enumerate() {
            let seq = lock(&s.outstanding).get_mut(&k).map(|o| {
                o.cancelled = true;
                o.seq
            });
            if let Some(seq) = seq {
                frame::write_abort(&mut lock(&s.control), origin, id, seq);
                self.mail_posted(slot);
                return Cancelled::Running { slot, seq };
            }
        }
        let mut c = lock(&self.cancelled);
        c.insert(k);
        self.cancelled_len.store(c.len(), Ordering::Relaxed);
        Cancelled::Queued
    }

    /// Forgets a cancellation ([`Cancelled::Queued`]) of a task that turned out to have completed
    /// already.
    pub fn uncancel(&self, origin: Origin, id: u32) {
        let mut c = lock(&self.cancelled);
        c.remove(&key(origin, id));
        self.cancelled_len.store(c.len(), Ordering::Relaxed);
    }

    /// Tells the submitters of cancelled tasks that were dropped unrun: an empty completion
    /// record each (no result), after which the submitter may reuse the id.
    pub(super) fn report_dropped(&self, dropped: &[Task]) {
        let mut to_main = false;
        for t in dropped {
            if t.origin == MAIN {
                frame::write_main_completion(&mut lock(&self.main_out), t.id, &[]);
                to_main = true;
            } else {
                self.deliver_to_worker(t.origin, |buf| {
                    frame::write_worker_completion(buf, t.id, &[])
                });
            }
        }
        if to_main {
            self.notify_main();
        }
    }
}
