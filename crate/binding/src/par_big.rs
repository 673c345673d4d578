//! `par` over `BigInt64Array` and `BigUint64Array` sources (weft-core's `par::run_big`): exact
//! sums, min, max, count and sort, with BigInt results.
//!
//! The same memory rule as `par.rs`: a source over a `SharedArrayBuffer` is read in place; any
//! other is copied during the call, on the main thread, since JavaScript may detach or shrink
//! its buffer while the job runs.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use weft_core::error::{self as core_error, catch_panic};
use weft_core::par::{self, BigOutput, BigOwned, BigSource, BigTerminal, Cancel, Mode};

use crate::errors::{to_js, WeftStatus};
use crate::par::{copy, invalid, is_shared, ParCancel};

/// A `BigInt64Array` or `BigUint64Array` argument and whether its memory is shared.
pub struct BigArg {
    array: Either<BigInt64Array, BigUint64Array>,
    shared: bool,
}

impl TypeName for BigArg {
    fn type_name() -> &'static str {
        "BigInt64Array | BigUint64Array"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for BigArg {}

impl FromNapiValue for BigArg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: `env` and `value` are this call's, as `from_napi_value` requires of its caller.
        let array =
            unsafe { Either::<BigInt64Array, BigUint64Array>::from_napi_value(env, value) }?;
        // SAFETY: as above; `value` is a typed array (converted just above).
        let shared = unsafe { is_shared(env, value) }?;
        Ok(BigArg { array, shared })
    }
}

/// Where a job reads: the JS array in place, or a copy made during the call.
enum BigInput {
    InPlace(Either<BigInt64Array, BigUint64Array>),
    Owned(BigOwned),
}

impl BigInput {
    fn new(arg: BigArg, in_place: bool) -> core_error::Result<BigInput> {
        if in_place || arg.shared {
            return Ok(BigInput::InPlace(arg.array));
        }
        Ok(BigInput::Owned(match &arg.array {
            Either::A(a) => BigOwned::I64(copy(a)?),
            Either::B(a) => BigOwned::U64(copy(a)?),
        }))
    }

    /// Runs `terminal`: a sort of the job's own copy sorts it in place (taking it; a job runs
    /// once). A JS array stays held, to be released on the main thread.
    fn run(&mut self, terminal: BigTerminal, mode: Mode) -> core_error::Result<BigOutput> {
        if let (BigInput::Owned(v), BigTerminal::Sort { descending }) = (&mut *self, terminal) {
            let owned = std::mem::replace(v, BigOwned::I64(Vec::new()));
            return par::sort_big_owned(owned, descending, mode);
        }
        par::run_big(self.source(), terminal, mode)
    }

    fn source(&self) -> BigSource<'_> {
        match self {
            BigInput::InPlace(Either::A(a)) => BigSource::I64(a),
            BigInput::InPlace(Either::B(a)) => BigSource::U64(a),
            BigInput::Owned(v) => v.source(),
        }
    }
}

fn terminal_of(code: u32, descending: bool) -> core_error::Result<BigTerminal> {
    Ok(match code {
        0 => BigTerminal::Sum,
        2 => BigTerminal::Min,
        3 => BigTerminal::Max,
        4 => BigTerminal::Count,
        9 => BigTerminal::Sort { descending },
        t => {
            return Err(invalid(format!(
                "terminal {t} is not one of a BigInt source"
            )))
        }
    })
}

type BigValue = Either5<BigInt, (), f64, BigInt64Array, BigUint64Array>;

fn big_value(out: BigOutput) -> BigValue {
    match out {
        BigOutput::Signed(v) => Either5::A(BigInt::from(v)),
        BigOutput::Unsigned(v) => Either5::A(BigInt::from(v)),
        BigOutput::Nothing => Either5::B(()),
        BigOutput::Count(n) => Either5::C(n as f64),
        BigOutput::I64(v) => Either5::D(BigInt64Array::new(v)),
        BigOutput::U64(v) => Either5::E(BigUint64Array::new(v)),
    }
}

/// Runs a terminal over a BigInt source on the calling thread: a bigint (`sum`, `min`, `max`),
/// `undefined` (`min`/`max` of nothing), a number (`count`) or a sorted array.
#[napi(
    js_name = "parBigRunSync",
    ts_args_type = "source: BigInt64Array | BigUint64Array, terminal: number, descending: boolean",
    ts_return_type = "bigint | undefined | number | BigInt64Array | BigUint64Array"
)]
pub fn par_big_run_sync(
    source: BigArg,
    terminal: u32,
    descending: bool,
) -> napi::Result<BigValue, WeftStatus> {
    catch_panic(|| {
        let input = BigInput::new(source, true)?;
        par::run_big(
            input.source(),
            terminal_of(terminal, descending)?,
            Mode::Inline,
        )
    })
    .map(big_value)
    .map_err(to_js)
}

/// Runs a terminal over a BigInt source on weft's par threads; the Promise resolves to the
/// value (as `parBigRunSync`) or to an `Error` whose `code` is the weft code.
#[napi(
    js_name = "parBigRun",
    ts_args_type = "source: BigInt64Array | BigUint64Array, terminal: number, descending: boolean, cancel: ParCancel | null",
    ts_return_type = "Promise<bigint | undefined | number | BigInt64Array | BigUint64Array | Error>"
)]
pub fn par_big_run<'env>(
    env: &'env Env,
    source: BigArg,
    terminal: u32,
    descending: bool,
    cancel: Option<&ParCancel>,
) -> napi::Result<Object<'env>> {
    let cancel: Option<Arc<Cancel>> = cancel.map(|c| c.inner());
    let (deferred, promise) = env.create_deferred()?;
    let job = catch_panic(|| {
        Ok((
            BigInput::new(source, false)?,
            terminal_of(terminal, descending)?,
        ))
    });
    par::spawn(move || {
        let (held, result) = match job {
            Ok((mut input, t)) => {
                let result =
                    catch_panic(|| par::cancel_scope(cancel, || input.run(t, Mode::Parallel)));
                (Some(input), result)
            }
            Err(e) => (None, Err(e)),
        };
        deferred.resolve(move |_env| {
            // Release a borrowed JS array here, on the main thread.
            drop(held);
            Ok(match result {
                Ok(out) => Either::A(big_value(out)),
                Err(e) => Either::B(to_js(e)),
            })
        });
    });
    Ok(promise)
}
