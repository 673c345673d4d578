//! The block evaluator: runs a program over a block of lanes, one op at a time.
//!
//! Each op is one tight loop over the block (which the compiler vectorises where the operation
//! allows), so the cost of interpreting an op is paid once per block, not once per element.
//!
//! This file holds the register file ([`Regs`]) and the stages (maps, filters, compaction); the
//! per-op loops are in `eval/kernel.rs`.

mod kernel;

use super::js;
use super::program::{Args, Instr, Kind, Op, Pipeline, Program, R_CONST};
use kernel::exec;

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
    /// The bank indices of a zip's other columns (filtered with `x`).
    cols: std::ops::Range<usize>,
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
            cols: pipeline.consts.len()..pipeline.consts.len() + pipeline.ncols,
            consts: pipeline.consts.clone().into_boxed_slice(),
        }
    }

    /// How many values it evaluates at once (its register width).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Column `j >= 1` of a zip's rows (all lanes), to load a block into.
    pub fn column_mut(&mut self, j: usize) -> &mut [f64] {
        &mut self.bank[self.cols.start + j - 1]
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
                Kind::Reduce | Kind::Some | Kind::Every | Kind::Key => {
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
        // A zip's other columns stay aligned with `x`.
        for c in self.cols.clone() {
            let (col, mask) = (&mut self.bank[c], &self.mask);
            let mut w = 0;
            for j in 0..n {
                col[w] = col[j];
                w += mask[j] as usize;
            }
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
}
