//! Loom model checks of weft-core's lock-free code: every interleaving (up to the preemption
//! bound, `LOOM_MAX_PREEMPTIONS=3` in `npm run test:loom`) of a few threads, under the C11 memory
//! model as loom implements it, with crossbeam-epoch's collector modelled too.
//!
//! Each test drives the code that runs, compiled against loom through `crate::sync`: the Treiber
//! stack; the pool's idle/wake handshake (`pool::idle::Idle`, with its `Parker`); the actor
//! run-state flag (`RunState`) and host wake-up (`HostWake`); the mailbox waiters (`WaitList`,
//! and `Mailbox` and `ActorSystem` around them); the shared queue's waiters and close (`Waiters`,
//! `Queue`). The handshake types are reachable from here
//! through `weft_core::model`, which exists only under `--cfg loom`.
//!
//! What loom cannot see is stood in for by modelled atomics with the weakest orderings the real
//! thing provides (the queues: crossbeam's deques, `SegQueue` and `ArrayQueue` are not
//! loom-aware). What loom can and cannot check is written down in `src/pool/README.md`.
//!
//! Run: `npm run test:loom` (RUSTFLAGS="--cfg loom --cfg crossbeam_loom", release mode).
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::Arc as StdArc;
use std::time::Duration;
use weft_core::actor::{envelope, ActorSystem, Delivery};
use weft_core::mailbox::{Mailbox, Overflow, Sent};
use weft_core::model::{HostWake, Idle, Idled, RunState, WaitList};
use weft_core::pool::Wait;
use weft_core::queue::{Queue, Waiter, Waiters};
use weft_core::stack::TreiberStack;

/// Two threads push concurrently; every value is there exactly once, in a LIFO order consistent
/// with each thread's own order.
#[test]
fn concurrent_push() {
    loom::model(|| {
        let s = Arc::new(TreiberStack::new());
        let s1 = s.clone();
        let t = thread::spawn(move || {
            s1.push(1);
            s1.push(2);
        });
        s.push(10);
        t.join().unwrap();
        let mut all = Vec::new();
        while let Some(v) = s.pop() {
            all.push(v);
        }
        assert_eq!(all.len(), 3);
        let p2 = all.iter().position(|&v| v == 2).unwrap();
        let p1 = all.iter().position(|&v| v == 1).unwrap();
        assert!(p2 < p1, "per-thread LIFO order broken: {all:?}");
        assert!(all.contains(&10));
    });
}

/// A push-then-pop racing a pop: no value is lost or duplicated, and a pop never sees freed
/// memory (crossbeam-epoch's deferred frees are modelled).
#[test]
fn push_races_pop() {
    loom::model(|| {
        let s = Arc::new(TreiberStack::new());
        s.push(1u32);
        let s1 = s.clone();
        let t = thread::spawn(move || {
            s1.push(2);
            s1.pop()
        });
        let mine = s.pop();
        let theirs = t.join().unwrap();
        let mut got: Vec<u32> = [mine, theirs, s.pop(), s.pop()]
            .into_iter()
            .flatten()
            .collect();
        got.sort();
        assert_eq!(got, vec![1, 2]);
        assert!(s.pop().is_none());
        assert_eq!(s.len(), 0);
    });
}

/// Elimination: two pushes and a pop race, so that compare-exchanges fail and a push may hand its
/// node to the pop through the elimination slot (or withdraw it) while the other push moves the
/// head. Every value comes out exactly once, whichever way each met, and the offered node is freed
/// once (crossbeam-epoch's deferred frees are modelled). Three threads over the epoch collector
/// make a large model: it is bounded at two preemptions (about two minutes on the 2-core machine;
/// at three it ran past fifteen), which already reaches a failed push offering its node and a
/// failed pop taking it.
#[test]
fn elimination_pairs_a_push_with_a_pop_exactly_once() {
    // Executions in which a push and a pop met in the elimination slot: the model must reach it.
    static MET: StdAtomicUsize = StdAtomicUsize::new(0);
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(2);
    model.check(|| {
        let s = Arc::new(TreiberStack::new());
        s.push(0u32);
        let (s1, s2) = (s.clone(), s.clone());
        let a = thread::spawn(move || s1.push(1));
        let b = thread::spawn(move || s2.pop());
        s.push(2);
        a.join().unwrap();
        let popped = b.join().unwrap();
        let mut got: Vec<u32> = popped.into_iter().collect();
        while let Some(v) = s.pop() {
            got.push(v);
        }
        got.sort();
        assert_eq!(got, vec![0, 1, 2]);
        assert_eq!(s.len(), 0);
        if s.eliminated() > 0 {
            MET.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(
        MET.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "no execution went through the elimination slot"
    );
}

/// Peek racing pop of a heap-owning value: peek's clone must happen before the value is freed.
#[test]
fn peek_races_pop() {
    loom::model(|| {
        let s = Arc::new(TreiberStack::new());
        s.push(String::from("a"));
        let s1 = s.clone();
        let t = thread::spawn(move || s1.pop());
        let peeked = s.peek();
        assert!(peeked.is_none() || peeked.as_deref() == Some("a"));
        assert_eq!(t.join().unwrap().as_deref(), Some("a"));
        assert!(s.pop().is_none());
    });
}

/// A batch push is atomic: a concurrent pop sees either none of it or its top value.
#[test]
fn push_many_is_atomic() {
    loom::model(|| {
        let s = Arc::new(TreiberStack::new());
        let s1 = s.clone();
        let t = thread::spawn(move || s1.push_many([1u8, 2]));
        let popped = s.pop();
        assert!(popped.is_none() || popped == Some(2), "saw {popped:?}");
        assert_eq!(t.join().unwrap(), 2);
        let rest: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        match popped {
            None => assert_eq!(rest, vec![2, 1]),
            Some(_) => assert_eq!(rest, vec![1]),
        }
    });
}

/// clear racing a push: every value ends up exactly once, cleared or still there.
#[test]
fn clear_races_push() {
    loom::model(|| {
        let s = Arc::new(TreiberStack::new());
        s.push(1u8);
        let s1 = s.clone();
        let pusher = thread::spawn(move || s1.push(2));
        let cleared = s.clear();
        pusher.join().unwrap();
        let left: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(cleared + left.len(), 2);
        assert!(
            cleared >= 1,
            "the value pushed before clear must be cleared"
        );
        assert_eq!(s.len(), 0);
    });
}

/// clear racing a pop: the value goes to exactly one of them.
#[test]
fn clear_races_pop() {
    loom::model(|| {
        let s = Arc::new(TreiberStack::new());
        s.push(String::from("x"));
        let s1 = s.clone();
        let popper = thread::spawn(move || s1.pop());
        let cleared = s.clear();
        let popped = popper.join().unwrap();
        assert_eq!(cleared + usize::from(popped.is_some()), 1);
        assert!(s.pop().is_none());
        assert_eq!(s.len(), 0);
    });
}

/// How the workers in these models wait. Loom has no clock: a park's deadline passes only once
/// the model calls `Idle::time_passes`, which each model does after it sent every wake-up it
/// owes. A park that ends by its deadline then makes `Idle::wait` return `Idled::Return`: the
/// worker was left to a park timeout (a lost wake-up; without the clock, loom would report a
/// deadlock, and abort while tearing down the blocked threads).
const PARK: Wait = Wait::Park(Duration::from_secs(3600));

/// `Pool::take`'s loop around the real [`Idle`], for the worker in `slot`: `take()` stands for
/// `find_work` + `collect_mail` (true: it got something), `look(order)` for the `look` the pool
/// passes to `Idle::wait`. Returns true once it got something, false if `wait` returned (an
/// event-loop wait registered, or a park ended by its deadline).
fn worker_loop(
    idle: &Idle,
    slot: usize,
    wait: Wait,
    take: impl Fn() -> bool,
    look: impl Fn(std::sync::atomic::Ordering) -> bool,
) -> bool {
    let mut spun = false;
    loop {
        idle.running(slot);
        if take() {
            return true;
        }
        match idle.wait(slot, wait, &mut spun, &look, || false) {
            Idled::LookAgain => {}
            Idled::Return => return false,
        }
    }
}

/// Runs a model of the pool handshake whose executions return whether every worker got its work
/// or its wake-up (true) or one was left waiting unwoken (false), and fails the test if any was.
/// It counts outside the model instead of panicking inside it: a panic there makes loom tear down
/// crossbeam-epoch's modelled collector (behind the sleeper stack) outside the model, which
/// aborts the whole test binary instead of failing this test.
fn model_wakes(f: impl Fn() -> bool + Sync + Send + 'static) {
    let lost = StdArc::new(StdAtomicUsize::new(0));
    let count = lost.clone();
    loom::model(move || {
        if !f() {
            count.fetch_add(1, Relaxed);
        }
    });
    let n = lost.load(Relaxed);
    assert_eq!(
        n, 0,
        "{n} interleavings left a worker waiting unwoken: a lost wake-up"
    );
}

/// The pool's idle/wake handshake on the real [`Idle`] (`pool/idle.rs`), the injector stood in
/// for by a modelled counter: a worker that finds nothing spins (one look, counted as spinning),
/// registers as a sleeper, looks once more and parks; a submit publishes its work and calls
/// `wake_one`, which wakes a listed sleeper unless a worker is spinning. In every interleaving
/// the worker takes the work: it is never left to a park timeout.
#[test]
fn pool_submit_never_waits_for_a_park_timeout() {
    model_wakes(|| {
        let idle = Arc::new(Idle::new(1));
        idle.attach(0, Box::new(|| {}));
        let work = Arc::new(AtomicUsize::new(0));
        let (i2, w2) = (idle.clone(), work.clone());
        let worker = thread::spawn(move || {
            worker_loop(
                &i2,
                0,
                PARK,
                || w2.load(Acquire) > 0,
                |_| w2.load(Acquire) > 0,
            )
        });
        work.store(1, Release); // Pool::submit: the injector push
        idle.wake_one();
        idle.time_passes();
        worker.join().unwrap()
    });
}

/// Mail for one worker (a completion, an abort, a signal): `Pool::mail_posted` sets the slot's
/// mail flag and calls `wake_if_waiting`. The parked (or parking) worker always gets it.
///
/// `Pool::collect_mail` takes the flag with a swap; here the worker reads it with a load (this
/// model posts one mail, so nothing needs clearing). A swap racing the poster's store trips loom
/// 0.7's known false alarm (tokio-rs/loom#254: a read-modify-write is not kept atomic against a
/// concurrent store, so a later swap may read the earlier swap's value): the model then reports
/// a lost wake-up that C11 rules out.
#[test]
fn pool_mail_never_waits_for_a_park_timeout() {
    model_wakes(|| {
        let idle = Arc::new(Idle::new(1));
        idle.attach(0, Box::new(|| {}));
        let mail = Arc::new(AtomicBool::new(false));
        let (i2, m2) = (idle.clone(), mail.clone());
        let worker =
            thread::spawn(move || worker_loop(&i2, 0, PARK, || m2.load(Acquire), |o| m2.load(o)));
        mail.store(true, SeqCst);
        idle.wake_if_waiting(0);
        idle.time_passes();
        worker.join().unwrap()
    });
}

/// A worker with async tasks in flight waits in its event loop (`Wait::EventLoop`): `take`
/// registers it and returns; a submit must then run its waker, unless the worker saw the work.
#[test]
fn pool_event_loop_waiter_is_woken() {
    model_wakes(|| {
        let idle = Arc::new(Idle::new(1));
        let woken = Arc::new(AtomicBool::new(false));
        let k = woken.clone();
        idle.attach(0, Box::new(move || k.store(true, Release)));
        let work = Arc::new(AtomicUsize::new(0));
        let (i2, w2) = (idle.clone(), work.clone());
        let worker = thread::spawn(move || {
            let look = || w2.load(Acquire) > 0;
            worker_loop(&i2, 0, Wait::EventLoop, look, |_| look())
        });
        work.store(1, Release);
        idle.wake_one();
        // Taken, or waiting in its event loop with the waker run.
        worker.join().unwrap() || woken.load(Acquire)
    });
}

/// A worker at its `concurrentTasksPerWorker` cap waits with `Wait::Capped`: registered for its
/// mail (a completion of a task it forked) without being listed as a sleeper. Mail posted with
/// `wake_if_waiting` runs its waker unless the worker saw the mail itself.
#[test]
fn pool_capped_waiter_is_woken_for_mail() {
    model_wakes(|| {
        let idle = Arc::new(Idle::new(1));
        let woken = Arc::new(AtomicBool::new(false));
        let k = woken.clone();
        idle.attach(0, Box::new(move || k.store(true, Release)));
        let mail = Arc::new(AtomicBool::new(false));
        let (i2, m2) = (idle.clone(), mail.clone());
        let worker = thread::spawn(move || {
            worker_loop(&i2, 0, Wait::Capped, || m2.load(Acquire), |o| m2.load(o))
        });
        mail.store(true, SeqCst);
        idle.wake_if_waiting(0);
        worker.join().unwrap() || woken.load(Acquire)
    });
}

/// New work never goes to a capped worker: with worker 0 capped and worker 1 idle in its event
/// loop, a submit's `wake_one` wakes worker 1 (or worker 1 saw the work), whatever worker 0 does.
#[test]
fn pool_submit_wakes_a_waiting_worker_not_a_capped_one() {
    model_wakes(|| {
        let idle = Arc::new(Idle::new(2));
        idle.attach(0, Box::new(|| {}));
        let woken1 = Arc::new(AtomicBool::new(false));
        let k = woken1.clone();
        idle.attach(1, Box::new(move || k.store(true, Release)));
        let work = Arc::new(AtomicUsize::new(0));
        let (i0, i1, w1) = (idle.clone(), idle.clone(), work.clone());
        // Worker 0 is capped: it looks for forked tasks and mail only (none come).
        let capped = thread::spawn(move || worker_loop(&i0, 0, Wait::Capped, || false, |_| false));
        let waiting = thread::spawn(move || {
            let look = || w1.load(Acquire) > 0;
            worker_loop(&i1, 1, Wait::EventLoop, look, |_| look())
        });
        work.store(1, Release);
        idle.wake_one();
        let took = waiting.join().unwrap();
        let _ = capped.join().unwrap();
        took || woken1.load(Acquire)
    });
}

/// Fan-out: two tasks submitted at once while worker 0 is idle. The submit wakes one sleeper (or
/// none, while a worker spins); a worker that takes a task and sees more wakes the next
/// (`Pool::take`). Here the submitting thread then works as worker 1 itself (two threads keep the
/// model small): each worker takes one task, and worker 0 is never left parked.
#[test]
fn pool_fan_out_wakes_the_next_worker() {
    model_wakes(|| {
        let idle = Arc::new(Idle::new(2));
        idle.attach(0, Box::new(|| {}));
        idle.attach(1, Box::new(|| {}));
        let work = Arc::new(AtomicUsize::new(0));
        let take = |idle: &Idle, work: &AtomicUsize| {
            let took = work
                .fetch_update(AcqRel, Acquire, |n| n.checked_sub(1))
                .is_ok();
            if took && work.load(Acquire) > 0 {
                idle.wake_one(); // more work than it took
            }
            took
        };
        let (i2, w2) = (idle.clone(), work.clone());
        let worker = thread::spawn(move || {
            worker_loop(&i2, 0, PARK, || take(&i2, &w2), |_| w2.load(Acquire) > 0)
        });
        work.fetch_add(2, Release); // Pool::submit of two tasks
        idle.wake_one();
        let me = worker_loop(
            &idle,
            1,
            PARK,
            || take(&idle, &work),
            |_| work.load(Acquire) > 0,
        );
        idle.time_passes();
        me & worker.join().unwrap()
    });
}

/// The `wait` policy's handshake on the real [`WaitList`], with the bounded queue of capacity 1
/// stood in for by one modelled slot (crossbeam's `ArrayQueue` is not loom-aware), full at the
/// start: a refused sender registers and tries once more; the receiver frees the slot and calls
/// `room_made`. In every interleaving the sender either gets its message in or is told.
#[test]
fn mailbox_wait_list_never_forgets_a_sender() {
    loom::model(|| {
        let slot = Arc::new(AtomicBool::new(true)); // full
        let waiters = Arc::new(WaitList::new());
        let told = Arc::new(AtomicBool::new(false));
        let t = told.clone();
        waiters.set_on_room(Box::new(move || t.store(true, Release)));
        let (s2, w2) = (slot.clone(), waiters.clone());
        let receiver = thread::spawn(move || {
            if s2.compare_exchange(true, false, AcqRel, Acquire).is_ok() {
                w2.room_made();
            }
        });
        // Like `ArrayQueue::push`, the sender finds the queue full by a load.
        let push =
            || !slot.load(Acquire) && slot.compare_exchange(false, true, AcqRel, Acquire).is_ok();
        // The sender's first try finds the slot full (it starts full).
        let queued = push() || {
            waiters.register();
            push()
        };
        receiver.join().unwrap();
        assert!(
            queued || told.load(Acquire),
            "the sender was refused and never told about the room"
        );
    });
}

/// The same through the real `Mailbox` (`send` / `recv` of a full `wait` mailbox of capacity 1).
/// Its `ArrayQueue` is not modelled (each push or pop is one step, sequentially consistent), so
/// this checks how the mailbox uses its `WaitList`, not the fences (the test above does).
#[test]
fn mailbox_wait_sender_is_queued_or_told() {
    loom::model(|| {
        let m = Arc::new(Mailbox::bounded(1, Overflow::Wait).unwrap());
        let told = Arc::new(AtomicBool::new(false));
        let t = told.clone();
        m.set_on_room(Box::new(move || t.store(true, Release)));
        assert_eq!(m.send(1u8), Sent::Queued);
        let m2 = m.clone();
        let receiver = thread::spawn(move || m2.recv());
        let sent = m.send(2);
        assert_eq!(receiver.join().unwrap(), Some(1));
        match sent {
            Sent::Queued => assert_eq!(m.recv(), Some(2)),
            Sent::Full(_) => assert!(told.load(Acquire), "refused and never told"),
            other => panic!("unexpected {other:?}"),
        }
    });
}

/// The scheduling handshake of an actor on the real [`RunState`] (`ActorSystem::schedule` /
/// `release` in `src/actor/`), the mailbox stood in for by a modelled counter (its `SegQueue` is
/// not loom-aware): a sender queues a message and calls `schedule`; the host, which is running
/// the actor's previous batch, calls `release`, which looks at the mailbox after it stored `IDLE`.
/// In every interleaving the new message ends up scheduled exactly once, never stranded in an
/// idle mailbox and never scheduled twice.
#[test]
fn actor_run_state_never_strands_a_message() {
    loom::model(|| {
        let queued = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(RunState::new());
        // The host is running the actor's previous batch.
        assert!(state.schedule() && state.start());
        let pushes = Arc::new(AtomicUsize::new(0)); // ready-queue pushes
        let (q2, s2, p2) = (queued.clone(), state.clone(), pushes.clone());
        let sender = thread::spawn(move || {
            q2.store(1, Release); // the mailbox push
            if s2.schedule() {
                p2.fetch_add(1, Relaxed);
            }
        });
        if state.release(|| queued.load(Acquire) > 0) {
            pushes.fetch_add(1, Relaxed);
        }
        sender.join().unwrap();
        assert_eq!(
            pushes.load(Relaxed),
            1,
            "the message must be scheduled exactly once"
        );
        assert!(state.start(), "the actor must be SCHEDULED");
    });
}

/// A real [`HostWake`] whose callback counts its calls.
fn counted_wake() -> (Arc<HostWake>, Arc<AtomicUsize>) {
    let wake = Arc::new(HostWake::new());
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    wake.set(Box::new(move || {
        w.fetch_add(1, Relaxed);
    }));
    (wake, wakes)
}

/// A sender thread that queues something (a modelled ready counter) and then wakes `wake`.
fn queue_and_wake(wake: &Arc<HostWake>) -> (Arc<AtomicUsize>, thread::JoinHandle<()>) {
    let ready = Arc::new(AtomicUsize::new(0));
    let (r2, k2) = (ready.clone(), wake.clone());
    let sender = thread::spawn(move || {
        r2.store(1, Release);
        k2.wake();
    });
    (ready, sender)
}

/// The host wake-up on the real [`HostWake`] (`Host::wake` and the `rearm` at the top of
/// `ActorSystem::drain`), the ready queue stood in for by a modelled counter: a sender queues an
/// actor, then calls `wake`; the host, handling a previous wake-up, calls `rearm` and then looks
/// at the ready queue. The host never ends with the actor unseen and no wake-up pending.
#[test]
fn actor_host_wake_is_never_lost() {
    loom::model(|| {
        let (wake, wakes) = counted_wake();
        wake.wake(); // a previous wake-up, being handled
        let (ready, sender) = queue_and_wake(&wake);
        wake.rearm();
        let seen = ready.load(Acquire) > 0;
        sender.join().unwrap();
        assert!(
            seen || wakes.load(Relaxed) == 2,
            "the ready actor was neither seen nor announced"
        );
    });
}

/// The host's spin before it sleeps, on the real [`HostWake::spin_wait`] (the main thread with
/// asks in flight, after a drain found nothing): a sender queues an actor and calls `wake` while
/// the host spins (under loom, one look) and then gives up. Whatever the interleaving, the host
/// either sees the work (`spin_wait` returns true: it drains) or the sender runs the wake-up
/// callback (the sender's swap read the flag clear again).
#[test]
fn actor_host_spin_wait_never_sleeps_on_work() {
    loom::model(|| {
        let (wake, wakes) = counted_wake();
        wake.rearm(); // the drain that found nothing
        let (ready, sender) = queue_and_wake(&wake);
        let seen = wake.spin_wait(|| ready.load(Acquire) > 0);
        sender.join().unwrap();
        assert!(
            seen || wakes.load(Relaxed) == 1,
            "the host went to sleep on queued work with no wake-up coming"
        );
    });
}

/// Both handshakes together in the real `ActorSystem`: a message sent while its host releases
/// the actor (`drain` with the actor in `released`) is drained exactly once, in that drain or
/// in the next one, which a wake-up then announces. (Its queues are not loom-aware; the two
/// tests above check the orderings.)
#[test]
fn actor_system_delivers_a_message_sent_during_release() {
    loom::model(|| {
        let sys = Arc::new(ActorSystem::new(1).unwrap());
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        sys.set_notify(
            0,
            Box::new(move || {
                w.fetch_add(1, Relaxed);
            }),
        )
        .unwrap();
        let a = sys.create(0, None, None).unwrap();
        let tell = |n: u8| vec![envelope::TELL, n].into_boxed_slice();
        assert_eq!(sys.send(0, a, false, tell(1)), Delivery::Queued);
        let mut out = Vec::new();
        assert_eq!(sys.drain(0, &[], 8, 8, &mut out).unwrap(), 1); // a is RUNNING
        let s2 = sys.clone();
        let sender = thread::spawn(move || s2.send(0, a, false, tell(2)));
        out.clear();
        let first = sys.drain(0, &[a], 8, 8, &mut out).unwrap();
        assert_eq!(sender.join().unwrap(), Delivery::Queued);
        if first == 0 {
            assert_eq!(
                wakes.load(Relaxed),
                2,
                "queued after the release: a wake-up is due"
            );
        }
        out.clear();
        let second = sys.drain(0, &[a], 8, 8, &mut out).unwrap();
        assert_eq!(first + second, 1, "drained exactly once");
    });
}

/// The shared queue's waiter handshake on the real [`Waiters`] (`queue.rs`), the queue stood in
/// for by one modelled slot (crossbeam's queues are not loom-aware): a consumer that finds it
/// empty arms and looks once more; the producer fills the slot and calls `wake_all`. In every
/// interleaving the consumer either sees the item or is woken.
#[test]
fn queue_waiters_never_miss_an_item() {
    loom::model(|| {
        let slot = Arc::new(AtomicBool::new(false));
        let waiters = Arc::new(Waiters::new());
        let told = Arc::new(AtomicBool::new(false));
        let t = told.clone();
        let w = Waiter::new(Box::new(move || t.store(true, Release)));
        let (s2, w2) = (slot.clone(), waiters.clone());
        let producer = thread::spawn(move || {
            s2.store(true, Release);
            w2.wake_all();
        });
        let found = slot.load(Acquire) || {
            waiters.arm(&w);
            slot.load(Acquire)
        };
        producer.join().unwrap();
        assert!(
            found || told.load(Acquire),
            "the consumer found nothing and was never woken"
        );
    });
}

/// An async consumer of the real [`Queue`] (its loop is the one `SharedQueue`'s `popAsync` runs:
/// pop; else, if closed and drained, end; else arm, look again, sleep until woken) against a
/// producer that pushes two items and a thread that closes the queue meanwhile. The consumer
/// gets every item that was queued, exactly once, in order, and always ends: neither a wake-up
/// nor the end is lost, whichever way the push, the close and the consumer's looks interleave.
/// (The queue's crossbeam internals are one step each here; `queue_waiters_never_miss_an_item`
/// checks the fences. The bounded lane, `ArrayQueue`: `SegQueue` snoozes in crossbeam-utils'
/// `Backoff`, which is a loom yield under `crossbeam_loom`, so its block installation spins
/// under the model; the close/wake protocol around the lane is the same for both.)
#[test]
fn queue_consumer_gets_every_item_and_the_end() {
    loom::model(|| {
        let q = Arc::new(Queue::<u8>::bounded(4).unwrap());
        // The consumer's event loop: a wake-up not taken yet is kept (loom's `Notify`), and a
        // consumer left waiting with nobody to wake it is a deadlock loom reports.
        let woken = Arc::new(loom::sync::Notify::new());
        let wk = woken.clone();
        let w = Waiter::new(Box::new(move || wk.notify()));
        let (qp, qc) = (q.clone(), q.clone());
        let producer = thread::spawn(move || {
            let a = qp.push(1).is_ok();
            let b = qp.push(2).is_ok();
            (a, b)
        });
        let closer = thread::spawn(move || {
            qc.close();
        });
        let mut got = Vec::new();
        loop {
            if let Some(v) = q.pop() {
                got.push(v);
                continue;
            }
            if q.drained() {
                if let Some(v) = q.pop() {
                    got.push(v);
                    continue;
                }
                break;
            }
            q.wait_for_item(&w);
            if let Some(v) = q.pop() {
                got.push(v);
                continue;
            }
            if q.drained() {
                continue;
            }
            woken.wait();
        }
        let (a, b) = producer.join().unwrap();
        closer.join().unwrap();
        let expected: Vec<u8> = [(a, 1), (b, 2)]
            .into_iter()
            .filter(|&(ok, _)| ok)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(got, expected);
        assert!(q.pop().is_none());
    });
}
