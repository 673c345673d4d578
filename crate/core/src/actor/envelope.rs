//! The fixed head of a message envelope, the only part of it the actor transport reads.
//!
//! ```text
//! u8 kind   TELL (0) | ASK (1) | SYSTEM (2)
//! ASK:      u32 reply host, u32 ask id
//! then the JavaScript payload
//! ```

/// A message that wants no reply.
pub const TELL: u8 = 0;
/// A message whose reply (or failure) goes to the asking host as a notice.
pub const ASK: u8 = 1;
/// A lifecycle or supervision message, for the system lane.
pub const SYSTEM: u8 = 2;
/// Several user envelopes from one sender to one unbounded mailbox, in order: `u32 count`,
/// then `count × (u32 len, envelope)`. `send_batch` bundles a sender's consecutive messages
/// to the same actor, so a run of sends costs one queue push and one wake check, not one each.
pub const BUNDLE: u8 = 3;

/// The envelopes inside a bundle (or the envelope itself).
pub fn each(env: &[u8], mut f: impl FnMut(&[u8])) {
    if env.first() != Some(&BUNDLE) {
        f(env);
        return;
    }
    let mut at = 5;
    while at + 4 <= env.len() {
        let len = u32::from_le_bytes([env[at], env[at + 1], env[at + 2], env[at + 3]]) as usize;
        let Some(inner) = env.get(at + 4..at + 4 + len) else {
            return;
        };
        f(inner);
        at += 4 + len;
    }
}

/// How many messages an envelope holds.
pub fn count(env: &[u8]) -> usize {
    if env.first() == Some(&BUNDLE) && env.len() >= 5 {
        u32::from_le_bytes([env[1], env[2], env[3], env[4]]) as usize
    } else {
        1
    }
}

/// The reply address of an ask envelope.
pub fn ask_of(env: &[u8]) -> Option<(u32, u32)> {
    if env.len() >= 9 && env[0] == ASK {
        let host = u32::from_le_bytes([env[1], env[2], env[3], env[4]]);
        let id = u32::from_le_bytes([env[5], env[6], env[7], env[8]]);
        Some((host, id))
    } else {
        None
    }
}
