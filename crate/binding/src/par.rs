//! `par`: runs compiled pipelines over typed arrays and ranges (weft-core's `par` module).
//!
//! The source typed array is read in place, never copied. Off the main thread it stays borrowed
//! until the Promise settles: the job owns the napi reference to it (so it cannot be collected)
//! and hands it back to the main thread with the result. The caller must not write to it,
//! detach or resize its buffer meanwhile (the TypeScript layer documents this).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weft_core::error::{self as core_error, catch_panic, Code};
use weft_core::par::{self, Array, ArrayMut, ElemKind, Mode, Output, Pipeline, Source, Terminal};

use crate::errors::{to_js, WeftStatus};

/// A typed array of any kind `par` reads or writes, holding a reference to the JS object.
type AnyArray = Either9<
    Float64Array,
    Float32Array,
    Int32Array,
    Uint32Array,
    Int16Array,
    Uint16Array,
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
>;

/// What a terminal returns to JavaScript.
type Value = Either4<f64, bool, (), AnyArray>;

fn invalid(msg: impl Into<String>) -> core_error::Error {
    core_error::Error::new(Code::InvalidArg, msg)
}

fn source_of(a: &AnyArray) -> Source<'_> {
    match a {
        Either9::A(v) => Source::F64(v),
        Either9::B(v) => Source::F32(v),
        Either9::C(v) => Source::I32(v),
        Either9::D(v) => Source::U32(v),
        Either9::E(v) => Source::I16(v),
        Either9::F(v) => Source::U16(v),
        Either9::G(v) => Source::I8(v),
        Either9::H(v) => Source::U8(v),
        Either9::I(v) => Source::U8(v),
    }
}

/// The bytes an array views, as an address range.
fn span(a: &AnyArray) -> (usize, usize) {
    fn of<T>(s: &[T]) -> (usize, usize) {
        let start = s.as_ptr() as usize;
        (start, start + std::mem::size_of_val(s))
    }
    match a {
        Either9::A(v) => of(v),
        Either9::B(v) => of(v),
        Either9::C(v) => of(v),
        Either9::D(v) => of(v),
        Either9::E(v) => of(v),
        Either9::F(v) => of(v),
        Either9::G(v) => of(v),
        Either9::H(v) => of(v),
        Either9::I(v) => of(v),
    }
}

fn kind_of(a: &AnyArray) -> ElemKind {
    match a {
        Either9::A(_) => ElemKind::F64,
        Either9::B(_) => ElemKind::F32,
        Either9::C(_) => ElemKind::I32,
        Either9::D(_) => ElemKind::U32,
        Either9::E(_) => ElemKind::I16,
        Either9::F(_) => ElemKind::U16,
        Either9::G(_) => ElemKind::I8,
        Either9::H(_) => ElemKind::U8,
        Either9::I(_) => ElemKind::U8Clamped,
    }
}

fn out_array(a: Array) -> AnyArray {
    match a {
        Array::F64(v) => Either9::A(Float64Array::new(v)),
        Array::F32(v) => Either9::B(Float32Array::new(v)),
        Array::I32(v) => Either9::C(Int32Array::new(v)),
        Array::U32(v) => Either9::D(Uint32Array::new(v)),
        Array::I16(v) => Either9::E(Int16Array::new(v)),
        Array::U16(v) => Either9::F(Uint16Array::new(v)),
        Array::I8(v) => Either9::G(Int8Array::new(v)),
        Array::U8(v) => Either9::H(Uint8Array::new(v)),
        Array::U8Clamped(v) => Either9::I(Uint8ClampedArray::new(v)),
    }
}

/// Copies a computed array into `into` (used when `into` overlaps the source).
fn copy_into(from: &Array, into: ArrayMut<'_>) -> core_error::Result<usize> {
    fn copy<T: Copy>(from: &[T], to: &mut [T]) -> core_error::Result<usize> {
        if to.len() < from.len() {
            return Err(invalid(format!(
                "toArray({{ into }}): the output has room for {} values, the pipeline produced {}",
                to.len(),
                from.len()
            )));
        }
        to[..from.len()].copy_from_slice(from);
        Ok(from.len())
    }
    match (from, into) {
        (Array::F64(f), ArrayMut::F64(t)) => copy(f, t),
        (Array::F32(f), ArrayMut::F32(t)) => copy(f, t),
        (Array::I32(f), ArrayMut::I32(t)) => copy(f, t),
        (Array::U32(f), ArrayMut::U32(t)) => copy(f, t),
        (Array::I16(f), ArrayMut::I16(t)) => copy(f, t),
        (Array::U16(f), ArrayMut::U16(t)) => copy(f, t),
        (Array::I8(f), ArrayMut::I8(t)) => copy(f, t),
        (Array::U8(f), ArrayMut::U8(t)) => copy(f, t),
        (Array::U8Clamped(f), ArrayMut::U8Clamped(t)) => copy(f, t),
        _ => unreachable!("the array was computed for the kind of `into`"),
    }
}

/// A terminal code that panics while running, so that tests can check that a panic on weft's
/// threads becomes a `WEFT_PANIC` error and the process survives.
const PANIC_FOR_TEST: u32 = u32::MAX;

/// One terminal call: the decoded pipeline, what to compute, and the JS arrays it borrows.
struct Job {
    panic_for_test: bool,
    pipeline: Pipeline,
    terminal: Terminal,
    source: Option<AnyArray>,
    range: Option<(f64, f64, u64)>,
    into: Option<AnyArray>,
}

enum Done {
    Output(Output),
    Written(usize),
}

impl Job {
    #[allow(clippy::too_many_arguments)]
    fn new(
        source: Option<AnyArray>,
        range: Option<Vec<f64>>,
        code: &[u32],
        consts: &[f64],
        terminal: u32,
        arg: f64,
        kind: u32,
        into: Option<AnyArray>,
    ) -> core_error::Result<Job> {
        let pipeline = par::decode(code, consts)?;
        let elem = || ElemKind::from_code(kind).ok_or_else(|| invalid("unknown array kind"));
        let panic_for_test = terminal == PANIC_FOR_TEST;
        let terminal = match terminal {
            0 | PANIC_FOR_TEST => Terminal::Sum,
            1 => Terminal::Mean,
            2 => Terminal::Min,
            3 => Terminal::Max,
            4 => Terminal::Count,
            5 => Terminal::Reduce { init: arg },
            6 => Terminal::Some,
            7 => Terminal::Every,
            8 => Terminal::ToArray(elem()?),
            9 => Terminal::Sort {
                kind: elem()?,
                descending: arg != 0.0,
            },
            t => return Err(invalid(format!("unknown terminal {t}"))),
        };
        let range = match (&source, range) {
            (Some(_), None) => None,
            (None, Some(r)) => match r[..] {
                [start, step, len]
                    if start.is_finite()
                        && step.is_finite()
                        && (0.0..=9_007_199_254_740_992.0).contains(&len)
                        && len.fract() == 0.0 =>
                {
                    Some((start, step, len as u64))
                }
                _ => return Err(invalid("a range is [start, step, length]")),
            },
            _ => return Err(invalid("give either a source array or a range")),
        };
        if into.is_some() && !matches!(terminal, Terminal::ToArray(_)) {
            return Err(invalid("`into` is only for toArray"));
        }
        Ok(Job {
            panic_for_test,
            pipeline,
            terminal,
            source,
            range,
            into,
        })
    }

    fn source(&self) -> Source<'_> {
        match (&self.source, self.range) {
            (Some(a), _) => source_of(a),
            (None, Some((start, step, len))) => Source::Range { start, step, len },
            (None, None) => unreachable!("checked in Job::new"),
        }
    }

    fn execute(&mut self, mode: Mode) -> core_error::Result<Done> {
        if self.panic_for_test {
            panic!("par panic for test ({mode:?})");
        }
        let Some(into) = self.into.as_mut() else {
            return par::run(&self.pipeline, self.source(), self.terminal, mode).map(Done::Output);
        };
        let overlaps = self.source.as_ref().is_some_and(|s| {
            let (a0, a1) = span(s);
            let (b0, b1) = span(into);
            a0 < b1 && b0 < a1
        });
        let kind = kind_of(into);
        // SAFETY: `into` is a live typed array: the job holds a napi reference to it, so its
        // buffer stays allocated until the job is dropped on the main thread. The JS caller
        // promised (documented on `toArray({ into })`) not to touch it, detach or resize it while
        // the Promise is pending, so these are the only accesses to its memory meanwhile, and
        // when it overlaps the source it is written only after the source is read (below).
        let out = unsafe {
            match into {
                Either9::A(v) => ArrayMut::F64(v.as_mut()),
                Either9::B(v) => ArrayMut::F32(v.as_mut()),
                Either9::C(v) => ArrayMut::I32(v.as_mut()),
                Either9::D(v) => ArrayMut::U32(v.as_mut()),
                Either9::E(v) => ArrayMut::I16(v.as_mut()),
                Either9::F(v) => ArrayMut::U16(v.as_mut()),
                Either9::G(v) => ArrayMut::I8(v.as_mut()),
                Either9::H(v) => ArrayMut::U8(v.as_mut()),
                Either9::I(v) => ArrayMut::U8Clamped(v.as_mut()),
            }
        };
        let source = match (&self.source, self.range) {
            (Some(a), _) => source_of(a),
            (None, Some((start, step, len))) => Source::Range { start, step, len },
            (None, None) => unreachable!("checked in Job::new"),
        };
        if overlaps {
            // Compute first, then write: the output aliases the source.
            let Output::Array(a) = par::run(&self.pipeline, source, Terminal::ToArray(kind), mode)?
            else {
                unreachable!("toArray returns an array")
            };
            return copy_into(&a, out).map(Done::Written);
        }
        par::run_into(&self.pipeline, source, out, mode).map(Done::Written)
    }
}

fn value_of(done: Done) -> Value {
    match done {
        Done::Output(Output::Number(n)) => Either4::A(n),
        Done::Output(Output::Bool(b)) => Either4::B(b),
        Done::Output(Output::Nothing) => Either4::C(()),
        Done::Output(Output::Array(a)) => Either4::D(out_array(a)),
        Done::Written(n) => Either4::A(n as f64),
    }
}

/// Runs a pipeline on the calling thread (small inputs) and returns the terminal's value:
/// a number, a boolean, `undefined` (min/max of nothing), a typed array, or for `into` the
/// count written.
#[napi(
    js_name = "parRunSync",
    ts_args_type = "source: Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | null, range: number[] | null, code: Uint32Array, consts: Float64Array, terminal: number, arg: number, kind: number, into: Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | null",
    ts_return_type = "number | boolean | undefined | Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray"
)]
#[allow(clippy::too_many_arguments)]
pub fn par_run_sync(
    source: Option<AnyArray>,
    range: Option<Vec<f64>>,
    code: &[u32],
    consts: &[f64],
    terminal: u32,
    arg: f64,
    kind: u32,
    into: Option<AnyArray>,
) -> napi::Result<Value, WeftStatus> {
    catch_panic(|| {
        let mut job = Job::new(source, range, code, consts, terminal, arg, kind, into)?;
        job.execute(Mode::Inline)
    })
    .map(value_of)
    .map_err(to_js)
}

/// Runs a pipeline on weft's par threads and returns a Promise of the terminal's value (as
/// `parRunSync`). The Promise resolves, never rejects: a failure resolves to an `Error` whose
/// `code` is the weft code (the TypeScript layer rethrows it).
#[napi(
    js_name = "parRun",
    ts_args_type = "source: Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | null, range: number[] | null, code: Uint32Array, consts: Float64Array, terminal: number, arg: number, kind: number, into: Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | null",
    ts_return_type = "Promise<number | boolean | undefined | Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | Error>"
)]
#[allow(clippy::too_many_arguments)]
pub fn par_run<'env>(
    env: &'env Env,
    source: Option<AnyArray>,
    range: Option<Vec<f64>>,
    code: &[u32],
    consts: &[f64],
    terminal: u32,
    arg: f64,
    kind: u32,
    into: Option<AnyArray>,
) -> napi::Result<Object<'env>> {
    let (deferred, promise) = env.create_deferred()?;
    let job = catch_panic(|| Job::new(source, range, code, consts, terminal, arg, kind, into));
    par::spawn(move || {
        let (held, result) = match job {
            Ok(mut job) => {
                let result = catch_panic(|| job.execute(Mode::Parallel));
                (Some(job), result)
            }
            Err(e) => (None, Err(e)),
        };
        deferred.resolve(move |_env| {
            // Release the borrowed arrays here, on the main thread.
            drop(held);
            Ok(match result {
                Ok(done) => Either::A(value_of(done)),
                Err(e) => Either::B(to_js(e)),
            })
        });
    });
    Ok(promise)
}

/// The op names of the program format, in opcode order (the TypeScript compiler checks that
/// its table agrees).
#[napi(js_name = "parOpNames")]
pub fn par_op_names() -> Vec<&'static str> {
    par::Op::NAMES.to_vec()
}

/// The thread count of weft's par pool.
#[napi(js_name = "parThreads")]
pub fn par_threads() -> u32 {
    par::pool().current_num_threads() as u32
}
