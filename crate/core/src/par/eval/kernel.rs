//! The instruction kernels: [`exec`] runs one op over a block (one tight loop per op, compiled
//! twice, the second time for AVX2, and picked at run time), with fast paths for a constant right
//! operand and for integer `%`.

use crate::par::js;
use crate::par::program::{Args, Instr, Op};

#[inline(always)]
fn k1(out: &mut [f64], a: &[f64], f: impl Fn(f64) -> f64) {
    for (o, &a) in out.iter_mut().zip(a) {
        *o = f(a);
    }
}

#[inline(always)]
fn k2(out: &mut [f64], a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

#[inline(always)]
fn k3(out: &mut [f64], a: &[f64], b: &[f64], c: &[f64], f: impl Fn(f64, f64, f64) -> f64) {
    for (((o, &a), &b), &c) in out.iter_mut().zip(a).zip(b).zip(c) {
        *o = f(a, b, c);
    }
}

/// Runs one instruction, with the widest vector instructions the CPU has.
#[inline]
pub(super) fn exec<'a>(
    ins: &Instr,
    get: &impl Fn(u16) -> &'a [f64],
    konst: &impl Fn(u16) -> Option<f64>,
    out: &mut [f64],
    gather: &mut Vec<f64>,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of
            // `exec_avx2`.
            unsafe { exec_avx2(ins, get, konst, out, gather) };
            return;
        }
    }
    exec_body::<false>(ins, get, konst, out, gather);
}

/// [`exec_body`] compiled for AVX2 (and SSE4.1 rounding). Results are the same bits: no
/// operation changes meaning, and Rust never fuses multiply-adds on its own.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exec_avx2<'a>(
    ins: &Instr,
    get: &impl Fn(u16) -> &'a [f64],
    konst: &impl Fn(u16) -> Option<f64>,
    out: &mut [f64],
    gather: &mut Vec<f64>,
) {
    exec_body::<true>(ins, get, konst, out, gather);
}

/// The binary ops with a fast path for a constant right operand (see `exec_body`).
#[inline(always)]
fn const_rhs(op: Op) -> bool {
    matches!(
        op,
        Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Mod
            | Op::Lt
            | Op::Le
            | Op::Gt
            | Op::Ge
            | Op::Eq
            | Op::Ne
    )
}

/// Whether `a % b` may take [`js::rem_integral`]; with `ROUND` (SSE4.1 and up) through `trunc`,
/// which then vectorises, else through integer conversions.
#[inline(always)]
fn rem_ok<const ROUND: bool>(a: f64, b: f64) -> bool {
    if ROUND {
        const SAFE: f64 = 9_007_199_254_740_992.0;
        (a.abs() < SAFE) & (b.abs() < SAFE) & (b != 0.0) & (a.trunc() == a) & (b.trunc() == b)
    } else {
        js::rem_is_integral(a, b)
    }
}

#[inline(always)]
fn exec_body<'a, const ROUND: bool>(
    ins: &Instr,
    get: &impl Fn(u16) -> &'a [f64],
    konst: &impl Fn(u16) -> Option<f64>,
    out: &mut [f64],
    gather: &mut Vec<f64>,
) {
    use js::from_bool as b;
    match ins.args {
        Args::One(a) => {
            let a = get(a);
            match ins.op {
                Op::Mov => out.copy_from_slice(a),
                Op::Neg => k1(out, a, |x| -x),
                Op::Not => k1(out, a, |x| b(!js::truthy(x))),
                Op::BitNot => k1(out, a, |x| !js::to_int32(x) as f64),
                Op::Abs => k1(out, a, f64::abs),
                Op::Acos => k1(out, a, libm::acos),
                Op::Acosh => k1(out, a, js::acosh),
                Op::Asin => k1(out, a, libm::asin),
                Op::Asinh => k1(out, a, libm::asinh),
                Op::Atan => k1(out, a, libm::atan),
                Op::Atanh => k1(out, a, libm::atanh),
                Op::Cbrt => k1(out, a, libm::cbrt),
                Op::Ceil => k1(out, a, f64::ceil),
                Op::Clz32 => k1(out, a, js::clz32),
                Op::Cos => k1(out, a, libm::cos),
                Op::Cosh => k1(out, a, libm::cosh),
                Op::Exp => k1(out, a, libm::exp),
                Op::Expm1 => k1(out, a, libm::expm1),
                Op::Floor => k1(out, a, f64::floor),
                Op::Fround => k1(out, a, js::fround),
                Op::Log => k1(out, a, libm::log),
                Op::Log1p => k1(out, a, libm::log1p),
                Op::Log10 => k1(out, a, libm::log10),
                Op::Log2 => k1(out, a, libm::log2),
                Op::Round => k1(out, a, js::round),
                Op::Sign => k1(out, a, js::sign),
                Op::Sin => k1(out, a, libm::sin),
                Op::Sinh => k1(out, a, libm::sinh),
                Op::Sqrt => k1(out, a, f64::sqrt),
                Op::Tan => k1(out, a, libm::tan),
                Op::Tanh => k1(out, a, libm::tanh),
                Op::Trunc => k1(out, a, f64::trunc),
                Op::IsNaN => k1(out, a, |x| b(x.is_nan())),
                Op::IsFinite => k1(out, a, |x| b(x.is_finite())),
                Op::IsInteger => k1(out, a, |x| b(js::is_integer(x))),
                Op::IsSafeInteger => k1(out, a, |x| b(js::is_safe_integer(x))),
                op => unreachable!("{op:?} is not unary (checked when decoding)"),
            }
        }
        Args::Two(a, c) if konst(c).is_some() && const_rhs(ins.op) => {
            // The right operand is a constant (`x * 2`, `x % 3`, `x > 0.5`): one value in a
            // register instead of a second stream to read.
            let (a, y) = (get(a), konst(c).unwrap_or_default());
            match ins.op {
                Op::Add => k1(out, a, |x| x + y),
                Op::Sub => k1(out, a, |x| x - y),
                Op::Mul => k1(out, a, |x| x * y),
                Op::Div => k1(out, a, |x| x / y),
                Op::Lt => k1(out, a, |x| b(x < y)),
                Op::Le => k1(out, a, |x| b(x <= y)),
                Op::Gt => k1(out, a, |x| b(x > y)),
                Op::Ge => k1(out, a, |x| b(x >= y)),
                Op::Eq => k1(out, a, |x| b(x == y)),
                Op::Ne => k1(out, a, |x| b(x != y)),
                Op::Mod if ROUND && rem_ok::<true>(0.0, y) => {
                    // An integer divisor: only the dividends need checking.
                    let mut outside = 0u64;
                    for (o, &x) in out.iter_mut().zip(a) {
                        outside |= u64::from(!rem_ok::<true>(x, y));
                        *o = (x - (x / y).trunc() * y).copysign(x);
                    }
                    if outside != 0 {
                        for (o, &x) in out.iter_mut().zip(a) {
                            if !rem_ok::<true>(x, y) {
                                *o = x % y;
                            }
                        }
                    }
                }
                _ => k1(out, a, |x| x % y),
            }
        }
        Args::Two(a, c) => {
            let (a, c) = (get(a), get(c));
            match ins.op {
                Op::Add => k2(out, a, c, |x, y| x + y),
                Op::Sub => k2(out, a, c, |x, y| x - y),
                Op::Mul => k2(out, a, c, |x, y| x * y),
                Op::Div => k2(out, a, c, |x, y| x / y),
                Op::Mod => {
                    // Integer operands (the common case) take a vectorisable exact path; any
                    // other lane is redone with fmod.
                    let mut outside = 0u64;
                    for ((o, &x), &y) in out.iter_mut().zip(a).zip(c) {
                        outside |= u64::from(!rem_ok::<ROUND>(x, y));
                        *o = if ROUND {
                            (x - (x / y).trunc() * y).copysign(x)
                        } else {
                            js::rem_integral(x, y)
                        };
                    }
                    if outside != 0 {
                        for ((o, &x), &y) in out.iter_mut().zip(a).zip(c) {
                            if !rem_ok::<ROUND>(x, y) {
                                *o = x % y;
                            }
                        }
                    }
                }
                Op::Pow => k2(out, a, c, js::pow),
                Op::BitAnd => k2(out, a, c, |x, y| (js::to_int32(x) & js::to_int32(y)) as f64),
                Op::BitOr => k2(out, a, c, |x, y| (js::to_int32(x) | js::to_int32(y)) as f64),
                Op::BitXor => k2(out, a, c, |x, y| (js::to_int32(x) ^ js::to_int32(y)) as f64),
                Op::Shl => k2(out, a, c, js::shl),
                Op::Sar => k2(out, a, c, js::sar),
                Op::Shr => k2(out, a, c, js::shr),
                Op::Lt => k2(out, a, c, |x, y| b(x < y)),
                Op::Le => k2(out, a, c, |x, y| b(x <= y)),
                Op::Gt => k2(out, a, c, |x, y| b(x > y)),
                Op::Ge => k2(out, a, c, |x, y| b(x >= y)),
                Op::Eq => k2(out, a, c, |x, y| b(x == y)),
                Op::Ne => k2(out, a, c, |x, y| b(x != y)),
                Op::Min => k2(out, a, c, js::min),
                Op::Max => k2(out, a, c, js::max),
                Op::Atan2 => k2(out, a, c, libm::atan2),
                Op::Imul => k2(out, a, c, js::imul),
                op => unreachable!("{op:?} is not binary (checked when decoding)"),
            }
        }
        Args::Three(c, x, y) => {
            let (c, x, y) = (get(c), get(x), get(y));
            match ins.op {
                Op::Select => k3(out, c, x, y, |c, x, y| if js::truthy(c) { x } else { y }),
                op => unreachable!("{op:?} is not ternary (checked when decoding)"),
            }
        }
        Args::Many(ref regs) => {
            let srcs: Vec<&[f64]> = regs.iter().map(|&r| get(r)).collect();
            match ins.op {
                Op::Hypot => {
                    for (j, o) in out.iter_mut().enumerate() {
                        gather.clear();
                        gather.extend(srcs.iter().map(|s| s[j]));
                        *o = js::hypot(gather);
                    }
                }
                op => unreachable!("{op:?} is not variadic (checked when decoding)"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
    }

    /// The constant-operand fast paths give the same bits as the general two-register loops,
    /// for every op that has one, over values that exercise each rule (NaN, ±0, ±Infinity,
    /// integers near 2^53 and beyond, fractions, negative divisors).
    #[test]
    fn constant_operands_match_the_general_path() {
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            2.5,
            -7.0,
            3.0,
            -3.0,
            0.1,
            1e-310,
            9_007_199_254_740_991.0,
            -9_007_199_254_740_992.0,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let xs: Vec<f64> = (0..200)
            .map(|k| {
                specials[k % specials.len()] * if k % 3 == 0 { 1.0 } else { (k as f64) - 100.0 }
            })
            .collect();
        let ops = [
            Op::Add,
            Op::Sub,
            Op::Mul,
            Op::Div,
            Op::Mod,
            Op::Lt,
            Op::Le,
            Op::Gt,
            Op::Ge,
            Op::Eq,
            Op::Ne,
        ];
        let mut gather = Vec::new();
        for &op in &ops {
            for &y in &specials {
                let ys = vec![y; xs.len()];
                let ins = Instr {
                    op,
                    dst: 9,
                    args: Args::Two(0, 1),
                };
                let get = |r: u16| -> &[f64] {
                    if r == 0 {
                        &xs
                    } else {
                        &ys
                    }
                };
                let mut general = vec![0.0; xs.len()];
                exec(&ins, &get, &|_| None, &mut general, &mut gather);
                let mut fast = vec![0.0; xs.len()];
                exec(
                    &ins,
                    &get,
                    &|r| (r == 1).then_some(y),
                    &mut fast,
                    &mut gather,
                );
                for k in 0..xs.len() {
                    assert!(
                        same(general[k], fast[k]),
                        "{op:?}({}, {y}): {} vs {}",
                        xs[k],
                        general[k],
                        fast[k]
                    );
                }
            }
        }
    }
}
