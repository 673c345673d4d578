//! Conversion of weft-core `Value`s back to JavaScript.
//!
//! Primitives become JavaScript primitives directly. Binary data and encoded values come back
//! "boxed" as a two-element array `[tag, ArrayBuffer]`, which the TypeScript layer turns into the
//! right view (tag >= 0: a typed-array kind) or decodes (tag = -1: bytes of weft's wire format,
//! opaque here). Since a primitive is never an object, the TypeScript side tells the two apart
//! with one `typeof`.

use napi::bindgen_prelude::*;
use napi::check_status;
use napi::sys;
use weft_core::value::Value;

/// The tag of a boxed encoded value (bytes of the TypeScript layer's wire format).
pub const CLONED_TAG: i32 = -1;

/// A `Value` on its way out to JavaScript (`None` becomes `undefined`).
pub struct JsOut(pub Option<Value>);

impl ToNapiValue for JsOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY: `env` is the live environment napi-rs passed to this conversion
        // on the JavaScript thread that owns it; every inner conversion receives the same `env`.
        unsafe {
            match val.0 {
                None => Undefined::to_napi_value(env, ()),
                Some(Value::Null) => Null::to_napi_value(env, Null),
                Some(Value::Bool(b)) => bool::to_napi_value(env, b),
                Some(Value::Number(n)) => f64::to_napi_value(env, n),
                Some(Value::String(s)) => <&str>::to_napi_value(env, &s),
                Some(Value::BigInt { negative, words }) => BigInt::to_napi_value(
                    env,
                    BigInt {
                        sign_bit: negative,
                        words: words.to_vec(),
                    },
                ),
                Some(Value::Bytes { kind, data }) => boxed(env, i32::from(kind), &data),
                Some(Value::Cloned(data)) => boxed(env, CLONED_TAG, &data),
            }
        }
    }
}

/// `[tag, ArrayBuffer(copy of data)]`.
///
/// # Safety
/// `env` must be the live environment of the calling JavaScript thread.
unsafe fn boxed(env: sys::napi_env, tag: i32, data: &[u8]) -> Result<sys::napi_value> {
    let env_ref = Env::from_raw(env);
    let buffer = ArrayBuffer::copy_from(&env_ref, data)?;
    // SAFETY: forwarded from the caller's contract on `env`.
    unsafe { <(i32, ArrayBuffer<'_>)>::to_napi_value(env, (tag, buffer)) }
}

/// A list of values (from `popMany`) as a JavaScript array.
pub struct JsOutList(pub Vec<Value>);

impl ToNapiValue for JsOutList {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let env_ref = Env::from_raw(env);
        let mut array = env_ref.create_array(val.0.len() as u32)?;
        for (i, v) in val.0.into_iter().enumerate() {
            array.set(i as u32, JsOut(Some(v)))?;
        }
        // SAFETY: `env` is the live environment of this call (see the trait's contract).
        unsafe { Array::to_napi_value(env, array) }
    }
}

/// A value on its way in from JavaScript, in the same shape `JsOut` produces: a primitive, or a
/// boxed `[tag, Uint8Array]`. The TypeScript layer does the classification (and structured-clone
/// encoding); this only reads the result.
pub struct JsIn(pub Value);

impl FromNapiValue for JsIn {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        let mut ty = 0;
        // SAFETY: `env` and `v` are the live environment and value napi-rs passed
        // to this conversion; each inner conversion gets the same pair.
        unsafe {
            check_status!(sys::napi_typeof(env, v, &mut ty))?;
            let value = match ty {
                sys::ValueType::napi_number => Value::Number(f64::from_napi_value(env, v)?),
                sys::ValueType::napi_string => {
                    Value::String(String::from_napi_value(env, v)?.into())
                }
                sys::ValueType::napi_boolean => Value::Bool(bool::from_napi_value(env, v)?),
                sys::ValueType::napi_null => Value::Null,
                sys::ValueType::napi_bigint => {
                    let b = BigInt::from_napi_value(env, v)?;
                    Value::BigInt {
                        negative: b.sign_bit,
                        words: b.words.into(),
                    }
                }
                sys::ValueType::napi_object => {
                    let (tag, bytes) = <(i32, &[u8])>::from_napi_value(env, v)?;
                    match tag {
                        CLONED_TAG => Value::Cloned(bytes.into()),
                        0..=255 => Value::Bytes {
                            kind: tag as u8,
                            data: bytes.into(),
                        },
                        _ => {
                            return Err(Error::new(
                                Status::InvalidArg,
                                format!("bad value tag {tag}"),
                            ))
                        }
                    }
                }
                other => {
                    return Err(Error::new(
                        Status::InvalidArg,
                        format!("cannot store a value of napi type {other}"),
                    ))
                }
            };
            Ok(JsIn(value))
        }
    }
}

impl TypeName for JsIn {
    fn type_name() -> &'static str {
        "EncodedValue"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for JsIn {}
