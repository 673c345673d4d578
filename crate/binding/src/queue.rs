//! `NativeQueue`: the JavaScript face of weft-core's shared `Queue<Value>`.
//!
//! Values cross as for `NativeStack` (the TypeScript layer classifies and encodes them; `fastOps`
//! are the same raw N-API calls). The async side is a wake-up per JavaScript object: `setWaker`
//! installs a callback (a weak threadsafe function into this thread's event loop) and
//! `waitForItem` / `waitForRoom` arm it; a push, a pop that frees room, or `close` on any thread
//! calls it, once per arming. The woken thread then pops (or pushes) itself.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weft_core::queue::{Pushed, Waiter};
use weft_core::registry::{process_token, Registered};
use weft_core::shared::{self, ValueQueue};
use weft_core::value::Value;

use crate::errors::{guard, to_js, WeftStatus};
use crate::pool::notifier;
use crate::value::{JsIn, JsOut, JsOutList};

/// A reference to a process-wide shared queue. Dropping the last reference on every thread frees
/// the queue and everything in it.
#[napi]
pub struct NativeQueue {
    inner: Arc<Registered<ValueQueue>>,
    /// This object's wake-ups: (for an item, for room), once `setWaker` has run.
    waiters: Option<(Arc<Waiter>, Arc<Waiter>)>,
}

/// A queue's counters (see weft-core's `QueueStats`).
#[napi(object)]
pub struct NativeQueueStats {
    pub size: f64,
    pub capacity: Option<f64>,
    pub waiting_pop: u32,
    pub waiting_push: u32,
    pub full: f64,
    pub wakes: f64,
    pub closed: bool,
}

#[napi]
impl NativeQueue {
    /// A new, empty queue: unbounded, or holding at most `capacity` values.
    #[napi(constructor)]
    pub fn new(capacity: Option<f64>) -> napi::Result<Self, WeftStatus> {
        guard(|| {
            let inner = shared::new_queue(capacity.map(|c| c as usize))?;
            Ok(Self {
                inner,
                waiters: None,
            })
        })
    }

    /// Attaches to the live queue with this id (from a handle made in this process).
    #[napi(factory)]
    pub fn attach(id: f64, token: u32) -> napi::Result<Self, WeftStatus> {
        guard(|| {
            let inner = shared::queues().get(id as u64, token)?;
            Ok(Self {
                inner,
                waiters: None,
            })
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

    /// `{ pushNumber, pushString, pushWire, pop }` bound to this queue (see `fast.rs`); a push
    /// returns `false` if the queue is full.
    #[napi(
        ts_return_type = "{ pushNumber(value: number): false | undefined; pushString(value: string): false | undefined; pushWire(bytes: Uint8Array, length: number): false | undefined; pop<S extends Uint8Array>(scratch?: S): S | number | string | boolean | null | bigint | undefined | [number, ArrayBuffer] }"
    )]
    pub fn fast_ops(&self, env: &Env) -> Result<Object<'_>> {
        // SAFETY: `env` is the live environment of this call, on its own thread.
        let raw = unsafe { crate::fast::value_ops(env.raw(), &self.inner) }?;
        // SAFETY: `raw` is an object value created in `env` just above.
        unsafe { Object::from_napi_value(env.raw(), raw) }
    }

    /// Pushes one encoded value; false if the queue is full.
    #[napi(
        ts_args_type = "value: number | string | boolean | null | bigint | [number, Uint8Array]"
    )]
    pub fn push(&self, value: JsIn) -> napi::Result<bool, WeftStatus> {
        guard(|| Ok(self.inner.push(value.0)? == Pushed::Queued))
    }

    /// Pushes encoded values in order until the queue is full; returns how many were pushed.
    #[napi(
        ts_args_type = "values: Array<number | string | boolean | null | bigint | [number, Uint8Array]>"
    )]
    pub fn push_many(&self, values: Vec<JsIn>) -> napi::Result<f64, WeftStatus> {
        guard(|| Ok(self.inner.push_many(values.into_iter().map(|v| v.0))? as f64))
    }

    /// Pushes numbers in order until the queue is full; returns how many were pushed.
    #[napi]
    pub fn push_numbers(&self, values: &[f64]) -> napi::Result<f64, WeftStatus> {
        guard(|| {
            Ok(self
                .inner
                .push_many(values.iter().map(|&n| Value::Number(n)))? as f64)
        })
    }

    #[napi(
        ts_return_type = "number | string | boolean | null | bigint | undefined | [number, ArrayBuffer]"
    )]
    pub fn pop(&self) -> JsOut {
        JsOut(self.inner.pop())
    }

    /// Takes up to `max` values: a `Float64Array` when they are all numbers (one copy, no value
    /// conversions), else an array of encoded values.
    #[napi(
        ts_return_type = "Float64Array | Array<number | string | boolean | null | bigint | [number, ArrayBuffer]>"
    )]
    pub fn pop_many(&self, max: u32) -> Either<Float64Array, JsOutList> {
        let values = self.inner.pop_many(max as usize);
        if values.iter().all(|v| matches!(v, Value::Number(_))) {
            let numbers = values
                .iter()
                .map(|v| match v {
                    Value::Number(n) => *n,
                    _ => f64::NAN, // unreachable: checked above
                })
                .collect::<Vec<f64>>();
            Either::A(Float64Array::new(numbers))
        } else {
            Either::B(JsOutList(values))
        }
    }

    #[napi(getter)]
    pub fn size(&self) -> f64 {
        self.inner.len() as f64
    }

    #[napi(getter)]
    pub fn capacity(&self) -> Option<f64> {
        self.inner.capacity().map(|c| c as f64)
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Whether a push would find room now.
    #[napi]
    pub fn has_room(&self) -> bool {
        self.inner.has_room()
    }

    /// Closed, no push in flight: once it is empty nothing more can come.
    #[napi]
    pub fn drained(&self) -> bool {
        self.inner.drained()
    }

    /// Closes the queue (false if it was closed already).
    #[napi]
    pub fn close(&self) -> bool {
        self.inner.close()
    }

    /// Installs this object's wake-up callback (once: later calls are ignored). It runs on this
    /// thread's event loop, at most once per `waitForItem` / `waitForRoom`; it never keeps the
    /// thread alive by itself.
    #[napi]
    pub fn set_waker(&mut self, callback: Function<'_, (), ()>) -> Result<()> {
        if self.waiters.is_none() {
            let notify = Arc::new(notifier(callback)?);
            let (a, b) = (notify.clone(), notify);
            self.waiters = Some((
                Waiter::new(Box::new(move || a())),
                Waiter::new(Box::new(move || b())),
            ));
        }
        Ok(())
    }

    /// Arms the wake-up for the next item (or `close`). Look again afterwards.
    #[napi]
    pub fn wait_for_item(&self) -> napi::Result<(), WeftStatus> {
        let (item, _) = self.waiters()?;
        self.inner.wait_for_item(item);
        Ok(())
    }

    /// Disarms this object's wake-ups (nothing of it waits any more).
    #[napi]
    pub fn stop_waiting(&self) {
        if let Some((item, room)) = &self.waiters {
            self.inner.stop_waiting(item);
            self.inner.stop_waiting(room);
        }
    }

    /// Arms the wake-up for room (or `close`). Try again afterwards.
    #[napi]
    pub fn wait_for_room(&self) -> napi::Result<(), WeftStatus> {
        let (_, room) = self.waiters()?;
        self.inner.wait_for_room(room);
        Ok(())
    }

    #[napi]
    pub fn stats(&self) -> NativeQueueStats {
        let s = self.inner.stats();
        NativeQueueStats {
            size: s.len as f64,
            capacity: s.capacity.map(|c| c as f64),
            waiting_pop: s.waiting_pop as u32,
            waiting_push: s.waiting_push as u32,
            full: s.full as f64,
            wakes: s.wakes as f64,
            closed: s.closed,
        }
    }

    /// How many shared queues are alive in the process (for leak tests).
    #[napi]
    pub fn live_count() -> u32 {
        shared::queues().live() as u32
    }
}

impl Drop for NativeQueue {
    fn drop(&mut self) {
        // Collected (or its thread is going away): the queue no longer holds its wake-ups.
        if let Some((item, room)) = &self.waiters {
            self.inner.stop_waiting(item);
            self.inner.stop_waiting(room);
        }
    }
}

impl NativeQueue {
    fn waiters(&self) -> napi::Result<(&Arc<Waiter>, &Arc<Waiter>), WeftStatus> {
        match &self.waiters {
            Some((a, b)) => Ok((a, b)),
            None => Err(to_js(weft_core::Error::new(
                weft_core::Code::InvalidArg,
                "setWaker must run before a wait",
            ))),
        }
    }
}
