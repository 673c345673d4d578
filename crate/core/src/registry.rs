//! Process-wide registries that let any thread attach to a shared structure by a plain id.
//!
//! An entry holds only a weak reference: the structure lives exactly as long as some thread holds
//! a strong one, and attaching after that fails cleanly instead of reviving freed memory.

use std::collections::BTreeMap;
use std::ops::Deref;
// std's, also under loom: registries are `static`s (const constructors), and no handshake runs
// through them.
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::error::{Code, Error, Result};
use crate::sync::unmodelled::{AtomicU64, Ordering};

/// A token that differs between processes (and between loads of the library), so that a handle
/// carried to another process is recognised as foreign rather than matched by accident.
pub fn process_token() -> u32 {
    static TOKEN: OnceLock<u32> = OnceLock::new();
    *TOKEN.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded from the OS's randomness once per process.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        // Keep it a positive 31-bit number so JavaScript sees a small integer.
        (h.finish() as u32) & 0x7fff_ffff
    })
}

/// A weak id → structure map.
pub struct Registry<T: 'static> {
    kind: &'static str,
    entries: Mutex<BTreeMap<u64, Weak<Registered<T>>>>,
    next_id: AtomicU64,
}

/// A structure known to a registry; removes itself from it when the last strong reference goes.
pub struct Registered<T: 'static> {
    id: u64,
    registry: &'static Registry<T>,
    value: T,
}

impl<T> Registered<T> {
    /// Its id in the registry (never reused).
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl<T> Deref for Registered<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Drop for Registered<T> {
    fn drop(&mut self) {
        let mut entries = self
            .registry
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Only remove our own (dead) entry: ids are never reused, so this is always ours.
        entries.remove(&self.id);
    }
}

impl<T> Registry<T> {
    /// An empty registry of structures of `kind` (named in errors).
    pub const fn new(kind: &'static str) -> Self {
        Self {
            kind,
            entries: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// Registers a structure and returns the first strong reference to it.
    pub fn insert(&'static self, value: T) -> Arc<Registered<T>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(Registered {
            id,
            registry: self,
            value,
        });
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Arc::downgrade(&entry));
        entry
    }

    /// Attaches to a live structure.
    pub fn get(&self, id: u64, token: u32) -> Result<Arc<Registered<T>>> {
        if token != process_token() {
            return Err(Error::new(
                Code::StaleHandle,
                format!(
                    "this {} handle was made in another process (or by another copy of weft); \
                     handles only work inside the process that created them",
                    self.kind
                ),
            ));
        }
        let found = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .and_then(Weak::upgrade);
        found.ok_or_else(|| {
            Error::new(
                Code::StaleHandle,
                format!(
                    "{} #{id} no longer exists: every thread that held it has released it; keep \
                     a reference to it alive while its handle is in flight",
                    self.kind
                ),
            )
        })
    }

    /// How many structures are alive.
    pub fn live(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static REG: Registry<String> = Registry::new("Thing");

    #[test]
    fn attach_while_alive_and_fail_after() {
        let a = REG.insert("x".to_owned());
        let id = a.id();
        let b = REG.get(id, process_token()).unwrap();
        assert_eq!(&**b, "x");
        drop(a);
        assert_eq!(&**REG.get(id, process_token()).unwrap(), "x");
        drop(b);
        let e = REG.get(id, process_token()).err().unwrap();
        assert_eq!(e.code, Code::StaleHandle);
        assert!(e.message.contains("no longer exists"));
        let e = REG.get(id, process_token() ^ 1).err().unwrap();
        assert!(e.message.contains("another process"));
    }
}
