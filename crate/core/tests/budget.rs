//! The process-wide thread budget (`weft_core::budget`) as pools run: in a test binary of its own,
//! so that no other test's pool runs while these count.
#![cfg(not(loom))]

use weft_core::budget;
use weft_core::pool::{Pool, Taken, Wait, MAIN};

fn submit(pool: &Pool, ids: std::ops::RangeInclusive<u32>) {
    let mut buf = Vec::new();
    for id in ids {
        buf.extend_from_slice(&9u32.to_le_bytes());
        buf.extend_from_slice(&id.to_le_bytes());
        buf.extend_from_slice(&(-1i32).to_le_bytes());
        buf.push(0);
    }
    pool.submit(MAIN, &buf).unwrap();
}

#[test]
fn running_workers_of_every_pool_leave_par_the_rest_of_the_budget_and_a_dropped_pool_gives_its_share_back(
) {
    let threads = budget::threads();
    assert!(threads >= 1);
    assert_eq!(budget::running(), 0);
    assert_eq!(budget::free(), threads);

    let a = Pool::new(2, None).unwrap();
    let b = Pool::new(1, None).unwrap();
    for (pool, slots) in [(&a, 2), (&b, 1)] {
        for slot in 0..slots {
            pool.attach_worker(slot, Box::new(|| {})).unwrap();
        }
    }
    submit(&a, 1..=2);
    submit(&b, 1..=1);
    let mut out = Vec::new();
    for (pool, slot) in [(&a, 0), (&a, 1), (&b, 0)] {
        out.clear();
        assert_eq!(
            pool.take(slot, 1, Wait::EventLoop, &mut out).unwrap(),
            Taken::Work
        );
    }
    assert_eq!(budget::running(), 3);
    assert_eq!(budget::free(), threads.saturating_sub(3).max(1));

    // A worker back in take with nothing to do no longer counts.
    out.clear();
    assert_eq!(
        a.take(1, 1, Wait::EventLoop, &mut out).unwrap(),
        Taken::Idle
    );
    assert_eq!(budget::running(), 2);
    // A pool dropped with a running worker gives its share back.
    drop(b);
    assert_eq!(budget::running(), 1);
    drop(a);
    assert_eq!(budget::running(), 0);
    assert_eq!(budget::free(), threads);
}
