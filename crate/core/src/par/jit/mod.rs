//! The par JIT: a pipeline's stages compiled to one native function per shape (Cranelift).
//!
//! A *shape* is what the code depends on: the op programs of the `map`/`filter` stages, the
//! register and constant counts, the source's element type and whether the source index is
//! kept. The constants (a closure's captures) are not part of it: the compiled [`Kernel`] reads
//! them at run time, so `x => x * k` compiles once whatever `k` is. A kernel runs the stages over
//! one block of the source and writes the surviving values, compacted and in source order, into
//! the register file's `x` lanes (and their indices into `i` where kept), exactly where the
//! interpreter leaves them; every terminal then proceeds as with the interpreter.
//!
//! Numbers follow [`super::js`] to the bit: the generated code inlines only operations that are
//! one exact machine instruction (IEEE add/sub/mul/div/sqrt, comparisons, rounding to integer,
//! conversions), per lane where it runs two elements at once as `f64x2` vectors, plus the
//! integer fast paths of `%` and `ToInt32` (the same instructions as `js::rem_integral` and
//! `js::to_int32` compile to) and `%` by a constant without a division (proved exact in
//! `codegen.rs`); everything else calls the very Rust functions the interpreter calls
//! (`jit/shims.rs`).
//!
//! Engines ([`Engine`]): `WEFT_PAR_ENGINE=jit` runs the JIT where it is built and tested (x86_64
//! Linux; a shape it cannot compile, or another platform, is then a `WEFT_PAR_COMPILE` error);
//! `WEFT_PAR_ENGINE=interp` the interpreter; `auto` (the default) the interpreter for now, as
//! [`AUTO_JIT`] is false: the interpreter's blocks run on 4-wide AVX2, the generated code on
//! 2-wide vectors (Cranelift 0.125 has none wider on x64), and the interpreter still wins where
//! arithmetic dominates. Paired medians of interpreter time / JIT time (above 1, the JIT is
//! faster) at 1e7, measured 2026-12-08 on a shared 2-vCPU Xeon while another build ran (so
//! noisy): on the par benchmark (`bench/par`, 6 interleaved rounds each engine), the article's
//! pipeline `range.map(x => x * 2).filter(x => x % 3 === 0).sum()` 0.63 (0.50 to 1.01 across
//! rounds), `map(x => Math.sqrt(x) * 2 + 1).toArray()` 0.97 (0.27 to 1.40) and
//! `filter(x => x > 0.5).count()` 1.13 (a count writes no output); in process on one thread
//! (`examples/par_engines`) 0.55, 1.13 and 0.83 to 2.3, where the scalar JIT that preceded the
//! vector loop had 0.28, 0.94 and 0.37. `auto` takes the JIT once it is at least as fast on
//! every such case.
//!
//! Compiled modules live in a bounded cache ([`CACHE_SHAPES`] shapes). A job holds an `Arc` of
//! its kernel, so evicting a shape never frees code that a running job still executes: the
//! module's memory goes when the last holder drops it.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod codegen;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod shims;
#[cfg(all(test, target_arch = "x86_64", target_os = "linux"))]
mod tests;

use crate::sync::unmodelled::{AtomicU8, Ordering};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use super::program::{Args, Op, Pipeline, Program, R_CONST};
use super::source::Source;
use crate::error::{Code, Error, Result};

/// Which engine runs a pipeline's stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The JIT where available, the interpreter otherwise or when a shape does not compile.
    Auto,
    /// Always the JIT; a shape that does not compile (or a platform without it) is an error.
    Jit,
    /// Always the block interpreter (the reference).
    Interp,
}

impl Engine {
    /// Parses `auto`, `jit` or `interp`.
    pub fn parse(s: &str) -> Option<Engine> {
        match s {
            "auto" => Some(Engine::Auto),
            "jit" => Some(Engine::Jit),
            "interp" => Some(Engine::Interp),
            _ => None,
        }
    }

    /// Its name, as [`parse`](Self::parse) reads it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Auto => "auto",
            Engine::Jit => "jit",
            Engine::Interp => "interp",
        }
    }
}

/// Whether this build has the JIT (x86_64 Linux).
pub const AVAILABLE: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));

/// Whether [`Engine::Auto`] takes the JIT where it is available (else the interpreter): not yet,
/// see the module's documentation.
pub const AUTO_JIT: bool = false;

static ENGINE: AtomicU8 = AtomicU8::new(u8::MAX);

/// The process's engine: `WEFT_PAR_ENGINE` (`auto`, `jit` or `interp`; `auto` when unset or
/// unknown) unless [`set_engine`] chose another.
pub fn engine() -> Engine {
    let code = ENGINE.load(Ordering::Relaxed);
    let code = if code == u8::MAX {
        let e = std::env::var("WEFT_PAR_ENGINE")
            .ok()
            .and_then(|v| Engine::parse(v.trim()))
            .unwrap_or(Engine::Auto);
        ENGINE.store(e as u8, Ordering::Relaxed);
        e as u8
    } else {
        code
    };
    match code {
        1 => Engine::Jit,
        2 => Engine::Interp,
        _ => Engine::Auto,
    }
}

/// Sets the process's engine (tests, benchmarks).
pub fn set_engine(e: Engine) {
    ENGINE.store(e as u8, Ordering::Relaxed);
}

/// [`set_engine`] by name (`auto`, `jit` or `interp`); another name is an error.
pub fn set_engine_named(name: &str) -> Result<()> {
    let e = Engine::parse(name).ok_or_else(|| {
        Error::new(
            Code::InvalidArg,
            format!("unknown par engine {name:?} (expected \"auto\", \"jit\" or \"interp\")"),
        )
    })?;
    set_engine(e);
    Ok(())
}

/// The engine that runs stages in this process: [`Engine::Jit`] or [`Engine::Interp`] (what
/// [`Engine::Auto`] resolves to on this platform).
pub fn resolved() -> Engine {
    match engine() {
        Engine::Auto if AVAILABLE && AUTO_JIT => Engine::Jit,
        Engine::Auto => Engine::Interp,
        e => e,
    }
}

/// The element type of a source, as compiled into a kernel's loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SrcKind {
    F64,
    F32,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    Range,
}

impl SrcKind {
    fn of(source: &Source<'_>) -> SrcKind {
        match source {
            Source::F64(_) => SrcKind::F64,
            Source::F32(_) => SrcKind::F32,
            Source::I8(_) => SrcKind::I8,
            Source::U8(_) => SrcKind::U8,
            Source::I16(_) => SrcKind::I16,
            Source::U16(_) => SrcKind::U16,
            Source::I32(_) => SrcKind::I32,
            Source::U32(_) => SrcKind::U32,
            Source::Range { .. } => SrcKind::Range,
        }
    }
}

/// What a kernel's code depends on (the cache key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    pub(crate) src: SrcKind,
    pub(crate) keep_index: bool,
    /// The kernel only counts the values that pass: it writes nothing to `out_x`/`out_i`.
    pub(crate) counts_only: bool,
    pub(crate) nregs: usize,
    pub(crate) nconsts: usize,
    pub(crate) stages: Vec<Program>,
}

/// The compiled function: `(consts, src, lo, n, out_x, out_i, start, step, pairs) -> kept`.
/// It reads source elements `lo..lo + n` (`src` points at element 0; for a range, `start + k *
/// step`), runs the stages and writes the kept values to `out_x[0..kept]` (and their indices to
/// `out_i[0..kept]` when the shape keeps the index; `out_i` is not read otherwise). `pairs`
/// holds [`PAIRS`] values, each twice (a vector of two lanes, ready for the vector loop; scalar
/// code reads the first): see [`pairs`].
pub(crate) type KernelFn = unsafe extern "C" fn(
    consts: *const f64,
    src: *const u8,
    lo: u64,
    n: u64,
    out_x: *mut f64,
    out_i: *mut f64,
    start: f64,
    step: f64,
    pairs: *const f64,
) -> u64;

/// How many values (each twice) the `pairs` argument holds: `start`, `step`, `lo` (as a number),
/// and [`divisor_values`] of each constant of [`divisor_consts`]. (Pairs of the other constants, in
/// place of broadcasting them in every iteration, made no measurable difference.)
pub(crate) const PAIRS: usize = 3 + 3 * MAX_DIVISORS;

/// Where value `k` of `pairs` is, in bytes: pair `k` of 16 bytes.
pub(crate) fn pair_offset(k: usize) -> i32 {
    (k * 16) as i32
}

/// The slot in `pairs` of field `f` (`|c|`, `1 / |c|`, bound) of divisor `s` of
/// [`divisor_consts`].
pub(crate) fn divisor_pair(s: usize, f: usize) -> usize {
    3 + 3 * s + f
}

/// The `pairs` argument of a kernel with the constant divisors `divisors` ([`divisor_consts`]).
#[inline]
fn pairs(consts: &[f64], divisors: &[usize], lo: u64, start: f64, step: f64) -> [f64; 2 * PAIRS] {
    let mut out = [0.0f64; 2 * PAIRS];
    let mut put = |slot: usize, v: f64| {
        out[2 * slot] = v;
        out[2 * slot + 1] = v;
    };
    put(0, start);
    put(1, step);
    put(2, lo as f64);
    for (s, &k) in divisors.iter().take(MAX_DIVISORS).enumerate() {
        for (f, v) in divisor_values(consts[k]).into_iter().enumerate() {
            put(divisor_pair(s, f), v);
        }
    }
    out
}

/// The most constant divisors of `%` per shape that take the path without a division (the
/// others keep the path with one).
pub(crate) const MAX_DIVISORS: usize = 8;

/// The constants (indices into `consts`) that are the right operand of a `%` in the stages, each
/// once, in order of first use, at most [`MAX_DIVISORS`].
pub(crate) fn divisor_consts(shape: &Shape) -> Vec<usize> {
    let mut out = Vec::new();
    for ins in shape.stages.iter().flat_map(|p| &p.code) {
        if let (Op::Mod, Args::Two(_, c)) = (ins.op, &ins.args) {
            let k = (*c as usize).wrapping_sub(R_CONST as usize);
            if k < shape.nconsts && !out.contains(&k) && out.len() < MAX_DIVISORS {
                out.push(k);
            }
        }
    }
    out
}

/// What the division-free `%` of the generated code needs of a constant divisor `c`: `|c|`,
/// `1 / |c|` (rounded) and the bound below which a dividend's magnitude takes that path: `2^52`
/// where `c` is an integer with `1 <= |c| < 2^52`, else `0` (no dividend; NaN fails both
/// comparisons). Computed once per block, before the loop (`codegen.rs`, `rem_by_constant`,
/// proves the path exact).
#[inline]
pub(crate) fn divisor_values(c: f64) -> [f64; 3] {
    const TWO52: f64 = 4_503_599_627_370_496.0;
    let abs = c.abs();
    let ok = (1.0..TWO52).contains(&abs) && c.trunc() == c;
    [abs, 1.0 / abs, if ok { TWO52 } else { 0.0 }]
}

/// What a speculative kernel returns when an element needs a path it leaves out.
pub(crate) const BAIL: u64 = u64::MAX;

/// One compiled shape. Cloned `Arc`s keep its code alive.
pub struct Kernel {
    func: KernelFn,
    /// Where `func` is a speculative version: the full one, for the blocks it gives up on.
    full: Option<KernelFn>,
    keep_index: bool,
    src: SrcKind,
    nconsts: usize,
    /// [`divisor_consts`] of the shape.
    divisors: Vec<usize>,
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    _module: codegen::Module,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("keep_index", &self.keep_index)
            .finish_non_exhaustive()
    }
}

impl Kernel {
    /// Runs the stages over source elements `lo..lo + n` into `x` (and `i`), returning how many
    /// values were kept (they are at the front of `x`; a kernel compiled for a job that only
    /// counts writes nothing).
    ///
    /// Panics (before running any code) if `x` or `i` is shorter than `n`, if the source holds
    /// fewer than `lo + n` elements, or if the source's element type or the number of constants
    /// is not the shape's.
    #[inline]
    pub(crate) fn run(
        &self,
        consts: &[f64],
        source: &Source<'_>,
        lo: u64,
        n: usize,
        x: &mut [f64],
        i: &mut [f64],
    ) -> usize {
        assert!(x.len() >= n && (!self.keep_index || i.len() >= n));
        assert!(lo
            .checked_add(n as u64)
            .is_some_and(|end| end <= source.len()));
        assert!(SrcKind::of(source) == self.src && consts.len() == self.nconsts);
        let (src, start, step): (*const u8, f64, f64) = match *source {
            Source::F64(s) => (s.as_ptr().cast(), 0.0, 0.0),
            Source::F32(s) => (s.as_ptr().cast(), 0.0, 0.0),
            Source::I8(s) => (s.as_ptr().cast(), 0.0, 0.0),
            Source::U8(s) => (s.as_ptr().cast(), 0.0, 0.0),
            Source::I16(s) => (s.as_ptr().cast(), 0.0, 0.0),
            Source::U16(s) => (s.as_ptr().cast(), 0.0, 0.0),
            Source::I32(s) => (s.as_ptr().cast(), 0.0, 0.0),
            Source::U32(s) => (s.as_ptr().cast(), 0.0, 0.0),
            Source::Range { start, step, .. } => (std::ptr::null(), start, step),
        };
        let pairs = pairs(consts, &self.divisors, lo, start, step);
        let call = |f: KernelFn, x: &mut [f64], i: &mut [f64]| {
            // SAFETY: `f` is `func` or `full`, both compiled for this shape: this source's
            // element type and `consts.len()` constants (asserted above); it reads `consts`,
            // source elements `lo..lo + n` (in bounds, asserted above; nothing for a range) and
            // writes at most `n` values to `x` and, when it keeps the index, to `i` (both long
            // enough, asserted above); it reads at most `2 * PAIRS` values of `pairs` (its
            // size). It never traps and calls only the non-panicking shims of
            // `jit/shims.rs`. The module that holds the code lives as long as `self`.
            unsafe {
                f(
                    consts.as_ptr(),
                    src,
                    lo,
                    n as u64,
                    x.as_mut_ptr(),
                    i.as_mut_ptr(),
                    start,
                    step,
                    pairs.as_ptr(),
                )
            }
        };
        let mut kept = call(self.func, x, i);
        if kept == BAIL {
            if let Some(full) = self.full {
                // The speculative version met an element it leaves out: the full one redoes
                // the whole block (the outputs are rewritten from their start).
                kept = call(full, x, i);
            }
        }
        kept as usize
    }
}

/// The most shapes the cache keeps compiled.
pub const CACHE_SHAPES: usize = 256;

type Compiled = std::result::Result<Arc<Kernel>, String>;

#[derive(Default)]
struct Cache {
    map: HashMap<Shape, Compiled>,
    order: VecDeque<Shape>,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// How many shapes the cache holds now (tests).
pub fn cached_shapes() -> usize {
    cache().lock().map(|c| c.map.len()).unwrap_or(0)
}

/// The kernel for `pipeline`'s stages over `source` under `engine` (`counts_only`: for a job
/// that only counts the values that pass, so the kernel need not write them): `Ok(None)` where the
/// interpreter runs them (engine `Interp`, `Auto` while [`AUTO_JIT`] is false, no stages, no JIT
/// on this platform, or a shape that does not compile under `Auto`); an error only under `Jit`.
pub(crate) fn kernel_for(
    engine: Engine,
    pipeline: &Pipeline,
    source: &Source<'_>,
    keep_index: bool,
    counts_only: bool,
) -> Result<Option<Arc<Kernel>>> {
    let wanted = match engine {
        Engine::Jit => true,
        Engine::Auto => AUTO_JIT,
        Engine::Interp => false,
    };
    if !wanted || pipeline.stages.is_empty() {
        return Ok(None);
    }
    if !AVAILABLE {
        return match engine {
            Engine::Jit => Err(Error::new(
                Code::ParCompile,
                "the par JIT is not available on this platform",
            )),
            _ => Ok(None),
        };
    }
    let shape = Shape {
        src: SrcKind::of(source),
        keep_index,
        counts_only,
        nregs: pipeline.nregs,
        nconsts: pipeline.consts.len(),
        stages: pipeline.stages.clone(),
    };
    match get(shape) {
        Ok(k) => Ok(Some(k)),
        Err(msg) if engine == Engine::Jit => Err(Error::new(
            Code::ParCompile,
            format!("the par JIT cannot compile this pipeline: {msg}"),
        )),
        Err(_) => Ok(None),
    }
}

fn get(shape: Shape) -> Compiled {
    if let Some(hit) = cache().lock().ok().and_then(|c| c.map.get(&shape).cloned()) {
        return hit;
    }
    // Compile outside the lock (other shapes stay served meanwhile); a panic inside Cranelift is
    // a failed compile, never a crash.
    let compiled = std::panic::catch_unwind(|| compile(&shape))
        .unwrap_or_else(|_| Err("the code generator panicked".to_owned()));
    let Ok(mut c) = cache().lock() else {
        return compiled;
    };
    if let Some(raced) = c.map.get(&shape) {
        return raced.clone();
    }
    while c.map.len() >= CACHE_SHAPES {
        // Dropping the cache's Arc frees the module only once no job holds it.
        let Some(old) = c.order.pop_front() else {
            break;
        };
        c.map.remove(&old);
    }
    c.order.push_back(shape.clone());
    c.map.insert(shape, compiled.clone());
    compiled
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn compile(shape: &Shape) -> Compiled {
    let (fns, module) = codegen::compile(shape)?;
    Ok(Arc::new(Kernel {
        func: fns.first,
        full: fns.full,
        keep_index: shape.keep_index,
        src: shape.src,
        nconsts: shape.nconsts,
        divisors: divisor_consts(shape),
        _module: module,
    }))
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn compile(_: &Shape) -> Compiled {
    Err("the par JIT is not available on this platform".to_owned())
}
