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
 *
 * The numbers weft-core reads or writes too come from it (crate/binding/src/constants.rs); the
 * others (SYS_*, EV_*, TERM_*, ENV_DEAD, DELIVERY_UNHANDLED) only the hosts read.
 */
import { native } from '../native.js';

export const ENV_TELL = native.ACTOR_ENV_TELL;
export const ENV_ASK = native.ACTOR_ENV_ASK;
export const ENV_SYSTEM = native.ACTOR_ENV_SYSTEM;
/** Rust bundles a sender's consecutive messages to one actor: u32 n, n × (u32 len, envelope). */
export const ENV_BUNDLE = native.ACTOR_ENV_BUNDLE;
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

export const NOTICE_REPLY = native.ACTOR_NOTICE_REPLY;
export const NOTICE_ASK_FAILED = native.ACTOR_NOTICE_ASK_FAILED;
export const NOTICE_ROOM = native.ACTOR_NOTICE_ROOM;
export const NOTICE_LOST = native.ACTOR_NOTICE_LOST;
export const NOTICE_EVENT = native.ACTOR_NOTICE_EVENT;

export const REASON_FULL = native.ACTOR_REASON_FULL;
export const REASON_STOPPED = native.ACTOR_REASON_STOPPED;

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
export const IN_USER = native.ACTOR_IN_USER;
export const IN_SYSTEM = native.ACTOR_IN_SYSTEM;
export const IN_NOTICE = native.ACTOR_IN_NOTICE;
export const OUT_MESSAGE = native.ACTOR_OUT_MESSAGE;
export const OUT_NOTICE = native.ACTOR_OUT_NOTICE;
/** A system message that went around the mailbox (its actor was running). */
export const OUT_CONTROL = native.ACTOR_OUT_CONTROL;

/** `send` delivery codes (crate/core/src/actor.rs: `Delivery`). */
export const DELIVERY_QUEUED = native.ACTOR_DELIVERY_QUEUED;
export const DELIVERY_EVICTED = native.ACTOR_DELIVERY_EVICTED;
export const DELIVERY_DROPPED = native.ACTOR_DELIVERY_DROPPED;
export const DELIVERY_FULL = native.ACTOR_DELIVERY_FULL;
export const DELIVERY_STOPPED = native.ACTOR_DELIVERY_STOPPED;
/** A message type its actor has no handler for (found by the host; see ENV_DEAD). */
export const DELIVERY_UNHANDLED = 5;

export const OVERFLOW_CODES = {
  reject: native.ACTOR_OVERFLOW_REJECT,
  'drop-oldest': native.ACTOR_OVERFLOW_DROP_OLDEST,
  'drop-newest': native.ACTOR_OVERFLOW_DROP_NEWEST,
  wait: native.ACTOR_OVERFLOW_WAIT,
} as const;
