//! [`Notify`]: how weft-core calls back into the thread that must act.

/// A wake-up callback: the main thread's threadsafe function, a pool worker's event-loop waker,
/// an actor host's wake-up, a mailbox's room callback.
///
/// It runs on whichever thread has news (a worker completing a task, a sender queueing a message),
/// often while that thread is in the middle of its own work, so it must not block and must not
/// call back into the structure that calls it. The structures call it at most once per batch
/// (each guards it with a flag that the woken side re-arms), so it need not dedupe either.
pub type Notify = Box<dyn Fn() + Send + Sync>;
