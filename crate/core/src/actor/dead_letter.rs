//! Dead letters: messages that were evicted, dropped, refused or sent to a stopped actor. Each is
//! counted (per system and per actor), the most recent are kept for inspection ([`DeadLetter`]),
//! and an ask among them fails at once with an `ASK_FAILED` notice to the asking host.

use super::cell::Cell;
use super::{envelope, notice, ActorSystem, Delivery};
use crate::sync::atomic::Ordering;
use crate::sync::lock;

/// A dead letter kept for inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// The actor it was sent to (0: unknown, it had stopped).
    pub actor: u32,
    /// Why: [`Delivery::Evicted`], [`Delivery::Dropped`], [`Delivery::Full`] or
    /// [`Delivery::Stopped`].
    pub reason: Delivery,
    /// The message.
    pub envelope: Box<[u8]>,
}

/// How many dead letters [`ActorSystem::recent_dead_letters`] keeps.
const RECENT_DEAD: usize = 64;

impl ActorSystem {
    /// Counts a dead letter, keeps it among the recent ones, and fails it if it is an ask.
    pub(super) fn dead_letter(&self, cell: Option<&Cell>, reason: Delivery, env: Box<[u8]>) {
        let n = envelope::count(&env) as u64;
        self.dead_letters.fetch_add(n, Ordering::Relaxed);
        let actor = cell.map_or(0, |c| {
            c.dead_letters.fetch_add(n, Ordering::Relaxed);
            c.id
        });
        envelope::each(&env, |e| self.fail_ask(e, actor, reason));
        let mut recent = lock(&self.recent_dead);
        if recent.len() == RECENT_DEAD {
            recent.pop_front();
        }
        recent.push_back(DeadLetter {
            actor,
            reason,
            envelope: env,
        });
    }

    fn fail_ask(&self, env: &[u8], actor: u32, reason: Delivery) {
        if let Some((host, ask)) = envelope::ask_of(env) {
            if let Some(h) = self.hosts.get(host as usize) {
                let mut n = Vec::with_capacity(10);
                n.push(notice::ASK_FAILED);
                n.extend_from_slice(&ask.to_le_bytes());
                n.push(if reason == Delivery::Stopped {
                    notice::REASON_STOPPED
                } else {
                    notice::REASON_FULL
                });
                n.extend_from_slice(&actor.to_le_bytes());
                h.notice(&n);
            }
        }
    }

    /// Dead letters since the system started.
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Ordering::Relaxed)
    }

    /// The most recent dead letters (oldest first), up to 64.
    pub fn recent_dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.recent_dead).iter().cloned().collect()
    }
}
