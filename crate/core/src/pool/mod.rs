//! The work-stealing scheduler behind weft's `Pool`.
//!
//! The JavaScript threads do the work; this module decides who does what and moves the bytes.
//! Tasks are opaque byte records (the TypeScript wire codec fills them); the scheduler reads
//! only the fixed headers described in [`frame`].
//!
//! * A global [`Injector`] takes tasks submitted from the main thread.
//! * Each worker slot owns a local deque ([`Worker`], LIFO for its owner, FIFO for thieves) that
//!   receives the tasks its thread spawns (fork-join) and batches it pulls from the injector.
//! * Each slot has a pinned inbox for work that must run on that very worker.
//! * An idle worker steals: its own deque, its inbox, the injector, then the other deques, in
//!   that order, retrying on [`Steal::Retry`].
//! * A worker with nothing to do spins briefly, then parks on a futex (a condvar) with a bound
//!   so its thread can still be stopped; one with async tasks in flight waits in its event loop
//!   and is woken through the `waker` its binding installs. The stack of idle workers is weft's
//!   own lock-free [`TreiberStack`](crate::stack::TreiberStack) (LIFO: the most recently idle,
//!   warmest worker is woken first). This handshake lives in `idle.rs` (checked by loom on the
//!   real type); `README.md` beside this file explains it, and the give-back, in prose.
//! * Completions go back to the thread that submitted the task: the main thread (one wake per
//!   batch: the notifier runs only when the "notified" flag flips) or the spawning worker.
//! * Every task handed to a worker is remembered until it completes, so a worker that dies can
//!   be accounted for exactly: what it was running fails with `WEFT_WORKER_EXIT`, what it had not
//!   started runs elsewhere, and nothing is lost or run twice.
//!
//! This file holds the shared state (slots, queues, counters) and the way in: submitting and
//! giving back tasks, closing. Each other concern has a file beside it: handing out work
//! (`take.rs`), completions and mail (`mail.rs`), cancellation (`cancel.rs`), lost and retired
//! workers (`lost.rs`), task names (`names.rs`), statistics (`stats.rs`).

mod cancel;
pub mod frame;
pub(crate) mod idle;
mod lost;
mod mail;
mod names;
mod stats;
mod take;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use crossbeam_queue::SegQueue;

use crate::error::{Code, Error, Result};
pub use crate::notify::Notify;
use crate::registry::{Registered, Registry};
use crate::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use crate::sync::{lock, Mutex};
use crate::wake::HostWake;
pub use cancel::Cancelled;
pub use frame::{Origin, MAIN};
use idle::Idle;
use names::Names;
pub use names::{NameRefused, MAX_TASK_NAMES, MAX_UNCHECKED_TASK_NAMES};
pub use stats::{Percentiles, PoolStats, SlotStats};

/// One task waiting to run.
#[derive(Debug)]
pub struct Task {
    origin: Origin,
    id: u32,
    submitted: Instant,
    /// Handed to a worker before and given back: its wait time is already recorded.
    requeued: bool,
    /// Submitted for one worker (its arguments wait on that worker's port): never stolen.
    pinned: bool,
    /// Everything after the submit header: the task name id and the encoded arguments.
    payload: Box<[u8]>,
}

/// How `take` may wait when there is nothing to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Return at once; if nothing was found, the worker is registered as waiting in its event
    /// loop and its waker runs when work arrives.
    EventLoop,
    /// Park the thread (after a short spin) for at most this long.
    Park(Duration),
    /// The worker runs as many async tasks as it may (`concurrentTasksPerWorker`): take only
    /// tasks forked by running tasks (the deques), never new ones (the injector, the pinned
    /// inbox; a main-thread task found in a deque moves to the injector for another worker).
    /// Nothing found: return at once, registered to be woken in the event loop for mail only.
    Capped,
}

/// What `take` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// Records were written to the output buffer.
    Work,
    /// Nothing to do (the wait ended or the worker is now registered for a wake).
    Idle,
    /// The pool is closed and drained: the worker should exit.
    Closed,
}

struct Outstanding {
    task: Task,
    /// Its position in the sequence of tasks handed to this worker incarnation (from 0). The
    /// worker counts the tasks it starts in the same order, so after a crash every task whose
    /// number is at least that count was never started.
    seq: u32,
    /// Cancelled while handed out ([`Pool::cancel`]): if it comes back unstarted (given back, or
    /// its worker died), it is dropped instead of queued again.
    cancelled: bool,
}

struct Slot {
    local: Mutex<Worker<Task>>,
    stealer: Stealer<Task>,
    inbox: SegQueue<Task>,
    /// Completions of tasks this worker spawned, as `take` output records.
    completions: Mutex<Vec<u8>>,
    /// Control records (aborts) for tasks running here.
    control: Mutex<Vec<u8>>,
    /// Signals for subsystems on this worker (actor hosts). Unlike the other mail they outlive a
    /// worker incarnation: the next one in the slot receives them.
    signals: Mutex<Vec<u8>>,
    has_mail: AtomicBool,
    outstanding: Mutex<HashMap<u64, Outstanding>>,
    /// The origin id of the worker incarnation now in this slot (0: none).
    origin: AtomicU32,
    handed: AtomicU32,
    /// Whether the worker here counts as running in the process's thread budget
    /// ([`crate::budget`]): set when `take` hands it work, cleared when it comes back to `take`
    /// or leaves the slot.
    running: AtomicBool,
    stats: SlotCounters,
}

impl Slot {
    /// The worker here runs tasks now (see [`crate::budget`]).
    fn start_running(&self) {
        if !self.running.swap(true, Ordering::Relaxed) {
            crate::budget::enter();
        }
    }

    /// The worker here runs no tasks now: back in `take`, or gone.
    fn stop_running(&self) {
        if self.running.swap(false, Ordering::Relaxed) {
            crate::budget::leave();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // A pool dropped while a worker was marked running must not keep its share of the
        // process's budget.
        self.stop_running();
    }
}

#[derive(Default)]
struct SlotCounters {
    completed: AtomicU64,
    failed: AtomicU64,
    stolen: AtomicU64,
    restarts: AtomicU64,
    busy_ns: AtomicU64,
}

/// The scheduler of one pool.
pub struct Pool {
    slots: Box<[Slot]>,
    injector: Injector<Task>,
    /// The idle/wake handshake of the workers.
    idle: Idle,
    queued: AtomicUsize,
    max_queue: Option<usize>,
    closed: AtomicBool,
    main_out: Mutex<Vec<u8>>,
    /// Set after completions are written to `main_out`, cleared by `drain_main`: what the main
    /// thread looks at while it spins for completions (`spin_main`).
    main_ready: AtomicBool,
    /// Wakes the main thread (once per batch), or lets it spin for completions.
    main_wake: HostWake,
    /// Tasks cancelled while they waited (by [`key`]): dropped when a worker would take them.
    cancelled: Mutex<std::collections::HashSet<u64>>,
    cancelled_len: AtomicUsize,
    names: Mutex<Names>,
    next_incarnation: AtomicU32,
    started: Instant,
    hist: Mutex<stats::Histograms>,
}

static POOLS: Registry<Pool> = Registry::new("Pool");

/// The registry through which every thread of the process attaches to a pool by id.
pub fn pools() -> &'static Registry<Pool> {
    &POOLS
}

/// A new pool, registered so that its workers can attach to it.
pub fn new_pool(
    threads: usize,
    max_queue: Option<usize>,
) -> Result<std::sync::Arc<Registered<Pool>>> {
    Ok(POOLS.insert(Pool::new(threads, max_queue)?))
}

fn key(origin: Origin, id: u32) -> u64 {
    (u64::from(origin) << 32) | u64::from(id)
}

impl Pool {
    /// A pool with `threads` worker slots. `max_queue` bounds the tasks waiting to start.
    pub fn new(threads: usize, max_queue: Option<usize>) -> Result<Self> {
        if threads == 0 || threads > frame::MAX_SLOTS {
            return Err(Error::new(
                Code::InvalidArg,
                format!("threads must be between 1 and {}", frame::MAX_SLOTS),
            ));
        }
        let slots = (0..threads)
            .map(|_| {
                let local = Worker::new_lifo();
                Slot {
                    stealer: local.stealer(),
                    local: Mutex::new(local),
                    inbox: SegQueue::new(),
                    completions: Mutex::new(Vec::new()),
                    control: Mutex::new(Vec::new()),
                    signals: Mutex::new(Vec::new()),
                    has_mail: AtomicBool::new(false),
                    outstanding: Mutex::new(HashMap::new()),
                    origin: AtomicU32::new(0),
                    handed: AtomicU32::new(0),
                    running: AtomicBool::new(false),
                    stats: SlotCounters::default(),
                }
            })
            .collect();
        Ok(Self {
            slots,
            injector: Injector::new(),
            idle: Idle::new(threads),
            queued: AtomicUsize::new(0),
            max_queue,
            closed: AtomicBool::new(false),
            main_out: Mutex::new(Vec::new()),
            main_ready: AtomicBool::new(false),
            main_wake: HostWake::new(),
            cancelled: Mutex::new(Default::default()),
            cancelled_len: AtomicUsize::new(0),
            names: Mutex::new(Names::default()),
            next_incarnation: AtomicU32::new(1),
            started: Instant::now(),
            hist: Mutex::new(stats::Histograms::new()),
        })
    }

    /// How many worker slots it has.
    pub fn threads(&self) -> usize {
        self.slots.len()
    }

    /// Installs the callback that wakes the main thread when completions are waiting.
    pub fn set_main_notify(&self, notify: Notify) {
        self.main_wake.set(notify);
    }

    /// Registers a new worker incarnation in `slot` and returns its origin id. `waker` wakes
    /// the worker's event loop.
    pub fn attach_worker(&self, slot: usize, waker: Notify) -> Result<Origin> {
        let s = self.slot(slot)?;
        let generation = self.next_incarnation.fetch_add(1, Ordering::Relaxed);
        let origin = frame::origin(slot, generation);
        s.handed.store(0, Ordering::SeqCst);
        self.idle.attach(slot, waker);
        s.origin.store(origin, Ordering::SeqCst);
        if !lock(&s.signals).is_empty() {
            s.has_mail.store(true, Ordering::SeqCst);
        }
        Ok(origin)
    }

    /// Workers of this pool that count as running in the process's thread budget now
    /// ([`crate::budget`]): handed work by `take` and not yet back in it.
    pub fn running_workers(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.running.load(Ordering::Relaxed))
            .count()
    }

    fn slot(&self, slot: usize) -> Result<&Slot> {
        self.slots
            .get(slot)
            .ok_or_else(|| Error::new(Code::InvalidArg, format!("no worker slot {slot}")))
    }

    /// Tasks submitted and not yet handed to a worker.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Submits a batch of task records (see [`frame`]) from `origin`: the main thread's go to
    /// the injector, a worker's to its own deque. Returns the number of tasks accepted, or
    /// `WEFT_QUEUE_FULL` (nothing accepted) if they would not fit under `max_queue`, or
    /// `WEFT_CLOSED`.
    pub fn submit(&self, origin: Origin, records: &[u8]) -> Result<usize> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::new(Code::Closed, "the pool is closed"));
        }
        let tasks = frame::parse_submit(records)?;
        let n = tasks.len();
        if let Some(max) = self.max_queue {
            let now = self.queued.load(Ordering::Relaxed);
            if origin == MAIN && now + n > max {
                return Err(Error::new(
                    Code::QueueFull,
                    format!("the pool's queue is full ({now} waiting, maxQueue {max})"),
                ));
            }
        }
        self.queued.fetch_add(n, Ordering::Relaxed);
        let submitted = Instant::now();
        let own_slot = (origin != MAIN).then(|| frame::slot_of(origin));
        let mut to_local = Vec::new();
        let mut pinned_to = Vec::new();
        let mut shared = 0usize;
        for t in tasks {
            let task = Task {
                origin,
                id: t.id,
                submitted,
                requeued: false,
                pinned: t.target.is_some(),
                payload: t.payload.into(),
            };
            match t.target {
                Some(target) if target < self.slots.len() => {
                    self.slots[target].inbox.push(task);
                    if !pinned_to.contains(&target) {
                        pinned_to.push(target);
                    }
                }
                _ => {
                    shared += 1;
                    match own_slot {
                        Some(_) => to_local.push(task),
                        None => self.injector.push(task),
                    }
                }
            }
        }
        if let Some((k, slot)) = own_slot.and_then(|k| self.slots.get(k).map(|s| (k, s))) {
            let forked = !to_local.is_empty();
            {
                let local = lock(&slot.local);
                for t in to_local {
                    local.push(t);
                }
            }
            // A worker at its concurrency cap is never picked by `wake_one`: forks its own
            // tasks made outside its take (in an await's continuation) must wake it themselves.
            if forked {
                self.idle.wake_if_capped(k);
            }
        }
        // A pinned task can run only on its own worker: wake that one.
        for k in pinned_to {
            self.mail_posted(k);
        }
        // Wake a sleeper to take (or steal) the work; a worker that finds more work than it
        // takes wakes the next one, so a large batch fans out to every idle worker.
        if shared > 0 {
            self.idle.wake_one();
        }
        Ok(n)
    }

    /// The worker in `slot` hands back tasks it was given but has not started (its batch ran
    /// long): they go on its deque, where idle workers can steal them.
    pub fn give_back(&self, slot: usize, ids: &[u8]) -> Result<usize> {
        let s = self.slot(slot)?;
        let ids = frame::parse_ids(ids)?;
        let mut back = Vec::with_capacity(ids.len());
        let mut dropped = Vec::new();
        {
            let mut outstanding = lock(&s.outstanding);
            for (origin, id) in ids {
                if let Some(mut o) = outstanding.remove(&key(origin, id)) {
                    if o.cancelled {
                        dropped.push(o.task);
                        continue;
                    }
                    o.task.requeued = true;
                    back.push(o.task);
                }
            }
        }
        if !dropped.is_empty() {
            self.report_dropped(&dropped);
        }
        let n = back.len();
        self.queued.fetch_add(n, Ordering::Relaxed);
        {
            let local = lock(&s.local);
            for t in back.into_iter().rev() {
                if t.pinned {
                    // Its arguments are on this worker's port: it stays here.
                    s.inbox.push(t);
                } else {
                    local.push(t);
                }
            }
        }
        self.idle.wake_one();
        Ok(n)
    }

    /// Stops accepting tasks; workers drain what is queued, then `take` answers `Closed`.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle.wake_all();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Everything still queued, removed (for `destroy`): the ids of main-thread tasks.
    pub fn drain_queued(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        let mut push = |t: Task| {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            if t.origin == MAIN {
                ids.push(t.id);
            }
        };
        loop {
            match self.injector.steal() {
                Steal::Success(t) => push(t),
                Steal::Empty => break,
                Steal::Retry => {}
            }
        }
        for s in self.slots.iter() {
            while let Some(t) = s.inbox.pop() {
                push(t);
            }
            let local = lock(&s.local);
            while let Some(t) = local.pop() {
                push(t);
            }
        }
        ids
    }
}
