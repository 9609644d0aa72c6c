//! The hand-over of a script run that yielded past `busy-reply-threshold`: the dispatcher's
//! script runner leaves one here (`Shard::suspended`) instead of a reply (an EXEC whose script
//! yielded leaves itself, wrapping the script's), and the event loop takes it, answers the
//! shard's other commands with -BUSY, and continues the run a slice per turn until it ends.
//! Plain data: nothing here runs Lua or touches a socket.

use super::Shard;
use crate::resp::{Out, Proto};

/// One slice of a suspended run: continues it with the shard, and returns true when it ended
/// (its reply, or its error reply, is then written to the `Out`); false when it yielded again
/// (nothing written).
pub type ResumeFn = Box<dyn FnMut(&mut Shard, &mut Out<'_>, u64) -> bool>;

/// A script or function past the threshold (or the EXEC around it), between two slices.
pub struct Suspended {
    /// Continues the run (the runner's closure over the engine's suspended coroutine).
    pub resume: ResumeFn,
    /// The protocol its reply is written in (the client's).
    pub proto: Proto,
}
