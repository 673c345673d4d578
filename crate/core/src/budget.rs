//! One thread budget for the whole process: how many threads weft plans to keep busy at once.
//!
//! Every part of weft that starts threads for CPU work sizes itself from the same figure,
//! [`threads`]: a Pool's default `maxThreads`, `par`'s rayon threads ([`crate::par::pool`]) and
//! `par`'s fallback pool. It is the CPUs this process may use (the affinity mask and a cgroup CPU
//! quota, as `std::thread::available_parallelism` counts them), or the `WEFT_THREADS`
//! environment variable when it is set (an integer from 1 to [`MAX`]).
//!
//! The budget is also shared at run time: a pool worker counts as [`running`] from the moment
//! `take` hands it work until it comes back to `take` (it then sleeps, or waits for an async
//! task), in every pool of the process. A `par` job started while pool workers run spreads over
//! [`free`] threads only (the budget less the running workers, at least one), so that `par` and a
//! busy pool together do not ask for more threads than there are CPUs. Pools themselves are never
//! held back by it: a pool's size is a promise to its user, and `par`'s jobs are the short ones.

use crate::sync::unmodelled::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The largest budget `WEFT_THREADS` may give (a pool's slot limit).
pub const MAX: usize = 255;

/// The environment variable that sets the budget.
pub const ENV: &str = "WEFT_THREADS";

/// Pool workers of any pool of this process that are running tasks now.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Where the budget came from, read once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configured {
    /// The budget.
    pub threads: usize,
    /// The CPUs this process may use.
    pub cpus: usize,
    /// `WEFT_THREADS` as set, if it is set.
    pub env: Option<String>,
    /// Whether `WEFT_THREADS` is set but is not an integer from 1 to [`MAX`] (the budget is then
    /// the CPUs; the JavaScript layer refuses to start a pool or a `par` job with it).
    pub env_invalid: bool,
}

/// `WEFT_THREADS`'s value read as a budget: an integer from 1 to [`MAX`], surrounding blanks
/// allowed.
pub fn parse(value: &str) -> Option<usize> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<usize>().ok().filter(|n| (1..=MAX).contains(n))
}

fn resolve(env: Option<String>, cpus: usize) -> Configured {
    let cpus = cpus.clamp(1, MAX);
    let parsed = env.as_deref().and_then(parse);
    Configured {
        threads: parsed.unwrap_or(cpus),
        cpus,
        env_invalid: env.is_some() && parsed.is_none(),
        env,
    }
}

/// The budget and where it came from (read once, on first use).
pub fn configured() -> &'static Configured {
    static CONFIGURED: OnceLock<Configured> = OnceLock::new();
    CONFIGURED.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        resolve(std::env::var(ENV).ok(), cpus)
    })
}

/// The budget: how many threads weft sizes its thread groups to.
pub fn threads() -> usize {
    configured().threads
}

/// Pool workers (of every pool in the process) running tasks now.
pub fn running() -> usize {
    RUNNING.load(Ordering::Relaxed)
}

/// The threads a `par` job may spread over now: the budget less the running pool workers, and
/// at least one.
pub fn free() -> usize {
    threads().saturating_sub(running()).max(1)
}

/// A pool worker began to run tasks.
pub(crate) fn enter() {
    RUNNING.fetch_add(1, Ordering::Relaxed);
}

/// A pool worker stopped running tasks (it is back in `take`, or gone).
pub(crate) fn leave() {
    // Never below zero, even if a caller pairs its calls wrongly: `free` would then be wrong
    // for every `par` job of the process.
    let _ = RUNNING.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn weft_threads_must_be_an_integer_from_1_to_max() {
        assert_eq!(parse("4"), Some(4));
        assert_eq!(parse(" 16 "), Some(16));
        assert_eq!(parse("255"), Some(255));
        for bad in ["", " ", "0", "256", "-1", "1.5", "4x", "0x10", "+3", "1e2"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_budget_is_the_cpus_unless_weft_threads_is_valid() {
        assert_eq!(resolve(None, 8).threads, 8);
        assert!(!resolve(None, 8).env_invalid);
        let set = resolve(Some("3".into()), 8);
        assert_eq!((set.threads, set.cpus, set.env_invalid), (3, 8, false));
        let bad = resolve(Some("lots".into()), 8);
        assert_eq!((bad.threads, bad.env_invalid), (8, true));
        assert_eq!(resolve(None, 0).threads, 1);
        assert_eq!(resolve(None, 1000).threads, MAX);
    }
}
