//! The host side: [`ActorSystem::drain`] releases the actors a host finished with and writes
//! its notices, control messages and a batch of its actors' messages as `OUT_*` records.

use super::cell::Cell;
use super::{envelope, ActorSystem};
use crate::error::Result;
use crate::sync::atomic::Ordering;

/// Kinds of the records [`ActorSystem::drain`] writes: `u8 kind | u32 actor | u32 len | bytes`.
/// This one: a message (an envelope, or a bundle of them) for `actor`.
pub const OUT_MESSAGE: u8 = 1;
/// A notice for the host (see [`notice`](super::notice)); `actor` is 0.
pub const OUT_NOTICE: u8 = 2;
/// A system message delivered around the mailbox (its actor was running; see `send`).
pub const OUT_CONTROL: u8 = 3;

impl ActorSystem {
    /// Called by the thread of `host`: releases the actors in `released` (their host finished
    /// the batch it took), then writes up to `max` messages (at most `per_actor` per actor) and
    /// every notice into `out` as `OUT_*` records. Returns how many records it wrote. Call it
    /// until it writes nothing: only then is the host's wake-up re-armed for sure.
    pub fn drain(
        &self,
        host: u32,
        released: &[u32],
        max: usize,
        per_actor: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        let h = self.host(host)?;
        // Re-arm the wake-up first: whatever is queued after this swap wakes the host again.
        h.wake.rearm();
        for &id in released {
            if let Some(cell) = self.cell(id) {
                if cell.host.load(Ordering::Acquire) == host {
                    self.release(&cell);
                }
            }
        }
        let mut n = 0;
        while let Some(notices) = h.notices.pop() {
            out.extend_from_slice(&notices.framed);
            n += notices.count;
        }
        while let Some((id, env)) = h.control.pop() {
            write_out(out, OUT_CONTROL, id, &env);
            n += 1;
        }
        let max = max.max(1);
        let per_actor = per_actor.max(1);
        while n < max {
            let Some(id) = h.ready.pop() else { break };
            let Some(cell) = self.cell(id) else { continue };
            if cell.host.load(Ordering::Acquire) != host || !cell.state.start() {
                continue; // moved to another host, or a stale entry
            }
            let mut taken = 0;
            while taken < per_actor && n < max {
                let Some(env) = cell.mailbox.recv() else {
                    break;
                };
                let k = envelope::count(&env);
                write_out(out, OUT_MESSAGE, id, &env);
                taken += k;
                n += k;
            }
            if taken == 0 {
                self.release(&cell);
            }
        }
        if n > 0 {
            h.wake.found_work();
        }
        Ok(n)
    }

    /// Called by the thread of `host` when its last drain found nothing but news is due soon
    /// (the main thread with asks in flight): spins for a while, bounded and adaptive (see
    /// `HostWake::spin_wait`), looking for anything to drain. Returns true if the host should
    /// drain now, false if it may sleep (a wake-up then announces what comes).
    pub fn spin_wait(&self, host: u32) -> Result<bool> {
        let h = self.host(host)?;
        Ok(h.wake.spin_wait(|| h.has_work()))
    }

    /// RUNNING → IDLE, then schedules the actor again if messages came meanwhile.
    fn release(&self, cell: &Cell) {
        if cell.state.release(|| !cell.mailbox.is_empty()) {
            // Only `drain` releases, on the actor's own host, and it drains the ready queue next:
            // no wake-up.
            self.enqueue(cell, false);
        }
    }
}

/// Appends one `u8 kind | u32 actor | u32 len | body` record to `out`.
pub(super) fn write_out(out: &mut Vec<u8>, kind: u8, actor: u32, body: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&actor.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
}
