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

pub(crate) mod cell;
pub(crate) mod host;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, PoisonError};

use crate::error::{Code, Error, Result};
use crate::mailbox::{Mailbox, Overflow, Sent};
use crate::registry::{Registered, Registry};
use crate::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use crate::sync::{lock, Mutex, RwLock};
pub use cell::Cell;
use cell::RunState;
use host::Host;

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

/// The fixed head of a message envelope, the only part of it this module reads.
///
/// ```text
/// u8 kind   TELL (0) | ASK (1) | SYSTEM (2)
/// ASK:      u32 reply host, u32 ask id
/// then the JavaScript payload
/// ```
pub mod envelope {
    /// A message that wants no reply.
    pub const TELL: u8 = 0;
    /// A message whose reply (or failure) goes to the asking host as a notice.
    pub const ASK: u8 = 1;
    /// A lifecycle or supervision message, for the system lane.
    pub const SYSTEM: u8 = 2;
    /// Several user envelopes from one sender to one unbounded mailbox, in order: `u32 count`,
    /// then `count × (u32 len, envelope)`. `send_batch` bundles a sender's consecutive messages
    /// to the same actor, so a run of sends costs one queue push and one wake check, not one each.
    pub const BUNDLE: u8 = 3;

    /// The envelopes inside a bundle (or the envelope itself).
    pub fn each(env: &[u8], mut f: impl FnMut(&[u8])) {
        if env.first() != Some(&BUNDLE) {
            f(env);
            return;
        }
        let mut at = 5;
        while at + 4 <= env.len() {
            let len = u32::from_le_bytes([env[at], env[at + 1], env[at + 2], env[at + 3]]) as usize;
            let Some(inner) = env.get(at + 4..at + 4 + len) else {
                return;
            };
            f(inner);
            at += 4 + len;
        }
    }

    /// How many messages an envelope holds.
    pub fn count(env: &[u8]) -> usize {
        if env.first() == Some(&BUNDLE) && env.len() >= 5 {
            u32::from_le_bytes([env[1], env[2], env[3], env[4]]) as usize
        } else {
            1
        }
    }

    /// The reply address of an ask envelope.
    pub fn ask_of(env: &[u8]) -> Option<(u32, u32)> {
        if env.len() >= 9 && env[0] == ASK {
            let host = u32::from_le_bytes([env[1], env[2], env[3], env[4]]);
            let id = u32::from_le_bytes([env[5], env[6], env[7], env[8]]);
            Some((host, id))
        } else {
            None
        }
    }
}

/// Notices: records for a host that are not messages to one of its actors.
///
/// ```text
/// u8 kind, then
/// REPLY (1):       u32 ask id, then the JavaScript reply (written by JavaScript)
/// ASK_FAILED (2):  u32 ask id, u8 reason (REASON_*), u32 actor
/// ROOM (3):        u32 actor              a full `wait` mailbox has room again
/// LOST (4):        u32 n, n × u32 actor   these actors lost their thread (asks to them fail)
/// EVENT (5):       JavaScript lifecycle records (written by JavaScript)
/// ```
pub mod notice {
    /// The reply to an ask.
    pub const REPLY: u8 = 1;
    /// An ask whose message was refused, dropped or undeliverable.
    pub const ASK_FAILED: u8 = 2;
    /// A full `wait` mailbox has room again.
    pub const ROOM: u8 = 3;
    /// Actors that lost their thread.
    pub const LOST: u8 = 4;
    /// A lifecycle event (written by JavaScript).
    pub const EVENT: u8 = 5;

    /// The mailbox was full (`reject`, `wait`) or dropped the message (`drop-*`).
    pub const REASON_FULL: u8 = 1;
    /// The actor has stopped (or never existed).
    pub const REASON_STOPPED: u8 = 2;
}

/// Kinds of the records [`ActorSystem::drain`] writes: `u8 kind | u32 actor | u32 len | bytes`.
/// This one: a message (an envelope, or a bundle of them) for `actor`.
pub const OUT_MESSAGE: u8 = 1;
/// A notice for the host (see [`notice`]); `actor` is 0.
pub const OUT_NOTICE: u8 = 2;
/// A system message delivered around the mailbox (its actor was running; see `send`).
pub const OUT_CONTROL: u8 = 3;

/// Kinds of the records [`ActorSystem::send_batch`] reads: `u8 kind | u32 target | u32 len | bytes`.
/// This one: a user message for actor `target`.
pub const IN_USER: u8 = 1;
/// A system message for actor `target`.
pub const IN_SYSTEM: u8 = 2;
/// A notice for host `target`.
pub const IN_NOTICE: u8 = 3;

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

/// The most messages one bundle holds (a bundle counts as that many toward drain limits).
const MAX_BUNDLE: u32 = 256;

/// How many dead letters [`ActorSystem::recent_dead_letters`] keeps.
const RECENT_DEAD: usize = 64;

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
    /// Messages handed to its host.
    pub processed: u64,
    /// Restarts (by its supervisor, or after its thread died).
    pub restarts: u64,
    /// Messages to it that became dead letters.
    pub dead_letters: u64,
    /// Messages its mailbox's overflow policy evicted or discarded.
    pub dropped: u64,
    /// Sends its full mailbox refused.
    pub refused: u64,
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
        };
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
                        host.notices.push(n.into_boxed_slice());
                        host.wake();
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

    /// Sends one envelope to an actor (user lane, or the system lane ahead of it) from a thread
    /// whose host is `from`. A `wait` mailbox that is full registers `from` for a ROOM notice.
    /// A system message for an actor whose host is running it goes to the host directly
    /// (`OUT_CONTROL`), so that it is not held up by a slow handler.
    pub fn send(&self, from: u32, target: u32, system: bool, env: Box<[u8]>) -> Delivery {
        match self.cell(target) {
            Some(cell) => self.send_to(&cell, from, system, env),
            None => {
                self.dead_letter(None, Delivery::Stopped, env);
                Delivery::Stopped
            }
        }
    }

    fn send_to(&self, cell: &Cell, from: u32, system: bool, env: Box<[u8]>) -> Delivery {
        if system && cell.state.is_running() && !cell.mailbox.is_closed() {
            // Its host is busy with a batch of its messages (perhaps for long: an async handler)
            // and takes nothing more from its mailbox until then; a kill or restart must not
            // wait behind that. The control queue is drained on every turn of the host.
            if let Some(host) = self.hosts.get(cell.host.load(Ordering::Acquire) as usize) {
                host.control.push((cell.id, env));
                host.wake();
                return Delivery::Queued;
            }
        }
        let outcome = if system {
            match cell.mailbox.send_system(env) {
                Ok(()) => Delivery::Queued,
                Err(env) => {
                    self.dead_letter(Some(cell), Delivery::Stopped, env);
                    Delivery::Stopped
                }
            }
        } else {
            match cell.mailbox.send(env) {
                Sent::Queued => Delivery::Queued,
                Sent::Evicted(old) => {
                    self.dead_letter(Some(cell), Delivery::Evicted, old);
                    Delivery::Evicted
                }
                Sent::Dropped(env) => {
                    self.dead_letter(Some(cell), Delivery::Dropped, env);
                    return Delivery::Dropped;
                }
                Sent::Full(_env) => {
                    if matches!(cell.mailbox.bound(), Some((_, Overflow::Wait))) {
                        let mut w = lock(&cell.waiters);
                        if !w.contains(&from) {
                            w.push(from);
                        }
                    }
                    return Delivery::Full;
                }
                Sent::Closed(env) => {
                    self.dead_letter(Some(cell), Delivery::Stopped, env);
                    return Delivery::Stopped;
                }
            }
        };
        if outcome != Delivery::Stopped {
            self.schedule(cell);
        }
        outcome
    }

    /// After a message was queued: makes sure the actor's host will look at it.
    fn schedule(&self, cell: &Cell) {
        self.schedule_and(cell, true);
    }

    /// As `schedule`; `wake: false` when the caller is the host itself, about to drain.
    fn schedule_and(&self, cell: &Cell, wake: bool) {
        if cell.state.schedule() {
            self.enqueue(cell, wake);
        }
    }

    /// Puts a cell that was just moved to `SCHEDULED` on its host's ready queue.
    fn enqueue(&self, cell: &Cell, wake: bool) {
        if let Some(host) = self.hosts.get(cell.host.load(Ordering::Acquire) as usize) {
            host.ready.push(cell.id);
            if wake {
                host.wake();
            }
        }
    }

    /// Reads a batch of `u8 kind | u32 target | u32 len | bytes` records (IN_*) sent by a thread
    /// whose host is `from`. Only for unbounded mailboxes' messages and notices: a bounded
    /// mailbox's outcome matters to its sender, so those go through [`send`](Self::send) one by
    /// one. Messages to stopped actors become dead letters (and fail their asks).
    pub fn send_batch(&self, from: u32, records: &[u8]) -> Result<()> {
        let bad = || Error::new(Code::InvalidArg, "a malformed actor send batch");
        let cells = self.cells.read().unwrap_or_else(PoisonError::into_inner);
        let mut at = 0;
        let mut last: Option<(u32, Arc<Cell>)> = None;
        // A run of user messages to one unbounded mailbox, bundled: (target, cell, bytes, count).
        let mut run: Option<(Arc<Cell>, Vec<u8>, u32)> = None;
        let flush = |run: &mut Option<(Arc<Cell>, Vec<u8>, u32)>| {
            if let Some((cell, mut bytes, n)) = run.take() {
                bytes[1..5].copy_from_slice(&n.to_le_bytes());
                self.send_to(&cell, from, false, bytes.into_boxed_slice());
            }
        };
        while at < records.len() {
            let kind = records[at];
            let target = read_u32(records, at + 1).ok_or_else(bad)?;
            let len = read_u32(records, at + 5).ok_or_else(bad)? as usize;
            let body = records.get(at + 9..at + 9 + len).ok_or_else(bad)?;
            at += 9 + len;
            match kind {
                IN_NOTICE => {
                    flush(&mut run);
                    let host = self.host(target)?;
                    host.notices.push(body.into());
                    host.wake();
                }
                IN_USER | IN_SYSTEM => {
                    let cell = match &last {
                        Some((id, c)) if *id == target => Some(c.clone()),
                        _ => cells.get(&target).cloned(),
                    };
                    let Some(c) = cell else {
                        flush(&mut run);
                        self.dead_letter(None, Delivery::Stopped, body.into());
                        continue;
                    };
                    last = Some((target, c.clone()));
                    let bundle = kind == IN_USER && c.mailbox.bound().is_none();
                    if !bundle {
                        flush(&mut run);
                        self.send_to(&c, from, kind == IN_SYSTEM, body.into());
                        continue;
                    }
                    match &mut run {
                        Some((rc, bytes, n)) if rc.id == target && *n < MAX_BUNDLE => {
                            bytes.extend_from_slice(&(len as u32).to_le_bytes());
                            bytes.extend_from_slice(body);
                            *n += 1;
                        }
                        _ => {
                            flush(&mut run);
                            let mut bytes = Vec::with_capacity(64.max(5 + 4 + len));
                            bytes.push(envelope::BUNDLE);
                            bytes.extend_from_slice(&[0; 4]);
                            bytes.extend_from_slice(&(len as u32).to_le_bytes());
                            bytes.extend_from_slice(body);
                            run = Some((c, bytes, 1));
                        }
                    }
                }
                _ => return Err(bad()),
            }
        }
        flush(&mut run);
        Ok(())
    }

    /// Counts a dead letter, keeps it among the recent ones, and fails it if it is an ask.
    fn dead_letter(&self, cell: Option<&Cell>, reason: Delivery, env: Box<[u8]>) {
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
                h.notices.push(n.into_boxed_slice());
                h.wake();
            }
        }
    }

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
        while let Some(notice) = h.notices.pop() {
            write_out(out, OUT_NOTICE, 0, &notice);
            n += 1;
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
            let mut messages = 0;
            while taken < per_actor && n < max {
                let Some(env) = cell.mailbox.recv() else {
                    break;
                };
                let k = envelope::count(&env);
                write_out(out, OUT_MESSAGE, id, &env);
                taken += k;
                n += k;
                messages += k;
            }
            cell.processed.fetch_add(messages as u64, Ordering::Relaxed);
            if taken == 0 {
                self.release(&cell);
            }
        }
        Ok(n)
    }

    /// RUNNING → IDLE, then schedules the actor again if messages came meanwhile.
    fn release(&self, cell: &Cell) {
        if cell.state.release(|| !cell.mailbox.is_empty()) {
            // Only `drain` releases, on the actor's own host, and it drains the ready queue next:
            // no wake-up.
            self.enqueue(cell, false);
        }
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
            h.notices.push(lost.clone().into_boxed_slice());
            h.wake();
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

    /// Dead letters since the system started.
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Ordering::Relaxed)
    }

    /// The most recent dead letters (oldest first), up to 64.
    pub fn recent_dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.recent_dead).iter().cloned().collect()
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

fn write_out(out: &mut Vec<u8>, kind: u8, actor: u32, body: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&actor.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
}

#[cfg(all(test, not(loom)))]
mod tests;
