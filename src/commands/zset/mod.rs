//! Sorted-set commands (Redis 7.0 semantics, replies and error texts): ZADD and friends,
//! ranges by rank/score/lex, pops, set algebra, random members, ZSCAN, and the non-blocking
//! "try" halves of BZPOPMIN/BZPOPMAX/BZMPOP for the event loop to wire.
//! Handlers reach every key through `Exec::db`, so multi-key commands work across shards.

use super::{flags::*, parse_cursor, ArgDoc, CmdResult, CommandSpec, Exec, Handler, KeySpec};
use crate::resp::parse::parse_i64;
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::value::Value;
use crate::types::zset::{cmp_key, Entry, Limits, ZSetValue};
use hashbrown::HashMap;
use std::cell::Cell;

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

/// Runs `f` with the keyspace of `key` and the reply writer at the same time (the reply buffer
/// is moved out of `ex` for the call, because `Exec::db` borrows all of `ex`). `f` returns its
/// error before writing any reply bytes.
fn with_db<R>(ex: &mut Exec<'_>, key: &[u8], f: impl FnOnce(&mut Db, &mut Out<'_>) -> R) -> R {
    let proto = ex.out.proto;
    let mut buf = std::mem::take(ex.out.buf);
    let r = {
        let db = ex.db(key);
        let mut out = Out::new(&mut buf, proto);
        f(db, &mut out)
    };
    *ex.out.buf = buf;
    r
}

/// The sorted set at `key` for reading; None when absent, WRONGTYPE for other values.
fn zread<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Result<Option<&'d ZSetValue>, ReplyError> {
    match db.lookup_read(key, now_ms) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z)),
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
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(std::borrow::Cow::Borrowed(z))),
            Value::Set(set) => {
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
        Some(e) => match &mut e.value {
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

/// The encoding thresholds from the configuration (Redis' defaults until set).
fn limits(ex: &Exec<'_>) -> Limits {
    ex.shard.global.cfg(|c| {
        let get = |name: &str, dflt: usize| {
            c.unimplemented
                .get(name)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(dflt)
        };
        let d = Limits::default();
        Limits {
            entries_max: get("zset-max-listpack-entries", d.entries_max),
            value_max_bytes: get("zset-max-listpack-value", d.value_max_bytes),
        }
    })
}

fn int_arg(b: &[u8]) -> Result<i64, ReplyError> {
    parse_i64(b).ok_or(ReplyError::NotInteger)
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What C's `strtod` reads from the start of `s`: the value, the bytes consumed (0 when no
/// number), and whether the result over- or underflowed (`ERANGE`).
fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = s.iter().take_while(|&&c| is_c_space(c)).count();
    let start = i;
    let neg = matches!(s.get(i), Some(b'-'));
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    let word = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    let sign = if neg { -1.0 } else { 1.0 };
    if word(b"infinity") {
        return (sign * f64::INFINITY, i + 8, false);
    }
    if word(b"inf") {
        return (sign * f64::INFINITY, i + 3, false);
    }
    if word(b"nan") {
        return (f64::NAN, i + 3 + nan_suffix(&rest[3..]), false);
    }
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used, erange)) = hex_float(&rest[2..]) {
            return (sign * v, i + 2 + used, erange);
        }
    }
    let used = decimal_len(rest);
    if used == 0 {
        return (0.0, 0, false);
    }
    let text = std::str::from_utf8(&rest[..used]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    let nonzero_digits = rest[..used]
        .iter()
        .take_while(|c| !matches!(c, b'e' | b'E'))
        .any(|c| matches!(c, b'1'..=b'9'));
    let erange = v.is_infinite() || (v == 0.0 && nonzero_digits);
    let _ = start;
    (sign * v, i + used, erange)
}

/// Length of an optional "(chars)" after "nan", as strtod accepts.
fn nan_suffix(s: &[u8]) -> usize {
    if s.first() != Some(&b'(') {
        return 0;
    }
    match s.iter().position(|&c| c == b')') {
        Some(p)
            if s[1..p]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_') =>
        {
            p + 1
        }
        _ => 0,
    }
}

/// Length of the longest decimal float at the start of `s` ("1", "1.", ".5", "1e5").
fn decimal_len(s: &[u8]) -> usize {
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    let mut i = int;
    let mut frac = 0;
    if s.get(i) == Some(&b'.') {
        frac = digits(i + 1);
        i += 1 + frac;
    }
    if int + frac == 0 {
        return 0;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = digits(j);
        if e > 0 {
            i = j + e;
        }
    }
    i
}

/// A hex float body after "0x": value, bytes used, ERANGE. None when no hex digit follows.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut i = 0;
    let mut any = false;
    let mut point = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !point {
            point = true;
        } else if let Some(v) = (c as char).to_digit(16) {
            any = true;
            if mant >> 56 == 0 {
                mant = mant * 16 + v as u64;
                exp -= if point { 4 } else { 0 };
            } else if !point {
                exp += 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        let mut j = i + 1;
        let neg = s.get(j) == Some(&b'-');
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = s[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 0 {
            let e: i64 = std::str::from_utf8(&s[j..j + n])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(100_000);
            exp += if neg { -e } else { e };
            i = j + n;
        }
    }
    let v = mant as f64 * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    Some((v, i, v.is_infinite() || (v == 0.0 && mant != 0)))
}

/// A score or increment as Redis reads it (`getDoubleFromObject`): the whole argument must be a
/// number, no leading space, no NaN, no overflow, no underflow to zero.
fn parse_score(b: &[u8]) -> Option<f64> {
    if b.is_empty() || is_c_space(b[0]) {
        return None;
    }
    let (v, used, erange) = strtod(b);
    if used != b.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

fn score_arg(b: &[u8]) -> Result<f64, ReplyError> {
    parse_score(b).ok_or(ReplyError::NotFloat)
}

/// The text C sees: everything up to the first NUL byte.
fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(p) => &b[..p],
        None => b,
    }
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

/// xorshift64* state for random members; seeded once per thread from the std hasher.
fn next_rand() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(0x5EED_u64) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
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

/// Reads a blocking timeout in seconds as Redis 7.0 does: a long-double-style number (errors
/// "ERR timeout is not a float or out of range"), scaled to ms and cast to a 64-bit integer
/// (values beyond it wrap negative, as the C cast does on x86), "ERR timeout is negative"
/// below zero. Returns the absolute deadline, or 0 for "forever".
pub fn parse_timeout(raw: &[u8], now_ms: u64) -> Result<u64, ReplyError> {
    let bad = || ReplyError::other("ERR timeout is not a float or out of range");
    if raw.is_empty() || is_c_space(raw[0]) {
        return Err(bad());
    }
    let text = c_str(raw);
    let (secs, used, _) = strtod(text);
    if used != text.len() || secs.is_nan() || text.is_empty() {
        return Err(bad());
    }
    let ms = secs * 1000.0;
    let ms = if ms.is_finite() && ms.abs() < 9.223_372_036_854_775e18 {
        ms.trunc() as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(ReplyError::other("ERR timeout is negative"));
    }
    Ok(if ms == 0 {
        0
    } else {
        now_ms.saturating_add(ms as u64)
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
            ex.shard.block_request =
                Some(crate::shard::blocking::BlockRequest { keys, deadline_ms });
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
