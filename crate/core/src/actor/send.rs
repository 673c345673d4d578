//! The send path: [`ActorSystem::send`] (one envelope, its [`Delivery`] outcome reported) and
//! [`ActorSystem::send_batch`] (the `IN_*` records a thread sends in bulk, consecutive messages
//! to one unbounded mailbox bundled), and the scheduling that makes sure an actor's host looks
//! at what was queued.

use std::sync::{Arc, PoisonError};

use super::cell::Cell;
use super::host::frame_notice;
use super::{envelope, read_u32, ActorSystem, Delivery};
use crate::error::{Code, Error, Result};
use crate::mailbox::Sent;
use crate::sync::atomic::Ordering;
use crate::sync::lock;

/// Kinds of the records [`ActorSystem::send_batch`] reads: `u8 kind | u32 target | u32 len | bytes`.
/// This one: a user message for actor `target`.
pub const IN_USER: u8 = 1;
/// A system message for actor `target`.
pub const IN_SYSTEM: u8 = 2;
/// A notice for host `target`.
pub const IN_NOTICE: u8 = 3;

/// The most messages one bundle holds (a bundle counts as that many toward drain limits).
const MAX_BUNDLE: u32 = 256;

impl ActorSystem {
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
            // A full `wait` mailbox: `from` is listed for a ROOM notice before the mailbox
            // registers the wait (see `Mailbox::send_as`).
            let register = || {
                let mut w = lock(&cell.waiters);
                if !w.contains(&from) {
                    w.push(from);
                }
            };
            match cell.mailbox.send_as(env, register) {
                Sent::Queued => Delivery::Queued,
                Sent::Evicted(old) => {
                    self.dead_letter(Some(cell), Delivery::Evicted, old);
                    Delivery::Evicted
                }
                Sent::Dropped(env) => {
                    self.dead_letter(Some(cell), Delivery::Dropped, env);
                    return Delivery::Dropped;
                }
                Sent::Full(_env) => return Delivery::Full,
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
    pub(super) fn schedule(&self, cell: &Cell) {
        self.schedule_and(cell, true);
    }

    /// As `schedule`; `wake: false` when the caller is the host itself, about to drain.
    fn schedule_and(&self, cell: &Cell, wake: bool) {
        if cell.state.schedule() {
            self.enqueue(cell, wake);
        }
    }

    /// Puts a cell that was just moved to `SCHEDULED` on its host's ready queue.
    pub(super) fn enqueue(&self, cell: &Cell, wake: bool) {
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
        // A run of notices to one host, framed as the drain writes them: (host, records, count).
        let mut notes: Option<(u32, Vec<u8>, usize)> = None;
        let post = |notes: &mut Option<(u32, Vec<u8>, usize)>| {
            if let Some((h, framed, count)) = notes.take() {
                if let Some(host) = self.hosts.get(h as usize) {
                    host.push_notices(framed, count);
                }
            }
        };
        let flush = |run: &mut Option<(Arc<Cell>, Vec<u8>, u32)>| {
            if let Some((cell, mut bytes, n)) = run.take() {
                bytes[1..5].copy_from_slice(&n.to_le_bytes());
                self.send_to(&cell, from, false, bytes.into_boxed_slice());
            }
        };
        // Whatever was read before a malformed record is still delivered.
        let result = 'parse: {
            while at < records.len() {
                let kind = records[at];
                let Some(target) = read_u32(records, at + 1) else {
                    break 'parse Err(bad());
                };
                let Some(len) = read_u32(records, at + 5) else {
                    break 'parse Err(bad());
                };
                let len = len as usize;
                let Some(body) = records.get(at + 9..at + 9 + len) else {
                    break 'parse Err(bad());
                };
                at += 9 + len;
                match kind {
                    IN_NOTICE => {
                        flush(&mut run);
                        if let Err(e) = self.host(target) {
                            break 'parse Err(e);
                        }
                        match &mut notes {
                            Some((h, framed, count)) if *h == target => {
                                frame_notice(framed, body);
                                *count += 1;
                            }
                            _ => {
                                post(&mut notes);
                                let mut framed = Vec::with_capacity(256);
                                frame_notice(&mut framed, body);
                                notes = Some((target, framed, 1));
                            }
                        }
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
                    _ => break 'parse Err(bad()),
                }
            }
            Ok(())
        };
        flush(&mut run);
        post(&mut notes);
        result
    }
}
