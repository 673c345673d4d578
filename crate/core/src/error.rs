//! weft's error codes, shared by the Rust core, the binding and the TypeScript layer.
//!
//! A code is part of the public API: once released it never changes meaning. The TypeScript
//! `WeftErrorCode` union lists the same strings, and a test checks that both lists agree.

use std::fmt;

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// A stable error code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as JavaScript sees it in `error.code`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    /// An operation was cancelled through an AbortSignal.
    Aborted => "WEFT_ABORTED",
    /// A queue with `maxQueue` set is full.
    QueueFull => "WEFT_QUEUE_FULL",
    /// A worker thread exited while running the task.
    WorkerExit => "WEFT_WORKER_EXIT",
    /// A bounded mailbox refused a message.
    MailboxFull => "WEFT_MAILBOX_FULL",
    /// An `ask` got no reply in time.
    AskTimeout => "WEFT_ASK_TIMEOUT",
    /// A message was sent to a stopped actor.
    ActorStopped => "WEFT_ACTOR_STOPPED",
    /// A `par` closure is outside the compilable subset.
    ParCompile => "WEFT_PAR_COMPILE",
    /// The pool, system or structure is closed.
    Closed => "WEFT_CLOSED",
    /// An argument has the wrong type or range.
    InvalidArg => "WEFT_INVALID_ARG",
    /// A value cannot be cloned to another thread.
    DataClone => "WEFT_DATA_CLONE",
    /// A handle names a shared structure that no longer exists or belongs to another process.
    StaleHandle => "WEFT_STALE_HANDLE",
    /// Native code panicked; the operation failed but the process is intact. Always a weft bug.
    Panic => "WEFT_PANIC",
    /// No prebuilt native binary exists for this platform (raised by the JavaScript loader).
    NoBinary => "WEFT_NO_BINARY",
    /// The node that hosts the target of an ask was declared down (weftjs/cluster; the handler
    /// may or may not have run).
    NodeDown => "WEFT_NODE_DOWN",
    /// No node hosts the named actor (weftjs/cluster).
    NoActor => "WEFT_NO_ACTOR",
    /// This node has no connection to the cluster's servers (weftjs/cluster).
    Disconnected => "WEFT_DISCONNECTED",
    /// A message is larger than the servers accept (weftjs/cluster).
    MessageTooLarge => "WEFT_MESSAGE_TOO_LARGE",
    /// The servers refused this node's credentials (weftjs/cluster).
    Auth => "WEFT_AUTH",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable code and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What kind of failure (stable, shared with JavaScript).
    pub code: Code,
    /// What happened, for people.
    pub message: String,
}

impl Error {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// A result whose error is an [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// The message of a caught panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs `f`, turning a panic into an [`Error`] with [`Code::Panic`].
pub fn catch_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Error::new(
            Code::Panic,
            format!(
                "internal error (a bug in weft, please report it): {}",
                panic_message(payload.as_ref())
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(c.as_str().starts_with("WEFT_"), "{c}");
            assert!(seen.insert(c.as_str()), "duplicate {c}");
        }
    }

    #[test]
    fn catch_panic_turns_panics_into_errors() {
        let r: Result<()> = catch_panic(|| panic!("boom {}", 1));
        let e = r.unwrap_err();
        assert_eq!(e.code, Code::Panic);
        assert!(e.message.contains("boom 1"), "{}", e.message);
        assert_eq!(catch_panic(|| Ok(3)), Ok(3));
    }
}
