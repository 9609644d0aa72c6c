//! The list command table: key specs, argument docs and the `CommandSpec` of every L* command
//! and of the blocking pops.

use super::*;
use crate::commands::spec::{arg, multi, oneof, opt, pure, since, tok, K1, K12, K_BUT_LAST};
use crate::commands::spec::{key_numkeys, key_range};
use crate::commands::spec::{keyflag, TIMEOUT_AS_DOUBLE};

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const A_KEY: ArgDoc = arg("key", "key");
const A_SRC: ArgDoc = arg("source", "key");
const A_DST: ArgDoc = arg("destination", "key");
const A_ELEMENT: ArgDoc = arg("element", "string");
const A_TIMEOUT: ArgDoc = arg("timeout", "double");
const LEFT_RIGHT: &[ArgDoc] = &[pure("left", "LEFT"), pure("right", "RIGHT")];
const A_COUNT_OPT: ArgDoc = opt(tok("COUNT", arg("count", "integer")));

const DOC_KEY: &[ArgDoc] = &[A_KEY];
const DOC_PUSH: &[ArgDoc] = &[A_KEY, multi(A_ELEMENT)];
const DOC_POP: &[ArgDoc] = &[A_KEY, since("6.2.0", opt(arg("count", "integer")))];
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
    opt(tok("RANK", arg("rank", "integer"))),
    opt(tok("COUNT", arg("num-matches", "integer"))),
    opt(tok("MAXLEN", arg("len", "integer"))),
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
    multi(A_KEY),
    oneof("where", LEFT_RIGHT),
    A_COUNT_OPT,
];
const DOC_BPOP: &[ArgDoc] = &[multi(A_KEY), A_TIMEOUT];
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
    multi(A_KEY),
    oneof("where", LEFT_RIGHT),
    A_COUNT_OPT,
];

/// A list-group command; the docs fields are filled at each entry.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: crate::commands::KeyFn,
) -> CommandSpec {
    CommandSpec::keyed(name, arity, flags, keys, f).group("list", crate::commands::spec::acl::LIST)
}

const O1: &str = "O(1)";
pub(super) const WDF: u32 = WRITE | DENYOOM | FAST;
const C_PUSH: &str = "O(1) per element pushed, O(N) for N elements.";

pub static COMMANDS: &[CommandSpec] = &[
    spec("lpush", -3, WDF, K1, lpush)
        .since("1.0.0")
        .doc(
            C_PUSH,
            "Adds elements at the head of a list, creating it when absent.",
            DOC_PUSH,
        )
        .access(keyflag::RW | keyflag::INSERT)
        .history(&[("2.4.0", "Accepts multiple `element` arguments.")]),
    spec("rpush", -3, WDF, K1, rpush)
        .since("1.0.0")
        .doc(
            C_PUSH,
            "Adds elements at the tail of a list, creating it when absent.",
            DOC_PUSH,
        )
        .access(keyflag::RW | keyflag::INSERT)
        .history(&[("2.4.0", "Accepts multiple `element` arguments.")]),
    spec("lpushx", -3, WDF, K1, lpushx)
        .since("2.2.0")
        .doc(
            C_PUSH,
            "Adds elements at the head of a list only when the list exists.",
            DOC_PUSH,
        )
        .access(keyflag::RW | keyflag::INSERT)
        .history(&[("4.0.0", "Accepts multiple `element` arguments.")]),
    spec("rpushx", -3, WDF, K1, rpushx)
        .since("2.2.0")
        .doc(
            C_PUSH,
            "Adds elements at the tail of a list only when the list exists.",
            DOC_PUSH,
        )
        .access(keyflag::RW | keyflag::INSERT)
        .history(&[("4.0.0", "Accepts multiple `element` arguments.")]),
    spec("lpop", -2, WRITE | FAST, K1, lpop)
        .since("1.0.0")
        .doc(
            "O(N) where N is the number of elements popped.",
            "Removes and returns elements from the head of a list.",
            DOC_POP,
        )
        .access(keyflag::RW_ACCESS_DELETE)
        .history(&[("6.2.0", "Added the `count` argument.")]),
    spec("rpop", -2, WRITE | FAST, K1, rpop)
        .since("1.0.0")
        .doc(
            "O(N) where N is the number of elements popped.",
            "Removes and returns elements from the tail of a list.",
            DOC_POP,
        )
        .access(keyflag::RW_ACCESS_DELETE)
        .history(&[("6.2.0", "Added the `count` argument.")]),
    spec("llen", 2, READONLY | FAST, K1, llen)
        .since("1.0.0")
        .doc(O1, "Returns the number of elements of a list.", DOC_KEY)
        .access(keyflag::RO),
    spec("lrange", 4, READONLY, K1, lrange).since("1.0.0").doc(
        "O(S+N): S to reach the start offset, N elements returned.",
        "Returns the elements of a list between two indexes.",
        DOC_RANGE,
    ),
    spec("lindex", 3, READONLY, K1, lindex).since("1.0.0").doc(
        "O(N) in the distance to the nearer end; O(1) for either end.",
        "Returns the element of a list at an index.",
        DOC_LINDEX,
    ),
    spec("lset", 4, WRITE | DENYOOM, K1, lset)
        .since("1.0.0")
        .doc(
            "O(N) in the distance to the nearer end; O(1) for either end.",
            "Replaces the element of a list at an index.",
            DOC_LSET,
        ),
    spec("linsert", 5, WRITE | DENYOOM, K1, linsert)
        .since("2.2.0")
        .doc(
            "O(N) where N is the number of elements scanned to find the pivot.",
            "Inserts an element just before or after a pivot element of a list.",
            DOC_LINSERT,
        )
        .access(keyflag::RW | keyflag::INSERT),
    spec("lrem", 4, WRITE, K1, lrem)
        .since("1.0.0")
        .doc(
            "O(N+M): N elements scanned, M elements removed.",
            "Removes elements equal to a value from a list.",
            DOC_LREM,
        )
        .access(keyflag::RW | keyflag::DELETE),
    spec("ltrim", 4, WRITE, K1, ltrim)
        .since("1.0.0")
        .doc(
            "O(N) where N is the number of elements removed.",
            "Keeps only the elements of a list between two indexes.",
            DOC_RANGE,
        )
        .access(keyflag::RW | keyflag::DELETE),
    spec("lpos", -3, READONLY, K1, lpos).since("6.0.6").doc(
        "O(N) in the elements scanned; MAXLEN bounds the scan.",
        "Returns the indexes of the elements of a list equal to a value.",
        DOC_LPOS,
    ),
    spec("lmove", 5, WRITE | DENYOOM | MULTI_KEY, K12, lmove)
        .key_specs(&[
            key_range(1, 0, keyflag::RW_ACCESS_DELETE),
            key_range(2, 0, keyflag::RW | keyflag::INSERT),
        ])
        .since("6.2.0")
        .doc(
            O1,
            "Pops an element from one end of a list and pushes it to an end of another.",
            DOC_LMOVE,
        ),
    spec("rpoplpush", 3, WRITE | DENYOOM | MULTI_KEY, K12, rpoplpush)
        .key_specs(&[
            key_range(1, 0, keyflag::RW_ACCESS_DELETE),
            key_range(2, 0, keyflag::RW | keyflag::INSERT),
        ])
        .since("1.2.0")
        .doc(
            O1,
            "Pops the tail of a list and pushes it at the head of another (see LMOVE).",
            DOC_RPOPLPUSH,
        )
        .deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
    spec(
        "lmpop",
        -4,
        WRITE | MULTI_KEY,
        KeySpec::Custom(lmpop_keys),
        lmpop,
    )
    .key_specs(&[key_numkeys(1, keyflag::RW_ACCESS_DELETE)])
    .since("7.0.0")
    .doc(
        "O(N+M): N keys given, M elements popped.",
        "Pops elements from the first non-empty list among several keys.",
        DOC_LMPOP,
    ),
];

/// The blocking pops, not registered yet: the event loop must first learn to park clients
/// (see `try_blpop` and friends). Until then these handlers answer as Redis does for a
/// client that may not block (inside MULTI): the element when one is there, else a null.
/// Redis also flags them "blocking" (and all but BLMPOP "noscript"), a flag the table
/// does not have yet.
pub static BLOCKING_COMMANDS: &[CommandSpec] = &[
    spec("blpop", -3, WRITE | NOSCRIPT, K_BUT_LAST, blpop_now)
        .since("2.0.0")
        .doc(
            "O(N) where N is the number of keys given.",
            "Pops the head of the first non-empty list, waiting for one if needed.",
            DOC_BPOP,
        )
        .access(keyflag::RW_ACCESS_DELETE)
        .blocking()
        .history(TIMEOUT_AS_DOUBLE),
    spec("brpop", -3, WRITE | NOSCRIPT, K_BUT_LAST, brpop_now)
        .since("2.0.0")
        .doc(
            "O(N) where N is the number of keys given.",
            "Pops the tail of the first non-empty list, waiting for one if needed.",
            DOC_BPOP,
        )
        .access(keyflag::RW_ACCESS_DELETE)
        .blocking()
        .history(TIMEOUT_AS_DOUBLE),
    spec(
        "blmove",
        6,
        WRITE | DENYOOM | NOSCRIPT | MULTI_KEY,
        K12,
        blmove_now,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::RW_ACCESS_DELETE),
        key_range(2, 0, keyflag::RW | keyflag::INSERT),
    ])
    .since("6.2.0")
    .doc(
        O1,
        "LMOVE that waits for the source list to get an element.",
        DOC_BLMOVE,
    )
    .blocking(),
    spec(
        "brpoplpush",
        4,
        WRITE | DENYOOM | NOSCRIPT | MULTI_KEY,
        K12,
        brpoplpush_now,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::RW_ACCESS_DELETE),
        key_range(2, 0, keyflag::RW | keyflag::INSERT),
    ])
    .since("2.2.0")
    .doc(
        O1,
        "RPOPLPUSH that waits for the source list to get an element.",
        DOC_BRPOPLPUSH,
    )
    .blocking()
    .history(TIMEOUT_AS_DOUBLE)
    .deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
    spec(
        "blmpop",
        -5,
        WRITE | MULTI_KEY,
        KeySpec::Custom(blmpop_keys),
        blmpop_now,
    )
    .key_specs(&[key_numkeys(2, keyflag::RW_ACCESS_DELETE)])
    .since("7.0.0")
    .doc(
        "O(N+M): N keys given, M elements popped.",
        "LMPOP that waits for one of the lists to get an element.",
        DOC_BLMPOP,
    )
    .blocking(),
];
