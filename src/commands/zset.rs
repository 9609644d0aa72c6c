//! Sorted-set commands (Redis 7.0 semantics, replies and error texts): ZADD and friends,
//! ranges by rank/score/lex, pops, set algebra, random members, ZSCAN, and the non-blocking
//! "try" halves of BZPOPMIN/BZPOPMAX/BZMPOP for the event loop to wire.
//! Handlers reach every key through `Exec::db`, so multi-key commands work across shards.

use super::{flags::*, parse_cursor, ArgDoc, CmdResult, CommandSpec, Exec, Handler, KeySpec};
use crate::resp::parse::parse_i64;
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::value::Value;
use crate::types::zset::{cmp_key, Entry, Limits, ZSetValue};
use hashbrown::HashMap;
use std::cell::Cell;

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
const fn d(
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

const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: super::KeyFn,
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

// ---------------------------------------------------------------------------------------------
// Shared helpers: lookups, limits, number parsing, replies
// ---------------------------------------------------------------------------------------------

/// Runs `f` with the keyspace of `key` and the reply writer at the same time (the reply buffer
/// is moved out of `ex` for the call, because `Exec::db` borrows all of `ex`). `f` returns its
/// error before writing any reply bytes.
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

/// The sorted set at `key` for reading; None when absent, WRONGTYPE for other values.
fn zread<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Result<Option<&'d ZSetValue>, ReplyError> {
    match db.lookup_read(key, now_ms) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(ReplyError::WrongType),
        },
    }
}

/// An input of the set algebra (ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD): a
/// sorted set, or a plain set read as members with score 1 (as Redis does).
fn zinput<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<std::borrow::Cow<'d, ZSetValue>>, ReplyError> {
    match db.lookup_read(key, now_ms) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(std::borrow::Cow::Borrowed(z))),
            Value::Set(set) => {
                let mut v: Vec<Entry> = set
                    .members()
                    .into_iter()
                    .map(|m| Entry {
                        score: 1.0,
                        member: m.into_boxed_slice(),
                    })
                    .collect();
                v.sort_by(|a, b| a.member.cmp(&b.member));
                let lim = Limits {
                    entries_max: usize::MAX,
                    value_max_bytes: usize::MAX,
                };
                Ok(Some(std::borrow::Cow::Owned(ZSetValue::from_sorted(
                    v, lim,
                ))))
            }
            _ => Err(ReplyError::WrongType),
        },
    }
}

/// The sorted set at `key` for writing; None when absent, WRONGTYPE for other values.
fn zwrite<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut ZSetValue>, ReplyError> {
    match db.lookup_write(key, now_ms) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(ReplyError::WrongType),
        },
    }
}

/// Deletes `key` when its sorted set became empty (Redis never keeps empty collections).
fn drop_if_empty(db: &mut Db, key: &[u8], now_ms: u64) {
    let empty = matches!(zwrite(db, key, now_ms), Ok(Some(z)) if z.is_empty());
    if empty {
        db.remove(key, now_ms);
    }
}

/// The encoding thresholds from the configuration (Redis' defaults until set).
fn limits(ex: &Exec<'_>) -> Limits {
    ex.shard.global.cfg(|c| {
        let get = |name: &str, dflt: usize| {
            c.unimplemented
                .get(name)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(dflt)
        };
        let d = Limits::default();
        Limits {
            entries_max: get("zset-max-listpack-entries", d.entries_max),
            value_max_bytes: get("zset-max-listpack-value", d.value_max_bytes),
        }
    })
}

fn int_arg(b: &[u8]) -> Result<i64, ReplyError> {
    parse_i64(b).ok_or(ReplyError::NotInteger)
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What C's `strtod` reads from the start of `s`: the value, the bytes consumed (0 when no
/// number), and whether the result over- or underflowed (`ERANGE`).
fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = s.iter().take_while(|&&c| is_c_space(c)).count();
    let start = i;
    let neg = matches!(s.get(i), Some(b'-'));
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    let word = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    let sign = if neg { -1.0 } else { 1.0 };
    if word(b"infinity") {
        return (sign * f64::INFINITY, i + 8, false);
    }
    if word(b"inf") {
        return (sign * f64::INFINITY, i + 3, false);
    }
    if word(b"nan") {
        return (f64::NAN, i + 3 + nan_suffix(&rest[3..]), false);
    }
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used, erange)) = hex_float(&rest[2..]) {
            return (sign * v, i + 2 + used, erange);
        }
    }
    let used = decimal_len(rest);
    if used == 0 {
        return (0.0, 0, false);
    }
    let text = std::str::from_utf8(&rest[..used]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    let nonzero_digits = rest[..used]
        .iter()
        .take_while(|c| !matches!(c, b'e' | b'E'))
        .any(|c| matches!(c, b'1'..=b'9'));
    let erange = v.is_infinite() || (v == 0.0 && nonzero_digits);
    let _ = start;
    (sign * v, i + used, erange)
}

/// Length of an optional "(chars)" after "nan", as strtod accepts.
fn nan_suffix(s: &[u8]) -> usize {
    if s.first() != Some(&b'(') {
        return 0;
    }
    match s.iter().position(|&c| c == b')') {
        Some(p)
            if s[1..p]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_') =>
        {
            p + 1
        }
        _ => 0,
    }
}

/// Length of the longest decimal float at the start of `s` ("1", "1.", ".5", "1e5").
fn decimal_len(s: &[u8]) -> usize {
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    let mut i = int;
    let mut frac = 0;
    if s.get(i) == Some(&b'.') {
        frac = digits(i + 1);
        i += 1 + frac;
    }
    if int + frac == 0 {
        return 0;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = digits(j);
        if e > 0 {
            i = j + e;
        }
    }
    i
}

/// A hex float body after "0x": value, bytes used, ERANGE. None when no hex digit follows.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut i = 0;
    let mut any = false;
    let mut point = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !point {
            point = true;
        } else if let Some(v) = (c as char).to_digit(16) {
            any = true;
            if mant >> 56 == 0 {
                mant = mant * 16 + v as u64;
                exp -= if point { 4 } else { 0 };
            } else if !point {
                exp += 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        let mut j = i + 1;
        let neg = s.get(j) == Some(&b'-');
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = s[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 0 {
            let e: i64 = std::str::from_utf8(&s[j..j + n])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(100_000);
            exp += if neg { -e } else { e };
            i = j + n;
        }
    }
    let v = mant as f64 * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    Some((v, i, v.is_infinite() || (v == 0.0 && mant != 0)))
}

/// A score or increment as Redis reads it (`getDoubleFromObject`): the whole argument must be a
/// number, no leading space, no NaN, no overflow, no underflow to zero.
fn parse_score(b: &[u8]) -> Option<f64> {
    if b.is_empty() || is_c_space(b[0]) {
        return None;
    }
    let (v, used, erange) = strtod(b);
    if used != b.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

fn score_arg(b: &[u8]) -> Result<f64, ReplyError> {
    parse_score(b).ok_or(ReplyError::NotFloat)
}

/// The text C sees: everything up to the first NUL byte.
fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(p) => &b[..p],
        None => b,
    }
}

/// A score range bound: Redis reads it with a plain `strtod` (so "" is 0 and overflow is
/// infinity) and refuses trailing bytes and NaN.
fn range_bound(b: &[u8]) -> Option<(f64, bool)> {
    let b = c_str(b);
    let (excl, text) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    let (v, used, _) = strtod(text);
    (used == text.len() && !v.is_nan()).then_some((v, excl))
}

/// A score interval with exclusive flags.
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    min_ex: bool,
    max: f64,
    max_ex: bool,
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, ReplyError> {
    let bad = || ReplyError::other("ERR min or max is not a float");
    let (min, min_ex) = range_bound(min).ok_or_else(bad)?;
    let (max, max_ex) = range_bound(max).ok_or_else(bad)?;
    Ok(ScoreRange {
        min,
        min_ex,
        max,
        max_ex,
    })
}

impl ScoreRange {
    /// Ascending rank interval [lo, hi) of the entries inside the range.
    fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let lo = z.count_before(|e| e.score < self.min || (self.min_ex && e.score == self.min));
        let hi = z.count_before(|e| e.score < self.max || (!self.max_ex && e.score == self.max));
        (lo, hi.max(lo))
    }
}

/// One end of a lexical range.
#[derive(Clone, Copy, Debug)]
enum Lex<'a> {
    Min,
    Max,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

fn lex_bound(b: &[u8]) -> Option<Lex<'_>> {
    let b = c_str(b);
    match b.first()? {
        b'+' if b.len() == 1 => Some(Lex::Max),
        b'-' if b.len() == 1 => Some(Lex::Min),
        b'(' => Some(Lex::Excl(&b[1..])),
        b'[' => Some(Lex::Incl(&b[1..])),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug)]
struct LexRange<'a> {
    min: Lex<'a>,
    max: Lex<'a>,
}

fn lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, ReplyError> {
    let bad = || ReplyError::other("ERR min or max not valid string range item");
    Ok(LexRange {
        min: lex_bound(min).ok_or_else(bad)?,
        max: lex_bound(max).ok_or_else(bad)?,
    })
}

impl LexRange<'_> {
    /// Ascending rank interval [lo, hi) of the members inside the range (members compared as
    /// bytes, which is the order when all scores are equal, the case lex ranges are for).
    fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let lo = match self.min {
            Lex::Min => 0,
            Lex::Max => z.len(),
            Lex::Incl(m) => z.count_before(|e| &*e.member < m),
            Lex::Excl(m) => z.count_before(|e| &*e.member <= m),
        };
        let hi = match self.max {
            Lex::Min => 0,
            Lex::Max => z.len(),
            Lex::Incl(m) => z.count_before(|e| &*e.member <= m),
            Lex::Excl(m) => z.count_before(|e| &*e.member < m),
        };
        (lo, hi.max(lo))
    }
}

/// Writes `entries` as Redis' range replies do: members only, or with scores (a flat array in
/// RESP2, [member, score] pairs in RESP3).
fn write_entries<'e>(
    out: &mut Out<'_>,
    n: usize,
    entries: impl Iterator<Item = &'e Entry>,
    withscores: bool,
) {
    let pairs = withscores && out.resp3();
    out.array(if withscores && !pairs { 2 * n } else { n });
    for e in entries.take(n) {
        if pairs {
            out.array(2);
        }
        out.bulk(&e.member);
        if withscores {
            out.double(e.score);
        }
    }
}

/// xorshift64* state for random members; seeded once per thread from the std hasher.
fn next_rand() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(0x5EED_u64) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, and single-member reads
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// Parses ZADD's options; returns them and the index of the first score.
fn zadd_flags(args: Args<'_>) -> (AddFlags, usize) {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        let slot = match a.to_ascii_lowercase().as_slice() {
            b"nx" => &mut f.nx,
            b"xx" => &mut f.xx,
            b"gt" => &mut f.gt,
            b"lt" => &mut f.lt,
            b"ch" => &mut f.ch,
            b"incr" => &mut f.incr,
            _ => break,
        };
        *slot = true;
        i += 1;
    }
    (f, i)
}

fn zadd_check(f: AddFlags, arg_count: usize) -> CmdResult {
    if !arg_count.is_multiple_of(2) || arg_count == 0 {
        return Err(ReplyError::Syntax);
    }
    if f.nx && f.xx {
        return Err(ReplyError::other(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(ReplyError::other(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && arg_count > 2 {
        return Err(ReplyError::other(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    Ok(())
}

/// Outcome of adding one member.
enum AddOut {
    Added,
    Updated,
    /// Present with the same score: processed, nothing changed.
    Same,
    /// Skipped by NX/XX/GT/LT.
    Nop,
}

/// Applies one (score, member) with ZADD's rules; returns the outcome and the final score.
fn add_one(
    z: &mut ZSetValue,
    f: AddFlags,
    score: f64,
    member: &[u8],
    lim: Limits,
) -> Result<(AddOut, f64), ReplyError> {
    let Some(cur) = z.score(member) else {
        if f.xx {
            return Ok((AddOut::Nop, score));
        }
        z.set(member, score, lim);
        return Ok((AddOut::Added, score));
    };
    if f.nx {
        return Ok((AddOut::Nop, cur));
    }
    let new = if f.incr { cur + score } else { score };
    if new.is_nan() {
        return Err(ReplyError::other(
            "ERR resulting score is not a number (NaN)",
        ));
    }
    if (f.gt && new <= cur) || (f.lt && new >= cur) {
        return Ok((AddOut::Nop, cur));
    }
    if new == cur {
        return Ok((AddOut::Same, cur));
    }
    z.set(member, new, lim);
    Ok((AddOut::Updated, new))
}

fn zadd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (f, first) = zadd_flags(args);
    zadd_check(f, args.len() - first)?;
    let mut scores = Vec::with_capacity((args.len() - first) / 2);
    for i in (first..args.len()).step_by(2) {
        scores.push(score_arg(args.get(i))?);
    }
    zadd_generic(ex, args, f, first, &scores)
}

fn zadd_generic(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    f: AddFlags,
    first: usize,
    scores: &[f64],
) -> CmdResult {
    let key = args.get(1);
    let (now_ms, lim) = (ex.now_ms, limits(ex));
    let (added, updated, last) = with_db(ex, key, |db, out| {
        let exists = zwrite(db, key, now_ms)?.is_some();
        if !exists && f.xx {
            reply_add(out, f, 0, 0, None);
            return Ok((0, 0, None));
        }
        if !exists {
            let longest = (first + 1..args.len())
                .step_by(2)
                .map(|i| args.get(i).len());
            let z = ZSetValue::with_hint(scores.len(), longest.max().unwrap_or(0), lim);
            db.set(key, Value::ZSet(z), 0, now_ms);
        }
        let Ok(Some(z)) = zwrite(db, key, now_ms) else {
            unreachable!("the sorted set was just found or created");
        };
        let r = add_all(z, f, args, first, scores, lim);
        drop_if_empty(db, key, now_ms);
        let (added, updated, last) = r?;
        reply_add(out, f, added, updated, last);
        Ok((added, updated, last))
    })?;
    let _ = last;
    if added + updated > 0 {
        ex.dirty(key, (added + updated) as u64);
    }
    Ok(())
}

/// Adds every pair; returns (added, updated, the score to reply for INCR when processed).
fn add_all(
    z: &mut ZSetValue,
    f: AddFlags,
    args: Args<'_>,
    first: usize,
    scores: &[f64],
    lim: Limits,
) -> Result<(usize, usize, Option<f64>), ReplyError> {
    let (mut added, mut updated, mut last) = (0, 0, None);
    for (k, &score) in scores.iter().enumerate() {
        let member = args.get(first + 2 * k + 1);
        let (o, s) = add_one(z, f, score, member, lim)?;
        match o {
            AddOut::Added => added += 1,
            AddOut::Updated => updated += 1,
            AddOut::Same => {}
            AddOut::Nop => continue,
        }
        last = Some(s);
    }
    Ok((added, updated, last))
}

fn reply_add(out: &mut Out<'_>, f: AddFlags, added: usize, updated: usize, last: Option<f64>) {
    if f.incr {
        match last {
            Some(s) => out.double(s),
            None => out.null(),
        }
    } else {
        out.int((if f.ch { added + updated } else { added }) as i64);
    }
}

fn zincrby(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    let score = score_arg(args.get(2))?;
    // Same as "ZADD key INCR increment member": the member follows the increment.
    zadd_generic(ex, args, f, 2, &[score])
}

fn zrem(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now_ms = ex.now_ms;
    let removed = with_db(ex, key, |db, out| {
        let mut n = 0;
        if let Some(z) = zwrite(db, key, now_ms)? {
            for i in 2..args.len() {
                n += z.remove(args.get(i)).is_some() as i64;
                if z.is_empty() {
                    break;
                }
            }
            drop_if_empty(db, key, now_ms);
        }
        out.int(n);
        Ok(n)
    })?;
    if removed > 0 {
        ex.dirty(key, removed as u64);
    }
    Ok(())
}

fn zcard(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now_ms = ex.now_ms;
    with_db(ex, args.get(1), |db, out| {
        let n = zread(db, args.get(1), now_ms)?.map_or(0, |z| z.len());
        out.int(n as i64);
        Ok(())
    })
}

fn zscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now_ms = ex.now_ms;
    with_db(ex, args.get(1), |db, out| {
        match zread(db, args.get(1), now_ms)?.and_then(|z| z.score(args.get(2))) {
            Some(s) => out.double(s),
            None => out.null(),
        }
        Ok(())
    })
}

fn zmscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now_ms = ex.now_ms;
    with_db(ex, args.get(1), |db, out| {
        let z = zread(db, args.get(1), now_ms)?;
        out.array(args.len() - 2);
        for i in 2..args.len() {
            match z.and_then(|z| z.score(args.get(i))) {
                Some(s) => out.double(s),
                None => out.null(),
            }
        }
        Ok(())
    })
}

fn rank_generic(ex: &mut Exec<'_>, args: Args<'_>, rev: bool) -> CmdResult {
    let now_ms = ex.now_ms;
    with_db(ex, args.get(1), |db, out| {
        let Some(z) = zread(db, args.get(1), now_ms)? else {
            out.null();
            return Ok(());
        };
        match z.rank(args.get(2)) {
            Some((r, _)) if rev => out.int((z.len() - 1 - r) as i64),
            Some((r, _)) => out.int(r as i64),
            None => out.null(),
        }
        Ok(())
    })
}

fn zrank(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    rank_generic(ex, args, false)
}

fn zrevrank(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    rank_generic(ex, args, true)
}

fn zcount(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let range = score_range(args.get(2), args.get(3))?;
    let now_ms = ex.now_ms;
    with_db(ex, args.get(1), |db, out| {
        let n = zread(db, args.get(1), now_ms)?.map_or(0, |z| {
            let (lo, hi) = range.ranks(z);
            hi - lo
        });
        out.int(n as i64);
        Ok(())
    })
}

fn zlexcount(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let range = lex_range(args.get(2), args.get(3))?;
    let now_ms = ex.now_ms;
    with_db(ex, args.get(1), |db, out| {
        let n = zread(db, args.get(1), now_ms)?.map_or(0, |z| {
            let (lo, hi) = range.ranks(z);
            hi - lo
        });
        out.int(n as i64);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and its older forms, ZRANGESTORE
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum By {
    Rank,
    Score,
    Lex,
}

/// A parsed range request.
struct RangeReq<'a> {
    by: By,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// -1: no limit.
    limit: i64,
    min: &'a [u8],
    max: &'a [u8],
}

/// Parses a range request whose key is at `key_at` (min and max follow it). `by`/`rev` are
/// fixed for the older commands, which then refuse BYSCORE/BYLEX/REV as syntax errors.
fn parse_range<'a>(
    args: Args<'a>,
    key_at: usize,
    by: Option<By>,
    rev: Option<bool>,
    store: bool,
) -> Result<RangeReq<'a>, ReplyError> {
    let (mut by_opt, mut rev_opt) = (by, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0, -1);
    let mut j = key_at + 3;
    while j < args.len() {
        let a = args.get(j).to_ascii_lowercase();
        let left = args.len() - j - 1;
        match a.as_slice() {
            b"withscores" if !store => withscores = true,
            b"limit" if left >= 2 => {
                offset = int_arg(args.get(j + 1))?;
                limit = int_arg(args.get(j + 2))?;
                j += 2;
            }
            b"rev" if rev_opt.is_none() => rev_opt = Some(true),
            b"bylex" if by_opt.is_none() => by_opt = Some(By::Lex),
            b"byscore" if by_opt.is_none() => by_opt = Some(By::Score),
            _ => return Err(ReplyError::Syntax),
        }
        j += 1;
    }
    let (by, rev) = (by_opt.unwrap_or(By::Rank), rev_opt.unwrap_or(false));
    if limit != -1 && by == By::Rank {
        return Err(ReplyError::other(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(ReplyError::other(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut min, mut max) = (args.get(key_at + 1), args.get(key_at + 2));
    if rev && by != By::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    Ok(RangeReq {
        by,
        rev,
        withscores,
        offset,
        limit,
        min,
        max,
    })
}

/// The range's bounds, parsed before the key is looked up (as Redis orders its errors).
enum Bounds<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

fn parse_bounds<'a>(r: &RangeReq<'a>) -> Result<Bounds<'a>, ReplyError> {
    Ok(match r.by {
        By::Rank => Bounds::Rank(int_arg(r.min)?, int_arg(r.max)?),
        By::Score => Bounds::Score(score_range(r.min, r.max)?),
        By::Lex => Bounds::Lex(lex_range(r.min, r.max)?),
    })
}

/// The selected entries as (first rank in walking order, count, walk downwards).
fn select(z: &ZSetValue, r: &RangeReq<'_>, b: &Bounds<'_>) -> (usize, usize, bool) {
    let len = z.len() as i64;
    let (lo, hi) = match b {
        Bounds::Rank(start, end) => {
            let (mut s, mut e) = (*start, *end);
            if s < 0 {
                s += len;
            }
            if e < 0 {
                e += len;
            }
            s = s.max(0);
            if s > e || s >= len {
                return (0, 0, false);
            }
            e = e.min(len - 1);
            let n = (e - s + 1) as usize;
            return if r.rev {
                ((len - 1 - s) as usize, n, true)
            } else {
                (s as usize, n, false)
            };
        }
        Bounds::Score(range) => range.ranks(z),
        Bounds::Lex(range) => range.ranks(z),
    };
    if r.offset < 0 {
        return (0, 0, false);
    }
    let inside = hi - lo;
    let skip = (r.offset as u64).min(inside as u64) as usize;
    let n = inside - skip;
    let n = if r.limit < 0 {
        n
    } else {
        n.min(r.limit as u64 as usize)
    };
    if n == 0 {
        return (0, 0, false);
    }
    if r.rev {
        (hi - 1 - skip, n, true)
    } else {
        (lo + skip, n, false)
    }
}

/// Entries of a selection, in walking order.
fn walk(z: &ZSetValue, at: usize, down: bool) -> Box<dyn Iterator<Item = &Entry> + '_> {
    if down {
        Box::new(z.iter_down_from(at))
    } else {
        Box::new(z.iter_from(at))
    }
}

fn range_generic(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    by: Option<By>,
    rev: Option<bool>,
) -> CmdResult {
    let r = parse_range(args, 1, by, rev, false)?;
    let b = parse_bounds(&r)?;
    let now_ms = ex.now_ms;
    with_db(ex, args.get(1), |db, out| {
        let Some(z) = zread(db, args.get(1), now_ms)? else {
            out.array(0);
            return Ok(());
        };
        let (at, n, down) = select(z, &r, &b);
        write_entries(out, n, walk(z, at, down), r.withscores);
        Ok(())
    })
}

fn zrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, None, None)
}
fn zrevrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Rank), Some(true))
}
fn zrangebyscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Score), Some(false))
}
fn zrevrangebyscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Score), Some(true))
}
fn zrangebylex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Lex), Some(false))
}
fn zrevrangebylex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Lex), Some(true))
}

/// Stores `entries` (sorted ascending, distinct) at `dst`, or deletes `dst` when empty.
/// Returns the stored count.
fn store_result(ex: &mut Exec<'_>, dst: &[u8], entries: Vec<Entry>) -> usize {
    let (now_ms, lim) = (ex.now_ms, limits(ex));
    let n = entries.len();
    let db = ex.db(dst);
    if n == 0 {
        if db.remove(dst, now_ms).is_some() {
            ex.dirty(dst, 1);
        }
        return 0;
    }
    db.set(
        dst,
        Value::ZSet(ZSetValue::from_sorted(entries, lim)),
        0,
        now_ms,
    );
    ex.dirty(dst, 1);
    n
}

fn zrangestore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let r = parse_range(args, 2, None, None, true)?;
    let b = parse_bounds(&r)?;
    let (src, now_ms) = (args.get(2), ex.now_ms);
    let mut picked: Vec<Entry> = match zread(ex.db(src), src, now_ms)? {
        None => Vec::new(),
        Some(z) => {
            let (at, n, down) = select(z, &r, &b);
            walk(z, at, down).take(n).cloned().collect()
        }
    };
    if r.rev {
        picked.reverse();
    }
    let n = store_result(ex, args.get(1), picked);
    ex.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Removal by range, pops
// ---------------------------------------------------------------------------------------------

fn remrange_generic(ex: &mut Exec<'_>, args: Args<'_>, by: By) -> CmdResult {
    let (min, max) = (args.get(2), args.get(3));
    let b = match by {
        By::Rank => Bounds::Rank(int_arg(min)?, int_arg(max)?),
        By::Score => Bounds::Score(score_range(min, max)?),
        By::Lex => Bounds::Lex(lex_range(min, max)?),
    };
    let r = RangeReq {
        by,
        rev: false,
        withscores: false,
        offset: 0,
        limit: -1,
        min,
        max,
    };
    let (key, now_ms) = (args.get(1), ex.now_ms);
    let removed = with_db(ex, key, |db, out| {
        let Some(z) = zwrite(db, key, now_ms)? else {
            out.int(0);
            return Ok(0);
        };
        let (at, n, _) = select(z, &r, &b);
        let gone = z.remove_range(at, n).len();
        drop_if_empty(db, key, now_ms);
        out.int(gone as i64);
        Ok(gone)
    })?;
    if removed > 0 {
        ex.dirty(key, removed as u64);
    }
    Ok(())
}

fn zremrangebyrank(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    remrange_generic(ex, args, By::Rank)
}
fn zremrangebyscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    remrange_generic(ex, args, By::Score)
}
fn zremrangebylex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    remrange_generic(ex, args, By::Lex)
}

/// Pops up to `count` entries from the low (`max` false) or high end, in popping order, and
/// deletes the key when it empties. None when the key is absent.
fn pop_entries(
    db: &mut Db,
    key: &[u8],
    now_ms: u64,
    max: bool,
    count: usize,
) -> Result<Option<Vec<Entry>>, ReplyError> {
    let Some(z) = zwrite(db, key, now_ms)? else {
        return Ok(None);
    };
    let n = count.min(z.len());
    let mut v = if max {
        z.remove_range(z.len() - n, n)
    } else {
        z.remove_range(0, n)
    };
    if max {
        v.reverse();
    }
    drop_if_empty(db, key, now_ms);
    Ok(Some(v))
}

fn pop_generic(ex: &mut Exec<'_>, args: Args<'_>, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(ReplyError::Syntax);
    }
    let count = match args.len() {
        3 => match parse_i64(args.get(2)) {
            Some(n) if n >= 0 => Some(n as u64 as usize),
            _ => {
                return Err(ReplyError::other(
                    "ERR value is out of range, must be positive",
                ))
            }
        },
        _ => None,
    };
    let (key, now_ms) = (args.get(1), ex.now_ms);
    let popped = with_db(ex, key, |db, out| {
        let v = pop_entries(db, key, now_ms, max, count.unwrap_or(1))?.unwrap_or_default();
        // With a count, RESP3 nests [member, score] pairs; without one the reply is flat.
        match count {
            Some(_) => write_entries(out, v.len(), v.iter(), true),
            None => {
                out.array(2 * v.len());
                for e in &v {
                    out.bulk(&e.member);
                    out.double(e.score);
                }
            }
        }
        Ok(v.len())
    })?;
    if popped > 0 {
        ex.dirty(key, popped as u64);
    }
    Ok(())
}

fn zpopmin(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ex, args, false)
}
fn zpopmax(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ex, args, true)
}

/// ZMPOP/BZMPOP arguments after numkeys: the keys, MIN|MAX, COUNT.
struct MpopReq {
    keys: std::ops::Range<usize>,
    max: bool,
    count: usize,
}

/// Parses "numkeys key... MIN|MAX [COUNT count]" with numkeys at `at`.
fn parse_mpop(args: Args<'_>, at: usize) -> Result<MpopReq, ReplyError> {
    let numkeys = match parse_i64(args.get(at)) {
        Some(n) if n > 0 => n as u64,
        _ => return Err(ReplyError::other("ERR numkeys should be greater than 0")),
    };
    let first = at + 1;
    if numkeys >= (args.len() - first) as u64 {
        return Err(ReplyError::Syntax);
    }
    let where_at = first + numkeys as usize;
    let max = match args.get(where_at).to_ascii_lowercase().as_slice() {
        b"min" => false,
        b"max" => true,
        _ => return Err(ReplyError::Syntax),
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        let has_value = j + 1 < args.len();
        if count.is_none() && has_value && args.get(j).eq_ignore_ascii_case(b"count") {
            count = match parse_i64(args.get(j + 1)) {
                Some(n) if n > 0 => Some(n as usize),
                _ => return Err(ReplyError::other("ERR count should be greater than 0")),
            };
            j += 2;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok(MpopReq {
        keys: first..where_at,
        max,
        count: count.unwrap_or(1),
    })
}

/// Pops from the first non-empty key of `req`; writes [key, [[member, score]...]] and returns
/// true, or writes nothing and returns false when every key is empty.
fn mpop_now(ex: &mut Exec<'_>, args: Args<'_>, req: &MpopReq) -> Result<bool, ReplyError> {
    let now_ms = ex.now_ms;
    for i in req.keys.clone() {
        let key = args.get(i);
        let Some(v) = pop_entries(ex.db(key), key, now_ms, req.max, req.count)? else {
            continue;
        };
        ex.dirty(key, v.len() as u64);
        let out = &mut ex.out;
        out.array(2);
        out.bulk(key);
        out.array(v.len());
        for e in &v {
            out.array(2);
            out.bulk(&e.member);
            out.double(e.score);
        }
        return Ok(true);
    }
    Ok(false)
}

fn zmpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let req = parse_mpop(args, 1)?;
    if !mpop_now(ex, args, &req)? {
        ex.out.null_array();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF (and their STORE forms), ZINTERCARD
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Agg {
    Sum,
    Min,
    Max,
}

fn aggregate(agg: Agg, acc: &mut f64, v: f64) {
    match agg {
        Agg::Sum => {
            *acc += v;
            // inf + -inf: Redis keeps scores numbers.
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        Agg::Min => *acc = acc.min(v),
        Agg::Max => *acc = acc.max(v),
    }
}

/// A parsed set-algebra request.
struct AlgebraReq {
    keys: std::ops::Range<usize>,
    weights: Vec<f64>,
    agg: Agg,
    withscores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: usize,
}

/// numkeys at `at`; the error names the command as typed (lowercase).
fn parse_numkeys(
    args: Args<'_>,
    at: usize,
    cmd: &str,
) -> Result<std::ops::Range<usize>, ReplyError> {
    let n = int_arg(args.get(at))?;
    if n < 1 {
        return Err(ReplyError::other(format!(
            "ERR at least 1 input key is needed for '{cmd}' command"
        )));
    }
    if n as u64 > (args.len() - at - 1) as u64 {
        return Err(ReplyError::Syntax);
    }
    Ok(at + 1..at + 1 + n as usize)
}

/// Looks every input key up once, as Redis does before reading options: WRONGTYPE first.
fn check_inputs(ex: &mut Exec<'_>, args: Args<'_>, keys: &std::ops::Range<usize>) -> CmdResult {
    let now_ms = ex.now_ms;
    for i in keys.clone() {
        let key = args.get(i);
        zinput(ex.db(key), key, now_ms)?;
    }
    Ok(())
}

/// The options after the keys: WEIGHTS, AGGREGATE, WITHSCORES, or ZINTERCARD's LIMIT.
fn parse_algebra_opts(
    args: Args<'_>,
    keys: std::ops::Range<usize>,
    op: SetOp,
    store: bool,
    card: bool,
) -> Result<AlgebraReq, ReplyError> {
    let n = keys.len();
    let mut req = AlgebraReq {
        weights: vec![1.0; n],
        agg: Agg::Sum,
        withscores: false,
        limit: 0,
        keys,
    };
    let mut j = req.keys.end;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args.get(j).to_ascii_lowercase();
        match a.as_slice() {
            b"limit" if card && left >= 1 => {
                req.limit = match parse_i64(args.get(j + 1)) {
                    Some(v) if v >= 0 => v as usize,
                    _ => return Err(ReplyError::other("ERR LIMIT can't be negative")),
                };
                j += 1;
            }
            b"weights" if !card && op != SetOp::Diff && left >= n => {
                for k in 0..n {
                    req.weights[k] = parse_score(args.get(j + 1 + k))
                        .ok_or_else(|| ReplyError::other("ERR weight value is not a float"))?;
                }
                j += n;
            }
            b"aggregate" if !card && op != SetOp::Diff && left >= 1 => {
                req.agg = match args.get(j + 1).to_ascii_lowercase().as_slice() {
                    b"sum" => Agg::Sum,
                    b"min" => Agg::Min,
                    b"max" => Agg::Max,
                    _ => return Err(ReplyError::Syntax),
                };
                j += 1;
            }
            b"withscores" if !card && !store => req.withscores = true,
            _ => return Err(ReplyError::Syntax),
        }
        j += 1;
    }
    Ok(req)
}

/// Weighted score: Redis turns 0 * inf into 0 rather than NaN.
fn weighted(score: f64, w: f64) -> f64 {
    let v = score * w;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Computes the result as (member -> score); bounded by the inputs' sizes.
fn compute(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    op: SetOp,
    req: &AlgebraReq,
) -> Result<HashMap<Box<[u8]>, f64>, ReplyError> {
    let now_ms = ex.now_ms;
    let keys: Vec<&[u8]> = req.keys.clone().map(|i| args.get(i)).collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    if op == SetOp::Inter {
        // Start from the smallest input: the result cannot be larger.
        let mut lens = Vec::with_capacity(keys.len());
        for k in &keys {
            lens.push(zinput(ex.db(k), k, now_ms)?.map_or(0, |z| z.len()));
        }
        if lens.contains(&0) {
            return Ok(HashMap::new());
        }
        order.sort_by_key(|&i| lens[i]);
    }
    let mut acc: HashMap<Box<[u8]>, f64> = HashMap::new();
    for (step, &i) in order.iter().enumerate() {
        let (key, w) = (keys[i], req.weights[i]);
        let z = zinput(ex.db(key), key, now_ms)?;
        let z = z.as_deref();
        match (op, step, z) {
            (SetOp::Inter | SetOp::Diff, 0, None) => return Ok(acc),
            (_, 0, Some(z)) => {
                acc.reserve(z.len());
                for e in z.iter() {
                    acc.insert(e.member.clone(), weighted(e.score, w));
                }
            }
            (SetOp::Union, _, Some(z)) => merge_union(&mut acc, z, w, req.agg),
            (SetOp::Inter, _, Some(z)) => merge_inter(&mut acc, z, w, req.agg),
            (SetOp::Diff, _, Some(z)) => acc.retain(|m, _| z.score(m).is_none()),
            (_, _, None) => {}
        }
        if acc.is_empty() && op != SetOp::Union {
            break;
        }
    }
    Ok(acc)
}

fn merge_union(acc: &mut HashMap<Box<[u8]>, f64>, z: &ZSetValue, w: f64, agg: Agg) {
    for e in z.iter() {
        let v = weighted(e.score, w);
        match acc.get_mut(&e.member) {
            Some(cur) => aggregate(agg, cur, v),
            None => {
                acc.insert(e.member.clone(), v);
            }
        }
    }
}

fn merge_inter(acc: &mut HashMap<Box<[u8]>, f64>, z: &ZSetValue, w: f64, agg: Agg) {
    acc.retain(|m, cur| match z.score(m) {
        Some(s) => {
            aggregate(agg, cur, weighted(s, w));
            true
        }
        None => false,
    });
}

fn sorted(acc: HashMap<Box<[u8]>, f64>) -> Vec<Entry> {
    let mut v: Vec<Entry> = acc
        .into_iter()
        .map(|(member, score)| Entry { score, member })
        .collect();
    v.sort_by(|a, b| cmp_key(a.score, &a.member, b));
    v
}

fn algebra(ex: &mut Exec<'_>, args: Args<'_>, op: SetOp, store: bool) -> CmdResult {
    let name = String::from_utf8_lossy(args.get(0)).to_ascii_lowercase();
    let at = if store { 2 } else { 1 };
    let keys = parse_numkeys(args, at, &name)?;
    check_inputs(ex, args, &keys)?;
    let req = parse_algebra_opts(args, keys, op, store, false)?;
    let result = sorted(compute(ex, args, op, &req)?);
    if store {
        let n = store_result(ex, args.get(1), result);
        ex.out.int(n as i64);
    } else {
        write_entries(&mut ex.out, result.len(), result.iter(), req.withscores);
    }
    Ok(())
}

fn zunion(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Union, false)
}
fn zinter(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Inter, false)
}
fn zdiff(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Diff, false)
}
fn zunionstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Union, true)
}
fn zinterstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Inter, true)
}
fn zdiffstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Diff, true)
}

fn zintercard(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let keys = parse_numkeys(args, 1, "zintercard")?;
    check_inputs(ex, args, &keys)?;
    let req = parse_algebra_opts(args, keys, SetOp::Inter, false, true)?;
    let mut n = compute(ex, args, SetOp::Inter, &req)?.len();
    if req.limit > 0 {
        n = n.min(req.limit);
    }
    ex.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------------------------

/// Most entries one ZRANDMEMBER with a negative count may return: bounds the reply buffer
/// (Redis has no limit and would try to build any size).
const RANDMEMBER_REPEAT_MAX: u64 = 16 * 1024 * 1024;

fn zrandmember(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now_ms) = (args.get(1), ex.now_ms);
    if args.len() == 2 {
        return with_db(ex, key, |db, out| {
            match zread(db, key, now_ms)? {
                Some(z) => match z.at((next_rand() % z.len() as u64) as usize) {
                    Some(e) => out.bulk(&e.member),
                    None => out.null(),
                },
                None => out.null(),
            }
            Ok(())
        });
    }
    let count = int_arg(args.get(2))?;
    let withscores = match args.len() {
        3 => false,
        4 if args.get(3).eq_ignore_ascii_case(b"withscores") => true,
        _ => return Err(ReplyError::Syntax),
    };
    if count == i64::MIN {
        return Err(ReplyError::other(
            "ERR value is out of range, value must between -9223372036854775807 and \
             9223372036854775807",
        ));
    }
    if withscores && count < -(i64::MAX / 2) {
        return Err(ReplyError::other("ERR value is out of range"));
    }
    if count.unsigned_abs() > RANDMEMBER_REPEAT_MAX && count < 0 {
        return Err(ReplyError::other("ERR value is out of range"));
    }
    with_db(ex, key, |db, out| {
        match zread(db, key, now_ms)? {
            None => out.array(0),
            Some(z) if count < 0 => rand_repeat(out, z, count.unsigned_abs() as usize, withscores),
            Some(z) => rand_distinct(out, z, count as usize, withscores),
        }
        Ok(())
    })
}

fn rand_repeat(out: &mut Out<'_>, z: &ZSetValue, n: usize, withscores: bool) {
    let len = z.len() as u64;
    let picks = (0..n).filter_map(|_| z.at((next_rand() % len) as usize));
    write_entries(out, n, picks, withscores);
}

/// `n` distinct random entries; the whole set (highest score first) when `n` covers it, as
/// Redis does.
fn rand_distinct(out: &mut Out<'_>, z: &ZSetValue, n: usize, withscores: bool) {
    let len = z.len();
    if n >= len {
        write_entries(out, len, z.iter().rev(), withscores);
        return;
    }
    // Partial Fisher-Yates over ranks, remembering only the swapped positions.
    let mut swapped: HashMap<usize, usize> = HashMap::with_capacity(n);
    let mut ranks = Vec::with_capacity(n);
    for i in 0..n {
        let j = i + (next_rand() % (len - i) as u64) as usize;
        let vj = *swapped.get(&j).unwrap_or(&j);
        let vi = *swapped.get(&i).unwrap_or(&i);
        swapped.insert(j, vi);
        ranks.push(vj);
    }
    write_entries(out, n, ranks.iter().filter_map(|&r| z.at(r)), withscores);
}

/// Most entries one ZSCAN call visits on a big set, whatever COUNT says.
const ZSCAN_VISIT_MAX: usize = 100_000;

/// ZSCAN: a small set is returned whole with cursor 0 (as Redis does for listpacks); a big
/// one is walked by rank, COUNT entries per call. The cursor is the next rank, so entries
/// removed before the cursor between calls can make later ones shift past it.
fn zscan(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let (mut count, mut pattern) = (10usize, None);
    let mut i = 3;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(ReplyError::Syntax);
        }
        let (opt, value) = (args.get(i), args.get(i + 1));
        if opt.eq_ignore_ascii_case(b"count") {
            match int_arg(value)? {
                n if n < 1 => return Err(ReplyError::Syntax),
                n => count = (n as u64).min(ZSCAN_VISIT_MAX as u64) as usize,
            }
        } else if opt.eq_ignore_ascii_case(b"match") {
            pattern = (value != b"*").then_some(value);
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 2;
    }
    let (key, now_ms) = (args.get(1), ex.now_ms);
    with_db(ex, key, |db, out| {
        let z = zread(db, key, now_ms)?;
        let (next, picked): (u64, Vec<&Entry>) = match z {
            None => (0, Vec::new()),
            Some(z) if z.encoding() == "listpack" => (0, z.iter().collect()),
            Some(z) => {
                let from = cursor.min(z.len() as u64) as usize;
                let v: Vec<&Entry> = z.iter_from(from).take(count).collect();
                let end = from + v.len();
                (if end >= z.len() { 0 } else { end as u64 }, v)
            }
        };
        let keep = |e: &&Entry| pattern.is_none_or(|p| crate::glob::matches(p, &e.member, false));
        let kept: Vec<&Entry> = picked.into_iter().filter(keep).collect();
        out.array(2);
        out.bulk(next.to_string().as_bytes());
        out.array(2 * kept.len());
        for e in kept {
            out.bulk(&e.member);
            out.bulk(crate::resp::write::format_double_g17(e.score).as_bytes());
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Blocking pops: the non-blocking "try" halves for the event loop
// ---------------------------------------------------------------------------------------------

/// What a blocking pop can do right now.
#[derive(Debug, PartialEq, Eq)]
pub enum BlockTry {
    /// The reply is written (an element was popped).
    Served,
    /// Every key is empty or absent: wait on `keys` until `deadline_ms` (absolute, ms since
    /// the Unix epoch on `Exec::now_ms`'s clock; 0 means wait forever), then reply
    /// `Out::null_array()`.
    Block {
        keys: Vec<Vec<u8>>,
        deadline_ms: u64,
    },
}

/// Reads a blocking timeout in seconds as Redis 7.0 does: a long-double-style number (errors
/// "ERR timeout is not a float or out of range"), scaled to ms and cast to a 64-bit integer
/// (values beyond it wrap negative, as the C cast does on x86), "ERR timeout is negative"
/// below zero. Returns the absolute deadline, or 0 for "forever".
pub fn parse_timeout(raw: &[u8], now_ms: u64) -> Result<u64, ReplyError> {
    let bad = || ReplyError::other("ERR timeout is not a float or out of range");
    if raw.is_empty() || is_c_space(raw[0]) {
        return Err(bad());
    }
    let text = c_str(raw);
    let (secs, used, _) = strtod(text);
    if used != text.len() || secs.is_nan() || text.is_empty() {
        return Err(bad());
    }
    let ms = secs * 1000.0;
    let ms = if ms.is_finite() && ms.abs() < 9.223_372_036_854_775e18 {
        ms.trunc() as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(ReplyError::other("ERR timeout is negative"));
    }
    Ok(if ms == 0 {
        0
    } else {
        now_ms.saturating_add(ms as u64)
    })
}

/// BZPOPMIN / BZPOPMAX key... timeout: pops one entry from the first non-empty key and
/// writes [key, member, score], or says which keys to wait on. WRONGTYPE when a key of
/// another type comes before the first non-empty sorted set.
pub fn bzpop_try(ex: &mut Exec<'_>, args: Args<'_>, max: bool) -> Result<BlockTry, ReplyError> {
    let deadline_ms = parse_timeout(args.get(args.len() - 1), ex.now_ms)?;
    let now_ms = ex.now_ms;
    for i in 1..args.len() - 1 {
        let key = args.get(i);
        let Some(v) = pop_entries(ex.db(key), key, now_ms, max, 1)? else {
            continue;
        };
        let Some(e) = v.first() else { continue };
        ex.dirty(key, 1);
        ex.out.array(3);
        ex.out.bulk(key);
        ex.out.bulk(&e.member);
        ex.out.double(e.score);
        return Ok(BlockTry::Served);
    }
    let keys = (1..args.len() - 1).map(|i| args.get(i).to_vec()).collect();
    Ok(BlockTry::Block { keys, deadline_ms })
}

/// BZMPOP timeout numkeys key... MIN|MAX [COUNT count]: as ZMPOP when a key has entries
/// (reply written), else the keys to wait on. Arguments are fully checked first.
pub fn bzmpop_try(ex: &mut Exec<'_>, args: Args<'_>) -> Result<BlockTry, ReplyError> {
    let deadline_ms = parse_timeout(args.get(1), ex.now_ms)?;
    let req = parse_mpop(args, 2)?;
    if mpop_now(ex, args, &req)? {
        return Ok(BlockTry::Served);
    }
    let keys = req.keys.map(|i| args.get(i).to_vec()).collect();
    Ok(BlockTry::Block { keys, deadline_ms })
}

/// Answers a blocking pop without blocking (Redis' behaviour inside MULTI): null when empty.
fn no_wait(r: Result<BlockTry, ReplyError>, ex: &mut Exec<'_>) -> CmdResult {
    if let BlockTry::Block { keys, deadline_ms } = r? {
        if ex.shard.no_block {
            ex.out.null_array();
        } else {
            // Nothing is written: the caller parks the command (shard::blocking).
            ex.shard.block_request =
                Some(crate::shard::blocking::BlockRequest { keys, deadline_ms });
        }
    }
    Ok(())
}

fn bzpopmin(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let r = bzpop_try(ex, args, false);
    no_wait(r, ex)
}
fn bzpopmax(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let r = bzpop_try(ex, args, true);
    no_wait(r, ex)
}
fn bzmpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let r = bzmpop_try(ex, args);
    no_wait(r, ex)
}

#[cfg(test)]
mod tests {
    use crate::resp::Proto;
    use crate::testkit::{Harness, Reply};

    // Dev tool, not a check: replays ZSET_REPLAY (one command a line, args split on spaces,
    // '' for empty) and prints raw replies, to diff against redis-server byte for byte.
    #[test]
    #[ignore]
    fn replay_for_diff() {
        let Ok(path) = std::env::var("ZSET_REPLAY") else {
            return;
        };
        let mut h = Harness::new();
        if std::env::var("ZSET_RESP3").is_ok() {
            h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        }
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for line in text.lines() {
            let argv: Vec<&str> = line
                .split(' ')
                .map(|a| if a == "''" { "" } else { a })
                .collect();
            let raw = h.raw(&argv);
            println!("{line} => {:?}", String::from_utf8_lossy(&raw));
        }
    }

    fn b(s: &str) -> Reply {
        Reply::bulk(s)
    }
    fn e(s: &str) -> Reply {
        Reply::err(s)
    }
    fn arr(v: &[&str]) -> Reply {
        Reply::Array(v.iter().map(|s| b(s)).collect())
    }
    fn run_all(h: &mut Harness, cases: &[(&[&str], Reply)]) {
        for (argv, want) in cases {
            assert_eq!(&h.run(argv), want, "{argv:?}");
        }
    }
    const FLOAT_ERR: &str = "ERR value is not a valid float";

    // Guards ZADD's option rules, counters and error texts.
    #[test]
    fn zadd_options_and_errors() {
        let mut h = Harness::new();
        run_all(
            &mut h,
            &[
                (&["ZADD", "z", "1", "a", "2", "b"], Reply::Int(2)),
                (&["ZADD", "z", "NX", "5", "a", "3", "c"], Reply::Int(1)),
                (
                    &["ZADD", "z", "XX", "CH", "7", "a", "8", "d"],
                    Reply::Int(1),
                ),
                (&["ZADD", "z", "GT", "CH", "1", "a"], Reply::Int(0)),
                (&["ZADD", "z", "LT", "CH", "1", "a"], Reply::Int(1)),
                (&["ZADD", "z", "INCR", "2", "a"], b("3")),
                (&["ZADD", "z", "NX", "INCR", "2", "a"], Reply::Nil),
                (&["ZADD", "z", "XX", "INCR", "2", "nope"], Reply::Nil),
                (&["ZADD", "z", "0x10", "h"], Reply::Int(1)),
                (&["ZSCORE", "z", "h"], b("16")),
                (&["ZADD", "z", "x", "a"], e(FLOAT_ERR)),
                (&["ZADD", "z", "nan", "a"], e(FLOAT_ERR)),
                (&["ZADD", "z", "1e400", "a"], e(FLOAT_ERR)),
                (&["ZADD", "z", "", "a"], e(FLOAT_ERR)),
                (&["ZADD", "z", "1", "a", "2"], e("ERR syntax error")),
                (
                    &["ZADD", "z", "NX", "XX", "1", "a"],
                    e("ERR XX and NX options at the same time are not compatible"),
                ),
                (
                    &["ZADD", "z", "GT", "LT", "1", "a"],
                    e("ERR GT, LT, and/or NX options at the same time are not compatible"),
                ),
                (
                    &["ZADD", "z", "INCR", "1", "a", "2", "b"],
                    e("ERR INCR option supports a single increment-element pair"),
                ),
                (&["ZADD", "i", "inf", "a"], Reply::Int(1)),
                (
                    &["ZINCRBY", "i", "-inf", "a"],
                    e("ERR resulting score is not a number (NaN)"),
                ),
                (
                    &["ZADD", "z"],
                    e("ERR wrong number of arguments for 'zadd' command"),
                ),
                (&["ZINCRBY", "z", "x", "a"], e(FLOAT_ERR)),
                (&["ZINCRBY", "new", "2.5", "a"], b("2.5")),
            ],
        );
    }

    // Guards removal, counting and single-member reads, and key deletion when emptied.
    #[test]
    fn reads_and_removal() {
        let mut h = Harness::new();
        h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        run_all(
            &mut h,
            &[
                (&["ZCARD", "z"], Reply::Int(3)),
                (&["ZCARD", "none"], Reply::Int(0)),
                (&["ZRANK", "z", "c"], Reply::Int(2)),
                (&["ZREVRANK", "z", "c"], Reply::Int(0)),
                (&["ZRANK", "z", "x"], Reply::Nil),
                (
                    &["ZMSCORE", "z", "a", "x"],
                    Reply::Array(vec![b("1"), Reply::Nil]),
                ),
                (&["ZCOUNT", "z", "(1", "+inf"], Reply::Int(2)),
                (
                    &["ZCOUNT", "z", "x", "1"],
                    e("ERR min or max is not a float"),
                ),
                (&["ZLEXCOUNT", "z", "-", "(b"], Reply::Int(1)),
                (
                    &["ZLEXCOUNT", "z", "a", "b"],
                    e("ERR min or max not valid string range item"),
                ),
                (&["ZREM", "z", "a", "x"], Reply::Int(1)),
                (&["ZREM", "z", "b", "c"], Reply::Int(2)),
                (&["EXISTS", "z"], Reply::Int(0)),
            ],
        );
    }

    // Guards rank, score and lex ranges with REV, LIMIT and WITHSCORES, and their conflicts.
    #[test]
    fn ranges() {
        let mut h = Harness::new();
        h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
        let limit_err = "ERR syntax error, LIMIT is only supported in combination with either \
                         BYSCORE or BYLEX";
        run_all(
            &mut h,
            &[
                (&["ZRANGE", "z", "-2", "-1"], arr(&["c", "d"])),
                (
                    &["ZRANGE", "z", "0", "0", "REV", "WITHSCORES"],
                    arr(&["d", "4"]),
                ),
                (&["ZRANGE", "z", "5", "9"], arr(&[])),
                (&["ZRANGE", "z", "(1", "3", "BYSCORE"], arr(&["b", "c"])),
                (
                    &[
                        "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2",
                    ],
                    arr(&["c", "b"]),
                ),
                (
                    &["ZRANGE", "z", "[b", "+", "BYLEX", "LIMIT", "0", "-1"],
                    arr(&["b", "c", "d"]),
                ),
                (&["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"], e(limit_err)),
                (
                    &["ZRANGEBYSCORE", "z", "0", "1", "REV"],
                    e("ERR syntax error"),
                ),
                (&["ZREVRANGEBYSCORE", "z", "3", "2"], arr(&["c", "b"])),
                (&["ZREVRANGEBYLEX", "z", "(c", "-"], arr(&["b", "a"])),
                (
                    &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"],
                    arr(&[]),
                ),
                (&["ZREVRANGE", "z", "0", "0"], arr(&["d"])),
                (
                    &["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"],
                    e("ERR syntax error, WITHSCORES not supported in combination with BYLEX"),
                ),
                (
                    &[
                        "ZRANGE",
                        "z",
                        "0",
                        "-1",
                        "LIMIT",
                        "9223372036854775807",
                        "1",
                        "BYSCORE",
                    ],
                    arr(&[]),
                ),
            ],
        );
    }

    // Guards ZRANGESTORE and the range removals, including deleting emptied keys.
    #[test]
    fn store_and_remove_ranges() {
        let mut h = Harness::new();
        h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
        run_all(
            &mut h,
            &[
                (
                    &["ZRANGESTORE", "d", "z", "3", "2", "BYSCORE", "REV"],
                    Reply::Int(2),
                ),
                (&["ZRANGE", "d", "0", "-1"], arr(&["b", "c"])),
                (
                    &["ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES"],
                    e("ERR syntax error"),
                ),
                (&["ZRANGESTORE", "d", "none", "0", "-1"], Reply::Int(0)),
                (&["EXISTS", "d"], Reply::Int(0)),
                (&["ZREMRANGEBYRANK", "z", "-1", "-1"], Reply::Int(1)),
                (&["ZREMRANGEBYSCORE", "z", "(1", "2"], Reply::Int(1)),
                (&["ZREMRANGEBYLEX", "z", "-", "+"], Reply::Int(2)),
                (&["EXISTS", "z"], Reply::Int(0)),
            ],
        );
    }

    // Guards ZPOPMIN/ZPOPMAX/ZMPOP reply shapes and their errors.
    #[test]
    fn pops() {
        let mut h = Harness::new();
        h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        let positive = "ERR value is out of range, must be positive";
        run_all(
            &mut h,
            &[
                (&["ZPOPMIN", "z"], arr(&["a", "1"])),
                (&["ZPOPMAX", "z", "1"], arr(&["c", "3"])),
                (&["ZPOPMIN", "z", "-1"], e(positive)),
                (&["ZPOPMIN", "z", "x"], e(positive)),
                (&["ZPOPMIN", "none", "3"], arr(&[])),
                (&["ZMPOP", "2", "none", "z", "MAX", "COUNT", "9"], {
                    Reply::Array(vec![b("z"), Reply::Array(vec![arr(&["b", "2"])])])
                }),
                (&["EXISTS", "z"], Reply::Int(0)),
                (&["ZMPOP", "1", "z", "MIN"], Reply::Nil),
                (
                    &["ZMPOP", "0", "z", "MIN"],
                    e("ERR numkeys should be greater than 0"),
                ),
                (&["ZMPOP", "2", "z", "MIN"], e("ERR syntax error")),
                (
                    &["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
                    e("ERR count should be greater than 0"),
                ),
            ],
        );
    }

    // Guards RESP3 shapes: scores as doubles, WITHSCORES as pairs, nil as `_`.
    #[test]
    fn resp3_doubles_and_pairs() {
        let mut h = Harness::new();
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        h.run(&["ZADD", "z", "1.5", "a", "inf", "b"]);
        assert_eq!(h.raw(&["ZSCORE", "z", "a"]), b",1.5\r\n");
        assert_eq!(h.raw(&["ZSCORE", "z", "x"]), b"_\r\n");
        assert_eq!(
            h.raw(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            b"*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,inf\r\n"
        );
        assert_eq!(h.raw(&["ZPOPMIN", "z"]), b"*2\r\n$1\r\na\r\n,1.5\r\n");
    }

    // Guards union/intersection/difference with weights and aggregates, and their errors.
    #[test]
    fn set_algebra() {
        let mut h = Harness::new();
        h.run(&["ZADD", "a", "1", "x", "2", "y", "3", "z"]);
        h.run(&["ZADD", "b", "10", "y", "20", "z", "30", "w"]);
        h.run(&["SET", "s", "v"]);
        let wt = "WRONGTYPE Operation against a key holding the wrong kind of value";
        run_all(
            &mut h,
            &[
                (
                    &["ZUNION", "2", "a", "b", "WEIGHTS", "2", "1", "WITHSCORES"],
                    arr(&["x", "2", "y", "14", "z", "26", "w", "30"]),
                ),
                (
                    &["ZINTER", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES"],
                    arr(&["y", "10", "z", "20"]),
                ),
                (&["ZDIFF", "2", "b", "a"], arr(&["w"])),
                (&["ZINTERSTORE", "o", "2", "a", "b"], Reply::Int(2)),
                (
                    &["ZRANGE", "o", "0", "-1", "WITHSCORES"],
                    arr(&["y", "12", "z", "23"]),
                ),
                (&["ZDIFFSTORE", "o", "2", "a", "a"], Reply::Int(0)),
                (&["EXISTS", "o"], Reply::Int(0)),
                (&["ZINTERCARD", "2", "a", "b", "LIMIT", "1"], Reply::Int(1)),
                (
                    &["ZINTERCARD", "1", "a", "LIMIT", "-1"],
                    e("ERR LIMIT can't be negative"),
                ),
                (
                    &["ZUNION", "0", "a"],
                    e("ERR at least 1 input key is needed for 'zunion' command"),
                ),
                (&["ZUNION", "3", "a"], e("ERR syntax error")),
                (
                    &["ZUNION", "1", "a", "WEIGHTS", "x"],
                    e("ERR weight value is not a float"),
                ),
                (&["ZDIFF", "1", "a", "WEIGHTS", "1"], e("ERR syntax error")),
                (
                    &["ZUNIONSTORE", "o", "1", "a", "WITHSCORES"],
                    e("ERR syntax error"),
                ),
                (&["ZUNION", "2", "a", "s", "WEIGHTS", "x"], e(wt)),
            ],
        );
    }

    // Guards the big encoding: conversion, ranks and deep offsets on a set of thousands.
    #[test]
    fn big_sets_rank_and_range() {
        let mut h = Harness::new();
        for i in 0..3000 {
            let (s, m) = ((i % 100).to_string(), format!("m{i:05}"));
            h.run(&["ZADD", "z", &s, &m]);
        }
        assert_eq!(h.run(&["OBJECT", "ENCODING", "z"]), b("skiplist"));
        assert_eq!(h.run(&["ZCARD", "z"]), Reply::Int(3000));
        // Score 0 holds m00000, m00100, ...: 30 members per score.
        assert_eq!(h.run(&["ZRANK", "z", "m00100"]), Reply::Int(1));
        assert_eq!(h.run(&["ZRANGE", "z", "30", "30"]), arr(&["m00001"]));
        assert_eq!(
            h.run(&["ZRANGE", "z", "(98", "+inf", "BYSCORE", "LIMIT", "29", "5"]),
            arr(&["m02999"])
        );
        assert_eq!(
            h.run(&["ZREMRANGEBYSCORE", "z", "10", "89"]),
            Reply::Int(2400)
        );
        assert_eq!(h.run(&["ZREVRANK", "z", "m00000"]), Reply::Int(599));
        assert_eq!(h.run(&["ZSCORE", "z", "m00050"]), Reply::Nil);
    }

    // Guards ZRANDMEMBER counts: distinct vs repeated, WITHSCORES, and its range errors.
    #[test]
    fn randmember_counts() {
        let mut h = Harness::new();
        h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(h.run(&["ZRANDMEMBER", "z", "5"]), arr(&["c", "b", "a"]));
        let Reply::Array(v) = h.run(&["ZRANDMEMBER", "z", "-7", "WITHSCORES"]) else {
            panic!("array expected");
        };
        assert_eq!(v.len(), 14);
        let Reply::Array(v) = h.run(&["ZRANDMEMBER", "z", "2"]) else {
            panic!("array expected");
        };
        assert!(v.len() == 2 && v[0] != v[1]);
        assert_eq!(h.run(&["ZRANDMEMBER", "none"]), Reply::Nil);
        assert_eq!(
            h.run(&["ZRANDMEMBER", "z", "1", "x"]),
            e("ERR syntax error")
        );
        let huge = "-9223372036854775807";
        assert_eq!(
            h.run(&["ZRANDMEMBER", "z", huge, "WITHSCORES"]),
            e("ERR value is out of range")
        );
        assert!(matches!(
            h.run(&["ZRANDMEMBER", "z", huge]),
            Reply::Error(_)
        ));
    }

    // Guards ZSCAN: whole small sets at once, cursor walks over big ones, and option errors.
    #[test]
    fn zscan_cursor_walk() {
        let mut h = Harness::new();
        h.run(&["ZADD", "s", "1", "a", "2", "b"]);
        assert_eq!(
            h.run(&["ZSCAN", "s", "0", "MATCH", "b*"]),
            Reply::Array(vec![b("0"), arr(&["b", "2"])])
        );
        for i in 0..500 {
            h.run(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        }
        let (mut cursor, mut seen) = ("0".to_string(), 0);
        loop {
            let Reply::Array(v) = h.run(&["ZSCAN", "z", &cursor, "COUNT", "64"]) else {
                panic!("array expected");
            };
            let (Reply::Bulk(c), Reply::Array(items)) = (&v[0], &v[1]) else {
                panic!("cursor and items expected");
            };
            seen += items.len() / 2;
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen, 500);
        assert_eq!(h.run(&["ZSCAN", "z", "x"]), e("ERR invalid cursor"));
        assert_eq!(
            h.run(&["ZSCAN", "z", "0", "COUNT", "0"]),
            e("ERR syntax error")
        );
        assert_eq!(
            h.run(&["ZSCAN", "z", "0", "TYPE", "zset"]),
            e("ERR syntax error")
        );
    }

    // Guards WRONGTYPE on every family entry point.
    #[test]
    fn wrong_type_everywhere() {
        let mut h = Harness::new();
        h.run(&["SET", "s", "v"]);
        let wt = e("WRONGTYPE Operation against a key holding the wrong kind of value");
        for argv in [
            &["ZADD", "s", "1", "a"][..],
            &["ZCARD", "s"],
            &["ZSCORE", "s", "a"],
            &["ZRANGE", "s", "0", "1"],
            &["ZPOPMIN", "s", "0"],
            &["ZMPOP", "1", "s", "MIN"],
            &["ZRANGESTORE", "d", "s", "0", "1"],
            &["ZREMRANGEBYRANK", "s", "0", "1"],
            &["ZINTERCARD", "1", "s"],
            &["ZRANDMEMBER", "s"],
            &["ZSCAN", "s", "0"],
        ] {
            assert_eq!(h.run(argv), wt, "{argv:?}");
        }
    }

    // Guards the blocking try halves: timeout parsing, serving, and the keys to wait on.
    #[test]
    fn blocking_try_halves() {
        use super::{bzmpop_try, bzpop_try, parse_timeout, BlockTry};
        use crate::commands::Exec;
        use crate::resp::{Out, OwnedArgs};
        let neg = Err(crate::resp::ReplyError::other("ERR timeout is negative"));
        assert_eq!(parse_timeout(b"-1", 0), neg);
        assert_eq!(parse_timeout(b"inf", 0), neg);
        assert!(parse_timeout(b"x", 0).is_err());
        assert!(parse_timeout(b"", 0).is_err());
        assert_eq!(parse_timeout(b"-0.0001", 5), Ok(0));
        assert_eq!(parse_timeout(b"1.5", 1000), Ok(2500));
        let mut h = Harness::new();
        h.run(&["ZADD", "z", "1", "a", "2", "b"]);
        let mut buf = Vec::new();
        let now_ms = h.now_ms;
        let mut ex = Exec::new(&mut h.shard, Out::new(&mut buf, Proto::Resp2), now_ms);
        let a = OwnedArgs::from_slices(&[b"BZPOPMAX", b"none", b"z", b"0"]);
        assert_eq!(bzpop_try(&mut ex, a.args(), true), Ok(BlockTry::Served));
        let a = OwnedArgs::from_slices(&[b"BZMPOP", b"2", b"1", b"none", b"MIN"]);
        let want = BlockTry::Block {
            keys: vec![b"none".to_vec()],
            deadline_ms: now_ms + 2000,
        };
        assert_eq!(bzmpop_try(&mut ex, a.args()), Ok(want));
        assert_eq!(buf, b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n");
    }

    // Guards the command table: arity, flags, keys and docs as Redis 7.0 lists them.
    #[test]
    fn command_table_metadata() {
        use crate::commands::flags::*;
        use crate::commands::{lookup, KeySpec};
        let cases = [
            ("zadd", -4, WRITE | DENYOOM | FAST),
            ("zrange", -4, READONLY),
            ("zrangestore", -5, WRITE | DENYOOM | MULTI_KEY),
            ("zmpop", -4, WRITE | MULTI_KEY),
            ("zunionstore", -4, WRITE | DENYOOM | MULTI_KEY),
            ("zscan", -3, READONLY),
        ];
        for (name, arity, flags) in cases {
            let spec = lookup(name.as_bytes()).expect("registered");
            assert_eq!(
                (spec.arity, spec.flags, spec.group),
                (arity, flags, "sorted-set")
            );
            assert!(
                !spec.args.is_empty() && !spec.complexity.is_empty(),
                "{name}"
            );
        }
        let spec = lookup(b"zunionstore").expect("registered");
        assert!(matches!(spec.keys, KeySpec::Custom(_)));
        let a = crate::resp::OwnedArgs::from_slices(&[b"zunionstore", b"d", b"2", b"a", b"b"]);
        assert_eq!(spec.key_positions(a.args()), Ok(vec![1, 3, 4]));
        let a = crate::resp::OwnedArgs::from_slices(&[b"zunion", b"5", b"a"]);
        let zunion = lookup(b"zunion").expect("registered");
        assert_eq!(zunion.key_positions(a.args()), Ok(vec![]));
    }
}
