//! The typed arrays a result is written as: their kinds ([`ElemKind`]), their contents owned
//! ([`Array`]) or borrowed for writing ([`ArrayMut`]).

use super::source::Source;

/// The kinds of typed array a result can be written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemKind {
    /// `Float64Array`.
    F64 = 0,
    /// `Float32Array`.
    F32 = 1,
    /// `Int8Array`.
    I8 = 2,
    /// `Uint8Array`.
    U8 = 3,
    /// `Uint8ClampedArray`.
    U8Clamped = 4,
    /// `Int16Array`.
    I16 = 5,
    /// `Uint16Array`.
    U16 = 6,
    /// `Int32Array`.
    I32 = 7,
    /// `Uint32Array`.
    U32 = 8,
}

impl ElemKind {
    /// The kind with this code (its discriminant, shared with the JavaScript side).
    pub fn from_code(code: u32) -> Option<ElemKind> {
        Some(match code {
            0 => ElemKind::F64,
            1 => ElemKind::F32,
            2 => ElemKind::I8,
            3 => ElemKind::U8,
            4 => ElemKind::U8Clamped,
            5 => ElemKind::I16,
            6 => ElemKind::U16,
            7 => ElemKind::I32,
            8 => ElemKind::U32,
            _ => return None,
        })
    }
}

/// A typed array's contents, owned.
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    /// A `Float64Array`'s elements.
    F64(Vec<f64>),
    /// A `Float32Array`'s elements.
    F32(Vec<f32>),
    /// A `Int8Array`'s elements.
    I8(Vec<i8>),
    /// A `Uint8Array`'s elements.
    U8(Vec<u8>),
    /// A `Uint8ClampedArray`'s elements.
    U8Clamped(Vec<u8>),
    /// A `Int16Array`'s elements.
    I16(Vec<i16>),
    /// A `Uint16Array`'s elements.
    U16(Vec<u16>),
    /// A `Int32Array`'s elements.
    I32(Vec<i32>),
    /// A `Uint32Array`'s elements.
    U32(Vec<u32>),
}

impl Array {
    /// How many values it holds.
    pub fn len(&self) -> usize {
        match self {
            Array::F64(v) => v.len(),
            Array::F32(v) => v.len(),
            Array::I8(v) => v.len(),
            Array::U8(v) | Array::U8Clamped(v) => v.len(),
            Array::I16(v) => v.len(),
            Array::U16(v) => v.len(),
            Array::I32(v) => v.len(),
            Array::U32(v) => v.len(),
        }
    }

    /// Whether it holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its element kind.
    pub fn kind(&self) -> ElemKind {
        match self {
            Array::F64(_) => ElemKind::F64,
            Array::F32(_) => ElemKind::F32,
            Array::I8(_) => ElemKind::I8,
            Array::U8(_) => ElemKind::U8,
            Array::U8Clamped(_) => ElemKind::U8Clamped,
            Array::I16(_) => ElemKind::I16,
            Array::U16(_) => ElemKind::U16,
            Array::I32(_) => ElemKind::I32,
            Array::U32(_) => ElemKind::U32,
        }
    }

    /// Its values as a pipeline source.
    pub fn source(&self) -> Source<'_> {
        match self {
            Array::F64(v) => Source::F64(v),
            Array::F32(v) => Source::F32(v),
            Array::I8(v) => Source::I8(v),
            Array::U8(v) | Array::U8Clamped(v) => Source::U8(v),
            Array::I16(v) => Source::I16(v),
            Array::U16(v) => Source::U16(v),
            Array::I32(v) => Source::I32(v),
            Array::U32(v) => Source::U32(v),
        }
    }
}

/// A typed array's contents, borrowed for writing (`toArray({ into })`).
#[derive(Debug)]
pub enum ArrayMut<'a> {
    /// A `Float64Array`'s elements.
    F64(&'a mut [f64]),
    /// A `Float32Array`'s elements.
    F32(&'a mut [f32]),
    /// A `Int8Array`'s elements.
    I8(&'a mut [i8]),
    /// A `Uint8Array`'s elements.
    U8(&'a mut [u8]),
    /// A `Uint8ClampedArray`'s elements.
    U8Clamped(&'a mut [u8]),
    /// A `Int16Array`'s elements.
    I16(&'a mut [i16]),
    /// A `Uint16Array`'s elements.
    U16(&'a mut [u16]),
    /// A `Int32Array`'s elements.
    I32(&'a mut [i32]),
    /// A `Uint32Array`'s elements.
    U32(&'a mut [u32]),
}
