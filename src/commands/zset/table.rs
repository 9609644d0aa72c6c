//! The sorted-set command table: key specs, argument docs and the `CommandSpec` of every Z*
//! command (blocking ones apart, for the event loop).

use super::*;
use crate::commands::spec::{arg, block, multi, oneof, opt, pure, since, tok, K1, K12, K_BUT_LAST};
use crate::commands::spec::{key_numkeys, key_range};
use crate::commands::spec::{keyflag, TIMEOUT_AS_DOUBLE};

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
    CommandSpec::keyed(name, arity, flags, keys, f)
        .group("sorted-set", crate::commands::spec::acl::SORTEDSET)
}

const DOC_ZADD: &[ArgDoc] = &[
    arg("key", "key"),
    since(
        "3.0.2",
        opt(oneof("condition", &[pure("nx", "NX"), pure("xx", "XX")])),
    ),
    since(
        "6.2.0",
        opt(oneof("comparison", &[pure("gt", "GT"), pure("lt", "LT")])),
    ),
    since("3.0.2", opt(pure("change", "CH"))),
    since("3.0.2", opt(pure("increment", "INCR"))),
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
    since(
        "6.2.0",
        opt(oneof(
            "sortby",
            &[pure("byscore", "BYSCORE"), pure("bylex", "BYLEX")],
        )),
    ),
    since("6.2.0", opt(pure("rev", "REV"))),
    since(
        "6.2.0",
        opt(tok(
            "LIMIT",
            block(
                "offset_count",
                &[arg("offset", "integer"), arg("count", "integer")],
            ),
        )),
    ),
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
    since("2.0.0", opt(pure("withscores", "WITHSCORES"))),
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
    spec("zadd", -4, WRITE | DENYOOM | FAST, K1, zadd)
        .since("1.2.0")
        .doc(
            "O(log(N)) for each item added, where N is the number of elements in \
             the sorted set.",
            "Adds members with scores, or updates their scores; creates the key when absent.",
            DOC_ZADD,
        )
        .history(&[
            ("2.4.0", "Accepts multiple elements."),
            ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
            ("6.2.0", "Added the `GT` and `LT` options."),
        ]),
    spec("zincrby", 4, WRITE | DENYOOM | FAST, K1, zincrby)
        .since("1.2.0")
        .doc(
            "O(log(N)) where N is the number of elements in the sorted set.",
            "Adds an increment to one member's score.",
            DOC_ZINCRBY,
        )
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("zrem", -3, WRITE | FAST, K1, zrem)
        .since("1.2.0")
        .doc(
            "O(M*log(N)) with N being the number of elements in the sorted set and \
             M the number of elements to be removed.",
            "Removes members from a sorted set.",
            DOC_ZREM,
        )
        .access(keyflag::RW | keyflag::DELETE)
        .history(&[("2.4.0", "Accepts multiple elements.")]),
    spec("zcard", 2, READONLY | FAST, K1, zcard)
        .since("1.2.0")
        .doc("O(1)", "Counts the members of a sorted set.", DOC_ZCARD)
        .access(keyflag::RO),
    spec("zcount", 4, READONLY | FAST, K1, zcount)
        .since("2.0.0")
        .doc(
            "O(log(N)) with N being the number of elements in the sorted set.",
            "Counts the members whose score lies in a range.",
            DOC_ZCOUNT,
        ),
    spec("zscore", 3, READONLY | FAST, K1, zscore)
        .since("1.2.0")
        .doc("O(1)", "Returns one member's score.", DOC_ZSCORE),
    spec("zmscore", -3, READONLY | FAST, K1, zmscore)
        .since("6.2.0")
        .doc(
            "O(N) where N is the number of members being requested.",
            "Returns the scores of several members.",
            DOC_ZMSCORE,
        ),
    spec("zrank", 3, READONLY | FAST, K1, zrank)
        .since("2.0.0")
        .doc(
            "O(log(N))",
            "Returns a member's position counted from the lowest score.",
            DOC_ZRANK,
        ),
    spec("zrevrank", 3, READONLY | FAST, K1, zrevrank)
        .since("2.0.0")
        .doc(
            "O(log(N))",
            "Returns a member's position counted from the highest score.",
            DOC_ZREVRANK,
        ),
    spec("zrange", -4, READONLY, K1, zrange)
        .since("1.2.0")
        .doc(
            "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements returned.",
            "Returns members by position, score or lexical range, in either direction.",
            DOC_ZRANGE,
        )
        .history(&[(
            "6.2.0",
            "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options.",
        )]),
    spec(
        "zrangestore",
        -5,
        WRITE | DENYOOM | MULTI_KEY,
        K12,
        zrangestore,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::OW | keyflag::UPDATE),
        key_range(2, 0, keyflag::RO | keyflag::ACCESS),
    ])
    .since("6.2.0")
    .doc(
        "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements stored into the destination key.",
        "Stores a range of a sorted set at another key.",
        DOC_ZRANGESTORE,
    ),
    spec("zrevrange", -4, READONLY, K1, zrevrange)
        .since("1.2.0")
        .doc(
            "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements returned.",
            "Returns members by position, highest score first.",
            DOC_ZREVRANGE,
        )
        .deprecated("6.2.0", "`ZRANGE` with the `REV` argument"),
    spec("zrangebyscore", -4, READONLY, K1, zrangebyscore)
        .since("1.0.5")
        .doc(
            RANGE_COMPLEXITY,
            "Returns members whose score lies in a range, lowest first.",
            DOC_ZRANGEBYSCORE,
        )
        .history(&[("2.0.0", "Added the `WITHSCORES` modifier.")])
        .deprecated("6.2.0", "`ZRANGE` with the `BYSCORE` argument"),
    spec("zrevrangebyscore", -4, READONLY, K1, zrevrangebyscore)
        .since("2.2.0")
        .doc(
            RANGE_COMPLEXITY,
            "Returns members whose score lies in a range, highest first.",
            DOC_ZREVRANGEBYSCORE,
        )
        .history(&[("2.1.6", "`min` and `max` can be exclusive.")])
        .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments"),
    spec("zrangebylex", -4, READONLY, K1, zrangebylex)
        .since("2.8.9")
        .doc(
            RANGE_COMPLEXITY,
            "Returns members in a lexical range, for sets with equal scores.",
            DOC_ZRANGEBYLEX,
        )
        .deprecated("6.2.0", "`ZRANGE` with the `BYLEX` argument"),
    spec("zrevrangebylex", -4, READONLY, K1, zrevrangebylex)
        .since("2.8.9")
        .doc(
            RANGE_COMPLEXITY,
            "Returns members in a lexical range in reverse order.",
            DOC_ZREVRANGEBYLEX,
        )
        .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"),
    spec("zlexcount", 4, READONLY | FAST, K1, zlexcount)
        .since("2.8.9")
        .doc(
            "O(log(N)) with N being the number of elements in the sorted set.",
            "Counts the members in a lexical range.",
            DOC_ZLEXCOUNT,
        ),
    spec("zpopmin", -2, WRITE | FAST, K1, zpopmin)
        .since("5.0.0")
        .doc(
            "O(log(N)*M) with N being the number of elements in the sorted set, and \
             M being the number of elements popped.",
            "Removes and returns the members with the lowest scores.",
            DOC_ZPOPMIN,
        )
        .access(keyflag::RW_ACCESS_DELETE),
    spec("zpopmax", -2, WRITE | FAST, K1, zpopmax)
        .since("5.0.0")
        .doc(
            "O(log(N)*M) with N being the number of elements in the sorted set, and \
             M being the number of elements popped.",
            "Removes and returns the members with the highest scores.",
            DOC_ZPOPMAX,
        )
        .access(keyflag::RW_ACCESS_DELETE),
    spec("zmpop", -4, WRITE | MULTI_KEY, K_NUMKEYS1, zmpop)
        .key_specs(&[key_numkeys(1, keyflag::RW_ACCESS_DELETE)])
        .since("7.0.0")
        .doc(
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the \
             number of elements in the sorted set, and M being the number of \
             elements popped.",
            "Pops members from the first non-empty sorted set among several keys.",
            DOC_ZMPOP,
        ),
    spec("zremrangebyrank", 4, WRITE, K1, zremrangebyrank)
        .since("2.0.0")
        .doc(
            "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements removed by the operation.",
            "Removes the members in a range of positions.",
            DOC_ZREMRANGEBYRANK,
        )
        .access(keyflag::RW | keyflag::DELETE),
    spec("zremrangebyscore", 4, WRITE, K1, zremrangebyscore)
        .since("1.2.0")
        .doc(
            "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements removed by the operation.",
            "Removes the members whose score lies in a range.",
            DOC_ZREMRANGEBYSCORE,
        )
        .access(keyflag::RW | keyflag::DELETE),
    spec("zremrangebylex", 4, WRITE, K1, zremrangebylex)
        .since("2.8.9")
        .doc(
            "O(log(N)+M) with N being the number of elements in the sorted set and \
             M the number of elements removed by the operation.",
            "Removes the members in a lexical range.",
            DOC_ZREMRANGEBYLEX,
        )
        .access(keyflag::RW | keyflag::DELETE),
    spec("zunion", -3, READONLY | MULTI_KEY, K_NUMKEYS1, zunion)
        .key_specs(&[key_numkeys(1, keyflag::RO | keyflag::ACCESS)])
        .since("6.2.0")
        .doc(
            "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted \
             sets, and M being the number of elements in the resulting sorted set.",
            "Returns the union of sorted sets.",
            DOC_ZUNION,
        ),
    spec("zinter", -3, READONLY | MULTI_KEY, K_NUMKEYS1, zinter)
        .key_specs(&[key_numkeys(1, keyflag::RO | keyflag::ACCESS)])
        .since("6.2.0")
        .doc(
            "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted \
             set, K being the number of input sorted sets and M being the number of \
             elements in the resulting sorted set.",
            "Returns the intersection of sorted sets.",
            DOC_ZINTER,
        ),
    spec("zdiff", -3, READONLY | MULTI_KEY, K_NUMKEYS1, zdiff)
        .key_specs(&[key_numkeys(1, keyflag::RO | keyflag::ACCESS)])
        .since("6.2.0")
        .doc(
            "O(L + (N-K)log(N)) worst case where L is the total number of elements \
             in all the sets, N is the size of the first set, and K is the size of \
             the result set.",
            "Returns the members of the first sorted set missing from the others.",
            DOC_ZDIFF,
        ),
    spec(
        "zunionstore",
        -4,
        WRITE | DENYOOM | MULTI_KEY,
        K_NUMKEYS2,
        zunionstore,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::OW | keyflag::UPDATE),
        key_numkeys(2, keyflag::RO | keyflag::ACCESS),
    ])
    .since("2.0.0")
    .doc(
        "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted \
             sets, and M being the number of elements in the resulting sorted set.",
        "Stores the union of sorted sets at a key.",
        DOC_ZUNIONSTORE,
    ),
    spec(
        "zinterstore",
        -4,
        WRITE | DENYOOM | MULTI_KEY,
        K_NUMKEYS2,
        zinterstore,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::OW | keyflag::UPDATE),
        key_numkeys(2, keyflag::RO | keyflag::ACCESS),
    ])
    .since("2.0.0")
    .doc(
        "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted \
             set, K being the number of input sorted sets and M being the number of \
             elements in the resulting sorted set.",
        "Stores the intersection of sorted sets at a key.",
        DOC_ZINTERSTORE,
    ),
    spec(
        "zdiffstore",
        -4,
        WRITE | DENYOOM | MULTI_KEY,
        K_NUMKEYS2,
        zdiffstore,
    )
    .key_specs(&[
        key_range(1, 0, keyflag::OW | keyflag::UPDATE),
        key_numkeys(2, keyflag::RO | keyflag::ACCESS),
    ])
    .since("6.2.0")
    .doc(
        "O(L + (N-K)log(N)) worst case where L is the total number of elements \
             in all the sets, N is the size of the first set, and K is the size of \
             the result set.",
        "Stores the difference of sorted sets at a key.",
        DOC_ZDIFFSTORE,
    ),
    spec(
        "zintercard",
        -3,
        READONLY | MULTI_KEY,
        K_NUMKEYS1,
        zintercard,
    )
    .key_specs(&[key_numkeys(1, keyflag::RO | keyflag::ACCESS)])
    .since("7.0.0")
    .doc(
        "O(N*K) worst case with N being the smallest input sorted set, K being \
             the number of input sorted sets.",
        "Counts the members of the intersection of sorted sets.",
        DOC_ZINTERCARD,
    ),
    spec("zrandmember", -2, READONLY, K1, zrandmember)
        .since("6.2.0")
        .doc(
            "O(N) where N is the number of elements returned",
            "Returns random members, distinct or with repeats.",
            DOC_ZRANDMEMBER,
        )
        .tips(&["nondeterministic_output"]),
    spec("zscan", -3, READONLY, K1, zscan)
        .since("2.8.0")
        .doc(
            "O(1) for every call. O(N) for a complete iteration, including enough \
             command calls for the cursor to return back to 0. N is the number of \
             elements inside the collection..",
            "Iterates over members and scores with a cursor.",
            DOC_ZSCAN,
        )
        .tips(&["nondeterministic_output"]),
];

/// Commands with a blocking form, not registered yet: the handlers here never block (they
/// answer as Redis does inside MULTI when nothing is ready). The event loop wires the real
/// blocking through `bzpop_try` / `bzmpop_try`, then adds these to the table.
pub static BLOCKING_COMMANDS: &[CommandSpec] = &[
    spec(
        "bzpopmin",
        -3,
        WRITE | NOSCRIPT | FAST | MULTI_KEY,
        K_BUT_LAST,
        bzpopmin,
    )
    .since("5.0.0")
    .doc(
        "O(log(N)) with N being the number of elements in the sorted set.",
        "Pops the member with the lowest score from the first non-empty key, \
                  waiting when all are empty.",
        DOC_BZPOPMIN,
    )
    .access(keyflag::RW_ACCESS_DELETE)
    .blocking()
    .history(TIMEOUT_AS_DOUBLE),
    spec(
        "bzpopmax",
        -3,
        WRITE | NOSCRIPT | FAST | MULTI_KEY,
        K_BUT_LAST,
        bzpopmax,
    )
    .since("5.0.0")
    .doc(
        "O(log(N)) with N being the number of elements in the sorted set.",
        "Pops the member with the highest score from the first non-empty key, \
                  waiting when all are empty.",
        DOC_BZPOPMAX,
    )
    .access(keyflag::RW_ACCESS_DELETE)
    .blocking()
    .history(TIMEOUT_AS_DOUBLE),
    spec(
        "bzmpop",
        -5,
        WRITE | MULTI_KEY,
        KeySpec::Custom(keys_bzmpop),
        bzmpop,
    )
    .key_specs(&[key_numkeys(2, keyflag::RW_ACCESS_DELETE)])
    .since("7.0.0")
    .doc(
        "O(K) + O(M*log(N)) where K is the number of provided keys, N being the \
                     number of elements in the sorted set, and M being the number of \
                     elements popped.",
        "Pops members from the first non-empty sorted set, waiting when all are \
                  empty.",
        DOC_BZMPOP,
    )
    .blocking(),
];

/// Complexity of the range queries: N members in the set, M returned.
const RANGE_COMPLEXITY: &str = "O(log(N)+M), N the size of the sorted set, M the members returned";
