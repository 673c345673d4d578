//! `NativePool`: the JavaScript face of weft-core's work-stealing scheduler.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use weft_core::error::Code;
use weft_core::pool::{self, Cancelled, NameRefused, Pool, Taken, Wait, MAIN};
use weft_core::registry::{process_token, Registered};

use crate::errors::{guard, WeftStatus};

/// `take`'s `waitMs` for [`Wait::Capped`] (exported as `POOL_TAKE_CAPPED`).
pub const TAKE_CAPPED: i32 = -2;

/// A wake-up call into a JavaScript thread's event loop. Weak: it never keeps a thread alive by
/// itself (the TypeScript layer holds the pool's keep-alive while tasks are pending).
type Wake = ThreadsafeFunction<(), (), (), Status, false, true>;

pub(crate) fn notifier(callback: Function<'_, (), ()>) -> Result<Box<dyn Fn() + Send + Sync>> {
    let tsfn: Wake = callback
        .build_threadsafe_function::<()>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    Ok(Box::new(move || {
        tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
    }))
}

/// The scheduler of one pool, shared by the main thread and the pool's workers.
#[napi]
pub struct NativePool {
    inner: Arc<Registered<Pool>>,
}

/// Counters and percentiles of a pool (times in milliseconds).
#[napi(object)]
pub struct NativePoolStats {
    pub threads: u32,
    pub queued: f64,
    pub running: f64,
    pub completed: f64,
    pub failed: f64,
    pub stolen: f64,
    pub utilization: f64,
    pub wait: NativePercentiles,
    pub run: NativePercentiles,
    pub workers: Vec<NativeSlotStats>,
}

#[napi(object)]
pub struct NativePercentiles {
    pub count: f64,
    pub mean: f64,
    pub stddev: f64,
    pub min: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// Where a cancelled task was running: its worker slot and its number among the tasks handed to
/// that worker.
#[napi(object)]
pub struct NativeHanded {
    pub slot: u32,
    pub seq: u32,
}

#[napi(object)]
pub struct NativeSlotStats {
    pub index: u32,
    pub completed: f64,
    pub failed: f64,
    pub stolen: f64,
    pub running: f64,
    pub restarts: f64,
}

fn percentiles(p: weft_core::pool::Percentiles) -> NativePercentiles {
    NativePercentiles {
        count: p.count as f64,
        mean: p.mean,
        stddev: p.stddev,
        min: p.min,
        p50: p.p50,
        p75: p.p75,
        p90: p.p90,
        p95: p.p95,
        p99: p.p99,
        p999: p.p999,
        max: p.max,
    }
}

impl NativePool {
    pub(crate) fn threads(&self) -> usize {
        self.inner.threads()
    }

    pub(crate) fn core(&self) -> Arc<Registered<Pool>> {
        self.inner.clone()
    }
}

#[napi]
impl NativePool {
    /// A new scheduler with `threads` worker slots (`maxQueue`: 0 for unbounded).
    #[napi(constructor)]
    pub fn new(threads: u32, max_queue: u32) -> napi::Result<Self, WeftStatus> {
        guard(|| {
            let max_queue = (max_queue > 0).then_some(max_queue as usize);
            Ok(Self {
                inner: pool::new_pool(threads as usize, max_queue)?,
            })
        })
    }

    /// Attaches to a live pool from a worker thread.
    #[napi(factory)]
    pub fn attach(id: f64, token: u32) -> napi::Result<Self, WeftStatus> {
        guard(|| {
            Ok(Self {
                inner: pool::pools().get(id as u64, token)?,
            })
        })
    }

    #[napi(getter)]
    pub fn id(&self) -> f64 {
        self.inner.id() as f64
    }

    #[napi(getter)]
    pub fn token(&self) -> u32 {
        process_token()
    }

    /// Tasks submitted and not yet handed to a worker.
    #[napi(getter)]
    pub fn queued(&self) -> f64 {
        self.inner.queued() as f64
    }

    /// Installs the main thread's completion callback (called once per batch of completions).
    #[napi]
    pub fn set_main_notify(&self, callback: Function<'_, (), ()>) -> Result<()> {
        self.inner.set_main_notify(notifier(callback)?);
        Ok(())
    }

    /// Registers the calling worker thread in `slot`; `waker` wakes its event loop. Returns its
    /// origin id.
    #[napi]
    pub fn attach_worker(
        &self,
        slot: u32,
        waker: Function<'_, (), ()>,
    ) -> napi::Result<u32, WeftStatus> {
        let waker = notifier(waker)
            .map_err(|e| napi::Error::new(WeftStatus(Code::InvalidArg), e.reason.clone()))?;
        guard(|| self.inner.attach_worker(slot as usize, waker))
    }

    /// The id of a task name: -1 if the task module (loaded by a worker already) has no function
    /// export of that name, -2 if too many distinct names came before the module was loaded.
    #[napi]
    pub fn intern(&self, name: String) -> i32 {
        match self.inner.intern(&name) {
            Ok(id) => id as i32,
            Err(NameRefused::NotAnExport) => -1,
            Err(NameRefused::TooMany) => -2,
        }
    }

    #[napi]
    pub fn name_of(&self, id: u32) -> Option<String> {
        self.inner.name_of(id)
    }

    /// Submits a batch of task records from `origin` (0: the main thread).
    #[napi]
    pub fn submit(&self, origin: u32, records: &[u8]) -> napi::Result<u32, WeftStatus> {
        guard(|| self.inner.submit(origin, records).map(|n| n as u32))
    }

    /// Takes work for the worker in `slot`: a Buffer of take records, `null` when idle, an empty
    /// Buffer when the pool is closed and drained. `waitMs < 0` registers for an event-loop
    /// wake instead of parking (`POOL_TAKE_CAPPED`: the worker is at its concurrency cap, see
    /// `Wait::Capped`). Blocks the calling (worker) thread for at most `waitMs`.
    #[napi(ts_return_type = "Buffer | null")]
    pub fn take(
        &self,
        slot: u32,
        max: u32,
        wait_ms: i32,
    ) -> napi::Result<Option<Buffer>, WeftStatus> {
        guard(|| {
            let wait = if wait_ms == TAKE_CAPPED {
                Wait::Capped
            } else if wait_ms < 0 {
                Wait::EventLoop
            } else {
                Wait::Park(Duration::from_millis(wait_ms as u64))
            };
            let mut out = Vec::new();
            Ok(
                match self
                    .inner
                    .take(slot as usize, max as usize, wait, &mut out)?
                {
                    Taken::Work => Some(out.into()),
                    Taken::Idle => None,
                    Taken::Closed => Some(Vec::new().into()),
                },
            )
        })
    }

    /// Tasks the worker in `slot` was handed but will not start (pairs of u32 origin, u32 id).
    #[napi]
    pub fn give_back(&self, slot: u32, ids: &[u8]) -> napi::Result<u32, WeftStatus> {
        guard(|| self.inner.give_back(slot as usize, ids).map(|n| n as u32))
    }

    #[napi]
    pub fn set_exports(&self, names: Vec<String>) {
        self.inner.set_exports(names);
    }

    /// The task module's function exports, once a worker has loaded it.
    #[napi]
    pub fn exports(&self) -> Vec<String> {
        self.inner.exports()
    }

    /// Completion records from the worker in `slot`.
    #[napi]
    pub fn complete(&self, slot: u32, records: &[u8]) -> napi::Result<(), WeftStatus> {
        guard(|| self.inner.complete(slot as usize, records))
    }

    /// Completions waiting for the main thread (`null` if none). With `spin`, when none is
    /// waiting it spins for them a while first (bounded and adaptive: weft-core's
    /// `Pool::spin_main`).
    #[napi(ts_return_type = "Buffer | null")]
    pub fn drain_main<'env>(
        &self,
        env: &'env Env,
        spin: bool,
    ) -> Result<Option<BufferSlice<'env>>> {
        let mut out = Vec::new();
        self.inner.drain_main(&mut out);
        if out.is_empty() && spin && self.inner.spin_main() {
            self.inner.drain_main(&mut out);
        }
        (!out.is_empty())
            .then(|| BufferSlice::copy_from(env, out))
            .transpose()
    }

    /// Cancels a task submitted by `origin` (0: the main thread). `null`: it was not handed to
    /// a worker and will not run (or it completed already); otherwise the worker slot it was
    /// handed to and its number there (`seq`), where an abort record was delivered. Exactly one
    /// completion for the id still comes back either way (an empty one for a dropped task).
    #[napi]
    pub fn cancel(&self, origin: u32, id: u32) -> Option<NativeHanded> {
        match self.inner.cancel(origin, id) {
            Cancelled::Queued => None,
            Cancelled::Running { slot, seq } => Some(NativeHanded {
                slot: slot as u32,
                seq,
            }),
        }
    }

    #[napi]
    pub fn uncancel(&self, origin: u32, id: u32) {
        self.inner.uncancel(origin, id);
    }

    /// The worker in `slot` died; returns the ids of main-thread tasks that were running on it.
    #[napi]
    pub fn worker_lost(
        &self,
        slot: u32,
        started: u32,
        exit_result: &[u8],
    ) -> napi::Result<Vec<u32>, WeftStatus> {
        guard(|| self.inner.worker_lost(slot as usize, started, exit_result))
    }

    /// The worker in `slot` ended on purpose (idle timeout).
    #[napi]
    pub fn worker_retired(
        &self,
        slot: u32,
        started: u32,
        exit_result: &[u8],
    ) -> napi::Result<Vec<u32>, WeftStatus> {
        guard(|| {
            self.inner
                .worker_retired(slot as usize, started, exit_result)
        })
    }

    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }

    /// Removes everything still queued; returns the ids of main-thread tasks among it.
    #[napi]
    pub fn drain_queued(&self) -> Vec<u32> {
        self.inner.drain_queued()
    }

    #[napi]
    pub fn stats(&self) -> NativePoolStats {
        let s = self.inner.stats();
        NativePoolStats {
            threads: s.threads as u32,
            queued: s.queued as f64,
            running: s.running as f64,
            completed: s.completed as f64,
            failed: s.failed as f64,
            stolen: s.stolen as f64,
            utilization: s.utilization,
            wait: percentiles(s.wait),
            run: percentiles(s.run),
            workers: s
                .slots
                .into_iter()
                .map(|w| NativeSlotStats {
                    index: w.index as u32,
                    completed: w.completed as f64,
                    failed: w.failed as f64,
                    stolen: w.stolen as f64,
                    running: w.running as f64,
                    restarts: w.restarts as f64,
                })
                .collect(),
        }
    }

    /// The origin id of the main thread.
    #[napi(getter)]
    pub fn main_origin(&self) -> u32 {
        MAIN
    }
}
