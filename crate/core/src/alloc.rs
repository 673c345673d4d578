//! [`CountingAlloc`]: a global allocator wrapper that can count the bytes it has live, so a soak test
//! can tell a leak (live bytes that grow pass after pass) from an allocator that keeps freed memory
//! cached (RSS that grows while live bytes return to their baseline).
//!
//! Counting is off until [`CountingAlloc::set_counting`] turns it on: then every allocation and
//! free costs two relaxed atomic adds; off, one relaxed load.

use crate::sync::unmodelled::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::alloc::{GlobalAlloc, Layout};

/// Wraps the allocator `A` (mimalloc in the Node binding) with optional counters.
pub struct CountingAlloc<A> {
    inner: A,
    on: AtomicBool,
    /// Bytes allocated less bytes freed while counting was on (a free of memory allocated before
    /// counting began subtracts too, so only differences between two readings mean anything).
    live: AtomicI64,
    allocations: AtomicU64,
}

/// A reading of the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocStats {
    /// Whether counting is on.
    pub counting: bool,
    /// Bytes allocated less bytes freed since counting was first turned on.
    pub live: i64,
    /// Allocations (including reallocations) since counting was first turned on.
    pub allocations: u64,
}

impl<A> CountingAlloc<A> {
    /// Wraps `inner`, with counting off.
    pub const fn new(inner: A) -> Self {
        Self {
            inner,
            on: AtomicBool::new(false),
            live: AtomicI64::new(0),
            allocations: AtomicU64::new(0),
        }
    }

    /// Turns counting on or off; returns the counters as they are now.
    pub fn set_counting(&self, on: bool) -> AllocStats {
        self.on.store(on, Ordering::SeqCst);
        self.stats()
    }

    /// The counters as they are now.
    pub fn stats(&self) -> AllocStats {
        AllocStats {
            counting: self.on.load(Ordering::Relaxed),
            live: self.live.load(Ordering::Relaxed),
            allocations: self.allocations.load(Ordering::Relaxed),
        }
    }

    #[inline]
    fn count(&self, delta: i64, new: bool) {
        if self.on.load(Ordering::Relaxed) {
            self.live.fetch_add(delta, Ordering::Relaxed);
            if new {
                self.allocations.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

// SAFETY: every method forwards to `inner`, a `GlobalAlloc`, with the caller's arguments unchanged,
// so `inner`'s guarantees are ours; the counters only observe the calls (they never allocate).
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees (a non-zero-sized layout).
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            self.count(layout.size() as i64, true);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null() {
            self.count(layout.size() as i64, true);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (so by `inner`) with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.count(-(layout.size() as i64), false);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `inner` with `layout`; `new_size` is the caller's valid size.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            self.count(new_size as i64 - layout.size() as i64, true);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    #[test]
    fn counts_live_bytes_only_while_on() {
        let a = CountingAlloc::new(System);
        let layout = Layout::from_size_align(100, 8).unwrap();
        // SAFETY: a non-zero-sized layout; each pointer is freed once with its layout.
        unsafe {
            let before = a.alloc(layout);
            assert_eq!(a.stats().live, 0, "off: not counted");
            a.set_counting(true);
            let p = a.alloc(layout);
            assert_eq!(a.stats().live, 100);
            let p = a.realloc(p, layout, 300);
            assert_eq!(a.stats().live, 300);
            a.dealloc(p, Layout::from_size_align(300, 8).unwrap());
            assert_eq!(a.stats().live, 0);
            assert_eq!(a.stats().allocations, 2);
            a.dealloc(before, layout);
            assert_eq!(a.stats().live, -100, "a free of older memory counts too");
            assert!(!a.set_counting(false).counting);
        }
    }
}
