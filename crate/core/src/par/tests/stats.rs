//! The statistics terminals (`argmin`/`argmax`, `quantile`, `histogram`, `groupBy`) against
//! plain reference implementations, on both engines, every mode and several thread counts.

use super::*;
use crate::par::exec::Agg;
use crate::par::sum::ExactSum;

/// Random values with ties, signed zeros and a wide spread of magnitudes.
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = xorshift(seed);
    (0..n)
        .map(|_| {
            let r = rng();
            match r % 16 {
                0 => 0.0,
                1 => -0.0,
                2 => ((r >> 8) % 50) as f64,
                3 => -(((r >> 8) % 50) as f64),
                4 => f64::from_bits(r >> 2) * if r & 2 == 0 { 1.0 } else { -1.0 },
                _ => ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1000.0,
            }
        })
        .filter(|v| !v.is_nan())
        .collect()
}

/// `Math.min`'s order: is `a` strictly before `b`?
fn before(a: f64, b: f64, less: bool) -> bool {
    if a == b {
        return if less {
            a.is_sign_negative() && !b.is_sign_negative()
        } else {
            b.is_sign_negative() && !a.is_sign_negative()
        };
    }
    (a < b) == less
}

fn arg_ref(v: &[f64], keep: impl Fn(f64) -> bool, less: bool) -> Option<f64> {
    let mut best: Option<(f64, usize)> = None;
    for (i, &x) in v.iter().enumerate() {
        if !keep(x) {
            continue;
        }
        if x.is_nan() {
            return Some(i as f64);
        }
        match best {
            Some((b, _)) if !before(x, b, less) => {}
            _ => best = Some((x, i)),
        }
    }
    best.map(|(_, i)| i as f64)
}

/// `filter(x => x > t)`
fn above(t: f64) -> Pipeline {
    let b = Builder::new(&[t], 1);
    let (c0, t0) = (b.c(0), b.t(0));
    let (w, c) = b
        .program(Kind::Filter, &[(Op::Gt, t0, &[0, c0])], t0)
        .build();
    decode(&w, &c).unwrap()
}

fn opt(o: Output) -> Option<f64> {
    match o {
        Output::Number(n) => Some(n),
        Output::Nothing => None,
        o => panic!("not a number: {o:?}"),
    }
}

#[test]
fn argmin_and_argmax_are_the_first_extreme_in_math_min_order() {
    let mut v = values(100_000, 7);
    for (less, t) in [(true, Terminal::ArgMin), (false, Terminal::ArgMax)] {
        assert_eq!(
            opt(everywhere(&identity(), Source::F64(&v), t)),
            arg_ref(&v, |_| true, less)
        );
        assert_eq!(
            opt(everywhere(&above(0.0), Source::F64(&v), t)),
            arg_ref(&v, |x| x > 0.0, less),
            "after a filter the index is the source's"
        );
    }
    // -0 is below +0, ties keep the first, a NaN wins wherever it is.
    let zeros = [0.0, -0.0, 0.0, -0.0];
    assert_eq!(
        opt(everywhere(
            &identity(),
            Source::F64(&zeros),
            Terminal::ArgMin
        )),
        Some(1.0)
    );
    assert_eq!(
        opt(everywhere(
            &identity(),
            Source::F64(&zeros),
            Terminal::ArgMax
        )),
        Some(0.0)
    );
    v[70_001] = f64::NAN;
    v[90_000] = f64::NAN;
    for t in [Terminal::ArgMin, Terminal::ArgMax] {
        assert_eq!(
            opt(everywhere(&identity(), Source::F64(&v), t)),
            Some(70_001.0)
        );
    }
    let empty: [f64; 0] = [];
    assert_eq!(
        opt(everywhere(
            &identity(),
            Source::F64(&empty),
            Terminal::ArgMin
        )),
        None
    );
    let range = Source::Range {
        start: 10.0,
        step: -1.0,
        len: 50_000,
    };
    assert_eq!(
        opt(everywhere(&identity(), range, Terminal::ArgMin)),
        Some(49_999.0)
    );
    assert_eq!(
        opt(everywhere(&article(), range, Terminal::ArgMax)),
        Some(1.0)
    );
}

fn quantile_ref(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    if v.iter().any(|x| x.is_nan()) {
        return Some(f64::NAN);
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let h = (s.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let t = h - lo as f64;
    if t == 0.0 {
        return Some(s[lo]);
    }
    let (a, b) = (s[lo], s[lo + 1]);
    let r = a + (b - a) * t;
    Some(if r.is_finite() || !(a.is_finite() && b.is_finite()) {
        r
    } else {
        a * (1.0 - t) + b * t
    })
}

#[test]
fn quantiles_are_exact() {
    let qs = [0.0, 1e-9, 0.01, 0.25, 0.5, 0.5 + 1e-12, 0.77, 0.999, 1.0];
    // Small (sorted directly), large (radix levels), heavy ties, one crowded bucket, all equal.
    let crowded: Vec<f64> = values(60_000, 3)
        .iter()
        .map(|x| 0.5 + x.abs() * 1e-9)
        .collect();
    let ties: Vec<f64> = (0..70_000)
        .map(|k| ((k * 7919) % 13) as f64 - 6.0)
        .collect();
    let same = vec![-0.0; 40_000];
    let mixed_zeros: Vec<f64> = (0..30_000)
        .map(|k| if k % 3 == 0 { -0.0 } else { 0.0 })
        .collect();
    for v in [
        values(1_000, 1),
        values(200_000, 2),
        crowded,
        ties,
        same,
        mixed_zeros,
    ] {
        for &q in &qs {
            let got = opt(everywhere(
                &identity(),
                Source::F64(&v),
                Terminal::Quantile(q),
            ));
            let want = quantile_ref(&v, q);
            assert!(
                match (got, want) {
                    (Some(a), Some(b)) => same_bits(a, b),
                    (a, b) => a == b,
                },
                "q {q} of {} values: {got:?} vs {want:?}",
                v.len()
            );
        }
    }
    let with_stage = values(50_000, 4);
    let kept: Vec<f64> = with_stage.iter().copied().filter(|&x| x > 0.0).collect();
    let got = opt(everywhere(
        &above(0.0),
        Source::F64(&with_stage),
        Terminal::Quantile(0.5),
    ));
    assert_eq!(got, quantile_ref(&kept, 0.5));
    let mut nan = values(20_000, 5);
    nan[12_345] = f64::NAN;
    assert!(opt(everywhere(
        &identity(),
        Source::F64(&nan),
        Terminal::Quantile(0.3)
    ))
    .unwrap()
    .is_nan());
    let empty: [f64; 0] = [];
    assert_eq!(
        opt(everywhere(
            &identity(),
            Source::F64(&empty),
            Terminal::Quantile(0.5)
        )),
        None
    );
    let err = run(
        &identity(),
        Source::F64(&nan),
        Terminal::Quantile(1.5),
        Mode::Inline,
    )
    .unwrap_err();
    assert_eq!(err.code, Code::InvalidArg);
}

fn same_bits(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn flat(o: Output) -> Vec<f64> {
    match o {
        Output::Array(Array::F64(v)) => v,
        o => panic!("not an f64 array: {o:?}"),
    }
}

/// numpy's rule: bin `k` when `edges[k] <= x < edges[k + 1]`, the last bin closed.
fn histogram_ref(v: &[f64], bins: usize, lo: f64, hi: f64) -> Vec<f64> {
    let width = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|k| lo + k as f64 * width).collect();
    edges[bins] = hi;
    let mut counts = vec![0.0; bins];
    for &x in v {
        if !(x >= lo && x <= hi) {
            continue;
        }
        let k = edges.partition_point(|&e| e <= x).clamp(1, bins) - 1;
        counts[k] += 1.0;
    }
    edges.extend(counts);
    edges
}

#[test]
fn histograms_count_like_numpy() {
    let v = values(150_000, 9);
    for (bins, lo, hi) in [
        (10, -500.0, 500.0),
        (7, -3.0, 17.5),
        (1, 0.0, 1.0),
        (1000, -0.1, 0.1),
    ] {
        let t = Terminal::Histogram { bins, lo, hi };
        let got = flat(everywhere(&identity(), Source::F64(&v), t));
        assert_eq!(
            got,
            histogram_ref(&v, bins as usize, lo, hi),
            "{bins} bins over [{lo}, {hi}]"
        );
    }
    // Edges that are not exact in binary: every value on an edge goes right (the last left).
    let on_edges: Vec<f64> = (0..=30).map(|k| 0.1 * k as f64).collect();
    let t = Terminal::Histogram {
        bins: 30,
        lo: 0.0,
        hi: 3.0,
    };
    assert_eq!(
        flat(everywhere(&identity(), Source::F64(&on_edges), t)),
        histogram_ref(&on_edges, 30, 0.0, 3.0)
    );
    // The values' own range when no bounds are given (NaN ignored), widened when they are equal.
    let small = [3.0, f64::NAN, 1.0, 2.0, 2.5];
    let got = flat(everywhere(
        &identity(),
        Source::F64(&small),
        Terminal::Histogram {
            bins: 4,
            lo: f64::NAN,
            hi: f64::NAN,
        },
    ));
    assert_eq!(got, histogram_ref(&small, 4, 1.0, 3.0));
    let flat_values = [5.0; 3];
    let got = flat(everywhere(
        &identity(),
        Source::F64(&flat_values),
        Terminal::Histogram {
            bins: 2,
            lo: f64::NAN,
            hi: f64::NAN,
        },
    ));
    assert_eq!(got, vec![4.5, 5.0, 5.5, 0.0, 3.0]);
    for bad in [
        Terminal::Histogram {
            bins: 0,
            lo: 0.0,
            hi: 1.0,
        },
        Terminal::Histogram {
            bins: 3,
            lo: 1.0,
            hi: 1.0,
        },
        Terminal::Histogram {
            bins: 3,
            lo: f64::NEG_INFINITY,
            hi: 1.0,
        },
        Terminal::Histogram {
            bins: 3,
            lo: -f64::MAX,
            hi: f64::MAX,
        },
    ] {
        let err = run(&identity(), Source::F64(&small), bad, Mode::Inline).unwrap_err();
        assert_eq!(err.code, Code::InvalidArg, "{bad:?}");
    }
    let inf = [1.0, f64::INFINITY];
    let err = run(
        &identity(),
        Source::F64(&inf),
        Terminal::Histogram {
            bins: 3,
            lo: f64::NAN,
            hi: f64::NAN,
        },
        Mode::Inline,
    )
    .unwrap_err();
    assert_eq!(err.code, Code::InvalidArg);
}

/// A groupBy key program: `Math.abs(Math.floor(x * scale)) % groups`.
fn key_of(scale: f64, groups: f64) -> Pipeline {
    let b = Builder::new(&[scale, groups], 3);
    let (c0, c1, t0, t1, t2) = (b.c(0), b.c(1), b.t(0), b.t(1), b.t(2));
    let (w, c) = b
        .program(
            Kind::Key,
            &[
                (Op::Mul, t0, &[0, c0]),
                (Op::Floor, t1, &[t0]),
                (Op::Abs, t2, &[t1]),
                (Op::Mod, t0, &[t2, c1]),
            ],
            t0,
        )
        .build();
    decode(&w, &c).unwrap()
}

/// A groupBy key program over the index: `i % groups`.
fn key_of_index(groups: f64) -> Pipeline {
    let b = Builder::new(&[groups], 1);
    let (c0, t0) = (b.c(0), b.t(0));
    let (w, c) = b.program(Kind::Key, &[(Op::Mod, t0, &[1, c0])], t0).build();
    decode(&w, &c).unwrap()
}

fn group_ref(v: &[f64], key: impl Fn(usize, f64) -> usize, g: usize, agg: Agg) -> Vec<f64> {
    let mut members: Vec<Vec<f64>> = vec![Vec::new(); g];
    for (i, &x) in v.iter().enumerate() {
        members[key(i, x)].push(x);
    }
    let present: Vec<usize> = (0..g).filter(|&k| !members[k].is_empty()).collect();
    let mut out: Vec<f64> = present.iter().map(|&k| k as f64).collect();
    out.extend(present.iter().map(|&k| {
        let m = &members[k];
        let sum = || {
            let mut s = ExactSum::new();
            m.iter().for_each(|&x| s.add(x));
            s.value()
        };
        match agg {
            Agg::Count => m.len() as f64,
            Agg::Sum => sum(),
            Agg::Mean => sum() / m.len() as f64,
            Agg::Min => m.iter().copied().fold(f64::INFINITY, js::min),
            Agg::Max => m.iter().copied().fold(f64::NEG_INFINITY, js::max),
        }
    }));
    out
}

#[test]
fn group_by_aggregates_every_group_exactly() {
    let floats = values(120_000, 11);
    let ints: Vec<f64> = (0..120_000u64)
        .map(|k| ((k * 2654435761) % 1_000_003) as f64)
        .collect();
    let mut special = values(40_000, 12);
    special[5] = f64::INFINITY;
    special[6] = f64::NAN;
    special[7] = f64::MAX;
    special[8] = f64::MAX;
    for (v, scale, g) in [(&floats, 1.0, 1000), (&ints, 1.0, 37), (&floats, 0.0, 1)] {
        let p = key_of(scale, g as f64);
        let key = |_, x: f64| js::rem_integral((x * scale).floor().abs(), g as f64) as usize;
        for agg in [Agg::Count, Agg::Sum, Agg::Mean, Agg::Min, Agg::Max] {
            let got = flat(everywhere(
                &p,
                Source::F64(v),
                Terminal::Group { keys: g, agg },
            ));
            let want = group_ref(v, key, g as usize, agg);
            assert!(
                got.len() == want.len() && got.iter().zip(&want).all(|(a, b)| same_bits(*a, *b)),
                "{agg:?} over {g} groups (scale {scale})"
            );
        }
    }
    // Infinities, NaN and overflowing sums, grouped by index (the key reads `i`).
    let p = key_of_index(5.0);
    for agg in [Agg::Count, Agg::Sum, Agg::Mean, Agg::Min, Agg::Max] {
        let got = flat(everywhere(
            &p,
            Source::F64(&special),
            Terminal::Group { keys: 5, agg },
        ));
        let want = group_ref(&special, |i, _| i % 5, 5, agg);
        assert!(
            got.len() == want.len() && got.iter().zip(&want).all(|(a, b)| same_bits(*a, *b)),
            "{agg:?} of special values: {got:?} vs {want:?}"
        );
    }
}

#[test]
fn group_by_refuses_keys_outside_the_range() {
    let v = values(50_000, 13);
    // Keys 0..999 declared as 0..99.
    let p = key_of(1.0, 1000.0);
    for mode in [Mode::Inline, Mode::Parallel] {
        let err = run(
            &p,
            Source::F64(&v),
            Terminal::Group {
                keys: 100,
                agg: Agg::Sum,
            },
            mode,
        )
        .unwrap_err();
        assert_eq!(err.code, Code::InvalidArg);
        assert!(
            err.message.contains("keys must be integers from 0 to 99"),
            "{}",
            err.message
        );
    }
    // A fractional key.
    let b = Builder::new(&[0.5], 1);
    let (c0, t0) = (b.c(0), b.t(0));
    let (w, c) = b.program(Kind::Key, &[(Op::Mul, t0, &[0, c0])], t0).build();
    let frac = decode(&w, &c).unwrap();
    let three = [2.0, 3.0, 4.0];
    let err = run(
        &frac,
        Source::F64(&three),
        Terminal::Group {
            keys: 10,
            agg: Agg::Count,
        },
        Mode::Inline,
    )
    .unwrap_err();
    assert!(err.message.contains("returned 1.5"), "{}", err.message);
    // A terminal that needs a key program, and a key program without it.
    let err = run(
        &identity(),
        Source::F64(&three),
        Terminal::Group {
            keys: 10,
            agg: Agg::Count,
        },
        Mode::Inline,
    )
    .unwrap_err();
    assert_eq!(err.code, Code::InvalidArg);
    let err = run(&frac, Source::F64(&three), Terminal::Sum, Mode::Inline).unwrap_err();
    assert_eq!(err.code, Code::InvalidArg);
    let err = run(
        &frac,
        Source::F64(&three),
        Terminal::Group {
            keys: 0,
            agg: Agg::Count,
        },
        Mode::Inline,
    )
    .unwrap_err();
    assert_eq!(err.code, Code::InvalidArg);
}
