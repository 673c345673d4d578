//! Runs a pipeline over a source: fixed chunks, blocks inside each chunk, and a terminal.
//!
//! The source is cut into chunks of [`CHUNK`] elements whatever the thread count; rayon only
//! decides which thread runs which chunk. Every terminal is either independent of the
//! decomposition (exact sums, min/max, counts, some/every, arrays in source order) or, for
//! `reduce`, defined on this fixed decomposition, so results never depend on the thread count.

use crate::sync::unmodelled::{AtomicBool, Ordering as AtomicOrdering};
use std::cmp::Ordering;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::eval::{Regs, BLOCK};
use super::js;
use super::program::{Kind, Pipeline};
use super::sum::ExactSum;
use crate::error::{Code, Error, Result};

/// Source elements per chunk (the fixed decomposition).
pub const CHUNK: usize = 1 << 14;

/// Where the values come from. Typed arrays are read in place.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// A `Float64Array`'s elements.
    F64(&'a [f64]),
    /// A `Float32Array`'s elements.
    F32(&'a [f32]),
    /// A `Int8Array`'s elements.
    I8(&'a [i8]),
    /// A `Uint8Array`'s elements.
    U8(&'a [u8]),
    /// A `Int16Array`'s elements.
    I16(&'a [i16]),
    /// A `Uint16Array`'s elements.
    U16(&'a [u16]),
    /// A `Int32Array`'s elements.
    I32(&'a [i32]),
    /// A `Uint32Array`'s elements.
    U32(&'a [u32]),
    /// `start + k * step` for `k` in `0..len`.
    Range {
        /// The first value.
        start: f64,
        /// The difference between neighbours.
        step: f64,
        /// How many values.
        len: u64,
    },
}

impl Source<'_> {
    /// How many values it holds.
    pub fn len(&self) -> u64 {
        match self {
            Source::F64(s) => s.len() as u64,
            Source::F32(s) => s.len() as u64,
            Source::I8(s) => s.len() as u64,
            Source::U8(s) => s.len() as u64,
            Source::I16(s) => s.len() as u64,
            Source::U16(s) => s.len() as u64,
            Source::I32(s) => s.len() as u64,
            Source::U32(s) => s.len() as u64,
            Source::Range { len, .. } => *len,
        }
    }

    /// Whether it holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads elements `lo..lo + n` into `x` (as numbers) and, if asked, their indices into `i`.
    #[inline]
    fn load(&self, lo: u64, n: usize, regs: &mut Regs, index: bool) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of
                // `load_avx2`.
                unsafe { self.load_avx2(lo, n, regs, index) };
                return;
            }
        }
        self.load_body(lo, n, regs, index);
    }

    /// [`load_body`](Self::load_body) compiled for AVX2 (the widening and range loops vectorise;
    /// same values).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn load_avx2(&self, lo: u64, n: usize, regs: &mut Regs, index: bool) {
        self.load_body(lo, n, regs, index);
    }

    #[inline(always)]
    fn load_body(&self, lo: u64, n: usize, regs: &mut Regs, index: bool) {
        #[inline(always)]
        fn widen<T: Copy>(src: &[T], x: &mut [f64], f: impl Fn(T) -> f64) {
            for (d, &s) in x.iter_mut().zip(src) {
                *d = f(s);
            }
        }
        let x = &mut regs.x[..n];
        let lo_us = lo as usize;
        match *self {
            Source::F64(s) => x.copy_from_slice(&s[lo_us..lo_us + n]),
            Source::F32(s) => widen(&s[lo_us..lo_us + n], x, f64::from),
            Source::I8(s) => widen(&s[lo_us..lo_us + n], x, f64::from),
            Source::U8(s) => widen(&s[lo_us..lo_us + n], x, f64::from),
            Source::I16(s) => widen(&s[lo_us..lo_us + n], x, f64::from),
            Source::U16(s) => widen(&s[lo_us..lo_us + n], x, f64::from),
            Source::I32(s) => widen(&s[lo_us..lo_us + n], x, f64::from),
            Source::U32(s) => widen(&s[lo_us..lo_us + n], x, f64::from),
            Source::Range { start, step, .. } => {
                // `lo + j` is exact in f64 (a source has fewer than 2^53 elements), and adding
                // the lane offsets from a table keeps the loop free of integer conversions.
                let base = lo as f64;
                for (d, &j) in x.iter_mut().zip(lane_offsets()) {
                    *d = start + (base + j) * step;
                }
            }
        }
        if index {
            let base = lo as f64;
            for (d, &j) in regs.i[..n].iter_mut().zip(lane_offsets()) {
                *d = base + j;
            }
        }
    }
}

/// `[0.0, 1.0, …]`, one offset per lane of a block.
fn lane_offsets() -> &'static [f64; BLOCK] {
    static OFFSETS: OnceLock<[f64; BLOCK]> = OnceLock::new();
    OFFSETS.get_or_init(|| std::array::from_fn(|j| j as f64))
}

/// The kinds of typed array a result can be written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemKind {
    /// `Float64Array`.
    F64 = 0,
    /// `Float32Array`.
    F32 = 1,
    /// `Int8Array`.
    I8 = 2,
    /// `Uint8Array`.
    U8 = 3,
    /// `Uint8ClampedArray`.
    U8Clamped = 4,
    /// `Int16Array`.
    I16 = 5,
    /// `Uint16Array`.
    U16 = 6,
    /// `Int32Array`.
    I32 = 7,
    /// `Uint32Array`.
    U32 = 8,
}

impl ElemKind {
    /// The kind with this code (its discriminant, shared with the JavaScript side).
    pub fn from_code(code: u32) -> Option<ElemKind> {
        Some(match code {
            0 => ElemKind::F64,
            1 => ElemKind::F32,
            2 => ElemKind::I8,
            3 => ElemKind::U8,
            4 => ElemKind::U8Clamped,
            5 => ElemKind::I16,
            6 => ElemKind::U16,
            7 => ElemKind::I32,
            8 => ElemKind::U32,
            _ => return None,
        })
    }
}

/// What to compute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Terminal {
    /// The exact sum, correctly rounded.
    Sum,
    /// The exact sum divided by the count (NaN when empty).
    Mean,
    /// `Math.min` over the values; nothing when empty.
    Min,
    /// `Math.max` over the values; nothing when empty.
    Max,
    /// How many values pass the pipeline.
    Count,
    /// Folds each chunk from `init` with the pipeline's terminal closure, then folds the
    /// chunks' results in order with the same closure (`init` when nothing passed).
    Reduce {
        /// The initial accumulator.
        init: f64,
    },
    /// Whether the terminal closure is truthy for some value.
    Some,
    /// Whether the terminal closure is truthy for every value.
    Every,
    /// The values, in source order.
    ToArray(ElemKind),
    /// The values converted to the element kind, sorted numerically (`-0` before `+0`, NaN last).
    Sort {
        /// The element kind of the result.
        kind: ElemKind,
        /// Largest first.
        descending: bool,
    },
}

/// A typed array's contents, owned.
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    /// A `Float64Array`'s elements.
    F64(Vec<f64>),
    /// A `Float32Array`'s elements.
    F32(Vec<f32>),
    /// A `Int8Array`'s elements.
    I8(Vec<i8>),
    /// A `Uint8Array`'s elements.
    U8(Vec<u8>),
    /// A `Uint8ClampedArray`'s elements.
    U8Clamped(Vec<u8>),
    /// A `Int16Array`'s elements.
    I16(Vec<i16>),
    /// A `Uint16Array`'s elements.
    U16(Vec<u16>),
    /// A `Int32Array`'s elements.
    I32(Vec<i32>),
    /// A `Uint32Array`'s elements.
    U32(Vec<u32>),
}

impl Array {
    /// How many values it holds.
    pub fn len(&self) -> usize {
        match self {
            Array::F64(v) => v.len(),
            Array::F32(v) => v.len(),
            Array::I8(v) => v.len(),
            Array::U8(v) | Array::U8Clamped(v) => v.len(),
            Array::I16(v) => v.len(),
            Array::U16(v) => v.len(),
            Array::I32(v) => v.len(),
            Array::U32(v) => v.len(),
        }
    }

    /// Whether it holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its element kind.
    pub fn kind(&self) -> ElemKind {
        match self {
            Array::F64(_) => ElemKind::F64,
            Array::F32(_) => ElemKind::F32,
            Array::I8(_) => ElemKind::I8,
            Array::U8(_) => ElemKind::U8,
            Array::U8Clamped(_) => ElemKind::U8Clamped,
            Array::I16(_) => ElemKind::I16,
            Array::U16(_) => ElemKind::U16,
            Array::I32(_) => ElemKind::I32,
            Array::U32(_) => ElemKind::U32,
        }
    }

    /// Its values as a pipeline source.
    pub fn source(&self) -> Source<'_> {
        match self {
            Array::F64(v) => Source::F64(v),
            Array::F32(v) => Source::F32(v),
            Array::I8(v) => Source::I8(v),
            Array::U8(v) | Array::U8Clamped(v) => Source::U8(v),
            Array::I16(v) => Source::I16(v),
            Array::U16(v) => Source::U16(v),
            Array::I32(v) => Source::I32(v),
            Array::U32(v) => Source::U32(v),
        }
    }
}

/// A typed array's contents, borrowed for writing (`toArray({ into })`).
#[derive(Debug)]
pub enum ArrayMut<'a> {
    /// A `Float64Array`'s elements.
    F64(&'a mut [f64]),
    /// A `Float32Array`'s elements.
    F32(&'a mut [f32]),
    /// A `Int8Array`'s elements.
    I8(&'a mut [i8]),
    /// A `Uint8Array`'s elements.
    U8(&'a mut [u8]),
    /// A `Uint8ClampedArray`'s elements.
    U8Clamped(&'a mut [u8]),
    /// A `Int16Array`'s elements.
    I16(&'a mut [i16]),
    /// A `Uint16Array`'s elements.
    U16(&'a mut [u16]),
    /// A `Int32Array`'s elements.
    I32(&'a mut [i32]),
    /// A `Uint32Array`'s elements.
    U32(&'a mut [u32]),
}

/// The result of a terminal.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// A number (`sum`, `mean`, `min`, `max`, `count`, `reduce`).
    Number(f64),
    /// A boolean (`some`, `every`).
    Bool(bool),
    /// `min`/`max` of nothing.
    Nothing,
    /// A typed array (`toArray`, `sort`).
    Array(Array),
}

/// Where the chunks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// On the calling thread, chunk after chunk.
    Inline,
    /// On the current rayon pool (the calling thread's, or the global one).
    Parallel,
}

/// How numbers become the elements of one kind of typed array (JavaScript's conversion on
/// store), and how those elements sort.
trait Conv: Send + Sync + 'static {
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
        struct $name;
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

struct ToF64;
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

struct ToF32;
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

/// One run of a pipeline over a source.
struct Job<'a> {
    pipeline: &'a Pipeline,
    source: Source<'a>,
    mode: Mode,
    len: u64,
    nchunks: usize,
    keep_index: bool,
}

impl<'a> Job<'a> {
    fn new(pipeline: &'a Pipeline, source: Source<'a>, mode: Mode) -> Result<Self> {
        let len = source.len();
        let nchunks = usize::try_from(len.div_ceil(CHUNK as u64))
            .map_err(|_| Error::new(Code::InvalidArg, "the source is too long"))?;
        let terminal_uses_index = matches!(
            &pipeline.terminal,
            Some(p) if matches!(p.kind, Kind::Some | Kind::Every) && p.uses_arg1
        );
        Ok(Job {
            pipeline,
            source,
            mode,
            len,
            nchunks,
            keep_index: pipeline.uses_index() || terminal_uses_index,
        })
    }

    fn regs(&self) -> Regs {
        Regs::new(self.pipeline, BLOCK)
    }

    fn chunk_bounds(&self, c: usize) -> (u64, u64) {
        let lo = c as u64 * CHUNK as u64;
        (lo, (lo + CHUNK as u64).min(self.len))
    }

    /// Runs the stages over chunk `c` block by block, calling `sink(regs, n, block_start)` for
    /// every block with `n > 0` surviving lanes; `sink` returns false to stop early.
    #[inline]
    fn chunk(
        &self,
        regs: &mut Regs,
        c: usize,
        mut sink: impl FnMut(&mut Regs, usize, u64) -> bool,
    ) {
        let (lo, hi) = self.chunk_bounds(c);
        let mut at = lo;
        while at < hi {
            let n = ((hi - at) as usize).min(BLOCK);
            self.source.load(at, n, regs, self.keep_index);
            let m = regs.run_stages(self.pipeline, n, self.keep_index);
            if m > 0 && !sink(regs, m, at) {
                return;
            }
            at += n as u64;
        }
    }

    /// Like [`chunk`](Self::chunk) for terminals that only add or count: `sink(regs, lanes,
    /// kept)` gets blocks whose rejected lanes (by the last filter) are `+0` in `x`.
    #[inline]
    fn chunk_zeroing(
        &self,
        regs: &mut Regs,
        c: usize,
        mut sink: impl FnMut(&mut Regs, usize, usize),
    ) {
        let (lo, hi) = self.chunk_bounds(c);
        let mut at = lo;
        while at < hi {
            let n = ((hi - at) as usize).min(BLOCK);
            self.source.load(at, n, regs, self.keep_index);
            let (lanes, kept) = regs.run_stages_zeroing(self.pipeline, n, self.keep_index);
            if kept > 0 {
                sink(regs, lanes, kept);
            }
            at += n as u64;
        }
    }

    /// Maps every chunk to an `R` and combines them (`combine` must be associative).
    fn map_reduce<R: Send>(
        &self,
        identity: impl Fn() -> R + Sync + Send,
        f: impl Fn(&mut Regs, usize) -> R + Sync + Send,
        combine: impl Fn(R, R) -> R + Sync + Send,
    ) -> R {
        match self.mode {
            Mode::Inline => {
                let mut regs = self.regs();
                (0..self.nchunks).fold(identity(), |acc, c| combine(acc, f(&mut regs, c)))
            }
            Mode::Parallel => (0..self.nchunks)
                .into_par_iter()
                .map_init(|| self.regs(), |regs, c| f(regs, c))
                .reduce(&identity, &combine),
        }
    }

    /// Maps every chunk to an `R`, in chunk order.
    fn map_chunks<R: Send>(&self, f: impl Fn(&mut Regs, usize) -> R + Sync + Send) -> Vec<R> {
        match self.mode {
            Mode::Inline => {
                let mut regs = self.regs();
                (0..self.nchunks).map(|c| f(&mut regs, c)).collect()
            }
            Mode::Parallel => (0..self.nchunks)
                .into_par_iter()
                .map_init(|| self.regs(), |regs, c| f(regs, c))
                .collect(),
        }
    }

    fn sum_count(&self) -> (ExactSum, u64) {
        if let (Source::F64(values), true) = (self.source, self.pipeline.stages.is_empty()) {
            // Nothing to evaluate: add the caller's memory in place, without copying it into
            // registers first.
            return self.map_reduce(
                || (ExactSum::new(), 0u64),
                |_, c| {
                    let (lo, hi) = self.chunk_bounds(c);
                    let mut s = ExactSum::new();
                    s.add_all(&values[lo as usize..hi as usize]);
                    (s, hi - lo)
                },
                |(mut a, ca), (b, cb)| {
                    a.merge(&b);
                    (a, ca + cb)
                },
            );
        }
        self.map_reduce(
            || (ExactSum::new(), 0u64),
            |regs, c| {
                let mut s = ExactSum::new();
                let mut count = 0u64;
                self.chunk_zeroing(regs, c, |regs, lanes, kept| {
                    s.add_all(&regs.x[..lanes]);
                    count += kept as u64;
                });
                (s, count)
            },
            |(mut a, ca), (b, cb)| {
                a.merge(&b);
                (a, ca + cb)
            },
        )
    }

    fn fold(&self, op: fn(f64, f64) -> f64) -> Option<f64> {
        self.map_reduce(
            || None,
            |regs, c| {
                let mut acc: Option<f64> = None;
                self.chunk(regs, c, |regs, n, _| {
                    let block = regs.x[..n].iter().copied().reduce(op);
                    acc = match (acc, block) {
                        (Some(a), Some(b)) => Some(op(a, b)),
                        (a, b) => a.or(b),
                    };
                    true
                });
                acc
            },
            |a, b| match (a, b) {
                (Some(a), Some(b)) => Some(op(a, b)),
                (a, b) => a.or(b),
            },
        )
    }

    fn count(&self) -> u64 {
        if self.pipeline.stages.iter().all(|s| s.kind == Kind::Map) {
            // Maps keep every element.
            return self.len;
        }
        self.map_reduce(
            || 0u64,
            |regs, c| {
                let mut count = 0u64;
                self.chunk_zeroing(regs, c, |_, _, kept| count += kept as u64);
                count
            },
            |a, b| a + b,
        )
    }

    /// `some` (`want = true`) or the negation of `every` (`want = false`): whether the terminal
    /// closure's truthiness equals `want` for some value.
    fn any(&self, want: bool) -> Result<bool> {
        let prog = self.terminal_program()?;
        let found = AtomicBool::new(false);
        let hit = self.map_reduce(
            || false,
            |regs, c| {
                if found.load(AtomicOrdering::Relaxed) {
                    return false;
                }
                let mut hit = false;
                self.chunk(regs, c, |regs, n, _| {
                    regs.eval(prog, n);
                    hit = regs.truth_mask(prog.result, n).contains(&want);
                    !hit && !found.load(AtomicOrdering::Relaxed)
                });
                if hit {
                    found.store(true, AtomicOrdering::Relaxed);
                }
                hit
            },
            |a, b| a || b,
        );
        Ok(hit)
    }

    fn terminal_program(&self) -> Result<&'a super::program::Program> {
        self.pipeline.terminal.as_ref().ok_or_else(|| {
            Error::new(
                Code::InvalidArg,
                "this terminal needs a closure in the program",
            )
        })
    }

    fn reduce(&self, init: f64) -> Result<f64> {
        let prog = self.terminal_program()?;
        if prog.kind != Kind::Reduce {
            return Err(Error::new(
                Code::InvalidArg,
                "the program's closure is not a reduce",
            ));
        }
        let step = |scalar: &mut Regs, acc: f64, x: f64| -> f64 {
            scalar.x[0] = acc;
            scalar.i[0] = x;
            scalar.eval(prog, 1);
            scalar.get(prog.result)[0]
        };
        let partials: Vec<Option<f64>> = match self.mode {
            Mode::Inline => {
                let mut regs = self.regs();
                let mut scalar = Regs::new(self.pipeline, 1);
                (0..self.nchunks)
                    .map(|c| self.reduce_chunk(&mut regs, &mut scalar, c, init, &step))
                    .collect()
            }
            Mode::Parallel => (0..self.nchunks)
                .into_par_iter()
                .map_init(
                    || (self.regs(), Regs::new(self.pipeline, 1)),
                    |(regs, scalar), c| self.reduce_chunk(regs, scalar, c, init, &step),
                )
                .collect(),
        };
        let mut scalar = Regs::new(self.pipeline, 1);
        let mut acc: Option<f64> = None;
        for p in partials.into_iter().flatten() {
            acc = Some(match acc {
                None => p,
                Some(a) => step(&mut scalar, a, p),
            });
        }
        Ok(acc.unwrap_or(init))
    }

    fn reduce_chunk(
        &self,
        regs: &mut Regs,
        scalar: &mut Regs,
        c: usize,
        init: f64,
        step: &impl Fn(&mut Regs, f64, f64) -> f64,
    ) -> Option<f64> {
        let mut acc = init;
        let mut any = false;
        self.chunk(regs, c, |regs, n, _| {
            any = true;
            for &x in &regs.x[..n] {
                acc = step(scalar, acc, x);
            }
            true
        });
        any.then_some(acc)
    }

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

    fn collect<C: Conv>(&self) -> Vec<C::T> {
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

    fn collect_into<C: Conv>(&self, out: &mut [C::T]) -> Result<usize> {
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
        sort_values::<C>(self.collect::<C>(), descending, self.mode)
    }
}

/// Sorts values numerically (`-0` before `+0`, NaN last, whatever the direction).
fn sort_values<C: Conv>(mut v: Vec<C::T>, descending: bool, mode: Mode) -> Vec<C::T> {
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

fn array_of(kind: ElemKind, job: &Job<'_>, sorted: Option<bool>) -> Array {
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

fn check_terminal(pipeline: &Pipeline, terminal: &Terminal) -> Result<()> {
    let want = match terminal {
        Terminal::Reduce { .. } => Some(Kind::Reduce),
        Terminal::Some => Some(Kind::Some),
        Terminal::Every => Some(Kind::Every),
        _ => None,
    };
    let have = pipeline.terminal.as_ref().map(|p| p.kind);
    if want != have {
        return Err(Error::new(
            Code::InvalidArg,
            format!("terminal {terminal:?} does not match the program's closure {have:?}"),
        ));
    }
    Ok(())
}

/// Runs `pipeline` over `source` and computes `terminal`.
pub fn run(
    pipeline: &Pipeline,
    source: Source<'_>,
    terminal: Terminal,
    mode: Mode,
) -> Result<Output> {
    check_terminal(pipeline, &terminal)?;
    let job = Job::new(pipeline, source, mode)?;
    Ok(match terminal {
        Terminal::Sum => Output::Number(job.sum_count().0.value()),
        Terminal::Mean => {
            let (s, n) = job.sum_count();
            Output::Number(s.value() / n as f64)
        }
        Terminal::Min => job.fold(js::min).map_or(Output::Nothing, Output::Number),
        Terminal::Max => job.fold(js::max).map_or(Output::Nothing, Output::Number),
        Terminal::Count => Output::Number(job.count() as f64),
        Terminal::Reduce { init } => Output::Number(job.reduce(init)?),
        Terminal::Some => Output::Bool(job.any(true)?),
        Terminal::Every => Output::Bool(!job.any(false)?),
        Terminal::ToArray(kind) => Output::Array(array_of(kind, &job, None)),
        Terminal::Sort { kind, descending } => {
            Output::Array(array_of(kind, &job, Some(descending)))
        }
    })
}

/// Like [`run`] over an owned array (a copy the caller made of its source): a `toArray` or
/// `sort` of the same element kind without stages reuses the array instead of copying it again.
pub fn run_owned(
    pipeline: &Pipeline,
    array: Array,
    terminal: Terminal,
    mode: Mode,
) -> Result<Output> {
    if pipeline.stages.is_empty() && pipeline.terminal.is_none() {
        match terminal {
            Terminal::ToArray(kind) if kind == array.kind() => return Ok(Output::Array(array)),
            Terminal::Sort { kind, descending } if kind == array.kind() => {
                return Ok(Output::Array(match array {
                    Array::F64(v) => Array::F64(sort_values::<ToF64>(v, descending, mode)),
                    Array::F32(v) => Array::F32(sort_values::<ToF32>(v, descending, mode)),
                    Array::I8(v) => Array::I8(sort_values::<ToI8>(v, descending, mode)),
                    Array::U8(v) => Array::U8(sort_values::<ToU8>(v, descending, mode)),
                    Array::U8Clamped(v) => {
                        Array::U8Clamped(sort_values::<ToU8Clamped>(v, descending, mode))
                    }
                    Array::I16(v) => Array::I16(sort_values::<ToI16>(v, descending, mode)),
                    Array::U16(v) => Array::U16(sort_values::<ToU16>(v, descending, mode)),
                    Array::I32(v) => Array::I32(sort_values::<ToI32>(v, descending, mode)),
                    Array::U32(v) => Array::U32(sort_values::<ToU32>(v, descending, mode)),
                }));
            }
            _ => {}
        }
    }
    run(pipeline, array.source(), terminal, mode)
}

/// Runs `pipeline` over `source` and writes the values into `out` from its start; returns how
/// many were written. An `out` too small is an error, and then nothing is written.
pub fn run_into(
    pipeline: &Pipeline,
    source: Source<'_>,
    out: ArrayMut<'_>,
    mode: Mode,
) -> Result<usize> {
    check_terminal(pipeline, &Terminal::ToArray(ElemKind::F64))?;
    let job = Job::new(pipeline, source, mode)?;
    match out {
        ArrayMut::F64(o) => job.collect_into::<ToF64>(o),
        ArrayMut::F32(o) => job.collect_into::<ToF32>(o),
        ArrayMut::I8(o) => job.collect_into::<ToI8>(o),
        ArrayMut::U8(o) => job.collect_into::<ToU8>(o),
        ArrayMut::U8Clamped(o) => job.collect_into::<ToU8Clamped>(o),
        ArrayMut::I16(o) => job.collect_into::<ToI16>(o),
        ArrayMut::U16(o) => job.collect_into::<ToU16>(o),
        ArrayMut::I32(o) => job.collect_into::<ToI32>(o),
        ArrayMut::U32(o) => job.collect_into::<ToU32>(o),
    }
}
