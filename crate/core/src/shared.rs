//! The shared structures JavaScript threads attach to by handle.

use crate::error::Result;
#[cfg(not(loom))]
use crate::map::ValueMap;
use crate::queue::Queue;
use crate::registry::{Registered, Registry};
use crate::stack::TreiberStack;
use crate::value::Value;
use std::sync::Arc;

/// A stack of JavaScript values shared by every thread of the process.
pub type ValueStack = TreiberStack<Value>;

/// A FIFO queue of JavaScript values shared by every thread of the process.
pub type ValueQueue = Queue<Value>;

static STACKS: Registry<ValueStack> = Registry::new("SharedStack");
static QUEUES: Registry<ValueQueue> = Registry::new("SharedQueue");
#[cfg(not(loom))]
static MAPS: Registry<ValueMap> = Registry::new("SharedMap");

/// The registry of live shared stacks.
pub fn stacks() -> &'static Registry<ValueStack> {
    &STACKS
}

/// A new, registered shared stack.
pub fn new_stack() -> Arc<Registered<ValueStack>> {
    STACKS.insert(ValueStack::new())
}

/// The registry of live shared queues.
pub fn queues() -> &'static Registry<ValueQueue> {
    &QUEUES
}

/// A new, registered shared queue: unbounded, or holding at most `capacity` values.
pub fn new_queue(capacity: Option<usize>) -> Result<Arc<Registered<ValueQueue>>> {
    let queue = match capacity {
        None => ValueQueue::unbounded(),
        Some(n) => ValueQueue::bounded(n)?,
    };
    Ok(QUEUES.insert(queue))
}

/// The registry of live shared maps.
#[cfg(not(loom))]
pub fn maps() -> &'static Registry<ValueMap> {
    &MAPS
}

/// A new, registered shared map (see [`ValueMap::new`]).
#[cfg(not(loom))]
pub fn new_map(
    capacity: Option<u64>,
    ttl: Option<std::time::Duration>,
) -> Result<Arc<Registered<ValueMap>>> {
    Ok(MAPS.insert(ValueMap::new(capacity, ttl)?))
}
