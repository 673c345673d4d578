//! Every number the TypeScript layer shares with weft-core, exported once, from here: the
//! TypeScript modules read these (`native.POOL_KIND_TASK`...) instead of writing the numbers
//! again, and `__test__/wire/protocol.spec.ts` checks each TypeScript name against its value here.
//!
//! - `POOL_*`: the record kinds and flags of the pool's frames (weft-core `pool::frame`).
//! - `ACTOR_*`: the actor transport's envelope kinds, notices, record kinds and delivery codes
//!   (weft-core `actor`), and the mailbox overflow policies (`mailbox::Overflow`).
//! - `STACK_*`: the layout of the shared stacks' fast `pop` scratch buffer (`fast.rs`).

use napi_derive::napi;
use weft_core::actor::{self, envelope, notice};
use weft_core::pool::{self, frame};
use weft_core::Delivery;

use crate::pool::TAKE_CAPPED;

/// The origin of tasks submitted by the main thread.
#[napi]
pub const POOL_MAIN_ORIGIN: u32 = frame::MAIN;
/// The most worker threads a pool has.
#[napi]
pub const POOL_MAX_SLOTS: u32 = frame::MAX_SLOTS as u32;
/// The most task names a pool gives ids to (and before its module has loaded).
#[napi]
pub const POOL_MAX_TASK_NAMES: u32 = pool::MAX_TASK_NAMES as u32;
#[napi]
pub const POOL_MAX_UNCHECKED_TASK_NAMES: u32 = pool::MAX_UNCHECKED_TASK_NAMES as u32;
/// Record kinds.
#[napi]
pub const POOL_KIND_TASK: u32 = frame::KIND_TASK as u32;
#[napi]
pub const POOL_KIND_COMPLETION: u32 = frame::KIND_COMPLETION as u32;
#[napi]
pub const POOL_KIND_ABORT: u32 = frame::KIND_ABORT as u32;
#[napi]
pub const POOL_KIND_SIGNAL: u32 = frame::KIND_SIGNAL as u32;
/// `take`'s `waitMs` for a worker at its `concurrentTasksPerWorker` cap (weft-core `Wait::Capped`):
/// only tasks forked by running tasks, then a wake-up for mail only. Other negatives: event loop.
#[napi]
pub const POOL_TAKE_CAPPED: i32 = TAKE_CAPPED;
/// Where a task take record's payload (u16 name id first) starts in the record's body.
#[napi]
pub const POOL_TASK_PAYLOAD_AT: u32 = frame::TASK_PAYLOAD_AT as u32;
/// Completion flags.
#[napi]
pub const POOL_FLAG_FAILED: u32 = frame::FLAG_FAILED as u32;
#[napi]
pub const POOL_FLAG_LOCAL: u32 = frame::FLAG_LOCAL as u32;

/// The host of the main thread.
#[napi]
pub const ACTOR_MAIN_HOST: u32 = actor::MAIN_HOST;
/// Envelope kinds.
#[napi]
pub const ACTOR_ENV_TELL: u32 = envelope::TELL as u32;
#[napi]
pub const ACTOR_ENV_ASK: u32 = envelope::ASK as u32;
#[napi]
pub const ACTOR_ENV_SYSTEM: u32 = envelope::SYSTEM as u32;
#[napi]
pub const ACTOR_ENV_BUNDLE: u32 = envelope::BUNDLE as u32;
/// Notice kinds and the reasons of ASK_FAILED.
#[napi]
pub const ACTOR_NOTICE_REPLY: u32 = notice::REPLY as u32;
#[napi]
pub const ACTOR_NOTICE_ASK_FAILED: u32 = notice::ASK_FAILED as u32;
#[napi]
pub const ACTOR_NOTICE_ROOM: u32 = notice::ROOM as u32;
#[napi]
pub const ACTOR_NOTICE_LOST: u32 = notice::LOST as u32;
#[napi]
pub const ACTOR_NOTICE_EVENT: u32 = notice::EVENT as u32;
#[napi]
pub const ACTOR_REASON_FULL: u32 = notice::REASON_FULL as u32;
#[napi]
pub const ACTOR_REASON_STOPPED: u32 = notice::REASON_STOPPED as u32;
/// Transport record kinds, into a host (`IN_*`) and out of it (`OUT_*`).
#[napi]
pub const ACTOR_IN_USER: u32 = actor::IN_USER as u32;
#[napi]
pub const ACTOR_IN_SYSTEM: u32 = actor::IN_SYSTEM as u32;
#[napi]
pub const ACTOR_IN_NOTICE: u32 = actor::IN_NOTICE as u32;
#[napi]
pub const ACTOR_OUT_MESSAGE: u32 = actor::OUT_MESSAGE as u32;
#[napi]
pub const ACTOR_OUT_NOTICE: u32 = actor::OUT_NOTICE as u32;
#[napi]
pub const ACTOR_OUT_CONTROL: u32 = actor::OUT_CONTROL as u32;
/// `send` delivery codes.
#[napi]
pub const ACTOR_DELIVERY_QUEUED: u32 = Delivery::Queued as u32;
#[napi]
pub const ACTOR_DELIVERY_EVICTED: u32 = Delivery::Evicted as u32;
#[napi]
pub const ACTOR_DELIVERY_DROPPED: u32 = Delivery::Dropped as u32;
#[napi]
pub const ACTOR_DELIVERY_FULL: u32 = Delivery::Full as u32;
#[napi]
pub const ACTOR_DELIVERY_STOPPED: u32 = Delivery::Stopped as u32;
/// Mailbox overflow policies, as `create` takes them (see `actor.rs`'s `overflow`).
#[napi]
pub const ACTOR_OVERFLOW_REJECT: u32 = 0;
#[napi]
pub const ACTOR_OVERFLOW_DROP_OLDEST: u32 = 1;
#[napi]
pub const ACTOR_OVERFLOW_DROP_NEWEST: u32 = 2;
#[napi]
pub const ACTOR_OVERFLOW_WAIT: u32 = 3;

/// Bytes at the start of the stacks' fast `pop` scratch buffer that hold the popped value's length.
#[napi]
pub const STACK_SCRATCH_HEADER: u32 = crate::fast::SCRATCH_HEADER as u32;
