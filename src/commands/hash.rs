//! Hash commands: HSET/HMSET, HSETNX, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS, HVALS,
//! HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN. Handlers are plain synchronous keyed
//! functions; random numbers and SCAN options come from the command kit.

use super::kit::number::longdouble as ld;
use super::kit::number::{i64_arg, parse_i64};
use super::kit::random::{check_pair_count, random_count, RANDOM_COUNT_MAX};
use super::kit::scan::{empty_scan, write_cursor, ScanArgs};
use super::kit::ArgCursor;
use super::kit::Rng;
use super::set::{DOC_SCAN, SCAN_COMPLEXITY, SCAN_COUNT_MAX};
use super::spec::{arg, block, multi, opt, pure, K1};
use super::{flags::*, parse_cursor, ArgDoc, CmdResult, CommandSpec, Exec};
use crate::commands::spec::keyflag;
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::notify;
use crate::shard::value::{Value, ValueRef};
use crate::types::hash::HashValue;

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const A_KEY: ArgDoc = arg("key", "key");
const A_FIELD: ArgDoc = arg("field", "string");
const DOC_KEY: &[ArgDoc] = &[A_KEY];
const DOC_KEY_FIELD: &[ArgDoc] = &[A_KEY, A_FIELD];
const DOC_KEY_FIELDS: &[ArgDoc] = &[A_KEY, multi(A_FIELD)];
const DOC_HSET: &[ArgDoc] = &[
    A_KEY,
    multi(block("field_value", &[A_FIELD, arg("value", "string")])),
];
const DOC_HSETNX: &[ArgDoc] = &[A_KEY, A_FIELD, arg("value", "string")];
const DOC_HINCRBY: &[ArgDoc] = &[A_KEY, A_FIELD, arg("increment", "integer")];
const DOC_HINCRBYFLOAT: &[ArgDoc] = &[A_KEY, A_FIELD, arg("increment", "double")];
const DOC_HRANDFIELD: &[ArgDoc] = &[
    A_KEY,
    opt(block(
        "options",
        &[
            arg("count", "integer"),
            opt(pure("withvalues", "WITHVALUES")),
        ],
    )),
];

const fn spec(name: &'static str, arity: i32, flags: u32, f: super::KeyFn) -> CommandSpec {
    CommandSpec::keyed(name, arity, flags, K1, f)
        .group("hash", crate::commands::spec::acl::HASH)
        .since("2.0.0")
}

const O1: &str = "O(1)";
const WDF: u32 = WRITE | DENYOOM | FAST;
const RF: u32 = READONLY | FAST;
const SIZE_N: &str = "O(N) where N is the size of the hash.";

pub static COMMANDS: &[CommandSpec] = &[
    spec("hset", -4, WDF, hset)
        .doc(
            "O(1) for each field/value pair added, so O(N) to add N field/value pairs \
when the command is called with multiple field/value pairs.",
            "Sets fields of a hash, creating it when absent; answers how many were new.",
            DOC_HSET,
        )
        .history(&[("4.0.0", "Accepts multiple `field` and `value` arguments.")]),
    spec("hsetnx", 4, WDF, hsetnx)
        .doc(
            O1,
            "Sets a field of a hash only when the field is absent.",
            DOC_HSETNX,
        )
        .access(keyflag::RW | keyflag::INSERT),
    spec("hget", 3, RF, hget).doc(O1, "Returns the value of a hash field.", DOC_KEY_FIELD),
    spec("hmget", -3, RF, hmget).doc(
        "O(N) where N is the number of fields being requested.",
        "Returns the values of several hash fields.",
        DOC_KEY_FIELDS,
    ),
    spec("hmset", -4, WDF, hmset)
        .doc(
            "O(N) where N is the number of fields being set.",
            "Sets fields of a hash (older form of HSET that answers OK).",
            DOC_HSET,
        )
        .deprecated("4.0.0", "`HSET` with multiple field-value pairs"),
    spec("hdel", -3, WRITE | FAST, hdel)
        .doc(
            "O(N) where N is the number of fields to be removed.",
            "Removes fields from a hash; an emptied hash is deleted.",
            DOC_KEY_FIELDS,
        )
        .access(keyflag::RW | keyflag::DELETE)
        .history(&[("2.4.0", "Accepts multiple `field` arguments.")]),
    spec("hlen", 2, RF, hlen)
        .doc(O1, "Returns how many fields a hash has.", DOC_KEY)
        .access(keyflag::RO),
    spec("hstrlen", 3, RF, hstrlen)
        .since("3.2.0")
        .doc(
            O1,
            "Returns the length in bytes of a hash field's value.",
            DOC_KEY_FIELD,
        )
        .access(keyflag::RO),
    spec("hexists", 3, RF, hexists)
        .doc(O1, "Tells whether a hash has a field.", DOC_KEY_FIELD)
        .access(keyflag::RO),
    spec("hkeys", 2, READONLY, hkeys)
        .doc(SIZE_N, "Returns every field name of a hash.", DOC_KEY)
        .tips(&["nondeterministic_output_order"]),
    spec("hvals", 2, READONLY, hvals)
        .doc(SIZE_N, "Returns every value of a hash.", DOC_KEY)
        .tips(&["nondeterministic_output_order"]),
    spec("hgetall", 2, READONLY, hgetall)
        .doc(SIZE_N, "Returns every field and value of a hash.", DOC_KEY)
        .tips(&["nondeterministic_output_order"]),
    spec("hincrby", 4, WDF, hincrby)
        .doc(
            O1,
            "Adds an integer to the integer stored in a hash field.",
            DOC_HINCRBY,
        )
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("hincrbyfloat", 4, WDF, hincrbyfloat)
        .since("2.6.0")
        .doc(
            O1,
            "Adds a floating point number to the number stored in a hash field.",
            DOC_HINCRBYFLOAT,
        )
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("hrandfield", -2, READONLY, hrandfield)
        .since("6.2.0")
        .doc(
            "O(N) where N is the number of fields returned",
            "Returns random fields of a hash, optionally with values; a negative count \
allows repeats.",
            DOC_HRANDFIELD,
        )
        .tips(&["nondeterministic_output"]),
    spec("hscan", -3, READONLY, hscan)
        .since("2.8.0")
        .doc(
            SCAN_COMPLEXITY,
            "Walks the fields and values of a hash a few at a time with a cursor.",
            DOC_SCAN,
        )
        .tips(&["nondeterministic_output"]),
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn as_hash(v: ValueRef<'_>) -> Result<&HashValue, ReplyError> {
    match v {
        ValueRef::Hash(h) => Ok(h),
        _ => Err(ReplyError::WrongType),
    }
}

fn as_hash_mut(v: &mut Value) -> Result<&mut HashValue, ReplyError> {
    match v {
        Value::Hash(h) => Ok(h),
        _ => Err(ReplyError::WrongType),
    }
}

/// Runs `f` on the hash at `key` for a read (None when absent); WRONGTYPE for other types.
fn read_hash<R>(
    ex: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&HashValue>, &mut Out<'_>) -> R,
) -> Result<R, ReplyError> {
    let now = ex.now_ms;
    ex.with_db(key, |db, out| match db.lookup_read(key, now) {
        None => Ok(f(None, out)),
        Some(e) => Ok(f(Some(as_hash(e.value())?), out)),
    })
}

/// Runs `f` on the hash at `key` for a write, creating an empty one when absent (it is only
/// stored when `f` leaves it non-empty). WRONGTYPE for other types, before `f` runs.
fn write_hash<R>(
    ex: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(&mut HashValue, &mut Out<'_>) -> Result<R, ReplyError>,
) -> Result<R, ReplyError> {
    let now = ex.now_ms;
    ex.with_db(key, |db: &mut Db, out| match db.lookup_write(key, now) {
        Some(e) => f(as_hash_mut(e.value_mut())?, out),
        None => {
            let mut h = HashValue::new();
            let r = f(&mut h, out)?;
            if !h.is_empty() {
                db.set(key, Value::Hash(h), 0, now);
            }
            Ok(r)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

/// HSET and HMSET: pairs must come whole, checked before the key is touched.
fn hset_generic(ex: &mut Exec<'_>, args: Args<'_>, name: &str, ok_reply: bool) -> CmdResult {
    if !args.len().is_multiple_of(2) {
        return Err(ReplyError::Arity(name.into()));
    }
    let key = args.get(1);
    write_hash(ex, key, |h, out| {
        let mut created = 0;
        for i in (2..args.len()).step_by(2) {
            created += h.set(args.get(i), args.get(i + 1)) as i64;
        }
        if ok_reply {
            out.ok();
        } else {
            out.int(created);
        }
        Ok(())
    })?;
    ex.notify(notify::HASH, "hset", key);
    ex.dirty(key, ((args.len() - 2) / 2) as u64);
    Ok(())
}

fn hset(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    hset_generic(ex, args, "hset", false)
}

fn hmset(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    hset_generic(ex, args, "hmset", true)
}

fn hsetnx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, field, value) = (args.get(1), args.get(2), args.get(3));
    let set = write_hash(ex, key, |h, out| {
        let new = !h.contains(field);
        if new {
            h.set(field, value);
        }
        out.int(new as i64);
        Ok(new)
    })?;
    if set {
        ex.notify(notify::HASH, "hset", key);
        ex.dirty(key, 1);
    }
    Ok(())
}

fn hdel(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let deleted = ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_write(key, now) else {
            out.int(0);
            return Ok(0);
        };
        let h = as_hash_mut(e.value_mut())?;
        let mut deleted = 0;
        for f in args.iter().skip(2) {
            deleted += h.remove(f) as i64;
            if h.is_empty() {
                break;
            }
        }
        if h.is_empty() {
            db.remove(key, now);
        }
        out.int(deleted);
        Ok(deleted)
    })?;
    if deleted > 0 {
        ex.notify(notify::HASH, "hdel", key);
        ex.notify_if_gone(key);
        ex.dirty(key, deleted as u64);
    }
    Ok(())
}

fn hincrby(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, field) = (args.get(1), args.get(2));
    let incr = i64_arg(args.get(3))?;
    write_hash(ex, key, |h, out| {
        let cur = match h.get(field) {
            None => 0,
            Some(v) => {
                parse_i64(v).ok_or_else(|| ReplyError::other("ERR hash value is not an integer"))?
            }
        };
        let sum = cur.checked_add(incr).ok_or(ReplyError::Overflow)?;
        h.set(field, sum.to_string().as_bytes());
        out.int(sum);
        Ok(())
    })?;
    ex.notify(notify::HASH, "hincrby", key);
    ex.dirty(key, 1);
    Ok(())
}

fn hincrbyfloat(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, field) = (args.get(1), args.get(2));
    let incr = match ld::parse(args.get(3)).ok_or(ReplyError::NotFloat)? {
        ld::Parsed::Finite(v) => v,
        ld::Parsed::Inf => return Err(ReplyError::other("ERR value is NaN or Infinity")),
    };
    let text = write_hash(ex, key, |h, out| {
        let cur = match h.get(field) {
            None => ld::F80::ZERO,
            Some(v) => match ld::parse(v) {
                Some(ld::Parsed::Finite(c)) => c,
                // An infinite stored value gives an infinite sum.
                Some(ld::Parsed::Inf) => return Err(ReplyError::IncrNanOrInfinity),
                None => return Err(ReplyError::other("ERR hash value is not a float")),
            },
        };
        let text = ld::format_human(ld::add(cur, incr).ok_or(ReplyError::IncrNanOrInfinity)?);
        h.set(field, text.as_bytes());
        out.bulk(text.as_bytes());
        Ok(text)
    })?;
    ex.notify(notify::HASH, "hincrbyfloat", key);
    ex.dirty(key, 1);
    // Journaled as the HSET of its result, so replay never redoes float arithmetic.
    ex.journal(key, &[b"HSET", key, field, text.as_bytes()]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

fn hget(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let field = args.get(2);
    read_hash(ex, args.get(1), |h, out| {
        match h.and_then(|h| h.get(field)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    })
}

fn hmget(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read_hash(ex, args.get(1), |h, out| {
        out.array(args.len() - 2);
        for f in args.iter().skip(2) {
            match h.and_then(|h| h.get(f)) {
                Some(v) => out.bulk(v),
                None => out.null(),
            }
        }
    })
}

fn hlen(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read_hash(ex, args.get(1), |h, out| {
        out.int(h.map_or(0, |h| h.len()) as i64)
    })
}

fn hstrlen(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let field = args.get(2);
    read_hash(ex, args.get(1), |h, out| {
        out.int(h.and_then(|h| h.get(field)).map_or(0, |v| v.len()) as i64)
    })
}

fn hexists(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let field = args.get(2);
    read_hash(ex, args.get(1), |h, out| {
        out.int(h.is_some_and(|h| h.contains(field)) as i64)
    })
}

fn hkeys(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read_hash(ex, args.get(1), |h, out| {
        out.array(h.map_or(0, |h| h.len()));
        if let Some(h) = h {
            h.for_each(&mut |f, _| out.bulk(f));
        }
    })
}

fn hvals(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read_hash(ex, args.get(1), |h, out| {
        out.array(h.map_or(0, |h| h.len()));
        if let Some(h) = h {
            h.for_each(&mut |_, v| out.bulk(v));
        }
    })
}

fn hgetall(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read_hash(ex, args.get(1), |h, out| {
        out.map(h.map_or(0, |h| h.len()));
        if let Some(h) = h {
            h.for_each(&mut |f, v| {
                out.bulk(f);
                out.bulk(v);
            });
        }
    })
}

/// Writes HRANDFIELD's reply header for `n` picks: pairs are nested arrays in RESP3 and
/// flattened in RESP2.
fn rand_header(out: &mut Out<'_>, n: usize, withvalues: bool) {
    if withvalues && !out.resp3() {
        out.array(2 * n);
    } else {
        out.array(n);
    }
}

fn rand_item(out: &mut Out<'_>, f: &[u8], v: &[u8], withvalues: bool) {
    if withvalues && out.resp3() {
        out.array(2);
    }
    out.bulk(f);
    if withvalues {
        out.bulk(v);
    }
}

fn hrandfield(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let withvalues = match args.len() {
        2 => {
            let (key, now) = (args.get(1), ex.now_ms);
            return ex.with_db_rng(key, |db, out, rng| {
                let h = db
                    .lookup_read(key, now)
                    .map(|e| as_hash(e.value()))
                    .transpose()?;
                match h.and_then(|h| h.random(&mut || rng.next_u64())) {
                    Some((f, _)) => out.bulk(f),
                    None => out.null(),
                }
                Ok(())
            });
        }
        3 => false,
        4 if args.get(3).eq_ignore_ascii_case(b"withvalues") => true,
        _ => return Err(ReplyError::Syntax),
    };
    let n = random_count(args.get(2))?;
    if withvalues {
        check_pair_count(n)?;
    }
    let now = ex.now_ms;
    let key = args.get(1);
    ex.with_db_rng(key, |db, out, rng| {
        let Some(e) = db.lookup_read(key, now) else {
            out.array(0);
            return Ok(());
        };
        let h = as_hash(e.value())?;
        hrandfield_count(h, n, withvalues, out, rng)
    })
}

fn hrandfield_count(
    h: &HashValue,
    n: i64,
    withvalues: bool,
    out: &mut Out<'_>,
    rng: &mut Rng,
) -> CmdResult {
    if n < 0 {
        let k = n.unsigned_abs();
        if k > RANDOM_COUNT_MAX {
            return Err(ReplyError::ValueOutOfRange);
        }
        rand_header(out, k as usize, withvalues);
        for _ in 0..k {
            if let Some((f, v)) = h.random(&mut || rng.next_u64()) {
                rand_item(out, f, v, withvalues);
            }
        }
        return Ok(());
    }
    let len = h.len();
    if n as u64 >= len as u64 {
        rand_header(out, len, withvalues);
        h.for_each(&mut |f, v| rand_item(out, f, v, withvalues));
        return Ok(());
    }
    let k = n as usize;
    rand_header(out, k, withvalues);
    if k * 3 > len {
        let pairs = h.pairs();
        for p in rng.distinct_positions(len, k) {
            rand_item(out, pairs[p].0, pairs[p].1, withvalues);
        }
        return Ok(());
    }
    // A small share of a big hash: random picks until `k` distinct fields (k < len / 3, so
    // each pick succeeds with probability above 2/3).
    let mut seen = hashbrown::HashSet::with_capacity(k);
    while seen.len() < k {
        if let Some((f, v)) = h.random(&mut || rng.next_u64()) {
            if seen.insert(f) {
                rand_item(out, f, v, withvalues);
            }
        }
    }
    Ok(())
}

fn hscan(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            empty_scan(out);
            return Ok(());
        };
        let h = as_hash(e.value())?;
        let o = ScanArgs::parse(ArgCursor::new(args, 3), SCAN_COUNT_MAX, false)?;
        let mut found: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let next = h.scan(cursor, o.count, &mut |f, v| {
            if o.keeps(f) {
                found.push((f.to_vec(), v.to_vec()));
            }
        });
        out.array(2);
        write_cursor(out, next);
        out.array(2 * found.len());
        for (f, v) in &found {
            out.bulk(f);
            out.bulk(v);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Harness, Reply};

    fn int(v: i64) -> Reply {
        Reply::Int(v)
    }
    fn b(s: &str) -> Reply {
        Reply::bulk(s)
    }
    fn e(s: &str) -> Reply {
        Reply::err(s)
    }

    #[test]
    fn set_get_delete_and_encoding() {
        // Guards HSET/HMSET/HSETNX/HGET/HMGET/HDEL, insertion order, deletion when empty.
        let mut h = Harness::new();
        assert_eq!(h.run(&["HSET", "h", "f", "v", "g", "w"]), int(2));
        assert_eq!(h.run(&["HSET", "h", "f", "v2"]), int(0));
        assert_eq!(h.run(&["HMSET", "h", "a", "1"]), Reply::ok());
        assert_eq!(h.run(&["HSETNX", "h", "a", "2"]), int(0));
        assert_eq!(h.run(&["HSETNX", "h", "b", "2"]), int(1));
        assert_eq!(h.run(&["HGET", "h", "f"]), b("v2"));
        assert_eq!(h.run(&["HGET", "h", "zz"]), Reply::Nil);
        let mget = h.run(&["HMGET", "h", "a", "zz"]);
        assert_eq!(mget, Reply::Array(vec![b("1"), Reply::Nil]));
        assert_eq!(
            h.run(&["HKEYS", "h"]),
            Reply::Array(vec![b("f"), b("g"), b("a"), b("b")])
        );
        assert_eq!(h.run(&["HLEN", "h"]), int(4));
        assert_eq!(h.run(&["HSTRLEN", "h", "f"]), int(2));
        assert_eq!(h.run(&["HEXISTS", "h", "g"]), int(1));
        assert_eq!(h.run(&["OBJECT", "ENCODING", "h"]), b("listpack"));
        h.run(&["HSET", "h", "long", &"x".repeat(65)]);
        assert_eq!(h.run(&["OBJECT", "ENCODING", "h"]), b("hashtable"));
        assert_eq!(
            h.run(&["HDEL", "h", "f", "f", "g", "a", "b", "long"]),
            int(5)
        );
        assert_eq!(h.run(&["EXISTS", "h"]), int(0));
        assert_eq!(h.run(&["HGETALL", "h"]), Reply::Array(vec![]));
    }

    #[test]
    fn arity_and_wrong_type() {
        // Guards odd pair counts and WRONGTYPE answers.
        let mut h = Harness::new();
        assert_eq!(
            h.run(&["HSET", "h", "f", "v", "x"]),
            e("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            h.run(&["HMSET", "h", "f", "v", "x"]),
            e("ERR wrong number of arguments for 'hmset' command")
        );
        h.run(&["SET", "s", "v"]);
        let wt = e("WRONGTYPE Operation against a key holding the wrong kind of value");
        for c in [
            &["HSET", "s", "f", "v"][..],
            &["HGET", "s", "f"],
            &["HGETALL", "s"],
            &["HDEL", "s", "f"],
            &["HINCRBY", "s", "f", "1"],
            &["HINCRBYFLOAT", "s", "f", "1"],
            &["HRANDFIELD", "s"],
            &["HRANDFIELD", "s", "0"],
            &["HSCAN", "s", "0", "COUNT", "0"],
        ] {
            assert_eq!(h.run(c), wt, "{c:?}");
        }
    }

    #[test]
    fn counters() {
        // Guards HINCRBY/HINCRBYFLOAT parsing, overflow, stored-value errors and formatting.
        let mut h = Harness::new();
        assert_eq!(h.run(&["HINCRBY", "h", "n", "5"]), int(5));
        assert_eq!(
            h.run(&["HINCRBY", "h", "n", "x"]),
            e("ERR value is not an integer or out of range")
        );
        h.run(&[
            "HSET",
            "h",
            "s",
            "abc",
            "big",
            "9223372036854775807",
            "fl",
            "1.5",
        ]);
        assert_eq!(
            h.run(&["HINCRBY", "h", "s", "1"]),
            e("ERR hash value is not an integer")
        );
        assert_eq!(
            h.run(&["HINCRBY", "h", "fl", "1"]),
            e("ERR hash value is not an integer")
        );
        assert_eq!(
            h.run(&["HINCRBY", "h", "big", "1"]),
            e("ERR increment or decrement would overflow")
        );
        assert_eq!(
            h.run(&["HINCRBYFLOAT", "h", "s", "1"]),
            e("ERR hash value is not a float")
        );
        assert_eq!(
            h.run(&["HINCRBYFLOAT", "h", "g", "1e5000"]),
            e("ERR value is not a valid float")
        );
        assert_eq!(
            h.run(&["HINCRBYFLOAT", "h", "g", "inf"]),
            e("ERR value is NaN or Infinity")
        );
        assert_eq!(h.run(&["HINCRBYFLOAT", "h", "g", "0.1"]), b("0.1"));
        assert_eq!(h.run(&["HINCRBYFLOAT", "h", "g", "0.2"]), b("0.3"));
        assert_eq!(h.run(&["HINCRBYFLOAT", "h", "fl", "5.0e3"]), b("5001.5"));
        assert_eq!(h.run(&["HGET", "h", "fl"]), b("5001.5"));
    }

    #[test]
    fn hrandfield_counts_and_errors() {
        // Guards HRANDFIELD count semantics, WITHVALUES shapes, bounds and errors.
        let mut h = Harness::new();
        for i in 0..30 {
            h.run(&["HSET", "h", &format!("f{i}"), &format!("v{i}")]);
        }
        assert_eq!(
            h.run(&["HRANDFIELD", "h", "1", "foo"]),
            e("ERR syntax error")
        );
        assert_eq!(
            h.run(&["HRANDFIELD", "h", "x"]),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"]),
            e("ERR value is out of range")
        );
        assert_eq!(
            h.run(&["HRANDFIELD", "h", "-9223372036854775808"]),
            e(
                "ERR value is out of range, value must between -9223372036854775807 and \
9223372036854775807"
            )
        );
        assert_eq!(
            h.run(&["HRANDFIELD", "h", "-99999999999"]),
            e("ERR value is out of range")
        );
        let Reply::Array(v) = h.run(&["HRANDFIELD", "h", "-50", "WITHVALUES"]) else {
            panic!()
        };
        assert_eq!(v.len(), 100);
        let Reply::Array(v) = h.run(&["HRANDFIELD", "h", "5"]) else {
            panic!()
        };
        let mut names: Vec<_> = v.iter().map(|r| format!("{r:?}")).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 5);
        let Reply::Array(v) = h.run(&["HRANDFIELD", "h", "100", "WITHVALUES"]) else {
            panic!()
        };
        assert_eq!(v.len(), 60);
        assert_eq!(h.run(&["HRANDFIELD", "nokey", "5"]), Reply::Array(vec![]));
        assert_eq!(h.run(&["HRANDFIELD", "nokey"]), Reply::Nil);
        h.run(&["HELLO", "3"]);
        let r = h.run(&["HRANDFIELD", "h", "1", "WITHVALUES"]);
        let Reply::Array(v) = r else { panic!() };
        assert!(matches!(&v[0], Reply::Array(p) if p.len() == 2));
        assert!(matches!(h.run(&["HGETALL", "h"]), Reply::Map(m) if m.len() == 30));
    }

    #[test]
    fn hscan_big_and_small() {
        // Guards HSCAN over both encodings, MATCH on fields, and option errors.
        let mut h = Harness::new();
        h.run(&["HSET", "small", "a", "1", "b", "2"]);
        let r = h.run(&["HSCAN", "small", "0", "MATCH", "a"]);
        let want = Reply::Array(vec![b("0"), Reply::Array(vec![b("a"), b("1")])]);
        assert_eq!(r, want);
        for i in 0..2000 {
            h.run(&["HSET", "big", &format!("f{i}"), "v"]);
        }
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        for _ in 0..10_000 {
            let Reply::Array(v) = h.run(&["HSCAN", "big", &cursor]) else {
                panic!()
            };
            let Reply::Bulk(c) = &v[0] else { panic!() };
            cursor = String::from_utf8(c.clone()).unwrap();
            let Reply::Array(items) = &v[1] else { panic!() };
            seen.extend(items.iter().step_by(2).map(|r| format!("{r:?}")));
            if cursor == "0" {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 2000);
        assert_eq!(h.run(&["HSCAN", "big", "x"]), e("ERR invalid cursor"));
        assert_eq!(
            h.run(&["HSCAN", "big", "18446744073709551616"]),
            e("ERR invalid cursor")
        );
        assert_eq!(
            h.run(&["HSCAN", "big", "0", "NOVALUES"]),
            e("ERR syntax error")
        );
        assert_eq!(
            h.run(&["HSCAN", "big", "0", "COUNT", "x"]),
            e("ERR value is not an integer or out of range")
        );
        assert!(matches!(h.run(&["HSCAN", "big", "-1"]), Reply::Array(_)));
    }

    #[test]
    fn table_metadata() {
        // Guards arity, flags and group of every hash command.
        let want: &[(&str, i32, u32)] = &[
            ("hset", -4, WDF),
            ("hsetnx", 4, WDF),
            ("hget", 3, RF),
            ("hmget", -3, RF),
            ("hmset", -4, WDF),
            ("hdel", -3, WRITE | FAST),
            ("hlen", 2, RF),
            ("hstrlen", 3, RF),
            ("hexists", 3, RF),
            ("hkeys", 2, READONLY),
            ("hvals", 2, READONLY),
            ("hgetall", 2, READONLY),
            ("hincrby", 4, WDF),
            ("hincrbyfloat", 4, WDF),
            ("hrandfield", -2, READONLY),
            ("hscan", -3, READONLY),
        ];
        for (name, arity, flags) in want {
            let c = COMMANDS.iter().find(|c| c.name == *name).expect(name);
            assert_eq!(
                (c.arity, c.flags, c.group),
                (*arity, *flags, "hash"),
                "{name}"
            );
            assert!(!c.summary.is_empty() && !c.complexity.is_empty() && !c.args.is_empty());
        }
        assert_eq!(COMMANDS.len(), want.len());
    }
}
