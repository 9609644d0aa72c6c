//! List commands: pushes, pops, ranges, search, edits and moves between lists (LPUSH ..
//! LMPOP), plus the "try now" halves of the blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
//! BLMPOP) that the event loop calls before parking a client. Handlers reach keyspaces only
//! through `Exec::db`; the list itself is `types::list::ListValue`.

use super::longdouble::{self as ld, Parsed};
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, Exec, Handler, KeySpec};
use crate::resp::parse::parse_i64;
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::value::Value;
use crate::types::list::{End, ListValue, PosQuery};

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const K1: KeySpec = KeySpec::Range {
    first: 1,
    last: 1,
    step: 1,
};
const K12: KeySpec = KeySpec::Range {
    first: 1,
    last: 2,
    step: 1,
};
/// BLPOP/BRPOP: every argument but the command name and the trailing timeout.
const K_BUT_LAST: KeySpec = KeySpec::Range {
    first: 1,
    last: -2,
    step: 1,
};

const fn arg(name: &'static str, kind: &'static str) -> ArgDoc {
    ArgDoc::new(name, kind)
}
const fn many(a: ArgDoc) -> ArgDoc {
    ArgDoc {
        multiple: true,
        ..a
    }
}
/// An optional argument introduced by `token`.
const fn opt_tok(name: &'static str, kind: &'static str, token: &'static str) -> ArgDoc {
    ArgDoc {
        token,
        optional: true,
        ..arg(name, kind)
    }
}
const fn pure(name: &'static str, token: &'static str) -> ArgDoc {
    ArgDoc {
        token,
        ..arg(name, "pure-token")
    }
}
/// A required choice between alternatives.
const fn oneof(name: &'static str, args: &'static [ArgDoc]) -> ArgDoc {
    ArgDoc {
        args,
        ..arg(name, "oneof")
    }
}

const A_KEY: ArgDoc = arg("key", "key");
const A_SRC: ArgDoc = arg("source", "key");
const A_DST: ArgDoc = arg("destination", "key");
const A_ELEMENT: ArgDoc = arg("element", "string");
const A_TIMEOUT: ArgDoc = arg("timeout", "double");
const LEFT_RIGHT: &[ArgDoc] = &[pure("left", "LEFT"), pure("right", "RIGHT")];
const A_COUNT_OPT: ArgDoc = opt_tok("count", "integer", "COUNT");

const DOC_KEY: &[ArgDoc] = &[A_KEY];
const DOC_PUSH: &[ArgDoc] = &[A_KEY, many(A_ELEMENT)];
const DOC_POP: &[ArgDoc] = &[
    A_KEY,
    ArgDoc {
        optional: true,
        ..arg("count", "integer")
    },
];
const DOC_RANGE: &[ArgDoc] = &[A_KEY, arg("start", "integer"), arg("stop", "integer")];
const DOC_LINDEX: &[ArgDoc] = &[A_KEY, arg("index", "integer")];
const DOC_LSET: &[ArgDoc] = &[A_KEY, arg("index", "integer"), A_ELEMENT];
const DOC_LINSERT: &[ArgDoc] = &[
    A_KEY,
    oneof("where", &[pure("before", "BEFORE"), pure("after", "AFTER")]),
    arg("pivot", "string"),
    A_ELEMENT,
];
const DOC_LREM: &[ArgDoc] = &[A_KEY, arg("count", "integer"), A_ELEMENT];
const DOC_LPOS: &[ArgDoc] = &[
    A_KEY,
    A_ELEMENT,
    opt_tok("rank", "integer", "RANK"),
    opt_tok("num-matches", "integer", "COUNT"),
    opt_tok("len", "integer", "MAXLEN"),
];
const DOC_LMOVE: &[ArgDoc] = &[
    A_SRC,
    A_DST,
    oneof("wherefrom", LEFT_RIGHT),
    oneof("whereto", LEFT_RIGHT),
];
const DOC_RPOPLPUSH: &[ArgDoc] = &[A_SRC, A_DST];
const DOC_LMPOP: &[ArgDoc] = &[
    arg("numkeys", "integer"),
    many(A_KEY),
    oneof("where", LEFT_RIGHT),
    A_COUNT_OPT,
];
const DOC_BPOP: &[ArgDoc] = &[many(A_KEY), A_TIMEOUT];
const DOC_BLMOVE: &[ArgDoc] = &[
    A_SRC,
    A_DST,
    oneof("wherefrom", LEFT_RIGHT),
    oneof("whereto", LEFT_RIGHT),
    A_TIMEOUT,
];
const DOC_BRPOPLPUSH: &[ArgDoc] = &[A_SRC, A_DST, A_TIMEOUT];
const DOC_BLMPOP: &[ArgDoc] = &[
    A_TIMEOUT,
    arg("numkeys", "integer"),
    many(A_KEY),
    oneof("where", LEFT_RIGHT),
    A_COUNT_OPT,
];

/// A list-group command; the docs fields are filled at each entry.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: super::KeyFn,
) -> CommandSpec {
    CommandSpec {
        group: "list",
        ..CommandSpec::new(name, arity, flags, keys, Handler::Key(f))
    }
}

const O1: &str = "O(1)";
const WDF: u32 = WRITE | DENYOOM | FAST;
const C_PUSH: &str = "O(1) per element pushed, O(N) for N elements.";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        since: "1.0.0",
        complexity: C_PUSH,
        summary: "Adds elements at the head of a list, creating it when absent.",
        args: DOC_PUSH,
        ..spec("lpush", -3, WDF, K1, lpush)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: C_PUSH,
        summary: "Adds elements at the tail of a list, creating it when absent.",
        args: DOC_PUSH,
        ..spec("rpush", -3, WDF, K1, rpush)
    },
    CommandSpec {
        since: "2.2.0",
        complexity: C_PUSH,
        summary: "Adds elements at the head of a list only when the list exists.",
        args: DOC_PUSH,
        ..spec("lpushx", -3, WDF, K1, lpushx)
    },
    CommandSpec {
        since: "2.2.0",
        complexity: C_PUSH,
        summary: "Adds elements at the tail of a list only when the list exists.",
        args: DOC_PUSH,
        ..spec("rpushx", -3, WDF, K1, rpushx)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements popped.",
        summary: "Removes and returns elements from the head of a list.",
        args: DOC_POP,
        ..spec("lpop", -2, WRITE | FAST, K1, lpop)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements popped.",
        summary: "Removes and returns elements from the tail of a list.",
        args: DOC_POP,
        ..spec("rpop", -2, WRITE | FAST, K1, rpop)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Returns the number of elements of a list.",
        args: DOC_KEY,
        ..spec("llen", 2, READONLY | FAST, K1, llen)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(S+N): S to reach the start offset, N elements returned.",
        summary: "Returns the elements of a list between two indexes.",
        args: DOC_RANGE,
        ..spec("lrange", 4, READONLY, K1, lrange)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(N) in the distance to the nearer end; O(1) for either end.",
        summary: "Returns the element of a list at an index.",
        args: DOC_LINDEX,
        ..spec("lindex", 3, READONLY, K1, lindex)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(N) in the distance to the nearer end; O(1) for either end.",
        summary: "Replaces the element of a list at an index.",
        args: DOC_LSET,
        ..spec("lset", 4, WRITE | DENYOOM, K1, lset)
    },
    CommandSpec {
        since: "2.2.0",
        complexity: "O(N) where N is the number of elements scanned to find the pivot.",
        summary: "Inserts an element just before or after a pivot element of a list.",
        args: DOC_LINSERT,
        ..spec("linsert", 5, WRITE | DENYOOM, K1, linsert)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(N+M): N elements scanned, M elements removed.",
        summary: "Removes elements equal to a value from a list.",
        args: DOC_LREM,
        ..spec("lrem", 4, WRITE, K1, lrem)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements removed.",
        summary: "Keeps only the elements of a list between two indexes.",
        args: DOC_RANGE,
        ..spec("ltrim", 4, WRITE, K1, ltrim)
    },
    CommandSpec {
        since: "6.0.6",
        complexity: "O(N) in the elements scanned; MAXLEN bounds the scan.",
        summary: "Returns the indexes of the elements of a list equal to a value.",
        args: DOC_LPOS,
        ..spec("lpos", -3, READONLY, K1, lpos)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: O1,
        summary: "Pops an element from one end of a list and pushes it to an end of another.",
        args: DOC_LMOVE,
        ..spec("lmove", 5, WRITE | DENYOOM | MULTI_KEY, K12, lmove)
    },
    CommandSpec {
        since: "1.2.0",
        complexity: O1,
        summary: "Pops the tail of a list and pushes it at the head of another (see LMOVE).",
        args: DOC_RPOPLPUSH,
        ..spec("rpoplpush", 3, WRITE | DENYOOM | MULTI_KEY, K12, rpoplpush)
    },
    CommandSpec {
        since: "7.0.0",
        complexity: "O(N+M): N keys given, M elements popped.",
        summary: "Pops elements from the first non-empty list among several keys.",
        args: DOC_LMPOP,
        ..spec(
            "lmpop",
            -4,
            WRITE | MULTI_KEY,
            KeySpec::Custom(lmpop_keys),
            lmpop,
        )
    },
];

/// The blocking pops, not registered yet: the event loop must first learn to park clients
/// (see `try_blpop` and friends). Until then these handlers answer as Redis does for a
/// client that may not block (inside MULTI): the element when one is there, else a null.
/// Redis also flags them "blocking" (and all but BLMPOP "noscript"), a flag the table
/// does not have yet.
pub static BLOCKING_COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        since: "2.0.0",
        complexity: "O(N) where N is the number of keys given.",
        summary: "Pops the head of the first non-empty list, waiting for one if needed.",
        args: DOC_BPOP,
        ..spec("blpop", -3, WRITE | NOSCRIPT, K_BUT_LAST, blpop_now)
    },
    CommandSpec {
        since: "2.0.0",
        complexity: "O(N) where N is the number of keys given.",
        summary: "Pops the tail of the first non-empty list, waiting for one if needed.",
        args: DOC_BPOP,
        ..spec("brpop", -3, WRITE | NOSCRIPT, K_BUT_LAST, brpop_now)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: O1,
        summary: "LMOVE that waits for the source list to get an element.",
        args: DOC_BLMOVE,
        ..spec(
            "blmove",
            6,
            WRITE | DENYOOM | NOSCRIPT | MULTI_KEY,
            K12,
            blmove_now,
        )
    },
    CommandSpec {
        since: "2.2.0",
        complexity: O1,
        summary: "RPOPLPUSH that waits for the source list to get an element.",
        args: DOC_BRPOPLPUSH,
        ..spec(
            "brpoplpush",
            4,
            WRITE | DENYOOM | NOSCRIPT | MULTI_KEY,
            K12,
            brpoplpush_now,
        )
    },
    CommandSpec {
        since: "7.0.0",
        complexity: "O(N+M): N keys given, M elements popped.",
        summary: "LMPOP that waits for one of the lists to get an element.",
        args: DOC_BLMPOP,
        ..spec(
            "blmpop",
            -5,
            WRITE | MULTI_KEY,
            KeySpec::Custom(blmpop_keys),
            blmpop_now,
        )
    },
];

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

fn as_list(v: &Value) -> Result<&ListValue, ReplyError> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(ReplyError::WrongType),
    }
}

fn as_list_mut(v: &mut Value) -> Result<&mut ListValue, ReplyError> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(ReplyError::WrongType),
    }
}

fn int_arg(b: &[u8]) -> Result<i64, ReplyError> {
    parse_i64(b).ok_or(ReplyError::NotInteger)
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

/// Runs `f` with the keyspace of `key` and the reply writer at the same time. The reply
/// buffer is moved out of `ex` for the call (a pointer swap), because `Exec::db` borrows all
/// of `ex`. `f` must return its error before writing any reply bytes.
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

/// The list at `key` for writing: None when absent, WRONGTYPE for another type.
fn list_mut<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut ListValue>, ReplyError> {
    match db.lookup_write(key, now_ms) {
        None => Ok(None),
        Some(e) => as_list_mut(&mut e.value).map(Some),
    }
}

/// Deletes `key` when its list has become empty (an empty list never stays in the keyspace).
fn drop_if_empty(db: &mut Db, key: &[u8], now_ms: u64) {
    let empty = matches!(
        db.lookup_write(key, now_ms).map(|e| &e.value),
        Some(Value::List(l)) if l.is_empty()
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
        .map(|e| as_list_mut(&mut e.value))
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
// Pushes and pops
// ---------------------------------------------------------------------------------------------

/// LPUSH/RPUSH (`only_existing` false) and LPUSHX/RPUSHX.
fn push_generic(ex: &mut Exec<'_>, args: Args<'_>, end: End, only_existing: bool) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let pushed = with_db(ex, key, |db, out| {
        match list_mut(db, key, now)? {
            Some(list) => {
                push_all(list, args, end);
                out.int(list.len() as i64);
            }
            None if only_existing => {
                out.int(0);
                return Ok(0);
            }
            None => {
                let mut list = ListValue::new();
                push_all(&mut list, args, end);
                out.int(list.len() as i64);
                db.set(key, Value::List(list), 0, now);
            }
        }
        Ok(args.len() as u64 - 2)
    })?;
    if pushed > 0 {
        ex.dirty(key, pushed);
    }
    Ok(())
}

/// Pushes `args[2..]` one by one (so LPUSH a b c leaves c at the head).
fn push_all(list: &mut ListValue, args: Args<'_>, end: End) {
    for i in 2..args.len() {
        list.push(end, args.get(i));
    }
}

fn lpush(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ex, args, End::Head, false)
}

fn rpush(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ex, args, End::Tail, false)
}

fn lpushx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ex, args, End::Head, true)
}

fn rpushx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ex, args, End::Tail, true)
}

/// LPOP/RPOP. With a count the reply is an array (null array for a missing key), without
/// one a single bulk string.
fn pop_generic(ex: &mut Exec<'_>, args: Args<'_>, end: End, name: &str) -> CmdResult {
    if args.len() > 3 {
        return Err(ReplyError::Arity(name.into()));
    }
    let count = if args.len() == 3 {
        match parse_i64(args.get(2)) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => {
                return Err(ReplyError::other(
                    "ERR value is out of range, must be positive",
                ))
            }
        }
    } else {
        None
    };
    let (key, now) = (args.get(1), ex.now_ms);
    let popped = with_db(ex, key, |db, out| {
        let Some(list) = list_mut(db, key, now)? else {
            match count {
                Some(_) => out.null_array(),
                None => out.null(),
            }
            return Ok(0);
        };
        let Some(n) = count else {
            return Ok(match list.pop(end) {
                Some(e) => {
                    out.bulk(e.as_bytes());
                    if list.is_empty() {
                        db.remove(key, now);
                    }
                    1
                }
                None => {
                    out.null();
                    0
                }
            });
        };
        Ok(pop_into_reply(db, out, key, end, n, now))
    })?;
    if popped > 0 {
        ex.dirty(key, popped as u64);
    }
    Ok(())
}

fn lpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ex, args, End::Head, "lpop")
}

fn rpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ex, args, End::Tail, "rpop")
}

// ---------------------------------------------------------------------------------------------
// Reads: LLEN, LRANGE, LINDEX, LPOS
// ---------------------------------------------------------------------------------------------

fn llen(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    with_db(ex, key, |db, out| {
        match db.lookup_read(key, now) {
            None => out.int(0),
            Some(e) => out.int(as_list(&e.value)?.len() as i64),
        }
        Ok(())
    })
}

/// Indexes are checked before the key is looked up, as in Redis.
fn lrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (start, stop) = (int_arg(args.get(2))?, int_arg(args.get(3))?);
    let (key, now) = (args.get(1), ex.now_ms);
    with_db(ex, key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.array(0);
            return Ok(());
        };
        let list = as_list(&e.value)?;
        match list.clamp_range(start, stop) {
            None => out.array(0),
            Some((first, last)) => {
                out.array(last - first + 1);
                for b in list.range(first, last) {
                    out.bulk(b);
                }
            }
        }
        Ok(())
    })
}

/// The key is looked up before the index is parsed: a missing key answers null whatever
/// the index says, as in Redis.
fn lindex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    with_db(ex, key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.null();
            return Ok(());
        };
        let list = as_list(&e.value)?;
        let index = int_arg(args.get(2))?;
        match list.resolve(index).and_then(|p| list.get(p)) {
            Some(b) => out.bulk(b),
            None => out.null(),
        }
        Ok(())
    })
}

/// LPOS options; errors in the order Redis reports them while reading the arguments.
fn parse_lpos_opts(args: Args<'_>) -> Result<(PosQuery, bool), ReplyError> {
    let mut q = PosQuery {
        rank: 1,
        count: 0,
        maxlen: 0,
    };
    let mut with_count = false;
    let non_negative = |b: &[u8], what: &str| match parse_i64(b) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(ReplyError::other(format!("ERR {what} can't be negative"))),
    };
    let mut i = 3;
    while i < args.len() {
        let (opt, has_value) = (args.get(i), i + 1 < args.len());
        if !has_value {
            return Err(ReplyError::Syntax);
        }
        let v = args.get(i + 1);
        if opt.eq_ignore_ascii_case(b"rank") {
            q.rank = int_arg(v)?;
            if q.rank == 0 {
                return Err(ReplyError::other(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if opt.eq_ignore_ascii_case(b"count") {
            q.count = non_negative(v, "COUNT")?;
            with_count = true;
        } else if opt.eq_ignore_ascii_case(b"maxlen") {
            q.maxlen = non_negative(v, "MAXLEN")?;
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 2;
    }
    Ok((q, with_count))
}

fn lpos(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (q, with_count) = parse_lpos_opts(args)?;
    let (key, elem, now) = (args.get(1), args.get(2), ex.now_ms);
    with_db(ex, key, |db, out| {
        let found = match db.lookup_read(key, now) {
            None => Vec::new(),
            Some(e) => as_list(&e.value)?.positions(elem, q),
        };
        if with_count {
            out.array(found.len());
            for p in found {
                out.int(p as i64);
            }
        } else {
            match found.first() {
                Some(&p) => out.int(p as i64),
                None => out.null(),
            }
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Edits: LSET, LINSERT, LREM, LTRIM
// ---------------------------------------------------------------------------------------------

/// The key and its type are checked before the index, as in Redis.
fn lset(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    with_db(ex, key, |db, out| {
        let list = list_mut(db, key, now)?.ok_or(ReplyError::NoSuchKey)?;
        let index = int_arg(args.get(2))?;
        let pos = list.resolve(index).ok_or(ReplyError::OutOfRange)?;
        list.set(pos, args.get(3));
        out.ok();
        Ok(())
    })?;
    ex.dirty(key, 1);
    Ok(())
}

fn linsert(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let w = args.get(2);
    let after = if w.eq_ignore_ascii_case(b"after") {
        true
    } else if w.eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(ReplyError::Syntax);
    };
    let (key, now) = (args.get(1), ex.now_ms);
    let inserted = with_db(ex, key, |db, out| {
        let Some(list) = list_mut(db, key, now)? else {
            out.int(0);
            return Ok(false);
        };
        let Some(pos) = list.find(args.get(3)) else {
            out.int(-1);
            return Ok(false);
        };
        list.insert(pos + after as usize, args.get(4));
        out.int(list.len() as i64);
        Ok(true)
    })?;
    if inserted {
        ex.dirty(key, 1);
    }
    Ok(())
}

fn lrem(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let count = int_arg(args.get(2))?;
    let (key, now) = (args.get(1), ex.now_ms);
    let removed = with_db(ex, key, |db, out| {
        let Some(list) = list_mut(db, key, now)? else {
            out.int(0);
            return Ok(0);
        };
        let n = list.remove_matching(args.get(3), count);
        if list.is_empty() {
            db.remove(key, now);
        }
        out.int(n as i64);
        Ok(n)
    })?;
    if removed > 0 {
        ex.dirty(key, removed as u64);
    }
    Ok(())
}

fn ltrim(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (start, stop) = (int_arg(args.get(2))?, int_arg(args.get(3))?);
    let (key, now) = (args.get(1), ex.now_ms);
    let removed = with_db(ex, key, |db, out| {
        let n = match list_mut(db, key, now)? {
            None => 0,
            Some(list) => {
                let n = list.trim(start, stop);
                if list.is_empty() {
                    db.remove(key, now);
                }
                n
            }
        };
        out.ok();
        Ok(n)
    })?;
    if removed > 0 {
        ex.dirty(key, removed as u64);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Moves: LMOVE, RPOPLPUSH, LMPOP
// ---------------------------------------------------------------------------------------------

/// What a move or multi-pop found at its source.
enum Found {
    /// No list to take from (missing key).
    Nothing,
    /// The reply is written.
    Done,
}

/// Moves one element from `src`'s `from` end to `dst`'s `to` end and replies with it, or
/// writes nothing and returns `Found::Nothing` when `src` is absent. The two keys may live
/// on different shards (each reached through `ex.db`) or be the same key.
fn move_one(
    ex: &mut Exec<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Found, ReplyError> {
    let now = ex.now_ms;
    if list_mut(ex.db(src), src, now)?.is_none() {
        return Ok(Found::Nothing);
    }
    // Check the destination's type before anything changes.
    list_mut(ex.db(dst), dst, now)?;
    let Some(elem) = list_mut(ex.db(src), src, now)?.and_then(|l| l.pop(from)) else {
        return Ok(Found::Nothing);
    };
    // Push before deleting an emptied source: with src == dst the list must survive.
    let db = ex.db(dst);
    match list_mut(db, dst, now)? {
        Some(l) => l.push(to, elem.as_bytes()),
        None => {
            let mut l = ListValue::new();
            l.push(to, elem.as_bytes());
            db.set(dst, Value::List(l), 0, now);
        }
    }
    drop_if_empty(ex.db(src), src, now);
    ex.out.bulk(elem.as_bytes());
    ex.dirty(dst, 1);
    Ok(Found::Done)
}

fn lmove(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (from, to) = (end_arg(args.get(3))?, end_arg(args.get(4))?);
    if let Found::Nothing = move_one(ex, args.get(1), args.get(2), from, to)? {
        ex.out.null();
    }
    Ok(())
}

fn rpoplpush(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if let Found::Nothing = move_one(ex, args.get(1), args.get(2), End::Tail, End::Head)? {
        ex.out.null();
    }
    Ok(())
}

/// Parsed LMPOP/BLMPOP arguments after the numkeys position.
struct MpopArgs {
    /// Argument indexes of the keys.
    first_key: usize,
    numkeys: usize,
    end: End,
    count: u64,
}

/// Parses `numkeys key.. LEFT|RIGHT [COUNT n]` with numkeys at `numkeys_idx`.
fn parse_mpop(args: Args<'_>, numkeys_idx: usize) -> Result<MpopArgs, ReplyError> {
    let numkeys = match parse_i64(args.get(numkeys_idx)) {
        Some(n) if n > 0 => n as u64,
        _ => return Err(ReplyError::other("ERR numkeys should be greater than 0")),
    };
    let where_idx = (numkeys_idx as u64 + 1)
        .checked_add(numkeys)
        .filter(|&w| w < args.len() as u64)
        .ok_or(ReplyError::Syntax)? as usize;
    let end = end_arg(args.get(where_idx))?;
    let mut count = None;
    let mut i = where_idx + 1;
    while i < args.len() {
        let more = i + 1 < args.len();
        if count.is_none() && more && args.get(i).eq_ignore_ascii_case(b"count") {
            match parse_i64(args.get(i + 1)) {
                Some(n) if n > 0 => count = Some(n as u64),
                _ => return Err(ReplyError::other("ERR count should be greater than 0")),
            }
            i += 2;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok(MpopArgs {
        first_key: numkeys_idx + 1,
        numkeys: numkeys as usize,
        end,
        count: count.unwrap_or(1),
    })
}

/// Pops from the first existing list among the keys, replying `[key, [elements]]`; a key of
/// another type met first is WRONGTYPE.
fn mpop_first(ex: &mut Exec<'_>, args: Args<'_>, m: &MpopArgs) -> Result<Found, ReplyError> {
    let now = ex.now_ms;
    for i in m.first_key..m.first_key + m.numkeys {
        let key = args.get(i);
        if list_mut(ex.db(key), key, now)?.is_none() {
            continue;
        }
        let popped = with_db(ex, key, |db, out| {
            out.array(2);
            out.bulk(key);
            pop_into_reply(db, out, key, m.end, m.count, now)
        });
        ex.dirty(key, popped as u64);
        return Ok(Found::Done);
    }
    Ok(Found::Nothing)
}

fn lmpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let m = parse_mpop(args, 1)?;
    if let Found::Nothing = mpop_first(ex, args, &m)? {
        ex.out.null_array();
    }
    Ok(())
}

/// Key positions of `numkeys key..` with numkeys at `numkeys_idx`. Invalid counts give no
/// keys (the handler then reports the precise error), as do counts past the end.
fn mpop_key_positions(args: Args<'_>, numkeys_idx: usize) -> Vec<usize> {
    let n = match parse_i64(args.get(numkeys_idx)) {
        Some(n) if n > 0 => n as u64,
        _ => return Vec::new(),
    };
    let first = numkeys_idx + 1;
    if (first as u64).saturating_add(n) > args.len() as u64 {
        return Vec::new();
    }
    (first..first + n as usize).collect()
}

fn lmpop_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(mpop_key_positions(args, 1))
}

fn blmpop_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(mpop_key_positions(args, 2))
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

/// Parses a blocking command's timeout (seconds) into milliseconds as Redis 7.0 does: the
/// text is read as a C `long double`, multiplied by 1000 in that precision, rounded up to
/// a whole millisecond and converted to a 64-bit integer (an out-of-range conversion gives
/// i64::MIN on x86-64, hence "negative" for huge or infinite values). So "-0.0001" waits
/// forever (rounds up to 0) and "0.0001" waits 1 ms.
pub fn parse_timeout(raw: &[u8]) -> Result<u64, ReplyError> {
    let ms = match ld::parse(raw) {
        None => {
            return Err(ReplyError::other(
                "ERR timeout is not a float or out of range",
            ))
        }
        Some(Parsed::Inf) => i64::MIN,
        Some(Parsed::Finite(v)) => match f80_parts(v) {
            Some(parts) => ceil_ms(parts),
            None => ceil_ms_f64(raw),
        },
    };
    if ms < 0 {
        return Err(ReplyError::other("ERR timeout is negative"));
    }
    Ok(ms as u64)
}

/// (negative, mantissa, exponent) of a parsed long double. `F80` keeps its fields private;
/// its derived Debug output is the only public view of them (a unit test pins the format).
/// TODO(lead): replace with a `parts()` accessor on `F80`.
fn f80_parts(v: ld::F80) -> Option<(bool, u64, i64)> {
    let s = format!("{v:?}");
    let field = |name: &str| -> Option<&str> {
        let at = s.find(&format!("{name}: "))? + name.len() + 2;
        let rest = &s[at..];
        Some(&rest[..rest.find([',', ' ', '}'])?])
    };
    Some((
        field("neg")?.parse().ok()?,
        field("mant")?.parse().ok()?,
        field("exp")?.parse().ok()?,
    ))
}

/// Approximation used only if the long double's parts cannot be read.
fn ceil_ms_f64(raw: &[u8]) -> i64 {
    let v = std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    let ms = (v * 1000.0).ceil();
    if ms.is_finite() && ms.abs() < 9.2e18 {
        ms as i64
    } else {
        i64::MIN
    }
}

/// ceil(round64(±mant * 2^exp * 1000)) as x86 converts it to i64 (i64::MIN when out of range).
fn ceil_ms((neg, mant, exp): (bool, u64, i64)) -> i64 {
    let (m, e) = round_to_64_bits(mant as u128 * 1000, exp);
    if m == 0 {
        return 0;
    }
    // floor(m * 2^e) and whether a fraction is left.
    let (floor, frac) = if e >= 0 {
        if e >= 64 {
            return i64::MIN;
        }
        (m << e, false)
    } else if e <= -128 {
        (0, true)
    } else {
        let sh = e.unsigned_abs() as u32;
        (m >> sh, m & ((1u128 << sh) - 1) != 0)
    };
    // Rounding up moves a positive value away from zero and a negative one toward it.
    let magnitude = if neg { floor } else { floor + frac as u128 };
    match i64::try_from(magnitude) {
        Ok(v) if neg => -v,
        Ok(v) => v,
        Err(_) => i64::MIN,
    }
}

/// Rounds `p * 2^exp` to a 64-bit mantissa, ties to even, as the FPU does after a multiply.
fn round_to_64_bits(p: u128, exp: i64) -> (u128, i64) {
    let bits = 128 - p.leading_zeros();
    if bits <= 64 {
        return (p, exp);
    }
    let s = bits - 64;
    let (mut m, rem, half) = (p >> s, p & ((1u128 << s) - 1), 1u128 << (s - 1));
    if rem > half || (rem == half && m & 1 == 1) {
        m += 1;
    }
    if m >> 64 != 0 {
        return (m >> 1, exp + s as i64 + 1);
    }
    (m, exp + s as i64)
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
            keys: keys_between(args, m.first_key, m.first_key + m.numkeys),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::{OwnedArgs, Proto};
    use crate::testkit::{Harness, Reply};

    const WRONGTYPE: &str =
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
    const SYNTAX: &str = "-ERR syntax error\r\n";

    /// Runs each command line (split on spaces) and compares the raw reply bytes, which were
    /// taken from redis-server 7.0.15.
    fn raw_all(h: &mut Harness, cases: &[(&str, &str)]) {
        for (line, want) in cases {
            let argv: Vec<&str> = line.split(' ').collect();
            let got = h.raw(&argv);
            assert_eq!(String::from_utf8_lossy(&got), *want, "{line}");
        }
    }

    fn resp3() -> Harness {
        let mut h = Harness::new();
        assert!(matches!(h.run(&["HELLO", "3"]), Reply::Map(_)));
        h
    }

    fn args(v: &[&str]) -> OwnedArgs {
        let v: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        OwnedArgs::from_slices(&v)
    }

    /// Calls a try function directly (blocking commands are not in the table yet).
    fn try_cmd(
        h: &mut Harness,
        f: fn(&mut Exec<'_>, Args<'_>) -> Result<BlockTry, ReplyError>,
        argv: &[&str],
    ) -> (Result<BlockTry, ReplyError>, String) {
        let a = args(argv);
        let mut buf = Vec::new();
        let now = h.now_ms;
        let r = {
            let mut ex = Exec::new(&mut h.shard, Out::new(&mut buf, Proto::Resp2), now);
            f(&mut ex, a.args())
        };
        (r, String::from_utf8_lossy(&buf).into_owned())
    }

    #[test]
    fn push_and_pushx() {
        // Guards push order, returned lengths, PUSHX on missing keys and WRONGTYPE.
        let mut h = Harness::new();
        raw_all(
            &mut h,
            &[
                ("SET s x", "+OK\r\n"),
                ("LPUSH l a b c", ":3\r\n"),
                ("RPUSH l d", ":4\r\n"),
                (
                    "LRANGE l 0 -1",
                    "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n",
                ),
                ("LPUSHX nokey a", ":0\r\n"),
                ("RPUSHX nokey a b", ":0\r\n"),
                ("EXISTS nokey", ":0\r\n"),
                ("LPUSHX l x y", ":6\r\n"),
                ("RPUSHX l z", ":7\r\n"),
                ("LPUSH s a", WRONGTYPE),
                ("RPUSHX s a", WRONGTYPE),
                (
                    "LPUSH l",
                    "-ERR wrong number of arguments for 'lpush' command\r\n",
                ),
                ("TYPE l", "+list\r\n"),
                ("OBJECT ENCODING l", "$9\r\nquicklist\r\n"),
            ],
        );
    }

    #[test]
    fn pop_with_and_without_count() {
        // Guards LPOP/RPOP replies: count 0, counts past the end, missing keys, bad counts.
        let mut h = Harness::new();
        let range_err = "-ERR value is out of range, must be positive\r\n";
        raw_all(
            &mut h,
            &[
                ("LPOP nokey", "$-1\r\n"),
                ("LPOP nokey 0", "*-1\r\n"),
                ("LPOP nokey 2", "*-1\r\n"),
                ("LPOP nokey -1", range_err),
                ("LPOP nokey abc", range_err),
                (
                    "LPOP nokey 1 2",
                    "-ERR wrong number of arguments for 'lpop' command\r\n",
                ),
                (
                    "RPOP nokey 1 2",
                    "-ERR wrong number of arguments for 'rpop' command\r\n",
                ),
                ("RPUSH l a b c", ":3\r\n"),
                ("LPOP l 0", "*0\r\n"),
                ("LPOP l 1", "*1\r\n$1\r\na\r\n"),
                ("RPOP l", "$1\r\nc\r\n"),
                ("RPUSH l c d", ":3\r\n"),
                ("RPOP l 10", "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"),
                ("EXISTS l", ":0\r\n"),
                ("RPUSH l a", ":1\r\n"),
                ("LPOP l 9223372036854775807", "*1\r\n$1\r\na\r\n"),
                ("SET s x", "+OK\r\n"),
                ("LPOP s", WRONGTYPE),
                ("LPOP s 0", WRONGTYPE),
                ("LPOP s -1", range_err),
            ],
        );
    }

    #[test]
    fn nulls_in_resp3() {
        // Guards the RESP3 null forms of the list replies.
        let mut h = resp3();
        raw_all(
            &mut h,
            &[
                ("LPOP nokey", "_\r\n"),
                ("LPOP nokey 1", "_\r\n"),
                ("LINDEX nokey 0", "_\r\n"),
                ("LPOS nokey a", "_\r\n"),
                ("LPOS nokey a COUNT 1", "*0\r\n"),
                ("LMPOP 1 nokey LEFT", "_\r\n"),
                ("LMOVE nokey d LEFT RIGHT", "_\r\n"),
                ("LRANGE nokey 0 -1", "*0\r\n"),
                ("RPUSH l a b", ":2\r\n"),
                ("LMPOP 1 l LEFT", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"),
            ],
        );
    }

    #[test]
    fn llen_lrange_lindex() {
        // Guards reads: clamping, huge and overflowing indexes, argument-vs-key error order.
        let mut h = Harness::new();
        raw_all(
            &mut h,
            &[
                ("SET s x", "+OK\r\n"),
                ("LLEN nokey", ":0\r\n"),
                ("LLEN s", WRONGTYPE),
                ("RPUSH l a b c d e", ":5\r\n"),
                ("LLEN l", ":5\r\n"),
                ("LRANGE nokey 0 -1", "*0\r\n"),
                ("LRANGE nokey a 1", NOT_INT),
                ("LRANGE s 0 -1", WRONGTYPE),
                ("LRANGE s a 1", NOT_INT),
                ("LRANGE l -2 -1", "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"),
                ("LRANGE l 3 1", "*0\r\n"),
                ("LRANGE l 5 10", "*0\r\n"),
                ("LRANGE l 4 9223372036854775807", "*1\r\n$1\r\ne\r\n"),
                ("LRANGE l -9223372036854775808 0", "*1\r\n$1\r\na\r\n"),
                (
                    "LRANGE l -9223372036854775808 -9223372036854775808",
                    "*0\r\n",
                ),
                ("LRANGE l 0 99999999999999999999", NOT_INT),
                ("LINDEX l 0", "$1\r\na\r\n"),
                ("LINDEX l -1", "$1\r\ne\r\n"),
                ("LINDEX l 5", "$-1\r\n"),
                ("LINDEX l -6", "$-1\r\n"),
                ("LINDEX l x", NOT_INT),
                ("LINDEX nokey x", "$-1\r\n"),
                ("LINDEX s x", WRONGTYPE),
            ],
        );
    }

    #[test]
    fn lset_and_linsert() {
        // Guards LSET's error order and LINSERT's pivot search and replies.
        let mut h = Harness::new();
        raw_all(
            &mut h,
            &[
                ("SET s x", "+OK\r\n"),
                ("RPUSH l a b c d e", ":5\r\n"),
                ("LSET nokey x x", "-ERR no such key\r\n"),
                ("LSET s x x", WRONGTYPE),
                ("LSET l x x", NOT_INT),
                ("LSET l 5 x", "-ERR index out of range\r\n"),
                ("LSET l -6 x", "-ERR index out of range\r\n"),
                ("LSET l -1 z", "+OK\r\n"),
                ("LINSERT nokey before a x", ":0\r\n"),
                ("LINSERT nokey middle a x", SYNTAX),
                ("LINSERT s before a x", WRONGTYPE),
                ("LINSERT s middle a x", SYNTAX),
                ("LINSERT l before zz x", ":-1\r\n"),
                ("LINSERT l BEFORE a x", ":6\r\n"),
                ("LINSERT l AfTeR z y", ":7\r\n"),
                ("LINSERT l after c c2", ":8\r\n"),
            ],
        );
        let all = h.run(&["LRANGE", "l", "0", "-1"]);
        let want = ["x", "a", "b", "c", "c2", "d", "z", "y"].map(Reply::bulk);
        assert_eq!(all, Reply::Array(want.to_vec()));
    }

    #[test]
    fn lrem_and_ltrim() {
        // Guards removal counts in both directions, key deletion when emptied, and errors.
        let mut h = Harness::new();
        raw_all(
            &mut h,
            &[
                ("SET s x", "+OK\r\n"),
                ("LREM nokey 0 a", ":0\r\n"),
                ("LREM nokey x a", NOT_INT),
                ("LREM s 0 a", WRONGTYPE),
                ("LREM s x a", NOT_INT),
                ("RPUSH r a b a c a d a", ":7\r\n"),
                ("LREM r 2 a", ":2\r\n"),
                ("LREM r -1 a", ":1\r\n"),
                (
                    "LRANGE r 0 -1",
                    "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n",
                ),
                ("LREM r -9223372036854775808 b", ":1\r\n"),
                ("LREM r 0 a", ":1\r\n"),
                ("LREM r 9223372036854775807 c", ":1\r\n"),
                ("LREM r 0 d", ":1\r\n"),
                ("EXISTS r", ":0\r\n"),
                ("LTRIM nokey 0 1", "+OK\r\n"),
                ("LTRIM nokey x 1", NOT_INT),
                ("LTRIM s 0 1", WRONGTYPE),
                ("LTRIM s x 1", NOT_INT),
                ("RPUSH t a b c d e", ":5\r\n"),
                ("LTRIM t 1 -2", "+OK\r\n"),
                ("LRANGE t 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
                (
                    "LTRIM t -9223372036854775808 9223372036854775807",
                    "+OK\r\n",
                ),
                ("LLEN t", ":3\r\n"),
                ("LTRIM t 2 1", "+OK\r\n"),
                ("EXISTS t", ":0\r\n"),
            ],
        );
    }

    #[test]
    fn lpos_options_and_errors() {
        // Guards LPOS: RANK/COUNT/MAXLEN semantics, their error texts and precedence.
        let mut h = Harness::new();
        let rank0 = "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list\r\n";
        let count_neg = "-ERR COUNT can't be negative\r\n";
        let maxlen_neg = "-ERR MAXLEN can't be negative\r\n";
        raw_all(
            &mut h,
            &[
                ("SET s x", "+OK\r\n"),
                ("RPUSH l a b c a b c a", ":7\r\n"),
                ("LPOS l a", ":0\r\n"),
                ("LPOS l a RANK 2", ":3\r\n"),
                ("LPOS l a rank -1", ":6\r\n"),
                ("LPOS l a rank -2", ":3\r\n"),
                ("LPOS l a rank 0", rank0),
                ("LPOS l a rank x", NOT_INT),
                ("LPOS l a rank -9223372036854775808", ":6\r\n"),
                ("LPOS l a rank 9223372036854775807", "$-1\r\n"),
                ("LPOS l a count 0", "*3\r\n:0\r\n:3\r\n:6\r\n"),
                ("LPOS l a count 2", "*2\r\n:0\r\n:3\r\n"),
                ("LPOS l a count -1", count_neg),
                ("LPOS l a count x", count_neg),
                ("LPOS l a maxlen -1", maxlen_neg),
                ("LPOS l a maxlen x", maxlen_neg),
                ("LPOS l a maxlen 0", ":0\r\n"),
                ("LPOS l a maxlen 3 count 0", "*1\r\n:0\r\n"),
                ("LPOS l a rank -1 count 2 maxlen 2", "*1\r\n:6\r\n"),
                (
                    "LPOS l a rank -9223372036854775808 count 1",
                    "*3\r\n:6\r\n:3\r\n:0\r\n",
                ),
                ("LPOS l a rank -2 count 1 maxlen 4", "*1\r\n:3\r\n"),
                (
                    "LPOS l a count 9223372036854775807",
                    "*3\r\n:0\r\n:3\r\n:6\r\n",
                ),
                ("LPOS l a rank 1 rank 2", ":3\r\n"),
                ("LPOS l z", "$-1\r\n"),
                ("LPOS l z count 0", "*0\r\n"),
                ("LPOS nokey a", "$-1\r\n"),
                ("LPOS nokey a count 1", "*0\r\n"),
                ("LPOS nokey a rank 0", rank0),
                ("LPOS s a", WRONGTYPE),
                ("LPOS s a rank 0", rank0),
                ("LPOS l a rank", SYNTAX),
                ("LPOS l a foo 1", SYNTAX),
                ("LPOS s a foo", SYNTAX),
            ],
        );
    }

    #[test]
    fn lmove_and_rpoplpush() {
        // Guards moves: directions, same-key rotation, a last element moved onto itself,
        // WRONGTYPE on either side, syntax before anything else.
        let mut h = Harness::new();
        raw_all(
            &mut h,
            &[
                ("SET s x", "+OK\r\n"),
                ("RPUSH m 1 2 3", ":3\r\n"),
                ("LMOVE m d left right", "$1\r\n1\r\n"),
                ("LMOVE m d left middle", SYNTAX),
                ("LMOVE nokey d left middle", SYNTAX),
                ("LMOVE nokey d left right", "$-1\r\n"),
                ("LMOVE s d left right", WRONGTYPE),
                ("LMOVE m s left right", WRONGTYPE),
                ("LMOVE nokey s left right", "$-1\r\n"),
                ("LMOVE m m LEFT RIGHT", "$1\r\n2\r\n"),
                ("LRANGE m 0 -1", "*2\r\n$1\r\n3\r\n$1\r\n2\r\n"),
                ("RPOPLPUSH m d", "$1\r\n2\r\n"),
                ("LRANGE d 0 -1", "*2\r\n$1\r\n2\r\n$1\r\n1\r\n"),
                ("RPOPLPUSH nokey d", "$-1\r\n"),
                ("RPOPLPUSH s d", WRONGTYPE),
                ("RPOPLPUSH m s", WRONGTYPE),
                ("RPUSH one x", ":1\r\n"),
                ("RPOPLPUSH one one", "$1\r\nx\r\n"),
                ("LRANGE one 0 -1", "*1\r\n$1\r\nx\r\n"),
                ("LMOVE one two LEFT LEFT", "$1\r\nx\r\n"),
                ("EXISTS one", ":0\r\n"),
                ("LRANGE two 0 -1", "*1\r\n$1\r\nx\r\n"),
            ],
        );
    }

    #[test]
    fn lmpop_arguments_and_replies() {
        // Guards LMPOP's numkeys/where/COUNT grammar, error texts and first-list choice.
        let mut h = Harness::new();
        let numkeys = "-ERR numkeys should be greater than 0\r\n";
        let count = "-ERR count should be greater than 0\r\n";
        raw_all(
            &mut h,
            &[
                ("SET s x", "+OK\r\n"),
                ("RPUSH l a b c d e", ":5\r\n"),
                ("LMPOP 1 l left", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"),
                (
                    "LMPOP 1 l RIGHT COUNT 2",
                    "*2\r\n$1\r\nl\r\n*2\r\n$1\r\ne\r\n$1\r\nd\r\n",
                ),
                (
                    "LMPOP 2 nokey l left count 10",
                    "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
                ),
                ("EXISTS l", ":0\r\n"),
                ("LMPOP 2 nokey l left", "*-1\r\n"),
                ("LMPOP 0 l left", numkeys),
                ("LMPOP -1 l left", numkeys),
                ("LMPOP x l left", numkeys),
                ("LMPOP 2 l left", SYNTAX),
                ("LMPOP 3 l left", SYNTAX),
                ("LMPOP 9223372036854775807 l left", SYNTAX),
                ("LMPOP 1 l middle", SYNTAX),
                ("LMPOP 1 l left count 0", count),
                ("LMPOP 1 l left count -1", count),
                ("LMPOP 1 l left count x", count),
                ("LMPOP 1 l left count", SYNTAX),
                ("LMPOP 1 l left count 1 count 2", SYNTAX),
                ("LMPOP 1 l left foo 1", SYNTAX),
                ("LMPOP 1 s left", WRONGTYPE),
                ("RPUSH l a", ":1\r\n"),
                ("LMPOP 2 s l left", WRONGTYPE),
                ("LMPOP 2 l s left", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"),
                ("LMPOP 1 l left count 9223372036854775807", "*-1\r\n"),
            ],
        );
    }

    #[test]
    fn lmpop_key_positions() {
        // Guards the movable-keys extraction used for routing and COMMAND GETKEYS.
        let keys = |v: &[&str]| lmpop_keys(args(v).args()).unwrap_or_default();
        assert_eq!(keys(&["lmpop", "2", "a", "b", "left"]), [2, 3]);
        assert_eq!(keys(&["lmpop", "2", "a", "left"]), [2, 3]);
        assert!(keys(&["lmpop", "3", "a", "left"]).is_empty());
        assert!(keys(&["lmpop", "0", "a", "left"]).is_empty());
        assert!(keys(&["lmpop", "9223372036854775807", "a", "left"]).is_empty());
        let bkeys = |v: &[&str]| blmpop_keys(args(v).args()).unwrap_or_default();
        assert_eq!(bkeys(&["blmpop", "0", "2", "a", "b", "left"]), [3, 4]);
    }

    #[test]
    fn dirty_counts_follow_redis() {
        // Guards the change counter (rdb_changes_since_last_save) per command.
        let mut h = Harness::new();
        let cases: &[(&str, u64)] = &[
            ("RPUSH l a b c d e f g", 7),
            ("LPUSHX l x y", 2),
            ("LPUSHX nokey x y", 0),
            ("LPOP l", 1),
            ("LPOP l 2", 2),
            ("LPOP l 0", 0),
            ("RPOP l 10", 6),
            ("RPUSH l a b a c a d", 6),
            ("LREM l 0 a", 3),
            ("LREM l 0 zz", 0),
            ("LINSERT l before b q", 1),
            ("LINSERT l before zz q", 0),
            ("LSET l 0 w", 1),
            ("LTRIM l 1 1", 3),
            ("LTRIM l 0 -1", 0),
            ("RPUSH l 1 2 3 4 5", 5),
            ("LTRIM l 5 10", 5),
            ("RPUSH l 1 2 3 4 5", 5),
            ("LMOVE l m left right", 1),
            ("RPOPLPUSH l l", 1),
            ("LMPOP 1 l left count 2", 2),
            ("LMPOP 1 nokey left", 0),
        ];
        for (line, want) in cases {
            let before = h.shard.dirty;
            let argv: Vec<&str> = line.split(' ').collect();
            h.raw(&argv);
            assert_eq!(h.shard.dirty - before, *want, "{line}");
        }
    }

    #[test]
    fn reads_count_hits_and_misses() {
        // Guards keyspace stats: reads count hits/misses, writes do not.
        let mut h = Harness::new();
        h.run(&["RPUSH", "l", "a"]);
        h.run(&["LPOP", "nokey"]);
        h.run(&["LPUSHX", "nokey", "a"]);
        assert_eq!((h.shard.db.stats.hits, h.shard.db.stats.misses), (0, 0));
        h.run(&["LLEN", "l"]);
        h.run(&["LRANGE", "nokey", "0", "1"]);
        h.run(&["LINDEX", "l", "0"]);
        h.run(&["LPOS", "nokey", "a"]);
        assert_eq!((h.shard.db.stats.hits, h.shard.db.stats.misses), (2, 2));
    }

    #[test]
    fn expired_list_is_absent() {
        // Guards lazy expiry: an expired list reads as missing and is recreated fresh.
        let mut h = Harness::new();
        h.run(&["RPUSH", "l", "a", "b"]);
        h.run(&["PEXPIRE", "l", "100"]);
        h.advance_ms(100);
        assert_eq!(h.run(&["LLEN", "l"]), Reply::Int(0));
        assert_eq!(h.run(&["RPUSH", "l", "c"]), Reply::Int(1));
        assert_eq!(h.run(&["TTL", "l"]), Reply::Int(-1));
    }

    #[test]
    fn huge_ranges_stay_bounded() {
        // Guards that extreme counts and ranges cost the list's size, not the argument's.
        let mut h = Harness::new();
        h.run(&["RPUSH", "l", "a", "b", "a"]);
        let max = "9223372036854775807";
        let min = "-9223372036854775808";
        assert!(matches!(h.run(&["LRANGE", "l", min, max]), Reply::Array(v) if v.len() == 3));
        let pos = h.run(&["LPOS", "l", "a", "COUNT", max, "MAXLEN", max]);
        assert_eq!(pos, Reply::Array(vec![Reply::Int(0), Reply::Int(2)]));
        assert_eq!(h.run(&["LREM", "l", min, "zz"]), Reply::Int(0));
        assert!(matches!(h.run(&["LPOP", "l", max]), Reply::Array(v) if v.len() == 3));
    }

    #[test]
    fn long_elements_round_trip() {
        // Guards elements past the inline size, and binary-safe bytes.
        let mut h = Harness::new();
        let long = "x".repeat(1000);
        h.run(&["RPUSH", "l", &long, "a\r\nb", ""]);
        assert_eq!(h.run(&["LINDEX", "l", "0"]), Reply::bulk(&long));
        assert_eq!(h.run(&["LINDEX", "l", "1"]), Reply::bulk("a\r\nb"));
        assert_eq!(h.run(&["LINDEX", "l", "2"]), Reply::bulk(""));
        assert_eq!(h.run(&["LPOS", "l", ""]), Reply::Int(2));
        assert_eq!(h.run(&["LSET", "l", "0", "y"]), Reply::ok());
        assert_eq!(h.run(&["LREM", "l", "0", &long]), Reply::Int(0));
    }

    #[test]
    fn timeouts_parse_as_redis() {
        // Guards timeout parsing: long double precision, rounding up, and the error texts.
        let neg = Err(ReplyError::other("ERR timeout is negative"));
        let bad = Err(ReplyError::other(
            "ERR timeout is not a float or out of range",
        ));
        let t = |s: &str| parse_timeout(s.as_bytes());
        assert_eq!(t("0"), Ok(0));
        assert_eq!(t("1"), Ok(1000));
        assert_eq!(t("1.5"), Ok(1500));
        assert_eq!(t("0.0001"), Ok(1));
        assert_eq!(t("0.001"), Ok(1));
        assert_eq!(t("-0"), Ok(0));
        assert_eq!(t("-0.0001"), Ok(0));
        // In long double, -0.001 * 1000 is just above -1, so it rounds up to 0 (no error).
        assert_eq!(t("-0.001"), Ok(0));
        assert_eq!(t("1e3"), Ok(1_000_000));
        assert_eq!(t("0x10"), Ok(16_000));
        assert_eq!(t("9223372036854775"), Ok(9_223_372_036_854_775_000));
        assert_eq!(t("-1"), neg);
        assert_eq!(t("-0.0011"), neg);
        assert_eq!(t("inf"), neg);
        assert_eq!(t("-inf"), neg);
        assert_eq!(t("1e30"), neg);
        assert_eq!(t("9223372036854776"), neg);
        assert_eq!(t("abc"), bad);
        assert_eq!(t("nan"), bad);
        assert_eq!(t(" 1"), bad);
        assert_eq!(t("1 "), bad);
        assert_eq!(t(""), bad);
    }

    #[test]
    fn f80_debug_format_is_readable() {
        // Guards the Debug-format bridge to the long double's parts.
        let Some(Parsed::Finite(v)) = ld::parse(b"-3") else {
            panic!("parse failed")
        };
        let (neg, mant, exp) = f80_parts(v).expect("parts");
        assert!(neg);
        assert_eq!((mant as u128 * (1u128 << 64)) >> (-exp) as u32, 3 << 64);
    }

    #[test]
    fn deadlines() {
        // Guards forever, normal and overflowing deadlines.
        assert_eq!(deadline_ms(1000, 0), None);
        assert_eq!(deadline_ms(1000, 500), Some(1500));
        assert_eq!(deadline_ms(1000, i64::MAX as u64), Some(1000));
    }

    #[test]
    fn blocking_tries_serve_or_wait() {
        // Guards the try halves: served replies, wait descriptions, error order.
        let mut h = Harness::new();
        h.run(&["RPUSH", "l", "a", "b", "c"]);
        h.run(&["SET", "s", "x"]);
        let (r, out) = try_cmd(&mut h, try_blpop, &["BLPOP", "nokey", "l", "0"]);
        assert_eq!(
            (r, out.as_str()),
            (Ok(BlockTry::Served), "*2\r\n$1\r\nl\r\n$1\r\na\r\n")
        );
        let (r, out) = try_cmd(&mut h, try_brpop, &["BRPOP", "l", "0"]);
        assert_eq!(
            (r, out.as_str()),
            (Ok(BlockTry::Served), "*2\r\n$1\r\nl\r\n$1\r\nc\r\n")
        );
        let (r, out) = try_cmd(&mut h, try_blpop, &["BLPOP", "n1", "n2", "1.5"]);
        let want = BlockWait {
            keys: vec![b"n1".to_vec(), b"n2".to_vec()],
            timeout_ms: 1500,
            no_wait_reply: NullReply::Array,
        };
        assert_eq!((r, out.as_str()), (Ok(BlockTry::Wait(want)), ""));
        let (r, _) = try_cmd(&mut h, try_blpop, &["BLPOP", "nokey", "s", "0"]);
        assert_eq!(r, Err(ReplyError::WrongType));
        let (r, _) = try_cmd(&mut h, try_blpop, &["BLPOP", "s", "-1"]);
        assert_eq!(r, Err(ReplyError::other("ERR timeout is negative")));
        let (r, out) = try_cmd(
            &mut h,
            try_blmove,
            &["BLMOVE", "l", "d", "LEFT", "RIGHT", "0"],
        );
        assert_eq!((r, out.as_str()), (Ok(BlockTry::Served), "$1\r\nb\r\n"));
        assert_eq!(h.run(&["EXISTS", "l"]), Reply::Int(0));
        let (r, _) = try_cmd(
            &mut h,
            try_blmove,
            &["BLMOVE", "l", "d", "middle", "RIGHT", "-1"],
        );
        assert_eq!(r, Err(ReplyError::Syntax));
        let (r, _) = try_cmd(&mut h, try_brpoplpush, &["BRPOPLPUSH", "l", "d", "x"]);
        assert_eq!(
            r,
            Err(ReplyError::other(
                "ERR timeout is not a float or out of range"
            ))
        );
        let (r, _) = try_cmd(&mut h, try_brpoplpush, &["BRPOPLPUSH", "l", "d", "2"]);
        let want = BlockWait {
            keys: vec![b"l".to_vec()],
            timeout_ms: 2000,
            no_wait_reply: NullReply::Bulk,
        };
        assert_eq!(r, Ok(BlockTry::Wait(want)));
    }

    #[test]
    fn blmpop_try_checks_timeout_first() {
        // Guards BLMPOP's error order (timeout, numkeys, where) and its wait keys.
        let mut h = Harness::new();
        let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "x", "1", "l", "left"]);
        assert_eq!(
            r,
            Err(ReplyError::other(
                "ERR timeout is not a float or out of range"
            ))
        );
        let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "-1", "0", "l", "left"]);
        assert_eq!(r, Err(ReplyError::other("ERR timeout is negative")));
        let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "1", "0", "l", "left"]);
        assert_eq!(
            r,
            Err(ReplyError::other("ERR numkeys should be greater than 0"))
        );
        let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "1", "1", "l", "middle"]);
        assert_eq!(r, Err(ReplyError::Syntax));
        let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "0", "2", "a", "b", "right"]);
        let want = BlockWait {
            keys: vec![b"a".to_vec(), b"b".to_vec()],
            timeout_ms: 0,
            no_wait_reply: NullReply::Array,
        };
        assert_eq!(r, Ok(BlockTry::Wait(want)));
        h.run(&["RPUSH", "b", "1", "2", "3"]);
        let argv = ["BLMPOP", "0", "2", "a", "b", "right", "COUNT", "2"];
        let (r, out) = try_cmd(&mut h, try_blmpop, &argv);
        let want = "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n";
        assert_eq!((r, out.as_str()), (Ok(BlockTry::Served), want));
    }

    #[test]
    fn table_metadata() {
        // Guards arity, flags and key positions against COMMAND INFO of Redis 7.0.
        let find = |n: &str| {
            COMMANDS
                .iter()
                .chain(BLOCKING_COMMANDS)
                .find(|c| c.name == n)
        };
        let want: &[(&str, i32, u32)] = &[
            ("lpush", -3, WDF),
            ("rpushx", -3, WDF),
            ("lpop", -2, WRITE | FAST),
            ("llen", 2, READONLY | FAST),
            ("lrange", 4, READONLY),
            ("lindex", 3, READONLY),
            ("lset", 4, WRITE | DENYOOM),
            ("linsert", 5, WRITE | DENYOOM),
            ("lrem", 4, WRITE),
            ("ltrim", 4, WRITE),
            ("lpos", -3, READONLY),
            ("lmove", 5, WRITE | DENYOOM | MULTI_KEY),
            ("rpoplpush", 3, WRITE | DENYOOM | MULTI_KEY),
            ("lmpop", -4, WRITE | MULTI_KEY),
            ("blpop", -3, WRITE | NOSCRIPT),
            ("blmove", 6, WRITE | DENYOOM | NOSCRIPT | MULTI_KEY),
            ("blmpop", -5, WRITE | MULTI_KEY),
        ];
        for &(name, arity, flags) in want {
            let c = find(name).expect(name);
            assert_eq!(
                (c.arity, c.flags, c.group),
                (arity, flags, "list"),
                "{name}"
            );
        }
        let a = args(&["blpop", "a", "b", "0"]);
        let blpop = find("blpop").expect("blpop");
        assert_eq!(blpop.key_positions(a.args()), Ok(vec![1, 2]));
    }
}
