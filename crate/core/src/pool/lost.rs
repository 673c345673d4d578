//! Lost and retired workers: the accounting when a worker dies ([`Pool::worker_lost`]) or ends
//! on purpose ([`Pool::worker_retired`]). What it was running fails with `WEFT_WORKER_EXIT`;
//! what it had been handed but not started, and what waited in its deque and inbox, runs
//! elsewhere; tasks it spawned itself are dropped (nobody awaits them). Nothing is lost or run
//! twice, and the `queued` count stays exact.

use super::{frame, Origin, Outstanding, Pool, Task, MAIN};
use crate::error::Result;
use crate::sync::atomic::Ordering;
use crate::sync::lock;

impl Pool {
    /// The worker in `slot` died. Tasks it had started fail; tasks it had been handed but not
    /// started (`started` = how many tasks this incarnation had begun, counted by the worker) and
    /// everything in its deque and inbox run elsewhere. Returns the ids of main-thread tasks that failed (the main thread
    /// rejects them); failures of tasks spawned by other workers are delivered to them.
    pub fn worker_lost(&self, slot: usize, started: u32, exit_payload: &[u8]) -> Result<Vec<u32>> {
        self.slot(slot)?
            .stats
            .restarts
            .fetch_add(1, Ordering::Relaxed);
        self.detach(slot, started, exit_payload)
    }

    /// The worker in `slot` ended on purpose (idle timeout): the same accounting as
    /// [`Pool::worker_lost`] (normally there is nothing to account for), without counting a
    /// restart.
    pub fn worker_retired(
        &self,
        slot: usize,
        started: u32,
        exit_payload: &[u8],
    ) -> Result<Vec<u32>> {
        self.detach(slot, started, exit_payload)
    }

    /// `queued` counts exactly the tasks that sit in the injector, a deque or an inbox: it rises
    /// when a task is put there (submit, give-back, requeue after a crash) and falls when a task
    /// leaves for good (handed to a worker, dropped). A crash must keep it so, or `maxQueue`
    /// would refuse work for tasks that no longer exist.
    fn detach(&self, slot: usize, started: u32, exit_payload: &[u8]) -> Result<Vec<u32>> {
        let s = self.slot(slot)?;
        let dead = s.origin.swap(0, Ordering::AcqRel);
        self.idle.detach(slot);
        s.stop_running();
        // Spawned by the dead worker itself: nobody awaits it any more.
        let orphaned = |t: &Task| dead != 0 && t.origin == dead;
        let handed: Vec<Outstanding> = lock(&s.outstanding).drain().map(|(_, o)| o).collect();
        let mut failed_main = Vec::new();
        // Tasks the worker had been handed (no longer counted as queued) and had not started.
        let mut requeue = Vec::new();
        let mut cancelled = Vec::new();
        for o in handed {
            if orphaned(&o.task) {
                continue;
            }
            if o.seq >= started && o.cancelled {
                cancelled.push(o.task);
            } else if o.seq >= started {
                let mut task = o.task;
                task.requeued = true; // its wait time is recorded already
                requeue.push(task);
            } else if o.task.origin == MAIN {
                failed_main.push(o.task.id);
            } else {
                self.deliver_to_worker(o.task.origin, |buf| {
                    frame::write_worker_completion(buf, o.task.id, exit_payload)
                });
            }
        }
        self.queued.fetch_add(requeue.len(), Ordering::Relaxed);
        if !cancelled.is_empty() {
            self.report_dropped(&cancelled);
        }
        // Tasks still waiting in its deque and inbox are counted as queued already: they move
        // to the injector as they are, or leave the count when nobody awaits them.
        let mut waiting = Vec::new();
        {
            let local = lock(&s.local);
            while let Some(t) = local.pop() {
                waiting.push(t);
            }
        }
        while let Some(t) = s.inbox.pop() {
            waiting.push(t);
        }
        let mut dropped = 0;
        for t in waiting {
            if orphaned(&t) {
                dropped += 1;
            } else {
                requeue.push(t);
            }
        }
        self.queued.fetch_sub(dropped, Ordering::Relaxed);
        if dead != 0 && self.cancelled_len.load(Ordering::Relaxed) > 0 {
            // Cancellations of its own children: those children are gone or will run unawaited.
            let mut c = lock(&self.cancelled);
            c.retain(|k| (k >> 32) as Origin != dead);
            self.cancelled_len.store(c.len(), Ordering::Relaxed);
        }
        lock(&s.completions).clear();
        lock(&s.control).clear();
        let n = requeue.len();
        for t in requeue {
            self.injector.push(t);
        }
        if n > 0 {
            self.idle.wake_one();
        }
        Ok(failed_main)
    }
}
