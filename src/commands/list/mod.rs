//! List commands: pushes, pops, ranges, search, edits and moves between lists (LPUSH ..
//! LMPOP), plus the "try now" halves of the blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
//! BLMPOP) that the event loop calls before parking a client. Handlers reach keyspaces only
//! through `Exec::db`; the list itself is `types::list::ListValue`.

use super::kit::number::timeout::timeout_ms as parse_timeout;
use super::kit::number::{i64_arg, parse_i64};
use super::kit::numkeys::Mpop;
use super::kit::{self, ArgCursor};
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, Exec, KeySpec};
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::notify;
use crate::shard::value::{Value, ValueRef};
use crate::types::list::{End, ListValue, PosQuery};
mod edit;
mod moves;
mod pushpop;
mod read;
mod table;
#[cfg(test)]
mod tests;

use edit::*;
use moves::*;
use pushpop::*;
use read::*;
pub use table::{BLOCKING_COMMANDS, COMMANDS};

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

fn as_list(v: ValueRef<'_>) -> Result<&ListValue, ReplyError> {
    match v {
        ValueRef::List(l) => Ok(l),
        _ => Err(ReplyError::WrongType),
    }
}

fn as_list_mut(v: &mut Value) -> Result<&mut ListValue, ReplyError> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(ReplyError::WrongType),
    }
}

/// LEFT or RIGHT (any case), else a syntax error.
fn end_arg(b: &[u8]) -> Result<End, ReplyError> {
    if b.eq_ignore_ascii_case(b"left") {
        Ok(End::Head)
    } else if b.eq_ignore_ascii_case(b"right") {
        Ok(End::Tail)
    } else {
        Err(ReplyError::Syntax)
    }
}

/// The list at `key` for writing: None when absent, WRONGTYPE for another type.
fn list_mut<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut ListValue>, ReplyError> {
    match db.lookup_write(key, now_ms) {
        None => Ok(None),
        Some(e) => as_list_mut(e.value_mut()).map(Some),
    }
}

/// Deletes `key` when its list has become empty (an empty list never stays in the keyspace).
/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The keyspace event of a pop at `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

fn drop_if_empty(db: &mut Db, key: &[u8], now_ms: u64) {
    let empty = matches!(
        db.lookup_write(key, now_ms).map(|e| e.value()),
        Some(ValueRef::List(l)) if l.is_empty()
    );
    if empty {
        db.remove(key, now_ms);
    }
}

/// Pops up to `count` elements of the list at `key` (present and non-empty), writing them as
/// an array, and deletes the key when emptied. Returns how many were popped.
fn pop_into_reply(
    db: &mut Db,
    out: &mut Out<'_>,
    key: &[u8],
    end: End,
    count: u64,
    now_ms: u64,
) -> usize {
    let Some(Ok(l)) = db
        .lookup_write(key, now_ms)
        .map(|e| as_list_mut(e.value_mut()))
    else {
        out.array(0);
        return 0;
    };
    let n = usize::try_from(count).unwrap_or(usize::MAX).min(l.len());
    out.array(n);
    for _ in 0..n {
        if let Some(e) = l.pop(end) {
            out.bulk(e.as_bytes());
        }
    }
    if l.is_empty() {
        db.remove(key, now_ms);
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Blocking pops: the part that runs at once
// ---------------------------------------------------------------------------------------------

/// The outcome of trying a blocking list command right now.
#[derive(Debug, PartialEq, Eq)]
pub enum BlockTry {
    /// An element was there: the reply is written and the change counted (`ex.dirty`).
    Served,
    /// Nothing to take yet: nothing is written; the client should wait as described.
    Wait(BlockWait),
}

/// What a client that has to wait is waiting for.
#[derive(Debug, PartialEq, Eq)]
pub struct BlockWait {
    /// The keys, in argument order, whose turning into a non-empty list may serve the client.
    pub keys: Vec<Vec<u8>>,
    /// Relative timeout in milliseconds; 0 waits forever (see `deadline_ms`).
    pub timeout_ms: u64,
    /// The reply when the client may not block (inside MULTI/EXEC, scripts).
    pub no_wait_reply: NullReply,
}

/// Which null a blocking command answers with when it cannot wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullReply {
    /// Null bulk string (BLMOVE, BRPOPLPUSH).
    Bulk,
    /// Null array (BLPOP, BRPOP, BLMPOP).
    Array,
}

impl NullReply {
    pub fn write(self, out: &mut Out<'_>) {
        match self {
            NullReply::Bulk => out.null(),
            NullReply::Array => out.null_array(),
        }
    }
}

/// The reply to a client whose wait timed out: a null array for every blocking list command
/// in Redis 7.0, BLMOVE and BRPOPLPUSH included.
pub fn write_timeout_reply(out: &mut Out<'_>) {
    out.null_array();
}

/// The absolute deadline of a wait that starts at `now_ms`; None waits forever. Redis 7.0
/// adds the timeout to the clock without an overflow check, and a wrapped (negative)
/// deadline expires at the first check: such timeouts are due at once here too.
pub fn deadline_ms(now_ms: u64, timeout_ms: u64) -> Option<u64> {
    if timeout_ms == 0 {
        return None;
    }
    match now_ms.checked_add(timeout_ms) {
        Some(at) if at <= i64::MAX as u64 => Some(at),
        _ => Some(now_ms),
    }
}

fn keys_between(args: Args<'_>, first: usize, end: usize) -> Vec<Vec<u8>> {
    (first..end).map(|i| args.get(i).to_vec()).collect()
}

/// BLPOP/BRPOP: the first existing key must be a list, which gives its element.
fn try_bpop(ex: &mut Exec<'_>, args: Args<'_>, end: End) -> Result<BlockTry, ReplyError> {
    let last = args.len() - 1;
    let timeout_ms = parse_timeout(args.get(last))?;
    let now = ex.now_ms;
    for i in 1..last {
        let key = args.get(i);
        let Some(elem) = list_mut(ex.db(key), key, now)?.and_then(|l| l.pop(end)) else {
            continue;
        };
        drop_if_empty(ex.db(key), key, now);
        ex.out.array(2);
        ex.out.bulk(key);
        ex.out.bulk(elem.as_bytes());
        ex.notify(notify::LIST, pop_event(end), key);
        ex.notify_if_gone(key);
        ex.dirty(key, 1);
        return Ok(BlockTry::Served);
    }
    Ok(BlockTry::Wait(BlockWait {
        keys: keys_between(args, 1, last),
        timeout_ms,
        no_wait_reply: NullReply::Array,
    }))
}

/// BLPOP key [key ...] timeout: replies `[key, element]`.
pub fn try_blpop(ex: &mut Exec<'_>, args: Args<'_>) -> Result<BlockTry, ReplyError> {
    try_bpop(ex, args, End::Head)
}

/// BRPOP key [key ...] timeout: replies `[key, element]`.
pub fn try_brpop(ex: &mut Exec<'_>, args: Args<'_>) -> Result<BlockTry, ReplyError> {
    try_bpop(ex, args, End::Tail)
}

fn try_move(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    from: End,
    to: End,
    timeout_ms: u64,
) -> Result<BlockTry, ReplyError> {
    match move_one(ex, args.get(1), args.get(2), from, to)? {
        Found::Done => Ok(BlockTry::Served),
        Found::Nothing => Ok(BlockTry::Wait(BlockWait {
            keys: vec![args.get(1).to_vec()],
            timeout_ms,
            no_wait_reply: NullReply::Bulk,
        })),
    }
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout: replies the moved element.
/// The directions are checked before the timeout, as in Redis.
pub fn try_blmove(ex: &mut Exec<'_>, args: Args<'_>) -> Result<BlockTry, ReplyError> {
    let (from, to) = (end_arg(args.get(3))?, end_arg(args.get(4))?);
    let timeout_ms = parse_timeout(args.get(5))?;
    try_move(ex, args, from, to, timeout_ms)
}

/// BRPOPLPUSH source destination timeout: replies the moved element.
pub fn try_brpoplpush(ex: &mut Exec<'_>, args: Args<'_>) -> Result<BlockTry, ReplyError> {
    let timeout_ms = parse_timeout(args.get(3))?;
    try_move(ex, args, End::Tail, End::Head, timeout_ms)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: replies
/// `[key, [elements]]`. The timeout is checked first, then the rest as LMPOP does.
pub fn try_blmpop(ex: &mut Exec<'_>, args: Args<'_>) -> Result<BlockTry, ReplyError> {
    let timeout_ms = parse_timeout(args.get(1))?;
    let m = parse_mpop(args, 2)?;
    match mpop_first(ex, args, &m)? {
        Found::Done => Ok(BlockTry::Served),
        Found::Nothing => Ok(BlockTry::Wait(BlockWait {
            keys: keys_between(args, m.keys.start, m.keys.end),
            timeout_ms,
            no_wait_reply: NullReply::Array,
        })),
    }
}

/// Runs a try function for a client that may not block.
fn now_or_null(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    f: fn(&mut Exec<'_>, Args<'_>) -> Result<BlockTry, ReplyError>,
) -> CmdResult {
    if let BlockTry::Wait(w) = f(ex, args)? {
        if ex.shard.no_block {
            w.no_wait_reply.write(&mut ex.out);
        } else {
            // Nothing is written: the caller parks the command (shard::blocking).
            // 0 waits forever; a due (or wrapped) deadline is at least 1 so it still expires.
            let at = deadline_ms(ex.now_ms, w.timeout_ms).map_or(0, |at| at.max(1));
            ex.shard.block_request = Some(crate::shard::blocking::BlockRequest {
                keys: w.keys,
                deadline_ms: at,
                args: None,
            });
        }
    }
    Ok(())
}

fn blpop_now(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    now_or_null(ex, args, try_blpop)
}

fn brpop_now(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    now_or_null(ex, args, try_brpop)
}

fn blmove_now(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    now_or_null(ex, args, try_blmove)
}

fn brpoplpush_now(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    now_or_null(ex, args, try_brpoplpush)
}

fn blmpop_now(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    now_or_null(ex, args, try_blmpop)
}
