//! Notices: records for a host that are not messages to one of its actors.
//!
//! ```text
//! u8 kind, then
//! REPLY (1):       u32 ask id, then the JavaScript reply (written by JavaScript)
//! ASK_FAILED (2):  u32 ask id, u8 reason (REASON_*), u32 actor
//! ROOM (3):        u32 actor              a full `wait` mailbox has room again
//! LOST (4):        u32 n, n × u32 actor   these actors lost their thread (asks to them fail)
//! EVENT (5):       JavaScript lifecycle records (written by JavaScript)
//! ```

/// The reply to an ask.
pub const REPLY: u8 = 1;
/// An ask whose message was refused, dropped or undeliverable.
pub const ASK_FAILED: u8 = 2;
/// A full `wait` mailbox has room again.
pub const ROOM: u8 = 3;
/// Actors that lost their thread.
pub const LOST: u8 = 4;
/// A lifecycle event (written by JavaScript).
pub const EVENT: u8 = 5;

/// The mailbox was full (`reject`, `wait`) or dropped the message (`drop-*`).
pub const REASON_FULL: u8 = 1;
/// The actor has stopped (or never existed).
pub const REASON_STOPPED: u8 = 2;
