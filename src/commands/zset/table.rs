//! The sorted-set command table: key specs, argument docs and the `CommandSpec` of every Z*
//! command (blocking ones apart, for the event loop).

use super::*;

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const K1: KeySpec = KeySpec::Range {
    first: 1,
    last: 1,
    step: 1,
};
const K_TWO: KeySpec = KeySpec::Range {
    first: 1,
    last: 2,
    step: 1,
};
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

/// One COMMAND DOCS argument: `f` bit 1 optional, bit 2 multiple.
pub(super) const fn d(
    name: &'static str,
    kind: &'static str,
    token: &'static str,
    f: u8,
    args: &'static [ArgDoc],
) -> ArgDoc {
    ArgDoc {
        name,
        kind,
        token,
        optional: f & 1 != 0,
        multiple: f & 2 != 0,
        args,
    }
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
        ..CommandSpec::new(name, arity, flags, keys, Handler::Key(f))
    }
}

const DOC_ZADD: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d(
        "condition",
        "oneof",
        "",
        1,
        &[
            d("nx", "pure-token", "NX", 0, &[]),
            d("xx", "pure-token", "XX", 0, &[]),
        ],
    ),
    d(
        "comparison",
        "oneof",
        "",
        1,
        &[
            d("gt", "pure-token", "GT", 0, &[]),
            d("lt", "pure-token", "LT", 0, &[]),
        ],
    ),
    d("change", "pure-token", "CH", 1, &[]),
    d("increment", "pure-token", "INCR", 1, &[]),
    d(
        "score_member",
        "block",
        "",
        2,
        &[
            d("score", "double", "", 0, &[]),
            d("member", "string", "", 0, &[]),
        ],
    ),
];

const DOC_ZINCRBY: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("increment", "integer", "", 0, &[]),
    d("member", "string", "", 0, &[]),
];

const DOC_ZREM: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("member", "string", "", 2, &[]),
];

const DOC_ZCARD: &[ArgDoc] = &[d("key", "key", "", 0, &[])];

const DOC_ZCOUNT: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("min", "double", "", 0, &[]),
    d("max", "double", "", 0, &[]),
];

const DOC_ZSCORE: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("member", "string", "", 0, &[]),
];

const DOC_ZMSCORE: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("member", "string", "", 2, &[]),
];

const DOC_ZRANK: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("member", "string", "", 0, &[]),
];

const DOC_ZREVRANK: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("member", "string", "", 0, &[]),
];

const DOC_ZRANGE: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("start", "string", "", 0, &[]),
    d("stop", "string", "", 0, &[]),
    d(
        "sortby",
        "oneof",
        "",
        1,
        &[
            d("byscore", "pure-token", "BYSCORE", 0, &[]),
            d("bylex", "pure-token", "BYLEX", 0, &[]),
        ],
    ),
    d("rev", "pure-token", "REV", 1, &[]),
    d(
        "offset_count",
        "block",
        "LIMIT",
        1,
        &[
            d("offset", "integer", "", 0, &[]),
            d("count", "integer", "", 0, &[]),
        ],
    ),
    d("withscores", "pure-token", "WITHSCORES", 1, &[]),
];

const DOC_ZRANGESTORE: &[ArgDoc] = &[
    d("dst", "key", "", 0, &[]),
    d("src", "key", "", 0, &[]),
    d("min", "string", "", 0, &[]),
    d("max", "string", "", 0, &[]),
    d(
        "sortby",
        "oneof",
        "",
        1,
        &[
            d("byscore", "pure-token", "BYSCORE", 0, &[]),
            d("bylex", "pure-token", "BYLEX", 0, &[]),
        ],
    ),
    d("rev", "pure-token", "REV", 1, &[]),
    d(
        "offset_count",
        "block",
        "LIMIT",
        1,
        &[
            d("offset", "integer", "", 0, &[]),
            d("count", "integer", "", 0, &[]),
        ],
    ),
];

const DOC_ZREVRANGE: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("start", "integer", "", 0, &[]),
    d("stop", "integer", "", 0, &[]),
    d("withscores", "pure-token", "WITHSCORES", 1, &[]),
];

const DOC_ZRANGEBYSCORE: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("min", "double", "", 0, &[]),
    d("max", "double", "", 0, &[]),
    d("withscores", "pure-token", "WITHSCORES", 1, &[]),
    d(
        "offset_count",
        "block",
        "LIMIT",
        1,
        &[
            d("offset", "integer", "", 0, &[]),
            d("count", "integer", "", 0, &[]),
        ],
    ),
];

const DOC_ZREVRANGEBYSCORE: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("max", "double", "", 0, &[]),
    d("min", "double", "", 0, &[]),
    d("withscores", "pure-token", "WITHSCORES", 1, &[]),
    d(
        "offset_count",
        "block",
        "LIMIT",
        1,
        &[
            d("offset", "integer", "", 0, &[]),
            d("count", "integer", "", 0, &[]),
        ],
    ),
];

const DOC_ZRANGEBYLEX: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("min", "string", "", 0, &[]),
    d("max", "string", "", 0, &[]),
    d(
        "offset_count",
        "block",
        "LIMIT",
        1,
        &[
            d("offset", "integer", "", 0, &[]),
            d("count", "integer", "", 0, &[]),
        ],
    ),
];

const DOC_ZREVRANGEBYLEX: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("max", "string", "", 0, &[]),
    d("min", "string", "", 0, &[]),
    d(
        "offset_count",
        "block",
        "LIMIT",
        1,
        &[
            d("offset", "integer", "", 0, &[]),
            d("count", "integer", "", 0, &[]),
        ],
    ),
];

const DOC_ZLEXCOUNT: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("min", "string", "", 0, &[]),
    d("max", "string", "", 0, &[]),
];

const DOC_ZPOPMIN: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("count", "integer", "", 1, &[]),
];

const DOC_ZPOPMAX: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("count", "integer", "", 1, &[]),
];

const DOC_ZMPOP: &[ArgDoc] = &[
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
    d(
        "where",
        "oneof",
        "",
        0,
        &[
            d("min", "pure-token", "MIN", 0, &[]),
            d("max", "pure-token", "MAX", 0, &[]),
        ],
    ),
    d("count", "integer", "COUNT", 1, &[]),
];

const DOC_ZREMRANGEBYRANK: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("start", "integer", "", 0, &[]),
    d("stop", "integer", "", 0, &[]),
];

const DOC_ZREMRANGEBYSCORE: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("min", "double", "", 0, &[]),
    d("max", "double", "", 0, &[]),
];

const DOC_ZREMRANGEBYLEX: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("min", "string", "", 0, &[]),
    d("max", "string", "", 0, &[]),
];

const DOC_ZUNION: &[ArgDoc] = &[
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
    d("weight", "integer", "WEIGHTS", 3, &[]),
    d(
        "aggregate",
        "oneof",
        "AGGREGATE",
        1,
        &[
            d("sum", "pure-token", "SUM", 0, &[]),
            d("min", "pure-token", "MIN", 0, &[]),
            d("max", "pure-token", "MAX", 0, &[]),
        ],
    ),
    d("withscores", "pure-token", "WITHSCORES", 1, &[]),
];

const DOC_ZINTER: &[ArgDoc] = &[
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
    d("weight", "integer", "WEIGHTS", 3, &[]),
    d(
        "aggregate",
        "oneof",
        "AGGREGATE",
        1,
        &[
            d("sum", "pure-token", "SUM", 0, &[]),
            d("min", "pure-token", "MIN", 0, &[]),
            d("max", "pure-token", "MAX", 0, &[]),
        ],
    ),
    d("withscores", "pure-token", "WITHSCORES", 1, &[]),
];

const DOC_ZDIFF: &[ArgDoc] = &[
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
    d("withscores", "pure-token", "WITHSCORES", 1, &[]),
];

const DOC_ZUNIONSTORE: &[ArgDoc] = &[
    d("destination", "key", "", 0, &[]),
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
    d("weight", "integer", "WEIGHTS", 3, &[]),
    d(
        "aggregate",
        "oneof",
        "AGGREGATE",
        1,
        &[
            d("sum", "pure-token", "SUM", 0, &[]),
            d("min", "pure-token", "MIN", 0, &[]),
            d("max", "pure-token", "MAX", 0, &[]),
        ],
    ),
];

const DOC_ZINTERSTORE: &[ArgDoc] = &[
    d("destination", "key", "", 0, &[]),
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
    d("weight", "integer", "WEIGHTS", 3, &[]),
    d(
        "aggregate",
        "oneof",
        "AGGREGATE",
        1,
        &[
            d("sum", "pure-token", "SUM", 0, &[]),
            d("min", "pure-token", "MIN", 0, &[]),
            d("max", "pure-token", "MAX", 0, &[]),
        ],
    ),
];

const DOC_ZDIFFSTORE: &[ArgDoc] = &[
    d("destination", "key", "", 0, &[]),
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
];

const DOC_ZINTERCARD: &[ArgDoc] = &[
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
    d("limit", "integer", "LIMIT", 1, &[]),
];

const DOC_ZRANDMEMBER: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d(
        "options",
        "block",
        "",
        1,
        &[
            d("count", "integer", "", 0, &[]),
            d("withscores", "pure-token", "WITHSCORES", 1, &[]),
        ],
    ),
];

const DOC_ZSCAN: &[ArgDoc] = &[
    d("key", "key", "", 0, &[]),
    d("cursor", "integer", "", 0, &[]),
    d("pattern", "pattern", "MATCH", 1, &[]),
    d("count", "integer", "COUNT", 1, &[]),
];

const DOC_BZPOPMIN: &[ArgDoc] = &[
    d("key", "key", "", 2, &[]),
    d("timeout", "double", "", 0, &[]),
];

const DOC_BZPOPMAX: &[ArgDoc] = &[
    d("key", "key", "", 2, &[]),
    d("timeout", "double", "", 0, &[]),
];

const DOC_BZMPOP: &[ArgDoc] = &[
    d("timeout", "double", "", 0, &[]),
    d("numkeys", "integer", "", 0, &[]),
    d("key", "key", "", 2, &[]),
    d(
        "where",
        "oneof",
        "",
        0,
        &[
            d("min", "pure-token", "MIN", 0, &[]),
            d("max", "pure-token", "MAX", 0, &[]),
        ],
    ),
    d("count", "integer", "COUNT", 1, &[]),
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
            K_TWO,
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
            K_BLOCK,
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
            K_BLOCK,
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

const K_BLOCK: KeySpec = KeySpec::Range {
    first: 1,
    last: -2,
    step: 1,
};
