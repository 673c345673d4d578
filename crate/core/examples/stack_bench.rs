//! Throughput of weft-core's `TreiberStack` against `Mutex<Vec>` and the classic crossbeam-epoch
//! Treiber stack.
//!
//! ```text
//! cargo run --release --manifest-path crate/Cargo.toml -p weft-core --example stack_bench
//! cargo run --release ... --example stack_bench -- --pairs 2000000 --runs 9 --threads 1,2,4
//! ```
//!
//! Workload: every thread does `push(v)` then `pop()`, `--pairs` times, on one shared stack that
//! starts empty; with `--work N`, each thread also does N steps of local work (a xorshift step
//! each, a few ns) after each push and after each pop: the "fair" workload, where threads do
//! something between operations as real code does, instead of hammering the stack back to back
//! (which favours an unfair lock's long streaks on one core). The rate is reported in **ops/s, where one push or one pop is one op** (so a
//! push+pop pair is two ops), over all threads: `threads * pairs * 2 / elapsed`. A run spans
//! from the first thread's start (after a start barrier) to the last thread's end.
//!
//! Runs are interleaved (run 1 of every case, then run 2 of every case, ...) after one warm-up
//! round, so that the noise of a shared machine spreads over all cases alike; each case reports
//! the median of its runs and every sample.
//!
//! stdout: one JSON object (medians, samples, ratios). stderr: a readable table.

use std::hint::black_box;
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_epoch::{self as epoch, Atomic, Owned};
use weft_core::stack::TreiberStack;

/// The addon's allocator (crate/binding/src/lib.rs): stack nodes cost here what they cost there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The reference: crossbeam-epoch's own Treiber stack, as written in its documentation and tests
/// (`crossbeam-epoch/tests/loom.rs`): `pop` moves the value out with `ptr::read`, and there is
/// no length counter.
mod reference {
    use super::*;

    pub struct TreiberStack<T> {
        head: Atomic<Node<T>>,
    }

    struct Node<T> {
        data: ManuallyDrop<T>,
        next: Atomic<Node<T>>,
    }

    impl<T> TreiberStack<T> {
        pub fn new() -> TreiberStack<T> {
            TreiberStack {
                head: Atomic::null(),
            }
        }

        pub fn push(&self, t: T) {
            let mut n = Owned::new(Node {
                data: ManuallyDrop::new(t),
                next: Atomic::null(),
            });

            let guard = epoch::pin();

            loop {
                let head = self.head.load(Relaxed, &guard);
                n.next.store(head, Relaxed);

                match self
                    .head
                    .compare_exchange(head, n, Release, Relaxed, &guard)
                {
                    Ok(_) => break,
                    Err(e) => n = e.new,
                }
            }
        }

        // `&(*h).data` is kept verbatim from crossbeam-epoch (`&h.data` is the same place).
        #[allow(clippy::explicit_auto_deref)]
        pub fn pop(&self) -> Option<T> {
            let guard = epoch::pin();
            loop {
                let head = self.head.load(Acquire, &guard);

                // SAFETY: `head` was loaded under `guard`; a node is destroyed only through
                // `defer_destroy` after it is unlinked, which waits until every guard pinned
                // before then (this one included) is dropped, so the node is still allocated.
                match unsafe { head.as_ref() } {
                    Some(h) => {
                        let next = h.next.load(Relaxed, &guard);

                        if self
                            .head
                            .compare_exchange(head, next, Relaxed, Relaxed, &guard)
                            .is_ok()
                        {
                            // SAFETY: the successful compare-exchange unlinked `head`, so this
                            // thread alone retires it (once) and alone reads its value out; no
                            // new reader can reach it. `defer_destroy` frees the box after the
                            // grace period without dropping `data` (ManuallyDrop), so the value
                            // moved out by `ptr::read` is dropped exactly once, by the caller.
                            unsafe {
                                guard.defer_destroy(head);
                                return Some(ManuallyDrop::into_inner(ptr::read(&(*h).data)));
                            }
                        }
                    }
                    None => return None,
                }
            }
        }
    }

    impl<T> Drop for TreiberStack<T> {
        fn drop(&mut self) {
            while self.pop().is_some() {}
        }
    }
}

/// What a benchmarked stack offers.
trait Stack: Sync {
    const NAME: &'static str;
    fn new() -> Self;
    fn push(&self, v: u64);
    fn pop(&self) -> Option<u64>;
}

impl Stack for TreiberStack<u64> {
    const NAME: &'static str = "weft";
    fn new() -> Self {
        TreiberStack::new()
    }
    fn push(&self, v: u64) {
        TreiberStack::push(self, v)
    }
    fn pop(&self) -> Option<u64> {
        TreiberStack::pop(self)
    }
}

impl Stack for Mutex<Vec<u64>> {
    const NAME: &'static str = "mutex";
    fn new() -> Self {
        Mutex::new(Vec::new())
    }
    fn push(&self, v: u64) {
        self.lock().unwrap().push(v)
    }
    fn pop(&self) -> Option<u64> {
        self.lock().unwrap().pop()
    }
}

impl Stack for reference::TreiberStack<u64> {
    const NAME: &'static str = "crossbeam-ref";
    fn new() -> Self {
        reference::TreiberStack::new()
    }
    fn push(&self, v: u64) {
        reference::TreiberStack::push(self, v)
    }
    fn pop(&self) -> Option<u64> {
        reference::TreiberStack::pop(self)
    }
}

const IMPLS: [&str; 3] = ["weft", "mutex", "crossbeam-ref"];

/// One timed run: `threads` threads each doing `pairs` push+pop pairs on a fresh stack.
/// Returns ops/s (one push or one pop = one op).
fn run_once<S: Stack>(threads: usize, pairs: u64, work: u32) -> f64 {
    let stack = S::new();
    let barrier = Barrier::new(threads);
    // Each thread reads the clock itself, right after the barrier and right after its last pop:
    // the run spans from the first start to the last end. (A clock read by the spawning thread
    // would count the time it waits to be scheduled again, which on an oversubscribed machine
    // can come after the workers are done.)
    let results: Vec<(Instant, Instant, u64)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads as u64)
            .map(|t| {
                let (stack, barrier) = (&stack, &barrier);
                scope.spawn(move || {
                    let base = t << 40;
                    let mut sum = 0u64;
                    let mut x = base | 1;
                    let mut local = |n: u32| {
                        for _ in 0..n {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                        }
                        black_box(x);
                    };
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..pairs {
                        stack.push(base + i);
                        local(work);
                        // Never empty here: this thread's own push precedes its pop, and every
                        // thread pops at most as often as it has pushed.
                        sum = sum.wrapping_add(stack.pop().expect("stack empty after a push"));
                        local(work);
                    }
                    (start, Instant::now(), black_box(sum))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("benchmark thread panicked"))
            .collect()
    });
    let start = results
        .iter()
        .map(|r| r.0)
        .min()
        .expect("at least one thread");
    let end = results
        .iter()
        .map(|r| r.1)
        .max()
        .expect("at least one thread");
    // Every value pushed was popped exactly once, by some thread.
    let sums = results.iter().map(|r| r.2).fold(0, u64::wrapping_add);
    let expected = (0..threads as u64)
        .map(|t| (t << 40).wrapping_mul(pairs) + pairs * (pairs - 1) / 2)
        .fold(0, u64::wrapping_add);
    assert_eq!(sums, expected, "{}: popped values do not add up", S::NAME);
    assert!(
        S::pop(&stack).is_none(),
        "{}: stack not empty at the end",
        S::NAME
    );
    ops_per_s(threads, pairs, end - start)
}

fn ops_per_s(threads: usize, pairs: u64, elapsed: Duration) -> f64 {
    (threads as u64 * pairs * 2) as f64 / elapsed.as_secs_f64()
}

fn run_case(name: &str, threads: usize, pairs: u64, work: u32) -> f64 {
    match name {
        "weft" => run_once::<TreiberStack<u64>>(threads, pairs, work),
        "mutex" => run_once::<Mutex<Vec<u64>>>(threads, pairs, work),
        "crossbeam-ref" => run_once::<reference::TreiberStack<u64>>(threads, pairs, work),
        _ => unreachable!("unknown implementation {name}"),
    }
}

fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

struct Options {
    pairs: u64,
    runs: usize,
    threads: Vec<usize>,
    work: u32,
}

fn parse_args() -> Options {
    let mut opts = Options {
        pairs: 2_000_000,
        runs: 9,
        threads: vec![1, 2, 4],
        work: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--pairs" => opts.pairs = value.parse().unwrap_or_else(|_| usage("bad --pairs")),
            "--runs" => opts.runs = value.parse().unwrap_or_else(|_| usage("bad --runs")),
            "--work" => opts.work = value.parse().unwrap_or_else(|_| usage("bad --work")),
            "--threads" => {
                opts.threads = value
                    .split(',')
                    .map(|t| t.trim().parse().unwrap_or_else(|_| usage("bad --threads")))
                    .collect()
            }
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    if opts.pairs == 0 || opts.runs == 0 || opts.threads.contains(&0) {
        usage("--pairs, --runs and every thread count must be positive");
    }
    opts
}

fn usage(msg: &str) -> ! {
    eprintln!("stack_bench: {msg}\nusage: stack_bench [--pairs N] [--runs N] [--threads 1,2,4] [--work N]");
    std::process::exit(2)
}

fn json_list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:.0}")).collect();
    format!("[{}]", items.join(","))
}

fn main() {
    let opts = parse_args();
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    let cases: Vec<(usize, &str)> = opts
        .threads
        .iter()
        .flat_map(|&t| IMPLS.iter().map(move |&name| (t, name)))
        .collect();

    // Warm-up: page in the allocator's arenas and each thread's epoch registration path.
    for &(threads, name) in &cases {
        run_case(name, threads, (opts.pairs / 10).max(1), opts.work);
    }
    let mut samples = vec![Vec::with_capacity(opts.runs); cases.len()];
    for run in 0..opts.runs {
        eprintln!("stack_bench: run {}/{}", run + 1, opts.runs);
        for (i, &(threads, name)) in cases.iter().enumerate() {
            samples[i].push(run_case(name, threads, opts.pairs, opts.work));
        }
    }
    let medians: Vec<f64> = samples.iter().map(|s| median(s)).collect();
    let find = |threads: usize, name: &str| {
        cases
            .iter()
            .position(|&c| c == (threads, name))
            .expect("case exists")
    };

    // Table on stderr.
    eprintln!(
        "\nRust TreiberStack<u64>: push+pop pairs, ops/s (1 push or 1 pop = 1 op), median of {} runs x {} pairs/thread, local work {} steps, {} CPUs",
        opts.runs, opts.pairs, opts.work, cpus
    );
    eprintln!(
        "{:>7}  {:>14}  {:>14}  {:>14}  {:>10}  {:>12}",
        "threads", "weft", "Mutex<Vec>", "crossbeam-ref", "weft/mutex", "weft/cb-ref"
    );
    let mut ratio_json = Vec::new();
    for &t in &opts.threads {
        let (w, m, c) = (
            medians[find(t, "weft")],
            medians[find(t, "mutex")],
            medians[find(t, "crossbeam-ref")],
        );
        // Ratios of the same run (the cases of one run ran back to back), then their median:
        // less sensitive to drift in the machine's load than the ratio of the medians.
        let paired = |other: &str| {
            let ratios: Vec<f64> = samples[find(t, "weft")]
                .iter()
                .zip(&samples[find(t, other)])
                .map(|(a, b)| a / b)
                .collect();
            median(&ratios)
        };
        eprintln!(
            "{:>7}  {:>12.2} M  {:>12.2} M  {:>12.2} M  {:>10.2}  {:>12.2}",
            t,
            w / 1e6,
            m / 1e6,
            c / 1e6,
            w / m,
            w / c
        );
        ratio_json.push(format!(
            "{{\"threads\":{t},\"weft_over_mutex\":{:.4},\"weft_over_crossbeam_ref\":{:.4},\"paired_median_weft_over_mutex\":{:.4},\"paired_median_weft_over_crossbeam_ref\":{:.4}}}",
            w / m,
            w / c,
            paired("mutex"),
            paired("crossbeam-ref")
        ));
    }
    if cpus > 0 && opts.threads.iter().any(|&t| t > cpus) {
        eprintln!(
            "(rows with more threads than the {cpus} CPUs are oversubscribed: informative only)"
        );
    }

    // JSON on stdout.
    let case_json: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, &(threads, name))| {
            format!(
                "{{\"impl\":\"{name}\",\"threads\":{threads},\"median_ops_per_s\":{:.0},\"max_ops_per_s\":{:.0},\"samples_ops_per_s\":{}}}",
                medians[i],
                samples[i].iter().copied().fold(0.0, f64::max),
                json_list(&samples[i])
            )
        })
        .collect();
    println!(
        "{{\"unit\":\"ops/s: one push or one pop = one op; each thread repeats push then pop\",\"pairs_per_thread\":{},\"work_steps\":{},\"runs\":{},\"available_parallelism\":{},\"impls\":{{\"weft\":\"weft_core::stack::TreiberStack<u64>\",\"mutex\":\"std::sync::Mutex<Vec<u64>>\",\"crossbeam-ref\":\"crossbeam-epoch docs/tests Treiber stack (ptr::read on pop, no length)\"}},\"cases\":[{}],\"ratios\":[{}]}}",
        opts.pairs,
        opts.work,
        opts.runs,
        cpus,
        case_json.join(","),
        ratio_json.join(",")
    );
}
