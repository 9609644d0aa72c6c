//! Stream commands: appends and trims (XADD, XTRIM, XDEL, XSETID), reads (XLEN, XRANGE,
//! XREVRANGE, XREAD and the consumer-group XREADGROUP, both able to block), consumer groups
//! (XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) and introspection (XINFO), with Redis 7.0's
//! replies, error texts and propagated (journaled) forms. Handlers reach keyspaces only
//! through `Exec`; the stream itself is `types::stream::StreamValue`.

use super::{flags::*, ArgDoc, CmdResult, CommandSpec, Exec, KeySpec};
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::value::{Value, ValueRef};
use crate::types::stream::{Entry, StreamId, StreamValue};

mod group;
mod id;
mod info;
mod read;
mod table;
mod write;

use group::*;
use info::*;
use read::*;
pub use table::{BLOCKING_COMMANDS, COMMANDS};
use write::*;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

fn as_stream(v: ValueRef<'_>) -> Result<&StreamValue, ReplyError> {
    match v {
        ValueRef::Stream(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

fn as_stream_mut(v: &mut Value) -> Result<&mut StreamValue, ReplyError> {
    match v {
        Value::Stream(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

/// The stream at `key` for writing: None when absent, WRONGTYPE for another type.
fn stream_mut<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut StreamValue>, ReplyError> {
    match db.lookup_write(key, now_ms) {
        None => Ok(None),
        Some(e) => as_stream_mut(e.value_mut()).map(Some),
    }
}

/// The stream at `key` for reading (counts a keyspace hit or miss).
fn stream_read<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d StreamValue>, ReplyError> {
    match db.lookup_read(key, now_ms) {
        None => Ok(None),
        Some(e) => as_stream(e.value()).map(Some),
    }
}

/// One entry as Redis replies it: `[id, [field, value, ...]]`.
fn write_entry(out: &mut Out<'_>, e: &Entry<'_>) {
    out.array(2);
    id::write_id(out, e.id);
    out.array(2 * e.field_count());
    for (f, v) in e.fields() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// Writes the entries between `start` and `end` (newest first when `rev`), at most `count`
/// of them (0: all), as an array; returns how many.
fn write_range(
    out: &mut Out<'_>,
    s: &StreamValue,
    start: StreamId,
    end: StreamId,
    count: u64,
    rev: bool,
) -> u64 {
    let at = out.buf.len();
    let mut n = 0u64;
    s.range(start, end, rev, |e| {
        write_entry(out, &e);
        n += 1;
        count == 0 || n < count
    });
    insert_header(out.buf, at, b'*', n);
    n
}

/// Inserts an aggregate header (`*n`, `%n`...) at `at`, in front of the `n` elements already
/// written behind it: replies whose length is known only once written.
fn insert_header(buf: &mut Vec<u8>, at: usize, tag: u8, n: u64) {
    let mut head = [0u8; 24];
    head[0] = tag;
    let mut d = [0u8; 20];
    let digits = id::decimal(n, &mut d);
    let mut len = 1 + digits.len();
    head[1..len].copy_from_slice(digits);
    head[len] = b'\r';
    head[len + 1] = b'\n';
    len += 2;
    buf.splice(at..at, head[..len].iter().copied());
}

/// stream-node-max-bytes and stream-node-max-entries as XADD applies them (two relaxed
/// loads, kept current by the config).
fn node_limits() -> (usize, usize) {
    crate::config::stream_nodes::node_limits()
}

/// The time stream fields are stamped with (delivery and seen times, `*` IDs): the command's
/// clock, or the wall clock when the command runs without one (a replica applies its
/// master's records at time 0 so that no key expires under them; Redis' replicas stamp
/// XCLAIM with their own clock too). Key lookups keep the command's time.
fn stream_clock(ex: &Exec<'_>) -> u64 {
    if ex.now_ms == 0 {
        crate::clock::unix_ms()
    } else {
        ex.now_ms
    }
}

/// Redis' NOGROUP error naming the key and group.
fn no_group(key: &[u8], group: &[u8]) -> ReplyError {
    ReplyError::Other(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// The NOGROUP error of XGROUP and XINFO.
fn no_group_for_key(group: &[u8], key: &[u8]) -> ReplyError {
    ReplyError::Other(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

/// A RESP integer argument as Redis' `getLongLongFromObjectOrReply` reads it, with `msg` as
/// the error text when given.
fn ll_arg(b: &[u8], msg: Option<&str>) -> Result<i64, ReplyError> {
    crate::resp::parse::parse_i64(b).ok_or_else(|| match msg {
        Some(m) => ReplyError::other(format!("ERR {m}")),
        None => ReplyError::NotInteger,
    })
}
