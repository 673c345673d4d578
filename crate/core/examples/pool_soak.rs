//! Scheduler-only soak (no JavaScript): 1,000 tasks in flight, echo workers; prints RSS.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use weft_core::pool::{Pool, Taken, Wait, MAIN};

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1048576.0
}

fn main() {
    let pool = Arc::new(Pool::new(2, None).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|slot| {
            let pool = pool.clone();
            let stop = stop.clone();
            thread::spawn(move || {
                pool.attach_worker(slot, Box::new(|| {})).unwrap();
                let mut buf = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    buf.clear();
                    if pool
                        .take(slot, 64, Wait::Park(Duration::from_millis(5)), &mut buf)
                        .unwrap()
                        != Taken::Work
                    {
                        continue;
                    }
                    let mut done = Vec::new();
                    let mut at = 0;
                    while at < buf.len() {
                        let len =
                            u32::from_le_bytes(buf[at + 1..at + 5].try_into().unwrap()) as usize;
                        let body = &buf[at + 5..at + 5 + len];
                        if buf[at] == 1 {
                            done.extend_from_slice(&(13u32 + 1).to_le_bytes());
                            done.extend_from_slice(&body[0..8]);
                            done.push(0);
                            done.extend_from_slice(&0.001f32.to_bits().to_le_bytes());
                            done.push(7);
                        }
                        at += 5 + len;
                    }
                    pool.complete(slot, &done).unwrap();
                }
            })
        })
        .collect();
    let mut id = 0u32;
    for round in 0..4000 {
        let mut buf = Vec::new();
        for _ in 0..1000 {
            id = id.wrapping_add(1);
            buf.extend_from_slice(&(8u32 + 3).to_le_bytes());
            buf.extend_from_slice(&id.to_le_bytes());
            buf.extend_from_slice(&(-1i32).to_le_bytes());
            buf.extend_from_slice(b"abc");
        }
        pool.submit(MAIN, &buf).unwrap();
        let mut got = 0;
        while got < 1000 {
            let mut out = Vec::new();
            pool.drain_main(&mut out);
            let mut at = 0;
            while at < out.len() {
                let len = u32::from_le_bytes(out[at..at + 4].try_into().unwrap()) as usize;
                at += 4 + len;
                got += 1;
            }
            if out.is_empty() {
                thread::yield_now();
            }
        }
        if round % 500 == 0 {
            println!("{} tasks rss {:.1} MB", (round + 1) * 1000, rss_mb());
        }
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    println!("done rss {:.1} MB", rss_mb());
}
