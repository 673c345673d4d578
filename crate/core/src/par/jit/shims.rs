//! The Rust functions that compiled kernels call: the very functions the interpreter calls
//! (`super::super::js` and the `libm` crate), behind the C calling convention. None of them can
//! panic (a panic cannot unwind through generated code).

use crate::par::js;

macro_rules! unary {
    ($($name:ident = $f:expr;)*) => {
        $(
            pub(super) extern "C" fn $name(x: f64) -> f64 {
                $f(x)
            }
        )*
    };
}

unary! {
    acos = libm::acos;
    acosh = js::acosh;
    asin = libm::asin;
    asinh = libm::asinh;
    atan = libm::atan;
    atanh = libm::atanh;
    cbrt = libm::cbrt;
    cos = libm::cos;
    cosh = libm::cosh;
    exp = libm::exp;
    expm1 = libm::expm1;
    log = libm::log;
    log1p = libm::log1p;
    log10 = libm::log10;
    log2 = libm::log2;
    round = js::round;
    sign = js::sign;
    sin = libm::sin;
    sinh = libm::sinh;
    tan = libm::tan;
    tanh = libm::tanh;
    clz32 = js::clz32;
    is_integer = |x| js::from_bool(js::is_integer(x));
    is_safe_integer = |x| js::from_bool(js::is_safe_integer(x));
}

macro_rules! binary {
    ($($name:ident = $f:expr;)*) => {
        $(
            pub(super) extern "C" fn $name(a: f64, b: f64) -> f64 {
                $f(a, b)
            }
        )*
    };
}

binary! {
    pow = js::pow;
    min = js::min;
    max = js::max;
    atan2 = libm::atan2;
    // `%` outside the inline paths.
    rem = js::rem;
}

/// `ToInt32` for the magnitudes the inline path leaves out (`|x| >= 2^63`, infinities, NaN).
pub(super) extern "C" fn to_int32(x: f64) -> i32 {
    js::to_int32(x)
}

/// `Math.hypot` over `n` values at `values`.
///
/// # Safety
/// `values` points at `n >= 1` initialised f64s.
pub(super) unsafe extern "C" fn hypot(values: *const f64, n: u64) -> f64 {
    // SAFETY: the caller (generated code) passes a stack slot holding `n` values, `n >= 1`.
    let values = unsafe { std::slice::from_raw_parts(values, n as usize) };
    js::hypot(values)
}
