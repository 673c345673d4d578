//! Runs a pipeline over a source: fixed chunks, blocks inside each chunk, and a terminal.
//!
//! The source is cut into chunks of [`CHUNK`] elements whatever the thread count; rayon only
//! decides which thread runs which chunk. Every terminal is either independent of the
//! decomposition (exact sums, min/max, counts, some/every, arrays in source order) or, for
//! `reduce`, defined on this fixed decomposition, so results never depend on the thread count.
//!
//! This file holds the terminals' vocabulary ([`Terminal`], [`Output`], [`Mode`]), a run's
//! chunking ([`Job`]), the number terminals and the entry points; the array terminals are in
//! `exec/collect.rs`.

mod collect;
mod stats;

pub use stats::{Agg, MAX_BINS, MAX_GROUPS};

use crate::sync::unmodelled::{AtomicBool, Ordering as AtomicOrdering};

use rayon::prelude::*;

use std::sync::Arc;

use super::array::{Array, ArrayMut, ElemKind};
use super::cancel::{self, Cancel};
use super::eval::{Regs, BLOCK};
use super::jit::{self, Engine, Kernel};
use super::js;
use super::program::{Kind, Pipeline};
use super::source::Source;
use super::sum::ExactSum;
use crate::error::{Code, Error, Result};
use collect::{
    array_of, sort_values, ToF32, ToF64, ToI16, ToI32, ToI8, ToU16, ToU32, ToU8, ToU8Clamped,
};

/// Source elements per chunk (the fixed decomposition).
pub const CHUNK: usize = 1 << 14;

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
    /// The source index of the smallest value (`Math.min`'s order; the first NaN if any, the
    /// first of equal values); nothing when empty.
    ArgMin,
    /// The source index of the largest value, as [`Terminal::ArgMin`].
    ArgMax,
    /// The `q`-quantile, `0 <= q <= 1`, exact (by selection), interpolated linearly between
    /// ranks; NaN if a value is NaN; nothing when empty.
    Quantile(f64),
    /// Counts in `bins` equal-width bins over `[lo, hi]` (both NaN: the values' own range), as
    /// an f64 array `[edges (bins + 1)..., counts (bins)...]`.
    Histogram {
        /// How many bins.
        bins: u32,
        /// The lower edge (NaN with `hi`: the smallest value).
        lo: f64,
        /// The upper edge, included in the last bin.
        hi: f64,
    },
    /// `agg` per group of the key closure's value (an integer below `keys`), as an f64 array
    /// `[keys (g)..., values (g)...]` of the `g` groups with values, in key order.
    Group {
        /// How many keys the closure may return (`0..keys`).
        keys: u32,
        /// What to compute per group.
        agg: Agg,
    },
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

/// One run of a pipeline over a source.
struct Job<'a> {
    pipeline: &'a Pipeline,
    source: Source<'a>,
    /// A zip's other columns (as long as `source`), loaded into their registers with `x`.
    cols: Vec<Source<'a>>,
    mode: Mode,
    len: u64,
    nchunks: usize,
    /// Chunks per rayon piece at least ([`pieces_for`]): 1 unless pool workers hold part of the
    /// thread budget.
    min_len: usize,
    keep_index: bool,
    /// The stages compiled to machine code, or `None` where the interpreter runs them.
    kernel: Option<Arc<Kernel>>,
    /// Set when the caller aborts: chunks that start then do nothing (see `super::cancel`).
    cancel: Option<Arc<Cancel>>,
}

/// Whether a job keeps each value's source index: a stage or the terminal's closure reads `i`,
/// or the terminal needs it (`index`: `argmin`/`argmax`).
fn keep_index_for(pipeline: &Pipeline, index: bool) -> bool {
    let terminal_uses_index = matches!(
        &pipeline.terminal,
        Some(p) if matches!(p.kind, Kind::Some | Kind::Every | Kind::Key) && p.uses_arg1
    );
    pipeline.uses_index() || terminal_uses_index || index
}

/// The least chunks per piece so that a job of `nchunks` chunks runs as at most `free` pieces
/// at once when the budget's `free` threads are fewer than the rayon pool's `threads` (pool
/// workers are running: see [`crate::budget`]); 1 (rayon's own splitting) otherwise.
pub(crate) fn pieces_for(nchunks: usize, threads: usize, free: usize) -> usize {
    if free >= threads {
        1
    } else {
        nchunks.div_ceil(free.max(1)).max(1)
    }
}

impl<'a> Job<'a> {
    /// `cols`: a zip's other columns; `index`: whether the terminal reads the source index of
    /// the values (`argmin`); `counts_only`: the job only counts the values that pass (`count`),
    /// so that compiled stages need not write them.
    fn new(
        pipeline: &'a Pipeline,
        source: Source<'a>,
        cols: &[Source<'a>],
        mode: Mode,
        engine: Engine,
        index: bool,
        counts_only: bool,
    ) -> Result<Self> {
        let len = source.len();
        if cols.len() != pipeline.ncols {
            return Err(Error::new(
                Code::InvalidArg,
                format!(
                    "the pipeline reads {} zipped columns, {} were given",
                    pipeline.ncols,
                    cols.len()
                ),
            ));
        }
        if let Some(c) = cols.iter().find(|c| c.len() != len) {
            return Err(Error::new(
                Code::InvalidArg,
                format!(
                    "par.zip: the columns must have one length; one has {}, the first {len}",
                    c.len()
                ),
            ));
        }
        let keep_index = keep_index_for(pipeline, index);
        // The JIT does not load zipped columns yet: the interpreter runs such pipelines.
        let kernel = if pipeline.ncols > 0 {
            if engine == Engine::Jit {
                return Err(Error::new(
                    Code::ParCompile,
                    "the par JIT does not compile par.zip pipelines yet (WEFT_PAR_ENGINE=jit)",
                ));
            }
            None
        } else {
            jit::kernel_for(engine, pipeline, &source, keep_index, counts_only)?
        };
        let nchunks = usize::try_from(len.div_ceil(CHUNK as u64))
            .map_err(|_| Error::new(Code::InvalidArg, "the source is too long"))?;
        let min_len = match mode {
            Mode::Inline => 1,
            Mode::Parallel => {
                pieces_for(nchunks, rayon::current_num_threads(), crate::budget::free())
            }
        };
        Ok(Job {
            pipeline,
            source,
            cols: cols.to_vec(),
            min_len,
            mode,
            len,
            nchunks,
            keep_index,
            kernel,
            cancel: cancel::current(),
        })
    }

    /// Whether the caller aborted the job.
    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.is_cancelled())
    }

    /// `Err(WEFT_ABORTED)` if the caller aborted the job (what it computed is then partial).
    fn finish<T>(&self, out: T) -> Result<T> {
        if self.cancelled() {
            return Err(Error::new(Code::Aborted, "the par job was aborted"));
        }
        Ok(out)
    }

    fn regs(&self) -> Regs {
        Regs::new(self.pipeline, BLOCK)
    }

    /// Loads source elements `at..at + n` into `regs` for the interpreter: `x` (and `i`) and a
    /// zip's other columns.
    #[inline]
    fn load(&self, regs: &mut Regs, at: u64, n: usize) {
        self.source.load(at, n, regs, self.keep_index);
        for (j, col) in self.cols.iter().enumerate() {
            col.load_column(at, &mut regs.column_mut(j + 1)[..n]);
        }
    }

    /// Source elements `lo..hi` of chunk `c`: none once the job is aborted (every chunk starts
    /// here, so an abort skips the chunks not yet started).
    fn chunk_bounds(&self, c: usize) -> (u64, u64) {
        let lo = c as u64 * CHUNK as u64;
        if self.cancelled() {
            return (lo, lo);
        }
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
            let m = match &self.kernel {
                Some(k) => self.jit_block(k, regs, at, n),
                None => {
                    self.load(regs, at, n);
                    regs.run_stages(self.pipeline, n, self.keep_index)
                }
            };
            if m > 0 && !sink(regs, m, at) {
                return;
            }
            at += n as u64;
        }
    }

    /// Runs the compiled stages over source elements `at..at + n` (`n <= BLOCK`): the kept
    /// values land at the front of `regs.x` (their indices in `regs.i`), as after
    /// [`Regs::run_stages`].
    #[inline]
    fn jit_block(&self, kernel: &Kernel, regs: &mut Regs, at: u64, n: usize) -> usize {
        kernel.run(
            &self.pipeline.consts,
            &self.source,
            at,
            n,
            &mut regs.x,
            &mut regs.i,
        )
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
            let (lanes, kept) = match &self.kernel {
                Some(k) => {
                    let m = self.jit_block(k, regs, at, n);
                    (m, m)
                }
                None => {
                    self.load(regs, at, n);
                    regs.run_stages_zeroing(self.pipeline, n, self.keep_index)
                }
            };
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
        // An abort stops handing out chunks (`while_some` ends every thread's share early).
        match self.mode {
            Mode::Inline => {
                let mut regs = self.regs();
                (0..self.nchunks)
                    .take_while(|_| !self.cancelled())
                    .fold(identity(), |acc, c| combine(acc, f(&mut regs, c)))
            }
            Mode::Parallel => (0..self.nchunks)
                .into_par_iter()
                .with_min_len(self.min_len)
                .map_init(
                    || self.regs(),
                    |regs, c| (!self.cancelled()).then(|| f(regs, c)),
                )
                .while_some()
                .reduce(&identity, &combine),
        }
    }

    /// Maps every chunk to an `R`, in chunk order.
    fn map_chunks<R: Send>(&self, f: impl Fn(&mut Regs, usize) -> R + Sync + Send) -> Vec<R> {
        // An abort stops handing out chunks; what was collected is dropped (the job fails).
        match self.mode {
            Mode::Inline => {
                let mut regs = self.regs();
                (0..self.nchunks)
                    .map_while(|c| (!self.cancelled()).then(|| f(&mut regs, c)))
                    .collect()
            }
            Mode::Parallel => (0..self.nchunks)
                .into_par_iter()
                .with_min_len(self.min_len)
                .map_init(
                    || self.regs(),
                    |regs, c| (!self.cancelled()).then(|| f(regs, c)),
                )
                .collect::<Option<Vec<R>>>()
                .unwrap_or_default(),
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
                    .map_while(|c| {
                        (!self.cancelled())
                            .then(|| self.reduce_chunk(&mut regs, &mut scalar, c, init, &step))
                    })
                    .collect()
            }
            Mode::Parallel => (0..self.nchunks)
                .into_par_iter()
                .with_min_len(self.min_len)
                .map_init(
                    || (self.regs(), Regs::new(self.pipeline, 1)),
                    |(regs, scalar), c| {
                        (!self.cancelled()).then(|| self.reduce_chunk(regs, scalar, c, init, &step))
                    },
                )
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default(),
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
}

fn check_terminal(pipeline: &Pipeline, terminal: &Terminal) -> Result<()> {
    let want = match terminal {
        Terminal::Reduce { .. } => Some(Kind::Reduce),
        Terminal::Some => Some(Kind::Some),
        Terminal::Every => Some(Kind::Every),
        Terminal::Group { .. } => Some(Kind::Key),
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

/// Runs `pipeline` over `source` and computes `terminal`, on the process's engine
/// ([`jit::engine`]).
pub fn run(
    pipeline: &Pipeline,
    source: Source<'_>,
    terminal: Terminal,
    mode: Mode,
) -> Result<Output> {
    run_engine(pipeline, source, terminal, mode, jit::engine())
}

/// [`run`] on the given engine.
pub fn run_engine(
    pipeline: &Pipeline,
    source: Source<'_>,
    terminal: Terminal,
    mode: Mode,
    engine: Engine,
) -> Result<Output> {
    run_zip_engine(pipeline, source, &[], terminal, mode, engine)
}

/// [`run`] over the rows of `par.zip(source, ...cols)`: `cols` are the other columns, as long
/// as `source`, which the pipeline's closures read as their parameters after `x`.
pub fn run_zip(
    pipeline: &Pipeline,
    source: Source<'_>,
    cols: &[Source<'_>],
    terminal: Terminal,
    mode: Mode,
) -> Result<Output> {
    run_zip_engine(pipeline, source, cols, terminal, mode, jit::engine())
}

/// [`run_zip`] on the given engine.
pub fn run_zip_engine(
    pipeline: &Pipeline,
    source: Source<'_>,
    cols: &[Source<'_>],
    terminal: Terminal,
    mode: Mode,
    engine: Engine,
) -> Result<Output> {
    check_terminal(pipeline, &terminal)?;
    let index = matches!(terminal, Terminal::ArgMin | Terminal::ArgMax);
    let counts_only = matches!(terminal, Terminal::Count);
    let job = Job::new(pipeline, source, cols, mode, engine, index, counts_only)?;
    let out = match terminal {
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
        Terminal::ArgMin => job
            .arg_extreme(true)
            .map_or(Output::Nothing, Output::Number),
        Terminal::ArgMax => job
            .arg_extreme(false)
            .map_or(Output::Nothing, Output::Number),
        Terminal::Quantile(q) => {
            if !(0.0..=1.0).contains(&q) {
                return Err(Error::new(
                    Code::InvalidArg,
                    format!("quantile: q must be a number from 0 to 1, got {q}"),
                ));
            }
            match job.quantiles(&[q]) {
                Some(v) => Output::Number(v[0]),
                None => Output::Nothing,
            }
        }
        Terminal::Histogram { bins, lo, hi } => {
            Output::Array(Array::F64(job.histogram(bins, lo, hi)?))
        }
        Terminal::Group { keys, agg } => Output::Array(Array::F64(job.group_by(keys, agg)?)),
    };
    job.finish(out)
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
        if cancel::current().is_some_and(|c| c.is_cancelled()) {
            return Err(Error::new(Code::Aborted, "the par job was aborted"));
        }
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
    run_into_zip(pipeline, source, &[], out, mode)
}

/// [`run_into`] over the rows of a zip (see [`run_zip`]).
pub fn run_into_zip(
    pipeline: &Pipeline,
    source: Source<'_>,
    cols: &[Source<'_>],
    out: ArrayMut<'_>,
    mode: Mode,
) -> Result<usize> {
    check_terminal(pipeline, &Terminal::ToArray(ElemKind::F64))?;
    let job = Job::new(pipeline, source, cols, mode, jit::engine(), false, false)?;
    let written = match out {
        ArrayMut::F64(o) => job.collect_into::<ToF64>(o),
        ArrayMut::F32(o) => job.collect_into::<ToF32>(o),
        ArrayMut::I8(o) => job.collect_into::<ToI8>(o),
        ArrayMut::U8(o) => job.collect_into::<ToU8>(o),
        ArrayMut::U8Clamped(o) => job.collect_into::<ToU8Clamped>(o),
        ArrayMut::I16(o) => job.collect_into::<ToI16>(o),
        ArrayMut::U16(o) => job.collect_into::<ToU16>(o),
        ArrayMut::I32(o) => job.collect_into::<ToI32>(o),
        ArrayMut::U32(o) => job.collect_into::<ToU32>(o),
    }?;
    job.finish(written)
}
