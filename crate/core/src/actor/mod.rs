//! The transport under weft's actors: a mailbox per actor, a run queue per thread ("host"), and
//! the wake protocol between them.
//!
//! The JavaScript layer owns behaviours, state and supervision; this module moves messages
//! between threads. Each thread that runs actors is a *host* (host 0: the main thread, host
//! `1 + k`: pool worker `k`). Every actor has a [`Cell`]: its [`Mailbox`] (lock-free, bounded or
//! not) and a three-state scheduling flag:
//!
//! * `IDLE`: nothing queued, or its host has not been told yet;
//! * `SCHEDULED`: its id sits in its host's ready queue;
//! * `RUNNING`: its host took a batch of its messages and has not released it yet. While an
//!   actor runs, its host takes no more of its messages, so a slow (async) handler keeps the
//!   backlog in the Rust mailbox, where a bound applies, rather than in JavaScript.
//!
//! A sender queues a message, then moves the cell from `IDLE` to `SCHEDULED` and, if that worked,
//! pushes the id onto the host's ready queue and wakes the host (once per batch: the wake runs
//! only when the host's `notified` flag flips). A host releasing an actor stores `IDLE` and looks
//! at the mailbox again. Both sides fence (`SeqCst`) between their write and their read, so
//! either the sender sees `IDLE` or the host sees the message: no message is ever stranded in an
//! idle mailbox. The flag is `RunState` (in `cell.rs`), the wake-up `HostWake` (in
//! `host.rs`); loom checks both types themselves (`tests/loom.rs`).
//!
//! Messages are opaque byte envelopes written by the JavaScript codec; this module reads only
//! their first bytes (see [`envelope`]) so that it can fail an `ask` whose message is dropped,
//! refused or undeliverable, and it counts every such message as a dead letter.
//!
//! This file holds the system itself (its hosts and cells) and an actor's life: create, look up,
//! remove, rehome. The rest has a file beside it: the wire formats ([`envelope`], [`notice`]),
//! sending (`send.rs`), a host's drain (`drain.rs`), dead letters (`dead_letter.rs`) and
//! per-actor counters (`stats.rs`).

pub(crate) mod cell;
mod dead_letter;
pub mod depth;
mod drain;
pub mod envelope;
pub(crate) mod host;
pub mod notice;
mod send;
mod stats;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, PoisonError};

use crate::error::{Code, Error, Result};
use crate::mailbox::{Mailbox, Overflow};
use crate::registry::{Registered, Registry};
use crate::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use crate::sync::{lock, Mutex, RwLock};
pub use cell::Cell;
use cell::RunState;
pub use dead_letter::DeadLetter;
pub use drain::{OUT_CONTROL, OUT_MESSAGE, OUT_NOTICE};
use host::Host;
pub use send::{IN_NOTICE, IN_SYSTEM, IN_USER};
pub use stats::CellStats;

static SYSTEMS: Registry<ActorSystem> = Registry::new("ActorSystem");

/// The registry through which every thread of the process attaches to an actor system by id.
pub fn systems() -> &'static Registry<ActorSystem> {
    &SYSTEMS
}

/// A new actor system with `hosts` hosts, registered so that other threads can attach to it.
pub fn new_system(hosts: usize) -> Result<Arc<Registered<ActorSystem>>> {
    Ok(SYSTEMS.insert(ActorSystem::new(hosts)?))
}

pub use crate::notify::Notify;

/// The host of the main thread.
pub const MAIN_HOST: u32 = 0;

/// What happened to one message sent with [`ActorSystem::send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Queued.
    Queued = 0,
    /// Queued; the oldest message was evicted to make room (a dead letter).
    Evicted = 1,
    /// Discarded by `drop-newest` (a dead letter).
    Dropped = 2,
    /// Refused: the mailbox is full (`reject`; with `wait` the sender's host gets a ROOM notice).
    Full = 3,
    /// The actor has stopped or never existed (a dead letter).
    Stopped = 4,
}

/// The transport of one actor system: its hosts and its actors' cells.
pub struct ActorSystem {
    hosts: Arc<[Host]>,
    cells: RwLock<HashMap<u32, Arc<Cell>>>,
    names: Mutex<HashMap<String, u32>>,
    next_id: AtomicU32,
    dead_letters: AtomicU64,
    recent_dead: Mutex<VecDeque<DeadLetter>>,
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl ActorSystem {
    /// A system with `hosts` threads (1 + the pool's worker count).
    pub fn new(hosts: usize) -> Result<Self> {
        if hosts == 0 || hosts > 1024 {
            return Err(Error::new(
                Code::InvalidArg,
                "an actor system needs between 1 and 1024 hosts",
            ));
        }
        Ok(ActorSystem {
            hosts: (0..hosts).map(|_| Host::new()).collect(),
            cells: RwLock::new(HashMap::new()),
            names: Mutex::new(HashMap::new()),
            next_id: AtomicU32::new(1),
            dead_letters: AtomicU64::new(0),
            recent_dead: Mutex::new(VecDeque::new()),
        })
    }

    /// How many hosts (threads) it has.
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }

    fn host(&self, host: u32) -> Result<&Host> {
        self.hosts
            .get(host as usize)
            .ok_or_else(|| Error::new(Code::InvalidArg, format!("no actor host {host}")))
    }

    /// Installs the wake-up of `host`, called (at most once per batch) when it has work.
    pub fn set_notify(&self, host: u32, notify: Notify) -> Result<()> {
        self.host(host)?.wake.set(notify);
        Ok(())
    }

    fn cell(&self, id: u32) -> Option<Arc<Cell>> {
        self.cells
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// A new actor on `host` with an unbounded mailbox (`bound: None`) or a bounded one; with a
    /// `name`, which must be free. Returns its id (never reused).
    pub fn create(
        &self,
        host: u32,
        bound: Option<(usize, Overflow)>,
        name: Option<&str>,
    ) -> Result<u32> {
        self.host(host)?;
        let mailbox = match bound {
            None => Mailbox::unbounded(),
            Some((capacity, overflow)) => Mailbox::bounded(capacity, overflow)?,
        }
        .weighed(envelope_bytes);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Some(name) = name {
            let mut names = lock(&self.names);
            if names.contains_key(name) {
                return Err(Error::new(
                    Code::InvalidArg,
                    format!("an actor named {name:?} is already running"),
                ));
            }
            names.insert(name.to_owned(), id);
        }
        let waiters: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new(Vec::new()));
        if matches!(bound, Some((_, Overflow::Wait))) {
            let hosts = self.hosts.clone();
            let w = waiters.clone();
            mailbox.set_on_room(Box::new(move || {
                let waiting = std::mem::take(&mut *lock(&w));
                for h in waiting {
                    if let Some(host) = hosts.get(h as usize) {
                        let mut n = Vec::with_capacity(5);
                        n.push(notice::ROOM);
                        n.extend_from_slice(&id.to_le_bytes());
                        host.notice(&n);
                    }
                }
            }));
        }
        let cell = Arc::new(Cell {
            id,
            mailbox,
            host: AtomicU32::new(host),
            state: RunState::new(),
            waiters,
            processed: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            dead_letters: AtomicU64::new(0),
        });
        self.cells
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, cell);
        Ok(id)
    }

    /// The id of the running actor registered under `name`.
    pub fn lookup(&self, name: &str) -> Option<u32> {
        lock(&self.names).get(name).copied()
    }

    /// The mailbox bound of a running actor: `Some(None)` unbounded, `Some(Some(policy))`
    /// bounded, `None` not running.
    pub fn mailbox_of(&self, id: u32) -> Option<Option<Overflow>> {
        self.cell(id).map(|c| c.mailbox.bound().map(|(_, o)| o))
    }

    /// The host an actor runs on (`None`: no such actor).
    pub fn host_of(&self, id: u32) -> Option<u32> {
        self.cell(id).map(|c| c.host.load(Ordering::Acquire))
    }

    /// Stops an actor for good: later sends are dead letters, and so is everything still queued
    /// (asks among them fail with REASON_STOPPED). Frees its name. Returns how many messages
    /// were still queued.
    pub fn remove(&self, id: u32) -> usize {
        let cell = self
            .cells
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        lock(&self.names).retain(|_, v| *v != id);
        let Some(cell) = cell else { return 0 };
        cell.mailbox.close();
        let left = cell.mailbox.drain();
        let n = left.len();
        for env in left {
            self.dead_letter(Some(&cell), Delivery::Stopped, env);
        }
        n
    }

    /// Moves an actor to `host` (its thread died): `first` (the new incarnation's start record)
    /// goes to the head of its system lane... after anything already there, and the actor is
    /// scheduled on the new host. Every live host gets a LOST notice for it, so asks in flight
    /// to it fail. Messages still queued are kept and run on the new host.
    pub fn rehome(&self, id: u32, host: u32, start: Box<[u8]>) -> Result<()> {
        self.host(host)?;
        let cell = self
            .cell(id)
            .ok_or_else(|| Error::new(Code::ActorStopped, format!("actor {id} is not running")))?;
        cell.host.store(host, Ordering::Release);
        cell.restarts.fetch_add(1, Ordering::Relaxed);
        let mut lost = Vec::with_capacity(9);
        lost.push(notice::LOST);
        lost.extend_from_slice(&1u32.to_le_bytes());
        lost.extend_from_slice(&id.to_le_bytes());
        for h in self.hosts.iter() {
            h.notice(&lost);
        }
        // Its old host will never release it: take it back whatever state it was in.
        cell.state.reset();
        if cell.mailbox.send_system(start).is_err() {
            return Err(Error::new(
                Code::ActorStopped,
                format!("actor {id} is not running"),
            ));
        }
        self.schedule(&cell);
        Ok(())
    }

    /// Counts a restart done by the JavaScript supervisor.
    pub fn count_restart(&self, id: u32) {
        if let Some(c) = self.cell(id) {
            c.restarts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds messages handled by actors' hosts to their `processed` counts: `pairs` is
    /// `[id, n, id, n, ...]` (an odd last element is ignored; actors that are gone are skipped).
    pub fn count_processed(&self, pairs: &[u32]) {
        for pair in pairs.chunks_exact(2) {
            if let Some(c) = self.cell(pair[0]) {
                c.processed.fetch_add(u64::from(pair[1]), Ordering::Relaxed);
            }
        }
    }

    /// How many actors are alive.
    pub fn len(&self) -> usize {
        self.cells
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no actor is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

/// What a queued envelope weighs in its mailbox's byte counts: its bytes on the heap.
#[allow(clippy::borrowed_box)] // the weigher of a `Mailbox<Box<[u8]>>` takes `&Box<[u8]>`
fn envelope_bytes(env: &Box<[u8]>) -> usize {
    env.len()
}
