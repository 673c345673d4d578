//! `par`: weft's parallel iterators.
//!
//! A pipeline (`map`/`filter` stages and a terminal) arrives as op programs compiled by the
//! TypeScript layer from plain arrow functions ([`program`]). It runs fused, in one pass without
//! intermediate arrays, over the caller's memory ([`Source`]): the source is cut into fixed
//! chunks of [`CHUNK`] elements that rayon spreads over weft's threads, and each chunk is
//! interpreted in blocks of [`BLOCK`] lanes so that decoding an op costs once per block, or, where
//! the [`jit`] compiled the pipeline's shape to machine code, run by that code block by block.
//!
//! Numbers follow JavaScript exactly ([`js`]): f64 arithmetic, `%` as fmod, NaN and signed zeros,
//! `Math.min/max/round` rules, `ToInt32` for bitwise ops; the transcendental functions are the
//! `libm` crate's (fdlibm lineage, within 1 ulp). Sums are exact, correctly rounded once
//! ([`sum::ExactSum`]), and so are independent of the decomposition and of the thread count.

mod array;
mod big;
pub mod cancel;
pub mod eval;
mod exec;
pub mod jit;
pub mod js;
pub mod program;
mod source;
pub mod sum;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

pub use array::{Array, ArrayMut, ElemKind};
pub use big::{run_big, sort_big_owned, BigOutput, BigOwned, BigSource, BigTerminal};
pub use cancel::{scoped as cancel_scope, Cancel};
pub use eval::BLOCK;
pub use exec::{
    run, run_engine, run_into, run_into_zip, run_owned, run_zip, run_zip_engine, Agg, Mode, Output,
    Terminal, CHUNK, MAX_BINS, MAX_GROUPS,
};
pub use jit::{engine, set_engine, Engine};
pub use program::{decode, Kind, Op, Pipeline};
pub use source::Source;

/// weft's rayon pool for `par`: as many threads as the process's thread budget
/// ([`crate::budget::threads`]), named `weft-par-N`.
pub fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = crate::budget::threads();
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("weft-par-{i}"))
            .build()
            .expect("cannot start weft's par threads")
    })
}

/// Runs `job` on weft's par pool, off the calling thread. `job` must not panic (wrap it in
/// [`crate::error::catch_panic`]).
pub fn spawn(job: impl FnOnce() + Send + 'static) {
    pool().spawn(job);
}
