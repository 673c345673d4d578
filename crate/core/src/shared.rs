//! The shared structures JavaScript threads attach to by handle.

use crate::registry::{Registered, Registry};
use crate::stack::TreiberStack;
use crate::value::Value;
use std::sync::Arc;

/// A stack of JavaScript values shared by every thread of the process.
pub type ValueStack = TreiberStack<Value>;

static STACKS: Registry<ValueStack> = Registry::new("SharedStack");

/// The registry of live shared stacks.
pub fn stacks() -> &'static Registry<ValueStack> {
    &STACKS
}

/// A new, registered shared stack.
pub fn new_stack() -> Arc<Registered<ValueStack>> {
    STACKS.insert(ValueStack::new())
}
