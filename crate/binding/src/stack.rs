//! `NativeStack`: the JavaScript face of weft-core's shared `TreiberStack<Value>`.
//!
//! The TypeScript `SharedStack` classifies each value once and calls the matching `push*`
//! method, so no call needs a generic JS → Rust value walk.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weft_core::registry::{process_token, Registered};
use weft_core::shared::{self, ValueStack};
use weft_core::value::Value;

use crate::errors::{guard, WeftStatus};
use crate::value::{JsIn, JsOut, JsOutList};

/// A reference to a process-wide shared stack. Dropping the last reference on every thread frees
/// the stack and everything in it.
#[napi]
pub struct NativeStack {
    inner: Arc<Registered<ValueStack>>,
}

#[napi]
impl NativeStack {
    /// A new, empty stack.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            inner: shared::new_stack(),
        }
    }

    /// Attaches to the live stack with this id (from a handle made in this process).
    #[napi(factory)]
    pub fn attach(id: f64, token: u32) -> napi::Result<Self, WeftStatus> {
        guard(|| {
            let inner = shared::stacks().get(id as u64, token)?;
            Ok(Self { inner })
        })
    }

    #[napi(getter)]
    pub fn id(&self) -> f64 {
        self.inner.id() as f64
    }

    #[napi(getter)]
    pub fn token(&self) -> u32 {
        process_token()
    }

    /// `{ pushNumber, pushString, pushWire, pop }`: raw N-API functions bound to this stack, for the hot path
    /// (see `fast.rs` for `pushWire`'s and `pop`'s scratch buffers).
    #[napi(
        ts_return_type = "{ pushNumber(value: number): false | undefined; pushString(value: string): false | undefined; pushWire(bytes: Uint8Array, length: number): false | undefined; pop<S extends Uint8Array>(scratch?: S): S | number | string | boolean | null | bigint | undefined | [number, ArrayBuffer] }"
    )]
    pub fn fast_ops(&self, env: &Env) -> Result<Object<'_>> {
        // SAFETY: `env` is the live environment of this call, on its own thread.
        let raw = unsafe { crate::fast::value_ops(env.raw(), &self.inner) }?;
        // SAFETY: `raw` is an object value created in `env` just above.
        unsafe { Object::from_napi_value(env.raw(), raw) }
    }

    /// Pushes one encoded value (see `JsIn`).
    #[napi(
        ts_args_type = "value: number | string | boolean | null | bigint | [number, Uint8Array]"
    )]
    pub fn push(&self, value: JsIn) {
        self.inner.push(value.0);
    }

    /// Pushes encoded values as one atomic step (the last one ends on top).
    #[napi(
        ts_args_type = "values: Array<number | string | boolean | null | bigint | [number, Uint8Array]>"
    )]
    pub fn push_many(&self, values: Vec<JsIn>) -> f64 {
        self.inner.push_many(values.into_iter().map(|v| v.0)) as f64
    }

    /// Pushes a batch of numbers as one atomic step.
    #[napi]
    pub fn push_numbers(&self, values: &[f64]) -> f64 {
        self.inner
            .push_many(values.iter().map(|&n| Value::Number(n))) as f64
    }

    #[napi(
        ts_return_type = "number | string | boolean | null | bigint | undefined | [number, ArrayBuffer]"
    )]
    pub fn pop(&self) -> JsOut {
        JsOut(self.inner.pop())
    }

    #[napi(
        ts_return_type = "number | string | boolean | null | bigint | undefined | [number, ArrayBuffer]"
    )]
    pub fn peek(&self) -> JsOut {
        JsOut(self.inner.peek())
    }

    #[napi(
        ts_return_type = "Array<number | string | boolean | null | bigint | undefined | [number, ArrayBuffer]>"
    )]
    pub fn pop_many(&self, max: u32) -> JsOutList {
        JsOutList(self.inner.pop_many(max as usize))
    }

    #[napi(getter)]
    pub fn size(&self) -> f64 {
        self.inner.len() as f64
    }

    #[napi]
    pub fn clear(&self) -> f64 {
        self.inner.clear() as f64
    }

    /// How many shared stacks are alive in the process (for leak tests).
    #[napi]
    pub fn live_count() -> u32 {
        shared::stacks().live() as u32
    }
}

impl Default for NativeStack {
    fn default() -> Self {
        Self::new()
    }
}
