//! The list command table: key specs, argument docs and the `CommandSpec` of every L* command
//! and of the blocking pops.

use super::*;
use crate::commands::spec::{arg, multi, oneof, opt, pure, tok, K1, K12, K_BUT_LAST};

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
const DOC_POP: &[ArgDoc] = &[A_KEY, opt(arg("count", "integer"))];
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
    CommandSpec {
        group: "list",
        acl: crate::commands::spec::acl::LIST,
        ..CommandSpec::new(name, arity, flags, keys, Handler::Key(f))
    }
}

const O1: &str = "O(1)";
pub(super) const WDF: u32 = WRITE | DENYOOM | FAST;
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
