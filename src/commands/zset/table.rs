//! The sorted-set command table: key specs, argument docs and the `CommandSpec` of every Z*
//! command (blocking ones apart, for the event loop).

use super::*;
use crate::commands::spec::{arg, block, multi, oneof, opt, pure, tok, K1, K12, K_BUT_LAST};

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

/// numkeys at argument 1, the keys after it (ZUNION, ZINTER, ZDIFF, ZINTERCARD, ZMPOP).
const K_NUMKEYS1: KeySpec = KeySpec::Custom(keys_numkeys1);
/// A destination at 1, numkeys at 2, the keys after it (Z*STORE, and BZMPOP's timeout at 1).
const K_NUMKEYS2: KeySpec = KeySpec::Custom(keys_numkeys2);

/// Key positions of "numkeys key..." at `at`; no keys when numkeys is invalid, so that the
/// handler itself answers with Redis' error.
fn numkeys_positions(args: Args<'_>, at: usize) -> Vec<usize> {
    let n = match parse_i64(args.get(at)) {
        Some(n) if n >= 1 && (n as u64) < (args.len() - at) as u64 => n as usize,
        _ => return Vec::new(),
    };
    (at + 1..=at + n).collect()
}

fn keys_numkeys1(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(if args.len() > 2 {
        numkeys_positions(args, 1)
    } else {
        Vec::new()
    })
}

fn keys_numkeys2(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    if args.len() < 4 {
        return Ok(Vec::new());
    }
    let mut v = vec![1];
    v.extend(numkeys_positions(args, 2));
    Ok(v)
}

/// Keys of BZMPOP: timeout at 1, numkeys at 2.
pub fn keys_bzmpop(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(if args.len() > 3 {
        numkeys_positions(args, 2)
    } else {
        Vec::new()
    })
}

pub(super) const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: crate::commands::KeyFn,
) -> CommandSpec {
    CommandSpec {
        group: "sorted-set",
        acl: crate::commands::spec::acl::SORTEDSET,
        ..CommandSpec::new(name, arity, flags, keys, Handler::Key(f))
    }
}

const DOC_ZADD: &[ArgDoc] = &[
    arg("key", "key"),
    opt(oneof("condition", &[pure("nx", "NX"), pure("xx", "XX")])),
    opt(oneof("comparison", &[pure("gt", "GT"), pure("lt", "LT")])),
    opt(pure("change", "CH")),
    opt(pure("increment", "INCR")),
    multi(block(
        "score_member",
        &[arg("score", "double"), arg("member", "string")],
    )),
];

const DOC_ZINCRBY: &[ArgDoc] = &[
    arg("key", "key"),
    arg("increment", "integer"),
    arg("member", "string"),
];

const DOC_ZREM: &[ArgDoc] = &[arg("key", "key"), multi(arg("member", "string"))];

const DOC_ZCARD: &[ArgDoc] = &[arg("key", "key")];

const DOC_ZCOUNT: &[ArgDoc] = &[
    arg("key", "key"),
    arg("min", "double"),
    arg("max", "double"),
];

const DOC_ZSCORE: &[ArgDoc] = &[arg("key", "key"), arg("member", "string")];

const DOC_ZMSCORE: &[ArgDoc] = &[arg("key", "key"), multi(arg("member", "string"))];

const DOC_ZRANK: &[ArgDoc] = &[arg("key", "key"), arg("member", "string")];

const DOC_ZREVRANK: &[ArgDoc] = &[arg("key", "key"), arg("member", "string")];

const DOC_ZRANGE: &[ArgDoc] = &[
    arg("key", "key"),
    arg("start", "string"),
    arg("stop", "string"),
    opt(oneof(
        "sortby",
        &[pure("byscore", "BYSCORE"), pure("bylex", "BYLEX")],
    )),
    opt(pure("rev", "REV")),
    opt(tok(
        "LIMIT",
        block(
            "offset_count",
            &[arg("offset", "integer"), arg("count", "integer")],
        ),
    )),
    opt(pure("withscores", "WITHSCORES")),
];

const DOC_ZRANGESTORE: &[ArgDoc] = &[
    arg("dst", "key"),
    arg("src", "key"),
    arg("min", "string"),
    arg("max", "string"),
    opt(oneof(
        "sortby",
        &[pure("byscore", "BYSCORE"), pure("bylex", "BYLEX")],
    )),
    opt(pure("rev", "REV")),
    opt(tok(
        "LIMIT",
        block(
            "offset_count",
            &[arg("offset", "integer"), arg("count", "integer")],
        ),
    )),
];

const DOC_ZREVRANGE: &[ArgDoc] = &[
    arg("key", "key"),
    arg("start", "integer"),
    arg("stop", "integer"),
    opt(pure("withscores", "WITHSCORES")),
];

const DOC_ZRANGEBYSCORE: &[ArgDoc] = &[
    arg("key", "key"),
    arg("min", "double"),
    arg("max", "double"),
    opt(pure("withscores", "WITHSCORES")),
    opt(tok(
        "LIMIT",
        block(
            "offset_count",
            &[arg("offset", "integer"), arg("count", "integer")],
        ),
    )),
];

const DOC_ZREVRANGEBYSCORE: &[ArgDoc] = &[
    arg("key", "key"),
    arg("max", "double"),
    arg("min", "double"),
    opt(pure("withscores", "WITHSCORES")),
    opt(tok(
        "LIMIT",
        block(
            "offset_count",
            &[arg("offset", "integer"), arg("count", "integer")],
        ),
    )),
];

const DOC_ZRANGEBYLEX: &[ArgDoc] = &[
    arg("key", "key"),
    arg("min", "string"),
    arg("max", "string"),
    opt(tok(
        "LIMIT",
        block(
            "offset_count",
            &[arg("offset", "integer"), arg("count", "integer")],
        ),
    )),
];

const DOC_ZREVRANGEBYLEX: &[ArgDoc] = &[
    arg("key", "key"),
    arg("max", "string"),
    arg("min", "string"),
    opt(tok(
        "LIMIT",
        block(
            "offset_count",
            &[arg("offset", "integer"), arg("count", "integer")],
        ),
    )),
];

const DOC_ZLEXCOUNT: &[ArgDoc] = &[
    arg("key", "key"),
    arg("min", "string"),
    arg("max", "string"),
];

const DOC_ZPOPMIN: &[ArgDoc] = &[arg("key", "key"), opt(arg("count", "integer"))];

const DOC_ZPOPMAX: &[ArgDoc] = &[arg("key", "key"), opt(arg("count", "integer"))];

const DOC_ZMPOP: &[ArgDoc] = &[
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
    oneof("where", &[pure("min", "MIN"), pure("max", "MAX")]),
    opt(tok("COUNT", arg("count", "integer"))),
];

const DOC_ZREMRANGEBYRANK: &[ArgDoc] = &[
    arg("key", "key"),
    arg("start", "integer"),
    arg("stop", "integer"),
];

const DOC_ZREMRANGEBYSCORE: &[ArgDoc] = &[
    arg("key", "key"),
    arg("min", "double"),
    arg("max", "double"),
];

const DOC_ZREMRANGEBYLEX: &[ArgDoc] = &[
    arg("key", "key"),
    arg("min", "string"),
    arg("max", "string"),
];

const DOC_ZUNION: &[ArgDoc] = &[
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
    opt(multi(tok("WEIGHTS", arg("weight", "integer")))),
    opt(tok(
        "AGGREGATE",
        oneof(
            "aggregate",
            &[pure("sum", "SUM"), pure("min", "MIN"), pure("max", "MAX")],
        ),
    )),
    opt(pure("withscores", "WITHSCORES")),
];

const DOC_ZINTER: &[ArgDoc] = &[
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
    opt(multi(tok("WEIGHTS", arg("weight", "integer")))),
    opt(tok(
        "AGGREGATE",
        oneof(
            "aggregate",
            &[pure("sum", "SUM"), pure("min", "MIN"), pure("max", "MAX")],
        ),
    )),
    opt(pure("withscores", "WITHSCORES")),
];

const DOC_ZDIFF: &[ArgDoc] = &[
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
    opt(pure("withscores", "WITHSCORES")),
];

const DOC_ZUNIONSTORE: &[ArgDoc] = &[
    arg("destination", "key"),
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
    opt(multi(tok("WEIGHTS", arg("weight", "integer")))),
    opt(tok(
        "AGGREGATE",
        oneof(
            "aggregate",
            &[pure("sum", "SUM"), pure("min", "MIN"), pure("max", "MAX")],
        ),
    )),
];

const DOC_ZINTERSTORE: &[ArgDoc] = &[
    arg("destination", "key"),
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
    opt(multi(tok("WEIGHTS", arg("weight", "integer")))),
    opt(tok(
        "AGGREGATE",
        oneof(
            "aggregate",
            &[pure("sum", "SUM"), pure("min", "MIN"), pure("max", "MAX")],
        ),
    )),
];

const DOC_ZDIFFSTORE: &[ArgDoc] = &[
    arg("destination", "key"),
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
];

const DOC_ZINTERCARD: &[ArgDoc] = &[
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
    opt(tok("LIMIT", arg("limit", "integer"))),
];

const DOC_ZRANDMEMBER: &[ArgDoc] = &[
    arg("key", "key"),
    opt(block(
        "options",
        &[
            arg("count", "integer"),
            opt(pure("withscores", "WITHSCORES")),
        ],
    )),
];

const DOC_ZSCAN: &[ArgDoc] = &[
    arg("key", "key"),
    arg("cursor", "integer"),
    opt(tok("MATCH", arg("pattern", "pattern"))),
    opt(tok("COUNT", arg("count", "integer"))),
];

const DOC_BZPOPMIN: &[ArgDoc] = &[multi(arg("key", "key")), arg("timeout", "double")];

const DOC_BZPOPMAX: &[ArgDoc] = &[multi(arg("key", "key")), arg("timeout", "double")];

const DOC_BZMPOP: &[ArgDoc] = &[
    arg("timeout", "double"),
    arg("numkeys", "integer"),
    multi(arg("key", "key")),
    oneof("where", &[pure("min", "MIN"), pure("max", "MAX")]),
    opt(tok("COUNT", arg("count", "integer"))),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        since: "1.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in \
             the sorted set.",
        summary: "Adds members with scores, or updates their scores; creates the key when absent.",
        args: DOC_ZADD,
        ..spec("zadd", -4, WRITE | DENYOOM | FAST, K1, zadd)
    },
    CommandSpec {
        since: "1.2.0",
        complexity: "O(log(N)) where N is the number of elements in the sorted set.",
        summary: "Adds an increment to one member's score.",
        args: DOC_ZINCRBY,
        ..spec("zincrby", 4, WRITE | DENYOOM | FAST, K1, zincrby)
    },
    CommandSpec {
        since: "1.2.0",
        complexity: "O(M*log(N)) with N being the number of elements in the sorted set and \
             M the number of elements to be removed.",
        summary: "Removes members from a sorted set.",
        args: DOC_ZREM,
        ..spec("zrem", -3, WRITE | FAST, K1, zrem)
    },
    CommandSpec {
        since: "1.2.0",
        complexity: "O(1)",
        summary: "Counts the members of a sorted set.",
        args: DOC_ZCARD,
        ..spec("zcard", 2, READONLY | FAST, K1, zcard)
    },
    CommandSpec {
        since: "2.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Counts the members whose score lies in a range.",
        args: DOC_ZCOUNT,
        ..spec("zcount", 4, READONLY | FAST, K1, zcount)
    },
    CommandSpec {
        since: "1.2.0",
        complexity: "O(1)",
        summary: "Returns one member's score.",
        args: DOC_ZSCORE,
        ..spec("zscore", 3, READONLY | FAST, K1, zscore)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: "O(N) where N is the number of members being requested.",
        summary: "Returns the scores of several members.",
        args: DOC_ZMSCORE,
        ..spec("zmscore", -3, READONLY | FAST, K1, zmscore)
    },
    CommandSpec {
        since: "2.0.0",
        complexity: "O(log(N))",
        summary: "Returns a member's position counted from the lowest score.",
        args: DOC_ZRANK,
        ..spec("zrank", 3, READONLY | FAST, K1, zrank)
    },
    CommandSpec {
        since: "2.0.0",
        complexity: "O(log(N))",
        summary: "Returns a member's position counted from the highest score.",
        args: DOC_ZREVRANK,
        ..spec("zrevrank", 3, READONLY | FAST, K1, zrevrank)
    },
    CommandSpec {
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements returned.",
        summary: "Returns members by position, score or lexical range, in either direction.",
        args: DOC_ZRANGE,
        ..spec("zrange", -4, READONLY, K1, zrange)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements stored into the destination key.",
        summary: "Stores a range of a sorted set at another key.",
        args: DOC_ZRANGESTORE,
        ..spec(
            "zrangestore",
            -5,
            WRITE | DENYOOM | MULTI_KEY,
            K12,
            zrangestore,
        )
    },
    CommandSpec {
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements returned.",
        summary: "Returns members by position, highest score first.",
        args: DOC_ZREVRANGE,
        ..spec("zrevrange", -4, READONLY, K1, zrevrange)
    },
    CommandSpec {
        since: "1.0.5",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns members whose score lies in a range, lowest first.",
        args: DOC_ZRANGEBYSCORE,
        ..spec("zrangebyscore", -4, READONLY, K1, zrangebyscore)
    },
    CommandSpec {
        since: "2.2.0",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns members whose score lies in a range, highest first.",
        args: DOC_ZREVRANGEBYSCORE,
        ..spec("zrevrangebyscore", -4, READONLY, K1, zrevrangebyscore)
    },
    CommandSpec {
        since: "2.8.9",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns members in a lexical range, for sets with equal scores.",
        args: DOC_ZRANGEBYLEX,
        ..spec("zrangebylex", -4, READONLY, K1, zrangebylex)
    },
    CommandSpec {
        since: "2.8.9",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns members in a lexical range in reverse order.",
        args: DOC_ZREVRANGEBYLEX,
        ..spec("zrevrangebylex", -4, READONLY, K1, zrevrangebylex)
    },
    CommandSpec {
        since: "2.8.9",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Counts the members in a lexical range.",
        args: DOC_ZLEXCOUNT,
        ..spec("zlexcount", 4, READONLY | FAST, K1, zlexcount)
    },
    CommandSpec {
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and \
             M being the number of elements popped.",
        summary: "Removes and returns the members with the lowest scores.",
        args: DOC_ZPOPMIN,
        ..spec("zpopmin", -2, WRITE | FAST, K1, zpopmin)
    },
    CommandSpec {
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and \
             M being the number of elements popped.",
        summary: "Removes and returns the members with the highest scores.",
        args: DOC_ZPOPMAX,
        ..spec("zpopmax", -2, WRITE | FAST, K1, zpopmax)
    },
    CommandSpec {
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the \
             number of elements in the sorted set, and M being the number of \
             elements popped.",
        summary: "Pops members from the first non-empty sorted set among several keys.",
        args: DOC_ZMPOP,
        ..spec("zmpop", -4, WRITE | MULTI_KEY, K_NUMKEYS1, zmpop)
    },
    CommandSpec {
        since: "2.0.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements removed by the operation.",
        summary: "Removes the members in a range of positions.",
        args: DOC_ZREMRANGEBYRANK,
        ..spec("zremrangebyrank", 4, WRITE, K1, zremrangebyrank)
    },
    CommandSpec {
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements removed by the operation.",
        summary: "Removes the members whose score lies in a range.",
        args: DOC_ZREMRANGEBYSCORE,
        ..spec("zremrangebyscore", 4, WRITE, K1, zremrangebyscore)
    },
    CommandSpec {
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements removed by the operation.",
        summary: "Removes the members in a lexical range.",
        args: DOC_ZREMRANGEBYLEX,
        ..spec("zremrangebylex", 4, WRITE, K1, zremrangebylex)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted \
             sets, and M being the number of elements in the resulting sorted set.",
        summary: "Returns the union of sorted sets.",
        args: DOC_ZUNION,
        ..spec("zunion", -3, READONLY | MULTI_KEY, K_NUMKEYS1, zunion)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted \
             set, K being the number of input sorted sets and M being the number of \
             elements in the resulting sorted set.",
        summary: "Returns the intersection of sorted sets.",
        args: DOC_ZINTER,
        ..spec("zinter", -3, READONLY | MULTI_KEY, K_NUMKEYS1, zinter)
    },
    CommandSpec {
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements \
             in all the sets, N is the size of the first set, and K is the size of \
             the result set.",
        summary: "Returns the members of the first sorted set missing from the others.",
        args: DOC_ZDIFF,
        ..spec("zdiff", -3, READONLY | MULTI_KEY, K_NUMKEYS1, zdiff)
    },
    CommandSpec {
        since: "2.0.0",
        complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted \
             sets, and M being the number of elements in the resulting sorted set.",
        summary: "Stores the union of sorted sets at a key.",
        args: DOC_ZUNIONSTORE,
        ..spec(
            "zunionstore",
            -4,
            WRITE | DENYOOM | MULTI_KEY,
            K_NUMKEYS2,
            zunionstore,
        )
    },
    CommandSpec {
        since: "2.0.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted \
             set, K being the number of input sorted sets and M being the number of \
             elements in the resulting sorted set.",
        summary: "Stores the intersection of sorted sets at a key.",
        args: DOC_ZINTERSTORE,
        ..spec(
            "zinterstore",
            -4,
            WRITE | DENYOOM | MULTI_KEY,
            K_NUMKEYS2,
            zinterstore,
        )
    },
    CommandSpec {
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements \
             in all the sets, N is the size of the first set, and K is the size of \
             the result set.",
        summary: "Stores the difference of sorted sets at a key.",
        args: DOC_ZDIFFSTORE,
        ..spec(
            "zdiffstore",
            -4,
            WRITE | DENYOOM | MULTI_KEY,
            K_NUMKEYS2,
            zdiffstore,
        )
    },
    CommandSpec {
        since: "7.0.0",
        complexity: "O(N*K) worst case with N being the smallest input sorted set, K being \
             the number of input sorted sets.",
        summary: "Counts the members of the intersection of sorted sets.",
        args: DOC_ZINTERCARD,
        ..spec(
            "zintercard",
            -3,
            READONLY | MULTI_KEY,
            K_NUMKEYS1,
            zintercard,
        )
    },
    CommandSpec {
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements returned",
        summary: "Returns random members, distinct or with repeats.",
        args: DOC_ZRANDMEMBER,
        ..spec("zrandmember", -2, READONLY, K1, zrandmember)
    },
    CommandSpec {
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough \
             command calls for the cursor to return back to 0. N is the number of \
             elements inside the collection..",
        summary: "Iterates over members and scores with a cursor.",
        args: DOC_ZSCAN,
        ..spec("zscan", -3, READONLY, K1, zscan)
    },
];

/// Commands with a blocking form, not registered yet: the handlers here never block (they
/// answer as Redis does inside MULTI when nothing is ready). The event loop wires the real
/// blocking through `bzpop_try` / `bzmpop_try`, then adds these to the table.
pub static BLOCKING_COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Pops the member with the lowest score from the first non-empty key, \
                  waiting when all are empty.",
        args: DOC_BZPOPMIN,
        ..spec(
            "bzpopmin",
            -3,
            WRITE | NOSCRIPT | FAST | MULTI_KEY,
            K_BUT_LAST,
            bzpopmin,
        )
    },
    CommandSpec {
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Pops the member with the highest score from the first non-empty key, \
                  waiting when all are empty.",
        args: DOC_BZPOPMAX,
        ..spec(
            "bzpopmax",
            -3,
            WRITE | NOSCRIPT | FAST | MULTI_KEY,
            K_BUT_LAST,
            bzpopmax,
        )
    },
    CommandSpec {
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the \
                     number of elements in the sorted set, and M being the number of \
                     elements popped.",
        summary: "Pops members from the first non-empty sorted set, waiting when all are \
                  empty.",
        args: DOC_BZMPOP,
        ..spec(
            "bzmpop",
            -5,
            WRITE | MULTI_KEY,
            KeySpec::Custom(keys_bzmpop),
            bzmpop,
        )
    },
];

/// Complexity of the range queries: N members in the set, M returned.
const RANGE_COMPLEXITY: &str = "O(log(N)+M), N the size of the sorted set, M the members returned";
