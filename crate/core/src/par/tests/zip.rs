//! `par.zip`: pipelines over rows of several columns, their filters keeping the columns aligned.

use super::*;
use crate::par::exec::{run_zip, run_zip_engine};

/// Runs on the interpreter inline and in parallel at several thread counts; all must agree.
fn zipped(p: &Pipeline, src: Source<'_>, cols: &[Source<'_>], t: Terminal) -> Output {
    let inline = run_zip_engine(p, src, cols, t, Mode::Inline, Engine::Interp).unwrap();
    for pool in pools() {
        let par = pool
            .install(|| run_zip(p, src, cols, t, Mode::Parallel))
            .unwrap();
        agree(
            &inline,
            &par,
            &format!("{t:?} on {} threads", pool.current_num_threads()),
        );
    }
    inline
}

/// `zip(a, b).filter((x, y) => y > 0).map((x, y) => x * y)`
fn masked_product() -> Pipeline {
    let b = Builder::new(&[0.0], 1).columns(1);
    let (c0, y, t0) = (b.c(0), b.col(1), b.t(0));
    let (w, c) = b
        .program(Kind::Filter, &[(Op::Gt, t0, &[y, c0])], t0)
        .program(Kind::Map, &[(Op::Mul, t0, &[0, y])], t0)
        .build();
    decode(&w, &c).unwrap()
}

#[test]
fn filters_keep_the_columns_aligned() {
    let mut rng = xorshift(42);
    let n = 100_003;
    let a: Vec<f64> = (0..n).map(|_| (rng() % 1000) as f64 - 500.0).collect();
    let b: Vec<i32> = (0..n).map(|_| (rng() % 200) as i32 - 100).collect();
    let p = masked_product();
    let pairs = || {
        a.iter()
            .zip(&b)
            .filter(|(_, &y)| y > 0)
            .map(|(x, &y)| x * y as f64)
    };
    let want: f64 = pairs().sum();
    let cols = [Source::I32(&b)];
    assert_eq!(num(zipped(&p, Source::F64(&a), &cols, Terminal::Sum)), want);
    assert_eq!(
        num(zipped(&p, Source::F64(&a), &cols, Terminal::Count)),
        pairs().count() as f64
    );
    match zipped(&p, Source::F64(&a), &cols, Terminal::ToArray(ElemKind::F64)) {
        Output::Array(Array::F64(v)) => assert!(v.iter().copied().eq(pairs())),
        o => panic!("{o:?}"),
    }
}

#[test]
fn three_columns_and_a_range() {
    // zip(range, u, v).map((x, y, z) => x + y * z) over 70,000 rows.
    let n = 70_000usize;
    let u: Vec<f32> = (0..n).map(|k| k as f32 * 0.5).collect();
    let v: Vec<u8> = (0..n).map(|k| (k % 256) as u8).collect();
    let b = Builder::new(&[], 1).columns(2);
    let (y, z, t0) = (b.col(1), b.col(2), b.t(0));
    let (w, c) = b
        .program(
            Kind::Map,
            &[(Op::Mul, t0, &[y, z]), (Op::Add, t0, &[0, t0])],
            t0,
        )
        .build();
    let p = decode(&w, &c).unwrap();
    let range = Source::Range {
        start: 1.0,
        step: 2.0,
        len: n as u64,
    };
    let want: f64 = (0..n)
        .map(|k| (1.0 + 2.0 * k as f64) + f64::from(u[k]) * f64::from(v[k]))
        .sum();
    let cols = [Source::F32(&u), Source::U8(&v)];
    assert_eq!(num(zipped(&p, range, &cols, Terminal::Sum)), want);
}

#[test]
fn columns_of_other_lengths_or_counts_are_errors() {
    let a = [1.0, 2.0, 3.0];
    let b = [1.0, 2.0];
    let p = masked_product();
    let err = run_zip(
        &p,
        Source::F64(&a),
        &[Source::F64(&b)],
        Terminal::Sum,
        Mode::Inline,
    )
    .unwrap_err();
    assert_eq!(err.code, Code::InvalidArg);
    assert!(err.message.contains("one length"), "{}", err.message);
    let err = run_zip(&p, Source::F64(&a), &[], Terminal::Sum, Mode::Inline).unwrap_err();
    assert_eq!(err.code, Code::InvalidArg);
    let err = run(&p, Source::F64(&a), Terminal::Sum, Mode::Inline).unwrap_err();
    assert_eq!(err.code, Code::InvalidArg);
    // The JIT, forced, says it does not compile zips (yet).
    let err = run_zip_engine(
        &p,
        Source::F64(&a),
        &[Source::F64(&a)],
        Terminal::Sum,
        Mode::Inline,
        Engine::Jit,
    )
    .unwrap_err();
    assert_eq!(err.code, Code::ParCompile);
}
