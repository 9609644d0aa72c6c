//! The write guards a client's command meets before it runs, shared by the dispatcher and
//! MULTI/EXEC: MISCONF after a failed BGSAVE, a read-only replica and NOREPLICAS
//! (`min-replicas-to-write`).

use crate::shard::Shard;
use std::sync::atomic::Ordering;

/// The error a read-only replica answers to writes of normal clients.
pub const READONLY_TEXT: &str = "READONLY You can't write against a read only replica.";

/// Why a write command of a normal client is refused here, if it is: the last BGSAVE failed
/// (stop-writes-on-bgsave-error, checked first as Redis does), a read-only replica (only its
/// master changes the data), or a master with too few good replicas (`min-replicas-to-write`).
/// The global conditions are relaxed loads of flags kept fresh off the request path.
#[inline]
pub fn write_refusal(sh: &Shard) -> Option<&'static str> {
    if sh.global.rdb.writes_refused.load(Ordering::Relaxed) {
        return Some(super::persistence::MISCONF_RDB_TEXT);
    }
    if sh.repl.readonly {
        return Some(READONLY_TEXT);
    }
    if sh.global.repl.writes_refused.load(Ordering::Relaxed) {
        return Some(crate::replication::min_replicas::NOREPLICAS_TEXT);
    }
    None
}
