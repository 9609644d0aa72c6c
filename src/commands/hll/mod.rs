//! HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST) over string values in
//! Redis 7.0's exact layout (`types::hll`): the same bytes, counts, errors and propagation as
//! redis-server. Handlers edit the value in place (no allocation per call once a key's value
//! is boxed); they never touch another family's values except to answer WRONGTYPE.

use super::{CmdResult, Exec};
use crate::keyspace::entry::Stored;
use crate::resp::ReplyError;
use crate::shard::db::{Db, Entry};
use crate::shard::value::{StrValue, Value, ValueRef};
use crate::types::hll;
use std::sync::atomic::Ordering;

mod count;
mod debug;
mod table;
#[cfg(test)]
mod tests;

pub use table::COMMANDS;

/// Redis' answer for a string that is not a HyperLogLog.
fn not_hll() -> ReplyError {
    ReplyError::other("WRONGTYPE Key is not a valid HyperLogLog string value.")
}

/// Redis' answer for a HyperLogLog whose registers do not add up.
fn corrupt() -> ReplyError {
    ReplyError::other("INVALIDOBJ Corrupted HLL object detected")
}

/// The bytes of a valid HyperLogLog value, or Redis' WRONGTYPE errors.
fn hll_bytes(v: ValueRef<'_>) -> Result<&[u8], ReplyError> {
    match v {
        ValueRef::Str(b) => hll::check(b).map(|_| b).map_err(|_| not_hll()),
        _ => Err(ReplyError::WrongType),
    }
}

/// The value of a key that passed `hll_bytes`, for editing in place. Like Redis' unsharing
/// of the string, it is reported as "raw" from now on.
fn hll_mut(e: &mut Entry) -> &mut Vec<u8> {
    match e.value_mut() {
        Value::Str(s) => {
            s.modified = true;
            &mut s.bytes
        }
        other => panic!("HyperLogLog edit of a {}", other.type_name()),
    }
}

/// The cached count of a value `hll_bytes` accepted, when it is valid and the value is already
/// "raw" (so `hll_mut` would change nothing that can be seen).
fn raw_cached_count(e: &Entry) -> Option<u64> {
    match e.stored() {
        Stored::Inline {
            bytes,
            modified: true,
        } => hll::cached(bytes),
        Stored::Boxed(Value::Str(s)) if s.modified => hll::cached(&s.bytes),
        _ => None,
    }
}

/// Stores a new HyperLogLog value at `key` (no TTL).
fn store_new(db: &mut Db, key: &[u8], bytes: Vec<u8>, now_ms: u64) {
    let v = StrValue {
        bytes,
        modified: true,
    };
    db.set(key, Value::Str(v), 0, now_ms);
}

/// `hll-sparse-max-bytes` in force.
fn sparse_max_bytes(ex: &Exec<'_>) -> u64 {
    ex.shard.global.hll_sparse_max_bytes.load(Ordering::Relaxed)
}
