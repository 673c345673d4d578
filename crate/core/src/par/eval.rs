//! The block evaluator: runs a program over a block of lanes, one op at a time.
//!
//! Each op is one tight loop over the block (which the compiler vectorises where the operation
//! allows), so the cost of interpreting an op is paid once per block, not once per element.

use super::js;
use super::program::{Args, Instr, Kind, Op, Pipeline, Program, R_CONST};

/// Lanes per block.
pub const BLOCK: usize = 512;

/// The register file of one worker: the two parameter registers, the constants (filled once) and
/// the temporaries, each `lanes` wide.
pub struct Regs {
    /// The first parameter (`x`; `acc` in a reduce).
    pub x: Box<[f64]>,
    /// The second parameter (the source index `i`; `x` in a reduce).
    pub i: Box<[f64]>,
    /// Registers from [`R_CONST`] on: constants, then temporaries.
    bank: Vec<Box<[f64]>>,
    scratch: Box<[f64]>,
    mask: Box<[bool]>,
    gather: Vec<f64>,
    lanes: usize,
    /// The pipeline's constants (registers `R_CONST..R_CONST + consts.len()`).
    consts: Box<[f64]>,
}

impl Regs {
    /// A register file of `lanes` lanes for `pipeline`, its constants broadcast.
    pub fn new(pipeline: &Pipeline, lanes: usize) -> Self {
        let lane = || vec![0.0f64; lanes].into_boxed_slice();
        let mut bank = Vec::with_capacity(pipeline.nregs.saturating_sub(R_CONST as usize));
        for &c in &pipeline.consts {
            bank.push(vec![c; lanes].into_boxed_slice());
        }
        while bank.len() + (R_CONST as usize) < pipeline.nregs {
            bank.push(lane());
        }
        Regs {
            x: lane(),
            i: lane(),
            bank,
            scratch: lane(),
            mask: vec![false; lanes].into_boxed_slice(),
            gather: Vec::new(),
            lanes,
            consts: pipeline.consts.clone().into_boxed_slice(),
        }
    }

    /// How many values it evaluates at once (its register width).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Register `r` (all lanes).
    #[inline(always)]
    pub fn get(&self, r: u16) -> &[f64] {
        match r {
            0 => &self.x,
            1 => &self.i,
            r => &self.bank[r as usize - R_CONST as usize],
        }
    }

    /// Runs `prog` over the first `n` lanes.
    pub fn eval(&mut self, prog: &Program, n: usize) {
        self.eval_code(&prog.code, n);
    }

    fn eval_code(&mut self, code: &[Instr], n: usize) {
        debug_assert!(n <= self.lanes);
        for ins in code {
            let Regs {
                x,
                i,
                bank,
                scratch,
                gather,
                consts,
                ..
            } = self;
            let get = |r: u16| -> &[f64] {
                match r {
                    0 => &x[..n],
                    1 => &i[..n],
                    r => &bank[r as usize - R_CONST as usize][..n],
                }
            };
            let konst = |r: u16| -> Option<f64> {
                (r as usize)
                    .checked_sub(R_CONST as usize)
                    .and_then(|k| consts.get(k).copied())
            };
            exec(ins, &get, &konst, &mut scratch[..n], gather);
            // `dst` is a temporary (checked when decoding): swap the result in.
            std::mem::swap(&mut bank[ins.dst as usize - R_CONST as usize], scratch);
        }
    }

    /// Runs the stages of `pipeline` over the first `n` lanes of `x` (and `i`), returning how
    /// many lanes survive the filters (they are compacted to the front).
    pub fn run_stages(&mut self, pipeline: &Pipeline, n: usize, keep_index: bool) -> usize {
        self.run_stages_with(pipeline, n, keep_index, false).0
    }

    /// Like [`run_stages`](Self::run_stages), for terminals that only add or count (`sum`,
    /// `mean`, `count`): a last filter does not compact; it sets its rejected lanes of `x` to
    /// `+0` instead, which adds nothing to an exact sum. Returns the lanes left in `x` and how
    /// many of them survived.
    pub fn run_stages_zeroing(
        &mut self,
        pipeline: &Pipeline,
        n: usize,
        keep_index: bool,
    ) -> (usize, usize) {
        self.run_stages_with(pipeline, n, keep_index, true)
    }

    fn run_stages_with(
        &mut self,
        pipeline: &Pipeline,
        n: usize,
        keep_index: bool,
        zero_last: bool,
    ) -> (usize, usize) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of
                // `run_stages_avx2`.
                return unsafe { self.run_stages_avx2(pipeline, n, keep_index, zero_last) };
            }
        }
        self.run_stages_body(pipeline, n, keep_index, zero_last)
    }

    /// [`run_stages_body`](Self::run_stages_body) compiled for AVX2 (the masks, compaction and
    /// zeroing loops vectorise; same results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_stages_avx2(
        &mut self,
        pipeline: &Pipeline,
        n: usize,
        keep_index: bool,
        zero_last: bool,
    ) -> (usize, usize) {
        self.run_stages_body(pipeline, n, keep_index, zero_last)
    }

    #[inline(always)]
    fn run_stages_body(
        &mut self,
        pipeline: &Pipeline,
        mut n: usize,
        keep_index: bool,
        zero_last: bool,
    ) -> (usize, usize) {
        let first_temp = pipeline.first_temp();
        let last = pipeline.stages.len().wrapping_sub(1);
        for (k, stage) in pipeline.stages.iter().enumerate() {
            if n == 0 {
                break;
            }
            if zero_last && k == last && stage.kind == Kind::Filter {
                if let Some(kept) = self.zero_by_trailing_compare(stage, n) {
                    return (n, kept);
                }
            }
            self.eval(stage, n);
            let r = stage.result as usize;
            match stage.kind {
                Kind::Map => {
                    if r >= first_temp {
                        std::mem::swap(&mut self.x, &mut self.bank[r - R_CONST as usize]);
                    } else if r != 0 {
                        let Regs { x, i, bank, .. } = self;
                        let src: &[f64] = if r == 1 {
                            i
                        } else {
                            &bank[r - R_CONST as usize]
                        };
                        x[..n].copy_from_slice(&src[..n]);
                    }
                }
                Kind::Filter if zero_last && k == last => {
                    // Branch-free (filters reject lanes at random): rejected lanes become +0.
                    let Regs { x, i, bank, .. } = self;
                    let x = &mut x[..n];
                    let kept = match stage.result {
                        0 => zero_where(x, |_, v| js::truthy(v)),
                        r => {
                            let src: &[f64] = if r == 1 {
                                &i[..n]
                            } else {
                                &bank[r as usize - R_CONST as usize][..n]
                            };
                            zero_where(x, |j, _| js::truthy(src[j]))
                        }
                    };
                    return (n, kept);
                }
                Kind::Filter => {
                    self.truth_mask(stage.result, n);
                    n = self.compact(n, keep_index);
                }
                Kind::Reduce | Kind::Some | Kind::Every => {
                    unreachable!("terminal closures are not stages")
                }
            }
        }
        (n, n)
    }

    /// For a last filter whose closure ends in a comparison (`x > 0.5`, `x % 3 === 0`): runs
    /// the closure up to that comparison, then compares and zeroes the rejected lanes of `x` in
    /// one pass, without materialising the comparison's 0/1 result. Returns how many lanes
    /// survived, or `None` (nothing evaluated) for other shapes.
    fn zero_by_trailing_compare(&mut self, stage: &Program, n: usize) -> Option<usize> {
        let (ins, prefix) = stage.code.split_last()?;
        let Args::Two(a, c) = ins.args else {
            return None;
        };
        if ins.dst != stage.result
            || !matches!(ins.op, Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Eq | Op::Ne)
            || a == 1
            || c == 0
            || c == 1
        {
            return None;
        }
        self.eval_code(prefix, n);
        let Regs {
            x, bank, consts, ..
        } = self;
        let x = &mut x[..n];
        let temp = |r: u16| -> &[f64] { &bank[r as usize - R_CONST as usize][..n] };
        let konst = (c as usize)
            .checked_sub(R_CONST as usize)
            .and_then(|k| consts.get(k).copied());
        macro_rules! by {
            ($p:expr) => {{
                let p = $p;
                match (a, konst) {
                    (0, Some(y)) => zero_where(x, |_, v| p(v, y)),
                    (0, None) => {
                        let cs = temp(c);
                        zero_where(x, |j, v| p(v, cs[j]))
                    }
                    (_, Some(y)) => {
                        let as_ = temp(a);
                        zero_where(x, |j, _| p(as_[j], y))
                    }
                    (_, None) => {
                        let (as_, cs) = (temp(a), temp(c));
                        zero_where(x, |j, _| p(as_[j], cs[j]))
                    }
                }
            }};
        }
        Some(match ins.op {
            Op::Lt => by!(|u: f64, w: f64| u < w),
            Op::Le => by!(|u: f64, w: f64| u <= w),
            Op::Gt => by!(|u: f64, w: f64| u > w),
            Op::Ge => by!(|u: f64, w: f64| u >= w),
            Op::Eq => by!(|u: f64, w: f64| u == w),
            _ => by!(|u: f64, w: f64| u != w),
        })
    }

    /// Fills the mask with the truthiness of register `r` over `n` lanes.
    #[inline(always)]
    pub fn truth_mask(&mut self, r: u16, n: usize) -> &[bool] {
        let Regs {
            x, i, bank, mask, ..
        } = self;
        let src: &[f64] = match r {
            0 => x,
            1 => i,
            r => &bank[r as usize - R_CONST as usize],
        };
        for (m, &v) in mask[..n].iter_mut().zip(&src[..n]) {
            *m = js::truthy(v);
        }
        &mask[..n]
    }

    #[inline(always)]
    fn compact(&mut self, n: usize, keep_index: bool) -> usize {
        let mut w = 0;
        for j in 0..n {
            let keep = self.mask[j];
            self.x[w] = self.x[j];
            if keep_index {
                self.i[w] = self.i[j];
            }
            w += keep as usize;
        }
        w
    }
}

/// Keeps the lanes `j` of `x` where `keep(j, x[j])` holds and sets the others to `+0`
/// (branch-free); returns how many were kept.
#[inline(always)]
fn zero_where(x: &mut [f64], keep: impl Fn(usize, f64) -> bool) -> usize {
    let mut kept = 0usize;
    for (j, v) in x.iter_mut().enumerate() {
        let k = keep(j, *v);
        *v = f64::from_bits(v.to_bits() & 0u64.wrapping_sub(u64::from(k)));
        kept += usize::from(k);
    }
    kept
}

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
fn exec<'a>(
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
    use super::super::program::{decode, Builder};
    use super::*;

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
    }

    #[test]
    fn a_map_filter_pipeline_over_a_block() {
        // map(x => x * 2), filter(x => x % 3 === 0), with the index kept.
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
        let p = decode(&w, &c).unwrap();
        let mut regs = Regs::new(&p, BLOCK);
        for j in 0..10 {
            regs.x[j] = j as f64;
            regs.i[j] = j as f64;
        }
        let n = regs.run_stages(&p, 10, true);
        assert_eq!(&regs.x[..n], &[0.0, 6.0, 12.0, 18.0]);
        assert_eq!(&regs.i[..n], &[0.0, 3.0, 6.0, 9.0]);
    }

    #[test]
    fn ops_in_place_and_select() {
        // t0 = x + x; t0 = t0 * t0 (dst is also a source); t1 = x < 0 ? -x : t0
        let b = Builder::new(&[0.0], 3);
        let (c0, t0, t1, t2) = (b.c(0), b.t(0), b.t(1), b.t(2));
        let (w, c) = b
            .program(
                Kind::Map,
                &[
                    (Op::Add, t0, &[0, 0]),
                    (Op::Mul, t0, &[t0, t0]),
                    (Op::Lt, t1, &[0, c0]),
                    (Op::Neg, t2, &[0]),
                    (Op::Select, t1, &[t1, t2, t0]),
                ],
                t1,
            )
            .build();
        let p = decode(&w, &c).unwrap();
        let mut regs = Regs::new(&p, 4);
        regs.x[..4].copy_from_slice(&[3.0, -2.0, f64::NAN, -0.0]);
        let n = regs.run_stages(&p, 4, false);
        assert_eq!(n, 4);
        let want = [36.0, 2.0, f64::NAN, 0.0];
        for (j, w) in want.iter().enumerate() {
            assert!(same(regs.x[j], *w), "lane {j}: {}", regs.x[j]);
        }
    }

    #[test]
    fn hypot_and_map_to_a_constant_or_index() {
        let b = Builder::new(&[4.0], 1);
        let (c0, t0) = (b.c(0), b.t(0));
        let (w, c) = b
            .program(Kind::Map, &[(Op::Hypot, t0, &[0, c0])], t0)
            .program(Kind::Map, &[], 1)
            .program(Kind::Map, &[], c0)
            .build();
        let p = decode(&w, &c).unwrap();
        let mut regs = Regs::new(&p, 8);
        regs.x[..2].copy_from_slice(&[3.0, f64::NAN]);
        regs.i[..2].copy_from_slice(&[0.0, 1.0]);
        let mut first = p.clone();
        first.stages.truncate(1);
        assert_eq!(regs.run_stages(&first, 2, true), 2);
        assert_eq!(regs.x[0], 5.0);
        assert!(regs.x[1].is_nan());
        let mut second = p.clone();
        second.stages = vec![p.stages[1].clone()];
        regs.run_stages(&second, 2, true);
        assert_eq!(&regs.x[..2], &[0.0, 1.0]);
        let mut third = p.clone();
        third.stages = vec![p.stages[2].clone()];
        regs.run_stages(&third, 2, true);
        assert_eq!(&regs.x[..2], &[4.0, 4.0]);
        // The constant register itself is intact.
        assert_eq!(regs.get(c0 as u16)[..2], [4.0, 4.0]);
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
