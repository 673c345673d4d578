//! Raw N-API callbacks for the hottest calls (`push` of a number, a string or wire bytes, `pop`)
//! of the shared structures that hold values: `SharedStack` and `SharedQueue` (each a
//! [`FastTarget`]).
//!
//! napi-rs's generated wrappers cost about 140 ns a call on our 2-core machine against about
//! 34 ns for a plain N-API function, which alone would cap `push`+`pop` near 3 M pairs/s. These
//! two callbacks therefore talk to N-API directly: the stack they act on is the function's own
//! `data` pointer (no `this` unwrapping, no type-tag check), and each function holds one strong
//! reference to the stack, released by a finalizer when the function is collected (or when its
//! thread's environment is torn down).
//!
//! Encoded values (the wire format's bytes) cross without a JavaScript allocation on either side:
//! `pushWire(bytes, length)` copies the first `length` bytes of the caller's (reused) writer
//! buffer, and `pop(scratch)` copies a popped encoded value into the caller's (reused) scratch
//! buffer and returns that buffer, with the value's length in its first four bytes (little
//! endian) and the bytes after them. A value that does not fit comes back boxed, as from
//! `NativeStack.pop`.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;
use weft_core::error::{catch_panic, Code, Result as CoreResult};
use weft_core::queue::Pushed;
use weft_core::registry::Registered;
use weft_core::shared::{ValueQueue, ValueStack};
use weft_core::value::Value;

use crate::value::JsOut;

/// A shared structure the fast calls push to and pop from.
pub(crate) trait FastTarget: Send + Sync + 'static {
    /// Stores `value`: `Ok(false)` if the structure is full (nothing stored).
    fn put(&self, value: Value) -> CoreResult<bool>;
    /// Takes the next value out, if any.
    fn take(&self) -> Option<Value>;
}

impl FastTarget for Registered<ValueStack> {
    fn put(&self, value: Value) -> CoreResult<bool> {
        self.push(value);
        Ok(true)
    }
    fn take(&self) -> Option<Value> {
        self.pop()
    }
}

impl FastTarget for Registered<ValueQueue> {
    fn put(&self, value: Value) -> CoreResult<bool> {
        Ok(self.push(value)? == Pushed::Queued)
    }
    fn take(&self) -> Option<Value> {
        self.pop()
    }
}

/// Bytes at the start of `pop`'s scratch buffer that hold the length of the value after them.
pub const SCRATCH_HEADER: usize = 4;

/// Creates `{ pushNumber, pushString, pushWire, pop }` bound to `stack` (a stack or a queue). Each
/// push returns `undefined` once stored and `false` if the structure is full.
///
/// # Safety
/// `env` must be the live environment of the calling JavaScript thread.
pub(crate) unsafe fn value_ops<S: FastTarget>(
    env: sys::napi_env,
    stack: &Arc<S>,
) -> napi::Result<sys::napi_value> {
    let ops = [
        (c"pushNumber", push_number::<S> as Callback),
        (c"pushString", push_string::<S> as Callback),
        (c"pushWire", push_wire::<S> as Callback),
        (c"pop", pop::<S> as Callback),
    ];
    // SAFETY: forwarded contract on `env`.
    unsafe { ops_object(env, &ops, stack) }
}

/// A new object whose properties are the raw functions `ops`, each bound to `target` (see `bind`).
///
/// # Safety
/// `env` must be the live environment of the calling JavaScript thread.
pub(crate) unsafe fn ops_object<S: Send + Sync + 'static>(
    env: sys::napi_env,
    ops: &[(&std::ffi::CStr, Callback)],
    target: &Arc<S>,
) -> napi::Result<sys::napi_value> {
    let mut object = ptr::null_mut();
    // SAFETY: `env` is live (caller's contract) and `object` is a valid out-pointer.
    check(unsafe { sys::napi_create_object(env, &mut object) })?;
    for &(name, cb) in ops {
        // SAFETY: forwarded contract on `env`; `object` was just created in it.
        unsafe { bind(env, object, name, cb, target) }?;
    }
    Ok(object)
}

pub(crate) type Callback =
    unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// Defines `object[name]` as a function whose data pointer owns one `Arc` of `stack`.
///
/// # Safety
/// `env` must be live and `object` a value of it.
pub(crate) unsafe fn bind<S: Send + Sync + 'static>(
    env: sys::napi_env,
    object: sys::napi_value,
    name: &std::ffi::CStr,
    cb: Callback,
    stack: &Arc<S>,
) -> napi::Result<()> {
    let data = Arc::into_raw(Arc::clone(stack)) as *mut c_void;
    let mut function = ptr::null_mut();
    // SAFETY: `env` is live; `name` is NUL-terminated; `cb` has the N-API callback signature;
    // `data` stays valid until `release` runs (it owns a strong count).
    let created = check(unsafe {
        sys::napi_create_function(
            env,
            name.as_ptr(),
            name.to_bytes().len() as isize,
            Some(cb),
            data,
            &mut function,
        )
    });
    let attached = created.and_then(|_| {
        // SAFETY: `function` is a live object of `env`; `release` frees `data` exactly once,
        // when the function is collected or the environment is torn down.
        check(unsafe {
            sys::napi_add_finalizer(
                env,
                function,
                data,
                Some(release::<S>),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        })
    });
    if let Err(e) = attached {
        // SAFETY: no finalizer owns `data`, so this is the only release of its strong count.
        drop(unsafe { Arc::from_raw(data as *const S) });
        return Err(e);
    }
    // SAFETY: `object` and `function` are live values of `env`; `name` is NUL-terminated.
    check(unsafe { sys::napi_set_named_property(env, object, name.as_ptr(), function) })
}

unsafe extern "C" fn release<S: Send + Sync + 'static>(
    _env: sys::napi_env,
    data: *mut c_void,
    _hint: *mut c_void,
) {
    // SAFETY: `data` came from `Arc::into_raw::<S>` in `bind::<S>`, and N-API calls a finalizer
    // once.
    drop(unsafe { Arc::from_raw(data as *const S) });
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "N-API call failed with status {status}"
        )))
    }
}

/// Reads up to `N` arguments and the bound structure.
///
/// # Safety
/// Must be called from an N-API callback with its `env` and `info`, on a function made by
/// `bind::<S>`.
pub(crate) unsafe fn args<'a, S: Send + Sync + 'static, const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> ([sys::napi_value; N], &'a S) {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    let mut data = ptr::null_mut();
    // SAFETY: `env`/`info` are this callback's; out-pointers are valid for `N` values.
    unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        )
    };
    if argc < N {
        // Missing arguments read as `undefined`, as in JavaScript.
        for slot in argv.iter_mut().skip(argc) {
            // SAFETY: `env` is live; `slot` is a valid out-pointer.
            unsafe { sys::napi_get_undefined(env, slot) };
        }
    }
    // SAFETY: `data` is the `Arc::into_raw` pointer of `bind`, kept alive by the function
    // object's finalizer for at least as long as the function can be called.
    (argv, unsafe { &*(data as *const S) })
}

/// Throws a JavaScript error with a weft code and returns `undefined`'s stand-in (null).
///
/// # Safety
/// `env` must be the live environment of the current callback.
pub(crate) unsafe fn throw(env: sys::napi_env, code: Code, message: &str) -> sys::napi_value {
    let code = std::ffi::CString::new(code.as_str()).unwrap_or_default();
    let message = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: `env` is live; both strings are NUL-terminated.
    unsafe { sys::napi_throw_type_error(env, code.as_ptr(), message.as_ptr()) };
    ptr::null_mut()
}

/// What a push returns: `undefined` once stored, `false` if full; a thrown error (its weft code)
/// if it failed.
///
/// # Safety
/// `env` must be the live environment of the current callback.
unsafe fn stored(env: sys::napi_env, result: CoreResult<bool>) -> sys::napi_value {
    match result {
        Ok(true) => ptr::null_mut(),
        Ok(false) => {
            let mut value = ptr::null_mut();
            // SAFETY: `env` is live; `value` is a valid out-pointer.
            unsafe { sys::napi_get_boolean(env, false, &mut value) };
            value
        }
        // SAFETY: `env` is live (this function's contract).
        Err(e) => unsafe { throw(env, e.code, &e.message) },
    }
}

unsafe extern "C" fn push_number<S: FastTarget>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind`.
    let ([arg], stack) = unsafe { args::<S, 1>(env, info) };
    let mut value = 0f64;
    // SAFETY: `env` is live and `arg` one of its values; `value` is a valid out-pointer.
    if unsafe { sys::napi_get_value_double(env, arg, &mut value) } != sys::Status::napi_ok {
        // SAFETY: `env` is this callback's live environment.
        return unsafe { throw(env, Code::InvalidArg, "pushNumber expects a number") };
    }
    // SAFETY: `env` is this callback's live environment.
    unsafe { stored(env, catch_panic(|| stack.put(Value::Number(value)))) }
}

unsafe extern "C" fn push_string<S: FastTarget>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind`.
    let ([arg], stack) = unsafe { args::<S, 1>(env, info) };
    // SAFETY: `env` is this callback's; `arg` one of its values.
    let Some(text) = (unsafe { utf8_string(env, arg) }) else {
        // SAFETY: `env` is this callback's live environment.
        return unsafe { throw(env, Code::InvalidArg, "pushString expects a string") };
    };
    // SAFETY: `env` is this callback's live environment.
    unsafe { stored(env, catch_panic(|| stack.put(Value::String(text.into())))) }
}

/// The text of a string value, as UTF-8 (`None` if `value` is not a string).
///
/// # Safety
/// `env` must be the live environment of the current callback and `value` one of its values.
pub(crate) unsafe fn utf8_string(env: sys::napi_env, value: sys::napi_value) -> Option<String> {
    let mut len = 0usize;
    // SAFETY: `env` is live and `value` one of its values; a null buffer asks for the UTF-8 length.
    let sized =
        unsafe { sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len) };
    if sized != sys::Status::napi_ok {
        return None;
    }
    // N-API writes a terminating NUL after the bytes: room for `len + 1`.
    let mut bytes = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: `bytes` has room for `len + 1` bytes, as passed; `written` is a valid out-pointer.
    let read = unsafe {
        sys::napi_get_value_string_utf8(
            env,
            value,
            bytes.as_mut_ptr().cast(),
            bytes.len(),
            &mut written,
        )
    };
    if read != sys::Status::napi_ok {
        return None;
    }
    bytes.truncate(written);
    // V8 writes lone surrogates as U+FFFD, so these are UTF-8; checked rather than assumed.
    String::from_utf8(bytes).ok()
}

/// Returns `value` to JavaScript: an encoded value copied into `scratch` (a Uint8Array argument:
/// length in its first `SCRATCH_HEADER` bytes, the bytes after them) when it fits, else as
/// `JsOut` makes it.
///
/// # Safety
/// `env` must be the live environment of the current callback and `scratch` one of its values.
pub(crate) unsafe fn value_out(
    env: sys::napi_env,
    value: Option<Value>,
    scratch: sys::napi_value,
) -> sys::napi_value {
    if let Some(Value::Cloned(data)) = &value {
        // SAFETY: `env` is this callback's; `scratch` one of its arguments (undefined if absent).
        let out = unsafe { uint8_array(env, scratch) };
        if let (Some(out), Ok(n)) = (out, u32::try_from(data.len())) {
            if let Some(body) = out.get_mut(SCRATCH_HEADER..SCRATCH_HEADER + data.len()) {
                body.copy_from_slice(data);
                out[..SCRATCH_HEADER].copy_from_slice(&n.to_le_bytes());
                return scratch;
            }
        }
    }
    // SAFETY: `env` is this callback's live environment, on its own thread.
    match unsafe { JsOut::to_napi_value(env, JsOut(value)) } {
        Ok(v) => v,
        // SAFETY: as above.
        Err(e) => unsafe { throw(env, Code::Panic, &e.reason) },
    }
}

/// The bytes of a `Uint8Array` argument, or `None` if `value` is not one.
///
/// # Safety
/// `env` must be the live environment of the current callback and `value` one of its values; the
/// slice is valid until JavaScript runs again (the callback's own duration).
pub(crate) unsafe fn uint8_array<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
) -> Option<&'a mut [u8]> {
    let mut is_typed = false;
    // SAFETY: `env` is live and `value` one of its values; the out-pointer is valid.
    if unsafe { sys::napi_is_typedarray(env, value, &mut is_typed) } != sys::Status::napi_ok
        || !is_typed
    {
        return None;
    }
    let mut kind = 0;
    let mut length = 0usize;
    let mut data = ptr::null_mut();
    // SAFETY: `value` is a typed array (checked above); the out-pointers are valid, and the ones
    // passed as null are optional in N-API.
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut length,
            &mut data,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok || kind != sys::TypedarrayType::uint8_array {
        return None;
    }
    if length == 0 || data.is_null() {
        return Some(&mut []);
    }
    // SAFETY: N-API reports `length` bytes at `data` (a Uint8Array's elements are bytes), alive as
    // long as the array, which the callback's arguments keep alive; nothing else touches them
    // while this callback runs (JavaScript is stopped on this thread, and weft never hands these
    // buffers to another thread).
    Some(unsafe { std::slice::from_raw_parts_mut(data as *mut u8, length) })
}

unsafe extern "C" fn push_wire<S: FastTarget>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind`.
    let ([bytes, length], stack) = unsafe { args::<S, 2>(env, info) };
    // SAFETY: `env` is this callback's; `bytes` one of its arguments.
    let Some(bytes) = (unsafe { uint8_array(env, bytes) }) else {
        // SAFETY: `env` is this callback's live environment.
        return unsafe { throw(env, Code::InvalidArg, "pushWire expects a Uint8Array") };
    };
    let mut n = 0u32;
    // SAFETY: `env` is live and `length` one of its values; `n` is a valid out-pointer.
    let read = unsafe { sys::napi_get_value_uint32(env, length, &mut n) };
    if read != sys::Status::napi_ok || n as usize > bytes.len() {
        // SAFETY: as above.
        return unsafe { throw(env, Code::InvalidArg, "pushWire: bad length") };
    }
    let data: std::sync::Arc<[u8]> = bytes[..n as usize].into();
    // SAFETY: `env` is this callback's live environment.
    unsafe { stored(env, catch_panic(|| stack.put(Value::Cloned(data)))) }
}

unsafe extern "C" fn pop<S: FastTarget>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: N-API invokes this with its own `env`/`info` for a function made by `bind`.
    let ([scratch], stack) = unsafe { args::<S, 1>(env, info) };
    let popped = match catch_panic(|| Ok(stack.take())) {
        Ok(v) => v,
        // SAFETY: `env` is this callback's live environment.
        Err(e) => return unsafe { throw(env, e.code, &e.message) },
    };
    // SAFETY: `env` is this callback's live environment; `scratch` one of its arguments.
    unsafe { value_out(env, popped, scratch) }
}
