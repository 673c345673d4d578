//! [`ValueMap`]: the concurrent map JavaScript threads share (`SharedMap`).
//!
//! Two crates, chosen by measurement (`bench/shared/map-crates`, figures in bench/README.md), not a
//! home-made table:
//!
//! * **dashmap** for a plain map (no capacity, no TTL): sharded `RwLock`ed tables. On the 2-core
//!   machine it read about as fast as papaya and scc (25 M gets/s on one thread, 1.7× that on two)
//!   and wrote fastest (30 M sets/s, against 22 for scc and 8 for papaya, whose inserts allocate a
//!   node each and reclaim it through an epoch). Its per-key read-modify-write (`increment`,
//!   `compareAndSet`, `getOrInsert`) runs under its shard's write lock: atomic with no retry loop.
//! * **moka** for a map with a capacity or a TTL: a bounded cache with TinyLFU admission and
//!   LRU eviction, and per-entry expiry (its `Expiry` policy reads each entry's own TTL), so weft
//!   keeps no eviction code of its own. Its read-modify-write is `entry().and_compute_with`, which
//!   serializes the calls on one key. It is much slower than a plain map (it records every read
//!   for its frequency sketch): 1.4 M gets/s on one thread in the same run.
//!
//! Keys are JavaScript strings, numbers and bigints, compared as `Map` compares them
//! (SameValueZero: `NaN` is one key, `0` and `-0` are one key, `1` and `'1'` and `1n` are three).

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use dashmap::DashMap;
use moka::sync::Cache;

use crate::error::{Code, Error, Result};
use crate::sync::unmodelled::{AtomicU64, Ordering};
use crate::value::Value;

/// A map key: a JavaScript number, string or bigint.
#[derive(Clone, Debug)]
pub enum Key {
    /// A number (normalized: `-0` is `0`, every NaN is one NaN).
    Number(f64),
    /// A string.
    String(Arc<str>),
    /// A bigint: sign and magnitude words, least significant first, with no high zero words.
    BigInt {
        /// Whether it is below zero.
        negative: bool,
        /// Its magnitude.
        words: Arc<[u64]>,
    },
}

impl Key {
    /// A number key, normalized for SameValueZero.
    pub fn number(n: f64) -> Key {
        Key::Number(if n == 0.0 {
            0.0
        } else if n.is_nan() {
            f64::NAN
        } else {
            n
        })
    }

    /// A bigint key (high zero words dropped; zero is never negative).
    pub fn bigint(negative: bool, words: &[u64]) -> Key {
        let len = words.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1);
        Key::BigInt {
            negative: negative && len > 0,
            words: words[..len].into(),
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        match (self, other) {
            (Key::Number(a), Key::Number(b)) => a.to_bits() == b.to_bits(),
            (Key::String(a), Key::String(b)) => a == b,
            (
                Key::BigInt {
                    negative: n1,
                    words: w1,
                },
                Key::BigInt {
                    negative: n2,
                    words: w2,
                },
            ) => n1 == n2 && w1 == w2,
            _ => false,
        }
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::Number(n) => {
                state.write_u8(0);
                state.write_u64(n.to_bits());
            }
            Key::String(s) => {
                state.write_u8(1);
                s.hash(state);
            }
            Key::BigInt { negative, words } => {
                state.write_u8(2);
                negative.hash(state);
                words.hash(state);
            }
        }
    }
}

/// Whether two values are the same for `compare_and_set`: primitives by SameValueZero (`NaN`
/// equals `NaN`, `0` equals `-0`), binary data and encoded values by their bytes.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
        (
            Value::BigInt {
                negative: n1,
                words: w1,
            },
            Value::BigInt {
                negative: n2,
                words: w2,
            },
        ) => {
            let trim = |w: &[u64]| w.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
            let (l1, l2) = (trim(w1), trim(w2));
            w1[..l1] == w2[..l2] && (n1 == n2 || l1 == 0)
        }
        _ => a == b,
    }
}

/// A stored value and its own time to live (moka's `Expiry` reads it).
#[derive(Clone)]
struct Entry {
    value: Value,
    ttl: Option<Duration>,
}

struct PerEntry {
    default: Option<Duration>,
}

impl moka::Expiry<Key, Entry> for PerEntry {
    fn expire_after_create(&self, _: &Key, e: &Entry, _: Instant) -> Option<Duration> {
        e.ttl.or(self.default)
    }
    fn expire_after_update(
        &self,
        _: &Key,
        e: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        // A new value starts its own time to live.
        e.ttl.or(self.default)
    }
}

type KeyHasher = foldhash::quality::RandomState;

/// The shards of a plain map (see `ValueMap::new`).
const SHARDS: usize = 64;

enum Table {
    Plain(DashMap<Key, Value, KeyHasher>),
    Cache(Cache<Key, Entry, KeyHasher>),
}

/// A statistics counter that threads add to without sharing a cache line: each thread adds to one
/// of a few padded cells (picked once per thread), and a read sums them. A single shared counter
/// would be a contended read-modify-write on every `get`, and cost the map its read scaling.
struct Striped([CachePadded<AtomicU64>; 8]);

impl Striped {
    fn new() -> Self {
        Striped(std::array::from_fn(|_| CachePadded::new(AtomicU64::new(0))))
    }

    fn add(&self, n: u64) {
        thread_local! {
            static CELL: usize = {
                static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            };
        }
        let i = CELL.with(|c| *c) % self.0.len();
        self.0[i].fetch_add(n, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// Counters of a map (since it was made).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapStats {
    /// Entries now (for a bounded or expiring map, after its pending maintenance has run).
    pub len: usize,
    /// Its capacity (`None`: unbounded).
    pub capacity: Option<u64>,
    /// Reads that found their key.
    pub hits: u64,
    /// Reads that did not.
    pub misses: u64,
    /// Entries evicted for room or expired (bounded or expiring maps).
    pub evictions: u64,
    /// `compare_and_set` calls that found another value.
    pub cas_failures: u64,
}

/// What a read-modify-write found.
enum Outcome<T> {
    Put(Value, T),
    Keep(T),
}

/// A concurrent map of JavaScript keys to values (see the module docs).
pub struct ValueMap {
    table: Table,
    capacity: Option<u64>,
    hits: Striped,
    misses: Striped,
    evictions: Arc<AtomicU64>,
    cas_failures: AtomicU64,
    /// Whether an entry may expire (a default TTL, or an entry set with one): moka's entry count
    /// then lags behind (its timer wheel expires lazily), so `len` counts the live entries.
    expires: std::sync::atomic::AtomicBool,
}

impl Default for ValueMap {
    fn default() -> Self {
        Self::new(None, None).unwrap_or_else(|_| unreachable!("a plain map has no options"))
    }
}

impl ValueMap {
    /// A map: plain (dashmap) without `capacity` and `ttl`; else a moka cache holding about
    /// `capacity` entries (TinyLFU admission, eviction) whose entries expire `ttl` after they were
    /// set (unless set with a TTL of their own).
    pub fn new(capacity: Option<u64>, ttl: Option<Duration>) -> Result<Self> {
        if capacity == Some(0) {
            return Err(Error::new(
                Code::InvalidArg,
                "a bounded map needs a capacity of at least 1",
            ));
        }
        let evictions = Arc::new(AtomicU64::new(0));
        let table = if capacity.is_none() && ttl.is_none() {
            // More shards than dashmap's default (4 × the CPUs): a read takes its shard's lock
            // (an atomic read-modify-write on the lock's line), so two threads reading a hot key
            // set would keep trading those few lines. 64 locks on their own lines cost 8 KiB.
            Table::Plain(DashMap::with_hasher_and_shard_amount(
                KeyHasher::default(),
                SHARDS,
            ))
        } else {
            let counted = evictions.clone();
            let mut builder = Cache::builder()
                .expire_after(PerEntry { default: ttl })
                .eviction_listener(move |_k, _v, cause| {
                    if cause.was_evicted() {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                });
            if let Some(c) = capacity {
                builder = builder.max_capacity(c);
            }
            Table::Cache(builder.build_with_hasher(KeyHasher::default()))
        };
        Ok(ValueMap {
            table,
            capacity,
            hits: Striped::new(),
            misses: Striped::new(),
            evictions,
            cas_failures: AtomicU64::new(0),
            expires: std::sync::atomic::AtomicBool::new(ttl.is_some()),
        })
    }

    /// Its capacity, if bounded.
    pub fn capacity(&self) -> Option<u64> {
        self.capacity
    }

    /// Whether entries may carry a TTL (a bounded or expiring map).
    pub fn expiring(&self) -> bool {
        matches!(self.table, Table::Cache(_))
    }

    fn counted(&self, found: Option<Value>) -> Option<Value> {
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.add(1);
        found
    }

    /// The value of `key`.
    pub fn get(&self, key: &Key) -> Option<Value> {
        let found = match &self.table {
            Table::Plain(m) => m.get(key).map(|r| r.value().clone()),
            Table::Cache(c) => c.get(key).map(|e| e.value),
        };
        self.counted(found)
    }

    /// Whether `key` has a value.
    pub fn has(&self, key: &Key) -> bool {
        match &self.table {
            Table::Plain(m) => m.contains_key(key),
            Table::Cache(c) => c.contains_key(key),
        }
    }

    fn no_ttl_here() -> Error {
        Error::new(
            Code::InvalidArg,
            "a per-entry ttl needs a map made with a capacity or a ttl (new SharedMap({ ttl }))",
        )
    }

    fn note_ttl(&self, ttl: Option<Duration>) {
        if ttl.is_some() {
            self.expires
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Sets `key` to `value` (with its own TTL, on a bounded or expiring map).
    pub fn set(&self, key: Key, value: Value, ttl: Option<Duration>) -> Result<()> {
        match &self.table {
            Table::Plain(m) => {
                if ttl.is_some() {
                    return Err(Self::no_ttl_here());
                }
                m.insert(key, value);
            }
            Table::Cache(c) => {
                self.note_ttl(ttl);
                c.insert(key, Entry { value, ttl })
            }
        }
        Ok(())
    }

    /// Removes `key`; returns whether it had a value.
    pub fn delete(&self, key: &Key) -> bool {
        match &self.table {
            Table::Plain(m) => m.remove(key).is_some(),
            Table::Cache(c) => c.remove(key).is_some(),
        }
    }

    /// Runs `f` on the value of `key` as one atomic step: no other write to `key` interleaves.
    fn modify<T>(
        &self,
        key: Key,
        ttl: Option<Duration>,
        f: impl FnOnce(Option<&Value>) -> Result<Outcome<T>>,
    ) -> Result<T> {
        match &self.table {
            Table::Plain(m) => {
                if ttl.is_some() {
                    return Err(Self::no_ttl_here());
                }
                match m.entry(key) {
                    dashmap::Entry::Occupied(mut o) => match f(Some(o.get()))? {
                        Outcome::Put(v, t) => {
                            o.insert(v);
                            Ok(t)
                        }
                        Outcome::Keep(t) => Ok(t),
                    },
                    dashmap::Entry::Vacant(v) => match f(None)? {
                        Outcome::Put(value, t) => {
                            v.insert(value);
                            Ok(t)
                        }
                        Outcome::Keep(t) => Ok(t),
                    },
                }
            }
            Table::Cache(c) => {
                self.note_ttl(ttl);
                let mut out = None;
                c.entry(key).and_compute_with(|found| {
                    let current = found.as_ref().map(|e| &e.value().value);
                    match f(current) {
                        Ok(Outcome::Put(value, t)) => {
                            out = Some(Ok(t));
                            moka::ops::compute::Op::Put(Entry { value, ttl })
                        }
                        Ok(Outcome::Keep(t)) => {
                            out = Some(Ok(t));
                            moka::ops::compute::Op::Nop
                        }
                        Err(e) => {
                            out = Some(Err(e));
                            moka::ops::compute::Op::Nop
                        }
                    }
                });
                out.unwrap_or_else(|| Err(Error::new(Code::Panic, "compute did not run")))
            }
        }
    }

    /// Adds `delta` to the number at `key` (absent counts as 0) and returns the sum. A value that
    /// is not a number is `WEFT_INVALID_ARG`, and stays as it is.
    pub fn increment(&self, key: Key, delta: f64) -> Result<f64> {
        self.modify(key, None, |found| match found {
            None => Ok(Outcome::Put(Value::Number(delta), delta)),
            Some(Value::Number(n)) => {
                let sum = n + delta;
                Ok(Outcome::Put(Value::Number(sum), sum))
            }
            Some(_) => Err(Error::new(
                Code::InvalidArg,
                "increment: the value at this key is not a number",
            )),
        })
    }

    /// Sets `key` to `next` if its value is `expected` (`None`: if it has none), comparing by
    /// [`same_value`]. Returns whether it did.
    pub fn compare_and_set(
        &self,
        key: Key,
        expected: Option<&Value>,
        next: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let swapped = self.modify(key, ttl, |found| {
            let same = match (found, expected) {
                (None, None) => true,
                (Some(a), Some(b)) => same_value(a, b),
                _ => false,
            };
            Ok(if same {
                Outcome::Put(next, true)
            } else {
                Outcome::Keep(false)
            })
        })?;
        if !swapped {
            self.cas_failures.fetch_add(1, Ordering::Relaxed);
        }
        Ok(swapped)
    }

    /// The value of `key`; if it has none, sets it to `value` first. Returns the value it has now.
    pub fn get_or_insert(&self, key: Key, value: Value, ttl: Option<Duration>) -> Result<Value> {
        self.modify(key, ttl, |found| {
            Ok(match found {
                Some(v) => Outcome::Keep(v.clone()),
                None => Outcome::Put(value.clone(), value),
            })
        })
    }

    /// Removes every entry.
    pub fn clear(&self) {
        match &self.table {
            Table::Plain(m) => m.clear(),
            Table::Cache(c) => {
                c.invalidate_all();
                c.run_pending_tasks();
            }
        }
    }

    /// How many entries (a bounded map first runs its pending evictions; one whose entries can
    /// expire counts its live entries, in O(n)).
    pub fn len(&self) -> usize {
        match &self.table {
            Table::Plain(m) => m.len(),
            Table::Cache(c) => {
                c.run_pending_tasks();
                if self.expires.load(std::sync::atomic::Ordering::Relaxed) {
                    c.iter().count() // skips what has expired; O(n)
                } else {
                    c.entry_count() as usize
                }
            }
        }
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every entry, in no particular order: what each key held at the moment the walk
    /// reached it.
    pub fn entries(&self) -> Vec<(Key, Value)> {
        match &self.table {
            Table::Plain(m) => m
                .iter()
                .map(|r| (r.key().clone(), r.value().clone()))
                .collect(),
            Table::Cache(c) => c.iter().map(|(k, e)| ((*k).clone(), e.value)).collect(),
        }
    }

    /// Its counters.
    pub fn stats(&self) -> MapStats {
        MapStats {
            len: self.len(),
            capacity: self.capacity,
            hits: self.hits.get(),
            misses: self.misses.get(),
            evictions: self.evictions.load(Ordering::Relaxed),
            cas_failures: self.cas_failures.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueMap")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn s(x: &str) -> Key {
        Key::String(x.into())
    }

    #[test]
    fn keys_compare_like_a_js_map() {
        let m = ValueMap::default();
        m.set(Key::number(-0.0), Value::Bool(true), None).unwrap();
        assert_eq!(m.get(&Key::number(0.0)), Some(Value::Bool(true)));
        m.set(Key::number(f64::NAN), Value::Null, None).unwrap();
        assert!(m.has(&Key::number(-f64::NAN)));
        m.set(s("1"), Value::Number(1.0), None).unwrap();
        m.set(Key::bigint(false, &[1, 0]), Value::Number(2.0), None)
            .unwrap();
        assert_eq!(m.get(&Key::bigint(false, &[1])), Some(Value::Number(2.0)));
        assert_eq!(m.get(&Key::number(1.0)), None);
        assert_eq!(m.len(), 4);
        assert!(m.delete(&s("1")));
        assert!(!m.delete(&s("1")));
        assert_eq!(m.len(), 3);
        let st = m.stats();
        assert_eq!((st.hits, st.misses), (2, 1));
        m.clear();
        assert!(m.is_empty());
    }

    #[test]
    fn increment_cas_get_or_insert() {
        for m in [ValueMap::default(), ValueMap::new(Some(100), None).unwrap()] {
            assert_eq!(m.increment(s("n"), 2.0).unwrap(), 2.0);
            assert_eq!(m.increment(s("n"), 0.5).unwrap(), 2.5);
            m.set(s("t"), Value::String("x".into()), None).unwrap();
            assert_eq!(m.increment(s("t"), 1.0).unwrap_err().code, Code::InvalidArg);
            assert_eq!(m.get(&s("t")), Some(Value::String("x".into())));
            assert!(m
                .compare_and_set(s("c"), None, Value::Number(f64::NAN), None)
                .unwrap());
            assert!(!m
                .compare_and_set(s("c"), None, Value::Number(1.0), None)
                .unwrap());
            assert!(m
                .compare_and_set(
                    s("c"),
                    Some(&Value::Number(f64::NAN)),
                    Value::Number(-0.0),
                    None
                )
                .unwrap());
            assert!(m
                .compare_and_set(
                    s("c"),
                    Some(&Value::Number(0.0)),
                    Value::Cloned(vec![1, 2].into()),
                    None
                )
                .unwrap());
            assert!(m
                .compare_and_set(
                    s("c"),
                    Some(&Value::Cloned(vec![1, 2].into())),
                    Value::Null,
                    None
                )
                .unwrap());
            assert_eq!(m.stats().cas_failures, 1);
            assert_eq!(
                m.get_or_insert(s("g"), Value::Bool(true), None).unwrap(),
                Value::Bool(true)
            );
            assert_eq!(
                m.get_or_insert(s("g"), Value::Bool(false), None).unwrap(),
                Value::Bool(true)
            );
        }
    }

    #[test]
    fn ttl_only_on_expiring_maps_and_entries_expire() {
        let plain = ValueMap::default();
        assert_eq!(
            plain
                .set(s("a"), Value::Null, Some(Duration::from_millis(5)))
                .unwrap_err()
                .code,
            Code::InvalidArg
        );
        let m = ValueMap::new(None, Some(Duration::from_secs(60))).unwrap();
        m.set(s("short"), Value::Null, Some(Duration::from_millis(20)))
            .unwrap();
        m.set(s("long"), Value::Null, None).unwrap();
        assert!(m.has(&s("short")));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!m.has(&s("short")));
        assert!(m.has(&s("long")));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn bounded_maps_evict() {
        let m = ValueMap::new(Some(64), None).unwrap();
        for i in 0..10_000 {
            m.set(Key::number(i as f64), Value::Number(i as f64), None)
                .unwrap();
        }
        assert!(m.len() <= 64, "{} entries", m.len());
        assert!(m.stats().evictions > 0);
    }

    #[test]
    fn increments_from_many_threads_add_up() {
        let m = Arc::new(ValueMap::default());
        let c = Arc::new(ValueMap::new(Some(1000), None).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (m, c) = (m.clone(), c.clone());
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        m.increment(Key::number((i % 7) as f64), 1.0).unwrap();
                        c.increment(Key::number((i % 7) as f64), 1.0).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for map in [&*m, &*c] {
            let total: f64 = (0..7)
                .map(|k| match map.get(&Key::number(k as f64)) {
                    Some(Value::Number(n)) => n,
                    _ => 0.0,
                })
                .sum();
            assert_eq!(total, 80_000.0);
        }
    }
}
