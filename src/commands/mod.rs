//! The command table: every command slotd knows, as data (name, arity with Redis' sign
//! convention, flags, key positions, docs, handler). Routing reads key positions from here only.
//! Family files (`string`, `keys`, `server`, `cluster`, ...) each export `COMMANDS`.

pub mod bitmap;
pub mod busy;
pub mod client;
pub mod cluster;
pub mod cluster_admin;
pub mod command_docs;
mod context;
pub mod failover;
pub mod functions;
pub mod geo;
pub mod guards;
pub mod hash;
pub mod hll;
pub mod info;
pub mod keys;
pub mod kit;
pub mod latency;
pub mod list;
pub mod memory;
pub mod migrate;
pub mod monitor;
pub mod persistence;
pub mod pubsub;
pub mod registry;
pub mod replication;
pub mod scripting;
pub mod scripting_docs;
pub mod server;
pub mod set;
pub mod slowlog;
pub mod sort;
pub mod spec;
pub mod stream;
pub mod string;
pub mod tracking;
pub mod transaction;
pub mod zset;

pub use context::{AfterReply, ConnCtx, Exec, QueuedTx};
pub use registry::{
    all_commands, exists, full_name, ids_by_name, install_renames, lookup, lookup_sub, name_of,
    spec_of,
};
pub use spec::{flags, ArgDoc, CommandSpec, Handler, KeySpec, ScriptCmd, FLAG_NAMES};

use crate::resp::{Args, ReplyError};

pub type CmdResult = Result<(), ReplyError>;

/// Runs on the shard that owns the command's keys (possibly not the connection's shard).
pub type KeyFn = fn(&mut Exec<'_>, Args<'_>) -> CmdResult;
/// Runs on the connection's shard with access to the client; may fan out to all shards.
pub type ConnFn = fn(&mut ConnCtx<'_>, Args<'_>) -> CmdResult;

/// Reads a SCAN-family cursor as Redis' `strtoul` check does: empty is 0, an optional sign,
/// digits only, negative values wrap, values beyond 64 bits are "ERR invalid cursor".
pub fn parse_cursor(raw: &[u8]) -> Result<u64, ReplyError> {
    let invalid = || ReplyError::other("ERR invalid cursor");
    if raw.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match raw[0] {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}
