//! `NativeMap`: the JavaScript face of weft-core's shared `ValueMap`.
//!
//! Keys are JavaScript numbers, strings and bigints; values cross as for `NativeStack` (the
//! TypeScript layer classifies and encodes them). The hot calls (`get`, `set` of a primitive or of
//! wire bytes, `has`, `delete`) are raw N-API functions bound to the map (`fastOps`, the same
//! machinery as the stack's and queue's, `fast.rs`); the rest go through napi-rs.

use std::ptr;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use weft_core::error::{catch_panic, Code};
use weft_core::map::{Key, ValueMap};
use weft_core::registry::{process_token, Registered};
use weft_core::shared;
use weft_core::value::Value;

use crate::errors::{guard, WeftStatus};
use crate::fast::{args, ops_object, throw, uint8_array, utf8_string, value_out, Callback};
use crate::value::{JsIn, JsOut};

type Shared = Registered<ValueMap>;

/// A reference to a process-wide shared map. Dropping the last reference on every thread frees
/// the map and everything in it.
#[napi]
pub struct NativeMap {
    inner: Arc<Shared>,
}

/// A map's counters (see weft-core's `MapStats`).
#[napi(object)]
pub struct NativeMapStats {
    pub size: f64,
    pub capacity: Option<f64>,
    pub hits: f64,
    pub misses: f64,
    pub evictions: f64,
    pub cas_failures: f64,
}

/// A key as it comes in from JavaScript.
pub struct JsKey(pub Key);

/// Reads a key (number, string or bigint), or says what is wrong with it.
///
/// # Safety
/// `env` must be the live environment of the current call and `v` one of its values.
unsafe fn key_of(env: sys::napi_env, v: sys::napi_value) -> std::result::Result<Key, &'static str> {
    let mut ty = 0;
    // SAFETY: `env` and `v` are live (this function's contract); `ty` is a valid out-pointer.
    if unsafe { sys::napi_typeof(env, v, &mut ty) } != sys::Status::napi_ok {
        return Err("a SharedMap key must be a string, a number or a bigint");
    }
    match ty {
        sys::ValueType::napi_number => {
            let mut n = 0f64;
            // SAFETY: `v` is a number of `env`; `n` is a valid out-pointer.
            unsafe { sys::napi_get_value_double(env, v, &mut n) };
            Ok(Key::number(n))
        }
        sys::ValueType::napi_string => {
            // SAFETY: `v` is a string of `env`.
            unsafe { utf8_string(env, v) }
                .map(|s| Key::String(s.into()))
                .ok_or("a SharedMap key string could not be read")
        }
        sys::ValueType::napi_bigint => {
            // SAFETY: `env` and `v` are live and `v` is a bigint.
            let b = unsafe { BigInt::from_napi_value(env, v) }
                .map_err(|_| "a SharedMap bigint key could not be read")?;
            Ok(Key::bigint(b.sign_bit, &b.words))
        }
        _ => Err("a SharedMap key must be a string, a number or a bigint"),
    }
}

impl FromNapiValue for JsKey {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        // SAFETY: forwarded contract of `from_napi_value`.
        unsafe { key_of(env, v) }
            .map(JsKey)
            .map_err(|m| Error::new(Status::InvalidArg, m.to_owned()))
    }
}

impl TypeName for JsKey {
    fn type_name() -> &'static str {
        "MapKey"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for JsKey {}

/// A key on its way out to JavaScript.
pub struct JsKeyOut(pub Key);

impl ToNapiValue for JsKeyOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY: `env` is the live environment napi-rs passed to this conversion.
        unsafe {
            match val.0 {
                Key::Number(n) => f64::to_napi_value(env, n),
                Key::String(s) => <&str>::to_napi_value(env, &s),
                Key::BigInt { negative, words } => BigInt::to_napi_value(
                    env,
                    BigInt {
                        sign_bit: negative,
                        words: if words.is_empty() {
                            vec![0]
                        } else {
                            words.to_vec()
                        },
                    },
                ),
            }
        }
    }
}

fn ttl_of(ttl_ms: Option<f64>) -> Option<Duration> {
    ttl_ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))
}

#[napi]
impl NativeMap {
    /// A new, empty map: plain, or bounded to about `capacity` entries and/or expiring its entries
    /// `ttlMs` after they are set.
    #[napi(constructor)]
    pub fn new(capacity: Option<f64>, ttl_ms: Option<f64>) -> napi::Result<Self, WeftStatus> {
        guard(|| {
            let inner = shared::new_map(capacity.map(|c| c as u64), ttl_of(ttl_ms))?;
            Ok(Self { inner })
        })
    }

    /// Attaches to the live map with this id (from a handle made in this process).
    #[napi(factory)]
    pub fn attach(id: f64, token: u32) -> napi::Result<Self, WeftStatus> {
        guard(|| {
            let inner = shared::maps().get(id as u64, token)?;
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

    /// Its capacity, if bounded.
    #[napi(getter)]
    pub fn capacity(&self) -> Option<f64> {
        self.inner.capacity().map(|c| c as f64)
    }

    /// Whether entries may carry a TTL (made with a capacity or a TTL).
    #[napi(getter)]
    pub fn expiring(&self) -> bool {
        self.inner.expiring()
    }

    /// `{ get, set, setWire, has, delete }` bound to this map (raw N-API functions).
    #[napi(
        ts_return_type = "{ get<S extends Uint8Array>(key: string | number | bigint, scratch?: S): S | number | string | boolean | null | bigint | undefined | [number, ArrayBuffer]; set(key: string | number | bigint, value: number | string | boolean | null): void; setWire(key: string | number | bigint, bytes: Uint8Array, length: number): void; has(key: string | number | bigint): boolean; delete(key: string | number | bigint): boolean }"
    )]
    pub fn fast_ops(&self, env: &Env) -> Result<Object<'_>> {
        let env = env.raw();
        let ops = [
            (c"get", map_get as Callback),
            (c"set", map_set as Callback),
            (c"setWire", map_set_wire as Callback),
            (c"has", map_has as Callback),
            (c"delete", map_delete as Callback),
        ];
        // SAFETY: `env` is the live environment of this call, on its own thread.
        let object = unsafe { ops_object(env, &ops, &self.inner) }?;
        // SAFETY: `object` is an object value created in `env` just above.
        unsafe { Object::from_napi_value(env, object) }
    }

    /// Sets `key` to an encoded value, with its own TTL (a bounded or expiring map only).
    #[napi(
        ts_args_type = "key: string | number | bigint, value: number | string | boolean | null | bigint | [number, Uint8Array], ttlMs?: number"
    )]
    pub fn set(
        &self,
        key: JsKey,
        value: JsIn,
        ttl_ms: Option<f64>,
    ) -> napi::Result<(), WeftStatus> {
        guard(|| self.inner.set(key.0, value.0, ttl_of(ttl_ms)))
    }

    #[napi(
        ts_args_type = "key: string | number | bigint",
        ts_return_type = "number | string | boolean | null | bigint | undefined | [number, ArrayBuffer]"
    )]
    pub fn get(&self, key: JsKey) -> JsOut {
        JsOut(self.inner.get(&key.0))
    }

    /// Adds `delta` to the number at `key` (absent: 0); returns the sum.
    #[napi(ts_args_type = "key: string | number | bigint, delta: number")]
    pub fn increment(&self, key: JsKey, delta: f64) -> napi::Result<f64, WeftStatus> {
        guard(|| self.inner.increment(key.0, delta))
    }

    /// Sets `key` to `next` if its value is `expected` (`hasExpected` false: if it has none).
    #[napi(
        ts_args_type = "key: string | number | bigint, hasExpected: boolean, expected: number | string | boolean | null | bigint | [number, Uint8Array], next: number | string | boolean | null | bigint | [number, Uint8Array], ttlMs?: number"
    )]
    pub fn compare_and_set(
        &self,
        key: JsKey,
        has_expected: bool,
        expected: JsIn,
        next: JsIn,
        ttl_ms: Option<f64>,
    ) -> napi::Result<bool, WeftStatus> {
        guard(|| {
            let expected = has_expected.then_some(&expected.0);
            self.inner
                .compare_and_set(key.0, expected, next.0, ttl_of(ttl_ms))
        })
    }

    /// The value of `key`, set to `value` first if it has none.
    #[napi(
        ts_args_type = "key: string | number | bigint, value: number | string | boolean | null | bigint | [number, Uint8Array], ttlMs?: number",
        ts_return_type = "number | string | boolean | null | bigint | [number, ArrayBuffer]"
    )]
    pub fn get_or_insert(
        &self,
        key: JsKey,
        value: JsIn,
        ttl_ms: Option<f64>,
    ) -> napi::Result<JsOut, WeftStatus> {
        guard(|| {
            let v = self.inner.get_or_insert(key.0, value.0, ttl_of(ttl_ms))?;
            Ok(JsOut(Some(v)))
        })
    }

    #[napi(getter)]
    pub fn size(&self) -> f64 {
        self.inner.len() as f64
    }

    #[napi]
    pub fn clear(&self) {
        self.inner.clear()
    }

    /// A snapshot of every entry: `[key, value, key, value, ...]`.
    #[napi(
        ts_return_type = "Array<string | number | bigint | number | string | boolean | null | [number, ArrayBuffer]>"
    )]
    pub fn entries<'e>(&self, env: &'e Env) -> Result<Array<'e>> {
        let entries = self.inner.entries();
        let mut array = env.create_array((entries.len() * 2) as u32)?;
        for (i, (k, v)) in entries.into_iter().enumerate() {
            array.set((2 * i) as u32, JsKeyOut(k))?;
            array.set((2 * i + 1) as u32, JsOut(Some(v)))?;
        }
        Ok(array)
    }

    #[napi]
    pub fn stats(&self) -> NativeMapStats {
        let s = self.inner.stats();
        NativeMapStats {
            size: s.len as f64,
            capacity: s.capacity.map(|c| c as f64),
            hits: s.hits as f64,
            misses: s.misses as f64,
            evictions: s.evictions as f64,
            cas_failures: s.cas_failures as f64,
        }
    }

    /// How many shared maps are alive in the process (for leak tests).
    #[napi]
    pub fn live_count() -> u32 {
        shared::maps().live() as u32
    }
}

/// The key argument, or a thrown `WEFT_INVALID_ARG` (`Err` holds what to return).
///
/// # Safety
/// `env` must be the live environment of the current callback and `v` one of its values.
unsafe fn key_arg(
    env: sys::napi_env,
    v: sys::napi_value,
) -> std::result::Result<Key, sys::napi_value> {
    // SAFETY: forwarded contract.
    unsafe { key_of(env, v) }.map_err(|m| {
        // SAFETY: `env` is the live environment of the current callback.
        unsafe { throw(env, Code::InvalidArg, m) }
    })
}

/// A JavaScript boolean.
///
/// # Safety
/// `env` must be the live environment of the current callback.
unsafe fn boolean(env: sys::napi_env, b: bool) -> sys::napi_value {
    let mut value = ptr::null_mut();
    // SAFETY: `env` is live; `value` is a valid out-pointer.
    unsafe { sys::napi_get_boolean(env, b, &mut value) };
    value
}

unsafe extern "C" fn map_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind::<Shared>`.
    let ([key, scratch], map) = unsafe { args::<Shared, 2>(env, info) };
    // SAFETY: `env` is this callback's; `key` one of its arguments.
    let key = match unsafe { key_arg(env, key) } {
        Ok(k) => k,
        Err(thrown) => return thrown,
    };
    match catch_panic(|| Ok(map.get(&key))) {
        // SAFETY: `env` is this callback's live environment; `scratch` one of its arguments.
        Ok(v) => unsafe { value_out(env, v, scratch) },
        // SAFETY: as above.
        Err(e) => unsafe { throw(env, e.code, &e.message) },
    }
}

/// `set(key, value)` for a number, string, boolean or null value.
unsafe extern "C" fn map_set(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind::<Shared>`.
    let ([key, value], map) = unsafe { args::<Shared, 2>(env, info) };
    // SAFETY: `env` is this callback's; `key` one of its arguments.
    let key = match unsafe { key_arg(env, key) } {
        Ok(k) => k,
        Err(thrown) => return thrown,
    };
    let mut ty = 0;
    // SAFETY: `env` and `value` are live; `ty` is a valid out-pointer.
    unsafe { sys::napi_typeof(env, value, &mut ty) };
    let value = match ty {
        sys::ValueType::napi_number => {
            let mut n = 0f64;
            // SAFETY: `value` is a number of `env`.
            unsafe { sys::napi_get_value_double(env, value, &mut n) };
            Value::Number(n)
        }
        // SAFETY: `value` is a string of `env`.
        sys::ValueType::napi_string => match unsafe { utf8_string(env, value) } {
            Some(s) => Value::String(s.into()),
            // SAFETY: `env` is this callback's live environment.
            None => return unsafe { throw(env, Code::InvalidArg, "set: unreadable string") },
        },
        sys::ValueType::napi_boolean => {
            let mut b = false;
            // SAFETY: `value` is a boolean of `env`.
            unsafe { sys::napi_get_value_bool(env, value, &mut b) };
            Value::Bool(b)
        }
        sys::ValueType::napi_null => Value::Null,
        // SAFETY: `env` is this callback's live environment.
        _ => return unsafe { throw(env, Code::InvalidArg, "set: not a primitive value") },
    };
    match catch_panic(|| map.set(key, value, None)) {
        Ok(()) => ptr::null_mut(),
        // SAFETY: `env` is this callback's live environment.
        Err(e) => unsafe { throw(env, e.code, &e.message) },
    }
}

unsafe extern "C" fn map_set_wire(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind::<Shared>`.
    let ([key, bytes, length], map) = unsafe { args::<Shared, 3>(env, info) };
    // SAFETY: `env` is this callback's; `key` one of its arguments.
    let key = match unsafe { key_arg(env, key) } {
        Ok(k) => k,
        Err(thrown) => return thrown,
    };
    // SAFETY: `env` is this callback's; `bytes` one of its arguments.
    let Some(bytes) = (unsafe { uint8_array(env, bytes) }) else {
        // SAFETY: `env` is this callback's live environment.
        return unsafe { throw(env, Code::InvalidArg, "setWire expects a Uint8Array") };
    };
    let mut n = 0u32;
    // SAFETY: `env` is live and `length` one of its values; `n` is a valid out-pointer.
    let read = unsafe { sys::napi_get_value_uint32(env, length, &mut n) };
    if read != sys::Status::napi_ok || n as usize > bytes.len() {
        // SAFETY: as above.
        return unsafe { throw(env, Code::InvalidArg, "setWire: bad length") };
    }
    let data: Arc<[u8]> = bytes[..n as usize].into();
    match catch_panic(|| map.set(key, Value::Cloned(data), None)) {
        Ok(()) => ptr::null_mut(),
        // SAFETY: `env` is this callback's live environment.
        Err(e) => unsafe { throw(env, e.code, &e.message) },
    }
}

unsafe extern "C" fn map_has(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind::<Shared>`.
    let ([key], map) = unsafe { args::<Shared, 1>(env, info) };
    // SAFETY: `env` is this callback's; `key` one of its arguments.
    let key = match unsafe { key_arg(env, key) } {
        Ok(k) => k,
        Err(thrown) => return thrown,
    };
    match catch_panic(|| Ok(map.has(&key))) {
        // SAFETY: `env` is this callback's live environment.
        Ok(b) => unsafe { boolean(env, b) },
        // SAFETY: as above.
        Err(e) => unsafe { throw(env, e.code, &e.message) },
    }
}

unsafe extern "C" fn map_delete(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind::<Shared>`.
    let ([key], map) = unsafe { args::<Shared, 1>(env, info) };
    // SAFETY: `env` is this callback's; `key` one of its arguments.
    let key = match unsafe { key_arg(env, key) } {
        Ok(k) => k,
        Err(thrown) => return thrown,
    };
    match catch_panic(|| Ok(map.delete(&key))) {
        // SAFETY: `env` is this callback's live environment.
        Ok(b) => unsafe { boolean(env, b) },
        // SAFETY: as above.
        Err(e) => unsafe { throw(env, e.code, &e.message) },
    }
}
