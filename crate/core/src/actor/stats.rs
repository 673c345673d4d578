//! Per-actor counters: [`CellStats`], and [`ActorSystem::stats_of`] and [`ActorSystem::stats`],
//! the snapshots of them.

use std::sync::PoisonError;

use super::ActorSystem;
use crate::sync::atomic::Ordering;

/// Counters of one actor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CellStats {
    /// The actor.
    pub id: u32,
    /// The host it runs on.
    pub host: u32,
    /// User messages queued now.
    pub depth: usize,
    /// System messages queued now.
    pub system_depth: usize,
    /// Messages its handlers handled (counted by its host, `count_processed`).
    pub processed: u64,
    /// Restarts (by its supervisor, or after its thread died).
    pub restarts: u64,
    /// Messages to it that became dead letters.
    pub dead_letters: u64,
    /// Messages its mailbox's overflow policy evicted or discarded.
    pub dropped: u64,
    /// Sends its full mailbox refused.
    pub refused: u64,
    /// Bytes of the envelopes queued in its mailbox now.
    pub mailbox_bytes: usize,
    /// The most bytes its mailbox ever held.
    pub mailbox_peak_bytes: usize,
}

impl ActorSystem {
    /// Counters of one actor.
    pub fn stats_of(&self, id: u32) -> Option<CellStats> {
        self.cell(id).map(|c| {
            let m = c.mailbox.stats();
            CellStats {
                id,
                host: c.host.load(Ordering::Relaxed),
                depth: m.depth,
                system_depth: m.system_depth,
                processed: c.processed.load(Ordering::Relaxed),
                restarts: c.restarts.load(Ordering::Relaxed),
                dead_letters: c.dead_letters.load(Ordering::Relaxed),
                dropped: m.dropped,
                refused: m.refused,
                mailbox_bytes: m.bytes,
                mailbox_peak_bytes: m.peak_bytes,
            }
        })
    }

    /// Counters of every live actor, by id.
    pub fn stats(&self) -> Vec<CellStats> {
        let ids: Vec<u32> = self
            .cells
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        let mut all: Vec<CellStats> = ids.into_iter().filter_map(|id| self.stats_of(id)).collect();
        all.sort_by_key(|s| s.id);
        all
    }
}
