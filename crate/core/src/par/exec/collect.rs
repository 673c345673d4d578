//! The array terminals (`toArray`, `toArray({ into })`, `sort`): how numbers become the elements
//! of each kind of typed array (JavaScript's conversion on store, `Conv`) and how they sort, and
//! how a [`Job`] gathers, writes and sorts them.

use std::cmp::Ordering;

use rayon::prelude::*;

use super::{Job, Mode, CHUNK};
use crate::error::{Code, Error, Result};
use crate::par::array::{Array, ElemKind};
use crate::par::eval::Regs;
use crate::par::js;

/// How numbers become the elements of one kind of typed array (JavaScript's conversion on
/// store), and how those elements sort.
pub(super) trait Conv: Send + Sync + 'static {
    type T: Copy + Default + Send + Sync + 'static;
    fn from_js(v: f64) -> Self::T;
    /// Numeric order for sorting (NaN is handled apart).
    fn order(a: &Self::T, b: &Self::T) -> Ordering;
    fn is_nan(_: &Self::T) -> bool {
        false
    }
}

macro_rules! conv {
    ($name:ident, $t:ty, |$v:ident| $from:expr) => {
        pub(super) struct $name;
        impl Conv for $name {
            type T = $t;
            #[inline(always)]
            fn from_js($v: f64) -> $t {
                $from
            }
            fn order(a: &$t, b: &$t) -> Ordering {
                a.cmp(b)
            }
        }
    };
}
conv!(ToI8, i8, |v| js::to_int32(v) as i8);
conv!(ToU8, u8, |v| js::to_int32(v) as u8);
conv!(ToU8Clamped, u8, |v| js::to_uint8_clamp(v));
conv!(ToI16, i16, |v| js::to_int32(v) as i16);
conv!(ToU16, u16, |v| js::to_int32(v) as u16);
conv!(ToI32, i32, |v| js::to_int32(v));
conv!(ToU32, u32, |v| js::to_uint32(v));

pub(super) struct ToF64;
impl Conv for ToF64 {
    type T = f64;
    #[inline(always)]
    fn from_js(v: f64) -> f64 {
        v
    }
    fn order(a: &f64, b: &f64) -> Ordering {
        a.total_cmp(b)
    }
    fn is_nan(v: &f64) -> bool {
        v.is_nan()
    }
}

pub(super) struct ToF32;
impl Conv for ToF32 {
    type T = f32;
    #[inline(always)]
    fn from_js(v: f64) -> f32 {
        v as f32
    }
    fn order(a: &f32, b: &f32) -> Ordering {
        a.total_cmp(b)
    }
    fn is_nan(v: &f32) -> bool {
        v.is_nan()
    }
}

impl Job<'_> {
    /// Writes every value into `out`, which has exactly one slot per source element (one-to-one
    /// pipelines only).
    fn fill<C: Conv>(&self, out: &mut [C::T]) {
        debug_assert!(self.pipeline.is_one_to_one() && out.len() as u64 == self.len);
        let body = |regs: &mut Regs, c: usize, dst: &mut [C::T]| {
            let lo = c as u64 * CHUNK as u64;
            self.chunk(regs, c, |regs, n, at| {
                let off = (at - lo) as usize;
                for (d, &v) in dst[off..off + n].iter_mut().zip(&regs.x[..n]) {
                    *d = C::from_js(v);
                }
                true
            });
        };
        match self.mode {
            Mode::Inline => {
                let mut regs = self.regs();
                for (c, dst) in out.chunks_mut(CHUNK).enumerate() {
                    body(&mut regs, c, dst);
                }
            }
            Mode::Parallel => out
                .par_chunks_mut(CHUNK)
                .enumerate()
                .with_min_len(self.min_len)
                .for_each_init(|| self.regs(), |regs, (c, dst)| body(regs, c, dst)),
        }
    }

    /// The values of every chunk, in order.
    fn parts<C: Conv>(&self) -> Vec<Vec<C::T>> {
        self.map_chunks(|regs, c| {
            let mut v = Vec::new();
            self.chunk(regs, c, |regs, n, _| {
                v.extend(regs.x[..n].iter().map(|&x| C::from_js(x)));
                true
            });
            v
        })
    }

    pub(super) fn collect<C: Conv>(&self) -> Vec<C::T> {
        if self.pipeline.is_one_to_one() {
            let mut out = vec![C::T::default(); self.len as usize];
            self.fill::<C>(&mut out);
            return out;
        }
        let parts = self.parts::<C>();
        if parts.len() == 1 {
            return parts.into_iter().next().unwrap_or_default();
        }
        let total = parts.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(total);
        for p in parts {
            out.extend_from_slice(&p);
        }
        out
    }

    pub(super) fn collect_into<C: Conv>(&self, out: &mut [C::T]) -> Result<usize> {
        let too_small = |need: u64| {
            Error::new(
                Code::InvalidArg,
                format!(
                    "toArray({{ into }}): the output has room for {} values, the pipeline produced {need}",
                    out.len()
                ),
            )
        };
        if self.pipeline.is_one_to_one() {
            if (out.len() as u64) < self.len {
                return Err(too_small(self.len));
            }
            let n = self.len as usize;
            self.fill::<C>(&mut out[..n]);
            return Ok(n);
        }
        let parts = self.parts::<C>();
        let total: usize = parts.iter().map(Vec::len).sum();
        if out.len() < total {
            return Err(too_small(total as u64));
        }
        let mut at = 0;
        for p in parts {
            out[at..at + p.len()].copy_from_slice(&p);
            at += p.len();
        }
        Ok(total)
    }

    fn sorted<C: Conv>(&self, descending: bool) -> Vec<C::T> {
        let values = self.collect::<C>();
        if self.cancelled() {
            return values; // the job ends WEFT_ABORTED: no need to sort
        }
        sort_values::<C>(values, descending, self.mode)
    }
}

/// Sorts values numerically (`-0` before `+0`, NaN last, whatever the direction).
pub(super) fn sort_values<C: Conv>(mut v: Vec<C::T>, descending: bool, mode: Mode) -> Vec<C::T> {
    let nans = v.iter().filter(|x| C::is_nan(x)).count();
    if nans > 0 {
        v.retain(|x| !C::is_nan(x));
    }
    let cmp = |a: &C::T, b: &C::T| {
        if descending {
            C::order(b, a)
        } else {
            C::order(a, b)
        }
    };
    match mode {
        Mode::Inline => v.sort_unstable_by(cmp),
        Mode::Parallel => v.par_sort_unstable_by(cmp),
    }
    if nans > 0 {
        v.resize(v.len() + nans, C::from_js(f64::NAN));
    }
    v
}

pub(super) fn array_of(kind: ElemKind, job: &Job<'_>, sorted: Option<bool>) -> Array {
    fn get<C: Conv>(job: &Job<'_>, sorted: Option<bool>) -> Vec<C::T> {
        match sorted {
            None => job.collect::<C>(),
            Some(desc) => job.sorted::<C>(desc),
        }
    }
    match kind {
        ElemKind::F64 => Array::F64(get::<ToF64>(job, sorted)),
        ElemKind::F32 => Array::F32(get::<ToF32>(job, sorted)),
        ElemKind::I8 => Array::I8(get::<ToI8>(job, sorted)),
        ElemKind::U8 => Array::U8(get::<ToU8>(job, sorted)),
        ElemKind::U8Clamped => Array::U8Clamped(get::<ToU8Clamped>(job, sorted)),
        ElemKind::I16 => Array::I16(get::<ToI16>(job, sorted)),
        ElemKind::U16 => Array::U16(get::<ToU16>(job, sorted)),
        ElemKind::I32 => Array::I32(get::<ToI32>(job, sorted)),
        ElemKind::U32 => Array::U32(get::<ToU32>(job, sorted)),
    }
}
