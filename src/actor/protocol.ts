/**
 * The byte layouts the actor hosts exchange through weft-core's transport (crate/core/src/actor.rs
 * documents the parts Rust reads).
 *
 *   envelope:  u8 kind (ENV_*) | ASK: u32 reply host, u32 ask id | payload
 *     TELL/ASK payload: the message (a wire value)
 *     SYSTEM payload:   u8 op (SYS_*) | op fields
 *   notice:    u8 kind (NOTICE_*) | fields
 *     REPLY:       u32 ask id | u8 status (0 ok, 1 error) | value
 *     ASK_FAILED:  u32 ask id | u8 reason (REASON_*) | u32 actor      (written by Rust)
 *     ROOM:        u32 actor                                          (written by Rust)
 *     LOST:        u32 n | n × u32 actor                              (written by Rust)
 *     EVENT:       u8 event (EV_*) | u32 actor | fields               (to the main thread)
 */
export const ENV_TELL = 0;
export const ENV_ASK = 1;
export const ENV_SYSTEM = 2;
/** Rust bundles a sender's consecutive messages to one actor: u32 n, n × (u32 len, envelope). */
export const ENV_BUNDLE = 3;
/**
 * A dead letter a host found itself (a message type its actor does not handle, a message for an
 * actor that stopped while the batch holding it was taken): u32 actor | u8 reason (DELIVERY_*) |
 * the message. Sent to actor 0, which never exists, so the transport keeps and counts it with
 * its own dead letters (`system.stats()`, `system.deadLetters()`).
 */
export const ENV_DEAD = 4;

/** Creates the actor on its host: value { key, arg, name, supervision, parent, siblings, moved }. */
export const SYS_START = 1;
/** Stops after the messages queued before it (sent in the user lane, so it keeps its place). */
export const SYS_STOP = 2;
/** Stops at once (system lane). */
export const SYS_KILL = 3;
/** Restart (from a parent whose children are all-for-one). */
export const SYS_RESTART = 4;
/** A child failed and escalated: value = the error. Fields: u32 child. */
export const SYS_CHILD_FAILED = 5;
/** A child restarted (all-for-one parents restart its siblings). Fields: u32 child. */
export const SYS_CHILD_RESTARTED = 6;
/** A child ended. Fields: u32 child. */
export const SYS_CHILD_ENDED = 7;

export const NOTICE_REPLY = 1;
export const NOTICE_ASK_FAILED = 2;
export const NOTICE_ROOM = 3;
export const NOTICE_LOST = 4;
export const NOTICE_EVENT = 5;

export const REASON_FULL = 1;
export const REASON_STOPPED = 2;

/** An actor was spawned on a worker: u32 host, u32 parent, u32 n, n bytes of its START envelope. */
export const EV_SPAWNED = 1;
/** An actor ended: u8 reason (TERM_*), value error. */
export const EV_TERMINATED = 2;
/** An actor restarted (counted for stats). */
export const EV_RESTARTED = 3;

export const TERM_STOPPED = 0;
export const TERM_FAILED = 1;
export const TERM_KILLED = 2;
export const TERM_LOST = 3;
/** Failed to start: no definition with its key on its thread (reported as `'failed'`). */
export const TERM_UNDEFINED = 4;
export const TERM_REASONS = ['stopped', 'failed', 'killed', 'lost', 'failed'] as const;

/** Transport record kinds (crate/core/src/actor.rs: IN_*, OUT_*). */
export const IN_USER = 1;
export const IN_SYSTEM = 2;
export const IN_NOTICE = 3;
export const OUT_MESSAGE = 1;
export const OUT_NOTICE = 2;
/** A system message that went around the mailbox (its actor was running). */
export const OUT_CONTROL = 3;

/** `send` delivery codes (crate/core/src/actor.rs: `Delivery`). */
export const DELIVERY_QUEUED = 0;
export const DELIVERY_EVICTED = 1;
export const DELIVERY_DROPPED = 2;
export const DELIVERY_FULL = 3;
export const DELIVERY_STOPPED = 4;
/** A message type its actor has no handler for (found by the host; see ENV_DEAD). */
export const DELIVERY_UNHANDLED = 5;

export const OVERFLOW_CODES = { reject: 0, 'drop-oldest': 1, 'drop-newest': 2, wait: 3 } as const;
