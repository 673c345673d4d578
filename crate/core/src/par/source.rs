//! Where a pipeline's values come from: [`Source`] (a typed array read in place, or a range), and
//! how a block of it is loaded into the registers.

use std::sync::OnceLock;

use super::eval::{Regs, BLOCK};

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
    pub(super) fn load(&self, lo: u64, n: usize, regs: &mut Regs, index: bool) {
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

    /// Reads elements `lo..lo + out.len()` into `out` (as numbers): another column of a zip.
    #[inline]
    pub(super) fn load_column(&self, lo: u64, out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of
                // `load_column_avx2`.
                unsafe { self.load_column_avx2(lo, out) };
                return;
            }
        }
        self.load_values(lo, out);
    }

    /// [`load_values`](Self::load_values) compiled for AVX2 (same values).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn load_column_avx2(&self, lo: u64, out: &mut [f64]) {
        self.load_values(lo, out);
    }

    #[inline(always)]
    fn load_body(&self, lo: u64, n: usize, regs: &mut Regs, index: bool) {
        self.load_values(lo, &mut regs.x[..n]);
        if index {
            let base = lo as f64;
            for (d, &j) in regs.i[..n].iter_mut().zip(lane_offsets()) {
                *d = base + j;
            }
        }
    }

    #[inline(always)]
    fn load_values(&self, lo: u64, x: &mut [f64]) {
        #[inline(always)]
        fn widen<T: Copy>(src: &[T], x: &mut [f64], f: impl Fn(T) -> f64) {
            for (d, &s) in x.iter_mut().zip(src) {
                *d = f(s);
            }
        }
        let n = x.len();
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
    }
}

/// `[0.0, 1.0, …]`, one offset per lane of a block.
fn lane_offsets() -> &'static [f64; BLOCK] {
    static OFFSETS: OnceLock<[f64; BLOCK]> = OnceLock::new();
    OFFSETS.get_or_init(|| std::array::from_fn(|j| j as f64))
}
