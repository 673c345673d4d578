//! Exact summation of f64 values.
//!
//! [`ExactSum`] keeps the exact sum of everything added to it as a fixed-point integer in units of
//! 2^-1074 (the smallest subnormal), split into 32-bit digits held in `i64`s so that additions
//! need no carries most of the time. The result is the sum *correctly rounded* once to f64: it
//! never depends on the order of the additions (so on neither the block decomposition nor the
//! thread count), it is exact whenever the true sum is representable (every integer sum below
//! 2^53), and it is at least as accurate as any other way of adding the same numbers, a naive
//! JavaScript loop included.

/// Digits of 32 bits: 2046 bit positions for finite values plus headroom for 2^64 terms.
const DIGITS: usize = 68;
/// Additions between carry propagations: each adds less than 2^53 to a digit, and a digit
/// starts below 2^33 after a propagation, so 2^10 additions stay far from i64 overflow.
const CARRY_EVERY: u32 = 1 << 10;
/// Values per group in [`ExactSum::add_all`]: each adds less than 2^32 to either half-sum. Small
/// enough that a group rarely holds a value below its span (and so rarely needs a second look).
const GROUP: usize = 1 << 8;
/// How far below a group's largest exponent a value may lie and still take the integer lanes of
/// [`ExactSum::add_group_exact`].
const SPAN: u32 = 11;
/// log2 of [`GROUP`].
const LOG_GROUP: i32 = 8;
/// Extraction levels before a group's remainders go to [`ExactSum::add_group_exact`].
const LEVELS: usize = 3;
/// The biased exponents of a group's largest magnitude for which extraction applies: `σ` stays
/// finite and the first level's unit `2^(s - 53)` stays normal.
const EXTRACT_MIN_EXP: i32 = 1 + 53 - LOG_GROUP + 1 + 1;
const EXTRACT_MAX_EXP: i32 = 2046 - LOG_GROUP - 2;

/// An exact accumulator of f64 values (see the module documentation).
#[derive(Clone, Debug)]
pub struct ExactSum {
    digits: [i64; DIGITS],
    pending: u32,
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
}

impl Default for ExactSum {
    fn default() -> Self {
        Self::new()
    }
}

impl ExactSum {
    /// Zero.
    pub const fn new() -> Self {
        Self {
            digits: [0; DIGITS],
            pending: 0,
            nan: false,
            pos_inf: false,
            neg_inf: false,
        }
    }

    /// Adds `v` exactly.
    #[inline(always)]
    pub fn add(&mut self, v: f64) {
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as u32;
        let frac = bits & ((1u64 << 52) - 1);
        let negative = (bits >> 63) != 0;
        if exp == 0x7ff {
            if frac != 0 {
                self.nan = true;
            } else if negative {
                self.neg_inf = true;
            } else {
                self.pos_inf = true;
            }
            return;
        }
        // value = mant * 2^pos units of 2^-1074.
        let (mant, pos) = if exp == 0 {
            (frac, 0)
        } else {
            (frac | (1u64 << 52), exp - 1)
        };
        let ix = (pos >> 5) as usize;
        let sh = pos & 31;
        let low = ((mant << sh) & 0xffff_ffff) as i64;
        let high = (mant >> (32 - sh)) as i64;
        if negative {
            self.digits[ix] -= low;
            self.digits[ix + 1] -= high;
        } else {
            self.digits[ix] += low;
            self.digits[ix + 1] += high;
        }
        self.pending += 1;
        if self.pending >= CARRY_EVERY {
            self.carry();
        }
    }

    /// Adds every value of `values`, exactly, in groups of 256: by error-free extraction in f64
    /// where it applies, else on the values' bits. Both loops vectorise; this picks AVX-512 or
    /// AVX2 code at run time where the CPU has it (the results are identical).
    #[inline]
    pub fn add_all(&mut self, values: &[f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                // SAFETY: the CPU supports AVX-512F and VL (checked just above), the only
                // requirement of `add_all_avx512`.
                unsafe { self.add_all_avx512(values) };
                return;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of
                // `add_all_avx2`.
                unsafe { self.add_all_avx2(values) };
                return;
            }
        }
        self.add_all_body(values);
    }

    /// [`add_all_body`](Self::add_all_body) compiled for AVX2 (same results: integer arithmetic).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_all_avx2(&mut self, values: &[f64]) {
        self.add_all_body(values);
    }

    /// [`add_all_body`](Self::add_all_body) compiled for AVX-512 (same results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl")]
    unsafe fn add_all_avx512(&mut self, values: &[f64]) {
        self.add_all_body(values);
    }

    /// Splits each group with error-free transformations (Rump, Ogita and Oishi's
    /// `ExtractVector`, from "Accurate floating-point summation", 2008): with `σ = 2^s` at least
    /// `2 n max|p|`, `q = (σ + p) - σ` and `r = p - q` are exact, `q + r = p`, every `q` is a
    /// multiple of `2^(s - 53)` and the `q`s of a group add up exactly in f64 (no partial sum
    /// reaches `σ`). So each level adds one exact f64 to the digits and leaves remainders 44 bits
    /// smaller; two levels finish most groups. The loops are plain f64 adds over eight lanes,
    /// which vectorise. Groups it cannot handle (NaN, infinities, magnitudes near the ends of the
    /// range, remainders left after [`LEVELS`]) go to [`add_group_exact`](Self::add_group_exact).
    #[inline(always)]
    fn add_all_body(&mut self, values: &[f64]) {
        let mut rest = [0.0f64; GROUP];
        for group in values.chunks(GROUP) {
            let mut top = 0u64;
            for &v in group {
                top = top.max(v.to_bits() & !(1u64 << 63));
            }
            if top == 0 {
                continue; // all zeros
            }
            let e = (top >> 52) as i32; // biased exponent of the largest magnitude (0x7ff: NaN, ±Infinity)
            if !(EXTRACT_MIN_EXP..=EXTRACT_MAX_EXP).contains(&e) {
                self.add_group_exact(group);
                continue;
            }
            let rest = &mut rest[..group.len()];
            rest.copy_from_slice(group);
            // max|p| < 2^(e - 1022), and n <= 2^LOG_GROUP: σ = 2^s >= 2 n max|p|.
            let mut s = e - 1022 + LOG_GROUP + 1;
            let mut done = false;
            for _ in 0..LEVELS {
                let sigma = f64::from_bits(((s + 1023) as u64) << 52);
                let mut acc = [0.0f64; 8];
                let mut left = [0u64; 8];
                let mut lanes = rest.chunks_exact_mut(8);
                for c in &mut lanes {
                    for j in 0..8 {
                        let p = c[j];
                        let q = (sigma + p) - sigma;
                        let r = p - q;
                        acc[j] += q;
                        left[j] |= r.to_bits() << 1;
                        c[j] = r;
                    }
                }
                for (j, p) in lanes.into_remainder().iter_mut().enumerate() {
                    let q = (sigma + *p) - sigma;
                    let r = *p - q;
                    acc[j] += q;
                    left[j] |= r.to_bits() << 1;
                    *p = r;
                }
                // Every partial sum is a multiple of 2^(s - 53) below σ: these adds are exact.
                self.add(acc.iter().sum());
                if left.iter().all(|&l| l == 0) {
                    done = true;
                    break;
                }
                s = s - 53 + LOG_GROUP + 1;
                if s - 53 < -1022 {
                    break; // the next unit would be subnormal
                }
            }
            if !done {
                self.add_group_exact(rest);
            }
        }
    }

    /// Adds one group of at most [`GROUP`] values exactly, working on their bits. Every finite
    /// value whose exponent is at most [`SPAN`] below the group's largest is an integer multiple
    /// of one common unit, `2^base`, below 2^64 of them (53 mantissa bits shifted left by at most
    /// `SPAN`). Those integers are added in two 32-bit halves into two `i64`s, which no group can
    /// overflow (at most 2^8 × 2^32), and the two totals go into the digits at `base` and
    /// `base + 32`. The few values outside the span (and NaN or infinities) are added one by one.
    #[inline(always)]
    fn add_group_exact(&mut self, group: &[f64]) {
        {
            // The largest exponent field among the finite values (0x7ff: NaN and infinities).
            let mut emax = 0u32;
            for &v in group {
                let e = ((v.to_bits() >> 52) & 0x7ff) as u32;
                emax = emax.max(if e == 0x7ff { 0 } else { e });
            }
            // Position (in units of 2^-1074) of the group's unit: a value with exponent field
            // `e` is `mant * 2^(max(e, 1) - 1)` units.
            let base = (emax.max(1) - 1).saturating_sub(SPAN) as u64;
            let (mut lo, mut hi) = (0i64, 0i64);
            let mut outside = 0u64;
            for &v in group {
                let bits = v.to_bits();
                let e = (bits >> 52) & 0x7ff;
                let frac = bits & ((1u64 << 52) - 1);
                let mant = if e == 0 { frac } else { frac | (1u64 << 52) };
                let pos = e.max(1) - 1;
                let fits = (e != 0x7ff) & ((pos >= base) | (mant == 0));
                outside |= u64::from(!fits);
                let shifted = if fits {
                    mant << (pos.wrapping_sub(base) & 63)
                } else {
                    0
                };
                let (l, h) = ((shifted & 0xffff_ffff) as i64, (shifted >> 32) as i64);
                let negative = (bits >> 63) != 0;
                lo += if negative { -l } else { l };
                hi += if negative { -h } else { h };
            }
            self.add_int_at(lo, base as u32);
            self.add_int_at(hi, base as u32 + 32);
            if outside != 0 {
                for &v in group {
                    let bits = v.to_bits();
                    let e = (bits >> 52) & 0x7ff;
                    let pos = e.max(1) - 1;
                    let zero = bits << 1 == 0;
                    if e == 0x7ff || (pos < base && !zero) {
                        self.add(v);
                    }
                }
            }
        }
    }

    /// Adds `n * 2^pos` units exactly (`|n| < 2^42`, `pos + 74 < 32 * DIGITS`).
    #[inline(always)]
    fn add_int_at(&mut self, n: i64, pos: u32) {
        let w = (n as i128) << (pos & 31);
        let ix = (pos >> 5) as usize;
        self.digits[ix] += (w & 0xffff_ffff) as i64;
        self.digits[ix + 1] += ((w >> 32) & 0xffff_ffff) as i64;
        self.digits[ix + 2] += (w >> 64) as i64;
        self.pending += 1;
        if self.pending >= CARRY_EVERY {
            self.carry();
        }
    }

    /// Adds the integer `n` exactly.
    pub fn add_i64(&mut self, n: i64) {
        // 1 is 2^1074 units: digit 33, bit 18.
        let w = (n as i128) << 18;
        self.digits[33] += (w & 0xffff_ffff) as i64;
        self.digits[34] += ((w >> 32) & 0xffff_ffff) as i64;
        self.digits[35] += (w >> 64) as i64;
        self.pending += 1;
        if self.pending >= CARRY_EVERY {
            self.carry();
        }
    }

    /// Propagates carries so that every digit but the top one lies in [0, 2^32).
    fn carry(&mut self) {
        for k in 0..DIGITS - 1 {
            let c = self.digits[k] >> 32;
            self.digits[k] -= c << 32;
            self.digits[k + 1] += c;
        }
        self.pending = 0;
    }

    /// Adds everything `other` holds.
    pub fn merge(&mut self, other: &ExactSum) {
        self.carry();
        let mut o = other.clone();
        o.carry();
        for (d, od) in self.digits.iter_mut().zip(o.digits.iter()) {
            *d += *od;
        }
        self.carry();
        self.nan |= o.nan;
        self.pos_inf |= o.pos_inf;
        self.neg_inf |= o.neg_inf;
    }

    /// The exact sum rounded to the nearest f64 (ties to even); `NaN` if a NaN was added or both
    /// infinities were, `±Infinity` if one was or if the rounded sum overflows. An exact zero is
    /// `+0`, as a JavaScript loop starting from `0` gives.
    pub fn value(&self) -> f64 {
        if self.nan || (self.pos_inf && self.neg_inf) {
            return f64::NAN;
        }
        if self.pos_inf {
            return f64::INFINITY;
        }
        if self.neg_inf {
            return f64::NEG_INFINITY;
        }
        let mut d = self.clone();
        d.carry();
        let negative = d.digits[DIGITS - 1] < 0;
        if negative {
            for x in d.digits.iter_mut() {
                *x = -*x;
            }
            d.carry();
        }
        let Some(top) = d.digits.iter().rposition(|&x| x != 0) else {
            return 0.0;
        };
        // A window of the three top digits (the top one may exceed 32 bits, at most 2^52), plus a
        // sticky flag for everything below.
        let base = top.saturating_sub(2);
        let mut window: u128 = 0;
        for k in (base..=top).rev() {
            window = (window << 32) | d.digits[k] as u128;
        }
        let sticky = d.digits[..base].iter().any(|&x| x != 0);
        let len = 128 - window.leading_zeros();
        let magnitude = if len <= 53 {
            // Only possible when `base` is 0: the whole value is exact and below 2^53 units.
            scale(window as f64, base as i32 * 32 - 1074)
        } else {
            let shift = len - 53;
            let mut q = window >> shift;
            let rem = window & ((1u128 << shift) - 1);
            let half = 1u128 << (shift - 1);
            if rem > half || (rem == half && (sticky || q & 1 == 1)) {
                q += 1;
            }
            scale(q as f64, (base as i32 * 32) + shift as i32 - 1074)
        };
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// `m * 2^e` for an integer `m <= 2^53`, exact unless it overflows (then `Infinity`).
fn scale(m: f64, e: i32) -> f64 {
    if e > 1023 {
        return if m == 0.0 { 0.0 } else { f64::INFINITY };
    }
    if e >= -1022 {
        m * f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        // 2^e is subnormal; 2^-1074 is the smallest. The product is exactly representable here
        // (see `ExactSum::value`).
        m * f64::from_bits(1u64 << (e + 1074))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(values: &[f64]) -> f64 {
        let mut s = ExactSum::new();
        s.add_all(values);
        s.value()
    }

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
    }

    #[test]
    fn small_cases() {
        assert!(same(sum(&[]), 0.0));
        assert!(same(sum(&[-0.0]), 0.0));
        assert!(same(sum(&[1.0, 2.0, 3.0]), 6.0));
        assert!(same(sum(&[0.1, 0.2]), 0.30000000000000004));
        assert!(same(sum(&[0.1, 0.2, -0.3]), 2.7755575615628914e-17));
        assert!(same(sum(&[1e100, 1.0, -1e100]), 1.0));
        assert!(same(sum(&[f64::MAX, f64::MAX, -f64::MAX]), f64::MAX));
        assert!(same(sum(&[f64::MAX, f64::MAX]), f64::INFINITY));
        assert!(same(sum(&[-f64::MAX, -f64::MAX]), f64::NEG_INFINITY));
        assert!(same(sum(&[f64::INFINITY, 1.0]), f64::INFINITY));
        assert!(same(sum(&[f64::INFINITY, f64::NEG_INFINITY]), f64::NAN));
        assert!(same(sum(&[f64::NAN, 1.0]), f64::NAN));
        let tiny = f64::from_bits(1);
        assert!(same(sum(&[tiny, tiny, tiny]), f64::from_bits(3)));
        assert!(same(sum(&[-tiny]), -tiny));
        assert!(same(
            sum(&[f64::MIN_POSITIVE, -tiny]),
            f64::from_bits((1 << 52) - 1)
        ));
        assert!(same(sum(&[1.0, 2f64.powi(-53)]), 1.0)); // tie to even
        assert!(same(sum(&[1.0, 2f64.powi(-53), tiny]), 1.0 + f64::EPSILON)); // sticky
        assert!(same(
            sum(&[1.0 + f64::EPSILON, 2f64.powi(-53)]),
            1.0 + 2.0 * f64::EPSILON
        ));
        assert!(same(sum(&[-1.0, -(2f64.powi(-53))]), -1.0));
        assert!(same(sum(&[3.0, -5.0]), -2.0));
        // Overflow by rounding: MAX + half an ulp rounds up to 2^1024.
        assert!(same(sum(&[f64::MAX, 2f64.powi(970)]), f64::INFINITY));
        assert!(same(sum(&[f64::MAX, 2f64.powi(969)]), f64::MAX));
    }

    #[test]
    fn integers_take_the_fast_path_exactly() {
        let mut s = ExactSum::new();
        s.add_i64(-5);
        s.add(0.25);
        assert!(same(s.value(), -4.75));
        let mut s = ExactSum::new();
        s.add_i64(i64::MAX);
        s.add_i64(i64::MIN);
        assert!(same(s.value(), -1.0));
        let big = vec![9007199254740991.0f64; 3000];
        let mut s = ExactSum::new();
        s.add_all(&big);
        assert!(same(s.value(), 9007199254740991.0 * 3000.0));
        let mixed: Vec<f64> = (0..5000)
            .map(|k| if k == 4000 { 0.5 } else { k as f64 })
            .collect();
        let mut s = ExactSum::new();
        s.add_all(&mixed);
        let want: f64 = (0..5000)
            .map(|k| if k == 4000 { 0.5 } else { k as f64 })
            .sum();
        assert!(same(s.value(), want));
    }

    #[test]
    fn integer_sums_below_2_pow_53_are_exact() {
        let values: Vec<f64> = (0..100_000).map(|i| (i * 7919 % 100_003) as f64).collect();
        let expected: i64 = (0..100_000i64).map(|i| i * 7919 % 100_003).sum();
        assert_eq!(sum(&values), expected as f64);
        let big = [4503599627370496.0, 4503599627370495.0, -3.0];
        assert_eq!(sum(&big), 9007199254740988.0);
    }

    #[test]
    fn order_and_merging_do_not_matter() {
        let mut x = 0x2545F4914F6CDD1Du64;
        let mut values = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mag = f64::from_bits((x >> 12) | 0x3ff0_0000_0000_0000) - 1.0;
            let e = ((x >> 3) % 200) as i32 - 100;
            values.push(if x & 1 == 0 { mag } else { -mag } * 2f64.powi(e));
        }
        let forward = sum(&values);
        let mut rev = values.clone();
        rev.reverse();
        assert!(same(forward, sum(&rev)));
        for split in [1usize, 7, 1000, 19_999] {
            let mut a = ExactSum::new();
            a.add_all(&values[..split]);
            let mut b = ExactSum::new();
            b.add_all(&values[split..]);
            b.merge(&a);
            assert!(same(forward, b.value()));
        }
        // The naive loop is never closer to the truth than the exact sum: compare the two-level
        // error through another exact accumulation.
        let naive: f64 = values.iter().sum();
        let mut err_exact = ExactSum::new();
        err_exact.add_all(&values);
        err_exact.add(-forward);
        let mut err_naive = ExactSum::new();
        err_naive.add_all(&values);
        err_naive.add(-naive);
        assert!(err_exact.value().abs() <= err_naive.value().abs());
    }

    /// `add_all` (grouped, vectorised) holds exactly what adding the values one by one holds,
    /// for mixes that exercise its fallbacks: zeros, subnormals, values far below a group's
    /// largest, NaN, infinities, huge magnitudes near the top of the range.
    #[test]
    fn add_all_equals_one_by_one() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..200 {
            let n = 1 + (next() % 5000) as usize;
            let spread = [4i32, 12, 60, 700, 2100][round % 5];
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    let r = next();
                    match r % 97 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => f64::from_bits(r >> 13), // subnormal or tiny
                        3 if round % 7 == 0 => f64::NAN,
                        4 if round % 11 == 0 => f64::INFINITY,
                        5 if round % 13 == 0 => f64::NEG_INFINITY,
                        6 => f64::MAX,
                        _ => {
                            let mag = f64::from_bits((r >> 12) | 0x3ff0_0000_0000_0000) - 1.0;
                            let e = ((r >> 3) % spread as u64) as i32 - spread / 2;
                            let v = mag * 2f64.powi(e.clamp(-1074, 1023));
                            if r & 4 == 0 {
                                v
                            } else {
                                -v
                            }
                        }
                    }
                })
                .collect();
            let mut grouped = ExactSum::new();
            grouped.add_all(&values);
            let mut single = ExactSum::new();
            for &v in &values {
                single.add(v);
            }
            assert!(
                same(grouped.value(), single.value()),
                "round {round}: {} vs {}",
                grouped.value(),
                single.value()
            );
            // Same exact contents: subtracting one from the other leaves exactly zero.
            if !values.iter().any(|v| !v.is_finite()) {
                for &v in &values {
                    grouped.add(-v);
                }
                assert!(
                    same(grouped.value(), 0.0),
                    "round {round}: residue {}",
                    grouped.value()
                );
            }
        }
    }

    /// Groups at the edge of the extraction bounds: full groups of equal-signed values just
    /// below a power of two (partial sums at their largest), values whose low bits need every
    /// level, and groups just inside and outside the exponent range where extraction applies.
    #[test]
    fn extraction_edges_are_exact() {
        let below_one = 1.0 - f64::EPSILON / 2.0;
        let cases: Vec<Vec<f64>> = vec![
            vec![below_one; 256 * 3 + 5],
            vec![-below_one; 256 * 2],
            (0..1024)
                .map(|k| below_one * 2f64.powi(-(k % 150)))
                .collect(),
            (0..1024)
                .map(|k| {
                    if k % 2 == 0 {
                        1.0 + f64::EPSILON
                    } else {
                        2f64.powi(-1000) * 3.0
                    }
                })
                .collect(),
            vec![f64::from_bits((EXTRACT_MIN_EXP as u64) << 52) * 1.5; 300],
            vec![f64::from_bits(((EXTRACT_MIN_EXP - 1) as u64) << 52) * 1.5; 300],
            vec![f64::from_bits((EXTRACT_MAX_EXP as u64) << 52) * 1.5; 300],
            vec![f64::from_bits(((EXTRACT_MAX_EXP + 1) as u64) << 52) * 1.5; 2],
        ];
        for (n, values) in cases.iter().enumerate() {
            let mut grouped = ExactSum::new();
            grouped.add_all(values);
            let mut single = ExactSum::new();
            for &v in values {
                single.add(v);
            }
            assert!(same(grouped.value(), single.value()), "case {n}");
            for &v in values {
                grouped.add(-v);
            }
            assert!(
                same(grouped.value(), 0.0),
                "case {n}: residue {}",
                grouped.value()
            );
        }
    }
}
