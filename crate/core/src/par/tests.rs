//! End-to-end tests of `par::run`: terminals, sources, and independence from the thread count.

use super::program::{decode, Builder, Kind, Op};
use super::*;
use crate::error::Code;

mod stats;
mod zip;

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn identity() -> Pipeline {
    Pipeline::empty()
}

/// `map(x => x * 2).filter(x => x % 3 === 0)`
fn article() -> Pipeline {
    let b = Builder::new(&[2.0, 3.0, 0.0], 2);
    let (c0, c1, c2, t0, t1) = (b.c(0), b.c(1), b.c(2), b.t(0), b.t(1));
    let (w, c) = b
        .program(Kind::Map, &[(Op::Mul, t0, &[0, c0])], t0)
        .program(
            Kind::Filter,
            &[(Op::Mod, t0, &[0, c1]), (Op::Eq, t1, &[t0, c2])],
            t1,
        )
        .build();
    decode(&w, &c).unwrap()
}

/// A pipeline with just a terminal closure `op(arg0, arg1)`.
fn with_terminal(kind: Kind, op: Op) -> Pipeline {
    let b = Builder::new(&[], 1);
    let t0 = b.t(0);
    let (w, c) = b.program(kind, &[(op, t0, &[0, 1])], t0).build();
    decode(&w, &c).unwrap()
}

fn pools() -> Vec<rayon::ThreadPool> {
    [1, 2, 3, 4, 7]
        .iter()
        .map(|&n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        })
        .collect()
}

/// Runs in every mode and thread count, on the interpreter and (where built) on the JIT, and
/// checks that all agree; returns the result.
fn everywhere(p: &Pipeline, src: Source<'_>, t: Terminal) -> Output {
    let inline = run_engine(p, src, t, Mode::Inline, Engine::Interp).unwrap();
    if jit::AVAILABLE {
        let compiled = run_engine(p, src, t, Mode::Inline, Engine::Jit).unwrap();
        agree(&inline, &compiled, &format!("{t:?} on the JIT"));
    }
    for pool in pools() {
        let par = pool.install(|| run(p, src, t, Mode::Parallel)).unwrap();
        agree(
            &inline,
            &par,
            &format!("{t:?} on {} threads", pool.current_num_threads()),
        );
    }
    inline
}

fn agree(a: &Output, b: &Output, what: &str) {
    match (a, b) {
        (Output::Number(a), Output::Number(b)) => assert!(same(*a, *b), "{what}: {a} vs {b}"),
        (Output::Array(Array::F64(a)), Output::Array(Array::F64(b))) => assert!(
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(*x, *y)),
            "{what}"
        ),
        (Output::Array(Array::F32(a)), Output::Array(Array::F32(b))) => assert!(
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{what}"
        ),
        (a, b) => assert_eq!(a, b, "{what}"),
    }
}

fn num(o: Output) -> f64 {
    match o {
        Output::Number(n) => n,
        o => panic!("not a number: {o:?}"),
    }
}

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[test]
fn the_article_pipeline() {
    let p = article();
    let src = Source::Range {
        start: 0.0,
        step: 1.0,
        len: 1_000_000,
    };
    let want: f64 = (0..1_000_000u64)
        .map(|x| (x * 2) as f64)
        .filter(|x| x % 3.0 == 0.0)
        .sum();
    assert_eq!(num(everywhere(&p, src, Terminal::Sum)), want);
    assert_eq!(num(everywhere(&p, src, Terminal::Count)), 333_334.0);
    assert_eq!(num(everywhere(&p, src, Terminal::Max)), 1_999_998.0);
    assert_eq!(num(everywhere(&p, src, Terminal::Min)), 0.0);
    match everywhere(&p, src, Terminal::ToArray(ElemKind::F64)) {
        Output::Array(Array::F64(v)) => {
            assert_eq!(v.len(), 333_334);
            assert!(v.iter().enumerate().all(|(k, &x)| x == (6 * k) as f64));
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn sums_are_exact_and_independent_of_thread_count() {
    let mut rng = xorshift(0x9E3779B97F4A7C15);
    let values: Vec<f64> = (0..200_003)
        .map(|_| {
            let r = rng();
            let mag = f64::from_bits((r >> 12) | 0x3ff0_0000_0000_0000) - 1.0;
            let e = ((r >> 2) % 120) as i32 - 60;
            if r & 1 == 0 {
                mag * 2f64.powi(e)
            } else {
                -mag * 2f64.powi(e)
            }
        })
        .collect();
    let got = num(everywhere(&identity(), Source::F64(&values), Terminal::Sum));
    let mut exact = sum::ExactSum::new();
    exact.add_all(&values);
    assert!(same(got, exact.value()));
    // At least as accurate as the naive loop.
    let naive: f64 = values.iter().sum();
    let err = |s: f64| {
        let mut e = sum::ExactSum::new();
        e.add_all(&values);
        e.add(-s);
        e.value().abs()
    };
    assert!(err(got) <= err(naive));
    // Integer sums below 2^53 are exact.
    let ints: Vec<i32> = (0..300_000i64)
        .map(|k| ((k * 7919) % 65_536 - 30_000) as i32)
        .collect();
    let want: i64 = ints.iter().map(|&v| v as i64).sum();
    assert_eq!(
        num(everywhere(&identity(), Source::I32(&ints), Terminal::Sum)),
        want as f64
    );
    let mean = num(everywhere(&identity(), Source::I32(&ints), Terminal::Mean));
    assert_eq!(mean, want as f64 / ints.len() as f64);
}

#[test]
fn reduce_is_deterministic_and_sequential_for_small_inputs() {
    // (acc, x) => acc - x is not associative: the result is defined on the fixed chunks.
    let p = with_terminal(Kind::Reduce, Op::Sub);
    let values: Vec<f64> = (0..100_000).map(|k| (k % 97) as f64 * 0.1).collect();
    let r = num(everywhere(
        &p,
        Source::F64(&values),
        Terminal::Reduce { init: 0.5 },
    ));
    assert!(r.is_finite());
    // Up to one chunk, exactly the sequential fold from init.
    let small = &values[..CHUNK];
    let want = small.iter().fold(0.5, |a, &x| a - x);
    let got = num(everywhere(
        &p,
        Source::F64(small),
        Terminal::Reduce { init: 0.5 },
    ));
    assert!(same(got, want));
    // Nothing left: init.
    let empty: [f64; 0] = [];
    assert_eq!(
        num(everywhere(
            &p,
            Source::F64(&empty),
            Terminal::Reduce { init: 7.0 }
        )),
        7.0
    );
    // An associative op gives the plain answer.
    let max = with_terminal(Kind::Reduce, Op::Max);
    assert_eq!(
        num(everywhere(
            &max,
            Source::F64(&values),
            Terminal::Reduce {
                init: f64::NEG_INFINITY
            }
        )),
        9.600000000000001
    );
}

#[test]
fn min_max_of_zeros_and_nan() {
    let p = identity();
    let zeros = [0.0, -0.0, 0.0];
    assert!(same(
        num(everywhere(&p, Source::F64(&zeros), Terminal::Min)),
        -0.0
    ));
    assert!(same(
        num(everywhere(&p, Source::F64(&zeros), Terminal::Max)),
        0.0
    ));
    let mut big: Vec<f64> = (0..50_000).map(|k| k as f64).collect();
    big[40_000] = f64::NAN;
    assert!(num(everywhere(&p, Source::F64(&big), Terminal::Min)).is_nan());
    assert!(num(everywhere(&p, Source::F64(&big), Terminal::Max)).is_nan());
    let empty: [f64; 0] = [];
    assert_eq!(
        everywhere(&p, Source::F64(&empty), Terminal::Min),
        Output::Nothing
    );
    assert_eq!(
        everywhere(&p, Source::F64(&empty), Terminal::Max),
        Output::Nothing
    );
    assert!(num(everywhere(&p, Source::F64(&empty), Terminal::Mean)).is_nan());
    assert!(same(
        num(everywhere(&p, Source::F64(&empty), Terminal::Sum)),
        0.0
    ));
}

#[test]
fn some_and_every() {
    // some(x => x > i) / every(x => x > i) over x = 2 * i except at one place.
    let gt = with_terminal(Kind::Some, Op::Gt);
    let every_gt = with_terminal(Kind::Every, Op::Gt);
    let mut v: Vec<f64> = (0..70_000).map(|k| (2 * k + 1) as f64).collect();
    let src = Source::F64(&v);
    assert_eq!(everywhere(&gt, src, Terminal::Some), Output::Bool(true));
    assert_eq!(
        everywhere(&every_gt, src, Terminal::Every),
        Output::Bool(true)
    );
    v[65_000] = 0.0;
    let src = Source::F64(&v);
    assert_eq!(
        everywhere(&every_gt, src, Terminal::Every),
        Output::Bool(false)
    );
    let lt = with_terminal(Kind::Some, Op::Lt);
    assert_eq!(everywhere(&lt, src, Terminal::Some), Output::Bool(true));
    let empty: [f64; 0] = [];
    assert_eq!(
        everywhere(&lt, Source::F64(&empty), Terminal::Some),
        Output::Bool(false)
    );
    assert_eq!(
        everywhere(&every_gt, Source::F64(&empty), Terminal::Every),
        Output::Bool(true)
    );
}

#[test]
fn every_source_type_reads_as_numbers() {
    let p = identity();
    let t = Terminal::ToArray(ElemKind::F64);
    let f64s = |o: Output| match o {
        Output::Array(Array::F64(v)) => v,
        o => panic!("{o:?}"),
    };
    assert_eq!(
        f64s(everywhere(&p, Source::I8(&[-128, 127]), t)),
        [-128.0, 127.0]
    );
    assert_eq!(f64s(everywhere(&p, Source::U8(&[0, 255]), t)), [0.0, 255.0]);
    assert_eq!(f64s(everywhere(&p, Source::I16(&[-32768]), t)), [-32768.0]);
    assert_eq!(f64s(everywhere(&p, Source::U16(&[65535]), t)), [65535.0]);
    assert_eq!(
        f64s(everywhere(&p, Source::I32(&[i32::MIN]), t)),
        [-2147483648.0]
    );
    assert_eq!(
        f64s(everywhere(&p, Source::U32(&[u32::MAX]), t)),
        [4294967295.0]
    );
    assert_eq!(
        f64s(everywhere(&p, Source::F32(&[0.1]), t)),
        [0.10000000149011612]
    );
    let r = Source::Range {
        start: 1.0,
        step: -0.25,
        len: 5,
    };
    assert_eq!(f64s(everywhere(&p, r, t)), [1.0, 0.75, 0.5, 0.25, 0.0]);
}

#[test]
fn arrays_convert_like_typed_array_stores_and_sort() {
    let p = identity();
    let v = [
        1.5,
        -1.5,
        300.0,
        -0.0,
        f64::NAN,
        2.5,
        4294967297.0,
        f64::INFINITY,
    ];
    let src = Source::F64(&v);
    match everywhere(&p, src, Terminal::ToArray(ElemKind::I32)) {
        Output::Array(Array::I32(a)) => assert_eq!(a, [1, -1, 300, 0, 0, 2, 1, 0]),
        o => panic!("{o:?}"),
    }
    match everywhere(&p, src, Terminal::ToArray(ElemKind::U8Clamped)) {
        Output::Array(Array::U8Clamped(a)) => assert_eq!(a, [2, 0, 255, 0, 0, 2, 255, 255]),
        o => panic!("{o:?}"),
    }
    match everywhere(&p, src, Terminal::ToArray(ElemKind::U8)) {
        Output::Array(Array::U8(a)) => assert_eq!(a, [1, 255, 44, 0, 0, 2, 1, 0]),
        o => panic!("{o:?}"),
    }
    match everywhere(
        &p,
        src,
        Terminal::Sort {
            kind: ElemKind::F64,
            descending: false,
        },
    ) {
        Output::Array(Array::F64(a)) => {
            let want = [
                -1.5,
                -0.0,
                1.5,
                2.5,
                300.0,
                4294967297.0,
                f64::INFINITY,
                f64::NAN,
            ];
            assert!(a.iter().zip(&want).all(|(x, y)| same(*x, *y)), "{a:?}");
        }
        o => panic!("{o:?}"),
    }
    match everywhere(
        &p,
        src,
        Terminal::Sort {
            kind: ElemKind::F64,
            descending: true,
        },
    ) {
        Output::Array(Array::F64(a)) => {
            let want = [
                f64::INFINITY,
                4294967297.0,
                300.0,
                2.5,
                1.5,
                -0.0,
                -1.5,
                f64::NAN,
            ];
            assert!(a.iter().zip(&want).all(|(x, y)| same(*x, *y)), "{a:?}");
        }
        o => panic!("{o:?}"),
    }
    match everywhere(
        &p,
        src,
        Terminal::Sort {
            kind: ElemKind::I8,
            descending: true,
        },
    ) {
        Output::Array(Array::I8(a)) => assert_eq!(a, [44, 2, 1, 1, 0, 0, 0, -1]),
        o => panic!("{o:?}"),
    }
    // Big sorts agree across thread counts.
    let mut rng = xorshift(42);
    let big: Vec<f64> = (0..100_000)
        .map(|_| (rng() % 1000) as f64 - 500.0)
        .collect();
    match everywhere(
        &p,
        Source::F64(&big),
        Terminal::Sort {
            kind: ElemKind::F64,
            descending: false,
        },
    ) {
        Output::Array(Array::F64(a)) => assert!(a.windows(2).all(|w| w[0] <= w[1])),
        o => panic!("{o:?}"),
    }
}

#[test]
fn into_writes_in_place_and_refuses_small_outputs() {
    let p = article();
    let src = Source::Range {
        start: 0.0,
        step: 1.0,
        len: 40_000,
    };
    let mut out = vec![-1.0f64; 20_000];
    let n = run_into(&p, src, ArrayMut::F64(&mut out), Mode::Parallel).unwrap();
    assert_eq!(n, 13_334);
    assert!(out[..n]
        .iter()
        .enumerate()
        .all(|(k, &x)| x == (6 * k) as f64));
    assert!(out[n..].iter().all(|&x| x == -1.0));
    let mut small = vec![0i32; 10];
    let e = run_into(&p, src, ArrayMut::I32(&mut small), Mode::Inline).unwrap_err();
    assert_eq!(e.code, crate::error::Code::InvalidArg);
    assert!(small.iter().all(|&x| x == 0));
    // One-to-one pipelines write straight into the output.
    let mut out = vec![0u8; 5];
    let v = [1.0, 2.0, 3.0];
    assert_eq!(
        run_into(
            &identity(),
            Source::F64(&v),
            ArrayMut::U8Clamped(&mut out),
            Mode::Inline
        )
        .unwrap(),
        3
    );
    assert_eq!(out, [1, 2, 3, 0, 0]);
    let mut tiny = vec![0u8; 2];
    assert!(run_into(
        &identity(),
        Source::F64(&v),
        ArrayMut::U8(&mut tiny),
        Mode::Inline
    )
    .is_err());
}

#[test]
fn mismatched_terminals_are_errors() {
    let p = identity();
    let v = [1.0];
    assert!(run(&p, Source::F64(&v), Terminal::Some, Mode::Inline).is_err());
    let r = with_terminal(Kind::Reduce, Op::Add);
    assert!(run(&r, Source::F64(&v), Terminal::Sum, Mode::Inline).is_err());
    assert!(run(&r, Source::F64(&v), Terminal::Every, Mode::Inline).is_err());
}

#[test]
fn transcendental_domains_follow_js() {
    use crate::par::js;
    assert!(js::acosh(-3_320_572.390_880_586_6).is_nan());
    assert!(js::acosh(0.5).is_nan());
    assert!(js::acosh(f64::NEG_INFINITY).is_nan());
    assert!(js::acosh(f64::NAN).is_nan());
    assert_eq!(js::acosh(1.0), 0.0);
    assert_eq!(js::acosh(f64::INFINITY), f64::INFINITY);
    // The other inverse functions of libm already agree with JS at their domain edges.
    assert!(libm::atanh(2.0).is_nan() && libm::atanh(-2.0).is_nan());
    assert_eq!(libm::atanh(1.0), f64::INFINITY);
    assert!(libm::acos(2.0).is_nan() && libm::asin(-2.0).is_nan());
    assert!(libm::log(-1.0).is_nan() && libm::log10(-1.0).is_nan() && libm::log2(-1.0).is_nan());
    assert!(libm::log1p(-2.0).is_nan() && libm::sqrt(-1.0).is_nan());
}

/// A last filter ending in a comparison takes a fused compare-and-zero pass before `sum` and
/// `count`; every comparison, with each operand shape (`x`, a temporary, a constant on either
/// side), must give what a plain evaluation gives, NaN and signed zeros included.
#[test]
fn filters_ending_in_a_comparison_sum_and_count_like_javascript() {
    let values: Vec<f64> = (0..50_000)
        .map(|k| match k % 11 {
            0 => f64::NAN,
            1 => -0.0,
            2 => 0.0,
            3 => f64::INFINITY,
            _ => ((k * 7919) % 2001) as f64 / 8.0 - 100.0,
        })
        .collect();
    type Cmp = fn(f64, f64) -> bool;
    let cmps: [(Op, Cmp); 6] = [
        (Op::Lt, |a, b| a < b),
        (Op::Le, |a, b| a <= b),
        (Op::Gt, |a, b| a > b),
        (Op::Ge, |a, b| a >= b),
        (Op::Eq, |a, b| a == b),
        (Op::Ne, |a, b| a != b),
    ];
    for (op, f) in cmps {
        // Shapes: x OP 1.5; (x * 2) OP 1.5; (x * 2) OP (x - 3); 1.5 OP x.
        for shape in 0..4 {
            let b = Builder::new(&[1.5, 2.0, 3.0], 2);
            let (c0, c1, c2, t0, t1) = (b.c(0), b.c(1), b.c(2), b.t(0), b.t(1));
            let args: Vec<(Op, u32, Vec<u32>)> = match shape {
                0 => vec![(op, t0, vec![0, c0])],
                1 => vec![(Op::Mul, t0, vec![0, c1]), (op, t1, vec![t0, c0])],
                2 => vec![
                    (Op::Mul, t0, vec![0, c1]),
                    (Op::Sub, t1, vec![0, c2]),
                    (op, t1, vec![t0, t1]),
                ],
                _ => vec![(op, t0, vec![c0, 0])],
            };
            let code: Vec<(Op, u32, &[u32])> = args
                .iter()
                .map(|(o, d, a)| (*o, *d, a.as_slice()))
                .collect();
            let result = code.last().unwrap().1;
            let (w, c) = b.program(Kind::Filter, &code, result).build();
            let p = decode(&w, &c).unwrap();
            let keep = |x: f64| match shape {
                0 => f(x, 1.5),
                1 => f(x * 2.0, 1.5),
                2 => f(x * 2.0, x - 3.0),
                _ => f(1.5, x),
            };
            let kept: Vec<f64> = values.iter().copied().filter(|&x| keep(x)).collect();
            let mut exact = sum::ExactSum::new();
            exact.add_all(&kept);
            let got_sum = num(everywhere(&p, Source::F64(&values), Terminal::Sum));
            assert!(
                same(got_sum, exact.value()),
                "{op:?} shape {shape}: sum {got_sum} vs {}",
                exact.value()
            );
            let got_count = num(everywhere(&p, Source::F64(&values), Terminal::Count));
            assert_eq!(got_count, kept.len() as f64, "{op:?} shape {shape}: count");
        }
    }
}

/// `run_owned` (the binding's path for a copy of a source JavaScript could take away) agrees
/// with `run` over the same values, whether it reuses the copy (toArray/sort of the same kind
/// without stages) or reads it.
#[test]
fn run_owned_agrees_with_run() {
    let mut next = xorshift(7);
    let f64s: Vec<f64> = (0..70_000)
        .map(|k| match k % 97 {
            0 => f64::NAN,
            1 => -0.0,
            _ => (next() % 2001) as f64 - 1000.0,
        })
        .collect();
    let i16s: Vec<i16> = (0..40_000).map(|_| next() as i16).collect();
    let u8s: Vec<u8> = (0..40_000).map(|_| next() as u8).collect();
    let arrays = [
        Array::F64(f64s),
        Array::F32((0..50_000).map(|_| (next() % 1000) as f32 / 7.0).collect()),
        Array::I16(i16s),
        Array::U8Clamped(u8s),
    ];
    for array in &arrays {
        let kind = array.kind();
        let terminals = [
            Terminal::Sum,
            Terminal::Min,
            Terminal::Count,
            Terminal::ToArray(kind),
            Terminal::ToArray(ElemKind::F64),
            Terminal::Sort {
                kind,
                descending: false,
            },
            Terminal::Sort {
                kind,
                descending: true,
            },
            Terminal::Sort {
                kind: ElemKind::I32,
                descending: false,
            },
        ];
        for p in [identity(), article()] {
            for t in terminals {
                for mode in [Mode::Inline, Mode::Parallel] {
                    let want = run(&p, array.source(), t, mode).unwrap();
                    let got = run_owned(&p, array.clone(), t, mode).unwrap();
                    match (&want, &got) {
                        (Output::Number(a), Output::Number(b)) => {
                            assert!(same(*a, *b), "{t:?}: {a} vs {b}")
                        }
                        (Output::Array(Array::F64(a)), Output::Array(Array::F64(b))) => {
                            assert!(
                                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(*x, *y)),
                                "{t:?} differs"
                            )
                        }
                        (Output::Array(Array::F32(a)), Output::Array(Array::F32(b))) => {
                            assert!(
                                a.len() == b.len()
                                    && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
                                "{t:?} differs"
                            )
                        }
                        _ => assert_eq!(want, got, "{t:?}"),
                    }
                }
            }
        }
    }
}

#[test]
fn a_job_spreads_over_the_free_part_of_the_thread_budget_only() {
    use super::exec::pieces_for;
    // The whole budget free: rayon splits as it likes.
    assert_eq!(pieces_for(100, 4, 4), 1);
    assert_eq!(pieces_for(100, 4, 9), 1);
    // One of four threads free: one piece of every chunk; two free: two pieces at most.
    assert_eq!(pieces_for(100, 4, 1), 100);
    assert_eq!(pieces_for(100, 4, 2), 50);
    assert_eq!(pieces_for(7, 4, 3), 3);
    for (n, free) in [(1usize, 1usize), (5, 2), (64, 3), (1000, 7)] {
        let min = pieces_for(n, 8, free);
        assert!(n / min <= free, "{n} chunks, {free} free: pieces of {min}");
    }
    // Never zero, even for an empty job or a budget reported as zero.
    assert_eq!(pieces_for(0, 4, 1), 1);
    assert_eq!(pieces_for(10, 4, 0), 10);
}

/// A job aborted before it starts ends `WEFT_ABORTED` on every terminal and path; one aborted
/// while it runs stops between chunks (long before it would have finished) and ends so too; one
/// whose flag is never set is not affected.
#[test]
fn cancel_between_chunks() {
    use std::sync::Arc;
    let aborted = |r: crate::error::Result<Output>| {
        let e = r.expect_err("an aborted job has no result");
        assert_eq!(e.code, crate::error::Code::Aborted, "{e:?}");
    };
    let values: Vec<f64> = (0..100_000).map(f64::from).collect();
    let set = Arc::new(Cancel::new());
    set.cancel();
    for t in [
        Terminal::Sum,
        Terminal::Count,
        Terminal::Min,
        Terminal::ToArray(ElemKind::F64),
        Terminal::Sort {
            kind: ElemKind::F64,
            descending: false,
        },
    ] {
        for mode in [Mode::Inline, Mode::Parallel] {
            aborted(cancel_scope(Some(set.clone()), || {
                run(&identity(), Source::F64(&values), t, mode)
            }));
            aborted(cancel_scope(Some(set.clone()), || {
                run(&article(), Source::F64(&values), t, mode)
            }));
            aborted(cancel_scope(Some(set.clone()), || {
                run_owned(&identity(), Array::F64(values.clone()), t, mode)
            }));
        }
    }
    let mut out = vec![0.0; values.len()];
    let e = cancel_scope(Some(set.clone()), || {
        run_into(
            &article(),
            Source::F64(&values),
            ArrayMut::F64(&mut out),
            Mode::Parallel,
        )
    })
    .expect_err("aborted");
    assert_eq!(e.code, crate::error::Code::Aborted);

    // Not set: the same result as without a flag.
    let clear = Arc::new(Cancel::new());
    let with = cancel_scope(Some(clear), || {
        run(
            &article(),
            Source::F64(&values),
            Terminal::Sum,
            Mode::Parallel,
        )
    })
    .unwrap();
    let without = run(
        &article(),
        Source::F64(&values),
        Terminal::Sum,
        Mode::Parallel,
    )
    .unwrap();
    assert!(matches!((with, without), (Output::Number(a), Output::Number(b)) if same(a, b)));

    // While it runs: a range of 2^36 elements would take minutes; an abort 20 ms in ends it at once.
    let flag = Arc::new(Cancel::new());
    let big = Source::Range {
        start: 0.0,
        step: 1.0,
        len: 1 << 36,
    };
    let aborter = {
        let flag = flag.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            flag.cancel();
        })
    };
    let t0 = std::time::Instant::now();
    aborted(cancel_scope(Some(flag), || {
        run(&article(), big, Terminal::Sum, Mode::Parallel)
    }));
    aborter.join().unwrap();
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        t0.elapsed()
    );
}
