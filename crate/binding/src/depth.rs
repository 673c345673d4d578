//! `actorLoads`: the loads of a group of actors in one call, for least-mailbox routers
//! (src/actor/router.ts). A free function over the system's id, so that it works on every thread
//! that holds refs of the system (refs carry its id and the process token).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weft_core::actor;

use crate::errors::{guard, WeftStatus};

/// Writes to `out[i]` the load of actor `ids[i]` of actor system `system`: `2 × queued +
/// busy` (queued: messages in its mailbox; busy: its thread holds a batch of its messages), or
/// 0xFFFFFFFF when the actor is not running. Throws WEFT_STALE_HANDLE when the system is gone.
#[napi(js_name = "actorLoads")]
pub fn actor_loads(
    system: f64,
    token: u32,
    ids: Uint32ArraySlice,
    mut out: Uint32ArraySlice,
) -> napi::Result<(), WeftStatus> {
    guard(|| {
        let sys = actor::systems().get(system as u64, token)?;
        // SAFETY: `out` is a typed array of the calling thread, which runs this call and no
        // JavaScript meanwhile; it is written only here, within its length.
        let out = unsafe { out.as_mut() };
        sys.loads(&ids, out);
        Ok(())
    })
}
