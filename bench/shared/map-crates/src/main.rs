//! get/set throughput of the concurrent-map candidates for SharedMap, on one and two threads, on
//! the same workload: 100,000 numeric keys preloaded, values that are cheap to clone (the shape of
//! weft's `Value` for numbers), uniformly random keys. Medians of 5 runs, millions of ops/s.
//! Run: `cargo run --release --manifest-path bench/shared/map-crates/Cargo.toml [-- --keys N]`
//! (`--keys 1024`: a hot set that stays in the caches, where a read's shared writes, such as a
//! shard lock's reader count, are what two threads contend on).

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const DEFAULT_KEYS: u64 = 100_000;
const RUN: Duration = Duration::from_millis(300);

/// The shape of weft's `Value` (a number, or a string behind an `Arc`); only read by `clone`.
#[derive(Clone)]
#[allow(dead_code)]
enum Value {
    Number(f64),
    Text(Arc<str>),
}

trait Map: Send + Sync + 'static {
    fn get(&self, k: u64) -> Option<Value>;
    fn set(&self, k: u64, v: Value);
}

struct Papaya(papaya::HashMap<u64, Value>);
impl Map for Papaya {
    fn get(&self, k: u64) -> Option<Value> {
        self.0.pin().get(&k).cloned()
    }
    fn set(&self, k: u64, v: Value) {
        self.0.pin().insert(k, v);
    }
}
struct Dash(dashmap::DashMap<u64, Value>);
impl Map for Dash {
    fn get(&self, k: u64) -> Option<Value> {
        self.0.get(&k).map(|r| r.clone())
    }
    fn set(&self, k: u64, v: Value) {
        self.0.insert(k, v);
    }
}
struct Scc(scc::HashMap<u64, Value>);
impl Map for Scc {
    fn get(&self, k: u64) -> Option<Value> {
        self.0.read(&k, |_, v| v.clone())
    }
    fn set(&self, k: u64, v: Value) {
        self.0.upsert(k, v);
    }
}
struct Moka(moka::sync::Cache<u64, Value>);
impl Map for Moka {
    fn get(&self, k: u64) -> Option<Value> {
        self.0.get(&k)
    }
    fn set(&self, k: u64, v: Value) {
        self.0.insert(k, v);
    }
}
struct Locked(std::sync::RwLock<std::collections::HashMap<u64, Value>>);
impl Map for Locked {
    fn get(&self, k: u64) -> Option<Value> {
        self.0.read().unwrap().get(&k).cloned()
    }
    fn set(&self, k: u64, v: Value) {
        self.0.write().unwrap().insert(k, v);
    }
}

fn rate(map: Arc<dyn Map>, keys: u64, threads: usize, write: bool) -> f64 {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let map = map.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (t as u64 + 1);
                let mut ops = 0u64;
                barrier.wait();
                let start = Instant::now();
                while start.elapsed() < RUN {
                    for _ in 0..1024 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let k = x % keys;
                        if write {
                            map.set(k, Value::Number(k as f64));
                        } else {
                            std::hint::black_box(map.get(k));
                        }
                    }
                    ops += 1024;
                }
                ops as f64 / start.elapsed().as_secs_f64()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum::<f64>() / 1e6
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let keys = match args.iter().position(|a| a == "--keys") {
        Some(i) => args.get(i + 1).and_then(|v| v.parse().ok()).expect("--keys N: a positive integer"),
        None => DEFAULT_KEYS,
    };
    println!("{keys} keys");
    let make: Vec<(&str, fn() -> Arc<dyn Map>)> = vec![
        ("papaya", || Arc::new(Papaya(papaya::HashMap::new()))),
        ("dashmap", || Arc::new(Dash(dashmap::DashMap::new()))),
        ("scc", || Arc::new(Scc(scc::HashMap::new()))),
        ("moka (bounded 1M)", || Arc::new(Moka(moka::sync::Cache::new(1 << 20)))),
        ("RwLock<HashMap>", || Arc::new(Locked(Default::default()))),
    ];
    println!("| map | get, 1 thread | get, 2 threads | set, 1 thread | set, 2 threads |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, new) in make {
        let map = new();
        for k in 0..keys {
            map.set(k, Value::Number(k as f64));
        }
        let mut cells = Vec::new();
        for write in [false, true] {
            for threads in [1, 2] {
                cells.push(median((0..5).map(|_| rate(map.clone(), keys, threads, write)).collect()));
            }
        }
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} |",
            cells[0], cells[1], cells[2], cells[3]
        );
    }
}
