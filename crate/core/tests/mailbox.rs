//! Mailboxes under real contention: several senders, one receiver, every policy.
#![cfg(not(loom))]

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use weft_core::mailbox::{Mailbox, Overflow, Sent};

const SENDERS: u64 = 4;
const EACH: u64 = 50_000;

/// A message: (sender, sequence number).
type Msg = (u64, u64);

/// Receives until every sender is done and the mailbox is empty; checks per-sender FIFO and the
/// bound; returns how many messages were received from each sender.
fn receive(m: &Mailbox<Msg>, done: &dyn Fn() -> bool, bound: Option<usize>) -> HashMap<u64, u64> {
    let mut last: HashMap<u64, u64> = HashMap::new();
    let mut got: HashMap<u64, u64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(cap) = bound {
            assert!(m.len() <= cap, "a bounded mailbox held {} > {cap}", m.len());
        }
        match m.recv() {
            Some((s, k)) => {
                if let Some(&prev) = last.get(&s) {
                    assert!(k > prev, "sender {s}: {k} after {prev}");
                }
                last.insert(s, k);
                *got.entry(s).or_default() += 1;
            }
            None if done() && m.is_empty() => return got,
            None => {
                assert!(Instant::now() < deadline, "receiver timed out");
                thread::yield_now();
            }
        }
    }
}

fn flood(policy: Option<Overflow>) -> (HashMap<u64, u64>, Vec<u64>, Arc<Mailbox<Msg>>) {
    let m = Arc::new(match policy {
        None => Mailbox::unbounded(),
        Some(o) => Mailbox::bounded(64, o).unwrap(),
    });
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let m = m.clone();
            thread::spawn(move || {
                let mut not_queued = 0u64;
                for k in 0..EACH {
                    match m.send((s, k)) {
                        Sent::Queued => {}
                        Sent::Evicted(_) | Sent::Dropped(_) | Sent::Full(_) => not_queued += 1,
                        Sent::Closed(_) => panic!("not closed"),
                    }
                }
                not_queued
            })
        })
        .collect();
    let finished = Arc::new(Mutex::new(false));
    let f2 = finished.clone();
    let watcher = thread::spawn(move || {
        let counts: Vec<u64> = senders.into_iter().map(|h| h.join().unwrap()).collect();
        *f2.lock().unwrap() = true;
        counts
    });
    let got = receive(&m, &|| *finished.lock().unwrap(), policy.map(|_| 64));
    (got, watcher.join().unwrap(), m)
}

#[test]
fn unbounded_delivers_everything_in_order() {
    let (got, lost, _) = flood(None);
    assert!(lost.iter().all(|&l| l == 0));
    for s in 0..SENDERS {
        assert_eq!(got.get(&s).copied().unwrap_or(0), EACH);
    }
}

#[test]
fn bounded_policies_account_for_every_message() {
    for policy in [Overflow::Reject, Overflow::DropNewest, Overflow::DropOldest] {
        let (got, not_queued, m) = flood(Some(policy));
        let received: u64 = got.values().sum();
        let stats = m.stats();
        assert_eq!(stats.received, received);
        // Every message sent was received, or is counted as not queued / evicted.
        assert_eq!(
            received + not_queued.iter().sum::<u64>(),
            SENDERS * EACH,
            "{policy:?}: received {received}, stats {stats:?}"
        );
        match policy {
            Overflow::Reject => assert_eq!(stats.refused, not_queued.iter().sum::<u64>()),
            _ => assert_eq!(stats.dropped, not_queued.iter().sum::<u64>()),
        }
    }
}

/// `wait`: senders that get `Full` sleep until the room callback wakes them, then retry.
/// Everything arrives, in order per sender, and the mailbox never exceeds its bound.
#[test]
fn wait_policy_loses_nothing() {
    let m = Arc::new(Mailbox::<Msg>::bounded(16, Overflow::Wait).unwrap());
    let room = Arc::new((Mutex::new(0u64), Condvar::new()));
    {
        let room = room.clone();
        m.set_on_room(Box::new(move || {
            *room.0.lock().unwrap() += 1;
            room.1.notify_all();
        }));
    }
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (m, room) = (m.clone(), room.clone());
            thread::spawn(move || {
                for k in 0..EACH / 5 {
                    let mut msg = (s, k);
                    loop {
                        let seen = *room.0.lock().unwrap();
                        match m.send(msg) {
                            Sent::Queued => break,
                            Sent::Full(back) => {
                                msg = back;
                                // Sleep until a receive made room after our failed send (a
                                // bounded wait, so a lost wake-up fails the test instead of
                                // hanging it).
                                let g = room.0.lock().unwrap();
                                let (_g, t) = room
                                    .1
                                    .wait_timeout_while(g, Duration::from_secs(10), |n| *n == seen)
                                    .unwrap();
                                assert!(!t.timed_out(), "sender {s} was never told about room");
                            }
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    let finished = Arc::new(Mutex::new(false));
    let f2 = finished.clone();
    let watcher = thread::spawn(move || {
        for h in senders {
            h.join().unwrap();
        }
        *f2.lock().unwrap() = true;
    });
    let got = receive(&m, &|| *finished.lock().unwrap(), Some(16));
    watcher.join().unwrap();
    for s in 0..SENDERS {
        assert_eq!(got.get(&s).copied().unwrap_or(0), EACH / 5);
    }
}

/// Byte counts (`weighed`): under a flood of 4 senders against a slow receiver, a bounded mailbox
/// never counts more than its capacity times the message size, plus the one message its receiver
/// is taking out (its bytes come off just after the pop), whatever the policy; every count returns
/// to 0 once it is drained.
#[test]
fn bounded_mailboxes_count_their_bytes_and_stay_within_capacity() {
    const CAP: usize = 32;
    const SIZE: usize = 100;
    const EACH: usize = 20_000;
    #[allow(clippy::borrowed_box)] // the weigher of a `Mailbox<Box<[u8]>>` takes `&Box<[u8]>`
    fn weigh(m: &Box<[u8]>) -> usize {
        m.len()
    }
    for policy in [
        Overflow::Reject,
        Overflow::DropNewest,
        Overflow::DropOldest,
        Overflow::Wait,
    ] {
        let m = Arc::new(
            Mailbox::<Box<[u8]>>::bounded(CAP, policy)
                .unwrap()
                .weighed(weigh),
        );
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || {
                    for _ in 0..EACH {
                        let mut msg: Box<[u8]> = vec![7u8; SIZE].into_boxed_slice();
                        loop {
                            match m.send(msg) {
                                Sent::Full(back) if policy == Overflow::Wait => {
                                    msg = back;
                                    thread::yield_now();
                                }
                                _ => break,
                            }
                        }
                    }
                })
            })
            .collect();
        let mut received = 0usize;
        while senders.iter().any(|h| !h.is_finished()) || !m.is_empty() {
            let s = m.stats();
            assert!(
                s.bytes <= (CAP + 1) * SIZE,
                "{policy:?}: {} bytes queued",
                s.bytes
            );
            if m.recv().is_some() {
                received += 1;
                if received.is_multiple_of(64) {
                    thread::sleep(Duration::from_micros(50)); // a slow receiver: the mailbox fills
                }
            }
        }
        for h in senders {
            h.join().unwrap();
        }
        let s = m.stats();
        assert_eq!(s.bytes, 0, "{policy:?}: drained, nothing counted");
        assert!(
            s.peak_bytes <= (CAP + 1) * SIZE && s.peak_bytes >= SIZE,
            "{policy:?}: peak {} of at most {}",
            s.peak_bytes,
            (CAP + 1) * SIZE
        );
        if policy == Overflow::Wait {
            assert_eq!(received, 4 * EACH, "wait loses nothing");
        }
    }
    // Unbounded: counts what it holds, and nothing once drained.
    let m = Mailbox::<Box<[u8]>>::unbounded().weighed(weigh);
    for _ in 0..1000 {
        let _ = m.send(vec![1u8; SIZE].into_boxed_slice());
    }
    m.send_system(vec![1u8; 10].into_boxed_slice()).unwrap();
    assert_eq!(m.stats().bytes, 1000 * SIZE + 10);
    m.drain();
    assert_eq!(
        (m.stats().bytes, m.stats().peak_bytes),
        (0, 1000 * SIZE + 10)
    );
}
