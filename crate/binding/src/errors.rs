//! Mapping of weft-core errors and panics to JavaScript errors with a stable `code`.

use napi_derive::napi;
use weft_core::error::{self as core_error, Code};

/// The `status` of a napi error as weft uses it: the stable code string, which napi-rs puts in
/// the thrown error's `code` property.
#[derive(Clone, Copy, Debug)]
pub struct WeftStatus(pub Code);

impl AsRef<str> for WeftStatus {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

/// The result type of fallible binding calls (spelled `Result<T, WeftStatus>` at `#[napi]` items,
/// which napi-rs recognises by the name `Result`).
pub type WeftResult<T> = napi::Result<T, WeftStatus>;

pub(crate) fn to_js(e: core_error::Error) -> napi::Error<WeftStatus> {
    napi::Error::new(WeftStatus(e.code), e.message)
}

/// Runs one binding call, turning a panic into a `WEFT_PANIC` error instead of an abort.
pub(crate) fn guard<T>(f: impl FnOnce() -> core_error::Result<T>) -> WeftResult<T> {
    core_error::catch_panic(f).map_err(to_js)
}

/// Every error code weft can raise, in the order weft-core declares them.
#[napi(js_name = "errorCodes")]
pub fn error_codes() -> Vec<&'static str> {
    Code::ALL.iter().map(|c| c.as_str()).collect()
}

/// Panics inside a guarded call; used by the test suite to prove that a Rust panic becomes a
/// thrown `WEFT_PANIC` error and the process survives.
#[napi(js_name = "__panicForTest")]
pub fn panic_for_test(message: String) -> napi::Result<(), WeftStatus> {
    guard(|| panic!("{message}"))
}
