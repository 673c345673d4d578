//! `NativeActorSystem`: the JavaScript face of weft-core's actor transport.

use std::cell::RefCell;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weft_core::actor::{self, ActorSystem, Delivery};
use weft_core::error::{Code, Error as CoreError};
use weft_core::mailbox::Overflow;
use weft_core::registry::{process_token, Registered};

use crate::errors::{guard, WeftStatus};
use crate::pool::{notifier, NativePool};

/// The transport of one actor system, shared by the main thread and the pool's workers.
#[napi]
pub struct NativeActorSystem {
    inner: Arc<Registered<ActorSystem>>,
    /// What `exchange` drained, reused from call to call (each JavaScript object is used by one
    /// thread: a thread attaches its own). It holds a drain too big for the caller's buffer until
    /// `spill` takes it.
    out: RefCell<Vec<u8>>,
}

/// Counters of one actor.
#[napi(object)]
pub struct NativeActorStats {
    pub id: u32,
    pub host: u32,
    pub depth: f64,
    pub system_depth: f64,
    pub processed: f64,
    pub restarts: f64,
    pub dead_letters: f64,
    pub dropped: f64,
    pub refused: f64,
    /// Bytes of the envelopes queued in its mailbox now.
    pub mailbox_bytes: f64,
    /// The most bytes its mailbox ever held.
    pub mailbox_peak_bytes: f64,
}

/// A dead letter: the actor (0: none), why (the `send` delivery code) and the envelope.
#[napi(object)]
pub struct NativeDeadLetter {
    pub actor: u32,
    pub reason: u32,
    pub envelope: Buffer,
}

fn overflow(code: u32) -> weft_core::error::Result<Overflow> {
    use crate::constants::*;
    Ok(match code {
        ACTOR_OVERFLOW_REJECT => Overflow::Reject,
        ACTOR_OVERFLOW_DROP_OLDEST => Overflow::DropOldest,
        ACTOR_OVERFLOW_DROP_NEWEST => Overflow::DropNewest,
        ACTOR_OVERFLOW_WAIT => Overflow::Wait,
        _ => {
            return Err(CoreError::new(
                Code::InvalidArg,
                format!("unknown overflow policy {code}"),
            ))
        }
    })
}

fn stats(s: actor::CellStats) -> NativeActorStats {
    NativeActorStats {
        id: s.id,
        host: s.host,
        depth: s.depth as f64,
        system_depth: s.system_depth as f64,
        processed: s.processed as f64,
        restarts: s.restarts as f64,
        dead_letters: s.dead_letters as f64,
        dropped: s.dropped as f64,
        refused: s.refused as f64,
        mailbox_bytes: s.mailbox_bytes as f64,
        mailbox_peak_bytes: s.mailbox_peak_bytes as f64,
    }
}

impl NativeActorSystem {
    fn of(inner: Arc<Registered<ActorSystem>>) -> Self {
        Self {
            inner,
            out: RefCell::new(Vec::new()),
        }
    }
}

#[napi]
impl NativeActorSystem {
    /// A new system: host 0 is the main thread, host `1 + k` the worker in slot `k` of `pool`
    /// (woken through the pool's signal records).
    #[napi(constructor)]
    pub fn new(pool: Option<&NativePool>) -> napi::Result<Self, WeftStatus> {
        guard(|| {
            let threads = pool.map_or(0, |p| p.threads());
            let inner = actor::new_system(1 + threads)?;
            if let Some(p) = pool {
                let id = inner.id() as u32;
                let token = process_token();
                for k in 0..threads {
                    let pool = p.core();
                    inner.set_notify(
                        1 + k as u32,
                        Box::new(move || {
                            // Only fails for a slot out of range, which cannot happen here.
                            let _ = pool.signal(k, id, token);
                        }),
                    )?;
                }
            }
            Ok(Self::of(inner))
        })
    }

    /// Attaches to a live system from another thread.
    #[napi(factory)]
    pub fn attach(id: f64, token: u32) -> napi::Result<Self, WeftStatus> {
        guard(|| Ok(Self::of(actor::systems().get(id as u64, token)?)))
    }

    #[napi(getter)]
    pub fn id(&self) -> f64 {
        self.inner.id() as f64
    }

    #[napi(getter)]
    pub fn token(&self) -> u32 {
        process_token()
    }

    #[napi(getter)]
    pub fn hosts(&self) -> u32 {
        self.inner.hosts() as u32
    }

    /// Installs the wake-up of `host` (the main thread's: a threadsafe function).
    #[napi]
    pub fn set_notify(
        &self,
        host: u32,
        callback: Function<'_, (), ()>,
    ) -> napi::Result<(), WeftStatus> {
        let notify = notifier(callback)
            .map_err(|e| napi::Error::new(WeftStatus(Code::InvalidArg), e.reason.clone()))?;
        guard(|| self.inner.set_notify(host, notify))
    }

    /// A new actor on `host`: `capacity` 0 for an unbounded mailbox, else bounded with
    /// `overflow` (0 reject, 1 drop-oldest, 2 drop-newest, 3 wait). Returns its id.
    #[napi]
    pub fn create(
        &self,
        host: u32,
        capacity: u32,
        overflow_code: u32,
        name: Option<String>,
    ) -> napi::Result<u32, WeftStatus> {
        guard(|| {
            let bound = if capacity == 0 {
                None
            } else {
                Some((capacity as usize, overflow(overflow_code)?))
            };
            self.inner.create(host, bound, name.as_deref())
        })
    }

    #[napi]
    pub fn lookup(&self, name: String) -> Option<u32> {
        self.inner.lookup(&name)
    }

    /// The mailbox of a running actor: -2 not running, -1 unbounded, else the overflow code.
    #[napi]
    pub fn mailbox_of(&self, id: u32) -> i32 {
        match self.inner.mailbox_of(id) {
            None => -2,
            Some(None) => -1,
            Some(Some(o)) => match o {
                Overflow::Reject => 0,
                Overflow::DropOldest => 1,
                Overflow::DropNewest => 2,
                Overflow::Wait => 3,
            },
        }
    }

    /// The host an actor runs on, -1 if it is not running.
    #[napi]
    pub fn host_of(&self, id: u32) -> i32 {
        self.inner.host_of(id).map_or(-1, |h| h as i32)
    }

    /// Sends one envelope from a thread whose host is `from`; returns the delivery code
    /// (0 queued, 1 evicted the oldest, 2 dropped, 3 full, 4 stopped).
    #[napi]
    pub fn send(&self, from: u32, target: u32, system: bool, envelope: &[u8]) -> u32 {
        let d: Delivery = self.inner.send(from, target, system, envelope.into());
        d as u32
    }

    /// Sends a batch of `u8 kind | u32 target | u32 len | bytes` records.
    #[napi]
    pub fn send_batch(&self, from: u32, records: &[u8]) -> napi::Result<(), WeftStatus> {
        guard(|| self.inner.send_batch(from, records))
    }

    /// A host's turn in one call: sends `records` (`u8 kind | u32 target | u32 len | bytes`),
    /// releases `released`, adds `processed` (`[id, n, ...]`, see `countProcessed`), then takes
    /// up to `max` messages (`perActor` per actor) and every notice for `host`:
    /// `u8 kind | u32 actor | u32 len | bytes` records, written into `into`. Returns how many bytes
    /// it wrote (0: nothing came), or -1 when they do not fit: `spill()` then returns them. With
    /// `spin`, a turn that finds nothing waits for news a while first (bounded and adaptive: see
    /// weft-core's `ActorSystem::spin_wait`).
    ///
    /// Writing into the caller's buffer, reused turn after turn, spares a `Buffer` per turn
    /// (its backing store, global handle and finalizer cost more than the copy).
    #[napi]
    #[allow(clippy::too_many_arguments)] // one native call per turn is the point: its inputs are many
    pub fn exchange(
        &self,
        host: u32,
        records: &[u8],
        released: &[u32],
        processed: &[u32],
        max: u32,
        per_actor: u32,
        spin: bool,
        mut into: Uint8ArraySlice<'_>,
    ) -> napi::Result<i32> {
        let mut out = self.out.borrow_mut();
        out.clear();
        guard(|| {
            // Counted before the replies go out, so an asker never sees its reply before the
            // handling that made it is counted.
            if !processed.is_empty() {
                self.inner.count_processed(processed);
            }
            if !records.is_empty() {
                self.inner.send_batch(host, records)?;
            }
            let (max, per_actor) = (max as usize, per_actor as usize);
            let n = self.inner.drain(host, released, max, per_actor, &mut out)?;
            if n == 0 && spin && self.inner.spin_wait(host)? {
                self.inner.drain(host, &[], max, per_actor, &mut out)?;
            }
            Ok(())
        })
        .map_err(|e| napi::Error::from_reason(e.reason.clone()))?;
        // SAFETY: `into` is a view of a JavaScript ArrayBuffer that this thread's JavaScript,
        // blocked in this call, owns (the host's scratch, not a SharedArrayBuffer); no other
        // slice of it exists while this one is written.
        let into = unsafe { into.as_mut() };
        if out.len() > into.len() {
            return Ok(-1);
        }
        into[..out.len()].copy_from_slice(&out);
        Ok(out.len() as i32)
    }

    /// The drain of the last `exchange` that did not fit the caller's buffer (empty if none).
    #[napi]
    pub fn spill(&self) -> Buffer {
        std::mem::take(&mut *self.out.borrow_mut()).into()
    }

    /// Stops an actor for good; returns how many queued messages became dead letters.
    #[napi]
    pub fn remove(&self, id: u32) -> u32 {
        self.inner.remove(id) as u32
    }

    /// Moves an actor whose thread died to `host`, with `start` ahead of its backlog.
    #[napi]
    pub fn rehome(&self, id: u32, host: u32, start: &[u8]) -> napi::Result<(), WeftStatus> {
        guard(|| self.inner.rehome(id, host, start.into()))
    }

    #[napi]
    pub fn count_restart(&self, id: u32) {
        self.inner.count_restart(id);
    }

    /// Adds handled messages to actors' `processed` counts: `[id, n, id, n, ...]`.
    #[napi]
    pub fn count_processed(&self, pairs: &[u32]) {
        self.inner.count_processed(pairs);
    }

    #[napi]
    pub fn stats_of(&self, id: u32) -> Option<NativeActorStats> {
        self.inner.stats_of(id).map(stats)
    }

    #[napi]
    pub fn stats(&self) -> Vec<NativeActorStats> {
        self.inner.stats().into_iter().map(stats).collect()
    }

    #[napi]
    pub fn dead_letters(&self) -> f64 {
        self.inner.dead_letters() as f64
    }

    /// The most recent dead letters, oldest first (up to 64).
    #[napi]
    pub fn recent_dead_letters(&self) -> Vec<NativeDeadLetter> {
        self.inner
            .recent_dead_letters()
            .into_iter()
            .map(|d| NativeDeadLetter {
                actor: d.actor,
                reason: d.reason as u32,
                envelope: d.envelope.into_vec().into(),
            })
            .collect()
    }

    /// How many actors are alive.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }
}
