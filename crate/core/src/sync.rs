//! The atomics weft-core's lock-free code is written against: std's, or loom's under `--cfg loom`
//! so that the model checker sees every access.

#[cfg(loom)]
pub(crate) use loom::sync::atomic;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic;
