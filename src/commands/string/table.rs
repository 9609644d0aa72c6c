//! The string command table: key specs, argument docs and the `CommandSpec` of every string
//! command.

use super::*;
use crate::commands::spec::{arg, block, multi, oneof, opt, pure, tok, K1, K12, K_ALL, K_PAIRS};

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
    opt(oneof("condition", &[pure("nx", "NX"), pure("xx", "XX")])),
    opt(pure("get", "GET")),
    opt(oneof(
        "expiration",
        &[
            tok("EX", arg("seconds", "integer")),
            tok("PX", arg("milliseconds", "integer")),
            tok("EXAT", arg("unix-time-seconds", "unix-time")),
            tok("PXAT", arg("unix-time-milliseconds", "unix-time")),
            pure("keepttl", "KEEPTTL"),
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
    CommandSpec {
        group: "string",
        acl: crate::commands::spec::acl::STRING,
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
        ..spec("lcs", -3, READONLY | MULTI_KEY, K12, lcs)
    },
];
