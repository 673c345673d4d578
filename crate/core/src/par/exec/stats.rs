//! The statistics terminals: `argmin`/`argmax`, `quantile` (exact, by radix selection),
//! `histogram` and `groupBy` aggregations. Each is independent of the chunking, so results never
//! depend on the thread count.

use rayon::prelude::*;

use super::{Job, Mode};
use crate::error::{Code, Error, Result};
use crate::par::eval::Regs;
use crate::par::program::Kind;
use crate::par::sum::ExactSum;

/// The most groups a `groupBy` may declare.
pub const MAX_GROUPS: u32 = 1 << 20;
/// The most bins a `histogram` may have.
pub const MAX_BINS: u32 = 1 << 24;

/// What `groupBy` computes per group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// How many values the group has.
    Count,
    /// Their exact sum, correctly rounded.
    Sum,
    /// The exact sum divided by the count.
    Mean,
    /// `Math.min` over the group.
    Min,
    /// `Math.max` over the group.
    Max,
}

impl Agg {
    /// From the binding's code (0 count, 1 sum, 2 mean, 3 min, 4 max).
    pub fn from_code(code: u32) -> Option<Agg> {
        Some(match code {
            0 => Agg::Count,
            1 => Agg::Sum,
            2 => Agg::Mean,
            3 => Agg::Min,
            4 => Agg::Max,
            _ => return None,
        })
    }
}

/// Whether `v` comes before `best` as `Math.min` orders values (`less`) or `Math.max` does:
/// NaN first of all, then `-0` below `+0`.
#[inline(always)]
fn beats(v: f64, best: f64, less: bool) -> bool {
    if best.is_nan() {
        return false;
    }
    if v.is_nan() {
        return true;
    }
    if v == best {
        // Equal: only zeros of different signs differ, and `-0` is the smaller.
        return if less {
            v.is_sign_negative() && !best.is_sign_negative()
        } else {
            best.is_sign_negative() && !v.is_sign_negative()
        };
    }
    (v < best) == less
}

/// The order key of an f64 (`-0` below `+0`; NaN is handled apart): unsigned order of keys is
/// numeric order of values.
#[inline(always)]
fn key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

#[inline(always)]
fn value_of(k: u64) -> f64 {
    if k >> 63 == 1 {
        f64::from_bits(k & !(1 << 63))
    } else {
        f64::from_bits(!k)
    }
}

/// Below this many keys, selection sorts them.
const SMALL: usize = 1 << 12;
/// Bits of the key one radix level looks at.
const RADIX_BITS: u32 = 16;

/// The smallest and largest key.
fn key_range(keys: &[u64], mode: Mode) -> (u64, u64) {
    let range = |part: &[u64]| {
        part.iter()
            .fold((u64::MAX, 0u64), |(lo, hi), &k| (lo.min(k), hi.max(k)))
    };
    match mode {
        Mode::Inline => range(keys),
        Mode::Parallel => keys
            .par_chunks(1 << 16)
            .map(range)
            .reduce(|| (u64::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1))),
    }
}

/// The keys of ranks `ranks` (ascending, each below `keys.len()`) among `keys`, appended to
/// `out` in the order of `ranks`; `range` is the keys' smallest and largest. Each level counts
/// [`RADIX_BITS`]-bit digits of `key - smallest` scaled to the keys' span, keeps only the
/// buckets that hold a wanted rank, and goes down into each of them.
fn select(keys: &[u64], range: (u64, u64), ranks: &[usize], mode: Mode, out: &mut Vec<u64>) {
    let (lo, hi) = range;
    if lo == hi {
        out.extend(ranks.iter().map(|_| lo));
        return;
    }
    if keys.len() <= SMALL {
        let mut v = keys.to_vec();
        v.sort_unstable();
        out.extend(ranks.iter().map(|&r| v[r]));
        return;
    }
    let shift = (64 - (hi - lo).leading_zeros()).saturating_sub(RADIX_BITS);
    let buckets = 1usize << RADIX_BITS;
    let digit = |k: u64| ((k - lo) >> shift) as usize;
    let count = |mut acc: Vec<usize>, part: &[u64]| {
        for &k in part {
            acc[digit(k)] += 1;
        }
        acc
    };
    let counts: Vec<usize> = match mode {
        Mode::Inline => count(vec![0; buckets], keys),
        Mode::Parallel => keys
            .par_chunks(1 << 16)
            .fold(|| vec![0usize; buckets], count)
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            })
            .unwrap_or_else(|| vec![0; buckets]),
    };
    // Walk the buckets once, resolving every rank in order.
    let mut below = 0usize;
    let mut r = 0usize;
    for (b, &n) in counts.iter().enumerate() {
        if r == ranks.len() {
            break;
        }
        if n == 0 || ranks[r] >= below + n {
            below += n;
            continue;
        }
        let mut here = Vec::new();
        while r < ranks.len() && ranks[r] < below + n {
            here.push(ranks[r] - below);
            r += 1;
        }
        if shift == 0 {
            // One key value per bucket.
            out.extend(here.iter().map(|_| lo + b as u64));
        } else {
            let part: Vec<u64> = match mode {
                Mode::Inline => keys.iter().copied().filter(|&k| digit(k) == b).collect(),
                Mode::Parallel => keys
                    .par_iter()
                    .copied()
                    .filter(|&k| digit(k) == b)
                    .collect(),
            };
            let range = key_range(&part, mode);
            select(&part, range, &here, mode, out);
        }
        below += n;
    }
}

/// Numbers as their order keys ([`key`]), for collecting.
struct ToKey;
impl super::collect::Conv for ToKey {
    type T = u64;
    #[inline(always)]
    fn from_js(v: f64) -> u64 {
        key(v)
    }
    fn order(a: &u64, b: &u64) -> std::cmp::Ordering {
        a.cmp(b)
    }
}

impl Job<'_> {
    /// The source index of the smallest (`less`) or largest value as `Math.min`/`Math.max` see
    /// them (the first NaN if any; the first of equal values), or `None` when nothing passes.
    pub(super) fn arg_extreme(&self, less: bool) -> Option<f64> {
        debug_assert!(self.keep_index);
        // Whichever comes first in the order; of equals (two NaNs included), the first index.
        let better = |a: Option<(f64, f64)>, b: Option<(f64, f64)>| match (a, b) {
            (Some((av, ai)), Some((bv, bi))) => {
                let b_first = if beats(bv, av, less) {
                    true
                } else if beats(av, bv, less) {
                    false
                } else {
                    bi < ai
                };
                Some(if b_first { (bv, bi) } else { (av, ai) })
            }
            (a, b) => a.or(b),
        };
        let found = self.map_reduce(
            || None,
            |regs, c| {
                let mut best: Option<(f64, f64)> = None;
                self.chunk(regs, c, |regs, n, _| {
                    for k in 0..n {
                        let v = regs.x[k];
                        match best {
                            Some((b, _)) if !beats(v, b, less) => {}
                            _ => best = Some((v, regs.i[k])),
                        }
                    }
                    // A NaN is first of all: nothing later can beat it.
                    !matches!(best, Some((b, _)) if b.is_nan())
                });
                best
            },
            better,
        );
        found.map(|(_, i)| i)
    }

    /// The `q`-quantiles (`0 <= q <= 1`) of the values, each by linear interpolation between the
    /// two nearest ranks (`h = (n - 1) q`): `x[⌊h⌋] + (x[⌊h⌋ + 1] - x[⌊h⌋]) (h - ⌊h⌋)`, as
    /// numpy's default and d3 compute it. NaN if any value is NaN; empty when nothing passes.
    pub(super) fn quantiles(&self, qs: &[f64]) -> Option<Vec<f64>> {
        let keys = self.collect::<ToKey>();
        if keys.is_empty() || self.cancelled() {
            return None;
        }
        // Only NaNs have keys beyond the infinities'.
        let range = key_range(&keys, self.mode);
        if range.0 < key(f64::NEG_INFINITY) || range.1 > key(f64::INFINITY) {
            return Some(vec![f64::NAN; qs.len()]);
        }
        let n = keys.len();
        let spots: Vec<(usize, f64)> = qs
            .iter()
            .map(|&q| {
                let h = (n - 1) as f64 * q;
                let lo = (h.floor() as usize).min(n - 1);
                (lo, h - lo as f64)
            })
            .collect();
        let mut ranks: Vec<usize> = spots
            .iter()
            .flat_map(|&(lo, t)| {
                let hi = if t > 0.0 { (lo + 1).min(n - 1) } else { lo };
                [lo, hi]
            })
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        let mut found = Vec::with_capacity(ranks.len());
        select(&keys, range, &ranks, self.mode, &mut found);
        let at = |r: usize| value_of(found[ranks.binary_search(&r).unwrap_or(0)]);
        Some(
            spots
                .iter()
                .map(|&(lo, t)| {
                    let a = at(lo);
                    if t == 0.0 {
                        return a;
                    }
                    let b = at((lo + 1).min(n - 1));
                    let v = a + (b - a) * t;
                    if v.is_finite() || !(a.is_finite() && b.is_finite()) {
                        v
                    } else {
                        // `b - a` overflowed: the same point, computed without the difference.
                        a * (1.0 - t) + b * t
                    }
                })
                .collect(),
        )
    }

    /// `Math.min` and `Math.max` of the values that are not NaN, or `None` if there are none.
    fn finite_range(&self) -> Option<(f64, f64)> {
        self.map_reduce(
            || None,
            |regs, c| {
                let mut acc: Option<(f64, f64)> = None;
                self.chunk(regs, c, |regs, n, _| {
                    for &v in &regs.x[..n] {
                        if v.is_nan() {
                            continue;
                        }
                        acc = Some(match acc {
                            None => (v, v),
                            Some((lo, hi)) => {
                                (crate::par::js::min(lo, v), crate::par::js::max(hi, v))
                            }
                        });
                    }
                    true
                });
                acc
            },
            |a, b| match (a, b) {
                (Some((a0, a1)), Some((b0, b1))) => {
                    Some((crate::par::js::min(a0, b0), crate::par::js::max(a1, b1)))
                }
                (a, b) => a.or(b),
            },
        )
    }

    /// Counts of the values in `bins` equal-width bins over `[lo, hi]` (NaN bounds: the values'
    /// own range, widened by `max(0.5, |v| * EPSILON)` each way when all values are `v`), as `[edges (bins + 1)..., counts (bins)...]`. A value lands in bin `k` when
    /// `edges[k] <= x < edges[k + 1]`, the last bin also taking `hi`; NaN and values outside
    /// are not counted.
    pub(super) fn histogram(&self, bins: u32, lo: f64, hi: f64) -> Result<Vec<f64>> {
        let invalid = |m: String| Error::new(Code::InvalidArg, m);
        if bins == 0 || bins > MAX_BINS {
            return Err(invalid(format!(
                "histogram: bins must be an integer from 1 to {MAX_BINS}, got {bins}"
            )));
        }
        let (lo, hi) = if lo.is_nan() && hi.is_nan() {
            match self.finite_range() {
                None => (0.0, 1.0),
                Some((a, b)) if !(a.is_finite() && b.is_finite()) => {
                    return Err(invalid(
                        "histogram: the values include ±Infinity; give min and max".to_owned(),
                    ))
                }
                // All equal: widened by 0.5 each way, or by an ulp's worth where 0.5 is less.
                Some((a, b)) if a == b => {
                    let d = (a.abs() * f64::EPSILON).max(0.5);
                    (a - d, b + d)
                }
                Some(r) => r,
            }
        } else {
            (lo, hi)
        };
        if !(lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite()) {
            return Err(invalid(format!(
                "histogram: min and max must be finite numbers with min < max and max - min finite, got {lo} and {hi}"
            )));
        }
        let nb = bins as usize;
        let width = (hi - lo) / bins as f64;
        let mut edges: Vec<f64> = (0..=nb).map(|k| lo + k as f64 * width).collect();
        edges[nb] = hi;
        let scale = bins as f64 / (hi - lo);
        let bin_of = |x: f64| -> Option<usize> {
            if !(x >= lo && x <= hi) {
                return None;
            }
            let mut k = (((x - lo) * scale) as usize).min(nb - 1);
            // The scaled index can be one off an edge computed by rounding; the edges decide.
            if x < edges[k] {
                k -= 1;
            } else if k + 1 < nb && x >= edges[k + 1] {
                k += 1;
            }
            Some(k)
        };
        let count_chunk = |regs: &mut Regs, c: usize, acc: &mut Vec<u64>| {
            self.chunk(regs, c, |regs, n, _| {
                for &x in &regs.x[..n] {
                    if let Some(k) = bin_of(x) {
                        acc[k] += 1;
                    }
                }
                true
            });
        };
        let counts = self.fold_chunks(
            || vec![0u64; nb],
            count_chunk,
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
        let mut out = edges;
        out.extend(counts.iter().map(|&c| c as f64));
        Ok(out)
    }

    /// Folds every chunk into one accumulator per thread (`init`), then combines them
    /// (`combine` must be associative and commutative).
    fn fold_chunks<A: Send>(
        &self,
        init: impl Fn() -> A + Sync + Send,
        f: impl Fn(&mut Regs, usize, &mut A) + Sync + Send,
        combine: impl Fn(A, A) -> A + Sync + Send,
    ) -> A {
        match self.mode {
            Mode::Inline => {
                let mut regs = self.regs();
                let mut acc = init();
                for c in 0..self.nchunks {
                    if self.cancelled() {
                        break;
                    }
                    f(&mut regs, c, &mut acc);
                }
                acc
            }
            Mode::Parallel => (0..self.nchunks)
                .into_par_iter()
                .with_min_len(self.min_len)
                .fold(
                    || (self.regs(), init()),
                    |(mut regs, mut acc), c| {
                        if !self.cancelled() {
                            f(&mut regs, c, &mut acc);
                        }
                        (regs, acc)
                    },
                )
                .map(|(_, acc)| acc)
                .reduce(&init, &combine),
        }
    }

    /// `groupBy(key).agg()`: per group with at least one value, in ascending key order,
    /// `[keys (g)..., values (g)...]`. Keys must be integers in `0..groups`.
    pub(super) fn group_by(&self, groups: u32, agg: Agg) -> Result<Vec<f64>> {
        let prog = self.terminal_program()?;
        if prog.kind != Kind::Key {
            return Err(Error::new(
                Code::InvalidArg,
                "the program's closure is not a groupBy key",
            ));
        }
        if groups == 0 || groups > MAX_GROUPS {
            return Err(Error::new(
                Code::InvalidArg,
                format!("groupBy: keys must be an integer from 1 to {MAX_GROUPS}, got {groups}"),
            ));
        }
        let g = groups as usize;
        let acc = self.fold_chunks(
            || Groups::new(g, agg),
            |regs, c, acc| {
                if acc.bad.is_some() {
                    return;
                }
                self.chunk(regs, c, |regs, n, _| {
                    regs.eval(prog, n);
                    let keys = &regs.get(prog.result)[..n];
                    // An integer in 0..groups (`-0` is 0) survives the round trip through u32
                    // (NaN and fractions do not; `as` saturates).
                    if let Some(&bad) = keys.iter().find(|&&key| {
                        let k = key as u32;
                        k as f64 != key || k >= groups
                    }) {
                        acc.bad = Some(bad);
                        return false;
                    }
                    acc.add_block(keys, &regs.x[..n]);
                    true
                });
            },
            Groups::merge,
        );
        if let Some(bad) = acc.bad {
            return Err(Error::new(
                Code::InvalidArg,
                format!(
                    "groupBy: the key closure returned {}; keys must be integers from 0 to {} (the `keys` option is {groups})",
                    show(bad),
                    groups - 1
                ),
            ));
        }
        Ok(acc.finish())
    }
}

/// A number as JavaScript prints it (for messages).
fn show(v: f64) -> String {
    if v.is_infinite() {
        (if v > 0.0 { "Infinity" } else { "-Infinity" }).to_owned()
    } else if v == 0.0 && v.is_sign_negative() {
        "-0".to_owned()
    } else {
        format!("{v}")
    }
}

/// `a + b` and its rounding error, both exact (Knuth's TwoSum; the error is NaN where
/// infinities meet, and meaningless once `a + b` overflows).
#[inline(always)]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bv = s - a;
    (s, (a - (s - bv)) + (b - bv))
}

/// One thread's per-group accumulators.
///
/// A sum is kept as two doubles `hi + lo` whose exact sum is exactly the sum of the group's
/// values: each value goes into `hi` by TwoSum, and its rounding error into `lo` by TwoSum
/// again. While that second error is zero (the usual case: `lo` collects errors on a grid of
/// the values' ulps), nothing is lost, and `hi + lo` rounded once is the correctly rounded sum.
/// The first time it is not (or a sum overflows, or meets a NaN or an infinity), the group moves
/// to an [`ExactSum`] for good.
struct Groups {
    agg: Agg,
    count: Vec<u64>,
    /// Sums' `hi` (min or max for those aggregations).
    fast: Vec<f64>,
    /// Sums' `lo`.
    low: Vec<f64>,
    /// For a sum that moved to an exact accumulator: its slot in `exact` (else `u32::MAX`).
    slot: Vec<u32>,
    exact: Vec<ExactSum>,
    /// A key outside the declared range (the job then fails).
    bad: Option<f64>,
}

impl Groups {
    fn new(g: usize, agg: Agg) -> Self {
        let sums = matches!(agg, Agg::Sum | Agg::Mean);
        let start = match agg {
            Agg::Min => f64::INFINITY,
            Agg::Max => f64::NEG_INFINITY,
            _ => 0.0,
        };
        Groups {
            agg,
            count: vec![0; g],
            fast: if agg == Agg::Count {
                Vec::new()
            } else {
                vec![start; g]
            },
            low: if sums { vec![0.0; g] } else { Vec::new() },
            slot: if sums { vec![u32::MAX; g] } else { Vec::new() },
            exact: Vec::new(),
            bad: None,
        }
    }

    /// Moves group `k`'s sum to an exact accumulator; returns its slot. Its `lo` becomes NaN, so
    /// that the fast path of [`add_sum`](Self::add_sum) fails for it without reading `slot`.
    fn go_exact(&mut self, k: usize) -> usize {
        let mut s = ExactSum::new();
        s.add(self.fast[k]);
        s.add(self.low[k]);
        self.exact.push(s);
        let at = self.exact.len() - 1;
        self.slot[k] = at as u32;
        self.low[k] = f64::NAN;
        at
    }

    /// Adds `v` to group `k`'s sum.
    #[inline(always)]
    fn add_sum(&mut self, k: usize, v: f64) {
        let (s, e) = two_sum(self.fast[k], v);
        let (l, e2) = two_sum(self.low[k], e);
        if e2 == 0.0 && s.is_finite() {
            self.fast[k] = s;
            self.low[k] = l;
        } else {
            self.add_exact(k, v);
        }
    }

    /// [`add_sum`](Self::add_sum) for a group whose sum is, or now becomes, exact.
    #[cold]
    #[inline(never)]
    fn add_exact(&mut self, k: usize, v: f64) {
        let at = match self.slot[k] {
            u32::MAX => self.go_exact(k),
            at => at as usize,
        };
        self.exact[at].add(v);
    }

    /// Adds the values `xs` to the groups `keys` (checked: integers below the group count).
    fn add_block(&mut self, keys: &[f64], xs: &[f64]) {
        let pairs = keys.iter().map(|&k| k as usize).zip(xs.iter().copied());
        match self.agg {
            Agg::Count => pairs.for_each(|(k, _)| self.count[k] += 1),
            Agg::Min => pairs.for_each(|(k, v)| {
                self.count[k] += 1;
                self.fast[k] = crate::par::js::min(self.fast[k], v);
            }),
            Agg::Max => pairs.for_each(|(k, v)| {
                self.count[k] += 1;
                self.fast[k] = crate::par::js::max(self.fast[k], v);
            }),
            Agg::Sum | Agg::Mean => pairs.for_each(|(k, v)| {
                self.count[k] += 1;
                self.add_sum(k, v);
            }),
        }
    }

    fn merge(mut self, other: Groups) -> Groups {
        if self.bad.is_none() {
            self.bad = other.bad;
        }
        for k in 0..self.count.len() {
            if other.count[k] == 0 {
                continue;
            }
            self.count[k] += other.count[k];
            match self.agg {
                Agg::Count => {}
                Agg::Min => self.fast[k] = crate::par::js::min(self.fast[k], other.fast[k]),
                Agg::Max => self.fast[k] = crate::par::js::max(self.fast[k], other.fast[k]),
                Agg::Sum | Agg::Mean => match other.slot[k] {
                    u32::MAX => {
                        self.add_sum(k, other.fast[k]);
                        self.add_sum(k, other.low[k]);
                    }
                    theirs => {
                        let mine = match self.slot[k] {
                            u32::MAX => self.go_exact(k),
                            at => at as usize,
                        };
                        self.exact[mine].merge(&other.exact[theirs as usize]);
                    }
                },
            }
        }
        self
    }

    /// `[keys..., values...]` of the groups that have values.
    fn finish(&self) -> Vec<f64> {
        let present: Vec<usize> = (0..self.count.len())
            .filter(|&k| self.count[k] > 0)
            .collect();
        let mut out: Vec<f64> = present.iter().map(|&k| k as f64).collect();
        out.extend(present.iter().map(|&k| {
            // `hi + lo` is the exact sum: one rounding gives it correctly rounded.
            let sum = || match self.slot[k] {
                u32::MAX => self.fast[k] + self.low[k],
                at => self.exact[at as usize].value(),
            };
            match self.agg {
                Agg::Count => self.count[k] as f64,
                Agg::Sum => sum(),
                Agg::Mean => sum() / self.count[k] as f64,
                Agg::Min | Agg::Max => self.fast[k],
            }
        }));
        out
    }
}
