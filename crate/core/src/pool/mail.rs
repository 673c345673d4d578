//! Completions and mail: [`Pool::complete`] routes each completion record back to the thread
//! that submitted the task (the main thread's queue and its one-per-batch notifier, or the
//! spawning worker's mail), [`Pool::signal`] posts signals for a worker's subsystems, and
//! [`Pool::drain_main`] hands the main thread its completions.

use std::time::Duration;

use super::{frame, key, Origin, Pool, MAIN};
use crate::error::Result;
use crate::sync::atomic::Ordering;
use crate::sync::lock;

impl Pool {
    /// Completion records from the worker in `slot` (see [`frame`]): each goes to the thread
    /// that submitted the task.
    pub fn complete(&self, slot: usize, records: &[u8]) -> Result<()> {
        let s = self.slot(slot)?;
        let done = frame::parse_complete(records)?;
        {
            let mut outstanding = lock(&s.outstanding);
            for c in &done {
                outstanding.remove(&key(c.origin, c.id));
            }
        }
        let mut runs = Vec::with_capacity(done.len());
        let mut main_buf = None;
        let (mut completed, mut failed, mut busy) = (0u64, 0u64, 0u64);
        for c in &done {
            let run = Duration::from_secs_f64(f64::from(c.run_ms.max(0.0)) / 1e3);
            busy += run.as_nanos() as u64;
            runs.push(run);
            if c.failed {
                failed += 1;
            } else {
                completed += 1;
            }
            if c.local {
                continue;
            }
            if c.origin == MAIN {
                let buf = main_buf.get_or_insert_with(|| lock(&self.main_out));
                frame::write_main_completion(buf, c.id, c.payload);
            } else {
                self.deliver_to_worker(c.origin, |buf| {
                    frame::write_worker_completion(buf, c.id, c.payload)
                });
            }
        }
        drop(main_buf);
        s.stats.completed.fetch_add(completed, Ordering::Relaxed);
        s.stats.failed.fetch_add(failed, Ordering::Relaxed);
        s.stats.busy_ns.fetch_add(busy, Ordering::Relaxed);
        lock(&self.hist).record_runs(&runs);
        self.notify_main();
        Ok(())
    }

    pub(super) fn deliver_to_worker(&self, origin: Origin, write: impl FnOnce(&mut Vec<u8>)) {
        let Some(s) = self.slots.get(frame::slot_of(origin)) else {
            return;
        };
        if s.origin.load(Ordering::Acquire) != origin {
            return; // that worker incarnation is gone; nobody awaits this any more
        }
        write(&mut lock(&s.completions));
        self.mail_posted(frame::slot_of(origin));
    }

    /// After writing to slot `k`'s completions or control queue: flag the mail and wake the
    /// worker unless it is running (it then collects the mail on its next take).
    pub(super) fn mail_posted(&self, k: usize) {
        let s = &self.slots[k];
        s.has_mail.store(true, Ordering::SeqCst);
        self.idle.wake_if_waiting(k);
    }

    /// Wakes the worker in `slot` with a signal record (`frame::KIND_SIGNAL`) for the subsystem
    /// `id`/`token` (an actor host): it arrives with the worker's next take. Callers signal once
    /// per batch of work (the actor host's `notified` flag), so this does not dedupe.
    pub fn signal(&self, slot: usize, id: u32, token: u32) -> Result<()> {
        let s = self.slot(slot)?;
        frame::write_signal(&mut lock(&s.signals), id, token);
        self.mail_posted(slot);
        Ok(())
    }

    /// After completions were written to `main_out`: wakes the main thread unless a wake-up is
    /// pending or it is spinning for them (see `HostWake`).
    pub(super) fn notify_main(&self) {
        if lock(&self.main_out).is_empty() {
            return;
        }
        self.main_ready.store(true, Ordering::Release);
        self.main_wake.wake();
    }

    /// Moves every completion for the main thread into `out` (main-completion records) and
    /// re-arms the notification. Called by the main thread from its notifier callback.
    pub fn drain_main(&self, out: &mut Vec<u8>) {
        self.main_wake.rearm();
        self.main_ready.store(false, Ordering::Relaxed);
        let mut q = lock(&self.main_out);
        if !q.is_empty() {
            out.extend_from_slice(&q);
            q.clear();
            drop(q);
            self.main_wake.found_work();
        }
    }

    /// Called by the main thread when its drain found nothing but tasks it submitted are still
    /// out: spins for their completions for a while, bounded and adaptive (see
    /// `HostWake::spin_wait`), if fewer than half the workers' count of threads spin already
    /// (it counts as a spinner for the workers: see `Idle::claim_other_spin`). Returns true if it
    /// should drain now, false if it may sleep (a wake-up then announces the completions).
    pub fn spin_main(&self) -> bool {
        if !self.idle.claim_other_spin() {
            return false;
        }
        let found = self
            .main_wake
            .spin_wait(|| self.main_ready.load(Ordering::Acquire));
        self.idle.release_other_spin();
        found
    }
}
