//! `par` over 64-bit integers (`BigInt64Array` and `BigUint64Array` sources): exact sums (in
//! 128 bits, which no sum of at most 2^64 values overflows), min, max, count and sort, over the
//! same fixed chunks as the number pipelines, so results never depend on the thread count.

use rayon::prelude::*;

use super::cancel;
use super::exec::{Mode, CHUNK};
use crate::error::{Code, Error, Result};

/// A source of 64-bit integers.
#[derive(Clone, Copy, Debug)]
pub enum BigSource<'a> {
    /// A `BigInt64Array`'s values.
    I64(&'a [i64]),
    /// A `BigUint64Array`'s values.
    U64(&'a [u64]),
}

/// What to compute over a [`BigSource`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BigTerminal {
    /// The exact sum.
    Sum,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// How many values there are.
    Count,
    /// The values sorted (a new array of the source's kind).
    Sort {
        /// Largest first.
        descending: bool,
    },
}

/// The result of a [`BigTerminal`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BigOutput {
    /// A sum, min or max over signed values.
    Signed(i128),
    /// A sum, min or max over unsigned values.
    Unsigned(u128),
    /// `min`/`max` of nothing.
    Nothing,
    /// A count.
    Count(u64),
    /// Sorted signed values.
    I64(Vec<i64>),
    /// Sorted unsigned values.
    U64(Vec<u64>),
}

/// One integer type of a source: how it sums and widens.
trait Int: Copy + Ord + Send + Sync + 'static {
    type Wide: Copy + Send + Default + std::ops::Add<Output = Self::Wide>;
    fn wide(self) -> Self::Wide;
}

impl Int for i64 {
    type Wide = i128;
    fn wide(self) -> i128 {
        self as i128
    }
}

impl Int for u64 {
    type Wide = u128;
    fn wide(self) -> u128 {
        self as u128
    }
}

fn aborted() -> Error {
    Error::new(Code::Aborted, "the par job was aborted")
}

/// Folds every chunk of `v` with `f` and combines the chunks' results with `combine`
/// (associative and commutative); stops handing out chunks once the job is cancelled.
fn chunks<T: Int, R: Send>(
    v: &[T],
    mode: Mode,
    identity: impl Fn() -> R + Sync + Send,
    f: impl Fn(&[T]) -> R + Sync + Send,
    combine: impl Fn(R, R) -> R + Sync + Send,
) -> Result<R> {
    let cancel = cancel::current();
    let cancelled = || cancel.as_ref().is_some_and(|c| c.is_cancelled());
    let out = match mode {
        Mode::Inline => v
            .chunks(CHUNK)
            .take_while(|_| !cancelled())
            .fold(identity(), |acc, c| combine(acc, f(c))),
        Mode::Parallel => v
            .par_chunks(CHUNK)
            .map(|c| (!cancelled()).then(|| f(c)))
            .while_some()
            .reduce(&identity, &combine),
    };
    if cancelled() {
        return Err(aborted());
    }
    Ok(out)
}

fn sum<T: Int>(v: &[T], mode: Mode) -> Result<T::Wide> {
    chunks(
        v,
        mode,
        T::Wide::default,
        |c| c.iter().fold(T::Wide::default(), |a, &x| a + x.wide()),
        |a, b| a + b,
    )
}

fn extreme<T: Int>(v: &[T], mode: Mode, largest: bool) -> Result<Option<T>> {
    let pick = move |a: Option<T>, b: Option<T>| match (a, b) {
        (Some(a), Some(b)) => Some(if largest { a.max(b) } else { a.min(b) }),
        (a, b) => a.or(b),
    };
    chunks(
        v,
        mode,
        || None,
        |c| {
            if largest {
                c.iter().copied().max()
            } else {
                c.iter().copied().min()
            }
        },
        pick,
    )
}

/// A copy of `v` to sort.
fn copied<T: Int>(v: &[T]) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(v.len()).map_err(|_| {
        Error::new(
            Code::InvalidArg,
            format!("sort: {} bytes are not available", std::mem::size_of_val(v)),
        )
    })?;
    out.extend_from_slice(v);
    Ok(out)
}

/// `out` sorted in place.
fn sorted<T: Int>(mut out: Vec<T>, mode: Mode, descending: bool) -> Result<Vec<T>> {
    let cancel = cancel::current();
    if cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
        return Err(aborted());
    }
    let cmp = |a: &T, b: &T| if descending { b.cmp(a) } else { a.cmp(b) };
    match mode {
        Mode::Inline => out.sort_unstable_by(cmp),
        Mode::Parallel => out.par_sort_unstable_by(cmp),
    }
    if cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
        return Err(aborted());
    }
    Ok(out)
}

/// Computes `terminal` over `source` (see the module documentation).
pub fn run_big(source: BigSource<'_>, terminal: BigTerminal, mode: Mode) -> Result<BigOutput> {
    Ok(match (source, terminal) {
        (BigSource::I64(v), BigTerminal::Sum) => BigOutput::Signed(sum(v, mode)?),
        (BigSource::U64(v), BigTerminal::Sum) => BigOutput::Unsigned(sum(v, mode)?),
        (BigSource::I64(v), BigTerminal::Min | BigTerminal::Max) => {
            match extreme(v, mode, terminal == BigTerminal::Max)? {
                Some(x) => BigOutput::Signed(x as i128),
                None => BigOutput::Nothing,
            }
        }
        (BigSource::U64(v), BigTerminal::Min | BigTerminal::Max) => {
            match extreme(v, mode, terminal == BigTerminal::Max)? {
                Some(x) => BigOutput::Unsigned(x as u128),
                None => BigOutput::Nothing,
            }
        }
        (BigSource::I64(v), BigTerminal::Count) => BigOutput::Count(v.len() as u64),
        (BigSource::U64(v), BigTerminal::Count) => BigOutput::Count(v.len() as u64),
        (BigSource::I64(v), BigTerminal::Sort { descending }) => {
            BigOutput::I64(sorted(copied(v)?, mode, descending)?)
        }
        (BigSource::U64(v), BigTerminal::Sort { descending }) => {
            BigOutput::U64(sorted(copied(v)?, mode, descending)?)
        }
    })
}

/// Sorts values the caller owns (a copy it made of its source) in place: what
/// [`run_big`]'s `Sort` computes, without a second copy.
pub fn sort_big_owned(values: BigOwned, descending: bool, mode: Mode) -> Result<BigOutput> {
    Ok(match values {
        BigOwned::I64(v) => BigOutput::I64(sorted(v, mode, descending)?),
        BigOwned::U64(v) => BigOutput::U64(sorted(v, mode, descending)?),
    })
}

/// 64-bit integers a job owns.
#[derive(Debug)]
pub enum BigOwned {
    /// Signed values.
    I64(Vec<i64>),
    /// Unsigned values.
    U64(Vec<u64>),
}

impl BigOwned {
    /// The values as a source.
    pub fn source(&self) -> BigSource<'_> {
        match self {
            BigOwned::I64(v) => BigSource::I64(v),
            BigOwned::U64(v) => BigSource::U64(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn modes() -> [Mode; 2] {
        [Mode::Inline, Mode::Parallel]
    }

    #[test]
    fn sums_are_exact_in_128_bits() {
        let v: Vec<i64> = (0..100_000)
            .map(|k| if k % 2 == 0 { i64::MAX } else { i64::MIN + k })
            .collect();
        let want: i128 = v.iter().map(|&x| x as i128).sum();
        let u: Vec<u64> = (0..70_000).map(|k| u64::MAX - k).collect();
        let uwant: u128 = u.iter().map(|&x| x as u128).sum();
        for mode in modes() {
            assert_eq!(
                run_big(BigSource::I64(&v), BigTerminal::Sum, mode).unwrap(),
                BigOutput::Signed(want)
            );
            assert_eq!(
                run_big(BigSource::U64(&u), BigTerminal::Sum, mode).unwrap(),
                BigOutput::Unsigned(uwant)
            );
            assert_eq!(
                run_big(BigSource::U64(&[]), BigTerminal::Sum, mode).unwrap(),
                BigOutput::Unsigned(0)
            );
        }
    }

    #[test]
    fn min_max_count_and_sort() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let u: Vec<u64> = (0..50_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect();
        let v: Vec<i64> = u.iter().map(|&x| x as i64).collect();
        for mode in modes() {
            let t = |t| run_big(BigSource::I64(&v), t, mode).unwrap();
            assert_eq!(
                t(BigTerminal::Min),
                BigOutput::Signed(*v.iter().min().unwrap() as i128)
            );
            assert_eq!(
                t(BigTerminal::Max),
                BigOutput::Signed(*v.iter().max().unwrap() as i128)
            );
            assert_eq!(t(BigTerminal::Count), BigOutput::Count(50_000));
            let mut s = v.clone();
            s.sort();
            assert_eq!(
                t(BigTerminal::Sort { descending: false }),
                BigOutput::I64(s.clone())
            );
            s.reverse();
            assert_eq!(t(BigTerminal::Sort { descending: true }), BigOutput::I64(s));
            let ut = |t| run_big(BigSource::U64(&u), t, mode).unwrap();
            assert_eq!(
                ut(BigTerminal::Max),
                BigOutput::Unsigned(*u.iter().max().unwrap() as u128)
            );
            assert_eq!(
                run_big(BigSource::U64(&[]), BigTerminal::Min, mode).unwrap(),
                BigOutput::Nothing
            );
        }
    }

    #[test]
    fn a_cancelled_job_is_aborted() {
        let v = vec![1i64; 1 << 20];
        let c = Arc::new(cancel::Cancel::new());
        c.cancel();
        for t in [BigTerminal::Sum, BigTerminal::Sort { descending: false }] {
            let err = cancel::scoped(Some(c.clone()), || {
                run_big(BigSource::I64(&v), t, Mode::Parallel)
            })
            .unwrap_err();
            assert_eq!(err.code, Code::Aborted);
        }
    }
}
