//! How loaded a group of actors is, read in one call: what a least-mailbox router compares
//! ([`ActorSystem::loads`]).
//!
//! A load is `2 × queued + busy`: `queued` counts the messages waiting in the actor's mailbox
//! (both lanes), `busy` is 1 while its host holds a batch of its messages (it is handling one
//! now). So an idle actor with an empty mailbox scores 0, a busy one with an empty mailbox 1, and
//! any queued message outweighs being busy, as Akka's smallest-mailbox routing orders them.
//! Messages a host has already taken in a batch are not counted (they left the mailbox).

use std::sync::PoisonError;

use super::ActorSystem;

/// The load of an actor that is not running (stopped, or never existed).
pub const GONE: u32 = u32::MAX;

/// The largest load reported for a running actor (queues longer than this read as this).
pub const MAX_LOAD: u32 = u32::MAX - 1;

impl ActorSystem {
    /// Writes the load of each actor of `ids` to the same index of `out` (see the module docs;
    /// [`GONE`] for an actor that is not running). Takes the actor table's lock once. Entries of
    /// `out` past `ids.len()` are left alone; ids past `out.len()` are skipped.
    pub fn loads(&self, ids: &[u32], out: &mut [u32]) {
        let cells = self.cells.read().unwrap_or_else(PoisonError::into_inner);
        for (id, slot) in ids.iter().zip(out.iter_mut()) {
            *slot = match cells.get(id) {
                None => GONE,
                Some(c) => {
                    let m = c.mailbox.stats();
                    let queued = m.depth.saturating_add(m.system_depth);
                    let busy = usize::from(c.state.is_running());
                    queued
                        .saturating_mul(2)
                        .saturating_add(busy)
                        .min(MAX_LOAD as usize) as u32
                }
            };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::actor::envelope;

    fn tell(n: u8) -> Box<[u8]> {
        vec![envelope::TELL, n].into_boxed_slice()
    }

    #[test]
    fn loads_count_queued_messages_twice_and_a_held_batch_once() {
        let sys = ActorSystem::new(2).unwrap();
        let idle = sys.create(1, None, None).unwrap();
        let queued = sys.create(1, None, None).unwrap();
        let held = sys.create(1, None, None).unwrap();
        for i in 0..3 {
            sys.send(0, queued, false, tell(i));
        }
        sys.send(0, held, false, tell(9));
        // Host 1 takes one message of each (batches it does not release yet): `held` is busy
        // with nothing queued, `queued` busy with two still queued.
        let mut out = Vec::new();
        sys.drain(1, &[], 100, 1, &mut out).unwrap();
        let ids = [idle, queued, held, 999];
        let mut loads = [7u32; 5];
        sys.loads(&ids, &mut loads);
        assert_eq!(loads, [0, 2 * 2 + 1, 1, GONE, 7]);
        // Released, `held` is idle again; a removed actor is gone.
        out.clear();
        sys.drain(1, &[held], 100, 1, &mut out).unwrap();
        sys.remove(idle);
        sys.loads(&ids, &mut loads);
        assert_eq!(loads[0], GONE);
        assert_eq!(loads[2], 0);
    }

    #[test]
    fn system_messages_count_and_short_outputs_are_safe() {
        let sys = ActorSystem::new(1).unwrap();
        let a = sys.create(0, None, None).unwrap();
        sys.send(0, a, true, tell(1));
        sys.send(0, a, false, tell(2));
        let mut one = [0u32; 1];
        sys.loads(&[a, a, a], &mut one);
        assert_eq!(one, [4]);
        sys.loads(&[], &mut one);
        assert_eq!(one, [4]);
    }
}
