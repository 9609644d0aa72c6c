//! The generic key command table: key specs, argument docs and the `CommandSpec` of every
//! command in this family.

use super::*;
use crate::commands::spec::key_range;
use crate::commands::spec::keyflag;
use crate::commands::spec::{acl, arg, multi, oneof, opt, pure, since, tok, K1, K12, K2, K_ALL};

const ARGS_KEYS: &[ArgDoc] = &[multi(arg("key", "key"))];
const ARGS_KEY: &[ArgDoc] = &[arg("key", "key")];
const ARGS_RENAME: &[ArgDoc] = &[arg("key", "key"), arg("newkey", "key")];
pub(super) const EXPIRE_COND: ArgDoc = since(
    "7.0.0",
    opt(oneof(
        "condition",
        &[
            pure("nx", "NX"),
            pure("xx", "XX"),
            pure("gt", "GT"),
            pure("lt", "LT"),
        ],
    )),
);
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
    opt(tok("DB", arg("destination-db", "integer"))),
    opt(pure("replace", "REPLACE")),
];
pub(super) const ARGS_SCAN: &[ArgDoc] = &[
    arg("cursor", "integer"),
    opt(tok("MATCH", arg("pattern", "pattern"))),
    opt(tok("COUNT", arg("count", "integer"))),
    since("6.0.0", opt(tok("TYPE", arg("type", "string")))),
];
const ARGS_FLUSH: &[ArgDoc] = &[opt(oneof(
    "async",
    &[
        since("4.0.0", pure("async", "ASYNC")),
        since("6.2.0", pure("sync", "SYNC")),
    ],
))];

/// A command of the generic group with its docs.
pub(super) const fn cmd(
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

/// FLUSHALL and FLUSHDB (one database: the same command).
const fn flush_cmd(name: &'static str, summary: &'static str) -> CommandSpec {
    let doc = (
        summary,
        "1.0.0",
        "O(N) where N is the number of keys removed",
        ARGS_FLUSH,
    );
    cmd(name, -1, WRITE, KeySpec::None, Handler::Conn(flush), doc)
        .group("server", acl::KEYSPACE | acl::DANGEROUS)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .history(&[
            ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
            ("6.2.0", "Added the `SYNC` flushing mode modifier."),
        ])
}

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
    )
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .access(keyflag::RM | keyflag::DELETE),
    cmd(
        "unlink",
        -2,
        WRITE | FAST | MULTI_KEY,
        K_ALL,
        Handler::Key(unlink),
        (
            "Removes the given keys like DEL; memory may be reclaimed later",
            "4.0.0",
            ON_KEYS,
            ARGS_KEYS,
        ),
    )
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .access(keyflag::RM | keyflag::DELETE),
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
    )
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .access(keyflag::RO)
    .history(&[("3.0.3", "Accepts multiple `key` arguments.")]),
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
    )
    .access(keyflag::RO),
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
    )
    .history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]),
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
    )
    .history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]),
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
    )
    .history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]),
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
    )
    .history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]),
    cmd(
        "ttl",
        2,
        READONLY | FAST,
        K1,
        Handler::Key(ttl),
        ("Seconds left before a key expires", "1.0.0", O1, ARGS_KEY),
    )
    .tips(&["nondeterministic_output"])
    .history(&[("2.8.0", "Added the -2 reply.")]),
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
    )
    .tips(&["nondeterministic_output"])
    .history(&[("2.8.0", "Added the -2 reply.")]),
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
    )
    .key_specs(&[
        key_range(1, 0, keyflag::RW_ACCESS_DELETE),
        key_range(2, 0, keyflag::OW | keyflag::UPDATE),
    ]),
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
    )
    .key_specs(&[
        key_range(1, 0, keyflag::RW_ACCESS_DELETE),
        key_range(2, 0, keyflag::OW | keyflag::INSERT),
    ])
    .history(&[(
        "3.2.0",
        "The command no longer returns an error when source and destination names are the \
         same.",
    )]),
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
    )
    .key_specs(&[
        key_range(1, 0, keyflag::RO | keyflag::ACCESS),
        key_range(2, 0, keyflag::OW | keyflag::UPDATE),
    ]),
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
    )
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .access(keyflag::RO),
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
    )
    .acl(acl::KEYSPACE | acl::DANGEROUS)
    .tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
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
    )
    .tips(&["nondeterministic_output", "request_policy:special"])
    .history(&[("6.0.0", "Added the `TYPE` subcommand.")]),
    cmd(
        "randomkey",
        1,
        READONLY,
        KeySpec::None,
        Handler::Conn(randomkey),
        ("Picks a key at random", "1.0.0", O1, &[]),
    )
    .tips(&["request_policy:all_shards", "nondeterministic_output"]),
    cmd(
        "dbsize",
        1,
        READONLY | FAST,
        KeySpec::None,
        Handler::Conn(dbsize),
        ("Counts the keys of the database", "1.0.0", O1, &[]),
    )
    .group("server", acl::KEYSPACE)
    .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    cmd(
        "move",
        3,
        WRITE | FAST,
        K1,
        Handler::Key(move_cmd),
        (
            "Moves a key to another database",
            "1.0.0",
            O1,
            &[arg("key", "key"), arg("db", "integer")],
        ),
    )
    .access(keyflag::RW_ACCESS_UPDATE),
    cmd(
        "swapdb",
        3,
        WRITE | FAST,
        KeySpec::None,
        Handler::Conn(swapdb),
        (
            "Swaps the contents of two databases",
            "4.0.0",
            "O(N) where N is the count of clients watching or blocking on keys from both \
             databases.",
            &[arg("index1", "integer"), arg("index2", "integer")],
        ),
    )
    .group("server", acl::KEYSPACE | acl::DANGEROUS),
    flush_cmd("flushall", "Deletes every key of every database"),
    flush_cmd("flushdb", "Deletes every key of the current database"),
    cmd(
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
    .subcommands(OBJECT_SUBCOMMANDS),
];

/// An OBJECT subcommand that reads one key (argument 2); its output depends on the server.
const fn object_sub(
    name: &'static str,
    f: crate::commands::KeyFn,
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    cmd(
        name,
        3,
        READONLY,
        K2,
        Handler::Key(f),
        (summary, since, O1, ARGS_KEY),
    )
    .tips(&["nondeterministic_output"])
    .access(keyflag::RO)
}

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    object_sub(
        "encoding",
        object_encoding,
        "2.2.3",
        "Names the internal representation of a key's value",
    ),
    object_sub(
        "freq",
        object_freq,
        "4.0.0",
        "The logarithmic access frequency counter of a key (LFU policies only)",
    ),
    object_sub(
        "idletime",
        object_idletime,
        "2.2.3",
        "Seconds since a key was last read or written",
    ),
    object_sub(
        "refcount",
        object_refcount,
        "2.2.3",
        "How many references share a key's value",
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
