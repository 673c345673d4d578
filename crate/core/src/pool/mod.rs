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

pub mod frame;
pub(crate) mod idle;
mod stats;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use crossbeam_queue::SegQueue;

use crate::error::{Code, Error, Result};
pub use crate::notify::Notify;
use crate::registry::{Registered, Registry};
use crate::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use crate::sync::{lock, Mutex};
pub use frame::{Origin, MAIN};
use idle::{Idle, Idled};
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

/// Where a cancelled task was (see [`Pool::cancel`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// Not handed to a worker (or already completed): it will not run. A task that was still
    /// waiting is dropped when a worker would have taken it, and its submitter gets an empty
    /// completion record for it then, so that it knows the id is no longer in use.
    Queued,
    /// Handed to the worker in `slot` as its task number `seq` (see [`frame`]): an abort record
    /// was sent there. Its completion (or its worker's death) still comes.
    Running {
        /// The worker slot it was handed to.
        slot: usize,
        /// Its number among the tasks handed to that worker incarnation.
        seq: u32,
    },
}

/// The most task names a pool gives ids to: a name id travels as a `u16` (see `frame`).
pub const MAX_TASK_NAMES: usize = 1 << 16;
/// Of those, the most it gives out before a worker has loaded the task module (and reported its
/// exports), when names cannot be checked yet. The rest stays for the module's own exports.
pub const MAX_UNCHECKED_TASK_NAMES: usize = 1 << 12;

/// Why [`Pool::intern`] gave no id.
#[derive(Debug, PartialEq, Eq)]
pub enum NameRefused {
    /// The task module has no function export of that name.
    NotAnExport,
    /// Too many distinct names before the task module's exports were known.
    TooMany,
}

/// The task names of a pool and their ids, and the task module's function exports.
#[derive(Default)]
struct Names {
    list: Vec<String>,
    ids: HashMap<String, u32>,
    /// Reported by the first worker that loads the module; `None` until then.
    exports: Option<std::collections::HashSet<String>>,
    export_list: Vec<String>,
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
    stats: SlotCounters,
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
    main_notified: AtomicBool,
    main_notify: Mutex<Option<Notify>>,
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
            main_notified: AtomicBool::new(false),
            main_notify: Mutex::new(None),
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
        *lock(&self.main_notify) = Some(notify);
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

    fn slot(&self, slot: usize) -> Result<&Slot> {
        self.slots
            .get(slot)
            .ok_or_else(|| Error::new(Code::InvalidArg, format!("no worker slot {slot}")))
    }

    /// The id of a task name (given once per pool, below [`MAX_TASK_NAMES`]). Once the task
    /// module's exports are known, only their names get ids; before, at most
    /// [`MAX_UNCHECKED_TASK_NAMES`] names do (a worker refuses a task whose name turns out not to
    /// be an export). So names from anywhere (request data) never grow the table past the
    /// module's exports, and an id always stands for one name.
    pub fn intern(&self, name: &str) -> std::result::Result<u32, NameRefused> {
        let mut names = lock(&self.names);
        if let Some(&id) = names.ids.get(name) {
            return Ok(id);
        }
        let room = match &names.exports {
            Some(exports) if !exports.contains(name) => return Err(NameRefused::NotAnExport),
            Some(_) => MAX_TASK_NAMES,
            None => MAX_UNCHECKED_TASK_NAMES,
        };
        if names.list.len() >= room {
            return Err(NameRefused::TooMany);
        }
        let id = names.list.len() as u32;
        names.list.push(name.to_owned());
        names.ids.insert(name.to_owned(), id);
        Ok(id)
    }

    /// The task name with this id.
    pub fn name_of(&self, id: u32) -> Option<String> {
        lock(&self.names).list.get(id as usize).cloned()
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
        if let Some(slot) = own_slot.and_then(|s| self.slots.get(s)) {
            let local = lock(&slot.local);
            for t in to_local {
                local.push(t);
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

    /// Called by the worker thread of `slot`: writes up to `max` tasks (and any completions or
    /// aborts addressed to it) into `out` as take records (see [`frame`]).
    pub fn take(&self, slot: usize, max: usize, wait: Wait, out: &mut Vec<u8>) -> Result<Taken> {
        let s = self.slot(slot)?;
        let max = max.max(1);
        let mut spun = false;
        loop {
            self.idle.running(slot);
            let mail = self.collect_mail(s, out);
            let got = self.find_work(slot, s, max, out);
            if got > 0 || mail {
                // More work than this worker took: wake the next sleeper for it (a large batch
                // fans out worker by worker).
                if got > 0 && self.has_visible_work() {
                    self.idle.wake_one();
                }
                return Ok(Taken::Work);
            }
            if self.closed.load(Ordering::Acquire) && lock(&s.outstanding).is_empty() {
                return Ok(Taken::Closed);
            }
            let look = |mail_order| {
                self.has_visible_work() || !s.inbox.is_empty() || s.has_mail.load(mail_order)
            };
            let stop = || self.closed.load(Ordering::Acquire);
            match self.idle.wait(slot, wait, &mut spun, look, stop) {
                Idled::LookAgain => {}
                Idled::Return => return Ok(Taken::Idle),
            }
        }
    }

    fn has_visible_work(&self) -> bool {
        !self.injector.is_empty() || self.slots.iter().any(|s| !s.stealer.is_empty())
    }

    fn collect_mail(&self, s: &Slot, out: &mut Vec<u8>) -> bool {
        if !s.has_mail.swap(false, Ordering::AcqRel) {
            return false;
        }
        let mut any = false;
        for q in [&s.completions, &s.control, &s.signals] {
            let mut q = lock(q);
            if !q.is_empty() {
                out.extend_from_slice(&q);
                q.clear();
                any = true;
            }
        }
        any
    }

    fn find_work(&self, slot: usize, s: &Slot, max: usize, out: &mut Vec<u8>) -> usize {
        // While other workers are idle, claim only a fair share of what is queued: tasks handed
        // to this worker's JavaScript side can no longer be stolen.
        let waiting = self.queued.load(Ordering::Relaxed);
        let idle = self.idle.available();
        let max = if idle > 0 && waiting > 0 {
            max.min(waiting.div_ceil(idle + 1)).max(1)
        } else {
            max
        };
        let mut taken = Vec::new();
        {
            let local = lock(&s.local);
            while taken.len() < max {
                if let Some(t) = local.pop() {
                    taken.push((t, false));
                } else if let Some(t) = s.inbox.pop() {
                    taken.push((t, false));
                } else {
                    break;
                }
            }
            // The injector hands out about half of what it holds per steal; keep stealing until
            // the batch is full (its size already adapts to how long tasks take).
            while taken.len() < max {
                let want = max - taken.len();
                match self
                    .injector
                    .steal_batch_with_limit_and_pop(&local, want.min(64))
                {
                    Steal::Success(t) => {
                        taken.push((t, false));
                        while taken.len() < max {
                            match local.pop() {
                                Some(t) => taken.push((t, false)),
                                None => break,
                            }
                        }
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
            if taken.is_empty() {
                // Steal from the other workers, starting after our own slot.
                let n = self.slots.len();
                'victims: for i in 1..n {
                    let victim = &self.slots[(slot + i) % n];
                    loop {
                        match victim
                            .stealer
                            .steal_batch_with_limit_and_pop(&local, max.min(32))
                        {
                            Steal::Success(t) => {
                                taken.push((t, true));
                                while taken.len() < max {
                                    match local.pop() {
                                        Some(t) => taken.push((t, true)),
                                        None => break,
                                    }
                                }
                                break 'victims;
                            }
                            Steal::Empty => break,
                            Steal::Retry => continue,
                        }
                    }
                }
            }
        }
        if taken.is_empty() {
            return 0;
        }
        let now = Instant::now();
        let mut outstanding = lock(&s.outstanding);
        let mut handed = 0usize;
        let mut waits = Vec::with_capacity(taken.len());
        let mut stolen = 0u64;
        let mut dropped = Vec::new();
        for (task, was_stolen) in taken {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            if self.cancelled_len.load(Ordering::Relaxed) > 0 {
                let mut c = lock(&self.cancelled);
                if c.remove(&key(task.origin, task.id)) {
                    self.cancelled_len.store(c.len(), Ordering::Relaxed);
                    dropped.push(task);
                    continue;
                }
            }
            stolen += u64::from(was_stolen);
            let seq = s.handed.fetch_add(1, Ordering::Relaxed);
            frame::write_task(out, task.origin, task.id, seq, &task.payload);
            if !task.requeued {
                waits.push(now.saturating_duration_since(task.submitted));
            }
            outstanding.insert(
                key(task.origin, task.id),
                Outstanding {
                    task,
                    seq,
                    cancelled: false,
                },
            );
            handed += 1;
        }
        drop(outstanding);
        if !dropped.is_empty() {
            self.report_dropped(&dropped);
        }
        s.stats.stolen.fetch_add(stolen, Ordering::Relaxed);
        lock(&self.hist).record_waits(&waits);
        handed
    }

    /// Tells the submitters of cancelled tasks that were dropped unrun: an empty completion
    /// record each (no result), after which the submitter may reuse the id.
    fn report_dropped(&self, dropped: &[Task]) {
        let mut to_main = false;
        for t in dropped {
            if t.origin == MAIN {
                frame::write_main_completion(&mut lock(&self.main_out), t.id, &[]);
                to_main = true;
            } else {
                self.deliver_to_worker(t.origin, |buf| {
                    frame::write_worker_completion(buf, t.id, &[])
                });
            }
        }
        if to_main {
            self.notify_main();
        }
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

    /// Records the task module's function export names (reported by each worker that loads it).
    pub fn set_exports(&self, exports: Vec<String>) {
        let mut names = lock(&self.names);
        names.exports = Some(exports.iter().cloned().collect());
        names.export_list = exports;
    }

    /// The task module's function exports (empty until a worker has loaded the module).
    pub fn exports(&self) -> Vec<String> {
        lock(&self.names).export_list.clone()
    }

    /// Completion records from the worker in `slot` (see [`frame`]): each goes to the thread
    /// that submitted the task.
    pub fn complete(&self, slot: usize, records: &[u8]) -> Result<()> {
        let s = self.slot(slot)?;
        let done = frame::parse_complete(records)?;
        {
            let mut outstanding = lock(&s.outstanding);
            for c in &done {
                outstanding.remove(&key(c.origin, c.id));
            }
        }
        let mut runs = Vec::with_capacity(done.len());
        let mut main_buf = None;
        let (mut completed, mut failed, mut busy) = (0u64, 0u64, 0u64);
        for c in &done {
            let run = Duration::from_secs_f64(f64::from(c.run_ms.max(0.0)) / 1e3);
            busy += run.as_nanos() as u64;
            runs.push(run);
            if c.failed {
                failed += 1;
            } else {
                completed += 1;
            }
            if c.local {
                continue;
            }
            if c.origin == MAIN {
                let buf = main_buf.get_or_insert_with(|| lock(&self.main_out));
                frame::write_main_completion(buf, c.id, c.payload);
            } else {
                self.deliver_to_worker(c.origin, |buf| {
                    frame::write_worker_completion(buf, c.id, c.payload)
                });
            }
        }
        drop(main_buf);
        s.stats.completed.fetch_add(completed, Ordering::Relaxed);
        s.stats.failed.fetch_add(failed, Ordering::Relaxed);
        s.stats.busy_ns.fetch_add(busy, Ordering::Relaxed);
        lock(&self.hist).record_runs(&runs);
        self.notify_main();
        Ok(())
    }

    fn deliver_to_worker(&self, origin: Origin, write: impl FnOnce(&mut Vec<u8>)) {
        let Some(s) = self.slots.get(frame::slot_of(origin)) else {
            return;
        };
        if s.origin.load(Ordering::Acquire) != origin {
            return; // that worker incarnation is gone; nobody awaits this any more
        }
        write(&mut lock(&s.completions));
        self.mail_posted(frame::slot_of(origin));
    }

    /// After writing to slot `k`'s completions or control queue: flag the mail and wake the
    /// worker unless it is running (it then collects the mail on its next take).
    fn mail_posted(&self, k: usize) {
        let s = &self.slots[k];
        s.has_mail.store(true, Ordering::SeqCst);
        self.idle.wake_if_waiting(k);
    }

    /// Wakes the worker in `slot` with a signal record (`frame::KIND_SIGNAL`) for the subsystem
    /// `id`/`token` (an actor host): it arrives with the worker's next take. Callers signal once
    /// per batch of work (the actor host's `notified` flag), so this does not dedupe.
    pub fn signal(&self, slot: usize, id: u32, token: u32) -> Result<()> {
        let s = self.slot(slot)?;
        frame::write_signal(&mut lock(&s.signals), id, token);
        self.mail_posted(slot);
        Ok(())
    }

    fn notify_main(&self) {
        if lock(&self.main_out).is_empty() {
            return;
        }
        if !self.main_notified.swap(true, Ordering::AcqRel) {
            if let Some(n) = lock(&self.main_notify).as_ref() {
                n();
            }
        }
    }

    /// Moves every completion for the main thread into `out` (main-completion records) and
    /// re-arms the notification. Called by the main thread from its notifier callback.
    pub fn drain_main(&self, out: &mut Vec<u8>) {
        self.main_notified.store(false, Ordering::Release);
        let mut q = lock(&self.main_out);
        out.extend_from_slice(&q);
        q.clear();
    }

    /// Cancels a task submitted by `origin` (the main thread or a worker incarnation). A task
    /// still waiting is dropped when a worker would take it ([`Cancelled::Queued`]; so is one
    /// that completed already, whose completion is on its way); a task handed to a worker gets an
    /// abort record there ([`Cancelled::Running`]), and is dropped if it comes back unstarted
    /// (handed back, or its worker died). Either way exactly one completion record for
    /// the id still reaches its submitter (the result, a worker-exit failure, or an empty record
    /// for a dropped task), and the submitter must not reuse the id before it arrives.
    pub fn cancel(&self, origin: Origin, id: u32) -> Cancelled {
        let k = key(origin, id);
        for (slot, s) in self.slots.iter().enumerate() {
            let seq = lock(&s.outstanding).get_mut(&k).map(|o| {
                o.cancelled = true;
                o.seq
            });
            if let Some(seq) = seq {
                frame::write_abort(&mut lock(&s.control), origin, id, seq);
                self.mail_posted(slot);
                return Cancelled::Running { slot, seq };
            }
        }
        let mut c = lock(&self.cancelled);
        c.insert(k);
        self.cancelled_len.store(c.len(), Ordering::Relaxed);
        Cancelled::Queued
    }

    /// Forgets a cancellation ([`Cancelled::Queued`]) of a task that turned out to have completed
    /// already.
    pub fn uncancel(&self, origin: Origin, id: u32) {
        let mut c = lock(&self.cancelled);
        c.remove(&key(origin, id));
        self.cancelled_len.store(c.len(), Ordering::Relaxed);
    }

    /// The worker in `slot` died. Tasks it had started fail; tasks it had been handed but not
    /// started (`started` = how many tasks this incarnation had begun, counted by the worker) and
    /// everything in its deque and inbox run elsewhere. Returns the ids of main-thread tasks that failed (the main thread
    /// rejects them); failures of tasks spawned by other workers are delivered to them.
    pub fn worker_lost(&self, slot: usize, started: u32, exit_payload: &[u8]) -> Result<Vec<u32>> {
        self.slot(slot)?
            .stats
            .restarts
            .fetch_add(1, Ordering::Relaxed);
        self.detach(slot, started, exit_payload)
    }

    /// The worker in `slot` ended on purpose (idle timeout): the same accounting as
    /// [`Pool::worker_lost`] (normally there is nothing to account for), without counting a
    /// restart.
    pub fn worker_retired(
        &self,
        slot: usize,
        started: u32,
        exit_payload: &[u8],
    ) -> Result<Vec<u32>> {
        self.detach(slot, started, exit_payload)
    }

    /// `queued` counts exactly the tasks that sit in the injector, a deque or an inbox: it rises
    /// when a task is put there (submit, give-back, requeue after a crash) and falls when a task
    /// leaves for good (handed to a worker, dropped). A crash must keep it so, or `maxQueue`
    /// would refuse work for tasks that no longer exist.
    fn detach(&self, slot: usize, started: u32, exit_payload: &[u8]) -> Result<Vec<u32>> {
        let s = self.slot(slot)?;
        let dead = s.origin.swap(0, Ordering::AcqRel);
        self.idle.detach(slot);
        // Spawned by the dead worker itself: nobody awaits it any more.
        let orphaned = |t: &Task| dead != 0 && t.origin == dead;
        let handed: Vec<Outstanding> = lock(&s.outstanding).drain().map(|(_, o)| o).collect();
        let mut failed_main = Vec::new();
        // Tasks the worker had been handed (no longer counted as queued) and had not started.
        let mut requeue = Vec::new();
        let mut cancelled = Vec::new();
        for o in handed {
            if orphaned(&o.task) {
                continue;
            }
            if o.seq >= started && o.cancelled {
                cancelled.push(o.task);
            } else if o.seq >= started {
                let mut task = o.task;
                task.requeued = true; // its wait time is recorded already
                requeue.push(task);
            } else if o.task.origin == MAIN {
                failed_main.push(o.task.id);
            } else {
                self.deliver_to_worker(o.task.origin, |buf| {
                    frame::write_worker_completion(buf, o.task.id, exit_payload)
                });
            }
        }
        self.queued.fetch_add(requeue.len(), Ordering::Relaxed);
        if !cancelled.is_empty() {
            self.report_dropped(&cancelled);
        }
        // Tasks still waiting in its deque and inbox are counted as queued already: they move
        // to the injector as they are, or leave the count when nobody awaits them.
        let mut waiting = Vec::new();
        {
            let local = lock(&s.local);
            while let Some(t) = local.pop() {
                waiting.push(t);
            }
        }
        while let Some(t) = s.inbox.pop() {
            waiting.push(t);
        }
        let mut dropped = 0;
        for t in waiting {
            if orphaned(&t) {
                dropped += 1;
            } else {
                requeue.push(t);
            }
        }
        self.queued.fetch_sub(dropped, Ordering::Relaxed);
        if dead != 0 && self.cancelled_len.load(Ordering::Relaxed) > 0 {
            // Cancellations of its own children: those children are gone or will run unawaited.
            let mut c = lock(&self.cancelled);
            c.retain(|k| (k >> 32) as Origin != dead);
            self.cancelled_len.store(c.len(), Ordering::Relaxed);
        }
        lock(&s.completions).clear();
        lock(&s.control).clear();
        let n = requeue.len();
        for t in requeue {
            self.injector.push(t);
        }
        if n > 0 {
            self.idle.wake_one();
        }
        Ok(failed_main)
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

    /// A snapshot of the counters and histograms.
    pub fn stats(&self) -> PoolStats {
        let elapsed = self.started.elapsed().as_nanos().max(1) as f64;
        let slots: Vec<SlotStats> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| SlotStats {
                index: i,
                completed: s.stats.completed.load(Ordering::Relaxed),
                failed: s.stats.failed.load(Ordering::Relaxed),
                stolen: s.stats.stolen.load(Ordering::Relaxed),
                running: lock(&s.outstanding).len(),
                restarts: s.stats.restarts.load(Ordering::Relaxed),
                busy: s.stats.busy_ns.load(Ordering::Relaxed) as f64 / elapsed,
            })
            .collect();
        let hist = lock(&self.hist);
        PoolStats {
            threads: self.slots.len(),
            queued: self.queued(),
            running: slots.iter().map(|s| s.running).sum(),
            completed: slots.iter().map(|s| s.completed).sum(),
            failed: slots.iter().map(|s| s.failed).sum(),
            stolen: slots.iter().map(|s| s.stolen).sum(),
            utilization: slots.iter().map(|s| s.busy).sum::<f64>() / self.slots.len() as f64,
            wait: hist.wait(),
            run: hist.run(),
            slots,
        }
    }
}
