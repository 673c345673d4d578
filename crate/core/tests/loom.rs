//! Loom model checks of the Treiber stack: every interleaving (up to the preemption bound) of a
//! few threads, under the C11 memory model, with crossbeam-epoch's collector modelled too.
//!
//! Run: `npm run test:loom` (RUSTFLAGS="--cfg loom --cfg crossbeam_loom", release mode).
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use loom::sync::Arc;
use loom::thread;
use weft_core::actor::{envelope, ActorSystem, Delivery};
use weft_core::mailbox::{Mailbox, Overflow, Sent};
use weft_core::model::{HostWake, RunState, WaitList};
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

/// The pool's idle/wake handshake (`Pool::spin`, `register_idle`, `wake_one` in
/// `pool/mod.rs`), modelled with the same atomics and orderings: a worker spins (counted in
/// `spinning`), stops, lists itself idle and looks once more before it parks; a submit publishes
/// its work and wakes a listed sleeper unless a worker is spinning. In every interleaving the
/// worker either takes the work or is woken for it: a submit is never left to a park timeout.
#[test]
fn pool_wake_handshake_loses_no_submit() {
    use loom::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering::*};
    const RUNNING: u8 = 0;
    const SPINNING: u8 = 3;
    const PARKED: u8 = 1;
    struct Shared {
        work: AtomicUsize,
        spinning: AtomicUsize,
        state: AtomicU8,
        listed: AtomicBool,
        woken: AtomicBool,
    }
    loom::model(|| {
        let s = Arc::new(Shared {
            work: AtomicUsize::new(0),
            spinning: AtomicUsize::new(0),
            state: AtomicU8::new(RUNNING),
            listed: AtomicBool::new(false),
            woken: AtomicBool::new(false),
        });
        let w = s.clone();
        let worker = thread::spawn(move || {
            // spin: one look for work while counted as spinning.
            w.spinning.fetch_add(1, SeqCst);
            w.state.store(SPINNING, Release);
            let found = w.work.load(Acquire) > 0;
            w.spinning.fetch_sub(1, SeqCst);
            if found {
                return true;
            }
            // register_idle
            w.state.store(PARKED, SeqCst);
            w.listed.swap(true, AcqRel);
            fence(SeqCst);
            if w.work.load(SeqCst) > 0 {
                w.state.store(RUNNING, SeqCst);
                return true;
            }
            false // parks
        });
        // submit + wake_one
        s.work.fetch_add(1, Release);
        fence(SeqCst);
        if s.spinning.load(SeqCst) == 0
            && s.listed.swap(false, AcqRel)
            && s.state.load(Acquire) != RUNNING
        {
            s.woken.store(true, Release);
        }
        let took = worker.join().unwrap();
        assert!(
            took || s.woken.load(Acquire),
            "the worker parked and nobody woke it for the submitted work"
        );
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

/// The host wake-up on the real [`HostWake`] (`Host::wake` and the `rearm` at the top of
/// `ActorSystem::drain`), the ready queue stood in for by a modelled counter: a sender queues an
/// actor, then calls `wake`; the host, handling a previous wake-up, calls `rearm` and then looks
/// at the ready queue. The host never ends with the actor unseen and no wake-up pending.
#[test]
fn actor_host_wake_is_never_lost() {
    loom::model(|| {
        let ready = Arc::new(AtomicUsize::new(0));
        let wake = Arc::new(HostWake::new());
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        wake.set(Box::new(move || {
            w.fetch_add(1, Relaxed);
        }));
        wake.wake(); // a previous wake-up, being handled
        let (r2, k2) = (ready.clone(), wake.clone());
        let sender = thread::spawn(move || {
            r2.store(1, Release);
            k2.wake();
        });
        wake.rearm();
        let seen = ready.load(Acquire) > 0;
        sender.join().unwrap();
        assert!(
            seen || wakes.load(Relaxed) == 2,
            "the ready actor was neither seen nor announced"
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
