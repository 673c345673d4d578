//! `par`: runs compiled pipelines over typed arrays and ranges (weft-core's `par` module).
//!
//! Node-API cannot pin an `ArrayBuffer`'s memory: while a terminal is pending, JavaScript may
//! detach its buffer (`transfer()`, `structuredClone`/`postMessage` with a transfer list) or
//! shrink it (`resize()`), which frees or unmaps the memory under weft's threads. So memory that
//! par threads touch after the call has returned is memory JavaScript cannot take away:
//!
//! - a source or `into` over a `SharedArrayBuffer` (it can be neither detached nor shrunk; a
//!   growable one only grows in place) is read or written in place;
//! - any other source is copied into Rust-owned memory during the call, on the main thread (one
//!   `memcpy`), and the terminal runs on the copy;
//! - any other `into` is filled on the main thread when the Promise settles, after weft looks the
//!   array up again: if it was detached or shrunk meanwhile the terminal rejects with
//!   `WEFT_INVALID_ARG` instead of writing;
//! - the synchronous path (`parRunSync`) reads and writes everything in place: no JavaScript
//!   runs until it returns.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::{check_status, sys};
use napi_derive::napi;
use std::sync::Arc;
use weft_core::error::{self as core_error, catch_panic, Code};
use weft_core::par::{
    self, Array, ArrayMut, Cancel, ElemKind, Mode, Output, Pipeline, Source, Terminal,
};

use crate::errors::{guard, to_js, WeftStatus};

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
type Value = Either4<f64, bool, (), OutArray>;

pub(crate) fn invalid(msg: impl Into<String>) -> core_error::Error {
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

/// How many elements an array has.
fn len_of(a: &AnyArray) -> usize {
    source_of(a).len() as usize
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

/// A computed array on its way out to JavaScript, as a typed array of its kind.
///
/// - A result of up to `COPY_MAX_BYTES` is copied into memory V8 allocates (like a
///   `new Float64Array(n)`). Handed out as external buffers over Rust `Vec`s, such results piled
///   up in the allocator: RSS reached 880 MB over 25,000 `toArray()` calls of 4,000 values and
///   870 MB at 16,000 values (mimalloc's small and medium pages, up to 128 KiB); copied, RSS stays
///   near 140 MB and the calls take a third of the time.
/// - A larger one stays in its `Vec` as an external buffer (no copy). Those did not pile up (RSS
///   about 150 MB at 20,000 values and more), and copying them made `toArray()` 1.6× slower at
///   30,000 values. Reporting their size to V8 (`napi_adjust_external_memory`) only made the GC
///   run more often: 1.6× slower at 1e5 and 1e6 values, for the same RSS.
pub struct OutArray(Array);

/// Results up to this size are copied into V8 memory; larger ones stay in Rust memory (see `OutArray`).
const COPY_MAX_BYTES: usize = 128 * 1024;

fn byte_len(a: &Array) -> usize {
    fn bytes<T>(v: &[T]) -> usize {
        std::mem::size_of_val(v)
    }
    match a {
        Array::F64(v) => bytes(v),
        Array::F32(v) => bytes(v),
        Array::I32(v) => bytes(v),
        Array::U32(v) => bytes(v),
        Array::I16(v) => bytes(v),
        Array::U16(v) => bytes(v),
        Array::I8(v) => v.len(),
        Array::U8(v) | Array::U8Clamped(v) => v.len(),
    }
}

impl ToNapiValue for OutArray {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        if byte_len(&val.0) > COPY_MAX_BYTES {
            // SAFETY: `env` is the live environment napi-rs passed to this conversion, on its
            // thread; each typed array takes its `Vec` over (freed when V8 finalizes it).
            return unsafe {
                match val.0 {
                    Array::F64(v) => Float64Array::to_napi_value(env, Float64Array::new(v)),
                    Array::F32(v) => Float32Array::to_napi_value(env, Float32Array::new(v)),
                    Array::I32(v) => Int32Array::to_napi_value(env, Int32Array::new(v)),
                    Array::U32(v) => Uint32Array::to_napi_value(env, Uint32Array::new(v)),
                    Array::I16(v) => Int16Array::to_napi_value(env, Int16Array::new(v)),
                    Array::U16(v) => Uint16Array::to_napi_value(env, Uint16Array::new(v)),
                    Array::I8(v) => Int8Array::to_napi_value(env, Int8Array::new(v)),
                    Array::U8(v) => Uint8Array::to_napi_value(env, Uint8Array::new(v)),
                    Array::U8Clamped(v) => {
                        Uint8ClampedArray::to_napi_value(env, Uint8ClampedArray::new(v))
                    }
                }
            };
        }
        let e = Env::from_raw(env);
        // SAFETY: `env` is the live environment napi-rs passed to this conversion, on its thread;
        // each slice was created in it just before and is converted at once.
        unsafe {
            match &val.0 {
                Array::F64(v) => {
                    ToNapiValue::to_napi_value(env, Float64ArraySlice::copy_from(&e, v)?)
                }
                Array::F32(v) => {
                    ToNapiValue::to_napi_value(env, Float32ArraySlice::copy_from(&e, v)?)
                }
                Array::I32(v) => {
                    ToNapiValue::to_napi_value(env, Int32ArraySlice::copy_from(&e, v)?)
                }
                Array::U32(v) => {
                    ToNapiValue::to_napi_value(env, Uint32ArraySlice::copy_from(&e, v)?)
                }
                Array::I16(v) => {
                    ToNapiValue::to_napi_value(env, Int16ArraySlice::copy_from(&e, v)?)
                }
                Array::U16(v) => {
                    ToNapiValue::to_napi_value(env, Uint16ArraySlice::copy_from(&e, v)?)
                }
                Array::I8(v) => ToNapiValue::to_napi_value(env, Int8ArraySlice::copy_from(&e, v)?),
                Array::U8(v) => ToNapiValue::to_napi_value(env, Uint8ArraySlice::copy_from(&e, v)?),
                Array::U8Clamped(v) => {
                    ToNapiValue::to_napi_value(env, Uint8ClampedSlice::copy_from(&e, v)?)
                }
            }
        }
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

/// A typed array argument and whether its memory is a `SharedArrayBuffer`'s.
pub struct Arg {
    array: AnyArray,
    shared: bool,
}

impl TypeName for Arg {
    fn type_name() -> &'static str {
        "TypedArray"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for Arg {}

impl FromNapiValue for Arg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: `env` and `value` are this call's, as `from_napi_value` requires of its caller.
        let array = unsafe { AnyArray::from_napi_value(env, value) }?;
        // SAFETY: as above; `value` is a typed array.
        let shared = unsafe { is_shared(env, value) }?;
        Ok(Arg { array, shared })
    }
}

/// Whether a typed array's memory is a `SharedArrayBuffer`'s.
///
/// # Safety
///
/// `env` and `value` are the current call's, and `value` is a typed array.
pub(crate) unsafe fn is_shared(env: sys::napi_env, value: sys::napi_value) -> napi::Result<bool> {
    let mut buffer = ptr::null_mut();
    // SAFETY: `value` is a typed array (the caller's promise); every out-parameter but the
    // buffer is null, which `napi_get_typedarray_info` allows.
    check_status!(unsafe {
        sys::napi_get_typedarray_info(
            env,
            value,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            &mut buffer,
            ptr::null_mut(),
        )
    })?;
    let mut plain = false;
    // SAFETY: `buffer` is the typed array's buffer, a live value of this call's scope.
    // `napi_is_arraybuffer` is V8's `IsArrayBuffer`, which is false for a SharedArrayBuffer
    // (an internal slot: no JavaScript can fake it).
    check_status!(unsafe { sys::napi_is_arraybuffer(env, buffer, &mut plain) })?;
    Ok(!plain)
}

/// An owned copy of a typed array's values (made on the main thread). An allocation failure is
/// an error, not an abort.
fn copy_of(a: &AnyArray) -> core_error::Result<Array> {
    Ok(match a {
        Either9::A(v) => Array::F64(copy(v)?),
        Either9::B(v) => Array::F32(copy(v)?),
        Either9::C(v) => Array::I32(copy(v)?),
        Either9::D(v) => Array::U32(copy(v)?),
        Either9::E(v) => Array::I16(copy(v)?),
        Either9::F(v) => Array::U16(copy(v)?),
        Either9::G(v) => Array::I8(copy(v)?),
        Either9::H(v) => Array::U8(copy(v)?),
        Either9::I(v) => Array::U8Clamped(copy(v)?),
    })
}

/// An owned copy of a source's values (a number or BigInt typed array's), made on the main
/// thread. An allocation failure is an error, not an abort.
pub(crate) fn copy<T: Copy>(s: &[T]) -> core_error::Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(s.len()).map_err(|_| {
        invalid(format!(
            "par cannot copy its source: {} bytes are not available (over a SharedArrayBuffer \
             the source is read in place, without a copy)",
            std::mem::size_of_val(s)
        ))
    })?;
    v.extend_from_slice(s);
    Ok(v)
}

/// Borrows a typed array's memory for writing.
///
/// # Safety
///
/// Nothing else may access the array's memory while the returned slice lives, and the memory
/// must stay allocated and mapped as long: either it is a SharedArrayBuffer's (which JavaScript
/// can neither detach nor shrink, and the caller holds a reference to the array) and JavaScript
/// keeps its promise not to touch it, or the caller is on the main thread and runs no
/// JavaScript meanwhile.
unsafe fn borrow_mut(a: &mut AnyArray) -> ArrayMut<'_> {
    // SAFETY: forwarded to the caller (see above).
    unsafe {
        match a {
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
    }
}

/// A terminal code that panics while running, so that tests can check that a panic on weft's
/// threads becomes a `WEFT_PANIC` error and the process survives.
const PANIC_FOR_TEST: u32 = u32::MAX;

/// Where a job reads its values.
enum Input {
    /// In place: the synchronous path, or a SharedArrayBuffer's memory.
    InPlace(AnyArray),
    /// A copy made during the call (taken when the job runs).
    Owned(Option<Array>),
    /// `start + k * step` for `k` in `0..len`.
    Range(f64, f64, u64),
}

impl Input {
    fn source(&self) -> Source<'_> {
        match self {
            Input::InPlace(a) => source_of(a),
            Input::Owned(Some(a)) => a.source(),
            Input::Owned(None) => unreachable!("the copy is taken only by a run without `into`"),
            &Input::Range(start, step, len) => Source::Range { start, step, len },
        }
    }
}

/// Where `toArray({ into })` writes.
enum Target {
    None,
    /// In place, while the job runs: the synchronous path, or a SharedArrayBuffer's memory.
    InPlace(AnyArray),
    /// On the main thread when the Promise settles (see [`Job::settle`]); `room` is the
    /// array's length at the call.
    OnSettle {
        array: AnyArray,
        room: usize,
    },
}

/// One terminal call: the decoded pipeline, what to compute, and the JS arrays it borrows.
struct Job {
    panic_for_test: bool,
    pipeline: Pipeline,
    terminal: Terminal,
    input: Input,
    /// A zip's other columns.
    cols: Vec<Input>,
    into: Target,
}

enum Done {
    Output(Output),
    Written(usize),
    /// Values for a `Target::OnSettle`, written by [`Job::settle`].
    Pending(Array),
}

impl Job {
    /// `in_place`: whether the job runs before the call returns (then it may touch any memory).
    #[allow(clippy::too_many_arguments)]
    fn new(
        source: Option<Arg>,
        range: Option<Vec<f64>>,
        cols: Option<Vec<Arg>>,
        code: &[u32],
        consts: &[f64],
        terminal: u32,
        arg: Either<f64, Vec<f64>>,
        kind: u32,
        into: Option<Arg>,
        in_place: bool,
    ) -> core_error::Result<Job> {
        let pipeline = par::decode(code, consts)?;
        // A terminal's numbers: one, or several (`histogram`: bins, min, max).
        let args = match arg {
            Either::A(v) => vec![v],
            Either::B(v) => v,
        };
        let nth = |k: usize| args.get(k).copied().unwrap_or(f64::NAN);
        let arg = nth(0);
        let count = |what: &str, v: f64| -> core_error::Result<u32> {
            if v.fract() == 0.0 && (1.0..=u32::MAX as f64).contains(&v) {
                Ok(v as u32)
            } else {
                Err(invalid(format!(
                    "{what} must be a positive integer, got {v}"
                )))
            }
        };
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
            10 => Terminal::ArgMin,
            11 => Terminal::ArgMax,
            12 => Terminal::Quantile(arg),
            13 => Terminal::Histogram {
                bins: count("histogram: bins", arg)?,
                lo: nth(1),
                hi: nth(2),
            },
            14 => Terminal::Group {
                keys: count("groupBy: keys", arg)?,
                agg: par::Agg::from_code(kind)
                    .ok_or_else(|| invalid("unknown groupBy aggregation"))?,
            },
            t => return Err(invalid(format!("unknown terminal {t}"))),
        };
        if into.is_some() && !matches!(terminal, Terminal::ToArray(_)) {
            return Err(invalid("`into` is only for toArray"));
        }
        let input = match (source, range) {
            (Some(a), None) if in_place || a.shared => Input::InPlace(a.array),
            // The JS reference is released here, on the main thread: the job needs only the copy.
            (Some(a), None) => Input::Owned(Some(copy_of(&a.array)?)),
            (None, Some(r)) => match r[..] {
                [start, step, len]
                    if start.is_finite()
                        && step.is_finite()
                        && (0.0..=9_007_199_254_740_992.0).contains(&len)
                        && len.fract() == 0.0 =>
                {
                    Input::Range(start, step, len as u64)
                }
                _ => return Err(invalid("a range is [start, step, length]")),
            },
            _ => return Err(invalid("give either a source array or a range")),
        };
        let cols = cols
            .unwrap_or_default()
            .into_iter()
            .map(|a| {
                Ok(if in_place || a.shared {
                    Input::InPlace(a.array)
                } else {
                    Input::Owned(Some(copy_of(&a.array)?))
                })
            })
            .collect::<core_error::Result<Vec<Input>>>()?;
        let into = match into {
            None => Target::None,
            Some(a) if in_place || a.shared => Target::InPlace(a.array),
            Some(a) => Target::OnSettle {
                room: len_of(&a.array),
                array: a.array,
            },
        };
        Ok(Job {
            panic_for_test,
            pipeline,
            terminal,
            input,
            cols,
            into,
        })
    }

    fn execute(&mut self, mode: Mode) -> core_error::Result<Done> {
        if self.panic_for_test {
            panic!("par panic for test ({mode:?})");
        }
        let cols: Vec<Source<'_>> = self.cols.iter().map(Input::source).collect();
        let into = match &mut self.into {
            Target::None => {
                if !cols.is_empty() {
                    return par::run_zip(
                        &self.pipeline,
                        self.input.source(),
                        &cols,
                        self.terminal,
                        mode,
                    )
                    .map(Done::Output);
                }
                if let Input::Owned(copy) = &mut self.input {
                    // The copy is the job's own: a toArray or sort without stages can return it.
                    let copy = copy.take().expect("a job runs once");
                    return par::run_owned(&self.pipeline, copy, self.terminal, mode)
                        .map(Done::Output);
                }
                return par::run(&self.pipeline, self.input.source(), self.terminal, mode)
                    .map(Done::Output);
            }
            Target::OnSettle { array, .. } => {
                let kind = kind_of(array);
                let Output::Array(a) = par::run_zip(
                    &self.pipeline,
                    self.input.source(),
                    &cols,
                    Terminal::ToArray(kind),
                    mode,
                )?
                else {
                    unreachable!("toArray returns an array")
                };
                return Ok(Done::Pending(a));
            }
            Target::InPlace(into) => into,
        };
        let (b0, b1) = span(into);
        let overlaps = std::iter::once(&self.input)
            .chain(&self.cols)
            .any(|input| match input {
                Input::InPlace(s) => {
                    let (a0, a1) = span(s);
                    a0 < b1 && b0 < a1
                }
                _ => false,
            });
        let kind = kind_of(into);
        // SAFETY: `into` is in place only on the synchronous path (no JavaScript runs until the
        // call returns) or over a SharedArrayBuffer: its memory stays allocated while the job
        // holds its napi reference (dropped on the main thread after the job), and stays where
        // it is, at least as long as at the call (a SharedArrayBuffer can neither be detached
        // nor shrunk; a growable one grows in place). The JS caller promised (documented on
        // `toArray({ into })`) not to touch it while the Promise is pending. When it overlaps
        // the source it is written only after the source is read (below).
        let out = unsafe { borrow_mut(into) };
        let source = self.input.source();
        if overlaps {
            // Compute first, then write: the output aliases the source.
            let Output::Array(a) =
                par::run_zip(&self.pipeline, source, &cols, Terminal::ToArray(kind), mode)?
            else {
                unreachable!("toArray returns an array")
            };
            return copy_into(&a, out).map(Done::Written);
        }
        par::run_into_zip(&self.pipeline, source, &cols, out, mode).map(Done::Written)
    }

    /// On the main thread, when the Promise settles: writes the values of a `Target::OnSettle`
    /// into the array as it is now (JavaScript may have detached, shrunk or grown it meanwhile).
    fn settle(&mut self, env: &Env, done: Done) -> core_error::Result<Done> {
        let Done::Pending(values) = done else {
            return Ok(done);
        };
        let Target::OnSettle { array, room } = std::mem::replace(&mut self.into, Target::None)
        else {
            unreachable!("only an OnSettle target leaves values pending")
        };
        let napi_err = |e: napi::Error| core_error::Error::new(Code::Panic, e.to_string());
        // SAFETY: `env` is the main thread's, in the Promise's resolve callback; `array` holds a
        // reference created in that env, which this turns back into the JS value (and deletes).
        let value = unsafe { AnyArray::to_napi_value(env.raw(), array) }.map_err(napi_err)?;
        // SAFETY: `value` is the typed array just looked up, a live value of this scope; the
        // conversion reads its buffer's current data pointer and length.
        let mut now = unsafe { AnyArray::from_napi_value(env.raw(), value) }.map_err(napi_err)?;
        let len = values.len();
        let have = len_of(&now);
        if have < len {
            let mut msg = format!(
                "toArray({{ into }}): the output has room for {have} values, the pipeline produced {len}"
            );
            if room >= len {
                msg.push_str(
                    " (its buffer was detached or shrunk while the terminal was pending; nothing was written)",
                );
            }
            return Err(invalid(msg));
        }
        // SAFETY: on the main thread, inside a napi callback: no JavaScript runs until this
        // returns, and `now` describes the array's memory as it is at this moment.
        let out = unsafe { borrow_mut(&mut now) };
        copy_into(&values, out).map(Done::Written)
    }
}

fn value_of(done: Done) -> Value {
    match done {
        Done::Output(Output::Number(n)) => Either4::A(n),
        Done::Output(Output::Bool(b)) => Either4::B(b),
        Done::Output(Output::Nothing) => Either4::C(()),
        Done::Output(Output::Array(a)) => Either4::D(OutArray(a)),
        Done::Written(n) => Either4::A(n as f64),
        Done::Pending(_) => unreachable!("settled before it reaches JavaScript"),
    }
}

/// Runs a pipeline on the calling thread (small inputs) and returns the terminal's value:
/// a number, a boolean, `undefined` (min/max of nothing), a typed array, or for `into` the
/// count written. Everything is read and written in place: no JavaScript runs meanwhile.
#[napi(
    js_name = "parRunSync",
    ts_args_type = "source: Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | null, range: number[] | null, cols: Array<Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray> | null, code: Uint32Array, consts: Float64Array, terminal: number, arg: number | number[], kind: number, into: Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | null",
    ts_return_type = "number | boolean | undefined | Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray"
)]
#[allow(clippy::too_many_arguments)]
pub fn par_run_sync(
    source: Option<Arg>,
    range: Option<Vec<f64>>,
    cols: Option<Vec<Arg>>,
    code: &[u32],
    consts: &[f64],
    terminal: u32,
    arg: Either<f64, Vec<f64>>,
    kind: u32,
    into: Option<Arg>,
) -> napi::Result<Value, WeftStatus> {
    catch_panic(|| {
        let mut job = Job::new(
            source, range, cols, code, consts, terminal, arg, kind, into, true,
        )?;
        job.execute(Mode::Inline)
    })
    .map(value_of)
    .map_err(to_js)
}

/// The cancellation flag of one `parRun` job (the TypeScript layer sets it when the terminal's
/// AbortSignal aborts): chunks that start afterwards do nothing and the job resolves to a
/// `WEFT_ABORTED` error.
#[napi(js_name = "ParCancel")]
pub struct ParCancel {
    inner: Arc<Cancel>,
}

#[napi]
impl ParCancel {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> ParCancel {
        ParCancel {
            inner: Arc::new(Cancel::new()),
        }
    }

    /// Stops the job between chunks.
    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}

impl ParCancel {
    /// The flag, for a job.
    pub(crate) fn inner(&self) -> Arc<Cancel> {
        self.inner.clone()
    }
}

/// Runs a pipeline on weft's par threads and returns a Promise of the terminal's value (as
/// `parRunSync`). The Promise resolves, never rejects: a failure resolves to an `Error` whose
/// `code` is the weft code (the TypeScript layer rethrows it). Memory JavaScript could take away
/// meanwhile is not touched off the main thread (see the module's documentation).
#[napi(
    js_name = "parRun",
    ts_args_type = "source: Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | null, range: number[] | null, cols: Array<Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray> | null, code: Uint32Array, consts: Float64Array, terminal: number, arg: number | number[], kind: number, into: Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | null, cancel: ParCancel | null",
    ts_return_type = "Promise<number | boolean | undefined | Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | Error>"
)]
#[allow(clippy::too_many_arguments)]
pub fn par_run<'env>(
    env: &'env Env,
    source: Option<Arg>,
    range: Option<Vec<f64>>,
    cols: Option<Vec<Arg>>,
    code: &[u32],
    consts: &[f64],
    terminal: u32,
    arg: Either<f64, Vec<f64>>,
    kind: u32,
    into: Option<Arg>,
    cancel: Option<&ParCancel>,
) -> napi::Result<Object<'env>> {
    let cancel = cancel.map(|c| c.inner.clone());
    let (deferred, promise) = env.create_deferred()?;
    let job = catch_panic(|| {
        Job::new(
            source, range, cols, code, consts, terminal, arg, kind, into, false,
        )
    });
    par::spawn(move || {
        let (held, result) = match job {
            Ok(mut job) => {
                let result =
                    catch_panic(|| par::cancel_scope(cancel, || job.execute(Mode::Parallel)));
                // Free a copy of the source here, off the main thread.
                if let Input::Owned(copy) = &mut job.input {
                    drop(copy.take());
                }
                (Some(job), result)
            }
            Err(e) => (None, Err(e)),
        };
        deferred.resolve(move |env| {
            let result = match (held, result) {
                (Some(mut job), Ok(done)) => {
                    let settled = catch_panic(|| job.settle(&env, done));
                    // Release the borrowed arrays here, on the main thread.
                    drop(job);
                    settled
                }
                (held, result) => {
                    drop(held);
                    result
                }
            };
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

/// The engine that runs `par` stages in this process (`"jit"` or `"interp"`), after choosing
/// `engine` (`"auto"`, `"jit"` or `"interp"`) when given; `WEFT_PAR_ENGINE` sets the default.
/// For tests and benchmarks.
#[napi(js_name = "parEngine")]
pub fn par_engine(engine: Option<String>) -> napi::Result<String, WeftStatus> {
    guard(|| {
        if let Some(e) = engine {
            par::jit::set_engine_named(&e)?;
        }
        Ok(par::jit::resolved().name().to_owned())
    })
}

/// The thread count of weft's par pool.
#[napi(js_name = "parThreads")]
pub fn par_threads() -> u32 {
    par::pool().current_num_threads() as u32
}
