//! Differential tests: random pipelines over inputs full of edge values run on the JIT and on
//! the interpreter (the reference), with bit-identical results (NaN payloads aside).

use std::sync::Arc;

use super::super::program::{decode, Builder, Kind, Op};
use super::super::*;
use super::{cached_shapes, Engine};

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed.max(1);
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

/// Values that exercise every rule: NaN, signed zeros, infinities, integer edges of the bitwise
/// ops and of `%`'s integer path, huge and tiny magnitudes.
const EDGES: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    3.0,
    -7.0,
    0.1,
    1e-310,
    5e-324,
    f64::MIN_POSITIVE,
    2147483647.0,
    2147483648.0,
    -2147483648.0,
    -2147483649.0,
    4294967295.0,
    4294967296.0,
    9007199254740991.0,
    9007199254740992.0,
    -9007199254740992.0,
    9007199254740993.0,
    9.223372036854776e18,
    -9.223372036854776e18,
    1.8446744073709552e19,
    1e20,
    1e300,
    f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    std::f64::consts::PI,
];

struct Gen<F: FnMut() -> u64> {
    next: F,
}

impl<F: FnMut() -> u64> Gen<F> {
    fn below(&mut self, n: usize) -> usize {
        ((self.next)() % n as u64) as usize
    }

    fn value(&mut self) -> f64 {
        match self.below(6) {
            0 | 1 => EDGES[self.below(EDGES.len())],
            2 => (self.below(2001) as f64) - 1000.0,
            3 => f64::from_bits((self.next)()),
            4 => (self.below(1 << 20) as f64) / 64.0 - 8192.0,
            _ => {
                let e = EDGES[self.below(EDGES.len())];
                e * ((self.below(7) as f64) - 3.0)
            }
        }
    }

    /// Straight-line code over the parameters, the constants and the temporaries written so far.
    fn program(
        &mut self,
        b: &Builder,
        nconsts: usize,
        ntemps: usize,
    ) -> (Vec<(Op, u32, Vec<u32>)>, u32) {
        let mut readable: Vec<u32> = vec![0, 1];
        readable.extend((0..nconsts).map(|k| b.c(k)));
        let mut code = Vec::new();
        for _ in 0..1 + self.below(6) {
            let op = Op::ALL[self.below(Op::ALL.len())];
            let nargs = op.arity().unwrap_or(1 + self.below(4));
            let args: Vec<u32> = (0..nargs)
                .map(|_| readable[self.below(readable.len())])
                .collect();
            let dst = b.t(self.below(ntemps));
            if !readable.contains(&dst) {
                readable.push(dst);
            }
            code.push((op, dst, args));
        }
        let result = if self.below(8) == 0 {
            readable[self.below(readable.len())]
        } else {
            code.last().map_or(0, |c| c.1)
        };
        (code, result)
    }

    fn pipeline(&mut self, terminal: Option<Kind>) -> Pipeline {
        let nconsts = self.below(4);
        let consts: Vec<f64> = (0..nconsts).map(|_| self.value()).collect();
        let ntemps = 4;
        let mut b = Builder::new(&consts, ntemps);
        let stages = 1 + self.below(3);
        let mut progs = Vec::new();
        for _ in 0..stages {
            let kind = if self.below(3) == 0 {
                Kind::Filter
            } else {
                Kind::Map
            };
            progs.push((kind, self.program(&b, nconsts, ntemps)));
        }
        if let Some(kind) = terminal {
            progs.push((kind, self.program(&b, nconsts, ntemps)));
        }
        for (kind, (code, result)) in &progs {
            let instrs: Vec<(Op, u32, &[u32])> = code
                .iter()
                .map(|(o, d, a)| (*o, *d, a.as_slice()))
                .collect();
            b = b.program(*kind, &instrs, *result);
        }
        let (w, c) = b.build();
        decode(&w, &c).expect("generated programs are well formed")
    }
}

fn outputs_agree(a: &Output, b: &Output) -> bool {
    match (a, b) {
        (Output::Number(x), Output::Number(y)) => same(*x, *y),
        (Output::Array(Array::F64(x)), Output::Array(Array::F64(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(*p, *q))
        }
        (Output::Array(Array::F32(x)), Output::Array(Array::F32(y))) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| (p.is_nan() && q.is_nan()) || p.to_bits() == q.to_bits())
        }
        (x, y) => x == y,
    }
}

fn check(p: &Pipeline, src: Source<'_>, t: Terminal, what: &str) {
    for mode in [Mode::Inline, Mode::Parallel] {
        let want = run_engine(p, src, t, mode, Engine::Interp).expect("interpreter");
        let got = run_engine(p, src, t, mode, Engine::Jit).expect("jit");
        if !outputs_agree(&want, &got) {
            let short = |o: &Output| {
                let s = format!("{o:?}");
                s.chars().take(300).collect::<String>()
            };
            let first = match (&want, &got) {
                (Output::Array(Array::F64(a)), Output::Array(Array::F64(b))) => a
                    .iter()
                    .zip(b)
                    .position(|(x, y)| !same(*x, *y))
                    .map(|k| format!(" (first difference at {k}: {} vs {})", a[k], b[k])),
                _ => None,
            };
            panic!(
                "{what}: {t:?} {mode:?}{}\n  interp {}\n  jit    {}\n  pipeline {p:?}",
                first.unwrap_or_default(),
                short(&want),
                short(&got)
            );
        }
    }
}

#[test]
fn random_pipelines_agree_with_the_interpreter() {
    let mut g = Gen {
        next: xorshift(0x5eed_1234_abcd),
    };
    let cases = std::env::var("WEFT_JIT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for case in 0..cases {
        let terminal_kind = match g.below(6) {
            0 => Some(Kind::Reduce),
            1 => Some(Kind::Some),
            2 => Some(Kind::Every),
            _ => None,
        };
        let p = g.pipeline(terminal_kind);
        let len = match g.below(5) {
            0 => g.below(8),
            1 => BLOCK + g.below(BLOCK),
            2 => CHUNK + g.below(3 * BLOCK),
            _ => g.below(3 * BLOCK),
        };
        let values: Vec<f64> = (0..len).map(|_| g.value()).collect();
        let what = format!("case {case}");
        let terminals: Vec<Terminal> = match terminal_kind {
            Some(Kind::Reduce) => vec![Terminal::Reduce { init: g.value() }],
            Some(Kind::Some) => vec![Terminal::Some],
            Some(_) => vec![Terminal::Every],
            None => vec![
                Terminal::ToArray(ElemKind::F64),
                Terminal::Sum,
                Terminal::Mean,
                Terminal::Count,
                Terminal::Min,
                Terminal::Max,
            ],
        };
        for &t in &terminals {
            check(&p, Source::F64(&values), t, &what);
        }
        // The other element types and a range, with one terminal each.
        let t = terminals[0];
        let ints: Vec<i32> = values.iter().map(|&v| js::to_int32(v)).collect();
        let i8s: Vec<i8> = ints.iter().map(|&v| v as i8).collect();
        let u16s: Vec<u16> = ints.iter().map(|&v| v as u16).collect();
        let u32s: Vec<u32> = ints.iter().map(|&v| v as u32).collect();
        let f32s: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        check(&p, Source::I32(&ints), t, &what);
        check(&p, Source::I8(&i8s), t, &what);
        check(&p, Source::U16(&u16s), t, &what);
        check(&p, Source::U32(&u32s), t, &what);
        check(&p, Source::F32(&f32s), t, &what);
        let start = if g.below(2) == 0 { g.value() } else { -3.0 };
        let step = if g.below(2) == 0 { g.value() } else { 0.5 };
        check(
            &p,
            Source::Range {
                start,
                step,
                len: len as u64,
            },
            t,
            &what,
        );
        if terminal_kind.is_none() {
            check(
                &p,
                Source::F64(&values),
                Terminal::ToArray(ElemKind::I32),
                &what,
            );
            check(
                &p,
                Source::F64(&values),
                Terminal::ToArray(ElemKind::F32),
                &what,
            );
            check(
                &p,
                Source::F64(&values),
                Terminal::Sort {
                    kind: ElemKind::F64,
                    descending: g.below(2) == 0,
                },
                &what,
            );
        }
    }
}

/// Every op alone, as a map over every edge value with every edge value as its other operand
/// (a constant), on both engines.
#[test]
fn every_op_over_every_edge_pair() {
    for &op in Op::ALL {
        // One pipeline per constant: a capture changes a run-time parameter, not the code.
        for &y in EDGES {
            let b = Builder::new(&[y, 2.0], 1);
            let (c0, c1, t0) = (b.c(0), b.c(1), b.t(0));
            let args: Vec<u32> = match op.arity() {
                Some(1) => vec![0],
                Some(2) => vec![0, c0],
                Some(_) => vec![0, c0, 0],
                None => vec![0, c0, c1],
            };
            let (w, c) = b.program(Kind::Map, &[(op, t0, &args)], t0).build();
            let p = decode(&w, &c).unwrap();
            let what = format!("{op:?} y={y}");
            check(
                &p,
                Source::F64(EDGES),
                Terminal::ToArray(ElemKind::F64),
                &what,
            );
            // The constant on the left too.
            if op.arity() == Some(2) {
                let b = Builder::new(&[y], 1);
                let (c0, t0) = (b.c(0), b.t(0));
                let (w, c) = b.program(Kind::Map, &[(op, t0, &[c0, 0])], t0).build();
                let p = decode(&w, &c).unwrap();
                check(
                    &p,
                    Source::F64(EDGES),
                    Terminal::ToArray(ElemKind::F64),
                    &what,
                );
            }
        }
    }
}

#[test]
fn captures_are_parameters_and_shapes_are_cached() {
    let build = |k: f64| {
        let b = Builder::new(&[k], 1);
        let (c0, t0) = (b.c(0), b.t(0));
        let (w, c) = b.program(Kind::Map, &[(Op::Mul, t0, &[0, c0])], t0).build();
        decode(&w, &c).unwrap()
    };
    let src = [1.0, 2.0, -0.0, f64::NAN];
    let (a, b) = (build(3.0), build(-2.0));
    let ka = super::kernel_for(Engine::Jit, &a, &Source::F64(&src), false, false)
        .unwrap()
        .unwrap();
    let kb = super::kernel_for(Engine::Jit, &b, &Source::F64(&src), false, false)
        .unwrap()
        .unwrap();
    assert!(Arc::ptr_eq(&ka, &kb), "one shape, one kernel");
    assert!(cached_shapes() >= 1);
    for (p, k) in [(&a, 3.0), (&b, -2.0)] {
        let Output::Array(Array::F64(v)) = run_engine(
            p,
            Source::F64(&src),
            Terminal::ToArray(ElemKind::F64),
            Mode::Inline,
            Engine::Jit,
        )
        .unwrap() else {
            panic!("not an array")
        };
        for (got, x) in v.iter().zip(src) {
            assert!(same(*got, x * k));
        }
    }
    // The interpreter engine compiles nothing.
    assert!(
        super::kernel_for(Engine::Interp, &a, &Source::F64(&src), false, false)
            .unwrap()
            .is_none()
    );
}

#[test]
fn evicted_kernels_stay_alive_while_held() {
    let src = [1.5f64; 100];
    let first = {
        let b = Builder::new(&[], 1);
        let t0 = b.t(0);
        let (w, c) = b.program(Kind::Map, &[(Op::Floor, t0, &[0])], t0).build();
        decode(&w, &c).unwrap()
    };
    let held = super::kernel_for(Engine::Jit, &first, &Source::F64(&src), false, false)
        .unwrap()
        .unwrap();
    // Fill the cache with other shapes (distinct constant counts) until `first` is evicted.
    for k in 0..super::CACHE_SHAPES + 1 {
        let consts = vec![1.0; k % 40 + 1];
        let b = Builder::new(&consts, 1);
        let t0 = b.t(0);
        let c = b.c(k % consts.len());
        let op = [
            Op::Add,
            Op::Sub,
            Op::Mul,
            Op::Div,
            Op::Mod,
            Op::Min,
            Op::Max,
        ][k % 7];
        let (w, cs) = b.program(Kind::Map, &[(op, t0, &[0, c])], t0).build();
        let p = decode(&w, &cs).unwrap();
        super::kernel_for(Engine::Jit, &p, &Source::F64(&src), false, false).unwrap();
    }
    assert!(cached_shapes() <= super::CACHE_SHAPES);
    let mut x = [0.0; 100];
    let mut i = [0.0; 100];
    let n = held.run(&first.consts, &Source::F64(&src), 0, 100, &mut x, &mut i);
    assert_eq!(n, 100);
    assert!(x.iter().all(|&v| v == 1.0));
}

/// `%` by a constant (the division-free path of `codegen.rs`, `rem_by_constant`): dividends
/// around multiples of the divisor, around the path's bound (2^52) and the integer limit (2^53),
/// negative, `-0`, non-integers, for divisors from 1 to near the bound, of both signs; the JIT
/// must give `js::rem`'s bits (and the interpreter's).
#[test]
fn remainder_by_a_constant_is_exact() {
    const TWO52: f64 = 4_503_599_627_370_496.0;
    let mut next = xorshift(0xdead_beef_1234);
    let mut divisors: Vec<f64> = vec![
        1.0,
        2.0,
        3.0,
        5.0,
        7.0,
        10.0,
        1000.0,
        1e6 + 3.0,
        2147483647.0,
        2147483648.0,
        4294967297.0,
        TWO52 / 3.0 - 1.0,
        TWO52 - 1.0,
        TWO52,
        TWO52 + 1.0,
        9007199254740991.0,
        0.5,
        2.5,
        0.0,
        f64::INFINITY,
        f64::NAN,
    ];
    for _ in 0..12 {
        divisors.push(((next() >> 11) % (1 << 20)) as f64 + 1.0);
        divisors.push(((next() >> 11) % (1u64 << 52)) as f64);
    }
    let negated: Vec<f64> = divisors.iter().map(|c| -c).collect();
    divisors.extend(negated);
    for &c in &divisors {
        let mut xs: Vec<f64> = EDGES.to_vec();
        let ac = c.abs();
        if ac.is_finite() && ac >= 1.0 {
            for m in [
                0.0,
                1.0,
                2.0,
                3.0,
                1e3,
                1e9,
                (TWO52 / ac).floor(),
                (TWO52 / ac).floor() - 1.0,
            ] {
                let base = m * ac;
                for d in [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0] {
                    xs.push(base + d);
                    xs.push(-(base + d));
                }
                // The neighbouring doubles of a multiple.
                xs.push(f64::from_bits(base.to_bits().wrapping_add(1)));
                xs.push(f64::from_bits(base.to_bits().wrapping_sub(1)));
            }
        }
        for v in [TWO52, 9007199254740992.0] {
            for d in [-3.0, -2.0, -1.0, -0.5, 0.0, 1.0, 2.0] {
                xs.push(v + d);
                xs.push(-(v + d));
            }
        }
        for _ in 0..2000 {
            let r = next();
            let x = match r % 5 {
                0 => ((r >> 8) % (1u64 << 52)) as f64,
                1 => ((r >> 8) % (1 << 31)) as f64,
                2 => ((r >> 8) % (1u64 << 52)) as f64 / 1024.0,
                3 => f64::from_bits(next()),
                _ => ((r >> 8) % 100_000) as f64 - 50_000.0,
            };
            xs.push(if r & (1 << 7) != 0 { -x } else { x });
        }
        xs.push(-0.0);
        let b = Builder::new(&[c], 1);
        let (c0, t0) = (b.c(0), b.t(0));
        let (w, cs) = b.program(Kind::Map, &[(Op::Mod, t0, &[0, c0])], t0).build();
        let p = decode(&w, &cs).unwrap();
        let Output::Array(Array::F64(got)) = run_engine(
            &p,
            Source::F64(&xs),
            Terminal::ToArray(ElemKind::F64),
            Mode::Inline,
            Engine::Jit,
        )
        .unwrap() else {
            panic!("not an array")
        };
        for (&x, &r) in xs.iter().zip(&got) {
            let want = js::rem(x, c);
            assert!(same(r, want), "{x} % {c}: jit {r}, js::rem {want}");
        }
        check(
            &p,
            Source::F64(&xs),
            Terminal::ToArray(ElemKind::F64),
            &format!("% {c}"),
        );
    }
}

/// The path without a division, on every dividend class, through a filter as in
/// `filter(x => x % 3 === 0)` and with a capture that changes between runs of one kernel.
#[test]
fn remainder_filters_agree_with_the_interpreter() {
    for c in [3.0, -3.0, 1.0, 7.0, 0.0, 2.5, 1e15 + 1.0] {
        let b = Builder::new(&[2.0, c, 0.0], 2);
        let (c0, c1, c2, t0, t1) = (b.c(0), b.c(1), b.c(2), b.t(0), b.t(1));
        let b = b.program(Kind::Map, &[(Op::Mul, t0, &[0, c0])], t0);
        let b = b.program(
            Kind::Filter,
            &[(Op::Mod, t0, &[0, c1]), (Op::Eq, t1, &[t0, c2])],
            t1,
        );
        let (w, cs) = b.build();
        let p = decode(&w, &cs).unwrap();
        for (start, step) in [(0.0, 1.0), (-1e6, 1.0), (0.5, 0.25), (2.2e15, 3.0)] {
            let src = Source::Range {
                start,
                step,
                len: 3 * BLOCK as u64 + 7,
            };
            for t in [
                Terminal::Sum,
                Terminal::Count,
                Terminal::ToArray(ElemKind::F64),
            ] {
                check(
                    &p,
                    src,
                    t,
                    &format!("x * 2 % {c} === 0 from {start} by {step}"),
                );
            }
        }
    }
}

/// More constant divisors than `MAX_DIVISORS`: the first ones take the path without a division,
/// the others the path with one; both agree with the interpreter, on both loops (an odd length).
#[test]
fn many_constant_divisors() {
    let k = super::MAX_DIVISORS + 3;
    let consts: Vec<f64> = (0..k).map(|c| (c as f64) * 1.5 - 4.0).collect();
    let b = Builder::new(&consts, 2);
    let (t0, t1) = (b.t(0), b.t(1));
    let mut code: Vec<(Op, u32, Vec<u32>)> = vec![(Op::Mov, t1, vec![0])];
    for c in 0..k {
        code.push((Op::Mod, t0, vec![0, b.c(c)]));
        code.push((Op::Add, t1, vec![t1, t0]));
    }
    let instrs: Vec<(Op, u32, &[u32])> = code
        .iter()
        .map(|(o, d, a)| (*o, *d, a.as_slice()))
        .collect();
    let (w, cs) = b.program(Kind::Map, &instrs, t1).build();
    let p = decode(&w, &cs).unwrap();
    let xs: Vec<f64> = EDGES
        .iter()
        .copied()
        .chain((0..200).map(|v| v as f64 * 7.25 - 300.0))
        .collect();
    assert!(xs.len() % 2 == 1);
    check(
        &p,
        Source::F64(&xs),
        Terminal::ToArray(ElemKind::F64),
        "many divisors",
    );
}
