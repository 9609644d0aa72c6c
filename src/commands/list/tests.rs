//! Unit tests of the list commands.

use super::table::WDF;
use super::*;
use crate::resp::{OwnedArgs, Proto};
use crate::testkit::{Harness, Reply};

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";

/// Runs each command line (split on spaces) and compares the raw reply bytes, which were
/// taken from redis-server 7.0.15.
fn raw_all(h: &mut Harness, cases: &[(&str, &str)]) {
    for (line, want) in cases {
        let argv: Vec<&str> = line.split(' ').collect();
        let got = h.raw(&argv);
        assert_eq!(String::from_utf8_lossy(&got), *want, "{line}");
    }
}

fn resp3() -> Harness {
    let mut h = Harness::new();
    assert!(matches!(h.run(&["HELLO", "3"]), Reply::Map(_)));
    h
}

fn args(v: &[&str]) -> OwnedArgs {
    let v: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
    OwnedArgs::from_slices(&v)
}

/// Calls a try function directly (blocking commands are not in the table yet).
fn try_cmd(
    h: &mut Harness,
    f: fn(&mut Exec<'_>, Args<'_>) -> Result<BlockTry, ReplyError>,
    argv: &[&str],
) -> (Result<BlockTry, ReplyError>, String) {
    let a = args(argv);
    let mut buf = Vec::new();
    let now = h.now_ms;
    let r = {
        let mut ex = Exec::new(&mut h.shard, Out::new(&mut buf, Proto::Resp2), now);
        f(&mut ex, a.args())
    };
    (r, String::from_utf8_lossy(&buf).into_owned())
}

#[test]
fn push_and_pushx() {
    // Guards push order, returned lengths, PUSHX on missing keys and WRONGTYPE.
    let mut h = Harness::new();
    raw_all(
        &mut h,
        &[
            ("SET s x", "+OK\r\n"),
            ("LPUSH l a b c", ":3\r\n"),
            ("RPUSH l d", ":4\r\n"),
            (
                "LRANGE l 0 -1",
                "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n",
            ),
            ("LPUSHX nokey a", ":0\r\n"),
            ("RPUSHX nokey a b", ":0\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("LPUSHX l x y", ":6\r\n"),
            ("RPUSHX l z", ":7\r\n"),
            ("LPUSH s a", WRONGTYPE),
            ("RPUSHX s a", WRONGTYPE),
            (
                "LPUSH l",
                "-ERR wrong number of arguments for 'lpush' command\r\n",
            ),
            ("TYPE l", "+list\r\n"),
            ("OBJECT ENCODING l", "$9\r\nquicklist\r\n"),
        ],
    );
}

#[test]
fn pop_with_and_without_count() {
    // Guards LPOP/RPOP replies: count 0, counts past the end, missing keys, bad counts.
    let mut h = Harness::new();
    let range_err = "-ERR value is out of range, must be positive\r\n";
    raw_all(
        &mut h,
        &[
            ("LPOP nokey", "$-1\r\n"),
            ("LPOP nokey 0", "*-1\r\n"),
            ("LPOP nokey 2", "*-1\r\n"),
            ("LPOP nokey -1", range_err),
            ("LPOP nokey abc", range_err),
            (
                "LPOP nokey 1 2",
                "-ERR wrong number of arguments for 'lpop' command\r\n",
            ),
            (
                "RPOP nokey 1 2",
                "-ERR wrong number of arguments for 'rpop' command\r\n",
            ),
            ("RPUSH l a b c", ":3\r\n"),
            ("LPOP l 0", "*0\r\n"),
            ("LPOP l 1", "*1\r\n$1\r\na\r\n"),
            ("RPOP l", "$1\r\nc\r\n"),
            ("RPUSH l c d", ":3\r\n"),
            ("RPOP l 10", "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"),
            ("EXISTS l", ":0\r\n"),
            ("RPUSH l a", ":1\r\n"),
            ("LPOP l 9223372036854775807", "*1\r\n$1\r\na\r\n"),
            ("SET s x", "+OK\r\n"),
            ("LPOP s", WRONGTYPE),
            ("LPOP s 0", WRONGTYPE),
            ("LPOP s -1", range_err),
        ],
    );
}

#[test]
fn nulls_in_resp3() {
    // Guards the RESP3 null forms of the list replies.
    let mut h = resp3();
    raw_all(
        &mut h,
        &[
            ("LPOP nokey", "_\r\n"),
            ("LPOP nokey 1", "_\r\n"),
            ("LINDEX nokey 0", "_\r\n"),
            ("LPOS nokey a", "_\r\n"),
            ("LPOS nokey a COUNT 1", "*0\r\n"),
            ("LMPOP 1 nokey LEFT", "_\r\n"),
            ("LMOVE nokey d LEFT RIGHT", "_\r\n"),
            ("LRANGE nokey 0 -1", "*0\r\n"),
            ("RPUSH l a b", ":2\r\n"),
            ("LMPOP 1 l LEFT", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"),
        ],
    );
}

#[test]
fn llen_lrange_lindex() {
    // Guards reads: clamping, huge and overflowing indexes, argument-vs-key error order.
    let mut h = Harness::new();
    raw_all(
        &mut h,
        &[
            ("SET s x", "+OK\r\n"),
            ("LLEN nokey", ":0\r\n"),
            ("LLEN s", WRONGTYPE),
            ("RPUSH l a b c d e", ":5\r\n"),
            ("LLEN l", ":5\r\n"),
            ("LRANGE nokey 0 -1", "*0\r\n"),
            ("LRANGE nokey a 1", NOT_INT),
            ("LRANGE s 0 -1", WRONGTYPE),
            ("LRANGE s a 1", NOT_INT),
            ("LRANGE l -2 -1", "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"),
            ("LRANGE l 3 1", "*0\r\n"),
            ("LRANGE l 5 10", "*0\r\n"),
            ("LRANGE l 4 9223372036854775807", "*1\r\n$1\r\ne\r\n"),
            ("LRANGE l -9223372036854775808 0", "*1\r\n$1\r\na\r\n"),
            (
                "LRANGE l -9223372036854775808 -9223372036854775808",
                "*0\r\n",
            ),
            ("LRANGE l 0 99999999999999999999", NOT_INT),
            ("LINDEX l 0", "$1\r\na\r\n"),
            ("LINDEX l -1", "$1\r\ne\r\n"),
            ("LINDEX l 5", "$-1\r\n"),
            ("LINDEX l -6", "$-1\r\n"),
            ("LINDEX l x", NOT_INT),
            ("LINDEX nokey x", "$-1\r\n"),
            ("LINDEX s x", WRONGTYPE),
        ],
    );
}

#[test]
fn lset_and_linsert() {
    // Guards LSET's error order and LINSERT's pivot search and replies.
    let mut h = Harness::new();
    raw_all(
        &mut h,
        &[
            ("SET s x", "+OK\r\n"),
            ("RPUSH l a b c d e", ":5\r\n"),
            ("LSET nokey x x", "-ERR no such key\r\n"),
            ("LSET s x x", WRONGTYPE),
            ("LSET l x x", NOT_INT),
            ("LSET l 5 x", "-ERR index out of range\r\n"),
            ("LSET l -6 x", "-ERR index out of range\r\n"),
            ("LSET l -1 z", "+OK\r\n"),
            ("LINSERT nokey before a x", ":0\r\n"),
            ("LINSERT nokey middle a x", SYNTAX),
            ("LINSERT s before a x", WRONGTYPE),
            ("LINSERT s middle a x", SYNTAX),
            ("LINSERT l before zz x", ":-1\r\n"),
            ("LINSERT l BEFORE a x", ":6\r\n"),
            ("LINSERT l AfTeR z y", ":7\r\n"),
            ("LINSERT l after c c2", ":8\r\n"),
        ],
    );
    let all = h.run(&["LRANGE", "l", "0", "-1"]);
    let want = ["x", "a", "b", "c", "c2", "d", "z", "y"].map(Reply::bulk);
    assert_eq!(all, Reply::Array(want.to_vec()));
}

#[test]
fn lrem_and_ltrim() {
    // Guards removal counts in both directions, key deletion when emptied, and errors.
    let mut h = Harness::new();
    raw_all(
        &mut h,
        &[
            ("SET s x", "+OK\r\n"),
            ("LREM nokey 0 a", ":0\r\n"),
            ("LREM nokey x a", NOT_INT),
            ("LREM s 0 a", WRONGTYPE),
            ("LREM s x a", NOT_INT),
            ("RPUSH r a b a c a d a", ":7\r\n"),
            ("LREM r 2 a", ":2\r\n"),
            ("LREM r -1 a", ":1\r\n"),
            (
                "LRANGE r 0 -1",
                "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n",
            ),
            ("LREM r -9223372036854775808 b", ":1\r\n"),
            ("LREM r 0 a", ":1\r\n"),
            ("LREM r 9223372036854775807 c", ":1\r\n"),
            ("LREM r 0 d", ":1\r\n"),
            ("EXISTS r", ":0\r\n"),
            ("LTRIM nokey 0 1", "+OK\r\n"),
            ("LTRIM nokey x 1", NOT_INT),
            ("LTRIM s 0 1", WRONGTYPE),
            ("LTRIM s x 1", NOT_INT),
            ("RPUSH t a b c d e", ":5\r\n"),
            ("LTRIM t 1 -2", "+OK\r\n"),
            ("LRANGE t 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            (
                "LTRIM t -9223372036854775808 9223372036854775807",
                "+OK\r\n",
            ),
            ("LLEN t", ":3\r\n"),
            ("LTRIM t 2 1", "+OK\r\n"),
            ("EXISTS t", ":0\r\n"),
        ],
    );
}

#[test]
fn lpos_options_and_errors() {
    // Guards LPOS: RANK/COUNT/MAXLEN semantics, their error texts and precedence.
    let mut h = Harness::new();
    let rank0 = "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                 second ... or use negative to start from the end of the list\r\n";
    let count_neg = "-ERR COUNT can't be negative\r\n";
    let maxlen_neg = "-ERR MAXLEN can't be negative\r\n";
    raw_all(
        &mut h,
        &[
            ("SET s x", "+OK\r\n"),
            ("RPUSH l a b c a b c a", ":7\r\n"),
            ("LPOS l a", ":0\r\n"),
            ("LPOS l a RANK 2", ":3\r\n"),
            ("LPOS l a rank -1", ":6\r\n"),
            ("LPOS l a rank -2", ":3\r\n"),
            ("LPOS l a rank 0", rank0),
            ("LPOS l a rank x", NOT_INT),
            ("LPOS l a rank -9223372036854775808", ":6\r\n"),
            ("LPOS l a rank 9223372036854775807", "$-1\r\n"),
            ("LPOS l a count 0", "*3\r\n:0\r\n:3\r\n:6\r\n"),
            ("LPOS l a count 2", "*2\r\n:0\r\n:3\r\n"),
            ("LPOS l a count -1", count_neg),
            ("LPOS l a count x", count_neg),
            ("LPOS l a maxlen -1", maxlen_neg),
            ("LPOS l a maxlen x", maxlen_neg),
            ("LPOS l a maxlen 0", ":0\r\n"),
            ("LPOS l a maxlen 3 count 0", "*1\r\n:0\r\n"),
            ("LPOS l a rank -1 count 2 maxlen 2", "*1\r\n:6\r\n"),
            (
                "LPOS l a rank -9223372036854775808 count 1",
                "*3\r\n:6\r\n:3\r\n:0\r\n",
            ),
            ("LPOS l a rank -2 count 1 maxlen 4", "*1\r\n:3\r\n"),
            (
                "LPOS l a count 9223372036854775807",
                "*3\r\n:0\r\n:3\r\n:6\r\n",
            ),
            ("LPOS l a rank 1 rank 2", ":3\r\n"),
            ("LPOS l z", "$-1\r\n"),
            ("LPOS l z count 0", "*0\r\n"),
            ("LPOS nokey a", "$-1\r\n"),
            ("LPOS nokey a count 1", "*0\r\n"),
            ("LPOS nokey a rank 0", rank0),
            ("LPOS s a", WRONGTYPE),
            ("LPOS s a rank 0", rank0),
            ("LPOS l a rank", SYNTAX),
            ("LPOS l a foo 1", SYNTAX),
            ("LPOS s a foo", SYNTAX),
        ],
    );
}

#[test]
fn lmove_and_rpoplpush() {
    // Guards moves: directions, same-key rotation, a last element moved onto itself,
    // WRONGTYPE on either side, syntax before anything else.
    let mut h = Harness::new();
    raw_all(
        &mut h,
        &[
            ("SET s x", "+OK\r\n"),
            ("RPUSH m 1 2 3", ":3\r\n"),
            ("LMOVE m d left right", "$1\r\n1\r\n"),
            ("LMOVE m d left middle", SYNTAX),
            ("LMOVE nokey d left middle", SYNTAX),
            ("LMOVE nokey d left right", "$-1\r\n"),
            ("LMOVE s d left right", WRONGTYPE),
            ("LMOVE m s left right", WRONGTYPE),
            ("LMOVE nokey s left right", "$-1\r\n"),
            ("LMOVE m m LEFT RIGHT", "$1\r\n2\r\n"),
            ("LRANGE m 0 -1", "*2\r\n$1\r\n3\r\n$1\r\n2\r\n"),
            ("RPOPLPUSH m d", "$1\r\n2\r\n"),
            ("LRANGE d 0 -1", "*2\r\n$1\r\n2\r\n$1\r\n1\r\n"),
            ("RPOPLPUSH nokey d", "$-1\r\n"),
            ("RPOPLPUSH s d", WRONGTYPE),
            ("RPOPLPUSH m s", WRONGTYPE),
            ("RPUSH one x", ":1\r\n"),
            ("RPOPLPUSH one one", "$1\r\nx\r\n"),
            ("LRANGE one 0 -1", "*1\r\n$1\r\nx\r\n"),
            ("LMOVE one two LEFT LEFT", "$1\r\nx\r\n"),
            ("EXISTS one", ":0\r\n"),
            ("LRANGE two 0 -1", "*1\r\n$1\r\nx\r\n"),
        ],
    );
}

#[test]
fn lmpop_arguments_and_replies() {
    // Guards LMPOP's numkeys/where/COUNT grammar, error texts and first-list choice.
    let mut h = Harness::new();
    let numkeys = "-ERR numkeys should be greater than 0\r\n";
    let count = "-ERR count should be greater than 0\r\n";
    raw_all(
        &mut h,
        &[
            ("SET s x", "+OK\r\n"),
            ("RPUSH l a b c d e", ":5\r\n"),
            ("LMPOP 1 l left", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"),
            (
                "LMPOP 1 l RIGHT COUNT 2",
                "*2\r\n$1\r\nl\r\n*2\r\n$1\r\ne\r\n$1\r\nd\r\n",
            ),
            (
                "LMPOP 2 nokey l left count 10",
                "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            ("EXISTS l", ":0\r\n"),
            ("LMPOP 2 nokey l left", "*-1\r\n"),
            ("LMPOP 0 l left", numkeys),
            ("LMPOP -1 l left", numkeys),
            ("LMPOP x l left", numkeys),
            ("LMPOP 2 l left", SYNTAX),
            ("LMPOP 3 l left", SYNTAX),
            ("LMPOP 9223372036854775807 l left", SYNTAX),
            ("LMPOP 1 l middle", SYNTAX),
            ("LMPOP 1 l left count 0", count),
            ("LMPOP 1 l left count -1", count),
            ("LMPOP 1 l left count x", count),
            ("LMPOP 1 l left count", SYNTAX),
            ("LMPOP 1 l left count 1 count 2", SYNTAX),
            ("LMPOP 1 l left foo 1", SYNTAX),
            ("LMPOP 1 s left", WRONGTYPE),
            ("RPUSH l a", ":1\r\n"),
            ("LMPOP 2 s l left", WRONGTYPE),
            ("LMPOP 2 l s left", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"),
            ("LMPOP 1 l left count 9223372036854775807", "*-1\r\n"),
        ],
    );
}

#[test]
fn lmpop_key_positions() {
    // Guards the movable-keys extraction used for routing and COMMAND GETKEYS.
    let keys = |v: &[&str]| lmpop_keys(args(v).args()).unwrap_or_default();
    assert_eq!(keys(&["lmpop", "2", "a", "b", "left"]), [2, 3]);
    assert_eq!(keys(&["lmpop", "2", "a", "left"]), [2, 3]);
    assert!(keys(&["lmpop", "3", "a", "left"]).is_empty());
    assert!(keys(&["lmpop", "0", "a", "left"]).is_empty());
    assert!(keys(&["lmpop", "9223372036854775807", "a", "left"]).is_empty());
    let bkeys = |v: &[&str]| blmpop_keys(args(v).args()).unwrap_or_default();
    assert_eq!(bkeys(&["blmpop", "0", "2", "a", "b", "left"]), [3, 4]);
}

#[test]
fn dirty_counts_follow_redis() {
    // Guards the change counter (rdb_changes_since_last_save) per command.
    let mut h = Harness::new();
    let cases: &[(&str, u64)] = &[
        ("RPUSH l a b c d e f g", 7),
        ("LPUSHX l x y", 2),
        ("LPUSHX nokey x y", 0),
        ("LPOP l", 1),
        ("LPOP l 2", 2),
        ("LPOP l 0", 0),
        ("RPOP l 10", 6),
        ("RPUSH l a b a c a d", 6),
        ("LREM l 0 a", 3),
        ("LREM l 0 zz", 0),
        ("LINSERT l before b q", 1),
        ("LINSERT l before zz q", 0),
        ("LSET l 0 w", 1),
        ("LTRIM l 1 1", 3),
        ("LTRIM l 0 -1", 0),
        ("RPUSH l 1 2 3 4 5", 5),
        ("LTRIM l 5 10", 5),
        ("RPUSH l 1 2 3 4 5", 5),
        ("LMOVE l m left right", 1),
        ("RPOPLPUSH l l", 1),
        ("LMPOP 1 l left count 2", 2),
        ("LMPOP 1 nokey left", 0),
    ];
    for (line, want) in cases {
        let before = h.shard.dirty;
        let argv: Vec<&str> = line.split(' ').collect();
        h.raw(&argv);
        assert_eq!(h.shard.dirty - before, *want, "{line}");
    }
}

#[test]
fn reads_count_hits_and_misses() {
    // Guards keyspace stats: reads count hits/misses, writes do not.
    let mut h = Harness::new();
    h.run(&["RPUSH", "l", "a"]);
    h.run(&["LPOP", "nokey"]);
    h.run(&["LPUSHX", "nokey", "a"]);
    assert_eq!((h.shard.db.stats.hits, h.shard.db.stats.misses), (0, 0));
    h.run(&["LLEN", "l"]);
    h.run(&["LRANGE", "nokey", "0", "1"]);
    h.run(&["LINDEX", "l", "0"]);
    h.run(&["LPOS", "nokey", "a"]);
    assert_eq!((h.shard.db.stats.hits, h.shard.db.stats.misses), (2, 2));
}

#[test]
fn expired_list_is_absent() {
    // Guards lazy expiry: an expired list reads as missing and is recreated fresh.
    let mut h = Harness::new();
    h.run(&["RPUSH", "l", "a", "b"]);
    h.run(&["PEXPIRE", "l", "100"]);
    h.advance_ms(101);
    assert_eq!(h.run(&["LLEN", "l"]), Reply::Int(0));
    assert_eq!(h.run(&["RPUSH", "l", "c"]), Reply::Int(1));
    assert_eq!(h.run(&["TTL", "l"]), Reply::Int(-1));
}

#[test]
fn huge_ranges_stay_bounded() {
    // Guards that extreme counts and ranges cost the list's size, not the argument's.
    let mut h = Harness::new();
    h.run(&["RPUSH", "l", "a", "b", "a"]);
    let max = "9223372036854775807";
    let min = "-9223372036854775808";
    assert!(matches!(h.run(&["LRANGE", "l", min, max]), Reply::Array(v) if v.len() == 3));
    let pos = h.run(&["LPOS", "l", "a", "COUNT", max, "MAXLEN", max]);
    assert_eq!(pos, Reply::Array(vec![Reply::Int(0), Reply::Int(2)]));
    assert_eq!(h.run(&["LREM", "l", min, "zz"]), Reply::Int(0));
    assert!(matches!(h.run(&["LPOP", "l", max]), Reply::Array(v) if v.len() == 3));
}

#[test]
fn long_elements_round_trip() {
    // Guards elements past the inline size, and binary-safe bytes.
    let mut h = Harness::new();
    let long = "x".repeat(1000);
    h.run(&["RPUSH", "l", &long, "a\r\nb", ""]);
    assert_eq!(h.run(&["LINDEX", "l", "0"]), Reply::bulk(&long));
    assert_eq!(h.run(&["LINDEX", "l", "1"]), Reply::bulk("a\r\nb"));
    assert_eq!(h.run(&["LINDEX", "l", "2"]), Reply::bulk(""));
    assert_eq!(h.run(&["LPOS", "l", ""]), Reply::Int(2));
    assert_eq!(h.run(&["LSET", "l", "0", "y"]), Reply::ok());
    assert_eq!(h.run(&["LREM", "l", "0", &long]), Reply::Int(0));
}

#[test]
fn timeouts_parse_as_redis() {
    // Guards timeout parsing: long double precision, rounding up, and the error texts.
    let neg = Err(ReplyError::other("ERR timeout is negative"));
    let bad = Err(ReplyError::other(
        "ERR timeout is not a float or out of range",
    ));
    let t = |s: &str| parse_timeout(s.as_bytes());
    assert_eq!(t("0"), Ok(0));
    assert_eq!(t("1"), Ok(1000));
    assert_eq!(t("1.5"), Ok(1500));
    assert_eq!(t("0.0001"), Ok(1));
    assert_eq!(t("0.001"), Ok(1));
    assert_eq!(t("-0"), Ok(0));
    assert_eq!(t("-0.0001"), Ok(0));
    // In long double, -0.001 * 1000 is just above -1, so it rounds up to 0 (no error).
    assert_eq!(t("-0.001"), Ok(0));
    assert_eq!(t("1e3"), Ok(1_000_000));
    assert_eq!(t("0x10"), Ok(16_000));
    assert_eq!(t("9223372036854775"), Ok(9_223_372_036_854_775_000));
    assert_eq!(t("-1"), neg);
    assert_eq!(t("-0.0011"), neg);
    assert_eq!(t("inf"), neg);
    assert_eq!(t("-inf"), neg);
    assert_eq!(t("1e30"), neg);
    assert_eq!(t("9223372036854776"), neg);
    assert_eq!(t("abc"), bad);
    assert_eq!(t("nan"), bad);
    assert_eq!(t(" 1"), bad);
    assert_eq!(t("1 "), bad);
    assert_eq!(t(""), bad);
}

#[test]
fn deadlines() {
    // Guards forever, normal and overflowing deadlines.
    assert_eq!(deadline_ms(1000, 0), None);
    assert_eq!(deadline_ms(1000, 500), Some(1500));
    assert_eq!(deadline_ms(1000, i64::MAX as u64), Some(1000));
}

#[test]
fn blocking_tries_serve_or_wait() {
    // Guards the try halves: served replies, wait descriptions, error order.
    let mut h = Harness::new();
    h.run(&["RPUSH", "l", "a", "b", "c"]);
    h.run(&["SET", "s", "x"]);
    let (r, out) = try_cmd(&mut h, try_blpop, &["BLPOP", "nokey", "l", "0"]);
    assert_eq!(
        (r, out.as_str()),
        (Ok(BlockTry::Served), "*2\r\n$1\r\nl\r\n$1\r\na\r\n")
    );
    let (r, out) = try_cmd(&mut h, try_brpop, &["BRPOP", "l", "0"]);
    assert_eq!(
        (r, out.as_str()),
        (Ok(BlockTry::Served), "*2\r\n$1\r\nl\r\n$1\r\nc\r\n")
    );
    let (r, out) = try_cmd(&mut h, try_blpop, &["BLPOP", "n1", "n2", "1.5"]);
    let want = BlockWait {
        keys: vec![b"n1".to_vec(), b"n2".to_vec()],
        timeout_ms: 1500,
        no_wait_reply: NullReply::Array,
    };
    assert_eq!((r, out.as_str()), (Ok(BlockTry::Wait(want)), ""));
    let (r, _) = try_cmd(&mut h, try_blpop, &["BLPOP", "nokey", "s", "0"]);
    assert_eq!(r, Err(ReplyError::WrongType));
    let (r, _) = try_cmd(&mut h, try_blpop, &["BLPOP", "s", "-1"]);
    assert_eq!(r, Err(ReplyError::other("ERR timeout is negative")));
    let (r, out) = try_cmd(
        &mut h,
        try_blmove,
        &["BLMOVE", "l", "d", "LEFT", "RIGHT", "0"],
    );
    assert_eq!((r, out.as_str()), (Ok(BlockTry::Served), "$1\r\nb\r\n"));
    assert_eq!(h.run(&["EXISTS", "l"]), Reply::Int(0));
    let (r, _) = try_cmd(
        &mut h,
        try_blmove,
        &["BLMOVE", "l", "d", "middle", "RIGHT", "-1"],
    );
    assert_eq!(r, Err(ReplyError::Syntax));
    let (r, _) = try_cmd(&mut h, try_brpoplpush, &["BRPOPLPUSH", "l", "d", "x"]);
    assert_eq!(
        r,
        Err(ReplyError::other(
            "ERR timeout is not a float or out of range"
        ))
    );
    let (r, _) = try_cmd(&mut h, try_brpoplpush, &["BRPOPLPUSH", "l", "d", "2"]);
    let want = BlockWait {
        keys: vec![b"l".to_vec()],
        timeout_ms: 2000,
        no_wait_reply: NullReply::Bulk,
    };
    assert_eq!(r, Ok(BlockTry::Wait(want)));
}

#[test]
fn blmpop_try_checks_timeout_first() {
    // Guards BLMPOP's error order (timeout, numkeys, where) and its wait keys.
    let mut h = Harness::new();
    let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "x", "1", "l", "left"]);
    assert_eq!(
        r,
        Err(ReplyError::other(
            "ERR timeout is not a float or out of range"
        ))
    );
    let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "-1", "0", "l", "left"]);
    assert_eq!(r, Err(ReplyError::other("ERR timeout is negative")));
    let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "1", "0", "l", "left"]);
    assert_eq!(
        r,
        Err(ReplyError::other("ERR numkeys should be greater than 0"))
    );
    let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "1", "1", "l", "middle"]);
    assert_eq!(r, Err(ReplyError::Syntax));
    let (r, _) = try_cmd(&mut h, try_blmpop, &["BLMPOP", "0", "2", "a", "b", "right"]);
    let want = BlockWait {
        keys: vec![b"a".to_vec(), b"b".to_vec()],
        timeout_ms: 0,
        no_wait_reply: NullReply::Array,
    };
    assert_eq!(r, Ok(BlockTry::Wait(want)));
    h.run(&["RPUSH", "b", "1", "2", "3"]);
    let argv = ["BLMPOP", "0", "2", "a", "b", "right", "COUNT", "2"];
    let (r, out) = try_cmd(&mut h, try_blmpop, &argv);
    let want = "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n";
    assert_eq!((r, out.as_str()), (Ok(BlockTry::Served), want));
}

#[test]
fn table_metadata() {
    // Guards arity, flags and key positions against COMMAND INFO of Redis 7.0.
    let find = |n: &str| {
        COMMANDS
            .iter()
            .chain(BLOCKING_COMMANDS)
            .find(|c| c.name == n)
    };
    let want: &[(&str, i32, u32)] = &[
        ("lpush", -3, WDF),
        ("rpushx", -3, WDF),
        ("lpop", -2, WRITE | FAST),
        ("llen", 2, READONLY | FAST),
        ("lrange", 4, READONLY),
        ("lindex", 3, READONLY),
        ("lset", 4, WRITE | DENYOOM),
        ("linsert", 5, WRITE | DENYOOM),
        ("lrem", 4, WRITE),
        ("ltrim", 4, WRITE),
        ("lpos", -3, READONLY),
        ("lmove", 5, WRITE | DENYOOM | MULTI_KEY),
        ("rpoplpush", 3, WRITE | DENYOOM | MULTI_KEY),
        ("lmpop", -4, WRITE | MULTI_KEY),
        ("blpop", -3, WRITE | NOSCRIPT),
        ("blmove", 6, WRITE | DENYOOM | NOSCRIPT | MULTI_KEY),
        ("blmpop", -5, WRITE | MULTI_KEY),
    ];
    for &(name, arity, flags) in want {
        let c = find(name).expect(name);
        assert_eq!(
            (c.arity, c.flags, c.group),
            (arity, flags, "list"),
            "{name}"
        );
    }
    let a = args(&["blpop", "a", "b", "0"]);
    let blpop = find("blpop").expect("blpop");
    assert_eq!(blpop.key_positions(a.args()), Ok(vec![1, 2]));
}
