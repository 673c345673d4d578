//! Stress tests: many threads, a million operations, every pushed value popped exactly once.
#![cfg(not(loom))]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use weft_core::stack::TreiberStack;

const THREADS: usize = 4;
const PER_THREAD: usize = 250_000; // 4 × 250k pushes + as many pops = 2M operations

/// Each thread pushes its own range of ids and pops as often; the union of everything popped
/// (during the run and drained afterwards) must be exactly the set of ids pushed.
#[test]
fn every_value_popped_exactly_once() {
    let stack = Arc::new(TreiberStack::<u64>::new());
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let stack = stack.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                let mut popped = Vec::with_capacity(PER_THREAD);
                for i in 0..PER_THREAD {
                    stack.push((t * PER_THREAD + i) as u64);
                    // Pop on two of three iterations so the stack grows and shrinks.
                    if i % 3 != 0 {
                        if let Some(v) = stack.pop() {
                            popped.push(v);
                        }
                    }
                }
                popped
            })
        })
        .collect();
    let mut seen = HashSet::with_capacity(THREADS * PER_THREAD);
    for h in handles {
        for v in h.join().unwrap() {
            assert!(seen.insert(v), "value {v} popped twice");
        }
    }
    assert_eq!(stack.len(), THREADS * PER_THREAD - seen.len());
    while let Some(v) = stack.pop() {
        assert!(seen.insert(v), "value {v} popped twice");
    }
    assert_eq!(seen.len(), THREADS * PER_THREAD, "values lost");
    assert!((0..(THREADS * PER_THREAD) as u64).all(|v| seen.contains(&v)));
    assert_eq!(stack.len(), 0);
}

/// Batches: push_many chains stay contiguous (nothing interleaves inside a batch) and pop_many
/// loses nothing, with clear racing against both.
#[test]
fn batches_and_clear_lose_nothing() {
    const BATCH: usize = 16;
    const BATCHES: usize = 5_000;
    let stack = Arc::new(TreiberStack::<(u32, u32)>::new());
    let cleared = Arc::new(AtomicUsize::new(0));
    let pushers: Vec<_> = (0..2u32)
        .map(|t| {
            let stack = stack.clone();
            thread::spawn(move || {
                for b in 0..BATCHES as u32 {
                    let id = t * BATCHES as u32 + b;
                    stack.push_many((0..BATCH as u32).map(|k| (id, k)));
                }
            })
        })
        .collect();
    let popper = {
        let stack = stack.clone();
        let cleared = cleared.clone();
        thread::spawn(move || {
            let mut got = Vec::new();
            let mut rounds = 0;
            while got.len() + cleared.load(Ordering::SeqCst) < 2 * BATCHES * BATCH {
                rounds += 1;
                if rounds % 1000 == 0 {
                    cleared.fetch_add(stack.clear(), Ordering::SeqCst);
                } else {
                    got.extend(stack.pop_many(7));
                }
            }
            got
        })
    };
    for p in pushers {
        p.join().unwrap();
    }
    let got = popper.join().unwrap();
    let mut seen = HashSet::new();
    for v in &got {
        assert!(seen.insert(*v), "{v:?} popped twice");
    }
    assert_eq!(
        got.len() + cleared.load(Ordering::SeqCst),
        2 * BATCHES * BATCH
    );
    assert!(stack.pop().is_none());
}

/// Peek races with pops of heap-owning values: peek must never read a freed value (run under
/// Miri or a sanitizer to make a violation loud; here it would show up as garbage or a crash).
#[test]
fn peek_races_with_pop() {
    let stack = Arc::new(TreiberStack::<Arc<String>>::new());
    let done = Arc::new(AtomicUsize::new(0));
    let producer = {
        let stack = stack.clone();
        let done = done.clone();
        thread::spawn(move || {
            for i in 0..200_000u32 {
                stack.push(Arc::new(format!("value-{i}")));
                let _ = stack.pop();
            }
            done.store(1, Ordering::SeqCst);
        })
    };
    let mut peeks = 0u64;
    while done.load(Ordering::SeqCst) == 0 {
        if let Some(v) = stack.peek() {
            assert!(v.starts_with("value-"), "corrupt value {v:?}");
            peeks += 1;
        }
    }
    producer.join().unwrap();
    let _ = peeks;
}

/// Dropping a stack that still holds values frees them all (no leak on drop), even while other
/// threads' retired nodes are still pending.
#[test]
fn drop_with_values_frees_them() {
    let probe = Arc::new(());
    {
        let stack = TreiberStack::new();
        for _ in 0..10_000 {
            stack.push(probe.clone());
        }
        for _ in 0..5_000 {
            drop(stack.pop());
        }
    }
    // 5,000 were dropped with the stack; the 5,000 popped originals are retired and freed once
    // the epoch advances, which needs every registered thread (other tests run in parallel in
    // this process) to move on: keep flushing, for up to 20 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while Arc::strong_count(&probe) > 1 && std::time::Instant::now() < deadline {
        for _ in 0..64 {
            crossbeam_epoch::pin().flush();
        }
        thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(Arc::strong_count(&probe), 1, "values leaked");
}

/// The shared queue: producers push (single and batched), consumers pop (single and batched),
/// some of them waiting through a waiter as `popAsync` does; then the queue is closed. Every
/// value is received exactly once, each producer's values in its order, and every consumer ends.
#[test]
fn queue_delivers_every_value_exactly_once_and_ends() {
    use std::sync::atomic::AtomicBool;
    use weft_core::queue::{Queue, Waiter};
    const PRODUCERS: usize = 3;
    const CONSUMERS: usize = 3;
    const EACH: usize = 100_000;
    for capacity in [None, Some(64)] {
        let q = Arc::new(match capacity {
            None => Queue::<u64>::unbounded(),
            Some(n) => Queue::bounded(n).unwrap(),
        });
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|c| {
                let q = q.clone();
                thread::spawn(move || {
                    let woken = Arc::new(AtomicBool::new(false));
                    let wk = woken.clone();
                    let w = Waiter::new(Box::new(move || wk.store(true, Ordering::Release)));
                    let mut got = Vec::new();
                    loop {
                        let n = if c == 0 {
                            q.pop_into(32, |v| got.push(v))
                        } else {
                            q.pop().map(|v| got.push(v)).is_some() as usize
                        };
                        if n > 0 {
                            continue;
                        }
                        if q.drained() {
                            if let Some(v) = q.pop() {
                                got.push(v);
                                continue;
                            }
                            return got;
                        }
                        q.wait_for_item(&w);
                        if !q.is_empty() || q.drained() {
                            continue;
                        }
                        while !woken.swap(false, Ordering::AcqRel) {
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let q = q.clone();
                thread::spawn(move || {
                    let base = (p * EACH) as u64;
                    let mut i = 0u64;
                    while i < EACH as u64 {
                        if p == 0 && i + 8 <= EACH as u64 {
                            i += q.push_many(base + i..base + i + 8).unwrap() as u64;
                        } else if q.push(base + i).unwrap() == weft_core::queue::Pushed::Queued {
                            i += 1;
                        } else {
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        assert!(q.close());
        let mut seen = HashSet::new();
        for c in consumers {
            let got = c.join().unwrap();
            // Per producer, a consumer sees that producer's values in increasing order.
            let mut last = [None::<u64>; PRODUCERS];
            for v in got {
                let p = v as usize / EACH;
                assert!(last[p].is_none_or(|l| l < v), "out of order: {v}");
                last[p] = Some(v);
                assert!(seen.insert(v), "value {v} received twice");
            }
        }
        assert_eq!(seen.len(), PRODUCERS * EACH, "values lost ({capacity:?})");
        assert_eq!(q.len(), 0);
    }
}
