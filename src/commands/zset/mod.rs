//! Sorted-set commands (Redis 7.0 semantics, replies and error texts): ZADD and friends,
//! ranges by rank/score/lex, pops, set algebra, random members, ZSCAN, and the non-blocking
//! "try" halves of BZPOPMIN/BZPOPMAX/BZMPOP for the event loop to wire.
//! Handlers reach every key through `Exec::db`, so multi-key commands work across shards.

use super::kit::number::timeout::timeout_ms;
use super::kit::number::{c_str, i64_arg, parse_i64};
use super::kit::number::{parse_f64 as parse_score, strtod};
use super::kit::numkeys::Mpop;
use super::kit::{self, ArgCursor};
use super::{flags::*, parse_cursor, ArgDoc, CmdResult, CommandSpec, Exec, KeySpec};
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::notify;
use crate::shard::value::{Value, ValueRef};
use crate::types::zset::{cmp_key, Entry, Limits, ZSetValue};
use hashbrown::HashMap;

mod algebra;
mod random;
mod range;
mod table;
#[cfg(test)]
mod tests;
mod write;

use algebra::*;
use random::*;
use range::*;
pub use table::{BLOCKING_COMMANDS, COMMANDS};
use write::*;

// ---------------------------------------------------------------------------------------------
// Shared helpers: lookups, limits, number parsing, replies
// ---------------------------------------------------------------------------------------------

/// The sorted set at `key` for reading; None when absent, WRONGTYPE for other values.
fn zread<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Result<Option<&'d ZSetValue>, ReplyError> {
    match db.lookup_read(key, now_ms) {
        None => Ok(None),
        Some(e) => match e.value() {
            ValueRef::ZSet(z) => Ok(Some(z)),
            _ => Err(ReplyError::WrongType),
        },
    }
}

/// An input of the set algebra (ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD): a
/// sorted set, or a plain set read as members with score 1 (as Redis does).
fn zinput<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<std::borrow::Cow<'d, ZSetValue>>, ReplyError> {
    match db.lookup_read(key, now_ms) {
        None => Ok(None),
        Some(e) => match e.value() {
            ValueRef::ZSet(z) => Ok(Some(std::borrow::Cow::Borrowed(z))),
            ValueRef::Set(set) => {
                let mut v: Vec<Entry> = set
                    .members()
                    .into_iter()
                    .map(|m| Entry {
                        score: 1.0,
                        member: m.into_boxed_slice(),
                    })
                    .collect();
                v.sort_by(|a, b| a.member.cmp(&b.member));
                let lim = Limits {
                    entries_max: usize::MAX,
                    value_max_bytes: usize::MAX,
                };
                Ok(Some(std::borrow::Cow::Owned(ZSetValue::from_sorted(
                    v, lim,
                ))))
            }
            _ => Err(ReplyError::WrongType),
        },
    }
}

/// The sorted set at `key` for writing; None when absent, WRONGTYPE for other values.
fn zwrite<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut ZSetValue>, ReplyError> {
    match db.lookup_write(key, now_ms) {
        None => Ok(None),
        Some(e) => match e.value_mut() {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(ReplyError::WrongType),
        },
    }
}

/// Deletes `key` when its sorted set became empty (Redis never keeps empty collections).
fn drop_if_empty(db: &mut Db, key: &[u8], now_ms: u64) {
    let empty = matches!(zwrite(db, key, now_ms), Ok(Some(z)) if z.is_empty());
    if empty {
        db.remove(key, now_ms);
    }
}

/// The encoding thresholds from the configuration (Redis' defaults until set); RESTORE reads
/// them too.
pub(crate) fn limits(ex: &Exec<'_>) -> Limits {
    ex.shard.global.cfg(|c| {
        let d = Limits::default();
        let get = |name: &str, dflt: usize| {
            usize::try_from(c.stored_i64(name, dflt as i64)).unwrap_or(dflt)
        };
        Limits {
            entries_max: get("zset-max-listpack-entries", d.entries_max),
            value_max_bytes: get("zset-max-listpack-value", d.value_max_bytes),
        }
    })
}

/// A score range bound: Redis reads it with a plain `strtod` (so "" is 0 and overflow is
/// infinity) and refuses trailing bytes and NaN.
fn range_bound(b: &[u8]) -> Option<(f64, bool)> {
    let b = c_str(b);
    let (excl, text) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    let (v, used, _) = strtod(text);
    (used == text.len() && !v.is_nan()).then_some((v, excl))
}

/// A score interval with exclusive flags.
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    min_ex: bool,
    max: f64,
    max_ex: bool,
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, ReplyError> {
    let bad = || ReplyError::other("ERR min or max is not a float");
    let (min, min_ex) = range_bound(min).ok_or_else(bad)?;
    let (max, max_ex) = range_bound(max).ok_or_else(bad)?;
    Ok(ScoreRange {
        min,
        min_ex,
        max,
        max_ex,
    })
}

impl ScoreRange {
    /// Ascending rank interval [lo, hi) of the entries inside the range.
    fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let lo = z.count_before(|e| e.score < self.min || (self.min_ex && e.score == self.min));
        let hi = z.count_before(|e| e.score < self.max || (!self.max_ex && e.score == self.max));
        (lo, hi.max(lo))
    }
}

/// One end of a lexical range.
#[derive(Clone, Copy, Debug)]
enum Lex<'a> {
    Min,
    Max,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

fn lex_bound(b: &[u8]) -> Option<Lex<'_>> {
    let b = c_str(b);
    match b.first()? {
        b'+' if b.len() == 1 => Some(Lex::Max),
        b'-' if b.len() == 1 => Some(Lex::Min),
        b'(' => Some(Lex::Excl(&b[1..])),
        b'[' => Some(Lex::Incl(&b[1..])),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug)]
struct LexRange<'a> {
    min: Lex<'a>,
    max: Lex<'a>,
}

fn lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, ReplyError> {
    let bad = || ReplyError::other("ERR min or max not valid string range item");
    Ok(LexRange {
        min: lex_bound(min).ok_or_else(bad)?,
        max: lex_bound(max).ok_or_else(bad)?,
    })
}

impl LexRange<'_> {
    /// Ascending rank interval [lo, hi) of the members inside the range (members compared as
    /// bytes, which is the order when all scores are equal, the case lex ranges are for).
    fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let lo = match self.min {
            Lex::Min => 0,
            Lex::Max => z.len(),
            Lex::Incl(m) => z.count_before(|e| &*e.member < m),
            Lex::Excl(m) => z.count_before(|e| &*e.member <= m),
        };
        let hi = match self.max {
            Lex::Min => 0,
            Lex::Max => z.len(),
            Lex::Incl(m) => z.count_before(|e| &*e.member <= m),
            Lex::Excl(m) => z.count_before(|e| &*e.member < m),
        };
        (lo, hi.max(lo))
    }
}

/// Writes `entries` as Redis' range replies do: members only, or with scores (a flat array in
/// RESP2, [member, score] pairs in RESP3).
fn write_entries<'e>(
    out: &mut Out<'_>,
    n: usize,
    entries: impl Iterator<Item = &'e Entry>,
    withscores: bool,
) {
    let pairs = withscores && out.resp3();
    out.array(if withscores && !pairs { 2 * n } else { n });
    for e in entries.take(n) {
        if pairs {
            out.array(2);
        }
        out.bulk(&e.member);
        if withscores {
            out.double(e.score);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Blocking pops: the non-blocking "try" halves for the event loop
// ---------------------------------------------------------------------------------------------

/// What a blocking pop can do right now.
#[derive(Debug, PartialEq, Eq)]
pub enum BlockTry {
    /// The reply is written (an element was popped).
    Served,
    /// Every key is empty or absent: wait on `keys` until `deadline_ms` (absolute, ms since
    /// the Unix epoch on `Exec::now_ms`'s clock; 0 means wait forever), then reply
    /// `Out::null_array()`.
    Block {
        keys: Vec<Vec<u8>>,
        deadline_ms: u64,
    },
}

/// Reads a blocking timeout in seconds as Redis 7.0 does for every blocking command
/// (`kit::number::timeout`: a long double, rounded up to a whole millisecond; "ERR timeout is
/// not a float or out of range", "ERR timeout is negative"). Returns the absolute deadline, or
/// 0 for "forever".
pub fn parse_timeout(raw: &[u8], now_ms: u64) -> Result<u64, ReplyError> {
    let ms = timeout_ms(raw)?;
    Ok(if ms == 0 {
        0
    } else {
        now_ms.saturating_add(ms)
    })
}

/// BZPOPMIN / BZPOPMAX key... timeout: pops one entry from the first non-empty key and
/// writes [key, member, score], or says which keys to wait on. WRONGTYPE when a key of
/// another type comes before the first non-empty sorted set.
pub fn bzpop_try(ex: &mut Exec<'_>, args: Args<'_>, max: bool) -> Result<BlockTry, ReplyError> {
    let deadline_ms = parse_timeout(args.get(args.len() - 1), ex.now_ms)?;
    let now_ms = ex.now_ms;
    for i in 1..args.len() - 1 {
        let key = args.get(i);
        let Some(v) = pop_entries(ex.db(key), key, now_ms, max, 1)? else {
            continue;
        };
        let Some(e) = v.first() else { continue };
        ex.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        ex.notify_if_gone(key);
        ex.dirty(key, 1);
        ex.out.array(3);
        ex.out.bulk(key);
        ex.out.bulk(&e.member);
        ex.out.double(e.score);
        return Ok(BlockTry::Served);
    }
    let keys = (1..args.len() - 1).map(|i| args.get(i).to_vec()).collect();
    Ok(BlockTry::Block { keys, deadline_ms })
}

/// BZMPOP timeout numkeys key... MIN|MAX [COUNT count]: as ZMPOP when a key has entries
/// (reply written), else the keys to wait on. Arguments are fully checked first.
pub fn bzmpop_try(ex: &mut Exec<'_>, args: Args<'_>) -> Result<BlockTry, ReplyError> {
    let deadline_ms = parse_timeout(args.get(1), ex.now_ms)?;
    let req = parse_mpop(args, 2)?;
    if mpop_now(ex, args, &req)? {
        return Ok(BlockTry::Served);
    }
    let keys = req.keys.map(|i| args.get(i).to_vec()).collect();
    Ok(BlockTry::Block { keys, deadline_ms })
}

/// Answers a blocking pop without blocking (Redis' behaviour inside MULTI): null when empty.
fn no_wait(r: Result<BlockTry, ReplyError>, ex: &mut Exec<'_>) -> CmdResult {
    if let BlockTry::Block { keys, deadline_ms } = r? {
        if ex.shard.no_block {
            ex.out.null_array();
        } else {
            // Nothing is written: the caller parks the command (shard::blocking).
            ex.shard.block_request = Some(crate::shard::blocking::BlockRequest {
                keys,
                deadline_ms,
                args: None,
            });
        }
    }
    Ok(())
}

fn bzpopmin(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let r = bzpop_try(ex, args, false);
    no_wait(r, ex)
}
fn bzpopmax(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let r = bzpop_try(ex, args, true);
    no_wait(r, ex)
}
fn bzmpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let r = bzmpop_try(ex, args);
    no_wait(r, ex)
}
