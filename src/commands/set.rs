//! Set commands: SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS, SPOP, SRANDMEMBER, SMOVE,
//! SINTER/SINTERCARD/SINTERSTORE, SUNION/SUNIONSTORE, SDIFF/SDIFFSTORE, SSCAN. The hash family
//! shares this file's SCAN docs and the SSCAN/HSCAN visit limit.
//! Handlers are plain synchronous keyed functions that reach every key through `Exec::db`.

use super::kit::random::{random_count, RANDOM_COUNT_MAX};
use super::kit::scan::{empty_scan, write_cursor, ScanArgs};
use super::kit::ArgCursor;
use super::spec::{arg, multi, opt, since, tok, K1, K12, K_ALL};
use super::{flags::*, parse_cursor, ArgDoc, CmdResult, CommandSpec, Exec, KeySpec};
use crate::commands::spec::keyflag;
use crate::commands::spec::{key_numkeys, key_range};
use crate::resp::{Args, Out, ReplyError};
use crate::shard::notify;
use crate::shard::value::{Value, ValueRef};
use crate::types::set::SetValue;

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const A_KEY: ArgDoc = arg("key", "key");
const A_MEMBER: ArgDoc = arg("member", "string");
const DOC_KEY: &[ArgDoc] = &[A_KEY];
const DOC_KEY_MEMBER: &[ArgDoc] = &[A_KEY, A_MEMBER];
const DOC_KEY_MEMBERS: &[ArgDoc] = &[A_KEY, multi(A_MEMBER)];
const DOC_SPOP: &[ArgDoc] = &[A_KEY, since("3.2.0", opt(arg("count", "integer")))];
const DOC_SRANDMEMBER: &[ArgDoc] = &[A_KEY, since("2.6.0", opt(arg("count", "integer")))];
const DOC_KEYS: &[ArgDoc] = &[multi(A_KEY)];
const DOC_STORE: &[ArgDoc] = &[arg("destination", "key"), multi(A_KEY)];
const DOC_SMOVE: &[ArgDoc] = &[arg("source", "key"), arg("destination", "key"), A_MEMBER];
const DOC_SINTERCARD: &[ArgDoc] = &[
    arg("numkeys", "integer"),
    multi(A_KEY),
    opt(tok("LIMIT", arg("limit", "integer"))),
];
pub(crate) const DOC_SCAN: &[ArgDoc] = &[
    A_KEY,
    arg("cursor", "integer"),
    opt(tok("MATCH", arg("pattern", "pattern"))),
    opt(tok("COUNT", arg("count", "integer"))),
];

const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: super::KeyFn,
) -> CommandSpec {
    CommandSpec::keyed(name, arity, flags, keys, f).group("set", crate::commands::spec::acl::SET)
}

const O1: &str = "O(1)";
const INTER: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const UNION: &str = "O(N) where N is the total number of elements in all given sets.";
pub(crate) const SCAN_COMPLEXITY: &str = "O(1) for every call. O(N) for a complete iteration, \
including enough command calls for the cursor to return back to 0. N is the number of elements \
inside the collection..";

pub static COMMANDS: &[CommandSpec] = &[
    spec("sadd", -3, WRITE | DENYOOM | FAST, K1, sadd)
        .doc(
            "O(1) for each element added, so O(N) to add N elements when the command is \
called with multiple arguments.",
            "Adds members to a set, creating it when absent.",
            DOC_KEY_MEMBERS,
        )
        .access(keyflag::RW | keyflag::INSERT)
        .history(&[("2.4.0", "Accepts multiple `member` arguments.")]),
    spec("srem", -3, WRITE | FAST, K1, srem)
        .doc(
            "O(N) where N is the number of members to be removed.",
            "Removes members from a set; an emptied set is deleted.",
            DOC_KEY_MEMBERS,
        )
        .access(keyflag::RW | keyflag::DELETE)
        .history(&[("2.4.0", "Accepts multiple `member` arguments.")]),
    spec("scard", 2, READONLY | FAST, K1, scard)
        .doc(O1, "Returns how many members a set has.", DOC_KEY)
        .access(keyflag::RO),
    spec("sismember", 3, READONLY | FAST, K1, sismember)
        .doc(
            O1,
            "Tells whether a value is a member of a set.",
            DOC_KEY_MEMBER,
        )
        .access(keyflag::RO),
    spec("smismember", -3, READONLY | FAST, K1, smismember)
        .since("6.2.0")
        .doc(
            "O(N) where N is the number of elements being checked for membership",
            "Tells, for each of several values, whether it is a member of a set.",
            DOC_KEY_MEMBERS,
        ),
    spec("smembers", 2, READONLY, K1, smembers)
        .doc(
            "O(N) where N is the set cardinality.",
            "Returns every member of a set.",
            DOC_KEY,
        )
        .tips(&["nondeterministic_output_order"]),
    spec("spop", -2, WRITE | FAST, K1, spop)
        .doc(
            "Without the count argument O(1), otherwise O(N) where N is the value of the \
passed count.",
            "Removes and returns one or more random members of a set.",
            DOC_SPOP,
        )
        .tips(&["nondeterministic_output"])
        .access(keyflag::RW_ACCESS_DELETE)
        .history(&[("3.2.0", "Added the `count` argument.")]),
    spec("srandmember", -2, READONLY, K1, srandmember)
        .doc(
            "Without the count argument O(1), otherwise O(N) where N is the absolute \
value of the passed count.",
            "Returns random members of a set; a negative count allows repeats.",
            DOC_SRANDMEMBER,
        )
        .tips(&["nondeterministic_output"])
        .history(&[("2.6.0", "Added the optional `count` argument.")]),
    spec("smove", 4, WRITE | FAST | MULTI_KEY, K12, smove)
        .key_specs(&[
            key_range(1, 0, keyflag::RW_ACCESS_DELETE),
            key_range(2, 0, keyflag::RW | keyflag::INSERT),
        ])
        .doc(O1, "Moves a member from one set to another.", DOC_SMOVE),
    spec("sinter", -2, READONLY | MULTI_KEY, K_ALL, sinter)
        .doc(
            INTER,
            "Returns the members present in every given set.",
            DOC_KEYS,
        )
        .tips(&["nondeterministic_output_order"]),
    spec(
        "sintercard",
        -3,
        READONLY | MULTI_KEY,
        KeySpec::Custom(sintercard_keys),
        sintercard,
    )
    .key_specs(&[key_numkeys(1, keyflag::RO | keyflag::ACCESS)])
    .since("7.0.0")
    .doc(
        INTER,
        "Counts the members present in every given set, optionally up to a limit.",
        DOC_SINTERCARD,
    ),
    spec(
        "sinterstore",
        -3,
        WRITE | DENYOOM | MULTI_KEY,
        K_ALL,
        sinterstore,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::RW | keyflag::UPDATE),
        key_range(2, -1, keyflag::RO | keyflag::ACCESS),
    ])
    .doc(
        INTER,
        "Stores the intersection of sets at a destination key.",
        DOC_STORE,
    ),
    spec("sunion", -2, READONLY | MULTI_KEY, K_ALL, sunion)
        .doc(
            UNION,
            "Returns the members present in any given set.",
            DOC_KEYS,
        )
        .tips(&["nondeterministic_output_order"]),
    spec(
        "sunionstore",
        -3,
        WRITE | DENYOOM | MULTI_KEY,
        K_ALL,
        sunionstore,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::OW | keyflag::UPDATE),
        key_range(2, -1, keyflag::RO | keyflag::ACCESS),
    ])
    .doc(
        UNION,
        "Stores the union of sets at a destination key.",
        DOC_STORE,
    ),
    spec("sdiff", -2, READONLY | MULTI_KEY, K_ALL, sdiff)
        .doc(
            UNION,
            "Returns the members of the first set that no other given set has.",
            DOC_KEYS,
        )
        .tips(&["nondeterministic_output_order"]),
    spec(
        "sdiffstore",
        -3,
        WRITE | DENYOOM | MULTI_KEY,
        K_ALL,
        sdiffstore,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::OW | keyflag::UPDATE),
        key_range(2, -1, keyflag::RO | keyflag::ACCESS),
    ])
    .doc(
        UNION,
        "Stores the difference of sets at a destination key.",
        DOC_STORE,
    ),
    spec("sscan", -3, READONLY, K1, sscan)
        .since("2.8.0")
        .doc(
            SCAN_COMPLEXITY,
            "Walks the members of a set a few at a time with a cursor.",
            DOC_SCAN,
        )
        .tips(&["nondeterministic_output"]),
];

// ---------------------------------------------------------------------------------------------
// Limit shared with the hash family
// ---------------------------------------------------------------------------------------------

/// Most elements one SSCAN/HSCAN call asks the table to visit.
pub(crate) const SCAN_COUNT_MAX: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Set helpers
// ---------------------------------------------------------------------------------------------

fn as_set(v: ValueRef<'_>) -> Result<&SetValue, ReplyError> {
    match v {
        ValueRef::Set(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

fn as_set_mut(v: &mut Value) -> Result<&mut SetValue, ReplyError> {
    match v {
        Value::Set(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

/// Runs `f` on the set at `key` for a read (None when absent); WRONGTYPE for other types.
fn read_set<R>(
    ex: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&SetValue>, &mut Out<'_>) -> R,
) -> Result<R, ReplyError> {
    let now = ex.now_ms;
    ex.with_db(key, |db, out| match db.lookup_read(key, now) {
        None => Ok(f(None, out)),
        Some(e) => Ok(f(Some(as_set(e.value())?), out)),
    })
}

/// Replies with members as a set (`~` in RESP3).
fn reply_members(out: &mut Out<'_>, members: &[Vec<u8>]) {
    out.set(members.len());
    for m in members {
        out.bulk(m);
    }
}

// ---------------------------------------------------------------------------------------------
// Single-key commands
// ---------------------------------------------------------------------------------------------

fn sadd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let added = ex.with_db(key, |db, out| {
        let mut added = 0;
        match db.lookup_write(key, now) {
            Some(e) => {
                let s = as_set_mut(e.value_mut())?;
                for m in ArgCursor::new(args, 2).rest() {
                    added += s.insert(m) as i64;
                }
            }
            None => {
                let mut s = SetValue::new();
                for m in ArgCursor::new(args, 2).rest() {
                    added += s.insert(m) as i64;
                }
                db.set(key, Value::Set(s), 0, now);
            }
        }
        out.int(added);
        Ok(added)
    })?;
    if added > 0 {
        ex.notify(notify::SET, "sadd", key);
        ex.dirty(key, added as u64);
    }
    Ok(())
}

fn srem(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let removed = ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_write(key, now) else {
            out.int(0);
            return Ok(0);
        };
        let s = as_set_mut(e.value_mut())?;
        let mut removed = 0;
        for m in ArgCursor::new(args, 2).rest() {
            removed += s.remove(m) as i64;
            if s.is_empty() {
                break;
            }
        }
        if s.is_empty() {
            db.remove(key, now);
        }
        out.int(removed);
        Ok(removed)
    })?;
    if removed > 0 {
        ex.notify(notify::SET, "srem", key);
        ex.notify_if_gone(key);
        ex.dirty(key, removed as u64);
    }
    Ok(())
}

fn scard(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read_set(ex, args.get(1), |s, out| {
        out.int(s.map_or(0, |s| s.len()) as i64)
    })
}

fn sismember(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let m = args.get(2);
    read_set(ex, args.get(1), |s, out| {
        out.int(s.is_some_and(|s| s.contains(m)) as i64)
    })
}

fn smismember(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read_set(ex, args.get(1), |s, out| {
        out.array(args.len() - 2);
        for m in ArgCursor::new(args, 2).rest() {
            out.int(s.is_some_and(|s| s.contains(m)) as i64);
        }
    })
}

fn smembers(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read_set(ex, args.get(1), |s, out| match s {
        None => out.set(0),
        Some(s) => {
            out.set(s.len());
            s.for_each(&mut |m| out.bulk(m));
        }
    })
}

fn spop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        2 => spop_one(ex, args.get(1)),
        3 => {
            let n = ArgCursor::new(args, 2).next_u64()?;
            spop_count(ex, args.get(1), n)
        }
        _ => Err(ReplyError::Syntax),
    }
}

fn spop_one(ex: &mut Exec<'_>, key: &[u8]) -> CmdResult {
    let now = ex.now_ms;
    let popped = ex.with_db_rng(key, |db, out, rng| {
        let Some(e) = db.lookup_write(key, now) else {
            out.null();
            return Ok(None);
        };
        let s = as_set_mut(e.value_mut())?;
        let Some(m) = s.random(&mut || rng.next_u64()) else {
            out.null();
            return Ok(None);
        };
        s.remove(&m);
        if s.is_empty() {
            db.remove(key, now);
        }
        out.bulk(&m);
        Ok(Some(m))
    })?;
    if let Some(m) = popped {
        ex.notify(notify::SET, "spop", key);
        ex.notify_if_gone(key);
        ex.dirty(key, 1);
        // The member was picked at random: journal which one.
        ex.journal(key, &[b"SREM", key, &m]);
    }
    Ok(())
}

fn spop_count(ex: &mut Exec<'_>, key: &[u8], count: u64) -> CmdResult {
    let now = ex.now_ms;
    let popped = ex.with_db_rng(key, |db, out, rng| {
        let Some(e) = db.lookup_write(key, now) else {
            out.set(0);
            return Ok((0, None));
        };
        let s = as_set_mut(e.value_mut())?;
        if count == 0 {
            out.set(0);
            return Ok((0, None));
        }
        if count >= s.len() as u64 {
            // Everything goes: reply with the whole set and delete the key.
            let n = s.len();
            out.set(n);
            s.for_each(&mut |m| out.bulk(m));
            db.remove(key, now);
            return Ok((n, None));
        }
        // count < len, so the loop is bounded by the set's size.
        out.set(count as usize);
        let mut gone = Vec::with_capacity(count as usize);
        for _ in 0..count {
            if let Some(m) = s.random(&mut || rng.next_u64()) {
                s.remove(&m);
                out.bulk(&m);
                gone.push(m);
            }
        }
        Ok((count as usize, Some(gone)))
    })?;
    let (popped, gone) = popped;
    if popped > 0 {
        ex.notify(notify::SET, "spop", key);
        ex.notify_if_gone(key);
        ex.dirty(key, popped as u64);
        // Random picks are journaled as the members removed (or the key's deletion).
        match gone {
            None => ex.journal(key, &[b"DEL", key]),
            Some(ms) => {
                for part in ms.chunks(crate::aof::rewrite::ELEMENTS_PER_COMMAND) {
                    let mut rec: Vec<&[u8]> = vec![b"SREM", key];
                    rec.extend(part.iter().map(|m| m.as_slice()));
                    ex.journal(key, &rec);
                }
            }
        }
    }
    Ok(())
}

fn srandmember(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    match args.len() {
        2 => {
            let now = ex.now_ms;
            ex.with_db_rng(key, |db, out, rng| {
                let s = db
                    .lookup_read(key, now)
                    .map(|e| as_set(e.value()))
                    .transpose()?;
                match s.and_then(|s| s.random(&mut || rng.next_u64())) {
                    Some(m) => out.bulk(&m),
                    None => out.null(),
                }
                Ok(())
            })
        }
        3 => {
            let n = random_count(args.get(2))?;
            srandmember_count(ex, key, n)
        }
        _ => Err(ReplyError::Syntax),
    }
}

fn srandmember_count(ex: &mut Exec<'_>, key: &[u8], n: i64) -> CmdResult {
    let now = ex.now_ms;
    ex.with_db_rng(key, |db, out, rng| {
        let Some(e) = db.lookup_read(key, now) else {
            out.array(0);
            return Ok(());
        };
        let s = as_set(e.value())?;
        if n == 0 {
            out.array(0);
            return Ok(());
        }
        if n < 0 {
            if n.unsigned_abs() > RANDOM_COUNT_MAX {
                return Err(ReplyError::ValueOutOfRange);
            }
            out.array(n.unsigned_abs() as usize);
            for _ in 0..n.unsigned_abs() {
                let m = s.random(&mut || rng.next_u64()).unwrap_or_default();
                out.bulk(&m);
            }
            return Ok(());
        }
        let len = s.len();
        if n as u64 >= len as u64 {
            out.array(len);
            s.for_each(&mut |m| out.bulk(m));
            return Ok(());
        }
        let k = n as usize;
        if k * 3 > len {
            let all = s.members();
            out.array(k);
            for p in rng.distinct_positions(len, k) {
                out.bulk(&all[p]);
            }
            return Ok(());
        }
        let mut seen = hashbrown::HashSet::with_capacity(k);
        while seen.len() < k {
            if let Some(m) = s.random(&mut || rng.next_u64()) {
                seen.insert(m);
            }
        }
        out.array(k);
        seen.iter().for_each(|m| out.bulk(m));
        Ok(())
    })
}

fn sscan(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            empty_scan(out);
            return Ok(());
        };
        let s = as_set(e.value())?;
        let o = ScanArgs::parse(ArgCursor::new(args, 3), SCAN_COUNT_MAX, false)?;
        let mut found = Vec::new();
        let next = s.scan(cursor, o.count, &mut |m| {
            if o.keeps(m) {
                found.push(m.to_vec());
            }
        });
        out.array(2);
        write_cursor(out, next);
        out.array(found.len());
        found.iter().for_each(|m| out.bulk(m));
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Multi-key: SMOVE, SINTER*, SUNION*, SDIFF*
// ---------------------------------------------------------------------------------------------

/// Whether `key` holds a set: Ok(Some(len)), Ok(None) when absent, WRONGTYPE otherwise.
fn set_len_write(ex: &mut Exec<'_>, key: &[u8]) -> Result<Option<usize>, ReplyError> {
    let now = ex.now_ms;
    match ex.db(key).lookup_write(key, now) {
        None => Ok(None),
        Some(e) => Ok(Some(as_set(e.value())?.len())),
    }
}

fn smove(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (src, dst, m, now) = (args.get(1), args.get(2), args.get(3), ex.now_ms);
    if set_len_write(ex, src)?.is_none() {
        ex.out.int(0);
        return Ok(());
    }
    set_len_write(ex, dst)?;
    if src == dst {
        let has = read_contains(ex, src, m);
        ex.out.int(has as i64);
        return Ok(());
    }
    let removed = ex.with_db(src, |db, _| {
        let Some(e) = db.lookup_write(src, now) else {
            return false;
        };
        let Value::Set(s) = e.value_mut() else {
            return false;
        };
        let removed = s.remove(m);
        if s.is_empty() {
            db.remove(src, now);
        }
        removed
    });
    if !removed {
        ex.out.int(0);
        return Ok(());
    }
    ex.notify(notify::SET, "srem", src);
    ex.notify_if_gone(src);
    let db = ex.db(dst);
    match db.lookup_write(dst, now).map(|e| e.value_mut()) {
        Some(Value::Set(s)) => {
            s.insert(m);
        }
        _ => {
            let mut s = SetValue::new();
            s.insert(m);
            db.set(dst, Value::Set(s), 0, now);
        }
    }
    ex.notify(notify::SET, "sadd", dst);
    ex.dirty(src, 1);
    ex.out.int(1);
    Ok(())
}

fn read_contains(ex: &mut Exec<'_>, key: &[u8], m: &[u8]) -> bool {
    let now = ex.now_ms;
    match ex.db(key).lookup_write(key, now).map(|e| e.value()) {
        Some(ValueRef::Set(s)) => s.contains(m),
        _ => false,
    }
}

/// Looks every key up (counting hits and misses as Redis does) and checks types before any
/// work: Ok(sizes), None for absent keys.
fn set_sizes(ex: &mut Exec<'_>, keys: &[&[u8]]) -> Result<Vec<Option<usize>>, ReplyError> {
    let now = ex.now_ms;
    let mut sizes = Vec::with_capacity(keys.len());
    for key in keys {
        let s = match ex.db(key).lookup_read(key, now) {
            None => None,
            Some(e) => Some(as_set(e.value())?.len()),
        };
        sizes.push(s);
    }
    Ok(sizes)
}

/// Applies `f` to the set at `key` (which `set_sizes` found to be a set).
fn with_set<R>(ex: &mut Exec<'_>, key: &[u8], f: impl FnOnce(&SetValue) -> R) -> Option<R> {
    let now = ex.now_ms;
    match ex.db(key).lookup_write(key, now).map(|e| e.value()) {
        Some(ValueRef::Set(s)) => Some(f(s)),
        _ => None,
    }
}

/// The intersection of the sets at `keys`, in the smallest set's order; `limit` 0 means all.
/// Errors with WRONGTYPE when any key holds another type.
fn intersect(ex: &mut Exec<'_>, keys: &[&[u8]], limit: usize) -> Result<Vec<Vec<u8>>, ReplyError> {
    let sizes = set_sizes(ex, keys)?;
    if sizes.iter().any(|s| s.is_none()) {
        return Ok(Vec::new());
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let mut cands = with_set(ex, keys[order[0]], |s| s.members()).unwrap_or_default();
    for &i in &order[1..] {
        if cands.is_empty() {
            break;
        }
        with_set(ex, keys[i], |s| cands.retain(|m| s.contains(m)));
    }
    if limit > 0 {
        cands.truncate(limit);
    }
    Ok(cands)
}

/// The union (`diff` false) or difference of the sets at `keys`, as a new set.
fn union_or_diff(ex: &mut Exec<'_>, keys: &[&[u8]], diff: bool) -> Result<SetValue, ReplyError> {
    let sizes = set_sizes(ex, keys)?;
    let mut result = SetValue::new();
    if !diff {
        for (i, key) in keys.iter().enumerate() {
            if sizes[i].is_some() {
                with_set(ex, key, |s| {
                    s.for_each(&mut |m| {
                        result.insert(m);
                    })
                });
            }
        }
        return Ok(result);
    }
    if sizes[0].is_none() {
        return Ok(result);
    }
    let mut cands = with_set(ex, keys[0], |s| s.members()).unwrap_or_default();
    for (i, key) in keys.iter().enumerate().skip(1) {
        if cands.is_empty() {
            break;
        }
        if sizes[i].is_some() {
            with_set(ex, key, |s| cands.retain(|m| !s.contains(m)));
        }
    }
    for m in &cands {
        result.insert(m);
    }
    Ok(result)
}

fn keys_from(args: Args<'_>, from: usize) -> Vec<&[u8]> {
    args.iter().skip(from).collect()
}

fn sinter(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let members = intersect(ex, &keys_from(args, 1), 0)?;
    reply_members(&mut ex.out, &members);
    Ok(())
}

fn sunion(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let s = union_or_diff(ex, &keys_from(args, 1), false)?;
    reply_members(&mut ex.out, &s.members());
    Ok(())
}

fn sdiff(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let s = union_or_diff(ex, &keys_from(args, 1), true)?;
    reply_members(&mut ex.out, &s.members());
    Ok(())
}

/// Replaces `dst` with `s` (no TTL), or deletes it when `s` is empty; replies with the size.
fn store(ex: &mut Exec<'_>, dst: &[u8], s: SetValue, event: &str) {
    let (now, n) = (ex.now_ms, s.len());
    if n == 0 {
        if ex.db(dst).remove(dst, now).is_some() {
            ex.notify(notify::GENERIC, "del", dst);
            ex.dirty(dst, 1);
        }
    } else {
        ex.db(dst).set(dst, Value::Set(s), 0, now);
        ex.notify(notify::SET, event, dst);
        ex.dirty(dst, 1);
    }
    ex.out.int(n as i64);
}

fn sinterstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let members = intersect(ex, &keys_from(args, 2), 0)?;
    let mut s = SetValue::new();
    for m in &members {
        s.insert(m);
    }
    store(ex, args.get(1), s, "sinterstore");
    Ok(())
}

fn sunionstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let s = union_or_diff(ex, &keys_from(args, 2), false)?;
    store(ex, args.get(1), s, "sunionstore");
    Ok(())
}

fn sdiffstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let s = union_or_diff(ex, &keys_from(args, 2), true)?;
    store(ex, args.get(1), s, "sdiffstore");
    Ok(())
}

/// SINTERCARD's numkeys and LIMIT, checked in Redis' order.
fn sintercard_parse(args: Args<'_>) -> Result<(usize, usize), ReplyError> {
    let numkeys = ArgCursor::new(args, 1).next_numkeys()?;
    if numkeys > (args.len() - 2) as u64 {
        return Err(ReplyError::other(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut cur = ArgCursor::new(args, 2 + numkeys);
    while !cur.is_done() {
        if cur.remaining() < 2 || !cur.flag("LIMIT") {
            return Err(ReplyError::Syntax);
        }
        limit = cur.next_i64_in(0, i64::MAX, ReplyError::LimitNegative)? as usize;
    }
    Ok((numkeys, limit))
}

fn sintercard_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    let (numkeys, _) = sintercard_parse(args)?;
    Ok((2..2 + numkeys).collect())
}

fn sintercard(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (numkeys, limit) = sintercard_parse(args)?;
    let keys: Vec<&[u8]> = (2..2 + numkeys).map(|i| args.get(i)).collect();
    let members = intersect(ex, &keys, limit)?;
    ex.out.int(members.len() as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Harness, Reply};

    fn int(v: i64) -> Reply {
        Reply::Int(v)
    }
    fn e(s: &str) -> Reply {
        Reply::err(s)
    }
    fn sorted(r: Reply) -> Vec<Vec<u8>> {
        let (Reply::Array(v) | Reply::Set(v)) = r else {
            panic!("not a list: {r:?}")
        };
        let mut out: Vec<Vec<u8>> = v
            .into_iter()
            .map(|x| match x {
                Reply::Bulk(b) => b,
                other => panic!("{other:?}"),
            })
            .collect();
        out.sort();
        out
    }
    fn bytes(v: &[&str]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = v.iter().map(|s| s.as_bytes().to_vec()).collect();
        out.sort();
        out
    }

    #[test]
    fn add_remove_count_and_delete_when_empty() {
        // Guards SADD/SREM counts, intset ordering, encodings and key deletion.
        let mut h = Harness::new();
        assert_eq!(h.run(&["SADD", "s", "3", "1", "2", "1"]), int(3));
        assert_eq!(h.run(&["OBJECT", "ENCODING", "s"]), Reply::bulk("intset"));
        assert_eq!(
            h.run(&["SMEMBERS", "s"]),
            Reply::Array(vec![Reply::bulk("1"), Reply::bulk("2"), Reply::bulk("3")])
        );
        assert_eq!(h.run(&["SADD", "s", "x"]), int(1));
        assert_eq!(
            h.run(&["OBJECT", "ENCODING", "s"]),
            Reply::bulk("hashtable")
        );
        assert_eq!(h.run(&["SCARD", "s"]), int(4));
        assert_eq!(h.run(&["SISMEMBER", "s", "x"]), int(1));
        let mis = h.run(&["SMISMEMBER", "s", "1", "zz"]);
        assert_eq!(mis, Reply::Array(vec![int(1), int(0)]));
        assert_eq!(h.run(&["SREM", "s", "1", "2", "3", "x", "y"]), int(4));
        assert_eq!(h.run(&["EXISTS", "s"]), int(0));
        assert_eq!(h.run(&["SREM", "s", "a"]), int(0));
        assert_eq!(h.run(&["SCARD", "s"]), int(0));
    }

    #[test]
    fn wrong_type_and_arity() {
        // Guards WRONGTYPE on every family command and arity errors.
        let mut h = Harness::new();
        h.run(&["SET", "str", "v"]);
        let wt = e("WRONGTYPE Operation against a key holding the wrong kind of value");
        for c in [
            &["SADD", "str", "a"][..],
            &["SREM", "str", "a"],
            &["SCARD", "str"],
            &["SISMEMBER", "str", "a"],
            &["SMEMBERS", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "0"],
            &["SRANDMEMBER", "str", "0"],
            &["SINTER", "nokey", "str"],
            &["SUNION", "str"],
            &["SDIFF", "nokey", "str"],
            &["SINTERSTORE", "d", "str"],
            &["SMOVE", "str", "d", "a"],
            &["SSCAN", "str", "0", "COUNT", "0"],
            &["SINTERCARD", "1", "str"],
        ] {
            assert_eq!(h.run(c), wt, "{c:?}");
        }
        assert_eq!(
            h.run(&["SADD", "s"]),
            e("ERR wrong number of arguments for 'sadd' command")
        );
        assert_eq!(h.run(&["SMOVE", "nokey", "str", "a"]), int(0));
    }

    #[test]
    fn spop_and_srandmember_counts() {
        // Guards count parsing, errors, bounds and the empty/whole-set cases.
        let mut h = Harness::new();
        for i in 0..50 {
            h.run(&["SADD", "s", &format!("m{i}")]);
        }
        let pos = e("ERR value is out of range, must be positive");
        assert_eq!(h.run(&["SPOP", "s", "-1"]), pos);
        assert_eq!(h.run(&["SPOP", "s", "x"]), pos);
        assert_eq!(h.run(&["SPOP", "s", "1", "2"]), e("ERR syntax error"));
        assert_eq!(
            h.run(&["SRANDMEMBER", "s", "x"]),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            e(
                "ERR value is out of range, value must between -9223372036854775807 and \
9223372036854775807"
            )
        );
        assert_eq!(
            h.run(&["SRANDMEMBER", "s", "-9223372036854775807"]),
            e("ERR value is out of range")
        );
        assert_eq!(sorted(h.run(&["SRANDMEMBER", "s", "-100"])).len(), 100);
        let some = sorted(h.run(&["SRANDMEMBER", "s", "10"]));
        assert_eq!(some.len(), 10);
        assert!(some.windows(2).all(|w| w[0] != w[1]));
        assert_eq!(sorted(h.run(&["SRANDMEMBER", "s", "40"])).len(), 40);
        assert_eq!(sorted(h.run(&["SRANDMEMBER", "s", "1000"])).len(), 50);
        let popped = sorted(h.run(&["SPOP", "s", "20"]));
        assert_eq!(popped.len(), 20);
        assert_eq!(h.run(&["SCARD", "s"]), int(30));
        assert_eq!(
            sorted(h.run(&["SPOP", "s", "9223372036854775807"])).len(),
            30
        );
        assert_eq!(h.run(&["EXISTS", "s"]), int(0));
        assert_eq!(h.run(&["SPOP", "s"]), Reply::Nil);
        assert_eq!(h.run(&["SPOP", "s", "3"]), Reply::Array(vec![]));
        assert_eq!(h.run(&["SRANDMEMBER", "s"]), Reply::Nil);
        h.run(&["SADD", "one", "x"]);
        assert_eq!(h.run(&["SPOP", "one"]), Reply::bulk("x"));
        assert_eq!(h.run(&["EXISTS", "one"]), int(0));
    }

    #[test]
    fn algebra_and_store() {
        // Guards SINTER/SUNION/SDIFF results, STORE replacing TTL and deleting on empty.
        let mut h = Harness::new();
        h.run(&["SADD", "a", "1", "2", "3", "x"]);
        h.run(&["SADD", "b", "2", "3", "4"]);
        assert_eq!(sorted(h.run(&["SINTER", "a", "b"])), bytes(&["2", "3"]));
        assert_eq!(sorted(h.run(&["SINTER", "a", "nokey"])), bytes(&[]));
        assert_eq!(
            sorted(h.run(&["SUNION", "a", "b", "nokey"])),
            bytes(&["1", "2", "3", "4", "x"])
        );
        assert_eq!(sorted(h.run(&["SDIFF", "a", "b"])), bytes(&["1", "x"]));
        assert_eq!(h.run(&["SINTERCARD", "2", "a", "b"]), int(2));
        assert_eq!(h.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), int(1));
        h.run(&["SET", "d", "v", "EX", "100"]);
        assert_eq!(h.run(&["SUNIONSTORE", "d", "a", "b"]), int(5));
        assert_eq!(h.run(&["TTL", "d"]), int(-1));
        assert_eq!(
            h.run(&["OBJECT", "ENCODING", "d"]),
            Reply::bulk("hashtable")
        );
        assert_eq!(h.run(&["SINTERSTORE", "d", "a", "b"]), int(2));
        assert_eq!(h.run(&["OBJECT", "ENCODING", "d"]), Reply::bulk("intset"));
        assert_eq!(h.run(&["SDIFFSTORE", "d", "a", "a"]), int(0));
        assert_eq!(h.run(&["EXISTS", "d"]), int(0));
        assert_eq!(
            h.run(&["SINTER", "a", "a"]).clone(),
            h.run(&["SMEMBERS", "a"])
        );
    }

    #[test]
    fn sintercard_errors_match_redis() {
        // Guards numkeys and LIMIT validation texts.
        let mut h = Harness::new();
        h.run(&["SADD", "s", "a"]);
        let gt0 = e("ERR numkeys should be greater than 0");
        assert_eq!(h.run(&["SINTERCARD", "0", "s"]), gt0);
        assert_eq!(h.run(&["SINTERCARD", "x", "s"]), gt0);
        assert_eq!(
            h.run(&["SINTERCARD", "9223372036854775807", "s"]),
            e("ERR Number of keys can't be greater than number of args")
        );
        assert_eq!(
            h.run(&["SINTERCARD", "1", "s", "LIMIT", "-1"]),
            e("ERR LIMIT can't be negative")
        );
        assert_eq!(
            h.run(&["SINTERCARD", "1", "s", "LIMIT"]),
            e("ERR syntax error")
        );
        assert_eq!(h.run(&["SINTERCARD", "1", "s", "LIMIT", "0"]), int(1));
    }

    #[test]
    fn smove_cases() {
        // Guards SMOVE: missing member, same key, creation of the destination, emptied source.
        let mut h = Harness::new();
        h.run(&["SADD", "src", "a", "b"]);
        assert_eq!(h.run(&["SMOVE", "src", "dst", "zz"]), int(0));
        assert_eq!(h.run(&["SMOVE", "src", "src", "a"]), int(1));
        assert_eq!(h.run(&["SMOVE", "src", "src", "zz"]), int(0));
        assert_eq!(h.run(&["SMOVE", "src", "dst", "a"]), int(1));
        assert_eq!(h.run(&["SMOVE", "src", "dst", "b"]), int(1));
        assert_eq!(h.run(&["EXISTS", "src"]), int(0));
        assert_eq!(sorted(h.run(&["SMEMBERS", "dst"])), bytes(&["a", "b"]));
    }

    #[test]
    fn sscan_walks_big_sets_and_validates() {
        // Guards SSCAN over the table encoding, MATCH, and option errors.
        let mut h = Harness::new();
        for i in 0..1000 {
            h.run(&["SADD", "s", &format!("m{i}")]);
        }
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        for _ in 0..10_000 {
            let r = h.run(&["SSCAN", "s", &cursor, "COUNT", "7"]);
            let Reply::Array(v) = r else { panic!() };
            let Reply::Bulk(c) = &v[0] else { panic!() };
            cursor = String::from_utf8(c.clone()).unwrap();
            seen.extend(sorted(v[1].clone()));
            if cursor == "0" {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 1000);
        assert_eq!(h.run(&["SSCAN", "s", "x"]), e("ERR invalid cursor"));
        assert_eq!(
            h.run(&["SSCAN", "s", "0", "COUNT", "0"]),
            e("ERR syntax error")
        );
        assert_eq!(h.run(&["SSCAN", "s", "0", "MATCH"]), e("ERR syntax error"));
        h.run(&["SADD", "i", "1", "2", "10"]);
        let r = h.run(&["SSCAN", "i", "0", "MATCH", "1*"]);
        assert_eq!(
            r,
            Reply::Array(vec![
                Reply::bulk("0"),
                Reply::Array(vec![Reply::bulk("1"), Reply::bulk("10")])
            ])
        );
        assert_eq!(
            h.run(&["SSCAN", "nokey", "0", "COUNT", "0"]).clone(),
            Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
        );
    }

    #[test]
    fn resp3_shapes() {
        // Guards set-typed replies in RESP3 and array replies for SRANDMEMBER.
        let mut h = Harness::new();
        h.run(&["HELLO", "3"]);
        h.run(&["SADD", "s", "a"]);
        assert_eq!(
            h.run(&["SMEMBERS", "s"]),
            Reply::Set(vec![Reply::bulk("a")])
        );
        assert_eq!(h.run(&["SMEMBERS", "nokey"]), Reply::Set(vec![]));
        assert_eq!(
            h.run(&["SRANDMEMBER", "s", "1"]),
            Reply::Array(vec![Reply::bulk("a")])
        );
        assert_eq!(h.run(&["SPOP", "nokey", "1"]), Reply::Set(vec![]));
        assert_eq!(h.run(&["SPOP", "nokey"]), Reply::Nil);
    }

    #[test]
    fn table_metadata() {
        // Guards arity, flags, key ranges and group of every set command.
        use super::super::flags::*;
        let want: &[(&str, i32, u32)] = &[
            ("sadd", -3, WRITE | DENYOOM | FAST),
            ("srem", -3, WRITE | FAST),
            ("scard", 2, READONLY | FAST),
            ("sismember", 3, READONLY | FAST),
            ("smismember", -3, READONLY | FAST),
            ("smembers", 2, READONLY),
            ("spop", -2, WRITE | FAST),
            ("srandmember", -2, READONLY),
            ("smove", 4, WRITE | FAST | MULTI_KEY),
            ("sinter", -2, READONLY | MULTI_KEY),
            ("sintercard", -3, READONLY | MULTI_KEY),
            ("sinterstore", -3, WRITE | DENYOOM | MULTI_KEY),
            ("sunion", -2, READONLY | MULTI_KEY),
            ("sunionstore", -3, WRITE | DENYOOM | MULTI_KEY),
            ("sdiff", -2, READONLY | MULTI_KEY),
            ("sdiffstore", -3, WRITE | DENYOOM | MULTI_KEY),
            ("sscan", -3, READONLY),
        ];
        for (name, arity, flags) in want {
            let c = COMMANDS.iter().find(|c| c.name == *name).expect(name);
            assert_eq!(
                (c.arity, c.flags, c.group),
                (*arity, *flags, "set"),
                "{name}"
            );
            assert!(!c.summary.is_empty() && !c.complexity.is_empty() && !c.args.is_empty());
        }
        assert_eq!(COMMANDS.len(), want.len());
    }
}
