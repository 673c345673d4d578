//! Handing work to a worker: [`Pool::take`] collects the worker's mail, finds it a batch (its
//! own deque, its inbox, the injector, then the other workers' deques, claiming only a fair share
//! while others are idle), remembers every task it hands out, and waits through the idle
//! handshake (`idle.rs`) when there is nothing to do.

use std::time::Instant;

use crossbeam_deque::{Steal, Worker};

use super::idle::Idled;
use super::{frame, key, Outstanding, Pool, Slot, Taken, Task, Wait, MAIN};
use crate::error::Result;
use crate::sync::atomic::Ordering;
use crate::sync::lock;

impl Pool {
    /// Called by the worker thread of `slot`: writes up to `max` tasks (and any completions or
    /// aborts addressed to it) into `out` as take records (see [`frame`]).
    pub fn take(&self, slot: usize, max: usize, wait: Wait, out: &mut Vec<u8>) -> Result<Taken> {
        let s = self.slot(slot)?;
        let max = max.max(1);
        let mut spun = false;
        s.stop_running();
        loop {
            self.idle.running(slot);
            let mail = self.collect_mail(s, out);
            let capped = wait == Wait::Capped;
            let got = self.find_work(slot, s, max, capped, out);
            if got > 0 || mail {
                // More work than this worker took: wake the next sleeper for it (a large batch
                // fans out worker by worker).
                if got > 0 && self.has_visible_work() {
                    self.idle.wake_one();
                }
                s.start_running();
                return Ok(Taken::Work);
            }
            if self.closed.load(Ordering::Acquire) && lock(&s.outstanding).is_empty() {
                return Ok(Taken::Closed);
            }
            let look = |mail_order| {
                if capped {
                    // Only forks and mail: the injector and the inbox are not for it now.
                    return self.slots.iter().any(|s| !s.stealer.is_empty())
                        || s.has_mail.load(mail_order);
                }
                self.has_visible_work() || !s.inbox.is_empty() || s.has_mail.load(mail_order)
            };
            let stop = || self.closed.load(Ordering::Acquire);
            match self.idle.wait(slot, wait, &mut spun, look, stop) {
                Idled::LookAgain => {}
                Idled::Return => return Ok(Taken::Idle),
            }
        }
    }

    /// A capped worker's search ([`Wait::Capped`]): its own deque, then the others', keeping the
    /// forked tasks (into `taken`, with whether they were stolen) and setting main-thread ones
    /// aside (`deferred`). Pinned tasks wait in the inbox until the worker is below its cap.
    fn take_forked(
        &self,
        slot: usize,
        local: &Worker<Task>,
        max: usize,
        taken: &mut Vec<(Task, bool)>,
        deferred: &mut Vec<Task>,
    ) {
        let keep =
            |t: Task, stolen: bool, taken: &mut Vec<(Task, bool)>, deferred: &mut Vec<Task>| {
                if t.origin == MAIN {
                    deferred.push(t);
                } else {
                    taken.push((t, stolen));
                }
            };
        while taken.len() < max {
            match local.pop() {
                Some(t) => keep(t, false, taken, deferred),
                None => break,
            }
        }
        if !taken.is_empty() {
            return;
        }
        let n = self.slots.len();
        for i in 1..n {
            let victim = &self.slots[(slot + i) % n];
            loop {
                match victim
                    .stealer
                    .steal_batch_with_limit_and_pop(local, max.min(32))
                {
                    Steal::Success(t) => {
                        keep(t, true, taken, deferred);
                        while let Some(t) = local.pop() {
                            keep(t, true, taken, deferred);
                        }
                        break;
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
            if !taken.is_empty() {
                return;
            }
        }
    }

    fn has_visible_work(&self) -> bool {
        !self.injector.is_empty() || self.slots.iter().any(|s| !s.stealer.is_empty())
    }

    fn collect_mail(&self, s: &Slot, out: &mut Vec<u8>) -> bool {
        if !s.has_mail.swap(false, Ordering::AcqRel) {
            return false;
        }
        let mut any = false;
        for q in [&s.completions, &s.control, &s.signals] {
            let mut q = lock(q);
            if !q.is_empty() {
                out.extend_from_slice(&q);
                q.clear();
                any = true;
            }
        }
        any
    }

    /// `capped`: see [`Wait::Capped`].
    fn find_work(
        &self,
        slot: usize,
        s: &Slot,
        max: usize,
        capped: bool,
        out: &mut Vec<u8>,
    ) -> usize {
        // While other workers are idle, claim only a fair share of what is queued: tasks handed
        // to this worker's JavaScript side can no longer be stolen.
        let waiting = self.queued.load(Ordering::Relaxed);
        let idle = self.idle.available();
        let max = if idle > 0 && waiting > 0 {
            max.min(waiting.div_ceil(idle + 1)).max(1)
        } else {
            max
        };
        let mut taken = Vec::new();
        // Capped: main-thread tasks met in a deque, for the injector (they stay queued).
        let mut deferred = Vec::new();
        {
            let local = lock(&s.local);
            if capped {
                self.take_forked(slot, &local, max, &mut taken, &mut deferred);
            }
            while !capped && taken.len() < max {
                if let Some(t) = local.pop() {
                    taken.push((t, false));
                } else if let Some(t) = s.inbox.pop() {
                    taken.push((t, false));
                } else {
                    break;
                }
            }
            // The injector hands out about half of what it holds per steal; keep stealing until
            // the batch is full (its size already adapts to how long tasks take).
            while !capped && taken.len() < max {
                let want = max - taken.len();
                match self
                    .injector
                    .steal_batch_with_limit_and_pop(&local, want.min(64))
                {
                    Steal::Success(t) => {
                        taken.push((t, false));
                        while taken.len() < max {
                            match local.pop() {
                                Some(t) => taken.push((t, false)),
                                None => break,
                            }
                        }
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
            if taken.is_empty() && !capped {
                // Steal from the other workers, starting after our own slot.
                let n = self.slots.len();
                'victims: for i in 1..n {
                    let victim = &self.slots[(slot + i) % n];
                    loop {
                        match victim
                            .stealer
                            .steal_batch_with_limit_and_pop(&local, max.min(32))
                        {
                            Steal::Success(t) => {
                                taken.push((t, true));
                                while taken.len() < max {
                                    match local.pop() {
                                        Some(t) => taken.push((t, true)),
                                        None => break,
                                    }
                                }
                                break 'victims;
                            }
                            Steal::Empty => break,
                            Steal::Retry => continue,
                        }
                    }
                }
            }
        }
        if !deferred.is_empty() {
            for t in deferred {
                self.injector.push(t);
            }
            self.idle.wake_one();
        }
        if taken.is_empty() {
            return 0;
        }
        let now = Instant::now();
        let mut outstanding = lock(&s.outstanding);
        let mut handed = 0usize;
        let mut waits = Vec::with_capacity(taken.len());
        let mut stolen = 0u64;
        let mut dropped = Vec::new();
        for (task, was_stolen) in taken {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            if self.cancelled_len.load(Ordering::Relaxed) > 0 {
                let mut c = lock(&self.cancelled);
                if c.remove(&key(task.origin, task.id)) {
                    self.cancelled_len.store(c.len(), Ordering::Relaxed);
                    dropped.push(task);
                    continue;
                }
            }
            stolen += u64::from(was_stolen);
            let seq = s.handed.fetch_add(1, Ordering::Relaxed);
            frame::write_task(out, task.origin, task.id, seq, &task.payload);
            if !task.requeued {
                waits.push(now.saturating_duration_since(task.submitted));
            }
            outstanding.insert(
                key(task.origin, task.id),
                Outstanding {
                    task,
                    seq,
                    cancelled: false,
                },
            );
            handed += 1;
        }
        drop(outstanding);
        if !dropped.is_empty() {
            self.report_dropped(&dropped);
        }
        s.stats.stolen.fetch_add(stolen, Ordering::Relaxed);
        lock(&self.hist).record_waits(&waits);
        handed
    }
}
