//! Streaming-sum probe: the memory-bandwidth floor for `bench/par` case b.
//!
//! Allocates `n` f64, fills them with pseudo-random values in [0, 1), then times a parallel sum
//! (rayon, `--threads` threads, default 2) `--runs` times after one untimed warm-up pass, and
//! prints JSON on stdout: every run's seconds, the median and the minimum. Kernels:
//!
//! - `plain` (default): `par_iter().sum::<f64>()`. Each thread's fold is one chain of dependent
//!   float additions (the compiler may not reorder them), so below memory bandwidth it is bound by
//!   the latency of an addition, not by the memory.
//! - `lanes`: each rayon piece of 64 Ki values summed into 8 independent accumulators (which the
//!   compiler vectorises), then the pieces added: what a streaming read of the array costs.
//!
//! Both sums are naive (not exact like weft's): floors, not equivalent computations.
//!
//! Usage: sum-probe --n 100000000 [--runs 5] [--threads 2] [--kernel plain|lanes]

use rayon::prelude::*;
use std::time::Instant;

fn arg(args: &[String], name: &str, default: f64) -> f64 {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} needs a number")),
        None => default,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--n", 1e7) as usize;
    let runs = (arg(&args, "--runs", 5.0) as usize).max(1);
    let threads = (arg(&args, "--threads", 2.0) as usize).max(1);
    let kernel = match args.iter().position(|a| a == "--kernel") {
        Some(i) => args.get(i + 1).map(String::as_str).unwrap_or("plain").to_string(),
        None => "plain".to_string(),
    };
    assert!(
        kernel == "plain" || kernel == "lanes",
        "--kernel is plain or lanes"
    );

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool");

    // Fill (splitmix64 -> 53-bit fraction in [0, 1)), in parallel so 1e8 values stay quick.
    let mut data = vec![0f64; n];
    pool.install(|| {
        data.par_chunks_mut(1 << 16).enumerate().for_each(|(c, chunk)| {
            let mut s = (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
            for v in chunk.iter_mut() {
                s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                *v = (z >> 11) as f64 / (1u64 << 53) as f64;
            }
        });
    });

    let lanes = kernel == "lanes";
    let sum = |d: &[f64]| -> f64 {
        pool.install(|| {
            if lanes {
                d.par_chunks(1 << 16).map(sum_lanes).sum::<f64>()
            } else {
                d.par_iter().sum::<f64>()
            }
        })
    };
    let warm = std::hint::black_box(sum(std::hint::black_box(&data)));

    let mut samples = Vec::with_capacity(runs);
    let mut last = 0.0;
    for _ in 0..runs {
        let t = Instant::now();
        last = std::hint::black_box(sum(std::hint::black_box(&data)));
        samples.push(t.elapsed().as_secs_f64());
    }
    let mut sorted = samples.clone();
    sorted.sort_by(f64::total_cmp);
    let m = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[m]
    } else {
        (sorted[m - 1] + sorted[m]) / 2.0
    };
    let list = samples
        .iter()
        .map(|s| format!("{s:.9}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "{{\"kernel\": \"{kernel}\", \"n\": {n}, \"threads\": {}, \"runs\": {runs}, \"median_s\": {median:.9}, \"min_s\": {:.9}, \"samples_s\": [{list}], \"sum\": {last}, \"warmup_sum\": {warm}}}",
        pool.current_num_threads(),
        sorted[0],
    );
}

/// Sum with 8 independent accumulators (vectorisable), then the tail.
fn sum_lanes(chunk: &[f64]) -> f64 {
    let mut acc = [0f64; 8];
    let mut blocks = chunk.chunks_exact(8);
    for b in &mut blocks {
        for k in 0..8 {
            acc[k] += b[k];
        }
    }
    let mut total: f64 = acc.iter().sum();
    for v in blocks.remainder() {
        total += v;
    }
    total
}
