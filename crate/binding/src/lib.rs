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
mod par;
mod pool;
mod stack;
mod value;

pub use actor::*;
pub use constants::*;
pub use errors::*;
pub use par::*;
pub use pool::*;
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

/// The CPUs this process may use: Rust's `std::thread::available_parallelism`, which counts the
/// CPUs of the affinity mask and honours a cgroup CPU quota (a container limited to 2 CPUs of a
/// 64-CPU machine says 2). The default size of pools and of `par`'s threads.
#[napi_derive::napi(js_name = "usableCpus")]
pub fn usable_cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(u32::MAX as usize) as u32)
}
