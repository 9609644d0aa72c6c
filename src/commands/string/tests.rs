//! Unit tests of the string commands.

use super::*;
use crate::testkit::{Harness, Reply};

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}
fn e(s: &str) -> Reply {
    Reply::err(s)
}

fn int(v: i64) -> Reply {
    Reply::Int(v)
}
fn run_all(h: &mut Harness, cases: &[(&[&str], Reply)]) {
    for (argv, want) in cases {
        assert_eq!(&h.run(argv), want, "{argv:?}");
    }
}
fn small_strings() -> Harness {
    let cfg = crate::config::Config {
        proto_max_bulk_len: 16,
        ..Default::default()
    };
    Harness::with_config(cfg)
}

#[test]
fn set_options_conflicts_are_syntax_errors() {
    // Guards the option grammar: exclusive pairs, missing values, unknown words.
    let mut h = Harness::new();
    let syn = e("ERR syntax error");
    run_all(
        &mut h,
        &[
            (&["SET", "k", "v", "NX", "XX"], syn.clone()),
            (&["SET", "k", "v", "xx", "nx"], syn.clone()),
            (&["SET", "k", "v", "EX", "10", "PX", "20"], syn.clone()),
            (&["SET", "k", "v", "KEEPTTL", "EX", "10"], syn.clone()),
            (&["SET", "k", "v", "PX", "10", "KEEPTTL"], syn.clone()),
            (&["SET", "k", "v", "EX"], syn.clone()),
            (&["SET", "k", "v", "EX", "abc", "XX", "NX"], syn.clone()),
            (&["SET", "k", "v", "PERSIST"], syn.clone()),
            (&["SET", "k", "v", "foo"], syn.clone()),
            (&["SET", "k", "v", "EX", "10", "EX", "20"], Reply::ok()),
            (&["SET", "k", "v", "KEEPTTL", "KEEPTTL"], Reply::ok()),
            (&["SET", "k", "v", "GET", "GET"], b("v")),
            (
                &["SET", "k"],
                e("ERR wrong number of arguments for 'set' command"),
            ),
        ],
    );
}

#[test]
fn set_invalid_expire_times() {
    // Guards non-positive and overflowing expiries and their exact messages.
    let mut h = Harness::new();
    let bad = e("ERR invalid expire time in 'set' command");
    run_all(
        &mut h,
        &[
            (&["SET", "k", "v", "EX", "0"], bad.clone()),
            (&["SET", "k", "v", "PX", "-1"], bad.clone()),
            (&["SET", "k", "v", "EX", "9223372036854775"], bad.clone()),
            (&["SET", "k", "v", "PX", "9223372036854775807"], bad.clone()),
            (&["SET", "k", "v", "EXAT", "9223372036854776"], bad.clone()),
            (
                &["SET", "k", "v", "EX", "1x"],
                e("ERR value is not an integer or out of range"),
            ),
            (
                &["SETEX", "k", "0", "v"],
                e("ERR invalid expire time in 'setex' command"),
            ),
            (
                &["PSETEX", "k", "-5", "v"],
                e("ERR invalid expire time in 'psetex' command"),
            ),
            (
                &["SETEX", "k", "x", "v"],
                e("ERR value is not an integer or out of range"),
            ),
            (&["GET", "k"], Reply::Nil),
        ],
    );
}

#[test]
fn set_conditions_get_and_expiry() {
    // Guards NX/XX/GET combinations and relative vs absolute expiry.
    let mut h = Harness::new();
    run_all(
        &mut h,
        &[
            (&["SET", "k", "v1", "XX"], Reply::Nil),
            (&["SET", "k", "v1", "XX", "GET"], Reply::Nil),
            (&["GET", "k"], Reply::Nil),
            (&["SET", "k", "v1", "NX", "GET"], Reply::Nil),
            (&["SET", "k", "v2", "NX", "GET"], b("v1")),
            (&["SET", "k", "v2", "NX"], Reply::Nil),
            (&["SET", "k", "v3", "XX", "GET"], b("v1")),
            (&["GET", "k"], b("v3")),
            (&["SET", "k", "v4", "PX", "100"], Reply::ok()),
        ],
    );
    h.advance_ms(99);
    assert_eq!(h.run(&["SET", "k", "v5", "KEEPTTL", "GET"]), b("v4"));
    h.advance_ms(2);
    assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
    // An absolute time in the past leaves no key, but still answers as a write.
    assert_eq!(h.run(&["SET", "k", "v", "EXAT", "1"]), Reply::ok());
    assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
    let at = (h.now_ms + 50).to_string();
    assert_eq!(h.run(&["SET", "k", "v", "PXAT", &at]), Reply::ok());
    h.advance_ms(50);
    assert_eq!(
        h.run(&["GET", "k"]),
        b("v"),
        "still there in its last millisecond"
    );
    h.advance_ms(1);
    assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
    // A plain SET drops an old TTL.
    h.run(&["SETEX", "k", "1", "v"]);
    h.run(&["SET", "k", "w"]);
    h.advance_ms(5000);
    assert_eq!(h.run(&["GET", "k"]), b("w"));
}

#[test]
fn setnx_setex_psetex_getset() {
    // Guards the reply shapes of the older SET variants and their TTL effects.
    let mut h = Harness::new();
    run_all(
        &mut h,
        &[
            (&["SETNX", "k", "a"], int(1)),
            (&["SETNX", "k", "b"], int(0)),
            (&["GET", "k"], b("a")),
            (&["GETSET", "k", "c"], b("a")),
            (&["GETSET", "new", "c"], Reply::Nil),
            (&["SETEX", "t", "10", "v"], Reply::ok()),
            (&["PSETEX", "p", "10", "v"], Reply::ok()),
        ],
    );
    h.advance_ms(11);
    assert_eq!(h.run(&["GET", "p"]), Reply::Nil);
    assert_eq!(h.run(&["GET", "t"]), b("v"));
    assert_eq!(h.run(&["GETSET", "t", "w"]), b("v"));
    h.advance_ms(20_000);
    assert_eq!(h.run(&["GET", "t"]), b("w"), "GETSET clears the TTL");
}

#[test]
fn getdel_and_getex() {
    // Guards GETDEL removal and every GETEX option, including the error order.
    let mut h = Harness::new();
    run_all(
        &mut h,
        &[
            (&["SET", "k", "v"], Reply::ok()),
            (&["GETDEL", "k"], b("v")),
            (&["GETDEL", "k"], Reply::Nil),
            (&["GETEX", "k", "PERSIST", "EX", "1"], e("ERR syntax error")),
            (&["GETEX", "k", "EX", "1", "PERSIST"], e("ERR syntax error")),
            (&["GETEX", "k", "KEEPTTL"], e("ERR syntax error")),
            (&["GETEX", "k", "EX", "0"], Reply::Nil),
            (&["SET", "k", "v"], Reply::ok()),
            (
                &["GETEX", "k", "EX", "0"],
                e("ERR invalid expire time in 'getex' command"),
            ),
            (&["GETEX", "k", "PX", "100"], b("v")),
        ],
    );
    h.advance_ms(50);
    assert_eq!(h.run(&["GETEX", "k", "PERSIST"]), b("v"));
    h.advance_ms(100);
    assert_eq!(h.run(&["GETEX", "k"]), b("v"));
    let past = (h.now_ms - 1).to_string();
    assert_eq!(h.run(&["GETEX", "k", "PXAT", &past]), b("v"));
    assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["GETEX", "k", "EXAT", "1"]), b("v"));
    assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
}

#[test]
fn mget_mset_msetnx() {
    // Guards pair-count checks, null for missing keys, and MSETNX all-or-nothing.
    let mut h = Harness::new();
    let arity = |c: &str| e(&format!("ERR wrong number of arguments for '{c}' command"));
    run_all(
        &mut h,
        &[
            (&["MSET", "a"], arity("mset")),
            (&["MSET", "a", "1", "b"], arity("mset")),
            (&["MSETNX", "a", "1", "b"], arity("msetnx")),
            (&["MSET", "a", "1", "b", "2", "a", "3"], Reply::ok()),
            (
                &["MGET", "a", "b", "nokey"],
                Reply::Array(vec![b("3"), b("2"), Reply::Nil]),
            ),
            (&["MSETNX", "a", "9", "z", "9"], int(0)),
            (&["GET", "z"], Reply::Nil),
            (&["MSETNX", "y", "8", "z", "9"], int(1)),
            (&["MGET", "z"], Reply::Array(vec![b("9")])),
            (&["MGET"], arity("mget")),
        ],
    );
}

#[test]
fn integer_counters() {
    // Guards parsing (string2ll rules), overflow, TTL keeping and DECRBY of i64::MIN.
    let mut h = Harness::new();
    let not_int = e("ERR value is not an integer or out of range");
    let ovf = e("ERR increment or decrement would overflow");
    run_all(
        &mut h,
        &[
            (&["INCR", "n"], int(1)),
            (&["INCRBY", "n", "-12"], int(-11)),
            (&["DECR", "n"], int(-12)),
            (&["DECRBY", "n", "-2"], int(-10)),
            (&["INCRBY", "n", "abc"], not_int.clone()),
            (&["INCRBY", "n", "00"], not_int.clone()),
            (&["INCRBY", "n", "-0"], not_int.clone()),
            (&["INCRBY", "n", "+1"], not_int.clone()),
            (
                &["DECRBY", "n", "-9223372036854775808"],
                e("ERR decrement would overflow"),
            ),
            (&["SET", "n", "9223372036854775807"], Reply::ok()),
            (&["INCR", "n"], ovf.clone()),
            (&["SET", "n", "-9223372036854775808"], Reply::ok()),
            (&["DECR", "n"], ovf.clone()),
            (&["SET", "n", " 1"], Reply::ok()),
            (&["INCR", "n"], not_int.clone()),
            (&["SET", "n", "1.5"], Reply::ok()),
            (&["INCR", "n"], not_int.clone()),
            (&["SET", "n", "7", "PX", "100"], Reply::ok()),
            (&["INCR", "n"], int(8)),
        ],
    );
    h.advance_ms(101);
    assert_eq!(h.run(&["GET", "n"]), Reply::Nil, "INCR keeps the TTL");
}

#[test]
fn incrbyfloat_matches_long_double_output() {
    // Guards x87 precision and %.17Lf formatting (values taken from redis-server 7.0).
    let cases: &[(&str, &str, &str)] = &[
        ("10.5", "0.1", "10.6"),
        ("0.1", "0.2", "0.3"),
        ("5.0e3", "0", "5000"),
        ("3.0", "0", "3"),
        ("1000", "0.1", "1000.09999999999999998"),
        ("123456.789", "1.1", "123457.8890000000000029"),
        ("100000", "0.3", "100000.29999999999999716"),
        ("1e20", "1", "100000000000000000000"),
        ("1.5", "-1.5", "0"),
        ("-0.0", "0", "0"),
        ("1", "1e-20", "1"),
        ("1", "0x10", "17"),
        ("1", "+1.5", "2.5"),
        ("0.000003814697265625", "0", "0.00000381469726562"),
        ("0.000011444091796875", "0", "0.00001144409179688"),
        ("-0.000000000000000001", "0", "0"),
        ("1e-4940", "0", "0"),
        ("0x.8p1", "0", "1"),
        ("1.", ".5", "1.5"),
    ];
    let mut h = Harness::new();
    for (start, incr, want) in cases {
        h.run(&["SET", "f", start]);
        assert_eq!(
            h.run(&["INCRBYFLOAT", "f", incr]),
            b(want),
            "{start} + {incr}"
        );
        assert_eq!(h.run(&["GET", "f"]), b(want));
    }
    let big = "1.18973149535723176502e+4932";
    h.run(&["SET", "f", "3"]);
    let r = h.run(&["INCRBYFLOAT", "f", "1.7976931348623157e308"]);
    assert!(matches!(&r, Reply::Bulk(v) if v.len() == 309 && v.starts_with(b"1797693")));
    h.run(&["SET", "f", big]);
    let nan_inf = e("ERR increment would produce NaN or Infinity");
    assert_eq!(h.run(&["INCRBYFLOAT", "f", big]), nan_inf);
}

#[test]
fn incrbyfloat_rejections() {
    // Guards what strtold-with-Redis-checks refuses, and NaN/Inf results.
    let mut h = Harness::new();
    let nf = e("ERR value is not a valid float");
    let nan_inf = e("ERR increment would produce NaN or Infinity");
    h.run(&["SET", "f", "10"]);
    for bad in [
        "x", " 1", "1 ", "nan", "1e5000", "1e-5000", "1e", ".", "", "0x", "1e+",
    ] {
        assert_eq!(h.run(&["INCRBYFLOAT", "f", bad]), nf, "{bad:?}");
    }
    assert_eq!(h.run(&["INCRBYFLOAT", "f", "inf"]), nan_inf);
    assert_eq!(h.run(&["INCRBYFLOAT", "f", "-Infinity"]), nan_inf);
    assert_eq!(h.run(&["INCRBYFLOAT", "new", "2.5"]), b("2.5"));
    h.run(&["SET", "f", "abc"]);
    assert_eq!(h.run(&["INCRBYFLOAT", "f", "1"]), nf);
    let long = "1".repeat(5120);
    assert_eq!(h.run(&["INCRBYFLOAT", "g", &long]), nf);
}

#[test]
fn getrange_index_semantics() {
    // Guards negative indexes, clamping, inverted and empty ranges, bad integers.
    let mut h = Harness::new();
    h.run(&["SET", "s", "Hello World"]);
    h.run(&["SET", "e", ""]);
    let cases: &[(&str, &str, &str)] = &[
        ("0", "3", "Hell"),
        ("-3", "-1", "rld"),
        ("0", "-1", "Hello World"),
        ("10", "100", "d"),
        ("-1", "-5", ""),
        ("-5", "-1", "World"),
        ("5", "3", ""),
        ("-100", "-50", "H"),
        ("-100", "100", "Hello World"),
        ("100", "200", ""),
        ("11", "11", ""),
        ("-9223372036854775808", "9223372036854775807", "Hello World"),
    ];
    for (s, en, want) in cases {
        assert_eq!(h.run(&["GETRANGE", "s", s, en]), b(want), "{s} {en}");
    }
    let not_int = e("ERR value is not an integer or out of range");
    assert_eq!(h.run(&["GETRANGE", "s", "a", "1"]), not_int);
    assert_eq!(h.run(&["GETRANGE", "nokey", "1", "a"]), not_int);
    assert_eq!(h.run(&["GETRANGE", "nokey", "0", "-1"]), b(""));
    assert_eq!(h.run(&["GETRANGE", "e", "0", "-1"]), b(""));
    assert_eq!(h.run(&["SUBSTR", "s", "-2", "-1"]), b("ld"));
}

#[test]
fn setrange_append_strlen() {
    // Guards zero padding, no-op writes, negative offsets and the size limit.
    let mut h = small_strings();
    let too_long = e("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    run_all(
        &mut h,
        &[
            (
                &["SETRANGE", "s", "-1", "x"],
                e("ERR offset is out of range"),
            ),
            (
                &["SETRANGE", "s", "a", "x"],
                e("ERR value is not an integer or out of range"),
            ),
            (&["SETRANGE", "s", "5", ""], int(0)),
            (&["GET", "s"], Reply::Nil),
            (&["SETRANGE", "s", "3", "ab"], int(5)),
            (&["GET", "s"], Reply::Bulk(b"\0\0\0ab".to_vec())),
            (&["SETRANGE", "s", "0", "Z"], int(5)),
            (&["SETRANGE", "s", "2", ""], int(5)),
            (&["GET", "s"], Reply::Bulk(b"Z\0\0ab".to_vec())),
            (&["SETRANGE", "s", "15", "ab"], too_long.clone()),
            (&["SETRANGE", "s", "14", "ab"], int(16)),
            (
                &["SETRANGE", "s", "9223372036854775807", "a"],
                too_long.clone(),
            ),
            (&["STRLEN", "s"], int(16)),
            (&["STRLEN", "nokey"], int(0)),
            (&["APPEND", "a", "12"], int(2)),
            (&["APPEND", "a", "3"], int(3)),
            (&["APPEND", "a", ""], int(3)),
            (&["GET", "a"], b("123")),
            (&["APPEND", "a", "0123456789abcd"], too_long.clone()),
            (&["APPEND", "a", "0123456789abc"], int(16)),
        ],
    );
    // APPEND and SETRANGE leave a "raw" string; a fresh APPEND does not.
    let enc = |h: &mut Harness, k: &[u8]| {
        let now = h.now_ms;
        let e = h.shard.db.lookup_read(k, now).map(|e| e.encoding());
        e.unwrap_or("none")
    };
    h.run(&["APPEND", "fresh", "12"]);
    assert_eq!(enc(&mut h, b"fresh"), "int");
    assert_eq!(enc(&mut h, b"a"), "raw");
    assert_eq!(enc(&mut h, b"s"), "raw");
}

#[test]
fn lcs_replies() {
    // Guards the three reply forms, match ordering, MINMATCHLEN and option errors.
    let mut h = Harness::new();
    h.run(&["MSET", "a", "ohmytext", "b", "mynewtext"]);
    let pair = |x: i64, y: i64| Reply::Array(vec![int(x), int(y)]);
    let run = |a: (i64, i64), b: (i64, i64), len: Option<i64>| {
        let mut v = vec![pair(a.0, a.1), pair(b.0, b.1)];
        v.extend(len.map(int));
        Reply::Array(v)
    };
    let idx = |runs: Vec<Reply>, len: i64| {
        Reply::Array(vec![b("matches"), Reply::Array(runs), b("len"), int(len)])
    };
    run_all(
        &mut h,
        &[
            (&["LCS", "a", "b"], b("mytext")),
            (&["LCS", "a", "b", "LEN"], int(6)),
            (&["LCS", "a", "b", "LEN", "WITHMATCHLEN"], int(6)),
            (&["LCS", "a", "b", "WITHMATCHLEN"], b("mytext")),
            (
                &["LCS", "a", "b", "IDX"],
                idx(
                    vec![run((4, 7), (5, 8), None), run((2, 3), (0, 1), None)],
                    6,
                ),
            ),
            (
                &["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
                idx(vec![run((4, 7), (5, 8), Some(4))], 6),
            ),
            (&["LCS", "a", "nokey", "IDX"], idx(vec![], 0)),
            (&["LCS", "nokey", "a"], b("")),
            (&["LCS", "a", "b", "foo"], e("ERR syntax error")),
            (&["LCS", "a", "b", "MINMATCHLEN"], e("ERR syntax error")),
            (
                &["LCS", "a", "b", "MINMATCHLEN", "x", "IDX", "LEN"],
                e("ERR value is not an integer or out of range"),
            ),
            (
                &["LCS", "a", "b", "IDX", "LEN"],
                e("ERR If you want both the length and indexes, please just use IDX."),
            ),
        ],
    );
    h.run(&["MSET", "x1", "abcabcabcXYZ", "x2", "XYZabcxabcab"]);
    assert_eq!(h.run(&["LCS", "x1", "x2"]), b("abcabcab"));
    assert_eq!(h.run(&["LCS", "x2", "x1"]), b("abcabcab"));
}

#[test]
fn lcs_refuses_huge_tables() {
    // Guards the LCS_MAX_CELLS bound: no unbounded allocation on large inputs.
    let mut h = Harness::new();
    let side = (LCS_MAX_CELLS as f64).sqrt() as usize + 1;
    let big = "a".repeat(side);
    h.run(&["MSET", "p", &big, "q", &big]);
    assert_eq!(
        h.run(&["LCS", "p", "q", "LEN"]),
        e("ERR Insufficient memory, failed allocating transient memory for LCS")
    );
}

#[test]
fn lcs_idx_is_a_map_in_resp3() {
    // Guards the RESP3 shape of LCS IDX.
    let mut h = Harness::new();
    h.shard.clients.get_mut(h.client).proto = crate::resp::Proto::Resp3;
    h.run(&["MSET", "a", "ab", "b", "ab"]);
    let r = h.run(&["LCS", "a", "b", "IDX"]);
    let Reply::Map(m) = r else { panic!("{r:?}") };
    assert_eq!(m[0].0, b("matches"));
    assert_eq!(m[1], (b("len"), int(2)));
}

#[test]
fn command_table_metadata() {
    // Guards arity, flags and key positions against Redis 7.0's COMMAND INFO.
    // (name, arity, flags, (first, last, step))
    type Meta = (&'static str, i32, u32, (i32, i32, i32));
    let want: &[Meta] = &[
        ("get", 2, READONLY | FAST, (1, 1, 1)),
        ("set", -3, WRITE | DENYOOM, (1, 1, 1)),
        ("getex", -2, WRITE | FAST, (1, 1, 1)),
        ("getdel", 2, WRITE | FAST, (1, 1, 1)),
        ("mget", -2, READONLY | FAST | MULTI_KEY, (1, -1, 1)),
        ("mset", -3, WRITE | DENYOOM | MULTI_KEY, (1, -1, 2)),
        ("incrbyfloat", 3, WRITE | DENYOOM | FAST, (1, 1, 1)),
        ("getrange", 4, READONLY, (1, 1, 1)),
        ("setrange", 4, WRITE | DENYOOM, (1, 1, 1)),
        ("lcs", -3, READONLY | MULTI_KEY, (1, 2, 1)),
    ];
    for (name, arity, flags, keys) in want {
        let c = COMMANDS.iter().find(|c| c.name == *name).expect(name);
        assert_eq!((c.arity, c.flags), (*arity, *flags), "{name}");
        let KeySpec::Range { first, last, step } = c.keys else {
            panic!("{name}")
        };
        assert_eq!((first, last, step), *keys, "{name}");
        assert_eq!(c.group, "string");
        assert!(!c.summary.is_empty() && !c.complexity.is_empty());
    }
    assert_eq!(COMMANDS.len(), 22);
}
