//! Unit tests of the actor transport.

use super::*;
use crate::sync::atomic::AtomicUsize;

fn tell(n: u8) -> Box<[u8]> {
    vec![envelope::TELL, n].into_boxed_slice()
}

fn ask(host: u32, id: u32) -> Box<[u8]> {
    let mut v = vec![envelope::ASK];
    v.extend_from_slice(&host.to_le_bytes());
    v.extend_from_slice(&id.to_le_bytes());
    v.into_boxed_slice()
}

/// Parses drain output into (kind, actor, body).
fn records(out: &[u8]) -> Vec<(u8, u32, Vec<u8>)> {
    let mut v = Vec::new();
    let mut at = 0;
    while at < out.len() {
        let a = read_u32(out, at + 1).unwrap();
        let len = read_u32(out, at + 5).unwrap() as usize;
        v.push((out[at], a, out[at + 9..at + 9 + len].to_vec()));
        at += 9 + len;
    }
    v
}

#[test]
fn a_message_wakes_its_host_once_per_batch() {
    let sys = ActorSystem::new(2).unwrap();
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    sys.set_notify(
        1,
        Box::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }),
    )
    .unwrap();
    let a = sys.create(1, None, None).unwrap();
    for i in 0..10 {
        assert_eq!(sys.send(0, a, false, tell(i)), Delivery::Queued);
    }
    assert_eq!(wakes.load(Ordering::SeqCst), 1);
    let mut out = Vec::new();
    assert_eq!(sys.drain(1, &[], 100, 4, &mut out).unwrap(), 4);
    let got = records(&out);
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|(k, id, _)| *k == OUT_MESSAGE && *id == a));
    // Running: no more of its messages until released.
    out.clear();
    assert_eq!(sys.drain(1, &[], 100, 4, &mut out).unwrap(), 0);
    out.clear();
    assert_eq!(sys.drain(1, &[a], 100, 100, &mut out).unwrap(), 6);
    let bodies: Vec<u8> = records(&out).iter().map(|r| r.2[1]).collect();
    assert_eq!(bodies, vec![4, 5, 6, 7, 8, 9]);
    out.clear();
    assert_eq!(sys.drain(1, &[a], 100, 100, &mut out).unwrap(), 0);
    sys.send(0, a, false, tell(10));
    assert_eq!(wakes.load(Ordering::SeqCst), 2, "re-armed after the drain");
}

#[test]
fn system_lane_first_and_batches_with_notices() {
    let sys = ActorSystem::new(1).unwrap();
    let a = sys.create(0, None, Some("a")).unwrap();
    assert_eq!(sys.lookup("a"), Some(a));
    assert!(sys.create(0, None, Some("a")).is_err());
    let mut batch = Vec::new();
    for (kind, target, body) in [
        (IN_USER, a, vec![0u8, 1]),
        (IN_SYSTEM, a, vec![2u8, 2]),
        (IN_NOTICE, 0, vec![notice::EVENT, 7]),
    ] {
        batch.push(kind);
        batch.extend_from_slice(&target.to_le_bytes());
        batch.extend_from_slice(&(body.len() as u32).to_le_bytes());
        batch.extend_from_slice(&body);
    }
    sys.send_batch(0, &batch).unwrap();
    let mut out = Vec::new();
    sys.drain(0, &[], 100, 100, &mut out).unwrap();
    let got = records(&out);
    assert_eq!(got[0], (OUT_NOTICE, 0, vec![notice::EVENT, 7]));
    assert_eq!(got[1], (OUT_MESSAGE, a, vec![2, 2]));
    // The user message came as a bundle of one.
    assert_eq!(
        got[2],
        (
            OUT_MESSAGE,
            a,
            vec![envelope::BUNDLE, 1, 0, 0, 0, 2, 0, 0, 0, 0, 1]
        )
    );
    assert!(sys.send_batch(0, &[1, 0]).is_err());
}

fn batch(records: &[(u8, u32, Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (kind, target, body) in records {
        b.push(*kind);
        b.extend_from_slice(&target.to_le_bytes());
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        b.extend_from_slice(body);
    }
    b
}

#[test]
fn a_senders_run_to_one_actor_is_bundled_in_order() {
    let sys = ActorSystem::new(2).unwrap();
    let a = sys.create(1, None, None).unwrap();
    let b = sys.create(1, None, None).unwrap();
    let mut recs: Vec<(u8, u32, Vec<u8>)> = (0..300u16)
        .map(|i| {
            (
                IN_USER,
                a,
                vec![envelope::TELL, (i & 0xff) as u8, (i >> 8) as u8],
            )
        })
        .collect();
    recs.push((IN_USER, b, vec![envelope::TELL, 7]));
    recs.push((IN_USER, a, vec![envelope::TELL, 44, 1]));
    sys.send_batch(0, &batch(&recs)).unwrap();
    // 256 + 44 for a, then b, then one more for a: four bundles.
    assert_eq!(sys.stats_of(a).unwrap().depth, 3);
    let mut out = Vec::new();
    sys.drain(1, &[], 10_000, 10_000, &mut out).unwrap();
    let mut seen_a = Vec::new();
    for (_, actor, body) in records(&out) {
        envelope::each(&body, |e| {
            if actor == a {
                seen_a.push(u16::from_le_bytes([e[1], e[2]]));
            }
        });
    }
    let want: Vec<u16> = (0..300).chain(std::iter::once(300)).collect();
    assert_eq!(seen_a, want);
    // Draining counts nothing: the host counts what its handlers handled.
    assert_eq!(sys.stats_of(a).unwrap().processed, 0);
    sys.count_processed(&[a, 300, 999_999, 5, a, 1, b]);
    assert_eq!(sys.stats_of(a).unwrap().processed, 301);
    // A bundle that cannot be delivered fails each ask inside it.
    sys.remove(b);
    sys.send_batch(
        0,
        &batch(&[
            (IN_USER, b, ask(0, 5).to_vec()),
            (IN_USER, b, ask(0, 6).to_vec()),
        ]),
    )
    .unwrap();
    out.clear();
    sys.drain(0, &[], 100, 100, &mut out).unwrap();
    let failed: Vec<u32> = records(&out)
        .iter()
        .map(|r| read_u32(&r.2, 1).unwrap())
        .collect();
    assert_eq!(failed, vec![5, 6]);
}

#[test]
fn dropped_and_stopped_asks_fail_with_a_notice() {
    let sys = ActorSystem::new(2).unwrap();
    let a = sys
        .create(1, Some((1, Overflow::DropNewest)), None)
        .unwrap();
    assert_eq!(sys.send(0, a, false, tell(1)), Delivery::Queued);
    assert_eq!(sys.send(0, a, false, ask(0, 42)), Delivery::Dropped);
    assert_eq!(sys.remove(a), 1);
    assert_eq!(sys.send(0, a, false, ask(0, 43)), Delivery::Stopped);
    assert_eq!(sys.dead_letters(), 3);
    let mut out = Vec::new();
    sys.drain(0, &[], 100, 100, &mut out).unwrap();
    let got = records(&out);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].2[0], notice::ASK_FAILED);
    assert_eq!(read_u32(&got[0].2, 1), Some(42));
    assert_eq!(got[0].2[5], notice::REASON_FULL);
    assert_eq!(read_u32(&got[1].2, 1), Some(43));
    assert_eq!(got[1].2[5], notice::REASON_STOPPED);
    assert_eq!(sys.recent_dead_letters().len(), 3);
}

#[test]
fn system_messages_reach_a_running_actor_around_its_mailbox() {
    let sys = ActorSystem::new(2).unwrap();
    let a = sys.create(1, None, None).unwrap();
    sys.send(0, a, false, tell(1));
    sys.send(0, a, false, tell(2));
    let mut out = Vec::new();
    sys.drain(1, &[], 100, 1, &mut out).unwrap(); // running, one message taken
    sys.send(0, a, true, vec![envelope::SYSTEM, 3].into_boxed_slice());
    out.clear();
    sys.drain(1, &[], 100, 100, &mut out).unwrap();
    assert_eq!(
        records(&out),
        vec![(OUT_CONTROL, a, vec![envelope::SYSTEM, 3])]
    );
    // Not running: the system lane, ahead of user messages.
    out.clear();
    sys.drain(1, &[a], 100, 100, &mut out).unwrap();
    assert_eq!(
        records(&out),
        vec![(OUT_MESSAGE, a, vec![envelope::TELL, 2])]
    );
    out.clear();
    sys.drain(1, &[a], 100, 100, &mut out).unwrap();
    sys.send(0, a, false, tell(4));
    sys.send(0, a, true, vec![envelope::SYSTEM, 5].into_boxed_slice());
    out.clear();
    sys.drain(1, &[], 100, 100, &mut out).unwrap();
    let kinds: Vec<(u8, u8)> = records(&out).iter().map(|r| (r.0, r.2[1])).collect();
    assert_eq!(kinds, vec![(OUT_MESSAGE, 5), (OUT_MESSAGE, 4)]);
}

#[test]
fn a_full_wait_mailbox_tells_the_waiting_host() {
    let sys = ActorSystem::new(3).unwrap();
    let a = sys.create(1, Some((1, Overflow::Wait)), None).unwrap();
    assert_eq!(sys.send(2, a, false, tell(1)), Delivery::Queued);
    assert_eq!(sys.send(2, a, false, tell(2)), Delivery::Full);
    let mut out = Vec::new();
    sys.drain(1, &[], 100, 100, &mut out).unwrap();
    out.clear();
    sys.drain(2, &[], 100, 100, &mut out).unwrap();
    let got = records(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2[0], notice::ROOM);
    assert_eq!(read_u32(&got[0].2, 1), Some(a));
}

#[test]
fn rehome_moves_the_backlog_and_reports_the_loss() {
    let sys = ActorSystem::new(3).unwrap();
    let a = sys.create(1, None, None).unwrap();
    sys.send(0, a, false, tell(1));
    sys.send(0, a, false, tell(2));
    let mut out = Vec::new();
    sys.drain(1, &[], 100, 1, &mut out).unwrap(); // host 1 took one, then died
    sys.rehome(a, 2, vec![envelope::SYSTEM, 9].into_boxed_slice())
        .unwrap();
    out.clear();
    sys.drain(2, &[], 100, 100, &mut out).unwrap();
    let got = records(&out);
    assert_eq!(got[0].0, OUT_NOTICE);
    assert_eq!(got[0].2[0], notice::LOST);
    assert_eq!(got[1], (OUT_MESSAGE, a, vec![envelope::SYSTEM, 9]));
    assert_eq!(got[2], (OUT_MESSAGE, a, vec![envelope::TELL, 2]));
    assert_eq!(sys.stats_of(a).unwrap().restarts, 1);
    assert_eq!(sys.stats_of(a).unwrap().host, 2);
}

/// Many senders on many threads, one host draining with small batches: every message is
/// delivered once, and each sender's messages arrive in order.
#[test]
fn stress_no_loss_no_duplicates_per_sender_fifo() {
    const SENDERS: u32 = 4;
    const EACH: u32 = 20_000;
    let sys = Arc::new(ActorSystem::new(1).unwrap());
    let a = sys.create(0, None, None).unwrap();
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let sys = sys.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let mut v = vec![envelope::TELL];
                    v.extend_from_slice(&s.to_le_bytes());
                    v.extend_from_slice(&i.to_le_bytes());
                    sys.send(0, a, false, v.into_boxed_slice());
                }
            })
        })
        .collect();
    let mut next = vec![0u32; SENDERS as usize];
    let mut total = 0;
    let mut out = Vec::new();
    let mut released: Vec<u32> = Vec::new();
    while total < SENDERS * EACH {
        out.clear();
        sys.drain(0, &released, 64, 16, &mut out).unwrap();
        released.clear();
        for (_, id, body) in records(&out) {
            released.push(id);
            let s = read_u32(&body, 1).unwrap() as usize;
            let i = read_u32(&body, 5).unwrap();
            assert_eq!(i, next[s], "sender {s} out of order");
            next[s] += 1;
            total += 1;
        }
        released.dedup();
        if out.is_empty() {
            std::thread::yield_now();
        }
    }
    for t in senders {
        t.join().unwrap();
    }
    assert!(next.iter().all(|&n| n == EACH));
}

#[test]
fn notices_of_one_batch_reach_their_hosts_in_order_with_one_wake_each_even_before_a_bad_record() {
    let sys = ActorSystem::new(3).unwrap();
    let wakes: Vec<Arc<AtomicUsize>> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    for (h, w) in wakes.iter().enumerate() {
        let w = w.clone();
        sys.set_notify(
            h as u32,
            Box::new(move || {
                w.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
    }
    let mut b = batch(&[
        (IN_NOTICE, 0, vec![notice::REPLY, 1]),
        (IN_NOTICE, 0, vec![notice::REPLY, 2]),
        (IN_NOTICE, 2, vec![notice::REPLY, 3]),
        (IN_NOTICE, 0, vec![notice::REPLY, 4]),
    ]);
    // A record of an unknown kind: the batch is refused from there on, what came before is not.
    b.extend_from_slice(&[99, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(sys.send_batch(1, &b).is_err());
    let mut out = Vec::new();
    assert_eq!(sys.drain(0, &[], 64, 64, &mut out).unwrap(), 3);
    let got: Vec<_> = records(&out)
        .into_iter()
        .map(|(k, a, body)| (k, a, body[1]))
        .collect();
    assert_eq!(
        got,
        vec![(OUT_NOTICE, 0, 1), (OUT_NOTICE, 0, 2), (OUT_NOTICE, 0, 4)]
    );
    out.clear();
    assert_eq!(sys.drain(2, &[], 64, 64, &mut out).unwrap(), 1);
    assert_eq!(records(&out)[0].2, vec![notice::REPLY, 3]);
    assert_eq!(
        wakes[0].load(Ordering::SeqCst),
        1,
        "woken once until it drains"
    );
    assert_eq!(wakes[2].load(Ordering::SeqCst), 1);
    assert_eq!(wakes[1].load(Ordering::SeqCst), 0);
}
