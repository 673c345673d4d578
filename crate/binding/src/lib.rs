//! weft-binding: the napi-rs glue between JavaScript and weft-core.
//!
//! This crate holds no logic of its own: it converts JavaScript values to weft-core types,
//! forwards the call, converts back, and maps weft-core errors (and panics) to JavaScript errors
//! whose `code` is the stable weft code.

mod actor;
mod constants;
pub mod depth;
mod errors;
mod fast;
mod map;
mod par;
mod par_big;
mod pool;
mod queue;
mod stack;
mod value;

pub use actor::*;
pub use constants::*;
pub use errors::*;
pub use map::*;
pub use par::*;
pub use par_big::*;
pub use pool::*;
pub use queue::*;
pub use stack::*;

/// mimalloc serves the small, short-lived allocations of shared-structure nodes and payloads
/// (often freed on another thread than the one that allocated them) markedly faster than the
/// system allocator; see bench/README.md.
///
/// With the `count-alloc` feature it is wrapped in weft-core's `CountingAlloc`, which can count the
/// live bytes (`allocStats`), for the soak test (`__test__/adversarial/soak.spec.ts` builds that
/// addon itself: `scripts/build-counting-addon.mjs`). The published addon is built without it:
/// even switched off, the wrapper cost SharedStack's number push+pop 6-9 % (bench/README.md).
#[cfg(not(feature = "count-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[cfg(feature = "count-alloc")]
#[global_allocator]
static GLOBAL: weft_core::alloc::CountingAlloc<mimalloc::MiMalloc> =
    weft_core::alloc::CountingAlloc::new(mimalloc::MiMalloc);

/// The native allocator's counters (`live`: bytes allocated less bytes freed, `allocations`) since
/// counting was first turned on; `counting` turns it on or off. For soak and leak tests: only an
/// addon built with the `count-alloc` feature counts (`available`); any other reports zeros.
#[napi_derive::napi(object)]
pub struct AllocStats {
    pub available: bool,
    pub counting: bool,
    pub live: f64,
    pub allocations: f64,
}

#[napi_derive::napi(js_name = "allocStats")]
pub fn alloc_stats(counting: Option<bool>) -> AllocStats {
    #[cfg(feature = "count-alloc")]
    {
        let s = match counting {
            Some(on) => GLOBAL.set_counting(on),
            None => GLOBAL.stats(),
        };
        AllocStats {
            available: true,
            counting: s.counting,
            live: s.live as f64,
            allocations: s.allocations as f64,
        }
    }
    #[cfg(not(feature = "count-alloc"))]
    {
        let _ = counting;
        AllocStats {
            available: false,
            counting: false,
            live: 0.0,
            allocations: 0.0,
        }
    }
}

/// The process's thread budget now (`weft_core::budget`).
#[napi_derive::napi(object)]
pub struct ThreadBudget {
    /// The budget: `WEFT_THREADS`, else the usable CPUs.
    pub threads: u32,
    /// The CPUs this process may use.
    pub cpus: u32,
    /// Pool workers (of every pool) running tasks now.
    pub running: u32,
    /// What a `par` job may spread over now.
    pub free: u32,
    /// `WEFT_THREADS` as set, if set.
    pub env: Option<String>,
    /// Whether `WEFT_THREADS` is set but not an integer from 1 to 255.
    pub env_invalid: bool,
}

/// The process's thread budget, read now.
#[napi_derive::napi(js_name = "threadBudget")]
pub fn thread_budget() -> ThreadBudget {
    let c = weft_core::budget::configured();
    let n = |v: usize| v.min(u32::MAX as usize) as u32;
    ThreadBudget {
        threads: n(c.threads),
        cpus: n(c.cpus),
        running: n(weft_core::budget::running()),
        free: n(weft_core::budget::free()),
        env: c.env.clone(),
        env_invalid: c.env_invalid,
    }
}
