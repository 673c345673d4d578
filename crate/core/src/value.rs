//! The values weft moves between threads: JavaScript primitives natively, binary data as bytes,
//! everything else as a structured-clone encoding made on the JavaScript side.
//!
//! Payloads live behind `Arc`s, so cloning a value (which `TreiberStack::pop` and `peek` do) is a
//! copy or a reference-count increment, never a deep copy.

use std::sync::Arc;

/// A value that crossed (or will cross) from one JavaScript thread to another.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A BigInt as sign and little-endian 64-bit words, as N-API represents it.
    BigInt {
        /// Whether it is below zero.
        negative: bool,
        /// Its magnitude, least significant word first.
        words: Arc<[u64]>,
    },
    /// A string.
    String(Arc<str>),
    /// The bytes of a typed array, DataView or Buffer; `kind` says which view to rebuild.
    Bytes {
        /// The view kind (the wire codec's numbering).
        kind: u8,
        /// The bytes.
        data: Arc<[u8]>,
    },
    /// A structured-clone (V8 serializer) encoding of any other cloneable value.
    Cloned(Arc<[u8]>),
}

impl Value {
    /// Approximate heap bytes held by the value (for statistics and limits).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
            Value::BigInt { words, .. } => words.len() * 8,
            Value::String(s) => s.len(),
            Value::Bytes { data, .. } | Value::Cloned(data) => data.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_shares_payloads() {
        let v = Value::Bytes {
            kind: 1,
            data: Arc::from(vec![1u8, 2, 3]),
        };
        let w = v.clone();
        match (&v, &w) {
            (Value::Bytes { data: a, .. }, Value::Bytes { data: b, .. }) => {
                assert!(Arc::ptr_eq(a, b))
            }
            _ => unreachable!(),
        }
        assert_eq!(v.heap_size(), 3);
    }
}
