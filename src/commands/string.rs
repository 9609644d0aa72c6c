//! String commands: GET, SET and its variants, counters, ranges, MGET/MSET, LCS.
//! Handlers are plain synchronous keyed functions; they never touch another family's values
//! except to answer WRONGTYPE, and never reach a keyspace except through `Exec::db`.

use super::longdouble as ld;
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, Exec, Handler, KeySpec};
use crate::constants::{LCS_MAX_CELLS, STRING_MAX_BYTES};
use crate::resp::parse::parse_i64;
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::value::{StrValue, Value};

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const K1: KeySpec = KeySpec::Range {
    first: 1,
    last: 1,
    step: 1,
};
const K_ALL: KeySpec = KeySpec::Range {
    first: 1,
    last: -1,
    step: 1,
};
const K_PAIRS: KeySpec = KeySpec::Range {
    first: 1,
    last: -1,
    step: 2,
};
const K_TWO: KeySpec = KeySpec::Range {
    first: 1,
    last: 2,
    step: 1,
};

const fn arg(name: &'static str, kind: &'static str) -> ArgDoc {
    ArgDoc::new(name, kind)
}
const fn tok(name: &'static str, kind: &'static str, token: &'static str) -> ArgDoc {
    ArgDoc {
        token,
        ..arg(name, kind)
    }
}
const fn opt(a: ArgDoc) -> ArgDoc {
    ArgDoc {
        optional: true,
        ..a
    }
}
const fn oneof(name: &'static str, args: &'static [ArgDoc]) -> ArgDoc {
    ArgDoc {
        args,
        optional: true,
        ..arg(name, "oneof")
    }
}

const A_KEY: ArgDoc = arg("key", "key");
const A_VALUE: ArgDoc = arg("value", "string");
const DOC_KEY: &[ArgDoc] = &[A_KEY];
const DOC_KEY_VALUE: &[ArgDoc] = &[A_KEY, A_VALUE];
const DOC_SET: &[ArgDoc] = &[
    A_KEY,
    A_VALUE,
    oneof(
        "condition",
        &[tok("nx", "pure-token", "NX"), tok("xx", "pure-token", "XX")],
    ),
    opt(tok("get", "pure-token", "GET")),
    oneof(
        "expiration",
        &[
            tok("seconds", "integer", "EX"),
            tok("milliseconds", "integer", "PX"),
            tok("unix-time-seconds", "unix-time", "EXAT"),
            tok("unix-time-milliseconds", "unix-time", "PXAT"),
            tok("keepttl", "pure-token", "KEEPTTL"),
        ],
    ),
];
const DOC_GETEX: &[ArgDoc] = &[
    A_KEY,
    oneof(
        "expiration",
        &[
            tok("seconds", "integer", "EX"),
            tok("milliseconds", "integer", "PX"),
            tok("unix-time-seconds", "unix-time", "EXAT"),
            tok("unix-time-milliseconds", "unix-time", "PXAT"),
            tok("persist", "pure-token", "PERSIST"),
        ],
    ),
];
const DOC_SETEX: &[ArgDoc] = &[A_KEY, arg("seconds", "integer"), A_VALUE];
const DOC_PSETEX: &[ArgDoc] = &[A_KEY, arg("milliseconds", "integer"), A_VALUE];
const DOC_MGET: &[ArgDoc] = &[ArgDoc {
    multiple: true,
    ..A_KEY
}];
const DOC_MSET: &[ArgDoc] = &[ArgDoc {
    multiple: true,
    args: &[A_KEY, A_VALUE],
    ..arg("key_value", "block")
}];
const DOC_INCRBY: &[ArgDoc] = &[A_KEY, arg("increment", "integer")];
const DOC_DECRBY: &[ArgDoc] = &[A_KEY, arg("decrement", "integer")];
const DOC_INCRBYFLOAT: &[ArgDoc] = &[A_KEY, arg("increment", "double")];
const DOC_RANGE: &[ArgDoc] = &[A_KEY, arg("start", "integer"), arg("end", "integer")];
const DOC_SETRANGE: &[ArgDoc] = &[A_KEY, arg("offset", "integer"), A_VALUE];
const DOC_LCS: &[ArgDoc] = &[
    arg("key1", "key"),
    arg("key2", "key"),
    opt(tok("len", "pure-token", "LEN")),
    opt(tok("idx", "pure-token", "IDX")),
    opt(tok("len", "integer", "MINMATCHLEN")),
    opt(tok("withmatchlen", "pure-token", "WITHMATCHLEN")),
];

/// A string-group command; the docs fields are filled at each entry.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: super::KeyFn,
) -> CommandSpec {
    CommandSpec {
        group: "string",
        ..CommandSpec::new(name, arity, flags, keys, Handler::Key(f))
    }
}

const O1: &str = "O(1)";
const WDF: u32 = WRITE | DENYOOM | FAST;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Returns the string stored at a key.",
        args: DOC_KEY,
        ..spec("get", 2, READONLY | FAST, K1, get)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Stores a string at a key, with optional conditions and expiry.",
        args: DOC_SET,
        ..spec("set", -3, WRITE | DENYOOM, K1, set)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Stores a string at a key only when the key is absent.",
        args: DOC_KEY_VALUE,
        ..spec("setnx", 3, WDF, K1, setnx)
    },
    CommandSpec {
        since: "2.0.0",
        complexity: O1,
        summary: "Stores a string with a time to live in seconds.",
        args: DOC_SETEX,
        ..spec("setex", 4, WRITE | DENYOOM, K1, setex)
    },
    CommandSpec {
        since: "2.6.0",
        complexity: O1,
        summary: "Stores a string with a time to live in milliseconds.",
        args: DOC_PSETEX,
        ..spec("psetex", 4, WRITE | DENYOOM, K1, psetex)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Stores a string and returns the previous one.",
        args: DOC_KEY_VALUE,
        ..spec("getset", 3, WDF, K1, getset)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: O1,
        summary: "Returns the string at a key and removes the key.",
        args: DOC_KEY,
        ..spec("getdel", 2, WRITE | FAST, K1, getdel)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: O1,
        summary: "Returns the string at a key and optionally changes its expiry.",
        args: DOC_GETEX,
        ..spec("getex", -2, WRITE | FAST, K1, getex)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(N) where N is the number of keys.",
        summary: "Returns the strings stored at several keys.",
        args: DOC_MGET,
        ..spec("mget", -2, READONLY | FAST | MULTI_KEY, K_ALL, mget)
    },
    CommandSpec {
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys.",
        summary: "Stores several key/value pairs at once.",
        args: DOC_MSET,
        ..spec("mset", -3, WRITE | DENYOOM | MULTI_KEY, K_PAIRS, mset)
    },
    CommandSpec {
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys.",
        summary: "Stores several key/value pairs only when none of the keys exists.",
        args: DOC_MSET,
        ..spec("msetnx", -3, WRITE | DENYOOM | MULTI_KEY, K_PAIRS, msetnx)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Adds one to the integer stored at a key.",
        args: DOC_KEY,
        ..spec("incr", 2, WDF, K1, incr)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Adds an integer to the integer stored at a key.",
        args: DOC_INCRBY,
        ..spec("incrby", 3, WDF, K1, incrby)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Subtracts one from the integer stored at a key.",
        args: DOC_KEY,
        ..spec("decr", 2, WDF, K1, decr)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: O1,
        summary: "Subtracts an integer from the integer stored at a key.",
        args: DOC_DECRBY,
        ..spec("decrby", 3, WDF, K1, decrby)
    },
    CommandSpec {
        since: "2.6.0",
        complexity: O1,
        summary: "Adds a floating point number to the number stored at a key.",
        args: DOC_INCRBYFLOAT,
        ..spec("incrbyfloat", 3, WDF, K1, incrbyfloat)
    },
    CommandSpec {
        since: "2.0.0",
        complexity: O1,
        summary: "Appends bytes to the string at a key, creating it when absent.",
        args: DOC_KEY_VALUE,
        ..spec("append", 3, WDF, K1, append)
    },
    CommandSpec {
        since: "2.2.0",
        complexity: O1,
        summary: "Returns the length in bytes of the string at a key.",
        args: DOC_KEY,
        ..spec("strlen", 2, READONLY | FAST, K1, strlen)
    },
    CommandSpec {
        since: "2.4.0",
        complexity: "O(N) where N is the length of the returned string.",
        summary: "Returns a byte range of the string at a key.",
        args: DOC_RANGE,
        ..spec("getrange", 4, READONLY, K1, getrange)
    },
    CommandSpec {
        since: "2.2.0",
        complexity: "O(1) plus O(M) where M is the length of the value.",
        summary: "Overwrites bytes of the string at a key from an offset, zero-padding as needed.",
        args: DOC_SETRANGE,
        ..spec("setrange", 4, WRITE | DENYOOM, K1, setrange)
    },
    CommandSpec {
        since: "1.0.0",
        complexity: "O(N) where N is the length of the returned string.",
        summary: "Returns a byte range of the string at a key (old name of GETRANGE).",
        args: DOC_RANGE,
        ..spec("substr", 4, READONLY, K1, getrange)
    },
    CommandSpec {
        since: "7.0.0",
        complexity: "O(N*M) where N and M are the lengths of the two strings.",
        summary: "Finds the longest common subsequence of the strings at two keys.",
        args: DOC_LCS,
        ..spec("lcs", -3, READONLY | MULTI_KEY, K_TWO, lcs)
    },
];

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// The string inside a value, or WRONGTYPE for every other family.
fn as_str(v: &Value) -> Result<&StrValue, ReplyError> {
    #[allow(unreachable_patterns)] // other families will add variants
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

fn as_str_mut(v: &mut Value) -> Result<&mut StrValue, ReplyError> {
    #[allow(unreachable_patterns)] // other families will add variants
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

fn str_value(b: &[u8]) -> Value {
    Value::Str(StrValue::from_slice(b))
}

fn int_arg(b: &[u8]) -> Result<i64, ReplyError> {
    parse_i64(b).ok_or(ReplyError::NotInteger)
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

/// Most bytes a string may grow to by APPEND/SETRANGE: proto-max-bulk-len, capped by the
/// compile-time ceiling.
fn max_string_bytes(ex: &Exec<'_>) -> u64 {
    ex.shard
        .global
        .cfg(|c| c.proto_max_bulk_len)
        .min(STRING_MAX_BYTES)
}

/// Errors when a string of `size` bytes growing by `extra` bytes would pass the limit.
fn check_len(size: u64, extra: u64, max_bytes: u64) -> CmdResult {
    match size.checked_add(extra) {
        Some(total) if total <= max_bytes => Ok(()),
        _ => Err(ReplyError::StringTooLong),
    }
}

// ---------------------------------------------------------------------------------------------
// Expiry and condition options (SET, GETEX)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expiry {
    Unchanged,
    Ex,
    Px,
    ExAt,
    PxAt,
    KeepTtl,
    Persist,
}

/// The options that take a time value.
const TIMED_OPTIONS: [(&str, Expiry); 4] = [
    ("EX", Expiry::Ex),
    ("PX", Expiry::Px),
    ("EXAT", Expiry::ExAt),
    ("PXAT", Expiry::PxAt),
];

/// Parsed options of SET (`for_set`) or GETEX.
#[derive(Clone, Copy)]
struct Opts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    ttl: Expiry,
    ttl_arg: &'a [u8],
}

impl Opts<'_> {
    fn plain() -> Self {
        Opts {
            nx: false,
            xx: false,
            get: false,
            ttl: Expiry::Unchanged,
            ttl_arg: b"",
        }
    }
}

/// Parses options from `args[from..]`. Each expiry form excludes the others (repeating the
/// same one is allowed, the last value wins), NX excludes XX, and a form needing a value must
/// have one; any violation is a syntax error, as in Redis.
fn parse_opts<'a>(args: Args<'a>, from: usize, for_set: bool) -> Result<Opts<'a>, ReplyError> {
    let mut o = Opts::plain();
    let mut i = from;
    while i < args.len() {
        let a = args.get(i);
        let next = (i + 1 < args.len()).then(|| args.get(i + 1));
        let is = |t: &str| a.eq_ignore_ascii_case(t.as_bytes());
        let free = |t: Expiry| o.ttl == Expiry::Unchanged || o.ttl == t;
        let timed = TIMED_OPTIONS.iter().find(|(t, _)| is(t)).map(|&(_, t)| t);
        if is("NX") && !o.xx && for_set {
            o.nx = true;
        } else if is("XX") && !o.nx && for_set {
            o.xx = true;
        } else if is("GET") && for_set {
            o.get = true;
        } else if is("KEEPTTL") && for_set && free(Expiry::KeepTtl) {
            o.ttl = Expiry::KeepTtl;
        } else if is("PERSIST") && !for_set && free(Expiry::Persist) {
            o.ttl = Expiry::Persist;
        } else if let (Some(t), Some(v)) = (timed, next) {
            if !free(t) {
                return Err(ReplyError::Syntax);
            }
            o.ttl = t;
            o.ttl_arg = v;
            i += 1;
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// The absolute expiry (ms) an EX/PX/EXAT/PXAT option asks for, None for other options.
/// Non-positive values, and values whose absolute form overflows, are rejected with the
/// command's name in the message.
fn expire_at_ms(
    ttl: Expiry,
    raw: &[u8],
    now_ms: u64,
    cmd: &str,
) -> Result<Option<u64>, ReplyError> {
    let (secs, relative) = match ttl {
        Expiry::Ex => (true, true),
        Expiry::Px => (false, true),
        Expiry::ExAt => (true, false),
        Expiry::PxAt => (false, false),
        _ => return Ok(None),
    };
    let bad = || ReplyError::InvalidExpire(cmd.into());
    let v = int_arg(raw)?;
    if v <= 0 {
        return Err(bad());
    }
    let ms = if secs {
        v.checked_mul(1000).ok_or_else(bad)?
    } else {
        v
    };
    let ms = if relative {
        ms.checked_add(now_ms as i64).ok_or_else(bad)?
    } else {
        ms
    };
    Ok(Some(ms as u64))
}

// ---------------------------------------------------------------------------------------------
// GET / SET family
// ---------------------------------------------------------------------------------------------

fn get(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    with_db(ex, key, |db, out| {
        match db.lookup_read(key, now) {
            None => out.null(),
            Some(e) => out.bulk(&as_str(&e.value)?.bytes),
        }
        Ok(())
    })
}

/// How SET-like commands answer when they do not return the old value.
#[derive(Clone, Copy)]
enum SetReply {
    /// +OK, or a null when a condition stopped the write (SET).
    Ok,
    /// :1 when written, :0 when not (SETNX).
    Flag,
}

/// The shared body of SET, SETNX, SETEX, PSETEX and GETSET. `at_ms` is the validated
/// absolute expiry, if any.
fn set_generic(
    ex: &mut Exec<'_>,
    key: &[u8],
    value: &[u8],
    o: Opts<'_>,
    at_ms: Option<u64>,
    reply: SetReply,
) -> CmdResult {
    let now = ex.now_ms;
    // The journal form: the expiry that was stored (absolute), or a deletion.
    let mut stored_at: Option<u64> = None;
    let written = with_db(ex, key, |db, out| {
        if o.get {
            match db.lookup_read(key, now) {
                None => out.null(),
                Some(e) => out.bulk(&as_str(&e.value)?.bytes),
            }
        }
        // Only NX, XX and KEEPTTL need the old entry; a plain SET is a single probe.
        let needs_old = o.nx || o.xx || matches!(o.ttl, Expiry::KeepTtl);
        let old_ttl = if needs_old {
            db.lookup_write(key, now).map(|e| e.expire_at_ms())
        } else {
            None
        };
        let exists = old_ttl.is_some();
        if (o.nx && exists) || (o.xx && !exists) {
            match (o.get, reply) {
                (true, _) => {}
                (false, SetReply::Ok) => out.null(),
                (false, SetReply::Flag) => out.int(0),
            }
            return Ok(false);
        }
        let at = match o.ttl {
            Expiry::KeepTtl => old_ttl.unwrap_or(0),
            _ => at_ms.unwrap_or(0),
        };
        if at != 0 && at <= now {
            // An absolute expiry already in the past leaves no key behind.
            db.remove(key, now);
        } else {
            db.set_str(key, value, at, now);
            stored_at = Some(at);
        }
        match (o.get, reply) {
            (true, _) => {}
            (false, SetReply::Ok) => out.ok(),
            (false, SetReply::Flag) => out.int(1),
        }
        Ok(true)
    })?;
    if written {
        ex.dirty(key, 1);
        match stored_at {
            None => ex.journal(key, &[b"DEL", key]),
            Some(0) => ex.journal(key, &[b"SET", key, value]),
            Some(at) => {
                let t = at.to_string();
                ex.journal(key, &[b"SET", key, value, b"PXAT", t.as_bytes()]);
            }
        }
    }
    Ok(())
}

fn set(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let o = parse_opts(args, 3, true)?;
    let at = expire_at_ms(o.ttl, o.ttl_arg, ex.now_ms, "set")?;
    set_generic(ex, args.get(1), args.get(2), o, at, SetReply::Ok)
}

fn setnx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let o = Opts {
        nx: true,
        ..Opts::plain()
    };
    set_generic(ex, args.get(1), args.get(2), o, None, SetReply::Flag)
}

fn setex_generic(ex: &mut Exec<'_>, args: Args<'_>, ttl: Expiry, cmd: &str) -> CmdResult {
    let at = expire_at_ms(ttl, args.get(2), ex.now_ms, cmd)?;
    set_generic(
        ex,
        args.get(1),
        args.get(3),
        Opts::plain(),
        at,
        SetReply::Ok,
    )
}

fn setex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    setex_generic(ex, args, Expiry::Ex, "setex")
}

fn psetex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    setex_generic(ex, args, Expiry::Px, "psetex")
}

fn getset(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let o = Opts {
        get: true,
        ..Opts::plain()
    };
    set_generic(ex, args.get(1), args.get(2), o, None, SetReply::Ok)
}

fn getdel(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let deleted = with_db(ex, key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.null();
            return Ok(false);
        };
        out.bulk(&as_str(&e.value)?.bytes);
        db.remove(key, now);
        Ok(true)
    })?;
    if deleted {
        ex.dirty(key, 1);
        ex.journal(key, &[b"DEL", key]);
    }
    Ok(())
}

/// GETEX: a missing key answers null and a wrong type WRONGTYPE before the expiry value is
/// validated (Redis' order); syntax errors come first of all.
fn getex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let o = parse_opts(args, 2, false)?;
    let (key, now) = (args.get(1), ex.now_ms);
    // The journal form of the change: DEL, PEXPIREAT with the absolute time, or PERSIST.
    let mut record: Option<(&[u8], Option<u64>)> = None;
    let changed = with_db(ex, key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.null();
            return Ok(false);
        };
        let s = as_str(&e.value)?;
        let at = expire_at_ms(o.ttl, o.ttl_arg, now, "getex")?;
        let had_ttl = e.expire_at_ms() != 0;
        out.bulk(&s.bytes);
        Ok(match (o.ttl, at) {
            (_, Some(at)) if at <= now => {
                record = Some((b"DEL", None));
                db.remove(key, now).is_some()
            }
            (_, Some(at)) => {
                record = Some((b"PEXPIREAT", Some(at)));
                db.set_expire(key, at, now)
            }
            (Expiry::Persist, None) if had_ttl => {
                record = Some((b"PERSIST", None));
                db.set_expire(key, 0, now)
            }
            _ => false,
        })
    })?;
    if changed {
        ex.dirty(key, 1);
        match record {
            Some((cmd, Some(at))) => ex.journal(key, &[cmd, key, at.to_string().as_bytes()]),
            Some((cmd, None)) => ex.journal(key, &[cmd, key]),
            None => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Multi-key: MGET, MSET, MSETNX
// ---------------------------------------------------------------------------------------------

fn mget(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now = ex.now_ms;
    ex.out.array(args.len() - 1);
    for i in 1..args.len() {
        let key = args.get(i);
        // A value of another type reads as null here, not WRONGTYPE.
        with_db(ex, key, |db, out| match db.lookup_read(key, now) {
            Some(e) => match as_str(&e.value) {
                Ok(s) => out.bulk(&s.bytes),
                Err(_) => out.null(),
            },
            None => out.null(),
        });
    }
    Ok(())
}

fn mset_all(ex: &mut Exec<'_>, args: Args<'_>) {
    let now = ex.now_ms;
    for i in (1..args.len()).step_by(2) {
        let key = args.get(i);
        ex.db(key).set_str(key, args.get(i + 1), 0, now);
        ex.dirty(key, 1);
        // Per key, so keys on different shards land in their own shard's journal.
        ex.journal(key, &[b"SET", key, args.get(i + 1)]);
    }
}

fn mset(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(ReplyError::Arity("mset".into()));
    }
    mset_all(ex, args);
    ex.out.ok();
    Ok(())
}

fn msetnx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(ReplyError::Arity("msetnx".into()));
    }
    let now = ex.now_ms;
    for i in (1..args.len()).step_by(2) {
        let key = args.get(i);
        if ex.db(key).contains(key, now) {
            ex.out.int(0);
            return Ok(());
        }
    }
    mset_all(ex, args);
    ex.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

/// Adds `delta` to the integer at `key` (absent counts as 0), keeping any TTL.
fn incr_by(ex: &mut Exec<'_>, key: &[u8], delta: i64) -> CmdResult {
    let now = ex.now_ms;
    with_db(ex, key, |db, out| {
        let new = match db.lookup_write(key, now) {
            Some(e) => {
                let s = as_str_mut(&mut e.value)?;
                let cur = parse_i64(&s.bytes).ok_or(ReplyError::NotInteger)?;
                let new = cur.checked_add(delta).ok_or(ReplyError::Overflow)?;
                *s = StrValue::new(new.to_string().into_bytes());
                new
            }
            None => {
                db.set(key, str_value(delta.to_string().as_bytes()), 0, now);
                delta
            }
        };
        out.int(new);
        Ok(())
    })?;
    ex.dirty(key, 1);
    Ok(())
}

fn incr(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    incr_by(ex, args.get(1), 1)
}

fn decr(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    incr_by(ex, args.get(1), -1)
}

fn incrby(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let delta = int_arg(args.get(2))?;
    incr_by(ex, args.get(1), delta)
}

fn decrby(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let v = int_arg(args.get(2))?;
    let delta = v
        .checked_neg()
        .ok_or_else(|| ReplyError::other("ERR decrement would overflow"))?;
    incr_by(ex, args.get(1), delta)
}

/// INCRBYFLOAT computes in x87 extended precision, as Redis does (see `ld`), so the stored
/// text matches redis-server digit for digit.
fn incrbyfloat(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let incr_raw = args.get(2);
    let text = with_db(ex, key, |db, out| {
        let entry = db.lookup_write(key, now);
        let cur = match &entry {
            Some(e) => ld::parse(&as_str(&e.value)?.bytes),
            None => Some(ld::Parsed::Finite(ld::F80::ZERO)),
        };
        let cur = cur.ok_or(ReplyError::NotFloat)?;
        let incr = ld::parse(incr_raw).ok_or(ReplyError::NotFloat)?;
        let nan_inf = || ReplyError::other("ERR increment would produce NaN or Infinity");
        let (ld::Parsed::Finite(a), ld::Parsed::Finite(b)) = (cur, incr) else {
            return Err(nan_inf());
        };
        let text = ld::format_human(ld::add(a, b).ok_or_else(nan_inf)?);
        match entry {
            Some(e) => e.value = str_value(text.as_bytes()),
            None => db.set(key, str_value(text.as_bytes()), 0, now),
        }
        out.bulk(text.as_bytes());
        Ok(text)
    })?;
    ex.dirty(key, 1);
    // Journaled as the SET of its result, so replay never redoes float arithmetic.
    ex.journal(key, &[b"SET", key, text.as_bytes(), b"KEEPTTL"]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE
// ---------------------------------------------------------------------------------------------

fn append(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, tail, now) = (args.get(1), args.get(2), ex.now_ms);
    let max_bytes = max_string_bytes(ex);
    with_db(ex, key, |db, out| {
        let total = match db.lookup_write(key, now) {
            Some(e) => {
                let s = as_str_mut(&mut e.value)?;
                check_len(s.bytes.len() as u64, tail.len() as u64, max_bytes)?;
                s.bytes.extend_from_slice(tail);
                s.modified = true;
                s.bytes.len()
            }
            None => {
                db.set(key, str_value(tail), 0, now);
                tail.len()
            }
        };
        out.int(total as i64);
        Ok(())
    })?;
    ex.dirty(key, 1);
    Ok(())
}

fn strlen(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    with_db(ex, key, |db, out| {
        let n = match db.lookup_read(key, now) {
            Some(e) => as_str(&e.value)?.bytes.len(),
            None => 0,
        };
        out.int(n as i64);
        Ok(())
    })
}

/// The byte range GETRANGE returns for `start..=end` over `len` bytes: negative indexes count
/// from the end, both ends are clamped, and an inverted range is empty.
fn byte_range(start: i64, end: i64, len: usize) -> Option<std::ops::RangeInclusive<usize>> {
    let len = len as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return None;
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.clamp(0, len - 1);
    (start <= end).then_some(start as usize..=end as usize)
}

fn getrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let start = int_arg(args.get(2))?;
    let end = int_arg(args.get(3))?;
    let (key, now) = (args.get(1), ex.now_ms);
    with_db(ex, key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.bulk(b"");
            return Ok(());
        };
        let s = as_str(&e.value)?;
        match byte_range(start, end, s.bytes.len()) {
            Some(r) => out.bulk(&s.bytes[r]),
            None => out.bulk(b""),
        }
        Ok(())
    })
}

/// Writes `value` at `offset` of `bytes`, zero-filling any gap.
fn overwrite_at(bytes: &mut Vec<u8>, offset: usize, value: &[u8]) {
    let end = offset + value.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset..end].copy_from_slice(value);
}

fn setrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let offset = int_arg(args.get(2))?;
    if offset < 0 {
        return Err(ReplyError::other("ERR offset is out of range"));
    }
    let (key, value, now) = (args.get(1), args.get(3), ex.now_ms);
    let max_bytes = max_string_bytes(ex);
    let written = with_db(ex, key, |db, out| {
        let entry = db.lookup_write(key, now);
        let cur_len = match &entry {
            Some(e) => as_str(&e.value)?.bytes.len(),
            None => 0,
        };
        // Writing nothing changes nothing (and creates no key).
        if value.is_empty() {
            out.int(cur_len as i64);
            return Ok(false);
        }
        check_len(offset as u64, value.len() as u64, max_bytes)?;
        let total = match entry {
            Some(e) => {
                let s = as_str_mut(&mut e.value)?;
                overwrite_at(&mut s.bytes, offset as usize, value);
                s.modified = true;
                s.bytes.len()
            }
            None => {
                let mut s = StrValue::new(Vec::new());
                overwrite_at(&mut s.bytes, offset as usize, value);
                s.modified = true;
                let n = s.bytes.len();
                db.set(key, Value::Str(s), 0, now);
                n
            }
        };
        out.int(total as i64);
        Ok(true)
    })?;
    if written {
        ex.dirty(key, 1);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

/// The bytes of a string key for LCS: absent reads as empty, another type is an error.
fn lcs_input(ex: &mut Exec<'_>, key: &[u8]) -> Result<Vec<u8>, ()> {
    let now = ex.now_ms;
    match ex.db(key).lookup_read(key, now) {
        None => Ok(Vec::new()),
        Some(e) => as_str(&e.value).map(|s| s.bytes.clone()).map_err(|_| ()),
    }
}

#[derive(Default)]
struct LcsOpts {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u64,
}

fn parse_lcs_opts(args: Args<'_>) -> Result<LcsOpts, ReplyError> {
    let mut o = LcsOpts::default();
    let mut i = 3;
    while i < args.len() {
        let a = args.get(i);
        let is = |t: &str| a.eq_ignore_ascii_case(t.as_bytes());
        if is("IDX") {
            o.idx = true;
        } else if is("LEN") {
            o.len = true;
        } else if is("WITHMATCHLEN") {
            o.with_match_len = true;
        } else if is("MINMATCHLEN") && i + 1 < args.len() {
            o.min_match_len = int_arg(args.get(i + 1))?.max(0) as u64;
            i += 1;
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 1;
    }
    if o.idx && o.len {
        return Err(ReplyError::other(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    Ok(o)
}

/// The LCS length table: cell (i, j) holds the LCS length of a[..i] and b[..j], row-major
/// with rows of `b.len() + 1` cells. Refuses tables above `LCS_MAX_CELLS`.
fn lcs_table(a: &[u8], b: &[u8]) -> Result<Vec<u32>, ReplyError> {
    let too_big =
        || ReplyError::other("ERR Insufficient memory, failed allocating transient memory for LCS");
    let cells = (a.len() as u64 + 1)
        .checked_mul(b.len() as u64 + 1)
        .filter(|&c| c <= LCS_MAX_CELLS)
        .ok_or_else(too_big)?;
    let mut t: Vec<u32> = Vec::new();
    t.try_reserve_exact(cells as usize).map_err(|_| too_big())?;
    t.resize(cells as usize, 0);
    let w = b.len() + 1;
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    Ok(t)
}

/// One common run: (a_start, a_end, b_start, b_end), inclusive.
type Run = (usize, usize, usize, usize);

/// Walks the table back from the end, rebuilding the subsequence and the runs of contiguous
/// matches (last run first), keeping runs of at least `min_len` bytes.
fn lcs_walk(a: &[u8], b: &[u8], t: &[u32], min_len: u64) -> (Vec<u8>, Vec<Run>) {
    let w = b.len() + 1;
    let total = t[a.len() * w + b.len()] as usize;
    let mut seq = vec![0u8; total];
    let mut runs = Vec::new();
    let mut open: Option<Run> = None;
    let (mut i, mut j, mut pos) = (a.len(), b.len(), total);
    let mut flush = |open: &mut Option<Run>| {
        if let Some(r) = open.take() {
            if (r.1 - r.0 + 1) as u64 >= min_len {
                runs.push(r);
            }
        }
    };
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            pos -= 1;
            seq[pos] = a[i - 1];
            let r = open.get_or_insert((i - 1, i - 1, j - 1, j - 1));
            (r.0, r.2) = (i - 1, j - 1);
            i -= 1;
            j -= 1;
            if i == 0 || j == 0 {
                flush(&mut open);
            }
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            flush(&mut open);
        }
    }
    (seq, runs)
}

fn lcs(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let a = lcs_input(ex, args.get(1));
    let b = lcs_input(ex, args.get(2));
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err(ReplyError::other(
            "ERR The specified keys must contain string values",
        ));
    };
    let o = parse_lcs_opts(args)?;
    let t = lcs_table(&a, &b)?;
    let total = t[t.len() - 1];
    if o.len {
        ex.out.int(total as i64);
        return Ok(());
    }
    let (seq, runs) = lcs_walk(&a, &b, &t, o.min_match_len);
    if !o.idx {
        ex.out.bulk(&seq);
        return Ok(());
    }
    let out = &mut ex.out;
    out.map(2);
    out.bulk(b"matches");
    out.array(runs.len());
    for (a0, a1, b0, b1) in runs {
        out.array(2 + o.with_match_len as usize);
        out.array(2);
        out.int(a0 as i64);
        out.int(a1 as i64);
        out.array(2);
        out.int(b0 as i64);
        out.int(b1 as i64);
        if o.with_match_len {
            out.int((a1 - a0 + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Harness, Reply};

    fn b(s: &str) -> Reply {
        Reply::bulk(s)
    }
    fn e(s: &str) -> Reply {
        Reply::err(s)
    }

    fn int(v: i64) -> Reply {
        Reply::Int(v)
    }
    fn run_all(h: &mut Harness, cases: &[(&[&str], Reply)]) {
        for (argv, want) in cases {
            assert_eq!(&h.run(argv), want, "{argv:?}");
        }
    }
    fn small_strings() -> Harness {
        let cfg = crate::config::Config {
            proto_max_bulk_len: 16,
            ..Default::default()
        };
        Harness::with_config(cfg)
    }

    #[test]
    fn set_options_conflicts_are_syntax_errors() {
        // Guards the option grammar: exclusive pairs, missing values, unknown words.
        let mut h = Harness::new();
        let syn = e("ERR syntax error");
        run_all(
            &mut h,
            &[
                (&["SET", "k", "v", "NX", "XX"], syn.clone()),
                (&["SET", "k", "v", "xx", "nx"], syn.clone()),
                (&["SET", "k", "v", "EX", "10", "PX", "20"], syn.clone()),
                (&["SET", "k", "v", "KEEPTTL", "EX", "10"], syn.clone()),
                (&["SET", "k", "v", "PX", "10", "KEEPTTL"], syn.clone()),
                (&["SET", "k", "v", "EX"], syn.clone()),
                (&["SET", "k", "v", "EX", "abc", "XX", "NX"], syn.clone()),
                (&["SET", "k", "v", "PERSIST"], syn.clone()),
                (&["SET", "k", "v", "foo"], syn.clone()),
                (&["SET", "k", "v", "EX", "10", "EX", "20"], Reply::ok()),
                (&["SET", "k", "v", "KEEPTTL", "KEEPTTL"], Reply::ok()),
                (&["SET", "k", "v", "GET", "GET"], b("v")),
                (
                    &["SET", "k"],
                    e("ERR wrong number of arguments for 'set' command"),
                ),
            ],
        );
    }

    #[test]
    fn set_invalid_expire_times() {
        // Guards non-positive and overflowing expiries and their exact messages.
        let mut h = Harness::new();
        let bad = e("ERR invalid expire time in 'set' command");
        run_all(
            &mut h,
            &[
                (&["SET", "k", "v", "EX", "0"], bad.clone()),
                (&["SET", "k", "v", "PX", "-1"], bad.clone()),
                (&["SET", "k", "v", "EX", "9223372036854775"], bad.clone()),
                (&["SET", "k", "v", "PX", "9223372036854775807"], bad.clone()),
                (&["SET", "k", "v", "EXAT", "9223372036854776"], bad.clone()),
                (
                    &["SET", "k", "v", "EX", "1x"],
                    e("ERR value is not an integer or out of range"),
                ),
                (
                    &["SETEX", "k", "0", "v"],
                    e("ERR invalid expire time in 'setex' command"),
                ),
                (
                    &["PSETEX", "k", "-5", "v"],
                    e("ERR invalid expire time in 'psetex' command"),
                ),
                (
                    &["SETEX", "k", "x", "v"],
                    e("ERR value is not an integer or out of range"),
                ),
                (&["GET", "k"], Reply::Nil),
            ],
        );
    }

    #[test]
    fn set_conditions_get_and_expiry() {
        // Guards NX/XX/GET combinations and relative vs absolute expiry.
        let mut h = Harness::new();
        run_all(
            &mut h,
            &[
                (&["SET", "k", "v1", "XX"], Reply::Nil),
                (&["SET", "k", "v1", "XX", "GET"], Reply::Nil),
                (&["GET", "k"], Reply::Nil),
                (&["SET", "k", "v1", "NX", "GET"], Reply::Nil),
                (&["SET", "k", "v2", "NX", "GET"], b("v1")),
                (&["SET", "k", "v2", "NX"], Reply::Nil),
                (&["SET", "k", "v3", "XX", "GET"], b("v1")),
                (&["GET", "k"], b("v3")),
                (&["SET", "k", "v4", "PX", "100"], Reply::ok()),
            ],
        );
        h.advance_ms(99);
        assert_eq!(h.run(&["SET", "k", "v5", "KEEPTTL", "GET"]), b("v4"));
        h.advance_ms(1);
        assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
        // An absolute time in the past leaves no key, but still answers as a write.
        assert_eq!(h.run(&["SET", "k", "v", "EXAT", "1"]), Reply::ok());
        assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
        let at = (h.now_ms + 50).to_string();
        assert_eq!(h.run(&["SET", "k", "v", "PXAT", &at]), Reply::ok());
        h.advance_ms(49);
        assert_eq!(h.run(&["GET", "k"]), b("v"));
        h.advance_ms(1);
        assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
        // A plain SET drops an old TTL.
        h.run(&["SETEX", "k", "1", "v"]);
        h.run(&["SET", "k", "w"]);
        h.advance_ms(5000);
        assert_eq!(h.run(&["GET", "k"]), b("w"));
    }

    #[test]
    fn setnx_setex_psetex_getset() {
        // Guards the reply shapes of the older SET variants and their TTL effects.
        let mut h = Harness::new();
        run_all(
            &mut h,
            &[
                (&["SETNX", "k", "a"], int(1)),
                (&["SETNX", "k", "b"], int(0)),
                (&["GET", "k"], b("a")),
                (&["GETSET", "k", "c"], b("a")),
                (&["GETSET", "new", "c"], Reply::Nil),
                (&["SETEX", "t", "10", "v"], Reply::ok()),
                (&["PSETEX", "p", "10", "v"], Reply::ok()),
            ],
        );
        h.advance_ms(10);
        assert_eq!(h.run(&["GET", "p"]), Reply::Nil);
        assert_eq!(h.run(&["GET", "t"]), b("v"));
        assert_eq!(h.run(&["GETSET", "t", "w"]), b("v"));
        h.advance_ms(20_000);
        assert_eq!(h.run(&["GET", "t"]), b("w"), "GETSET clears the TTL");
    }

    #[test]
    fn getdel_and_getex() {
        // Guards GETDEL removal and every GETEX option, including the error order.
        let mut h = Harness::new();
        run_all(
            &mut h,
            &[
                (&["SET", "k", "v"], Reply::ok()),
                (&["GETDEL", "k"], b("v")),
                (&["GETDEL", "k"], Reply::Nil),
                (&["GETEX", "k", "PERSIST", "EX", "1"], e("ERR syntax error")),
                (&["GETEX", "k", "EX", "1", "PERSIST"], e("ERR syntax error")),
                (&["GETEX", "k", "KEEPTTL"], e("ERR syntax error")),
                (&["GETEX", "k", "EX", "0"], Reply::Nil),
                (&["SET", "k", "v"], Reply::ok()),
                (
                    &["GETEX", "k", "EX", "0"],
                    e("ERR invalid expire time in 'getex' command"),
                ),
                (&["GETEX", "k", "PX", "100"], b("v")),
            ],
        );
        h.advance_ms(50);
        assert_eq!(h.run(&["GETEX", "k", "PERSIST"]), b("v"));
        h.advance_ms(100);
        assert_eq!(h.run(&["GETEX", "k"]), b("v"));
        let past = (h.now_ms - 1).to_string();
        assert_eq!(h.run(&["GETEX", "k", "PXAT", &past]), b("v"));
        assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
        h.run(&["SET", "k", "v"]);
        assert_eq!(h.run(&["GETEX", "k", "EXAT", "1"]), b("v"));
        assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
    }

    #[test]
    fn mget_mset_msetnx() {
        // Guards pair-count checks, null for missing keys, and MSETNX all-or-nothing.
        let mut h = Harness::new();
        let arity = |c: &str| e(&format!("ERR wrong number of arguments for '{c}' command"));
        run_all(
            &mut h,
            &[
                (&["MSET", "a"], arity("mset")),
                (&["MSET", "a", "1", "b"], arity("mset")),
                (&["MSETNX", "a", "1", "b"], arity("msetnx")),
                (&["MSET", "a", "1", "b", "2", "a", "3"], Reply::ok()),
                (
                    &["MGET", "a", "b", "nokey"],
                    Reply::Array(vec![b("3"), b("2"), Reply::Nil]),
                ),
                (&["MSETNX", "a", "9", "z", "9"], int(0)),
                (&["GET", "z"], Reply::Nil),
                (&["MSETNX", "y", "8", "z", "9"], int(1)),
                (&["MGET", "z"], Reply::Array(vec![b("9")])),
                (&["MGET"], arity("mget")),
            ],
        );
    }

    #[test]
    fn integer_counters() {
        // Guards parsing (string2ll rules), overflow, TTL keeping and DECRBY of i64::MIN.
        let mut h = Harness::new();
        let not_int = e("ERR value is not an integer or out of range");
        let ovf = e("ERR increment or decrement would overflow");
        run_all(
            &mut h,
            &[
                (&["INCR", "n"], int(1)),
                (&["INCRBY", "n", "-12"], int(-11)),
                (&["DECR", "n"], int(-12)),
                (&["DECRBY", "n", "-2"], int(-10)),
                (&["INCRBY", "n", "abc"], not_int.clone()),
                (&["INCRBY", "n", "00"], not_int.clone()),
                (&["INCRBY", "n", "-0"], not_int.clone()),
                (&["INCRBY", "n", "+1"], not_int.clone()),
                (
                    &["DECRBY", "n", "-9223372036854775808"],
                    e("ERR decrement would overflow"),
                ),
                (&["SET", "n", "9223372036854775807"], Reply::ok()),
                (&["INCR", "n"], ovf.clone()),
                (&["SET", "n", "-9223372036854775808"], Reply::ok()),
                (&["DECR", "n"], ovf.clone()),
                (&["SET", "n", " 1"], Reply::ok()),
                (&["INCR", "n"], not_int.clone()),
                (&["SET", "n", "1.5"], Reply::ok()),
                (&["INCR", "n"], not_int.clone()),
                (&["SET", "n", "7", "PX", "100"], Reply::ok()),
                (&["INCR", "n"], int(8)),
            ],
        );
        h.advance_ms(100);
        assert_eq!(h.run(&["GET", "n"]), Reply::Nil, "INCR keeps the TTL");
    }

    #[test]
    fn incrbyfloat_matches_long_double_output() {
        // Guards x87 precision and %.17Lf formatting (values taken from redis-server 7.0).
        let cases: &[(&str, &str, &str)] = &[
            ("10.5", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("5.0e3", "0", "5000"),
            ("3.0", "0", "3"),
            ("1000", "0.1", "1000.09999999999999998"),
            ("123456.789", "1.1", "123457.8890000000000029"),
            ("100000", "0.3", "100000.29999999999999716"),
            ("1e20", "1", "100000000000000000000"),
            ("1.5", "-1.5", "0"),
            ("-0.0", "0", "0"),
            ("1", "1e-20", "1"),
            ("1", "0x10", "17"),
            ("1", "+1.5", "2.5"),
            ("0.000003814697265625", "0", "0.00000381469726562"),
            ("0.000011444091796875", "0", "0.00001144409179688"),
            ("-0.000000000000000001", "0", "0"),
            ("1e-4940", "0", "0"),
            ("0x.8p1", "0", "1"),
            ("1.", ".5", "1.5"),
        ];
        let mut h = Harness::new();
        for (start, incr, want) in cases {
            h.run(&["SET", "f", start]);
            assert_eq!(
                h.run(&["INCRBYFLOAT", "f", incr]),
                b(want),
                "{start} + {incr}"
            );
            assert_eq!(h.run(&["GET", "f"]), b(want));
        }
        let big = "1.18973149535723176502e+4932";
        h.run(&["SET", "f", "3"]);
        let r = h.run(&["INCRBYFLOAT", "f", "1.7976931348623157e308"]);
        assert!(matches!(&r, Reply::Bulk(v) if v.len() == 309 && v.starts_with(b"1797693")));
        h.run(&["SET", "f", big]);
        let nan_inf = e("ERR increment would produce NaN or Infinity");
        assert_eq!(h.run(&["INCRBYFLOAT", "f", big]), nan_inf);
    }

    #[test]
    fn incrbyfloat_rejections() {
        // Guards what strtold-with-Redis-checks refuses, and NaN/Inf results.
        let mut h = Harness::new();
        let nf = e("ERR value is not a valid float");
        let nan_inf = e("ERR increment would produce NaN or Infinity");
        h.run(&["SET", "f", "10"]);
        for bad in [
            "x", " 1", "1 ", "nan", "1e5000", "1e-5000", "1e", ".", "", "0x", "1e+",
        ] {
            assert_eq!(h.run(&["INCRBYFLOAT", "f", bad]), nf, "{bad:?}");
        }
        assert_eq!(h.run(&["INCRBYFLOAT", "f", "inf"]), nan_inf);
        assert_eq!(h.run(&["INCRBYFLOAT", "f", "-Infinity"]), nan_inf);
        assert_eq!(h.run(&["INCRBYFLOAT", "new", "2.5"]), b("2.5"));
        h.run(&["SET", "f", "abc"]);
        assert_eq!(h.run(&["INCRBYFLOAT", "f", "1"]), nf);
        let long = "1".repeat(5120);
        assert_eq!(h.run(&["INCRBYFLOAT", "g", &long]), nf);
    }

    #[test]
    fn getrange_index_semantics() {
        // Guards negative indexes, clamping, inverted and empty ranges, bad integers.
        let mut h = Harness::new();
        h.run(&["SET", "s", "Hello World"]);
        h.run(&["SET", "e", ""]);
        let cases: &[(&str, &str, &str)] = &[
            ("0", "3", "Hell"),
            ("-3", "-1", "rld"),
            ("0", "-1", "Hello World"),
            ("10", "100", "d"),
            ("-1", "-5", ""),
            ("-5", "-1", "World"),
            ("5", "3", ""),
            ("-100", "-50", "H"),
            ("-100", "100", "Hello World"),
            ("100", "200", ""),
            ("11", "11", ""),
            ("-9223372036854775808", "9223372036854775807", "Hello World"),
        ];
        for (s, en, want) in cases {
            assert_eq!(h.run(&["GETRANGE", "s", s, en]), b(want), "{s} {en}");
        }
        let not_int = e("ERR value is not an integer or out of range");
        assert_eq!(h.run(&["GETRANGE", "s", "a", "1"]), not_int);
        assert_eq!(h.run(&["GETRANGE", "nokey", "1", "a"]), not_int);
        assert_eq!(h.run(&["GETRANGE", "nokey", "0", "-1"]), b(""));
        assert_eq!(h.run(&["GETRANGE", "e", "0", "-1"]), b(""));
        assert_eq!(h.run(&["SUBSTR", "s", "-2", "-1"]), b("ld"));
    }

    #[test]
    fn setrange_append_strlen() {
        // Guards zero padding, no-op writes, negative offsets and the size limit.
        let mut h = small_strings();
        let too_long = e("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        run_all(
            &mut h,
            &[
                (
                    &["SETRANGE", "s", "-1", "x"],
                    e("ERR offset is out of range"),
                ),
                (
                    &["SETRANGE", "s", "a", "x"],
                    e("ERR value is not an integer or out of range"),
                ),
                (&["SETRANGE", "s", "5", ""], int(0)),
                (&["GET", "s"], Reply::Nil),
                (&["SETRANGE", "s", "3", "ab"], int(5)),
                (&["GET", "s"], Reply::Bulk(b"\0\0\0ab".to_vec())),
                (&["SETRANGE", "s", "0", "Z"], int(5)),
                (&["SETRANGE", "s", "2", ""], int(5)),
                (&["GET", "s"], Reply::Bulk(b"Z\0\0ab".to_vec())),
                (&["SETRANGE", "s", "15", "ab"], too_long.clone()),
                (&["SETRANGE", "s", "14", "ab"], int(16)),
                (
                    &["SETRANGE", "s", "9223372036854775807", "a"],
                    too_long.clone(),
                ),
                (&["STRLEN", "s"], int(16)),
                (&["STRLEN", "nokey"], int(0)),
                (&["APPEND", "a", "12"], int(2)),
                (&["APPEND", "a", "3"], int(3)),
                (&["APPEND", "a", ""], int(3)),
                (&["GET", "a"], b("123")),
                (&["APPEND", "a", "0123456789abcd"], too_long.clone()),
                (&["APPEND", "a", "0123456789abc"], int(16)),
            ],
        );
        // APPEND and SETRANGE leave a "raw" string; a fresh APPEND does not.
        let enc = |h: &mut Harness, k: &[u8]| {
            let now = h.now_ms;
            let e = h.shard.db.lookup_read(k, now).map(|e| e.value.encoding());
            e.unwrap_or("none")
        };
        h.run(&["APPEND", "fresh", "12"]);
        assert_eq!(enc(&mut h, b"fresh"), "int");
        assert_eq!(enc(&mut h, b"a"), "raw");
        assert_eq!(enc(&mut h, b"s"), "raw");
    }

    #[test]
    fn lcs_replies() {
        // Guards the three reply forms, match ordering, MINMATCHLEN and option errors.
        let mut h = Harness::new();
        h.run(&["MSET", "a", "ohmytext", "b", "mynewtext"]);
        let pair = |x: i64, y: i64| Reply::Array(vec![int(x), int(y)]);
        let run = |a: (i64, i64), b: (i64, i64), len: Option<i64>| {
            let mut v = vec![pair(a.0, a.1), pair(b.0, b.1)];
            v.extend(len.map(int));
            Reply::Array(v)
        };
        let idx = |runs: Vec<Reply>, len: i64| {
            Reply::Array(vec![b("matches"), Reply::Array(runs), b("len"), int(len)])
        };
        run_all(
            &mut h,
            &[
                (&["LCS", "a", "b"], b("mytext")),
                (&["LCS", "a", "b", "LEN"], int(6)),
                (&["LCS", "a", "b", "LEN", "WITHMATCHLEN"], int(6)),
                (&["LCS", "a", "b", "WITHMATCHLEN"], b("mytext")),
                (
                    &["LCS", "a", "b", "IDX"],
                    idx(
                        vec![run((4, 7), (5, 8), None), run((2, 3), (0, 1), None)],
                        6,
                    ),
                ),
                (
                    &["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
                    idx(vec![run((4, 7), (5, 8), Some(4))], 6),
                ),
                (&["LCS", "a", "nokey", "IDX"], idx(vec![], 0)),
                (&["LCS", "nokey", "a"], b("")),
                (&["LCS", "a", "b", "foo"], e("ERR syntax error")),
                (&["LCS", "a", "b", "MINMATCHLEN"], e("ERR syntax error")),
                (
                    &["LCS", "a", "b", "MINMATCHLEN", "x", "IDX", "LEN"],
                    e("ERR value is not an integer or out of range"),
                ),
                (
                    &["LCS", "a", "b", "IDX", "LEN"],
                    e("ERR If you want both the length and indexes, please just use IDX."),
                ),
            ],
        );
        h.run(&["MSET", "x1", "abcabcabcXYZ", "x2", "XYZabcxabcab"]);
        assert_eq!(h.run(&["LCS", "x1", "x2"]), b("abcabcab"));
        assert_eq!(h.run(&["LCS", "x2", "x1"]), b("abcabcab"));
    }

    #[test]
    fn lcs_refuses_huge_tables() {
        // Guards the LCS_MAX_CELLS bound: no unbounded allocation on large inputs.
        let mut h = Harness::new();
        let side = (LCS_MAX_CELLS as f64).sqrt() as usize + 1;
        let big = "a".repeat(side);
        h.run(&["MSET", "p", &big, "q", &big]);
        assert_eq!(
            h.run(&["LCS", "p", "q", "LEN"]),
            e("ERR Insufficient memory, failed allocating transient memory for LCS")
        );
    }

    #[test]
    fn lcs_idx_is_a_map_in_resp3() {
        // Guards the RESP3 shape of LCS IDX.
        let mut h = Harness::new();
        h.shard.clients.get_mut(h.client).proto = crate::resp::Proto::Resp3;
        h.run(&["MSET", "a", "ab", "b", "ab"]);
        let r = h.run(&["LCS", "a", "b", "IDX"]);
        let Reply::Map(m) = r else { panic!("{r:?}") };
        assert_eq!(m[0].0, b("matches"));
        assert_eq!(m[1], (b("len"), int(2)));
    }

    #[test]
    fn command_table_metadata() {
        // Guards arity, flags and key positions against Redis 7.0's COMMAND INFO.
        // (name, arity, flags, (first, last, step))
        type Meta = (&'static str, i32, u32, (i32, i32, i32));
        let want: &[Meta] = &[
            ("get", 2, READONLY | FAST, (1, 1, 1)),
            ("set", -3, WRITE | DENYOOM, (1, 1, 1)),
            ("getex", -2, WRITE | FAST, (1, 1, 1)),
            ("getdel", 2, WRITE | FAST, (1, 1, 1)),
            ("mget", -2, READONLY | FAST | MULTI_KEY, (1, -1, 1)),
            ("mset", -3, WRITE | DENYOOM | MULTI_KEY, (1, -1, 2)),
            ("incrbyfloat", 3, WRITE | DENYOOM | FAST, (1, 1, 1)),
            ("getrange", 4, READONLY, (1, 1, 1)),
            ("setrange", 4, WRITE | DENYOOM, (1, 1, 1)),
            ("lcs", -3, READONLY | MULTI_KEY, (1, 2, 1)),
        ];
        for (name, arity, flags, keys) in want {
            let c = COMMANDS.iter().find(|c| c.name == *name).expect(name);
            assert_eq!((c.arity, c.flags), (*arity, *flags), "{name}");
            let KeySpec::Range { first, last, step } = c.keys else {
                panic!("{name}")
            };
            assert_eq!((first, last, step), *keys, "{name}");
            assert_eq!(c.group, "string");
            assert!(!c.summary.is_empty() && !c.complexity.is_empty());
        }
        assert_eq!(COMMANDS.len(), 22);
    }
}
