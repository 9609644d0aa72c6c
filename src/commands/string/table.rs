//! The string command table: key specs, argument docs and the `CommandSpec` of every string
//! command.

use super::*;
use crate::commands::spec::keyflag;
use crate::commands::spec::{
    arg, block, multi, oneof, opt, pure, since, tok, K1, K12, K_ALL, K_PAIRS,
};
use crate::commands::spec::{key_range, KeySpecDoc};

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const A_KEY: ArgDoc = arg("key", "key");
const A_VALUE: ArgDoc = arg("value", "string");
const DOC_KEY: &[ArgDoc] = &[A_KEY];
const DOC_KEY_VALUE: &[ArgDoc] = &[A_KEY, A_VALUE];
const DOC_SET: &[ArgDoc] = &[
    A_KEY,
    A_VALUE,
    since(
        "2.6.12",
        opt(oneof("condition", &[pure("nx", "NX"), pure("xx", "XX")])),
    ),
    since("6.2.0", opt(pure("get", "GET"))),
    opt(oneof(
        "expiration",
        &[
            since("2.6.12", tok("EX", arg("seconds", "integer"))),
            since("2.6.12", tok("PX", arg("milliseconds", "integer"))),
            since("6.2.0", tok("EXAT", arg("unix-time-seconds", "unix-time"))),
            since(
                "6.2.0",
                tok("PXAT", arg("unix-time-milliseconds", "unix-time")),
            ),
            since("6.0.0", pure("keepttl", "KEEPTTL")),
        ],
    )),
];
const DOC_GETEX: &[ArgDoc] = &[
    A_KEY,
    opt(oneof(
        "expiration",
        &[
            tok("EX", arg("seconds", "integer")),
            tok("PX", arg("milliseconds", "integer")),
            tok("EXAT", arg("unix-time-seconds", "unix-time")),
            tok("PXAT", arg("unix-time-milliseconds", "unix-time")),
            pure("persist", "PERSIST"),
        ],
    )),
];
const DOC_SETEX: &[ArgDoc] = &[A_KEY, arg("seconds", "integer"), A_VALUE];
const DOC_PSETEX: &[ArgDoc] = &[A_KEY, arg("milliseconds", "integer"), A_VALUE];
const DOC_MGET: &[ArgDoc] = &[multi(A_KEY)];
const DOC_MSET: &[ArgDoc] = &[multi(block("key_value", &[A_KEY, A_VALUE]))];
const DOC_INCRBY: &[ArgDoc] = &[A_KEY, arg("increment", "integer")];
const DOC_DECRBY: &[ArgDoc] = &[A_KEY, arg("decrement", "integer")];
const DOC_INCRBYFLOAT: &[ArgDoc] = &[A_KEY, arg("increment", "double")];
const DOC_RANGE: &[ArgDoc] = &[A_KEY, arg("start", "integer"), arg("end", "integer")];
const DOC_SETRANGE: &[ArgDoc] = &[A_KEY, arg("offset", "integer"), A_VALUE];
const DOC_LCS: &[ArgDoc] = &[
    arg("key1", "key"),
    arg("key2", "key"),
    opt(pure("len", "LEN")),
    opt(pure("idx", "IDX")),
    opt(tok("MINMATCHLEN", arg("len", "integer"))),
    opt(pure("withmatchlen", "WITHMATCHLEN")),
];

/// A string-group command; the docs fields are filled at each entry.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: crate::commands::KeyFn,
) -> CommandSpec {
    CommandSpec::keyed(name, arity, flags, keys, f)
        .group("string", crate::commands::spec::acl::STRING)
}

const O1: &str = "O(1)";

/// SET's key flags for one line: with GET it reads the old value (RW access update), without
/// it only overwrites (OW update), as Redis 7.0 answers COMMAND GETKEYSANDFLAGS.
fn set_key_flags(line: Args<'_>) -> u16 {
    let get = line.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"GET"));
    if get {
        keyflag::RW_ACCESS_UPDATE
    } else {
        keyflag::OW | keyflag::UPDATE
    }
}
const WDF: u32 = WRITE | DENYOOM | FAST;

pub static COMMANDS: &[CommandSpec] = &[
    spec("get", 2, READONLY | FAST, K1, get).since("1.0.0").doc(
        O1,
        "Returns the string stored at a key.",
        DOC_KEY,
    ),
    spec("set", -3, WRITE | DENYOOM, K1, set)
        .key_specs(&[KeySpecDoc {
            notes: "RW and ACCESS due to the optional `GET` argument",
            ..key_range(1, 0, keyflag::RW_ACCESS_UPDATE | keyflag::VARIABLE_FLAGS)
        }])
        .line_key_flags(set_key_flags)
        .since("1.0.0")
        .doc(
            O1,
            "Stores a string at a key, with optional conditions and expiry.",
            DOC_SET,
        )
        .history(&[
            ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
            ("6.0.0", "Added the `KEEPTTL` option."),
            ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
            (
                "7.0.0",
                "Allowed the `NX` and `GET` options to be used together.",
            ),
        ]),
    spec("setnx", 3, WDF, K1, setnx)
        .since("1.0.0")
        .doc(
            O1,
            "Stores a string at a key only when the key is absent.",
            DOC_KEY_VALUE,
        )
        .access(keyflag::OW | keyflag::INSERT),
    spec("setex", 4, WRITE | DENYOOM, K1, setex)
        .since("2.0.0")
        .doc(
            O1,
            "Stores a string with a time to live in seconds.",
            DOC_SETEX,
        )
        .access(keyflag::OW | keyflag::UPDATE),
    spec("psetex", 4, WRITE | DENYOOM, K1, psetex)
        .since("2.6.0")
        .doc(
            O1,
            "Stores a string with a time to live in milliseconds.",
            DOC_PSETEX,
        )
        .access(keyflag::OW | keyflag::UPDATE),
    spec("getset", 3, WDF, K1, getset)
        .since("1.0.0")
        .doc(
            O1,
            "Stores a string and returns the previous one.",
            DOC_KEY_VALUE,
        )
        .access(keyflag::RW_ACCESS_UPDATE)
        .deprecated("6.2.0", "`SET` with the `!GET` argument"),
    spec("getdel", 2, WRITE | FAST, K1, getdel)
        .since("6.2.0")
        .doc(
            O1,
            "Returns the string at a key and removes the key.",
            DOC_KEY,
        )
        .access(keyflag::RW_ACCESS_DELETE),
    spec("getex", -2, WRITE | FAST, K1, getex)
        .key_specs(&[KeySpecDoc {
            notes: "RW and UPDATE because it changes the TTL",
            ..key_range(1, 0, keyflag::RW_ACCESS_UPDATE)
        }])
        .since("6.2.0")
        .doc(
            O1,
            "Returns the string at a key and optionally changes its expiry.",
            DOC_GETEX,
        ),
    spec("mget", -2, READONLY | FAST | MULTI_KEY, K_ALL, mget)
        .since("1.0.0")
        .doc(
            "O(N) where N is the number of keys.",
            "Returns the strings stored at several keys.",
            DOC_MGET,
        )
        .tips(&["request_policy:multi_shard"]),
    spec("mset", -3, WRITE | DENYOOM | MULTI_KEY, K_PAIRS, mset)
        .since("1.0.1")
        .doc(
            "O(N) where N is the number of keys.",
            "Stores several key/value pairs at once.",
            DOC_MSET,
        )
        .tips(&[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ])
        .access(keyflag::OW | keyflag::UPDATE),
    spec("msetnx", -3, WRITE | DENYOOM | MULTI_KEY, K_PAIRS, msetnx)
        .since("1.0.1")
        .doc(
            "O(N) where N is the number of keys.",
            "Stores several key/value pairs only when none of the keys exists.",
            DOC_MSET,
        )
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
        .access(keyflag::OW | keyflag::INSERT),
    spec("incr", 2, WDF, K1, incr)
        .since("1.0.0")
        .doc(O1, "Adds one to the integer stored at a key.", DOC_KEY)
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("incrby", 3, WDF, K1, incrby)
        .since("1.0.0")
        .doc(
            O1,
            "Adds an integer to the integer stored at a key.",
            DOC_INCRBY,
        )
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("decr", 2, WDF, K1, decr)
        .since("1.0.0")
        .doc(
            O1,
            "Subtracts one from the integer stored at a key.",
            DOC_KEY,
        )
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("decrby", 3, WDF, K1, decrby)
        .since("1.0.0")
        .doc(
            O1,
            "Subtracts an integer from the integer stored at a key.",
            DOC_DECRBY,
        )
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("incrbyfloat", 3, WDF, K1, incrbyfloat)
        .since("2.6.0")
        .doc(
            O1,
            "Adds a floating point number to the number stored at a key.",
            DOC_INCRBYFLOAT,
        )
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("append", 3, WDF, K1, append)
        .since("2.0.0")
        .doc(
            O1,
            "Appends bytes to the string at a key, creating it when absent.",
            DOC_KEY_VALUE,
        )
        .access(keyflag::RW | keyflag::INSERT),
    spec("strlen", 2, READONLY | FAST, K1, strlen)
        .since("2.2.0")
        .doc(
            O1,
            "Returns the length in bytes of the string at a key.",
            DOC_KEY,
        )
        .access(keyflag::RO),
    spec("getrange", 4, READONLY, K1, getrange)
        .since("2.4.0")
        .doc(
            "O(N) where N is the length of the returned string.",
            "Returns a byte range of the string at a key.",
            DOC_RANGE,
        ),
    spec("setrange", 4, WRITE | DENYOOM, K1, setrange)
        .since("2.2.0")
        .doc(
            "O(1) plus O(M) where M is the length of the value.",
            "Overwrites bytes of the string at a key from an offset, zero-padding as needed.",
            DOC_SETRANGE,
        ),
    spec("substr", 4, READONLY, K1, getrange)
        .since("1.0.0")
        .doc(
            "O(N) where N is the length of the returned string.",
            "Returns a byte range of the string at a key (old name of GETRANGE).",
            DOC_RANGE,
        )
        .deprecated("2.0.0", "`GETRANGE`"),
    spec("lcs", -3, READONLY | MULTI_KEY, K12, lcs)
        .since("7.0.0")
        .doc(
            "O(N*M) where N and M are the lengths of the two strings.",
            "Finds the longest common subsequence of the strings at two keys.",
            DOC_LCS,
        ),
];
