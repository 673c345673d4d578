//! The scheduler driven by plain Rust threads standing in for JavaScript workers.
#![cfg(not(loom))]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use weft_core::error::Code;
use weft_core::pool::frame::{KIND_ABORT, KIND_COMPLETION, KIND_TASK};
use weft_core::pool::{Cancelled, Pool, Taken, Wait, MAIN};

fn submit_record(out: &mut Vec<u8>, id: u32, target: i32, payload: &[u8]) {
    out.extend_from_slice(&(8 + payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&target.to_le_bytes());
    out.extend_from_slice(payload);
}

fn complete_record(out: &mut Vec<u8>, origin: u32, id: u32, payload: &[u8]) {
    out.extend_from_slice(&(13 + payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&origin.to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&0.01f32.to_bits().to_le_bytes());
    out.extend_from_slice(payload);
}

struct TakeRecord {
    kind: u8,
    origin: u32,
    id: u32,
    body: Vec<u8>,
}

fn parse_take(buf: &[u8]) -> Vec<TakeRecord> {
    let mut at = 0;
    let mut out = Vec::new();
    let u32_at = |i: usize| u32::from_le_bytes(buf[i..i + 4].try_into().unwrap());
    while at < buf.len() {
        let kind = buf[at];
        let len = u32_at(at + 1) as usize;
        let body = &buf[at + 5..at + 5 + len];
        let (origin, id, rest) = match kind {
            KIND_TASK => (
                u32::from_le_bytes(body[0..4].try_into().unwrap()),
                u32::from_le_bytes(body[4..8].try_into().unwrap()),
                &body[12..],
            ),
            KIND_ABORT => (
                u32::from_le_bytes(body[0..4].try_into().unwrap()),
                u32::from_le_bytes(body[4..8].try_into().unwrap()),
                &body[8..],
            ),
            KIND_COMPLETION => (
                0,
                u32::from_le_bytes(body[0..4].try_into().unwrap()),
                &body[4..],
            ),
            other => panic!("unknown kind {other}"),
        };
        out.push(TakeRecord {
            kind,
            origin,
            id,
            body: rest.to_vec(),
        });
        at += 5 + len;
    }
    out
}

/// Submits tasks 1..=`submitted` from the main thread and lets worker 0 take four of them; returns
/// the ids it was handed.
fn submit_and_hand_out_four(pool: &Pool, submitted: u32) -> Vec<u32> {
    let mut buf = Vec::new();
    for id in 1..=submitted {
        submit_record(&mut buf, id, -1, b"x");
    }
    pool.submit(MAIN, &buf).unwrap();
    let mut out = Vec::new();
    pool.take(0, 4, Wait::EventLoop, &mut out).unwrap();
    let handed: Vec<u32> = parse_take(&out).iter().map(|r| r.id).collect();
    assert_eq!(handed.len(), 4);
    handed
}

fn parse_main(buf: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < buf.len() {
        let len = u32::from_le_bytes(buf[at..at + 4].try_into().unwrap()) as usize;
        let id = u32::from_le_bytes(buf[at + 4..at + 8].try_into().unwrap());
        out.push((id, buf[at + 8..at + 4 + len].to_vec()));
        at += 4 + len;
    }
    out
}

/// Echo workers: each task's result is its payload. Returns per-worker task counts.
fn spawn_echo_workers(
    pool: &Arc<Pool>,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<usize>> {
    (0..n)
        .map(|slot| {
            let pool = pool.clone();
            let stop = stop.clone();
            thread::spawn(move || {
                let origin = pool.attach_worker(slot, Box::new(|| {})).unwrap();
                assert_ne!(origin, MAIN);
                let mut ran = 0;
                let mut buf = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    buf.clear();
                    match pool
                        .take(slot, 16, Wait::Park(Duration::from_millis(5)), &mut buf)
                        .unwrap()
                    {
                        Taken::Closed => break,
                        Taken::Idle => continue,
                        Taken::Work => {
                            let mut done = Vec::new();
                            for r in parse_take(&buf) {
                                if r.kind == KIND_TASK {
                                    ran += 1;
                                    complete_record(&mut done, r.origin, r.id, &r.body);
                                }
                            }
                            if !done.is_empty() {
                                pool.complete(slot, &done).unwrap();
                            }
                        }
                    }
                }
                ran
            })
        })
        .collect()
}

fn drain_until(pool: &Pool, want: usize) -> HashMap<u32, Vec<u8>> {
    let mut got = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < want {
        assert!(
            Instant::now() < deadline,
            "only {} of {want} completions arrived",
            got.len()
        );
        let mut buf = Vec::new();
        pool.drain_main(&mut buf);
        for (id, body) in parse_main(&buf) {
            assert!(got.insert(id, body).is_none(), "task {id} completed twice");
        }
        thread::sleep(Duration::from_micros(200));
    }
    got
}

#[test]
fn every_task_completes_exactly_once_with_its_result() {
    let pool = Arc::new(Pool::new(3, None).unwrap());
    let notified = Arc::new(AtomicUsize::new(0));
    let n2 = notified.clone();
    pool.set_main_notify(Box::new(move || {
        n2.fetch_add(1, Ordering::SeqCst);
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let workers = spawn_echo_workers(&pool, 3, &stop);
    const N: u32 = 50_000;
    for chunk in (0..N).collect::<Vec<_>>().chunks(1000) {
        let mut buf = Vec::new();
        for &id in chunk {
            submit_record(&mut buf, id, -1, &id.to_le_bytes());
        }
        assert_eq!(pool.submit(MAIN, &buf).unwrap(), chunk.len());
    }
    let got = drain_until(&pool, N as usize);
    for (id, body) in &got {
        assert_eq!(
            &body[..],
            &id.to_le_bytes()[..],
            "task {id} got another task's result"
        );
    }
    stop.store(true, Ordering::SeqCst);
    let counts: Vec<usize> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(counts.iter().sum::<usize>(), N as usize);
    assert!(notified.load(Ordering::SeqCst) >= 1);
    assert!(
        notified.load(Ordering::SeqCst) < N as usize / 10,
        "one wake per batch, not per task"
    );
    let stats = pool.stats();
    assert_eq!(stats.completed, u64::from(N));
    assert_eq!(stats.queued, 0);
    assert_eq!(stats.running, 0);
}

#[test]
fn idle_workers_steal_from_a_busy_workers_deque() {
    let pool = Arc::new(Pool::new(2, None).unwrap());
    // Worker 0 spawns 200 child tasks onto its own deque and never runs them itself.
    let origin0 = pool.attach_worker(0, Box::new(|| {})).unwrap();
    let mut buf = Vec::new();
    for id in 0..200u32 {
        submit_record(&mut buf, id, -1, b"child");
    }
    pool.submit(origin0, &buf).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let thief = {
        let pool = pool.clone();
        let stop = stop.clone();
        thread::spawn(move || {
            pool.attach_worker(1, Box::new(|| {})).unwrap();
            let mut ran = 0;
            while ran < 200 && !stop.load(Ordering::SeqCst) {
                let mut out = Vec::new();
                if pool
                    .take(1, 8, Wait::Park(Duration::from_millis(5)), &mut out)
                    .unwrap()
                    == Taken::Work
                {
                    let mut done = Vec::new();
                    for r in parse_take(&out) {
                        assert_eq!(r.origin, origin0);
                        complete_record(&mut done, r.origin, r.id, b"ok");
                        ran += 1;
                    }
                    pool.complete(1, &done).unwrap();
                }
            }
            ran
        })
    };
    assert_eq!(thief.join().unwrap(), 200);
    assert!(pool.stats().slots[1].stolen >= 200);
    // The completions were routed back to worker 0.
    let mut out = Vec::new();
    assert_eq!(
        pool.take(0, 8, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    let recs = parse_take(&out);
    assert_eq!(
        recs.iter().filter(|r| r.kind == KIND_COMPLETION).count(),
        200
    );
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn a_dead_worker_fails_what_it_started_and_requeues_the_rest() {
    let pool = Pool::new(2, None).unwrap();
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    let mut buf = Vec::new();
    for id in 1..=10u32 {
        submit_record(&mut buf, id, -1, b"x");
    }
    pool.submit(MAIN, &buf).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        pool.take(0, 10, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    let handed: Vec<u32> = parse_take(&out).iter().map(|r| r.id).collect();
    assert_eq!(handed.len(), 10);
    // It completed the first, was running the second, and never started the rest.
    let mut done = Vec::new();
    complete_record(&mut done, MAIN, handed[0], b"r");
    pool.complete(0, &done).unwrap();
    let failed = pool.worker_lost(0, 2, b"exit").unwrap();
    assert_eq!(failed, vec![handed[1]]);
    assert_eq!(pool.queued(), 8);
    // Another worker runs the eight that never started.
    pool.attach_worker(1, Box::new(|| {})).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        pool.take(1, 100, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    let mut rerun: Vec<u32> = parse_take(&out).iter().map(|r| r.id).collect();
    rerun.sort();
    let mut expected = handed[2..].to_vec();
    expected.sort();
    assert_eq!(rerun, expected);
    assert_eq!(pool.stats().slots[0].restarts, 1);
}

#[test]
fn cancel_removes_queued_tasks_and_signals_running_ones() {
    let pool = Pool::new(1, None).unwrap();
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    let mut buf = Vec::new();
    for id in 1..=3u32 {
        submit_record(&mut buf, id, -1, b"x");
    }
    pool.submit(MAIN, &buf).unwrap();
    let mut out = Vec::new();
    pool.take(0, 1, Wait::EventLoop, &mut out).unwrap();
    let running = parse_take(&out)[0].id;
    let queued: Vec<u32> = (1..=3).filter(|&i| i != running).collect();
    assert_eq!(pool.cancel(MAIN, queued[0]), Cancelled::Queued);
    assert_eq!(
        pool.cancel(MAIN, running),
        Cancelled::Running { slot: 0, seq: 0 }
    );
    let mut out = Vec::new();
    pool.take(0, 10, Wait::EventLoop, &mut out).unwrap();
    let recs = parse_take(&out);
    assert!(recs
        .iter()
        .any(|r| r.kind == KIND_ABORT && r.id == running && r.body == 0u32.to_le_bytes()));
    let tasks: Vec<u32> = recs
        .iter()
        .filter(|r| r.kind == KIND_TASK)
        .map(|r| r.id)
        .collect();
    assert_eq!(
        tasks,
        vec![queued[1]],
        "the cancelled queued task never runs"
    );
}

#[test]
fn max_queue_rejects_whole_batches_and_close_drains() {
    let pool = Pool::new(1, Some(4)).unwrap();
    let mut buf = Vec::new();
    for id in 1..=3u32 {
        submit_record(&mut buf, id, -1, b"");
    }
    assert_eq!(pool.submit(MAIN, &buf).unwrap(), 3);
    let e = pool.submit(MAIN, &buf).unwrap_err();
    assert_eq!(e.code, Code::QueueFull);
    assert_eq!(pool.queued(), 3);
    pool.close();
    assert_eq!(pool.submit(MAIN, &buf).unwrap_err().code, Code::Closed);
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        pool.take(0, 10, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    let mut done = Vec::new();
    for r in parse_take(&out) {
        complete_record(&mut done, r.origin, r.id, b"");
    }
    pool.complete(0, &done).unwrap();
    assert_eq!(
        pool.take(0, 10, Wait::EventLoop, &mut Vec::new()).unwrap(),
        Taken::Closed
    );
}

#[test]
fn an_idle_worker_parks_and_wakes_on_submit() {
    let pool = Arc::new(Pool::new(1, None).unwrap());
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    let woke = Arc::new(Mutex::new(None));
    let h = {
        let pool = pool.clone();
        let woke = woke.clone();
        thread::spawn(move || {
            let t = Instant::now();
            let mut out = Vec::new();
            let r = pool
                .take(0, 1, Wait::Park(Duration::from_secs(5)), &mut out)
                .unwrap();
            *woke.lock().unwrap() = Some((r, t.elapsed()));
        })
    };
    thread::sleep(Duration::from_millis(50));
    let mut buf = Vec::new();
    submit_record(&mut buf, 1, -1, b"");
    pool.submit(MAIN, &buf).unwrap();
    h.join().unwrap();
    let (r, waited) = woke.lock().unwrap().take().unwrap();
    assert_eq!(r, Taken::Work);
    assert!(
        waited < Duration::from_secs(2),
        "woken by the submit, not the timeout ({waited:?})"
    );
}

#[test]
fn given_back_tasks_are_stealable_and_not_failed_by_a_crash() {
    let pool = Pool::new(2, None).unwrap();
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    let handed = submit_and_hand_out_four(&pool, 4);
    // Worker 0 started the first, then gives the other three back.
    let mut ids = Vec::new();
    for &id in &handed[1..] {
        ids.extend_from_slice(&MAIN.to_le_bytes());
        ids.extend_from_slice(&id.to_le_bytes());
    }
    assert_eq!(pool.give_back(0, &ids).unwrap(), 3);
    pool.attach_worker(1, Box::new(|| {})).unwrap();
    // Thieves take about half of a victim's deque per steal: take until all three arrived.
    let mut stolen: Vec<u32> = Vec::new();
    for _ in 0..4 {
        let mut out = Vec::new();
        pool.take(1, 10, Wait::EventLoop, &mut out).unwrap();
        stolen.extend(parse_take(&out).iter().map(|r| r.id));
    }
    stolen.sort();
    let mut expected = handed[1..].to_vec();
    expected.sort();
    assert_eq!(stolen, expected);
    // Worker 0 dies running the first: only that one fails.
    assert_eq!(pool.worker_lost(0, 1, b"exit").unwrap(), vec![handed[0]]);
}

#[test]
fn a_pinned_task_wakes_its_own_worker() {
    let pool = Arc::new(Pool::new(2, None).unwrap());
    let woke: Vec<_> = (0..2)
        .map(|slot| {
            pool.attach_worker(slot, Box::new(|| {})).unwrap();
            let pool = pool.clone();
            thread::spawn(move || {
                let t = Instant::now();
                let mut out = Vec::new();
                let r = pool
                    .take(slot, 1, Wait::Park(Duration::from_secs(5)), &mut out)
                    .unwrap();
                let ids: Vec<u32> = parse_take(&out).iter().map(|r| r.id).collect();
                (r, ids, t.elapsed())
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(100));
    let mut buf = Vec::new();
    submit_record(&mut buf, 7, 1, b"");
    pool.submit(MAIN, &buf).unwrap();
    let mut results = woke.into_iter().map(|h| h.join().unwrap());
    let (_, ids0, _) = results.next().unwrap();
    let (r1, ids1, waited1) = results.next().unwrap();
    assert!(ids0.is_empty(), "slot 0 took a task pinned to slot 1");
    assert_eq!((r1, ids1), (Taken::Work, vec![7]));
    assert!(
        waited1 < Duration::from_secs(2),
        "slot 1 was woken by the submit, not its timeout ({waited1:?})"
    );
}

/// Round trips with one caller and one task in flight: the pattern where a worker spins between
/// tasks and submits skip waking sleepers while it does. Every task must be taken promptly,
/// never left for a park timeout (a lost wake-up would stall a round trip for a whole second).
#[test]
fn round_trips_never_lose_a_wake_up_while_workers_spin() {
    let pool = Arc::new(Pool::new(2, None).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|slot| {
            let pool = pool.clone();
            let stop = stop.clone();
            pool.attach_worker(slot, Box::new(|| {})).unwrap();
            thread::spawn(move || {
                let mut buf = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    buf.clear();
                    if pool
                        .take(slot, 1, Wait::Park(Duration::from_secs(1)), &mut buf)
                        .unwrap()
                        == Taken::Work
                    {
                        let mut done = Vec::new();
                        for r in parse_take(&buf) {
                            complete_record(&mut done, r.origin, r.id, &r.body);
                        }
                        pool.complete(slot, &done).unwrap();
                    }
                }
            })
        })
        .collect();
    let mut worst = Duration::ZERO;
    for id in 0..3000u32 {
        // Vary the gap so that submits land before, during and after the spin.
        if id % 3 == 1 {
            thread::sleep(Duration::from_micros(u64::from(id % 400)));
        }
        let t = Instant::now();
        let mut buf = Vec::new();
        submit_record(&mut buf, id, -1, b"x");
        pool.submit(MAIN, &buf).unwrap();
        let got = drain_until(&pool, 1);
        assert!(got.contains_key(&id));
        worst = worst.max(t.elapsed());
    }
    stop.store(true, Ordering::SeqCst);
    pool.close();
    for w in workers {
        w.join().unwrap();
    }
    assert!(
        worst < Duration::from_millis(500),
        "a round trip waited {worst:?}: a wake-up was lost"
    );
}

/// Pairs of `u32 origin | u32 id`, as a worker gives tasks back.
fn id_list(origin: u32, ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    for &id in ids {
        out.extend_from_slice(&origin.to_le_bytes());
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

/// Takes everything the worker in `slot` can get now; returns the task ids.
fn take_all(pool: &Pool, slot: usize) -> Vec<u32> {
    let mut ids = Vec::new();
    loop {
        let mut out = Vec::new();
        if pool.take(slot, 256, Wait::EventLoop, &mut out).unwrap() != Taken::Work {
            return ids;
        }
        let recs = parse_take(&out);
        if !recs.iter().any(|r| r.kind == KIND_TASK) {
            return ids;
        }
        ids.extend(recs.iter().filter(|r| r.kind == KIND_TASK).map(|r| r.id));
    }
}

#[test]
fn a_crash_requeues_the_dead_workers_deque_without_counting_it_twice() {
    let pool = Pool::new(1, Some(20)).unwrap();
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    let handed = submit_and_hand_out_four(&pool, 10);
    assert_eq!(pool.queued(), 6);
    // It started the first (still running), gives the last two back onto its deque, and dies.
    pool.give_back(0, &id_list(MAIN, &handed[2..])).unwrap();
    assert_eq!(pool.queued(), 8);
    assert_eq!(pool.worker_lost(0, 1, b"exit").unwrap(), vec![handed[0]]);
    // Six never handed out, one handed and not started, two from its deque.
    assert_eq!(pool.queued(), 9);
    assert_eq!(pool.stats().queued, 9);
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    let mut rerun = take_all(&pool, 0);
    rerun.sort();
    assert_eq!(rerun, (2..=10).collect::<Vec<u32>>());
    assert_eq!(pool.queued(), 0);
    // maxQueue (20) still takes 20 tasks.
    let mut buf = Vec::new();
    for id in 11..=30u32 {
        submit_record(&mut buf, id, -1, b"x");
    }
    assert_eq!(pool.submit(MAIN, &buf).unwrap(), 20);
}

#[test]
fn a_crash_forgets_the_children_of_the_dead_worker() {
    let pool = Pool::new(2, Some(10)).unwrap();
    let parent = pool.attach_worker(0, Box::new(|| {})).unwrap();
    let mut buf = Vec::new();
    for id in 1..=200u32 {
        submit_record(&mut buf, id, -1, b"child");
    }
    pool.submit(parent, &buf).unwrap();
    assert_eq!(pool.queued(), 200);
    // A thief takes some of them before the parent dies; it also hands one back.
    pool.attach_worker(1, Box::new(|| {})).unwrap();
    let mut out = Vec::new();
    pool.take(1, 8, Wait::EventLoop, &mut out).unwrap();
    let stolen: Vec<u32> = parse_take(&out).iter().map(|r| r.id).collect();
    assert!(!stolen.is_empty());
    pool.give_back(1, &id_list(parent, &stolen[..1])).unwrap();
    assert_eq!(pool.queued(), 200 - stolen.len() + 1);
    assert!(pool.worker_lost(0, 0, b"exit").unwrap().is_empty());
    // What stayed in the parent's deque is gone; what the thief holds still counts until taken.
    assert_eq!(pool.queued(), 1);
    assert_eq!(take_all(&pool, 1), vec![stolen[0]]);
    assert_eq!(pool.queued(), 0);
    let mut buf = Vec::new();
    for id in 1..=10u32 {
        submit_record(&mut buf, id, -1, b"x");
    }
    assert_eq!(
        pool.submit(MAIN, &buf).unwrap(),
        10,
        "maxQueue takes work again"
    );
}

#[test]
fn a_cancelled_task_that_never_runs_still_reports_back_to_its_submitter() {
    let pool = Pool::new(1, None).unwrap();
    let worker = pool.attach_worker(0, Box::new(|| {})).unwrap();
    let mut buf = Vec::new();
    for id in 1..=3u32 {
        submit_record(&mut buf, id, -1, b"x");
    }
    pool.submit(MAIN, &buf).unwrap();
    let mut buf = Vec::new();
    submit_record(&mut buf, 7, -1, b"child");
    pool.submit(worker, &buf).unwrap();
    assert_eq!(pool.cancel(MAIN, 2), Cancelled::Queued);
    assert_eq!(pool.cancel(worker, 7), Cancelled::Queued);
    let mut out = Vec::new();
    pool.take(0, 10, Wait::EventLoop, &mut out).unwrap();
    let tasks: Vec<u32> = parse_take(&out)
        .iter()
        .filter(|r| r.kind == KIND_TASK)
        .map(|r| r.id)
        .collect();
    assert_eq!(tasks, vec![1, 3], "the cancelled tasks never run");
    // Each submitter gets an empty completion for its dropped task: the id is free again.
    let mut main = Vec::new();
    pool.drain_main(&mut main);
    assert_eq!(parse_main(&main), vec![(2, Vec::new())]);
    let mut out = Vec::new();
    assert_eq!(
        pool.take(0, 10, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    let recs = parse_take(&out);
    assert_eq!(recs.len(), 1);
    assert_eq!((recs[0].kind, recs[0].id), (KIND_COMPLETION, 7));
    assert!(recs[0].body.is_empty());
    assert_eq!(pool.queued(), 0);
}

#[test]
fn a_workers_cancel_reaches_only_its_own_task() {
    let pool = Pool::new(2, None).unwrap();
    let w0 = pool.attach_worker(0, Box::new(|| {})).unwrap();
    pool.attach_worker(1, Box::new(|| {})).unwrap();
    // The main thread's task 5 runs on worker 1; worker 0 spawns its own task 5.
    let mut buf = Vec::new();
    submit_record(&mut buf, 5, 1, b"main");
    pool.submit(MAIN, &buf).unwrap();
    let mut out = Vec::new();
    pool.take(1, 10, Wait::EventLoop, &mut out).unwrap();
    assert_eq!(parse_take(&out)[0].id, 5);
    let mut buf = Vec::new();
    submit_record(&mut buf, 5, -1, b"child");
    pool.submit(w0, &buf).unwrap();
    // Worker 0 cancels its child: the main thread's task 5 hears nothing of it.
    assert_eq!(pool.cancel(w0, 5), Cancelled::Queued);
    let mut out = Vec::new();
    pool.take(1, 10, Wait::EventLoop, &mut out).unwrap();
    assert!(
        parse_take(&out).iter().all(|r| r.kind != KIND_ABORT),
        "no abort for the main thread's task"
    );
    // A main-thread task 5 submitted again is not dropped.
    let mut done = Vec::new();
    complete_record(&mut done, MAIN, 5, b"r");
    pool.complete(1, &done).unwrap();
    let mut buf = Vec::new();
    submit_record(&mut buf, 5, 1, b"main again");
    pool.submit(MAIN, &buf).unwrap();
    let mut out = Vec::new();
    pool.take(1, 10, Wait::EventLoop, &mut out).unwrap();
    let tasks: Vec<(u32, u32)> = parse_take(&out)
        .iter()
        .filter(|r| r.kind == KIND_TASK)
        .map(|r| (r.origin, r.id))
        .collect();
    assert_eq!(tasks, vec![(MAIN, 5)]);
    // The child itself is dropped when worker 0 would take it.
    let mut out = Vec::new();
    pool.take(0, 10, Wait::EventLoop, &mut out).unwrap();
    let recs = parse_take(&out);
    assert!(recs.iter().all(|r| r.kind != KIND_TASK));
    assert!(recs
        .iter()
        .any(|r| r.kind == KIND_COMPLETION && r.id == 5 && r.body.is_empty()));
}

#[test]
fn task_names_are_checked_against_the_exports_and_the_table_stays_bounded() {
    use weft_core::pool::{NameRefused, MAX_TASK_NAMES, MAX_UNCHECKED_TASK_NAMES};
    let pool = Pool::new(1, None).unwrap();
    // Before a worker loaded the module, names cannot be checked: a bounded number get ids.
    assert_eq!(pool.intern("first"), Ok(0));
    for i in 1..MAX_UNCHECKED_TASK_NAMES {
        assert_eq!(pool.intern(&format!("early-{i}")), Ok(i as u32));
    }
    assert_eq!(pool.intern("one-too-many"), Err(NameRefused::TooMany));
    assert_eq!(pool.intern("first"), Ok(0), "a known name keeps its id");
    // Then only the module's exports get ids; other names leave the table as it was.
    pool.set_exports(vec!["first".into(), "echo".into(), "busy".into()]);
    let n = MAX_UNCHECKED_TASK_NAMES;
    for i in 0..100_000 {
        assert_eq!(
            pool.intern(&format!("not-a-task-{i}")),
            Err(NameRefused::NotAnExport)
        );
    }
    assert_eq!(pool.name_of(n as u32), None);
    assert_eq!(pool.intern("echo"), Ok(n as u32));
    assert_eq!(pool.intern("busy"), Ok(n as u32 + 1));
    assert_eq!(pool.name_of(n as u32 + 1).as_deref(), Some("busy"));
    assert_eq!(pool.intern("echo"), Ok(n as u32));
    assert!(
        n + 2 <= MAX_TASK_NAMES && MAX_TASK_NAMES <= 1 << 16,
        "ids fit in a u16"
    );
}

#[test]
fn a_module_with_more_exports_than_ids_gets_no_id_past_the_last() {
    use weft_core::pool::{NameRefused, MAX_TASK_NAMES};
    let pool = Pool::new(1, None).unwrap();
    let exports: Vec<String> = (0..=MAX_TASK_NAMES).map(|i| format!("task{i}")).collect();
    pool.set_exports(exports.clone());
    for (i, name) in exports.iter().enumerate().take(MAX_TASK_NAMES) {
        assert_eq!(pool.intern(name), Ok(i as u32));
    }
    assert_eq!(
        pool.intern(&exports[MAX_TASK_NAMES]),
        Err(NameRefused::TooMany)
    );
}

#[test]
fn a_cancelled_task_that_comes_back_unstarted_is_dropped() {
    let pool = Pool::new(1, None).unwrap();
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    let handed = submit_and_hand_out_four(&pool, 4);
    // Aborted while waiting in the worker's batch: one is handed back, one is there at a crash.
    for (seq, &id) in handed.iter().enumerate().skip(2) {
        assert_eq!(
            pool.cancel(MAIN, id),
            Cancelled::Running {
                slot: 0,
                seq: seq as u32
            }
        );
    }
    pool.give_back(0, &id_list(MAIN, &handed[2..3])).unwrap();
    assert_eq!(
        pool.worker_lost(0, 1, b"exit").unwrap(),
        vec![handed[0]],
        "only the started task fails"
    );
    // Each dropped task reports back once, empty; the unstarted, uncancelled one runs again.
    let mut main = Vec::new();
    pool.drain_main(&mut main);
    let mut dropped: Vec<u32> = parse_main(&main)
        .into_iter()
        .map(|(id, body)| {
            assert!(body.is_empty());
            id
        })
        .collect();
    dropped.sort();
    assert_eq!(dropped, handed[2..].to_vec());
    pool.attach_worker(0, Box::new(|| {})).unwrap();
    assert_eq!(take_all(&pool, 0), vec![handed[1]]);
    assert_eq!(pool.queued(), 0);
}

/// A waker that counts its calls.
fn counting_waker() -> (Arc<AtomicUsize>, Box<dyn Fn() + Send + Sync>) {
    let n = Arc::new(AtomicUsize::new(0));
    let m = n.clone();
    (
        n,
        Box::new(move || {
            m.fetch_add(1, Ordering::SeqCst);
        }),
    )
}

#[test]
fn a_capped_worker_takes_only_forked_tasks_and_is_woken_for_mail_only() {
    let pool = Pool::new(2, None).unwrap();
    let (woken0, waker0) = counting_waker();
    let (woken1, waker1) = counting_waker();
    let origin0 = pool.attach_worker(0, waker0).unwrap();
    pool.attach_worker(1, waker1).unwrap();
    // Worker 0 was handed four main-thread tasks, started one and gave three back (its deque).
    let handed = submit_and_hand_out_four(&pool, 4);
    pool.give_back(0, &id_list(MAIN, &handed[1..])).unwrap();
    // Its running task forks two children.
    let mut buf = Vec::new();
    for id in [100u32, 101] {
        submit_record(&mut buf, id, -1, b"child");
    }
    pool.submit(origin0, &buf).unwrap();
    // At its cap it takes the children only; the main-thread tasks go to the injector.
    let mut out = Vec::new();
    assert_eq!(
        pool.take(0, 8, Wait::Capped, &mut out).unwrap(),
        Taken::Work
    );
    let got: Vec<(u32, u32)> = parse_take(&out).iter().map(|r| (r.origin, r.id)).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got
        .iter()
        .all(|&(origin, id)| origin == origin0 && id >= 100));
    // Nothing forked is left: it waits (capped), and new work does not wake it but worker 1.
    out.clear();
    assert_eq!(
        pool.take(1, 8, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    let first: Vec<u32> = parse_take(&out).iter().map(|r| r.id).collect();
    assert_eq!(
        first.len(),
        3,
        "worker 1 found the tasks worker 0 set aside: {first:?}"
    );
    out.clear();
    assert_eq!(
        pool.take(1, 8, Wait::EventLoop, &mut out).unwrap(),
        Taken::Idle
    );
    out.clear();
    assert_eq!(
        pool.take(0, 8, Wait::Capped, &mut out).unwrap(),
        Taken::Idle
    );
    let before0 = woken0.load(Ordering::SeqCst);
    let before1 = woken1.load(Ordering::SeqCst);
    let mut buf = Vec::new();
    submit_record(&mut buf, 50, -1, b"new");
    pool.submit(MAIN, &buf).unwrap();
    assert_eq!(
        woken0.load(Ordering::SeqCst),
        before0,
        "the capped worker is not woken for new work"
    );
    assert_eq!(
        woken1.load(Ordering::SeqCst),
        before1 + 1,
        "the waiting one is"
    );
    // Worker 1 takes the new task and a child worker 0 forks meanwhile; completing the child is
    // mail for worker 0, which wakes it though it is capped.
    let mut buf = Vec::new();
    submit_record(&mut buf, 102, -1, b"child");
    pool.submit(origin0, &buf).unwrap();
    // A fork made while it waits capped (an await's continuation) wakes it: it may take that.
    let after_fork = woken0.load(Ordering::SeqCst);
    assert_eq!(
        after_fork,
        before0 + 1,
        "its own fork wakes a capped worker"
    );
    out.clear();
    assert_eq!(
        pool.take(1, 8, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    assert_eq!(parse_take(&out)[0].id, 50, "the queue first");
    out.clear();
    assert_eq!(
        pool.take(1, 8, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    let recs = parse_take(&out);
    let child = recs
        .iter()
        .find(|r| r.origin == origin0)
        .expect("then it steals the child");
    let mut done = Vec::new();
    complete_record(&mut done, origin0, child.id, b"ok");
    pool.complete(1, &done).unwrap();
    assert!(
        woken0.load(Ordering::SeqCst) > before0,
        "mail wakes a capped worker"
    );
    out.clear();
    assert_eq!(
        pool.take(0, 8, Wait::Capped, &mut out).unwrap(),
        Taken::Work
    );
    assert!(parse_take(&out)
        .iter()
        .any(|r| r.kind == KIND_COMPLETION && r.id == 102));
}

#[test]
fn a_worker_counts_as_running_in_the_thread_budget_from_take_to_take_and_not_after_it_is_lost() {
    let pool = Pool::new(2, None).unwrap();
    let (_, waker0) = counting_waker();
    let (_, waker1) = counting_waker();
    pool.attach_worker(0, waker0).unwrap();
    pool.attach_worker(1, waker1).unwrap();
    assert_eq!(pool.running_workers(), 0);
    // Worker 0 is handed four tasks: it runs.
    submit_and_hand_out_four(&pool, 5);
    assert_eq!(pool.running_workers(), 1);
    // Worker 1 takes the fifth: both run.
    let mut out = Vec::new();
    assert_eq!(
        pool.take(1, 8, Wait::EventLoop, &mut out).unwrap(),
        Taken::Work
    );
    assert_eq!(pool.running_workers(), 2);
    // Worker 1 comes back and finds nothing: it no longer runs.
    out.clear();
    assert_eq!(
        pool.take(1, 8, Wait::EventLoop, &mut out).unwrap(),
        Taken::Idle
    );
    assert_eq!(pool.running_workers(), 1);
    // Worker 0 dies while running: its share goes with it.
    pool.worker_lost(0, 0, b"gone").unwrap();
    assert_eq!(pool.running_workers(), 0);
}
