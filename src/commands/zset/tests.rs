//! Unit tests of the sorted-set commands, run through the test harness.

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
