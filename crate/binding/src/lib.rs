//! weft-binding: the napi-rs glue between JavaScript and weft-core.
//!
//! This crate holds no logic of its own: it converts JavaScript values to weft-core types,
//! forwards the call, converts back, and maps weft-core errors (and panics) to JavaScript errors
//! whose `code` is the stable weft code.

mod actor;
mod errors;
mod fast;
mod par;
mod pool;
mod stack;
mod value;

pub use actor::*;
pub use errors::*;
pub use par::*;
pub use pool::*;
pub use stack::*;

/// mimalloc serves the small, short-lived allocations of shared-structure nodes and payloads
/// (often freed on another thread than the one that allocated them) markedly faster than the
/// system allocator; see bench/README.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
