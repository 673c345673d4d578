//! The byte records exchanged between JavaScript and the scheduler. Little-endian throughout.
//!
//! ```text
//! submit   (JS -> pool)    u32 len | u32 id | i32 target (-1: any worker) | payload
//! take     (pool -> worker) u8 kind | u32 len | body
//!            kind 1 task:        u32 origin | u32 id | u32 seq | payload
//!              (seq: the task's number among those handed to this worker incarnation)
//!            kind 2 completion:  u32 id | result      (of a task this worker spawned; no
//!                                result: it was cancelled and dropped before it ran)
//!            kind 3 abort:       u32 origin | u32 id | u32 seq (the task handed here as
//!                                number seq was aborted)
//!            kind 4 signal:      u32 id | u32 token   (wake the subsystem `id` living on this
//!                                worker, an actor host; see `Pool::signal`)
//! complete (worker -> pool) u32 len | u32 origin | u32 id | u8 flags | f32 run_ms | result
//!            flags: 1 failed, 2 settled in the worker itself (no delivery)
//! drain    (pool -> main)  u32 len | u32 id | result  (no result: cancelled and dropped
//!                                                    before it ran)
//! ```
//! `len` counts the bytes after the length field (after `kind` for take records). `payload` and
//! `result` belong to the TypeScript wire codec.

use crate::error::{Code, Error, Result};

/// Who submitted a task: [`MAIN`] or a worker incarnation (`generation << 8 | slot + 1`).
pub type Origin = u32;
/// The main thread.
pub const MAIN: Origin = 0;
/// The most worker slots a pool can have.
pub const MAX_SLOTS: usize = 255;

/// A take record: a task to run.
pub const KIND_TASK: u8 = 1;
/// A take record: the completion of a task this worker spawned.
pub const KIND_COMPLETION: u8 = 2;
/// A take record: a task handed to this worker was aborted.
pub const KIND_ABORT: u8 = 3;
/// A wake-up for a subsystem living on the worker (an actor host): `u32 id | u32 token`.
pub const KIND_SIGNAL: u8 = 4;

/// A complete record's flag: the task failed (its result is the error).
pub const FLAG_FAILED: u8 = 1;
/// A complete record's flag: the task was settled in the worker itself (no delivery).
pub const FLAG_LOCAL: u8 = 2;

/// The origin of a worker incarnation: its slot and generation (mod 2^24), never [`MAIN`].
pub fn origin(slot: usize, generation: u32) -> Origin {
    ((generation & 0x00ff_ffff) << 8) | (slot as u32 + 1)
}

/// The slot of a worker origin (meaningless for [`MAIN`]).
pub fn slot_of(origin: Origin) -> usize {
    ((origin & 0xff) as usize).wrapping_sub(1)
}

/// A parsed submit record.
pub struct SubmitRecord<'a> {
    /// The task id (chosen by the submitter, unique among its tasks in flight).
    pub id: u32,
    /// The worker slot it must run on (`None`: any worker).
    pub target: Option<usize>,
    /// The task name id and the encoded arguments.
    pub payload: &'a [u8],
}

/// A parsed complete record.
pub struct CompleteRecord<'a> {
    /// Who submitted the task.
    pub origin: Origin,
    /// The task id.
    pub id: u32,
    /// Whether it failed.
    pub failed: bool,
    /// Whether it was settled in the worker itself (nothing to deliver).
    pub local: bool,
    /// How long it ran, in milliseconds.
    pub run_ms: f32,
    /// The encoded result (or error).
    pub payload: &'a [u8],
}

fn bad(what: &str) -> Error {
    Error::new(Code::InvalidArg, format!("malformed {what} record batch"))
}

struct Cursor<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.buf.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn done(&self) -> bool {
        self.at == self.buf.len()
    }
}

/// Parses a batch of submit records.
pub fn parse_submit(buf: &[u8]) -> Result<Vec<SubmitRecord<'_>>> {
    let mut c = Cursor { buf, at: 0 };
    let mut out = Vec::new();
    while !c.done() {
        let len = c.u32().ok_or_else(|| bad("submit"))? as usize;
        let mut r = Cursor {
            buf: c.take(len).ok_or_else(|| bad("submit"))?,
            at: 0,
        };
        let id = r.u32().ok_or_else(|| bad("submit"))?;
        let target = r.u32().ok_or_else(|| bad("submit"))? as i32;
        out.push(SubmitRecord {
            id,
            target: usize::try_from(target).ok(),
            payload: &r.buf[r.at..],
        });
    }
    Ok(out)
}

/// Parses a batch of complete records.
pub fn parse_complete(buf: &[u8]) -> Result<Vec<CompleteRecord<'_>>> {
    let mut c = Cursor { buf, at: 0 };
    let mut out = Vec::new();
    while !c.done() {
        let len = c.u32().ok_or_else(|| bad("complete"))? as usize;
        let mut r = Cursor {
            buf: c.take(len).ok_or_else(|| bad("complete"))?,
            at: 0,
        };
        let origin = r.u32().ok_or_else(|| bad("complete"))?;
        let id = r.u32().ok_or_else(|| bad("complete"))?;
        let flags = r.take(1).ok_or_else(|| bad("complete"))?[0];
        let run_ms = f32::from_bits(r.u32().ok_or_else(|| bad("complete"))?);
        out.push(CompleteRecord {
            origin,
            id,
            failed: flags & FLAG_FAILED != 0,
            local: flags & FLAG_LOCAL != 0,
            run_ms,
            payload: &r.buf[r.at..],
        });
    }
    Ok(out)
}

/// Where a task take record's payload starts in its body (after `origin`, `id` and `seq`): the
/// worker peeks the task's name id there (the payload opens with it).
pub const TASK_PAYLOAD_AT: usize = 12;

/// Appends a task take record.
pub fn write_task(out: &mut Vec<u8>, origin: Origin, id: u32, seq: u32, payload: &[u8]) {
    out.push(KIND_TASK);
    out.extend_from_slice(&(TASK_PAYLOAD_AT as u32 + payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&origin.to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Parses a give-back list: pairs of `u32 origin | u32 id`.
pub fn parse_ids(buf: &[u8]) -> Result<Vec<(Origin, u32)>> {
    if !buf.len().is_multiple_of(8) {
        return Err(bad("give-back"));
    }
    Ok(buf
        .chunks_exact(8)
        .map(|c| {
            (
                u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            )
        })
        .collect())
}

/// Appends a completion take record (for a worker that spawned the task).
pub fn write_worker_completion(out: &mut Vec<u8>, id: u32, result: &[u8]) {
    out.push(KIND_COMPLETION);
    out.extend_from_slice(&(4 + result.len() as u32).to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(result);
}

/// Appends an abort take record.
pub fn write_abort(out: &mut Vec<u8>, origin: Origin, id: u32, seq: u32) {
    out.push(KIND_ABORT);
    out.extend_from_slice(&12u32.to_le_bytes());
    out.extend_from_slice(&origin.to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
}

/// Appends a signal take record.
pub fn write_signal(out: &mut Vec<u8>, id: u32, token: u32) {
    out.push(KIND_SIGNAL);
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&token.to_le_bytes());
}

/// Appends a drain record (a completion for the main thread).
pub fn write_main_completion(out: &mut Vec<u8>, id: u32, result: &[u8]) {
    out.extend_from_slice(&(4 + result.len() as u32).to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_round_trip() {
        for slot in [0usize, 1, 254] {
            for generation in [1u32, 77, 0x00ff_ffff] {
                let o = origin(slot, generation);
                assert_ne!(o, MAIN);
                assert_eq!(slot_of(o), slot);
            }
        }
    }

    #[test]
    fn submit_records_parse_and_reject_truncation() {
        let mut buf = Vec::new();
        for (id, target, payload) in [(7u32, -1i32, &b"abc"[..]), (8, 2, &b""[..])] {
            buf.extend_from_slice(&(8 + payload.len() as u32).to_le_bytes());
            buf.extend_from_slice(&id.to_le_bytes());
            buf.extend_from_slice(&target.to_le_bytes());
            buf.extend_from_slice(payload);
        }
        let r = parse_submit(&buf).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].id, r[0].target, r[0].payload), (7, None, &b"abc"[..]));
        assert_eq!((r[1].id, r[1].target, r[1].payload), (8, Some(2), &b""[..]));
        assert!(parse_submit(&buf[..buf.len() - 1]).is_err());
        assert!(parse_submit(&[1, 0, 0, 0, 9]).is_err());
    }
}
