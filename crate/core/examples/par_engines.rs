//! The par engines side by side, in process: the JIT against the interpreter on the par
//! benchmark's cases a, c and d (bench/par/index.ts), plus `a-count` (a's stages, counted) and
//! `d-sum` (d's stages, summed), one thread (`Mode::Inline`) so that the figures are the
//! per-element cost of the stages, not of the pool.
//!
//! ```text
//! cargo run --release --manifest-path crate/Cargo.toml -p weft-core --example par_engines
//! cargo run --release ... --example par_engines -- --n 10000000 --runs 9 --cases a,c,d
//! ```
//!
//! Runs are interleaved (each round runs every case on both engines, the engine order
//! alternating), after one warm-up round; each line reports the median ns per element of each
//! engine and the median of the per-round ratios interp / jit (above 1: the JIT is faster).

use std::hint::black_box;
use std::time::Instant;

use weft_core::par::program::Builder;
use weft_core::par::{
    decode, run_engine, ElemKind, Engine, Kind, Mode, Op, Pipeline, Source, Terminal,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|k| args.get(k + 1).cloned())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `map(x => x * 2).filter(x => x % 3 === 0)`.
fn case_a() -> Pipeline {
    let b = Builder::new(&[2.0, 3.0, 0.0], 2);
    let (c0, c1, c2, t0, t1) = (b.c(0), b.c(1), b.c(2), b.t(0), b.t(1));
    let b = b.program(Kind::Map, &[(Op::Mul, t0, &[0, c0])], t0);
    let b = b.program(
        Kind::Filter,
        &[(Op::Mod, t0, &[0, c1]), (Op::Eq, t1, &[t0, c2])],
        t1,
    );
    let (w, c) = b.build();
    decode(&w, &c).unwrap()
}

/// `map(x => Math.sqrt(x) * 2 + 1)`.
fn case_c() -> Pipeline {
    let b = Builder::new(&[2.0, 1.0], 1);
    let (c0, c1, t0) = (b.c(0), b.c(1), b.t(0));
    let b = b.program(
        Kind::Map,
        &[
            (Op::Sqrt, t0, &[0]),
            (Op::Mul, t0, &[t0, c0]),
            (Op::Add, t0, &[t0, c1]),
        ],
        t0,
    );
    let (w, c) = b.build();
    decode(&w, &c).unwrap()
}

/// `filter(x => x > 0.5)`.
fn case_d() -> Pipeline {
    let b = Builder::new(&[0.5], 1);
    let (c0, t0) = (b.c(0), b.t(0));
    let b = b.program(Kind::Filter, &[(Op::Gt, t0, &[0, c0])], t0);
    let (w, c) = b.build();
    decode(&w, &c).unwrap()
}

fn main() {
    let n: usize = arg("--n")
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(10_000_000, |v| v as usize);
    let runs: usize = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(9);
    let cases = arg("--cases").unwrap_or_else(|| "a,c,d".to_owned());
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let values: Vec<f64> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    let (a, c, d) = (case_a(), case_c(), case_d());
    let all: Vec<(&str, &Pipeline, Source<'_>, Terminal)> = vec![
        (
            "a",
            &a,
            Source::Range {
                start: 0.0,
                step: 1.0,
                len: n as u64,
            },
            Terminal::Sum,
        ),
        (
            "c",
            &c,
            Source::F64(&values),
            Terminal::ToArray(ElemKind::F64),
        ),
        ("d", &d, Source::F64(&values), Terminal::Count),
        (
            "a-count",
            &a,
            Source::Range {
                start: 0.0,
                step: 1.0,
                len: n as u64,
            },
            Terminal::Count,
        ),
        ("d-sum", &d, Source::F64(&values), Terminal::Sum),
    ];
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|(name, ..)| cases.split(',').any(|c| c == *name))
        .collect();
    let time = |p: &Pipeline, src: Source<'_>, t: Terminal, e: Engine| {
        let t0 = Instant::now();
        let out = run_engine(p, src, t, Mode::Inline, e).unwrap();
        let dt = t0.elapsed().as_secs_f64();
        black_box(out);
        dt * 1e9 / n as f64
    };
    for &(_, p, src, t) in &chosen {
        time(p, src, t, Engine::Jit);
        time(p, src, t, Engine::Interp);
    }
    for &(name, p, src, t) in &chosen {
        let (mut jit, mut interp, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..runs {
            let (j, i) = if r % 2 == 0 {
                let j = time(p, src, t, Engine::Jit);
                (j, time(p, src, t, Engine::Interp))
            } else {
                let i = time(p, src, t, Engine::Interp);
                (time(p, src, t, Engine::Jit), i)
            };
            jit.push(j);
            interp.push(i);
            ratio.push(i / j);
        }
        println!(
            "case {name}: jit {:.3} ns/elem, interp {:.3} ns/elem, paired median interp/jit {:.3}",
            median(&mut jit),
            median(&mut interp),
            median(&mut ratio)
        );
    }
}
