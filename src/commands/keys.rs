//! Generic key commands (Redis' "generic" group plus DBSIZE/FLUSHALL/FLUSHDB): delete, test,
//! expire, rename and copy keys; walk the keyspace (KEYS, SCAN, RANDOMKEY); inspect values
//! (OBJECT). Keyed commands reach keyspaces only through `Exec::db`; keyspace-wide commands fan
//! out over shards. Never knows a value's internals beyond `Value`'s own methods.

use super::{flags::*, ArgDoc, CmdResult, CommandSpec, ConnCtx, Exec, Handler, KeySpec};
use crate::constants::{SCAN_MAX_KEYS_PER_CALL, SLOT_COUNT};
use crate::resp::parse::parse_i64;
use crate::resp::{Args, ReplyError};
use crate::shard::db::Entry;
use crate::shard::value::Value;
use crate::shard::Shard;

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
const K12: KeySpec = KeySpec::Range {
    first: 1,
    last: 2,
    step: 1,
};
const K2: KeySpec = KeySpec::Range {
    first: 2,
    last: 2,
    step: 1,
};

/// A required argument with no token.
const fn arg(name: &'static str, kind: &'static str) -> ArgDoc {
    ArgDoc::new(name, kind)
}

/// An optional argument introduced by `token`.
const fn opt(name: &'static str, kind: &'static str, token: &'static str) -> ArgDoc {
    ArgDoc {
        token,
        optional: true,
        ..arg(name, kind)
    }
}

/// One alternative of a oneof group.
const fn token(name: &'static str, token: &'static str) -> ArgDoc {
    ArgDoc {
        token,
        ..arg(name, "pure-token")
    }
}

const ARGS_KEYS: &[ArgDoc] = &[ArgDoc {
    multiple: true,
    ..arg("key", "key")
}];
const ARGS_KEY: &[ArgDoc] = &[arg("key", "key")];
const ARGS_RENAME: &[ArgDoc] = &[arg("key", "key"), arg("newkey", "key")];
const EXPIRE_COND: ArgDoc = ArgDoc {
    optional: true,
    args: &[
        token("nx", "NX"),
        token("xx", "XX"),
        token("gt", "GT"),
        token("lt", "LT"),
    ],
    ..arg("condition", "oneof")
};
const ARGS_EXPIRE: &[ArgDoc] = &[arg("key", "key"), arg("seconds", "integer"), EXPIRE_COND];
const ARGS_PEXPIRE: &[ArgDoc] = &[
    arg("key", "key"),
    arg("milliseconds", "integer"),
    EXPIRE_COND,
];
const ARGS_EXPIREAT: &[ArgDoc] = &[
    arg("key", "key"),
    arg("unix-time-seconds", "unix-time"),
    EXPIRE_COND,
];
const ARGS_PEXPIREAT: &[ArgDoc] = &[
    arg("key", "key"),
    arg("unix-time-milliseconds", "unix-time"),
    EXPIRE_COND,
];
const ARGS_COPY: &[ArgDoc] = &[
    arg("source", "key"),
    arg("destination", "key"),
    opt("destination-db", "integer", "DB"),
    opt("replace", "pure-token", "REPLACE"),
];
const ARGS_SCAN: &[ArgDoc] = &[
    arg("cursor", "integer"),
    opt("pattern", "pattern", "MATCH"),
    opt("count", "integer", "COUNT"),
    opt("type", "string", "TYPE"),
];
const ARGS_FLUSH: &[ArgDoc] = &[ArgDoc {
    optional: true,
    args: &[token("async", "ASYNC"), token("sync", "SYNC")],
    ..arg("async", "oneof")
}];

/// A command of the generic group with its docs.
const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    handler: Handler,
    doc: (&'static str, &'static str, &'static str, &'static [ArgDoc]),
) -> CommandSpec {
    let (summary, since, complexity, args) = doc;
    CommandSpec {
        summary,
        since,
        complexity,
        args,
        ..CommandSpec::new(name, arity, flags, keys, handler)
    }
}

const O1: &str = "O(1)";
const ON_KEYS: &str = "O(N) where N is the number of keys given";

pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "del",
        -2,
        WRITE | MULTI_KEY,
        K_ALL,
        Handler::Key(del),
        (
            "Removes the given keys and counts those that existed",
            "1.0.0",
            "O(N) where N is the number of keys given, plus the size of each removed value",
            ARGS_KEYS,
        ),
    ),
    cmd(
        "unlink",
        -2,
        WRITE | FAST | MULTI_KEY,
        K_ALL,
        Handler::Key(del),
        (
            "Removes the given keys like DEL; memory may be reclaimed later",
            "4.0.0",
            ON_KEYS,
            ARGS_KEYS,
        ),
    ),
    cmd(
        "exists",
        -2,
        READONLY | FAST | MULTI_KEY,
        K_ALL,
        Handler::Key(exists),
        (
            "Counts how many of the given keys exist (repeats count again)",
            "1.0.0",
            ON_KEYS,
            ARGS_KEYS,
        ),
    ),
    cmd(
        "type",
        2,
        READONLY | FAST,
        K1,
        Handler::Key(type_cmd),
        (
            "Names the data type held at a key, or none",
            "1.0.0",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "expire",
        -3,
        WRITE | FAST,
        K1,
        Handler::Key(expire),
        (
            "Gives a key a time to live in seconds",
            "1.0.0",
            O1,
            ARGS_EXPIRE,
        ),
    ),
    cmd(
        "pexpire",
        -3,
        WRITE | FAST,
        K1,
        Handler::Key(pexpire),
        (
            "Gives a key a time to live in milliseconds",
            "2.6.0",
            O1,
            ARGS_PEXPIRE,
        ),
    ),
    cmd(
        "expireat",
        -3,
        WRITE | FAST,
        K1,
        Handler::Key(expireat),
        (
            "Makes a key expire at a Unix time in seconds",
            "1.2.0",
            O1,
            ARGS_EXPIREAT,
        ),
    ),
    cmd(
        "pexpireat",
        -3,
        WRITE | FAST,
        K1,
        Handler::Key(pexpireat),
        (
            "Makes a key expire at a Unix time in milliseconds",
            "2.6.0",
            O1,
            ARGS_PEXPIREAT,
        ),
    ),
    cmd(
        "ttl",
        2,
        READONLY | FAST,
        K1,
        Handler::Key(ttl),
        ("Seconds left before a key expires", "1.0.0", O1, ARGS_KEY),
    ),
    cmd(
        "pttl",
        2,
        READONLY | FAST,
        K1,
        Handler::Key(pttl),
        (
            "Milliseconds left before a key expires",
            "2.6.0",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "expiretime",
        2,
        READONLY | FAST,
        K1,
        Handler::Key(expiretime),
        (
            "The Unix time in seconds at which a key expires",
            "7.0.0",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "pexpiretime",
        2,
        READONLY | FAST,
        K1,
        Handler::Key(pexpiretime),
        (
            "The Unix time in milliseconds at which a key expires",
            "7.0.0",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "persist",
        2,
        WRITE | FAST,
        K1,
        Handler::Key(persist),
        (
            "Drops a key's time to live so it never expires",
            "2.2.0",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "rename",
        3,
        WRITE | MULTI_KEY,
        K12,
        Handler::Key(rename),
        (
            "Moves a key to a new name, replacing whatever was there",
            "1.0.0",
            O1,
            ARGS_RENAME,
        ),
    ),
    cmd(
        "renamenx",
        3,
        WRITE | FAST | MULTI_KEY,
        K12,
        Handler::Key(renamenx),
        (
            "Moves a key to a new name only when that name is free",
            "1.0.0",
            O1,
            ARGS_RENAME,
        ),
    ),
    cmd(
        "copy",
        -3,
        WRITE | DENYOOM | MULTI_KEY,
        K12,
        Handler::Key(copy),
        (
            "Duplicates a key's value and time to live under another name",
            "6.2.0",
            "O(N) where N is the number of elements copied; O(1) for strings",
            ARGS_COPY,
        ),
    ),
    cmd(
        "touch",
        -2,
        READONLY | FAST | MULTI_KEY,
        K_ALL,
        Handler::Key(touch),
        (
            "Refreshes the last access time of keys and counts those that exist",
            "3.2.1",
            ON_KEYS,
            ARGS_KEYS,
        ),
    ),
    cmd(
        "keys",
        2,
        READONLY,
        KeySpec::None,
        Handler::Conn(keys),
        (
            "Lists every key whose name matches a glob pattern",
            "1.0.0",
            "O(N) where N is the number of keys in the database",
            &[arg("pattern", "pattern")],
        ),
    ),
    cmd(
        "scan",
        -2,
        READONLY,
        KeySpec::None,
        Handler::Conn(scan),
        (
            "Walks the keyspace a few keys at a time with a cursor",
            "2.8.0",
            "O(1) per call; O(N) for a whole walk, N being the number of keys",
            ARGS_SCAN,
        ),
    ),
    cmd(
        "randomkey",
        1,
        READONLY,
        KeySpec::None,
        Handler::Conn(randomkey),
        ("Picks a key at random", "1.0.0", O1, &[]),
    ),
    CommandSpec {
        group: "server",
        ..cmd(
            "dbsize",
            1,
            READONLY | FAST,
            KeySpec::None,
            Handler::Conn(dbsize),
            ("Counts the keys of the database", "1.0.0", O1, &[]),
        )
    },
    CommandSpec {
        group: "server",
        ..cmd(
            "flushall",
            -1,
            WRITE,
            KeySpec::None,
            Handler::Conn(flush),
            (
                "Deletes every key of every database",
                "1.0.0",
                "O(N) where N is the number of keys removed",
                ARGS_FLUSH,
            ),
        )
    },
    CommandSpec {
        group: "server",
        ..cmd(
            "flushdb",
            -1,
            WRITE,
            KeySpec::None,
            Handler::Conn(flush),
            (
                "Deletes every key of the current database",
                "1.0.0",
                "O(N) where N is the number of keys removed",
                ARGS_FLUSH,
            ),
        )
    },
    CommandSpec {
        subcommands: OBJECT_SUBCOMMANDS,
        ..cmd(
            "object",
            -2,
            0,
            KeySpec::None,
            Handler::Container,
            (
                "Introspection of the values stored at keys",
                "2.2.3",
                "Depends on the subcommand",
                &[],
            ),
        )
    },
];

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd(
        "encoding",
        3,
        READONLY,
        K2,
        Handler::Key(object_encoding),
        (
            "Names the internal representation of a key's value",
            "2.2.3",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "freq",
        3,
        READONLY,
        K2,
        Handler::Key(object_freq),
        (
            "The logarithmic access frequency counter of a key (LFU policies only)",
            "4.0.0",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "idletime",
        3,
        READONLY,
        K2,
        Handler::Key(object_idletime),
        (
            "Seconds since a key was last read or written",
            "2.2.3",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "refcount",
        3,
        READONLY,
        K2,
        Handler::Key(object_refcount),
        (
            "How many references share a key's value",
            "2.2.3",
            O1,
            ARGS_KEY,
        ),
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        KeySpec::None,
        Handler::Conn(object_help),
        ("Lists the OBJECT subcommands", "6.2.0", O1, &[]),
    ),
];

// ---------------------------------------------------------------------------------------------
// Existence, deletion, type
// ---------------------------------------------------------------------------------------------

/// Looks a key up without refreshing its access time, counting a keyspace hit or miss (Redis'
/// "no touch" read lookups, used by EXISTS, TYPE, TTL and OBJECT).
fn peek<'e>(ex: &'e mut Exec<'_>, key: &[u8]) -> Option<&'e mut Entry> {
    let now = ex.now_ms;
    let db = ex.db(key);
    if db.contains(key, now) {
        db.stats.hits += 1;
        db.lookup_write(key, now)
    } else {
        db.stats.misses += 1;
        None
    }
}

/// DEL and UNLINK: values are small enough to drop inline here, so both delete synchronously.
fn del(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now = ex.now_ms;
    let mut removed = 0;
    for key in args.iter().skip(1) {
        if ex.db(key).remove(key, now).is_some() {
            ex.dirty(key, 1);
            ex.journal(key, &[b"DEL", key]);
            removed += 1;
        }
    }
    ex.out.int(removed);
    Ok(())
}

fn exists(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let mut found = 0;
    for key in args.iter().skip(1) {
        if peek(ex, key).is_some() {
            found += 1;
        }
    }
    ex.out.int(found);
    Ok(())
}

fn touch(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now = ex.now_ms;
    let mut found = 0;
    for key in args.iter().skip(1) {
        if ex.db(key).lookup_read(key, now).is_some() {
            found += 1;
        }
    }
    ex.out.int(found);
    Ok(())
}

fn type_cmd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let name = peek(ex, args.get(1)).map_or("none", |e| e.value.type_name());
    ex.out.simple(name);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// EXPIRE family
// ---------------------------------------------------------------------------------------------

/// The NX/XX/GT/LT condition of the EXPIRE family.
#[derive(Default, Clone, Copy)]
struct ExpireCond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireCond {
    /// Options come before the time in Redis' checks, so a bad option wins over a bad time.
    fn parse(args: Args<'_>) -> Result<Self, ReplyError> {
        let mut c = ExpireCond::default();
        for opt in args.iter().skip(3) {
            match opt.to_ascii_lowercase().as_slice() {
                b"nx" => c.nx = true,
                b"xx" => c.xx = true,
                b"gt" => c.gt = true,
                b"lt" => c.lt = true,
                _ => {
                    // Redis turns line breaks inside error texts into spaces.
                    let shown = String::from_utf8_lossy(opt).replace(['\r', '\n'], " ");
                    return Err(ReplyError::other(format!("ERR Unsupported option {shown}")));
                }
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(ReplyError::other(
                "ERR NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(ReplyError::other(
                "ERR GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether a key whose expiry is `cur_ms` (0: none, i.e. infinite) may get `at_ms`.
    fn allows(self, cur_ms: u64, at_ms: i64) -> bool {
        let has = cur_ms != 0;
        let cur = cur_ms.min(i64::MAX as u64) as i64;
        !((self.nx && has)
            || (self.xx && !has)
            || (self.gt && (!has || at_ms <= cur))
            || (self.lt && has && at_ms >= cur))
    }
}

/// How the EXPIRE family reads its time argument.
#[derive(Clone, Copy)]
struct ExpireKind {
    name: &'static str,
    seconds: bool,
    relative: bool,
}

fn expire(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(
        ex,
        args,
        ExpireKind {
            name: "expire",
            seconds: true,
            relative: true,
        },
    )
}

fn pexpire(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(
        ex,
        args,
        ExpireKind {
            name: "pexpire",
            seconds: false,
            relative: true,
        },
    )
}

fn expireat(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(
        ex,
        args,
        ExpireKind {
            name: "expireat",
            seconds: true,
            relative: false,
        },
    )
}

fn pexpireat(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(
        ex,
        args,
        ExpireKind {
            name: "pexpireat",
            seconds: false,
            relative: false,
        },
    )
}

/// The absolute expiry in ms, or Redis' "invalid expire time" when it does not fit an i64.
/// Negative results are allowed: they are in the past and delete the key.
fn expire_target_ms(when: i64, kind: ExpireKind, now_ms: u64) -> Result<i64, ReplyError> {
    let invalid = || ReplyError::InvalidExpire(kind.name.into());
    let ms = if kind.seconds {
        when.checked_mul(1000).ok_or_else(invalid)?
    } else {
        when
    };
    let base = if kind.relative { now_ms as i64 } else { 0 };
    ms.checked_add(base).ok_or_else(invalid)
}

fn expire_generic(ex: &mut Exec<'_>, args: Args<'_>, kind: ExpireKind) -> CmdResult {
    let cond = ExpireCond::parse(args)?;
    let when = parse_i64(args.get(2)).ok_or(ReplyError::NotInteger)?;
    let now = ex.now_ms;
    let at_ms = expire_target_ms(when, kind, now)?;
    let key = args.get(1);
    let Some(e) = ex.db(key).lookup_write(key, now) else {
        ex.out.int(0);
        return Ok(());
    };
    if !cond.allows(e.expire_at_ms(), at_ms) {
        ex.out.int(0);
        return Ok(());
    }
    // A time already past deletes the key at once, as Redis 7 does (and still answers 1).
    if at_ms <= now as i64 {
        ex.db(key).remove(key, now);
        ex.journal(key, &[b"DEL", key]);
    } else {
        ex.db(key).set_expire(key, at_ms as u64, now);
        // Journaled as an absolute time so a replay later gives the same deadline.
        let t = at_ms.to_string();
        ex.journal(key, &[b"PEXPIREAT", key, t.as_bytes()]);
    }
    ex.dirty(key, 1);
    ex.out.int(1);
    Ok(())
}

/// What the TTL family reports.
#[derive(Clone, Copy)]
enum TtlOut {
    Seconds,
    Millis,
    AtSeconds,
    AtMillis,
}

fn ttl(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ex, args, TtlOut::Seconds)
}

fn pttl(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ex, args, TtlOut::Millis)
}

fn expiretime(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ex, args, TtlOut::AtSeconds)
}

fn pexpiretime(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ex, args, TtlOut::AtMillis)
}

/// -2 for a missing key, -1 for a key without TTL; seconds are rounded to the nearest one.
fn ttl_generic(ex: &mut Exec<'_>, args: Args<'_>, what: TtlOut) -> CmdResult {
    let now = ex.now_ms as i64;
    let reply = match peek(ex, args.get(1)) {
        None => -2,
        Some(e) if e.expire_at_ms() == 0 => -1,
        Some(e) => {
            let at = e.expire_at_ms().min(i64::MAX as u64) as i64;
            let left = at.saturating_sub(now).max(0);
            match what {
                TtlOut::Seconds => left.saturating_add(500) / 1000,
                TtlOut::Millis => left,
                TtlOut::AtSeconds => at.saturating_add(500) / 1000,
                TtlOut::AtMillis => at,
            }
        }
    };
    ex.out.int(reply);
    Ok(())
}

fn persist(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ex.now_ms;
    let had_ttl = ex
        .db(key)
        .lookup_write(key, now)
        .is_some_and(|e| e.expire_at_ms() != 0);
    if had_ttl {
        ex.db(key).set_expire(key, 0, now);
        ex.dirty(key, 1);
    }
    ex.out.int(had_ttl as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// RENAME, RENAMENX, COPY
// ---------------------------------------------------------------------------------------------

fn rename(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ex, args, false)
}

fn renamenx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ex, args, true)
}

/// Moves the entry between keyspaces (the two names may live on different shards), keeping
/// its TTL and last access time.
fn rename_generic(ex: &mut Exec<'_>, args: Args<'_>, nx: bool) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let now = ex.now_ms;
    if !ex.db(src).contains(src, now) {
        return Err(ReplyError::NoSuchKey);
    }
    if src == dst {
        if nx {
            ex.out.int(0);
        } else {
            ex.out.ok();
        }
        return Ok(());
    }
    if nx && ex.db(dst).contains(dst, now) {
        ex.out.int(0);
        return Ok(());
    }
    let entry = ex.db(src).remove(src, now).ok_or(ReplyError::NoSuchKey)?;
    let (at_ms, access_s) = (entry.expire_at_ms(), entry.access_s);
    ex.db(dst).set(dst, entry.value, at_ms, now);
    if let Some(e) = ex.db(dst).lookup_write(dst, now) {
        e.access_s = access_s;
    }
    ex.dirty(dst, 1);
    ex.journal(src, &[b"DEL", src]);
    ex.journal_state(dst);
    if nx {
        ex.out.int(1);
    } else {
        ex.out.ok();
    }
    Ok(())
}

/// COPY's options: REPLACE, and DB (only database 0 exists in slotd).
fn parse_copy_opts(ex: &mut Exec<'_>, args: Args<'_>) -> Result<bool, ReplyError> {
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"db") && i + 1 < args.len() {
            i += 1;
            check_copy_db(ex, args.get(i))?;
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 1;
    }
    Ok(replace)
}

/// Redis reads the index as a C int, then checks it against `databases`; a valid index other
/// than 0 is refused in cluster mode, and is out of range in standalone slotd (one database).
fn check_copy_db(ex: &mut Exec<'_>, raw: &[u8]) -> Result<(), ReplyError> {
    let db = parse_i64(raw).ok_or(ReplyError::NotInteger)?;
    if db < i32::MIN as i64 || db > i32::MAX as i64 {
        return Err(ReplyError::other(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    let databases = ex.shard.global.cfg(|c| c.databases) as i64;
    if db < 0 || db >= databases.max(1) {
        return Err(ReplyError::DbIndexOutOfRange);
    }
    if db == 0 {
        return Ok(());
    }
    if ex.shard.slot_map.cluster_enabled {
        return Err(ReplyError::other(
            "ERR Copying to another database is not allowed in cluster mode",
        ));
    }
    Err(ReplyError::DbIndexOutOfRange)
}

fn copy(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let replace = parse_copy_opts(ex, args)?;
    let (src, dst) = (args.get(1), args.get(2));
    if src == dst {
        return Err(ReplyError::other(
            "ERR source and destination objects are the same",
        ));
    }
    let now = ex.now_ms;
    let Some(e) = ex.db(src).lookup_read(src, now) else {
        ex.out.int(0);
        return Ok(());
    };
    let (value, at_ms) = (e.value.clone(), e.expire_at_ms());
    if !replace && ex.db(dst).contains(dst, now) {
        ex.out.int(0);
        return Ok(());
    }
    ex.db(dst).set(dst, value, at_ms, now);
    ex.dirty(dst, 1);
    ex.journal_state(dst);
    ex.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Keyspace-wide: KEYS, RANDOMKEY, DBSIZE, FLUSHALL, FLUSHDB
// ---------------------------------------------------------------------------------------------

/// Every live key of one shard matching `pattern` (None: all keys).
fn shard_keys(sh: &Shard, pattern: Option<&[u8]>, now_ms: u64) -> Vec<Vec<u8>> {
    let db = &sh.db;
    let mut found = Vec::new();
    for idx in 0..db.table_count() {
        db.for_each_in_table(idx, now_ms, |e| {
            if pattern.is_none_or(|p| crate::glob::matches(p, &e.key, false)) {
                found.push(e.key.to_vec());
            }
        });
    }
    found
}

fn keys(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let pattern = args.get(1);
    // "*" alone skips matching, as Redis does.
    let pattern = (pattern != b"*").then_some(pattern);
    let now = ctx.now_ms;
    let per_shard = ctx.shard.call_all(|sh| shard_keys(sh, pattern, now));
    ctx.out.array(per_shard.iter().map(Vec::len).sum());
    for key in per_shard.iter().flatten() {
        ctx.out.bulk(key);
    }
    Ok(())
}

/// A random number for picking a shard; std's hasher keys are seeded per process and bumped
/// per `RandomState`, which is random enough for RANDOMKEY.
fn random_u64(salt: u64) -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(salt)
}

fn randomkey(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let now = ctx.now_ms;
    // One candidate per shard, weighted by the shard's size, keeps the pick uniform per key.
    let picks = ctx
        .shard
        .call_all(|sh| (sh.db.len(), sh.db.random_key(now)));
    let total: usize = picks.iter().filter(|p| p.1.is_some()).map(|p| p.0).sum();
    if total == 0 {
        ctx.out.null();
        return Ok(());
    }
    let mut r = (random_u64(now) % total as u64) as usize;
    for (len, key) in &picks {
        let Some(key) = key else { continue };
        if r < *len {
            ctx.out.bulk(key);
            return Ok(());
        }
        r -= len;
    }
    ctx.out.null();
    Ok(())
}

fn dbsize(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let total: usize = ctx.shard.call_all(|sh| sh.db.len()).into_iter().sum();
    ctx.out.int(total as i64);
    Ok(())
}

/// FLUSHALL and FLUSHDB (one database, so the same thing). ASYNC and SYNC are both accepted;
/// the flush is always done inline.
fn flush(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 2 {
        return Err(ReplyError::Syntax);
    }
    if args.len() == 2 {
        let mode = args.get(1);
        if !mode.eq_ignore_ascii_case(b"sync") && !mode.eq_ignore_ascii_case(b"async") {
            return Err(ReplyError::Syntax);
        }
    }
    ctx.shard.call_all(|sh| {
        let n = sh.db.flush();
        sh.dirty += n as u64;
        // Every shard journals the flush of its own keys; a running AOF rewrite has nothing
        // left to copy.
        sh.journal.record(&[b"FLUSHALL"]);
        sh.touch_all_watched();
        if let Some(rw) = sh.aof.rewrite.as_mut() {
            rw.cover_all_empty();
        }
    });
    // Counted even when empty so the flush itself is propagated.
    ctx.shard.dirty += 1;
    ctx.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SCAN
// ---------------------------------------------------------------------------------------------
//
// Cursor design: the cursor is the next hash slot to visit (0..16384), 0 meaning both "start"
// and "done". A call visits slots in increasing order and always returns a slot whole, stopping
// once COUNT keys were visited (COUNT is a hint, as in Redis). Because a slot is never split
// across calls, any key present for the whole scan is returned exactly once, whatever happens
// to other keys meanwhile. Each shard walks its own slots from the cursor on, stopping once it
// alone visited COUNT keys; the merged answer covers only slots below the first slot some shard
// did not reach, so no slot is skipped. COUNT is capped by SCAN_MAX_KEYS_PER_CALL, and a call
// returns at most that many keys unless a single slot holds more.

struct ScanOpts {
    cursor: usize,
    count: usize,
    pattern: Option<Vec<u8>>,
    type_name: Option<Vec<u8>>,
}

/// What one shard saw: (slot, keys visited, keys kept) for each non-empty slot, and the first
/// slot at or above the cursor it did not visit.
struct ShardScan {
    slots: Vec<(u16, usize, Vec<Vec<u8>>)>,
    next_slot: usize,
}

/// A SCAN cursor is the next slot to visit: anything slotd never hands out is invalid.
fn parse_slot_cursor(raw: &[u8]) -> Result<usize, ReplyError> {
    let v = super::parse_cursor(raw)?;
    if v >= SLOT_COUNT as u64 {
        return Err(ReplyError::other("ERR invalid cursor"));
    }
    Ok(v as usize)
}

fn parse_scan(args: Args<'_>) -> Result<ScanOpts, ReplyError> {
    let mut opts = ScanOpts {
        cursor: parse_slot_cursor(args.get(1))?,
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut i = 2;
    while i < args.len() {
        let (opt, has_value) = (args.get(i), i + 1 < args.len());
        if !has_value {
            return Err(ReplyError::Syntax);
        }
        let value = args.get(i + 1);
        if opt.eq_ignore_ascii_case(b"count") {
            let n = parse_i64(value).ok_or(ReplyError::NotInteger)?;
            if n < 1 {
                return Err(ReplyError::Syntax);
            }
            opts.count = (n as u64).min(SCAN_MAX_KEYS_PER_CALL as u64) as usize;
        } else if opt.eq_ignore_ascii_case(b"match") {
            opts.pattern = (value != b"*").then(|| value.to_vec());
        } else if opt.eq_ignore_ascii_case(b"type") {
            opts.type_name = Some(value.to_vec());
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 2;
    }
    Ok(opts)
}

fn scan_keep(opts: &ScanOpts, e: &Entry) -> bool {
    let type_ok = opts
        .type_name
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case(e.value.type_name().as_bytes()));
    type_ok
        && opts
            .pattern
            .as_deref()
            .is_none_or(|p| crate::glob::matches(p, &e.key, false))
}

/// Walks this shard's slots from the cursor on until COUNT keys were visited.
fn scan_shard(sh: &Shard, opts: &ScanOpts, now_ms: u64) -> ShardScan {
    let (id, n, db) = (sh.id, sh.shards, &sh.db);
    let first_idx = if opts.cursor <= id {
        0
    } else {
        (opts.cursor - id).div_ceil(n)
    };
    let mut out = ShardScan {
        slots: Vec::new(),
        next_slot: SLOT_COUNT,
    };
    let mut visited = 0;
    for idx in first_idx..db.table_count() {
        let mut seen = 0;
        let mut kept = Vec::new();
        db.for_each_in_table(idx, now_ms, |e| {
            seen += 1;
            if scan_keep(opts, e) {
                kept.push(e.key.to_vec());
            }
        });
        let slot = db.slot_of_table(idx);
        if seen > 0 {
            out.slots.push((slot, seen, kept));
        }
        visited += seen;
        if visited >= opts.count {
            out.next_slot = slot as usize + 1;
            break;
        }
    }
    out
}

/// Merges the shards' walks in slot order; returns the next cursor and the keys.
fn scan_merge(per_shard: Vec<ShardScan>, count: usize) -> (usize, Vec<Vec<u8>>) {
    let limit = per_shard
        .iter()
        .map(|s| s.next_slot)
        .min()
        .unwrap_or(SLOT_COUNT);
    let mut slots: Vec<_> = per_shard
        .into_iter()
        .flat_map(|s| s.slots)
        .filter(|s| (s.0 as usize) < limit)
        .collect();
    slots.sort_unstable_by_key(|s| s.0);
    let (mut visited, mut keys, mut next) = (0, Vec::new(), limit);
    for (slot, seen, kept) in slots {
        if !keys.is_empty() && keys.len() + kept.len() > SCAN_MAX_KEYS_PER_CALL {
            next = slot as usize;
            break;
        }
        visited += seen;
        keys.extend(kept);
        if visited >= count {
            next = slot as usize + 1;
            break;
        }
    }
    (if next >= SLOT_COUNT { 0 } else { next }, keys)
}

fn scan(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let opts = parse_scan(args)?;
    let now = ctx.now_ms;
    let per_shard = ctx.shard.call_all(|sh| scan_shard(sh, &opts, now));
    let (next, keys) = scan_merge(per_shard, opts.count);
    ctx.out.array(2);
    ctx.out.bulk_int(next as i64);
    ctx.out.array(keys.len());
    for key in &keys {
        ctx.out.bulk(key);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// OBJECT
// ---------------------------------------------------------------------------------------------

fn object_encoding(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    match peek(ex, args.get(2)).map(|e| e.value.encoding()) {
        Some(enc) => ex.out.bulk(enc.as_bytes()),
        None => ex.out.null(),
    }
    Ok(())
}

/// slotd never runs an LFU eviction policy, so an existing key always gets Redis' error.
fn object_freq(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if peek(ex, args.get(2)).is_none() {
        ex.out.null();
        return Ok(());
    }
    Err(ReplyError::other(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note \
         that when switching between policies at runtime LRU and LFU data will take some time \
         to adjust.",
    ))
}

fn object_idletime(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now_s = (ex.now_ms / 1000) as u32;
    match peek(ex, args.get(2)) {
        // Both sides are truncated to 32 bits, so the difference wraps correctly.
        Some(e) => {
            let idle_s = now_s.wrapping_sub(e.access_s);
            ex.out.int(idle_s as i64);
        }
        None => ex.out.null(),
    }
    Ok(())
}

/// Redis shares one object for the integers 0..10000 (no maxmemory policy here forbids it) and
/// reports INT_MAX references for it; any other value has exactly one.
fn refcount(v: &Value) -> i64 {
    #[allow(unreachable_patterns)]
    match v {
        Value::Str(s) if !s.modified => match parse_i64(&s.bytes) {
            Some(n) if (0..10_000).contains(&n) => i32::MAX as i64,
            _ => 1,
        },
        _ => 1,
    }
}

fn object_refcount(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    match peek(ex, args.get(2)).map(|e| refcount(&e.value)) {
        Some(n) => ex.out.int(n),
        None => ex.out.null(),
    }
    Ok(())
}

/// The help lines are part of the reply format clients may show, so they match Redis'.
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

fn object_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(OBJECT_HELP.len());
    for line in OBJECT_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::hash_slot::key_hash_slot;
    use crate::config::Config;
    use crate::global::Global;
    use crate::resp::{Out, OwnedArgs, Proto};
    use crate::shard::value::StrValue;
    use crate::testkit::{Harness, Reply};
    use crate::topology::shard_of;

    fn int(n: i64) -> Reply {
        Reply::Int(n)
    }

    fn bulks(r: &Reply) -> Vec<String> {
        match r {
            Reply::Array(v) => v
                .iter()
                .map(|x| match x {
                    Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                    other => panic!("not a bulk: {other:?}"),
                })
                .collect(),
            other => panic!("not an array: {other:?}"),
        }
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    /// Runs SCAN with `extra` options until the cursor returns to 0; returns every key seen.
    fn scan_all(h: &mut Harness, extra: &[&str]) -> Vec<String> {
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        for _ in 0..20_000 {
            let mut argv = vec!["SCAN", cursor.as_str()];
            argv.extend_from_slice(extra);
            let Reply::Array(parts) = h.run(&argv) else {
                panic!("scan reply")
            };
            let Reply::Bulk(c) = &parts[0] else {
                panic!("cursor")
            };
            seen.extend(bulks(&parts[1]));
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                return seen;
            }
        }
        panic!("scan never finished");
    }

    #[test]
    fn del_unlink_exists_count_keys() {
        // Guards counting: repeats count in EXISTS, missing keys do not count in DEL.
        let mut h = Harness::new();
        h.run(&["SET", "a", "1"]);
        h.run(&["SET", "b", "2"]);
        assert_eq!(h.run(&["EXISTS", "a", "a", "b", "zz"]), int(3));
        assert_eq!(h.run(&["DEL", "a", "zz", "a"]), int(1));
        assert_eq!(h.run(&["UNLINK", "b", "b"]), int(1));
        assert_eq!(h.run(&["EXISTS", "a", "b"]), int(0));
        assert_eq!(h.run(&["DBSIZE"]), int(0));
        for cmd in ["del", "unlink", "exists", "touch"] {
            let msg = format!("ERR wrong number of arguments for '{cmd}' command");
            assert_eq!(h.run(&[cmd]), Reply::Error(msg));
        }
    }

    #[test]
    fn type_names_values_and_none() {
        // Guards TYPE's simple-string reply and the "none" answer for missing keys.
        let mut h = Harness::new();
        h.run(&["SET", "s", "x"]);
        assert_eq!(h.run(&["TYPE", "s"]), Reply::Simple("string".into()));
        assert_eq!(h.run(&["TYPE", "nope"]), Reply::Simple("none".into()));
        assert_eq!(
            h.run(&["TYPE", "a", "b"]),
            Reply::err("ERR wrong number of arguments for 'type' command")
        );
    }

    #[test]
    fn expire_option_errors_match_redis() {
        // Guards the exact option errors and their priority over a bad time or a missing key.
        let mut h = Harness::new();
        h.run(&["SET", "k", "v"]);
        let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
        let gtlt = "ERR GT and LT options at the same time are not compatible";
        assert_eq!(h.run(&["EXPIRE", "k", "10", "NX", "XX"]), Reply::err(nx));
        assert_eq!(h.run(&["EXPIRE", "k", "10", "nx", "gt"]), Reply::err(nx));
        assert_eq!(
            h.run(&["EXPIRE", "k", "10", "GT", "LT", "NX"]),
            Reply::err(nx)
        );
        assert_eq!(h.run(&["PEXPIRE", "k", "10", "gt", "lt"]), Reply::err(gtlt));
        assert_eq!(
            h.run(&["EXPIRE", "k", "abc", "foo"]),
            Reply::err("ERR Unsupported option foo")
        );
        assert_eq!(h.run(&["EXPIRE", "nokey", "1", "nx", "xx"]), Reply::err(nx));
        assert_eq!(
            h.run(&["EXPIRE", "k", "abc"]),
            Reply::err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["EXPIRE", "k"]),
            Reply::err("ERR wrong number of arguments for 'expire' command")
        );
        assert_eq!(
            h.run(&["EXPIRE", "k", "1", "a\r\nb"]),
            Reply::err("ERR Unsupported option a  b")
        );
        assert_eq!(h.run(&["EXPIRE", "k", "10", "nx", "NX"]), int(1));
    }

    #[test]
    fn expire_overflow_is_invalid_time() {
        // Guards the i64 overflow checks of each unit and base; no panic on extreme input.
        let mut h = Harness::new();
        h.run(&["SET", "k", "v"]);
        let max = "9223372036854775807";
        let min = "-9223372036854775808";
        for cmd in ["expire", "pexpire", "expireat"] {
            let msg = format!("ERR invalid expire time in '{cmd}' command");
            assert_eq!(h.run(&[cmd, "k", max]), Reply::Error(msg));
        }
        assert_eq!(
            h.run(&["EXPIRE", "k", min]),
            Reply::err("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(
            h.run(&["EXPIRE", "k", "9223372036854776"]),
            Reply::err("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(h.run(&["PEXPIREAT", "k", max]), int(1));
        assert_eq!(h.run(&["PEXPIRETIME", "k"]), Reply::Int(i64::MAX));
        // A huge negative relative time is in the past: the key goes away.
        assert_eq!(h.run(&["PEXPIRE", "k", min]), int(1));
        assert_eq!(h.run(&["EXISTS", "k"]), int(0));
    }

    #[test]
    fn expire_conditions_follow_redis() {
        // Guards NX/XX/GT/LT semantics, where "no TTL" counts as an infinite TTL.
        let mut h = Harness::new();
        h.run(&["SET", "k", "v"]);
        assert_eq!(h.run(&["EXPIRE", "k", "100", "XX"]), int(0));
        assert_eq!(h.run(&["EXPIRE", "k", "100", "GT"]), int(0));
        assert_eq!(h.run(&["EXPIRE", "k", "100", "LT"]), int(1));
        assert_eq!(h.run(&["TTL", "k"]), int(100));
        assert_eq!(h.run(&["EXPIRE", "k", "50", "NX"]), int(0));
        assert_eq!(h.run(&["EXPIRE", "k", "50", "GT"]), int(0));
        assert_eq!(h.run(&["EXPIRE", "k", "200", "GT"]), int(1));
        assert_eq!(h.run(&["EXPIRE", "k", "300", "LT"]), int(0));
        assert_eq!(h.run(&["EXPIRE", "k", "150", "XX"]), int(1));
        assert_eq!(h.run(&["TTL", "k"]), int(150));
        assert_eq!(h.run(&["EXPIRE", "k", "-5", "GT"]), int(0));
        assert_eq!(h.run(&["EXPIRE", "k", "-5", "LT"]), int(1));
        assert_eq!(h.run(&["EXISTS", "k"]), int(0));
        assert_eq!(h.run(&["EXPIRE", "k", "10"]), int(0));
    }

    #[test]
    fn expire_in_past_deletes_and_answers_one() {
        // Guards Redis 7's "time in the past deletes the key" rule for every variant.
        let mut h = Harness::new();
        for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
            h.run(&["SET", "k", "v"]);
            assert_eq!(h.run(&[cmd, "k", "0"]), int(1), "{cmd}");
            assert_eq!(h.run(&["EXISTS", "k"]), int(0), "{cmd}");
        }
        assert_eq!(h.run(&["DBSIZE"]), int(0));
    }

    #[test]
    fn ttl_family_rounds_and_reports_missing() {
        // Guards -2/-1, rounding to the nearest second, absolute times, and lazy expiry.
        let mut h = Harness::new();
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(h.run(&[cmd, "nope"]), int(-2));
        }
        h.run(&["SET", "k", "v"]);
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(h.run(&[cmd, "k"]), int(-1));
        }
        assert_eq!(h.run(&["PEXPIRE", "k", "1499"]), int(1));
        assert_eq!(h.run(&["TTL", "k"]), int(1));
        assert_eq!(h.run(&["PTTL", "k"]), int(1499));
        assert_eq!(h.run(&["PEXPIRE", "k", "1500"]), int(1));
        assert_eq!(h.run(&["TTL", "k"]), int(2));
        assert_eq!(h.run(&["PEXPIREAT", "k", "4000000000600"]), int(1));
        assert_eq!(h.run(&["EXPIRETIME", "k"]), int(4_000_000_001));
        assert_eq!(h.run(&["PEXPIRETIME", "k"]), int(4_000_000_000_600));
        assert_eq!(h.run(&["EXPIREAT", "k", "4000000000"]), int(1));
        assert_eq!(h.run(&["EXPIRETIME", "k"]), int(4_000_000_000));
        h.run(&["PEXPIRE", "k", "100"]);
        h.advance_ms(100);
        assert_eq!(h.run(&["PTTL", "k"]), int(-2));
        assert_eq!(h.run(&["DBSIZE"]), int(0));
    }

    #[test]
    fn persist_removes_only_existing_ttls() {
        // Guards PERSIST's 0/1 answers and that the key then never expires.
        let mut h = Harness::new();
        assert_eq!(h.run(&["PERSIST", "k"]), int(0));
        h.run(&["SET", "k", "v"]);
        assert_eq!(h.run(&["PERSIST", "k"]), int(0));
        h.run(&["EXPIRE", "k", "10"]);
        assert_eq!(h.run(&["PERSIST", "k"]), int(1));
        assert_eq!(h.run(&["TTL", "k"]), int(-1));
        h.advance_ms(20_000);
        assert_eq!(h.run(&["EXISTS", "k"]), int(1));
    }

    #[test]
    fn rename_moves_value_and_ttl() {
        // Guards RENAME/RENAMENX answers, TTL carried over, and the destination overwritten.
        let mut h = Harness::new();
        let nokey = Reply::err("ERR no such key");
        assert_eq!(h.run(&["RENAME", "x", "y"]), nokey);
        assert_eq!(h.run(&["RENAME", "x", "x"]), nokey);
        assert_eq!(h.run(&["RENAMENX", "x", "x"]), nokey);
        h.run(&["SET", "a", "1"]);
        h.run(&["SET", "b", "2"]);
        assert_eq!(h.run(&["RENAME", "a", "a"]), Reply::ok());
        assert_eq!(h.run(&["RENAMENX", "a", "a"]), int(0));
        assert_eq!(h.run(&["RENAMENX", "a", "b"]), int(0));
        h.run(&["EXPIRE", "a", "100"]);
        h.run(&["EXPIRE", "b", "500"]);
        assert_eq!(h.run(&["RENAME", "a", "b"]), Reply::ok());
        assert_eq!(h.run(&["GET", "b"]), Reply::bulk("1"));
        assert_eq!(h.run(&["TTL", "b"]), int(100));
        assert_eq!(h.run(&["EXISTS", "a"]), int(0));
        assert_eq!(h.run(&["RENAMENX", "b", "c"]), int(1));
        assert_eq!(h.run(&["TTL", "c"]), int(100));
        assert_eq!(h.run(&["DBSIZE"]), int(1));
    }

    #[test]
    fn copy_options_and_errors() {
        // Guards COPY's option parsing, DB checks, REPLACE and the copied TTL.
        let mut h = Harness::new();
        h.run(&["SET", "a", "1"]);
        h.run(&["EXPIRE", "a", "100"]);
        let same = Reply::err("ERR source and destination objects are the same");
        assert_eq!(h.run(&["COPY", "a", "a"]), same);
        assert_eq!(h.run(&["COPY", "x", "x"]), same);
        assert_eq!(h.run(&["COPY", "x", "y"]), int(0));
        assert_eq!(
            h.run(&["COPY", "a", "b", "DB", "abc"]),
            Reply::err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["COPY", "a", "b", "db", "2147483648"]),
            Reply::err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        let range = Reply::err("ERR DB index is out of range");
        assert_eq!(h.run(&["COPY", "a", "b", "db", "-1"]), range);
        assert_eq!(h.run(&["COPY", "a", "b", "db", "1"]), range);
        assert_eq!(
            h.run(&["COPY", "a", "b", "db"]),
            Reply::err("ERR syntax error")
        );
        assert_eq!(
            h.run(&["COPY", "a", "b", "foo"]),
            Reply::err("ERR syntax error")
        );
        assert_eq!(h.run(&["COPY", "a", "b", "DB", "0", "replace"]), int(1));
        assert_eq!(h.run(&["TTL", "b"]), int(100));
        h.run(&["SET", "a", "2"]);
        assert_eq!(h.run(&["COPY", "a", "b"]), int(0));
        assert_eq!(h.run(&["GET", "b"]), Reply::bulk("1"));
        assert_eq!(h.run(&["COPY", "a", "b", "REPLACE"]), int(1));
        assert_eq!(h.run(&["GET", "b"]), Reply::bulk("2"));
        assert_eq!(h.run(&["TTL", "b"]), int(-1));
    }

    #[test]
    fn touch_counts_and_refreshes_idle_time() {
        // Guards TOUCH's count and that it, unlike EXISTS, resets the idle time.
        let mut h = Harness::new();
        h.run(&["SET", "k", "v"]);
        h.advance_ms(5_000);
        assert_eq!(h.run(&["EXISTS", "k"]), int(1));
        assert_eq!(h.run(&["OBJECT", "IDLETIME", "k"]), int(5));
        assert_eq!(h.run(&["TOUCH", "k", "k", "nope"]), int(2));
        assert_eq!(h.run(&["OBJECT", "IDLETIME", "k"]), int(0));
    }

    #[test]
    fn keys_matches_glob_and_skips_expired() {
        // Guards KEYS filtering, "*", and that expired keys are not listed.
        let mut h = Harness::new();
        for k in ["hello", "hallo", "hxllo", "other"] {
            h.run(&["SET", k, "v"]);
        }
        h.run(&["PEXPIRE", "hxllo", "10"]);
        h.advance_ms(10);
        assert_eq!(
            sorted(bulks(&h.run(&["KEYS", "h[ae]llo"]))),
            vec!["hallo", "hello"]
        );
        assert_eq!(bulks(&h.run(&["KEYS", "*"])).len(), 3);
        assert_eq!(bulks(&h.run(&["KEYS", "zz*"])).len(), 0);
        assert_eq!(
            h.run(&["KEYS"]),
            Reply::err("ERR wrong number of arguments for 'keys' command")
        );
    }

    #[test]
    fn scan_returns_every_key_once() {
        // Guards the slot cursor: a full walk with a small COUNT sees each key exactly once.
        let mut h = Harness::new();
        for i in 0..500 {
            h.run(&["SET", &format!("key:{i}"), "v"]);
        }
        let seen = scan_all(&mut h, &["COUNT", "7"]);
        assert_eq!(seen.len(), 500);
        let mut uniq = seen.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), 500);
        assert_eq!(scan_all(&mut h, &[]).len(), 500);
        assert_eq!(scan_all(&mut h, &["COUNT", "100000000"]).len(), 500);
    }

    #[test]
    fn scan_keeps_surviving_keys_under_churn() {
        // Guards the guarantee for keys present during the whole scan while others change.
        let mut h = Harness::new();
        for i in 0..200 {
            h.run(&["SET", &format!("stay:{i}"), "v"]);
        }
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        for round in 0..20_000 {
            h.run(&["SET", &format!("new:{round}"), "v"]);
            h.run(&["DEL", &format!("new:{}", round / 2)]);
            let r = h.run(&["SCAN", &cursor, "MATCH", "stay:*", "COUNT", "5"]);
            let Reply::Array(parts) = r else { panic!() };
            let Reply::Bulk(c) = &parts[0] else { panic!() };
            seen.extend(bulks(&parts[1]));
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(cursor, "0");
        assert_eq!(sorted(seen).len(), 200);
    }

    #[test]
    fn scan_options_and_errors_match_redis() {
        // Guards cursor parsing (strtoul-like), COUNT/MATCH/TYPE parsing and their errors.
        let mut h = Harness::new();
        h.run(&["SET", "a", "1"]);
        h.run(&["SET", "b", "2"]);
        let bad = Reply::err("ERR invalid cursor");
        for c in [
            "abc",
            " 0",
            "0x1",
            "+",
            "-",
            "16384",
            "-1",
            "18446744073709551616",
        ] {
            assert_eq!(h.run(&["SCAN", c]), bad, "cursor {c:?}");
        }
        let syntax = Reply::err("ERR syntax error");
        assert_eq!(h.run(&["SCAN", "0", "COUNT", "0"]), syntax);
        assert_eq!(h.run(&["SCAN", "0", "COUNT", "-1"]), syntax);
        assert_eq!(h.run(&["SCAN", "0", "COUNT"]), syntax);
        assert_eq!(h.run(&["SCAN", "0", "MATCH"]), syntax);
        assert_eq!(h.run(&["SCAN", "0", "foo", "bar"]), syntax);
        assert_eq!(
            h.run(&["SCAN", "0", "COUNT", "x"]),
            Reply::err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            sorted(scan_all(&mut h, &["TYPE", "STRING"])),
            vec!["a", "b"]
        );
        assert!(scan_all(&mut h, &["TYPE", "list"]).is_empty());
        assert!(scan_all(&mut h, &["TYPE", "nosuchtype"]).is_empty());
        assert_eq!(scan_all(&mut h, &["MATCH", "a", "COUNT", "1"]), vec!["a"]);
        // Empty and signed cursors are accepted like Redis' strtoul.
        assert_eq!(
            sorted(scan_all(&mut h, &["COUNT", "1", "COUNT", "99"])).len(),
            2
        );
        let Reply::Array(parts) = h.run(&["SCAN", ""]) else {
            panic!()
        };
        assert_eq!(bulks(&parts[1]).len(), 2);
        let Reply::Array(parts) = h.run(&["SCAN", "-0"]) else {
            panic!()
        };
        assert_eq!(parts[0], Reply::bulk("0"));
    }

    #[test]
    fn scan_on_empty_keyspace_finishes_at_once() {
        // Guards the reply shape with nothing to return: cursor "0" and an empty array.
        let mut h = Harness::new();
        assert_eq!(
            h.run(&["SCAN", "0"]),
            Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
        );
        assert_eq!(
            h.run(&["SCAN", "16383", "COUNT", "1"]),
            Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
        );
    }

    /// Three shards of one process, with keys placed on their owners.
    fn three_shards(keys: usize) -> Vec<Shard> {
        let global = Global::new(Config::default(), 3, None);
        let mut shards: Vec<Shard> = (0..3).map(|i| Shard::new(i, 3, global.clone())).collect();
        for i in 0..keys {
            let k = format!("k{i}");
            let owner = shard_of(key_hash_slot(k.as_bytes()), 3);
            let v = Value::Str(StrValue::from_slice(b"v"));
            shards[owner].db.set(k.as_bytes(), v, 0, 0);
        }
        shards
    }

    #[test]
    fn scan_merge_covers_all_slots_over_shards() {
        // Guards the multi-shard merge: no slot is skipped when shards stop at different slots.
        let shards = three_shards(1000);
        for count in [1, 3, 10, 250] {
            let mut cursor = 0;
            let mut seen = Vec::new();
            for _ in 0..SLOT_COUNT {
                let opts = ScanOpts {
                    cursor,
                    count,
                    pattern: None,
                    type_name: None,
                };
                let per: Vec<_> = shards.iter().map(|s| scan_shard(s, &opts, 0)).collect();
                let (next, keys) = scan_merge(per, count);
                assert!(next == 0 || next > cursor, "cursor must advance");
                seen.extend(keys);
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(cursor, 0);
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 1000, "count {count}");
        }
    }

    #[test]
    fn rename_across_shards_keeps_ttl() {
        // Guards RENAME between two keyspaces: removed from one, inserted in the other.
        let mut shards = three_shards(0);
        let (src, dst) = pick_keys_on_different_shards();
        let (s_src, s_dst) = (owner(&src), owner(&dst));
        let v = Value::Str(StrValue::from_slice(b"val"));
        shards[s_src].db.set(src.as_bytes(), v, 5_000, 0);
        let (left, right) = shards.split_at_mut(1);
        let mut ptrs: Vec<*mut Shard> = vec![std::ptr::null_mut(); 3];
        for s in right.iter_mut() {
            ptrs[s.id] = s as *mut Shard;
        }
        let me = &mut left[0];
        let mut buf = Vec::new();
        let argv = OwnedArgs::from_slices(&[b"RENAME", src.as_bytes(), dst.as_bytes()]);
        {
            // SAFETY: single-threaded test; the other shards are only reached through `ptrs`.
            let mut ex =
                unsafe { Exec::with_frozen(me, Out::new(&mut buf, Proto::Resp2), 1_000, &ptrs) };
            rename(&mut ex, argv.args()).expect("rename works");
        }
        assert_eq!(buf, b"+OK\r\n");
        assert_eq!(shards[s_src].db.len(), 0);
        let e = shards[s_dst]
            .db
            .lookup_write(dst.as_bytes(), 1_000)
            .expect("moved");
        assert_eq!(e.expire_at_ms(), 5_000);
    }

    fn owner(k: &str) -> usize {
        shard_of(key_hash_slot(k.as_bytes()), 3)
    }

    /// Two key names owned by different shards, the first owned by shard 0.
    fn pick_keys_on_different_shards() -> (String, String) {
        let names: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        let first = names
            .iter()
            .find(|k| owner(k) == 0)
            .expect("a key on shard 0");
        let other = names
            .iter()
            .find(|k| owner(k) != 0)
            .expect("a key elsewhere");
        (first.clone(), other.clone())
    }

    #[test]
    fn randomkey_dbsize_and_flush() {
        // Guards RANDOMKEY on empty/non-empty keyspaces, DBSIZE, and FLUSH option parsing.
        let mut h = Harness::new();
        assert_eq!(h.run(&["RANDOMKEY"]), Reply::Nil);
        h.run(&["SET", "only", "v"]);
        assert_eq!(h.run(&["RANDOMKEY"]), Reply::bulk("only"));
        h.run(&["SET", "two", "v"]);
        assert_eq!(h.run(&["DBSIZE"]), int(2));
        let syntax = Reply::err("ERR syntax error");
        assert_eq!(h.run(&["FLUSHALL", "foo"]), syntax);
        assert_eq!(h.run(&["FLUSHDB", "async", "sync"]), syntax);
        assert_eq!(h.run(&["FLUSHDB", "ASYNC"]), Reply::ok());
        assert_eq!(h.run(&["DBSIZE"]), int(0));
        h.run(&["SET", "k", "v"]);
        assert_eq!(h.run(&["FLUSHALL", "sync"]), Reply::ok());
        assert_eq!(h.run(&["FLUSHALL"]), Reply::ok());
        assert_eq!(h.run(&["DBSIZE"]), int(0));
        assert_eq!(
            h.run(&["RANDOMKEY", "x"]),
            Reply::err("ERR wrong number of arguments for 'randomkey' command")
        );
    }

    #[test]
    fn object_subcommands_match_redis() {
        // Guards encodings, shared-integer refcounts, the FREQ error, nil for missing keys.
        let mut h = Harness::new();
        let long = "a".repeat(45);
        for (v, enc, refs) in [
            ("0", "int", i32::MAX as i64),
            ("9999", "int", i32::MAX as i64),
            ("10000", "int", 1),
            ("-1", "int", 1),
            ("007", "embstr", 1),
            (long.as_str(), "raw", 1),
        ] {
            h.run(&["SET", "s", v]);
            assert_eq!(h.run(&["OBJECT", "ENCODING", "s"]), Reply::bulk(enc), "{v}");
            assert_eq!(h.run(&["object", "refcount", "s"]), int(refs), "{v}");
        }
        assert_eq!(
            h.run(&["OBJECT", "FREQ", "s"]),
            Reply::err(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
                 Please note that when switching between policies at runtime LRU and LFU data \
                 will take some time to adjust."
            )
        );
        for sub in ["ENCODING", "FREQ", "IDLETIME", "REFCOUNT"] {
            assert_eq!(h.run(&["OBJECT", sub, "nope"]), Reply::Nil, "{sub}");
        }
        h.advance_ms(3_000);
        assert_eq!(h.run(&["OBJECT", "IDLETIME", "s"]), int(3));
    }

    #[test]
    fn object_help_and_errors() {
        // Guards OBJECT HELP's shape and the container's arity/unknown-subcommand errors.
        let mut h = Harness::new();
        let Reply::Array(lines) = h.run(&["OBJECT", "HELP"]) else {
            panic!()
        };
        assert_eq!(lines.len(), 15);
        assert_eq!(lines[14], Reply::Simple("    Prints this help.".into()));
        assert_eq!(
            h.run(&["OBJECT", "foo"]),
            Reply::err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
        assert_eq!(
            h.run(&["OBJECT"]),
            Reply::err("ERR wrong number of arguments for 'object' command")
        );
        assert_eq!(
            h.run(&["OBJECT", "ENCODING", "a", "b"]),
            Reply::err("ERR wrong number of arguments for 'object|encoding' command")
        );
    }

    #[test]
    fn resp3_nil_for_missing_object() {
        // Guards that missing keys answer RESP3's null, not a RESP2 null bulk.
        let mut h = Harness::new();
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        assert_eq!(h.raw(&["OBJECT", "ENCODING", "nope"]), b"_\r\n");
        assert_eq!(h.raw(&["RANDOMKEY"]), b"_\r\n");
    }

    #[test]
    fn table_metadata_matches_redis() {
        // Guards arity, flags, key positions and groups as COMMAND INFO/DOCS would show them.
        let check = |name: &str, arity: i32, fl: u32, group: &str| {
            let c = crate::commands::lookup(name.as_bytes()).expect(name);
            assert_eq!(c.arity, arity, "{name}");
            assert_eq!(c.flags & !MULTI_KEY, fl, "{name}");
            assert_eq!(c.group, group, "{name}");
            assert!(!c.summary.is_empty() && !c.complexity.is_empty(), "{name}");
        };
        check("del", -2, WRITE, "generic");
        check("unlink", -2, WRITE | FAST, "generic");
        check("exists", -2, READONLY | FAST, "generic");
        check("expire", -3, WRITE | FAST, "generic");
        check("ttl", 2, READONLY | FAST, "generic");
        check("rename", 3, WRITE, "generic");
        check("renamenx", 3, WRITE | FAST, "generic");
        check("copy", -3, WRITE | DENYOOM, "generic");
        check("touch", -2, READONLY | FAST, "generic");
        check("keys", 2, READONLY, "generic");
        check("scan", -2, READONLY, "generic");
        check("randomkey", 1, READONLY, "generic");
        check("dbsize", 1, READONLY | FAST, "server");
        check("flushall", -1, WRITE, "server");
        check("object", -2, 0, "generic");
        let obj = crate::commands::lookup(b"object").expect("object");
        let help = crate::commands::lookup_sub(obj, b"help").expect("help");
        assert_eq!((help.arity, help.flags), (2, LOADING | STALE));
        let enc = crate::commands::lookup_sub(obj, b"ENCODING").expect("encoding");
        assert!(matches!(
            enc.keys,
            KeySpec::Range {
                first: 2,
                last: 2,
                step: 1
            }
        ));
        assert_eq!(ARGS_SCAN.len(), 4);
        assert_eq!(EXPIRE_COND.args.len(), 4);
    }
}
