//! JavaScript number semantics, one scalar function per operation.
//!
//! Every operator and `Math.*` function that a `par` closure may use is defined here exactly as
//! ECMAScript defines it for numbers, so that the block evaluator produces the very bits V8 would.
//! Booleans travel as `1.0` / `0.0` (the compiler tracks which values are booleans).

/// `ToBoolean` for a number: false for `0`, `-0` and `NaN`.
#[inline(always)]
pub fn truthy(x: f64) -> bool {
    !x.is_nan() && x != 0.0
}

/// A JavaScript boolean as the evaluator carries it.
#[inline(always)]
pub fn from_bool(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// `ToInt32`: truncate, then wrap modulo 2^32 into the signed range; `NaN` and `±Infinity` give 0.
#[inline(always)]
pub fn to_int32(x: f64) -> i32 {
    // Below 2^63 in magnitude the saturating `as i64` cast is an exact truncation, and keeping its
    // low 32 bits is the wrap modulo 2^32.
    if x.abs() < 9_223_372_036_854_775_808.0 {
        (x as i64) as i32
    } else {
        to_int32_slow(x)
    }
}

#[cold]
fn to_int32_slow(x: f64) -> i32 {
    if !x.is_finite() {
        return 0;
    }
    // |x| >= 2^63, so x is an integer; fmod is exact and keeps x's residue modulo 2^32.
    let m = x % 4_294_967_296.0;
    (m as i64) as i32
}

/// `ToUint32`.
#[inline(always)]
pub fn to_uint32(x: f64) -> u32 {
    to_int32(x) as u32
}

/// `a % b`: the remainder with the sign of the dividend (C's `fmod`, exact).
#[inline(always)]
pub fn rem(a: f64, b: f64) -> f64 {
    if rem_is_integral(a, b) {
        rem_integral(a, b)
    } else {
        a % b
    }
}

/// Whether [`rem_integral`] applies: both operands integers below 2^53 in magnitude, `b != 0`.
#[inline(always)]
pub fn rem_is_integral(a: f64, b: f64) -> bool {
    const SAFE: u64 = 1 << 53;
    // A saturating float-to-int conversion and back is the identity exactly for integers below
    // 2^63 (NaN becomes 0, infinities saturate): cheaper than `trunc` without SSE4.1.
    let (ai, bi) = (a as i64, b as i64);
    ai as f64 == a
        && bi as f64 == b
        && bi != 0
        && ai.unsigned_abs() < SAFE
        && bi.unsigned_abs() < SAFE
}

/// `a % b` for integers below 2^53 in magnitude (`b != 0`): the rounded quotient `a / b` never
/// crosses an integer the exact quotient does not reach (the gap to the next integer, at least
/// `1/|b|`, exceeds half an ulp of the quotient when `|a| < 2^53`), so its truncation is the
/// exact integer quotient, and `a - q * b` is exact; the sign of a zero comes from `a`.
#[inline(always)]
pub fn rem_integral(a: f64, b: f64) -> f64 {
    let q = ((a / b) as i64) as f64;
    (a - q * b).copysign(a)
}

/// `a ** b` / `Math.pow`: C's `pow` except where ECMAScript differs (a NaN exponent is always NaN,
/// and `(±1) ** ±Infinity` is NaN).
#[inline]
pub fn pow(a: f64, b: f64) -> f64 {
    if b.is_nan() {
        return f64::NAN;
    }
    if b == 0.0 {
        return 1.0;
    }
    if a.abs() == 1.0 && b.is_infinite() {
        return f64::NAN;
    }
    libm::pow(a, b)
}

/// `Math.min(a, b)`: NaN if either is NaN, and `-0` is less than `+0`.
#[inline(always)]
pub fn min(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else if b < a {
        b
    } else if a == b {
        // Equal: only the sign of a zero can differ; either negative zero wins.
        f64::from_bits(a.to_bits() | b.to_bits())
    } else {
        f64::NAN
    }
}

/// `Math.max(a, b)`: NaN if either is NaN, and `+0` is greater than `-0`.
#[inline(always)]
pub fn max(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else if b > a {
        b
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits())
    } else {
        f64::NAN
    }
}

#[inline(always)]
/// `Math.acosh`: NaN below 1. (The `libm` crate's `acosh` answers large negative inputs with a
/// number, as if for |x|.)
pub fn acosh(x: f64) -> f64 {
    if x < 1.0 {
        f64::NAN
    } else {
        libm::acosh(x)
    }
}

/// `Math.round`: round half towards +Infinity, keeping `-0` for results in [-0.5, -0].
pub fn round(x: f64) -> f64 {
    let f = x.floor();
    // x - floor(x) is exact for every finite x (and NaN for infinities, which stay as they are).
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    if r == 0.0 && x.is_sign_negative() {
        -0.0
    } else {
        r
    }
}

/// `Math.sign`.
#[inline(always)]
pub fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x // ±0 and NaN
    }
}

/// `Math.fround`.
#[inline(always)]
pub fn fround(x: f64) -> f64 {
    x as f32 as f64
}

/// `Math.clz32`.
#[inline(always)]
pub fn clz32(x: f64) -> f64 {
    to_uint32(x).leading_zeros() as f64
}

/// `Math.imul`.
#[inline(always)]
pub fn imul(a: f64, b: f64) -> f64 {
    to_int32(a).wrapping_mul(to_int32(b)) as f64
}

/// `a << b`.
#[inline(always)]
pub fn shl(a: f64, b: f64) -> f64 {
    to_int32(a).wrapping_shl(to_uint32(b) & 31) as f64
}

/// `a >> b`.
#[inline(always)]
pub fn sar(a: f64, b: f64) -> f64 {
    (to_int32(a) >> (to_uint32(b) & 31)) as f64
}

/// `a >>> b`.
#[inline(always)]
pub fn shr(a: f64, b: f64) -> f64 {
    (to_uint32(a) >> (to_uint32(b) & 31)) as f64
}

/// `Number.isInteger`.
#[inline(always)]
pub fn is_integer(x: f64) -> bool {
    x.is_finite() && x.trunc() == x
}

/// `Number.isSafeInteger`.
#[inline(always)]
pub fn is_safe_integer(x: f64) -> bool {
    is_integer(x) && x.abs() <= 9_007_199_254_740_991.0
}

/// `Math.hypot(...values)`, with V8's algorithm (scale by the largest magnitude, Kahan-sum the
/// squares) so that results match V8 bit for bit. `values` must not be empty (`Math.hypot()` is
/// the constant 0, which the compiler emits directly).
#[inline]
pub fn hypot(values: &[f64]) -> f64 {
    let mut max = 0.0f64;
    let mut nan = false;
    for &v in values {
        let a = v.abs();
        if a.is_nan() {
            nan = true;
        } else if max < a {
            max = a;
        }
    }
    if max == f64::INFINITY {
        return f64::INFINITY;
    }
    if nan {
        return f64::NAN;
    }
    if max == 0.0 {
        return 0.0;
    }
    let mut sum = 0.0f64;
    let mut compensation = 0.0f64;
    for &v in values {
        let n = v.abs() / max;
        let summand = n * n - compensation;
        let preliminary = sum + summand;
        compensation = (preliminary - sum) - summand;
        sum = preliminary;
    }
    sum.sqrt() * max
}

/// The `ToUint8Clamp` of a store into a `Uint8ClampedArray`.
#[inline(always)]
pub fn to_uint8_clamp(x: f64) -> u8 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= 255.0 {
        255
    } else {
        x.round_ties_even() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: f64, b: f64) -> bool {
        // Object.is
        (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
    }

    #[track_caller]
    fn check(got: f64, want: f64) {
        assert!(
            same(got, want),
            "got {got:?} ({:#x}), want {want:?}",
            got.to_bits()
        );
    }

    #[test]
    fn remainder_has_the_sign_of_the_dividend() {
        check(rem(5.5, 2.0), 1.5);
        check(rem(-5.5, 2.0), -1.5);
        check(rem(5.5, -2.0), 1.5);
        check(rem(-4.0, 2.0), -0.0);
        check(rem(-0.0, 3.0), -0.0);
        check(rem(7.0, 0.0), f64::NAN);
        check(rem(f64::INFINITY, 3.0), f64::NAN);
        check(rem(3.0, f64::INFINITY), 3.0);
        check(rem(-3.0, f64::NEG_INFINITY), -3.0);
        check(rem(f64::NAN, 1.0), f64::NAN);
        check(rem(0.3, 0.1), 0.09999999999999998);
        check(rem(1e308, 3.0), 2.0);
        check(rem(-7.0, 3.0), -1.0);
        check(rem(7.0, -3.0), 1.0);
        check(rem(-6.0, -3.0), -0.0);
        check(rem(6.0, -3.0), 0.0);
        check(rem(5.0, -0.0), f64::NAN);
        check(rem(9007199254740991.0, 2.0), 1.0);
        check(rem(9007199254740992.0, 3.0), 2.0);
        check(rem(-9007199254740993.0, 10.0), -2.0);
        // Against fmod over a spread of integers.
        for a in -300i64..300 {
            for b in [-7i64, -3, -1, 1, 2, 5, 64, 1 << 40] {
                let (x, y) = (a as f64 * 12345.0, b as f64);
                check(rem(x, y), x % y);
            }
        }
    }

    #[test]
    fn min_max_follow_math_min_max() {
        check(min(0.0, -0.0), -0.0);
        check(min(-0.0, 0.0), -0.0);
        check(max(0.0, -0.0), 0.0);
        check(max(-0.0, 0.0), 0.0);
        check(max(-0.0, -0.0), -0.0);
        check(min(0.0, 0.0), 0.0);
        check(min(f64::NAN, 1.0), f64::NAN);
        check(min(1.0, f64::NAN), f64::NAN);
        check(max(f64::NAN, f64::INFINITY), f64::NAN);
        check(max(f64::NEG_INFINITY, -1.0), -1.0);
        check(min(f64::NEG_INFINITY, -1.0), f64::NEG_INFINITY);
        check(min(2.0, 3.0), 2.0);
        check(max(2.0, 3.0), 3.0);
    }

    #[test]
    fn round_is_javascript_round() {
        check(round(0.5), 1.0);
        check(round(-0.5), -0.0);
        check(round(2.5), 3.0);
        check(round(-2.5), -2.0);
        check(round(-2.6), -3.0);
        check(round(0.49999999999999994), 0.0);
        check(round(-0.49999999999999994), -0.0);
        check(round(-0.0), -0.0);
        check(round(0.0), 0.0);
        check(round(-0.2), -0.0);
        check(round(4503599627370495.5), 4503599627370496.0);
        check(round(-4503599627370495.5), -4503599627370495.0);
        check(round(9007199254740993.0), 9007199254740992.0);
        check(round(f64::INFINITY), f64::INFINITY);
        check(round(f64::NEG_INFINITY), f64::NEG_INFINITY);
        check(round(f64::NAN), f64::NAN);
        check(round(1.5), 2.0);
    }

    #[test]
    fn to_int32_wraps_like_javascript() {
        assert_eq!(to_int32(0.0), 0);
        assert_eq!(to_int32(-0.0), 0);
        assert_eq!(to_int32(f64::NAN), 0);
        assert_eq!(to_int32(f64::INFINITY), 0);
        assert_eq!(to_int32(f64::NEG_INFINITY), 0);
        assert_eq!(to_int32(3.9), 3);
        assert_eq!(to_int32(-3.9), -3);
        assert_eq!(to_int32(2147483647.0), 2147483647);
        assert_eq!(to_int32(2147483648.0), -2147483648);
        assert_eq!(to_int32(4294967295.0), -1);
        assert_eq!(to_int32(4294967296.0), 0);
        assert_eq!(to_int32(4294967297.5), 1);
        assert_eq!(to_int32(-2147483649.0), 2147483647);
        assert_eq!(to_int32(1e20), 1661992960); // (1e20 | 0) in V8
        assert_eq!(to_int32(-1e20), -1661992960);
        assert_eq!(to_int32(9.223372036854776e18), 0);
        assert_eq!(
            to_int32(1.8446744073709552e19 + 4096.0 * 4096.0 * 4096.0),
            0
        );
        assert_eq!(to_int32(f64::MAX), 0);
        assert_eq!(to_int32(2f64.powi(63) + 2f64.powi(12)), 4096);
        assert_eq!(to_uint32(-1.0), 4294967295);
        assert_eq!(to_uint32(4294967296.0 + 5.0), 5);
    }

    #[test]
    fn bitwise_and_shifts() {
        check(shl(1.0, 31.0), -2147483648.0);
        check(shl(1.0, 32.0), 1.0);
        check(shl(1.0, -1.0), -2147483648.0);
        check(sar(-8.0, 1.0), -4.0);
        check(shr(-8.0, 1.0), 2147483644.0);
        check(shr(-1.0, 0.0), 4294967295.0);
        check(sar(f64::NAN, 3.0), 0.0);
        check(imul(0xffff_ffffu32 as f64, 5.0), -5.0);
        check(imul(4294967296.0 + 3.0, 3.0), 9.0);
        check(clz32(0.0), 32.0);
        check(clz32(-1.0), 0.0);
        check(clz32(1.0), 31.0);
        check(clz32(f64::NAN), 32.0);
    }

    #[test]
    fn pow_differs_from_c_where_javascript_does() {
        check(pow(1.0, f64::NAN), f64::NAN);
        check(pow(1.0, f64::INFINITY), f64::NAN);
        check(pow(-1.0, f64::NEG_INFINITY), f64::NAN);
        check(pow(f64::NAN, 0.0), 1.0);
        check(pow(f64::NAN, -0.0), 1.0);
        check(pow(2.0, 10.0), 1024.0);
        check(pow(-8.0, 1.0 / 3.0), f64::NAN);
        check(pow(-0.0, -1.0), f64::NEG_INFINITY);
        check(pow(-0.0, -2.0), f64::INFINITY);
        check(pow(f64::NEG_INFINITY, 0.5), f64::INFINITY);
        check(pow(0.5, f64::INFINITY), 0.0);
    }

    #[test]
    fn sign_fround_and_predicates() {
        check(sign(-0.0), -0.0);
        check(sign(0.0), 0.0);
        check(sign(f64::NAN), f64::NAN);
        check(sign(-3.0), -1.0);
        check(sign(f64::INFINITY), 1.0);
        check(fround(5.5), 5.5);
        check(fround(5.05), 5.050000190734863);
        check(fround(1e40), f64::INFINITY);
        assert!(is_integer(-0.0));
        assert!(!is_integer(f64::INFINITY));
        assert!(!is_integer(0.5));
        assert!(is_safe_integer(9007199254740991.0));
        assert!(!is_safe_integer(9007199254740992.0));
        assert!(!truthy(f64::NAN));
        assert!(!truthy(-0.0));
        assert!(truthy(f64::MIN_POSITIVE));
    }

    #[test]
    fn hypot_matches_v8() {
        check(hypot(&[3.0, 4.0]), 5.0);
        check(hypot(&[f64::NAN, f64::INFINITY]), f64::INFINITY);
        check(hypot(&[f64::NAN, 1.0]), f64::NAN);
        check(hypot(&[-0.0]), 0.0);
        check(hypot(&[-0.0, -0.0]), 0.0);
        check(hypot(&[-7.0]), 7.0);
        check(hypot(&[1e300, 1e300]), 1.4142135623730952e300);
    }

    #[test]
    fn uint8_clamp_rounds_half_to_even() {
        assert_eq!(to_uint8_clamp(0.5), 0);
        assert_eq!(to_uint8_clamp(1.5), 2);
        assert_eq!(to_uint8_clamp(2.5), 2);
        assert_eq!(to_uint8_clamp(254.5), 254);
        assert_eq!(to_uint8_clamp(300.0), 255);
        assert_eq!(to_uint8_clamp(-3.0), 0);
        assert_eq!(to_uint8_clamp(f64::NAN), 0);
        assert_eq!(to_uint8_clamp(f64::INFINITY), 255);
    }
}
