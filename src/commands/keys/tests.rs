//! Unit tests of the generic key commands.

use super::table::{ARGS_SCAN, EXPIRE_COND};
use super::*;
use crate::cluster::hash_slot::key_hash_slot;
use crate::config::Config;
use crate::global::Global;
use crate::resp::{Out, OwnedArgs, Proto};
use crate::shard::value::{StrValue, Value};
use crate::testkit::{Harness, Reply};
use crate::topology::shard_of;

fn int(n: i64) -> Reply {
    Reply::Int(n)
}

fn bulks(r: &Reply) -> Vec<String> {
    match r {
        Reply::Array(v) => v
            .iter()
            .map(|x| match x {
                Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Runs SCAN with `extra` options until the cursor returns to 0; returns every key seen.
fn scan_all(h: &mut Harness, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    for _ in 0..20_000 {
        let mut argv = vec!["SCAN", cursor.as_str()];
        argv.extend_from_slice(extra);
        let Reply::Array(parts) = h.run(&argv) else {
            panic!("scan reply")
        };
        let Reply::Bulk(c) = &parts[0] else {
            panic!("cursor")
        };
        seen.extend(bulks(&parts[1]));
        cursor = String::from_utf8_lossy(c).into_owned();
        if cursor == "0" {
            return seen;
        }
    }
    panic!("scan never finished");
}

#[test]
fn del_unlink_exists_count_keys() {
    // Guards counting: repeats count in EXISTS, missing keys do not count in DEL.
    let mut h = Harness::new();
    h.run(&["SET", "a", "1"]);
    h.run(&["SET", "b", "2"]);
    assert_eq!(h.run(&["EXISTS", "a", "a", "b", "zz"]), int(3));
    assert_eq!(h.run(&["DEL", "a", "zz", "a"]), int(1));
    assert_eq!(h.run(&["UNLINK", "b", "b"]), int(1));
    assert_eq!(h.run(&["EXISTS", "a", "b"]), int(0));
    assert_eq!(h.run(&["DBSIZE"]), int(0));
    for cmd in ["del", "unlink", "exists", "touch"] {
        let msg = format!("ERR wrong number of arguments for '{cmd}' command");
        assert_eq!(h.run(&[cmd]), Reply::Error(msg));
    }
}

#[test]
fn type_names_values_and_none() {
    // Guards TYPE's simple-string reply and the "none" answer for missing keys.
    let mut h = Harness::new();
    h.run(&["SET", "s", "x"]);
    assert_eq!(h.run(&["TYPE", "s"]), Reply::Simple("string".into()));
    assert_eq!(h.run(&["TYPE", "nope"]), Reply::Simple("none".into()));
    assert_eq!(
        h.run(&["TYPE", "a", "b"]),
        Reply::err("ERR wrong number of arguments for 'type' command")
    );
}

#[test]
fn expire_option_errors_match_redis() {
    // Guards the exact option errors and their priority over a bad time or a missing key.
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
    let gtlt = "ERR GT and LT options at the same time are not compatible";
    assert_eq!(h.run(&["EXPIRE", "k", "10", "NX", "XX"]), Reply::err(nx));
    assert_eq!(h.run(&["EXPIRE", "k", "10", "nx", "gt"]), Reply::err(nx));
    assert_eq!(
        h.run(&["EXPIRE", "k", "10", "GT", "LT", "NX"]),
        Reply::err(nx)
    );
    assert_eq!(h.run(&["PEXPIRE", "k", "10", "gt", "lt"]), Reply::err(gtlt));
    assert_eq!(
        h.run(&["EXPIRE", "k", "abc", "foo"]),
        Reply::err("ERR Unsupported option foo")
    );
    assert_eq!(h.run(&["EXPIRE", "nokey", "1", "nx", "xx"]), Reply::err(nx));
    assert_eq!(
        h.run(&["EXPIRE", "k", "abc"]),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        h.run(&["EXPIRE", "k"]),
        Reply::err("ERR wrong number of arguments for 'expire' command")
    );
    assert_eq!(
        h.run(&["EXPIRE", "k", "1", "a\r\nb"]),
        Reply::err("ERR Unsupported option a  b")
    );
    assert_eq!(h.run(&["EXPIRE", "k", "10", "nx", "NX"]), int(1));
}

#[test]
fn expire_overflow_is_invalid_time() {
    // Guards the i64 overflow checks of each unit and base; no panic on extreme input.
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    let max = "9223372036854775807";
    let min = "-9223372036854775808";
    for cmd in ["expire", "pexpire", "expireat"] {
        let msg = format!("ERR invalid expire time in '{cmd}' command");
        assert_eq!(h.run(&[cmd, "k", max]), Reply::Error(msg));
    }
    assert_eq!(
        h.run(&["EXPIRE", "k", min]),
        Reply::err("ERR invalid expire time in 'expire' command")
    );
    assert_eq!(
        h.run(&["EXPIRE", "k", "9223372036854776"]),
        Reply::err("ERR invalid expire time in 'expire' command")
    );
    assert_eq!(h.run(&["PEXPIREAT", "k", max]), int(1));
    assert_eq!(h.run(&["PEXPIRETIME", "k"]), Reply::Int(i64::MAX));
    // A huge negative relative time is in the past: the key goes away.
    assert_eq!(h.run(&["PEXPIRE", "k", min]), int(1));
    assert_eq!(h.run(&["EXISTS", "k"]), int(0));
}

#[test]
fn expire_conditions_follow_redis() {
    // Guards NX/XX/GT/LT semantics, where "no TTL" counts as an infinite TTL.
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "100", "LT"]), int(1));
    assert_eq!(h.run(&["TTL", "k"]), int(100));
    assert_eq!(h.run(&["EXPIRE", "k", "50", "NX"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "200", "GT"]), int(1));
    assert_eq!(h.run(&["EXPIRE", "k", "300", "LT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "150", "XX"]), int(1));
    assert_eq!(h.run(&["TTL", "k"]), int(150));
    assert_eq!(h.run(&["EXPIRE", "k", "-5", "GT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "-5", "LT"]), int(1));
    assert_eq!(h.run(&["EXISTS", "k"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "10"]), int(0));
}

#[test]
fn expire_in_past_deletes_and_answers_one() {
    // Guards Redis 7's "time in the past deletes the key" rule for every variant.
    let mut h = Harness::new();
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        h.run(&["SET", "k", "v"]);
        assert_eq!(h.run(&[cmd, "k", "0"]), int(1), "{cmd}");
        assert_eq!(h.run(&["EXISTS", "k"]), int(0), "{cmd}");
    }
    assert_eq!(h.run(&["DBSIZE"]), int(0));
}

#[test]
fn ttl_family_rounds_and_reports_missing() {
    // Guards -2/-1, rounding to the nearest second, absolute times, and lazy expiry.
    let mut h = Harness::new();
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(h.run(&[cmd, "nope"]), int(-2));
    }
    h.run(&["SET", "k", "v"]);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(h.run(&[cmd, "k"]), int(-1));
    }
    assert_eq!(h.run(&["PEXPIRE", "k", "1499"]), int(1));
    assert_eq!(h.run(&["TTL", "k"]), int(1));
    assert_eq!(h.run(&["PTTL", "k"]), int(1499));
    assert_eq!(h.run(&["PEXPIRE", "k", "1500"]), int(1));
    assert_eq!(h.run(&["TTL", "k"]), int(2));
    assert_eq!(h.run(&["PEXPIREAT", "k", "4000000000600"]), int(1));
    assert_eq!(h.run(&["EXPIRETIME", "k"]), int(4_000_000_001));
    assert_eq!(h.run(&["PEXPIRETIME", "k"]), int(4_000_000_000_600));
    assert_eq!(h.run(&["EXPIREAT", "k", "4000000000"]), int(1));
    assert_eq!(h.run(&["EXPIRETIME", "k"]), int(4_000_000_000));
    h.run(&["PEXPIRE", "k", "100"]);
    h.advance_ms(100);
    assert_eq!(
        h.run(&["PTTL", "k"]),
        int(0),
        "still there in its last millisecond"
    );
    h.advance_ms(1);
    assert_eq!(h.run(&["PTTL", "k"]), int(-2));
    assert_eq!(h.run(&["DBSIZE"]), int(0));
}

#[test]
fn persist_removes_only_existing_ttls() {
    // Guards PERSIST's 0/1 answers and that the key then never expires.
    let mut h = Harness::new();
    assert_eq!(h.run(&["PERSIST", "k"]), int(0));
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["PERSIST", "k"]), int(0));
    h.run(&["EXPIRE", "k", "10"]);
    assert_eq!(h.run(&["PERSIST", "k"]), int(1));
    assert_eq!(h.run(&["TTL", "k"]), int(-1));
    h.advance_ms(20_000);
    assert_eq!(h.run(&["EXISTS", "k"]), int(1));
}

#[test]
fn rename_moves_value_and_ttl() {
    // Guards RENAME/RENAMENX answers, TTL carried over, and the destination overwritten.
    let mut h = Harness::new();
    let nokey = Reply::err("ERR no such key");
    assert_eq!(h.run(&["RENAME", "x", "y"]), nokey);
    assert_eq!(h.run(&["RENAME", "x", "x"]), nokey);
    assert_eq!(h.run(&["RENAMENX", "x", "x"]), nokey);
    h.run(&["SET", "a", "1"]);
    h.run(&["SET", "b", "2"]);
    assert_eq!(h.run(&["RENAME", "a", "a"]), Reply::ok());
    assert_eq!(h.run(&["RENAMENX", "a", "a"]), int(0));
    assert_eq!(h.run(&["RENAMENX", "a", "b"]), int(0));
    h.run(&["EXPIRE", "a", "100"]);
    h.run(&["EXPIRE", "b", "500"]);
    assert_eq!(h.run(&["RENAME", "a", "b"]), Reply::ok());
    assert_eq!(h.run(&["GET", "b"]), Reply::bulk("1"));
    assert_eq!(h.run(&["TTL", "b"]), int(100));
    assert_eq!(h.run(&["EXISTS", "a"]), int(0));
    assert_eq!(h.run(&["RENAMENX", "b", "c"]), int(1));
    assert_eq!(h.run(&["TTL", "c"]), int(100));
    assert_eq!(h.run(&["DBSIZE"]), int(1));
}

#[test]
fn copy_options_and_errors() {
    // Guards COPY's option parsing, DB checks, REPLACE and the copied TTL.
    let mut h = Harness::new();
    h.run(&["SET", "a", "1"]);
    h.run(&["EXPIRE", "a", "100"]);
    let same = Reply::err("ERR source and destination objects are the same");
    assert_eq!(h.run(&["COPY", "a", "a"]), same);
    assert_eq!(h.run(&["COPY", "x", "x"]), same);
    assert_eq!(h.run(&["COPY", "x", "y"]), int(0));
    assert_eq!(
        h.run(&["COPY", "a", "b", "DB", "abc"]),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        h.run(&["COPY", "a", "b", "db", "2147483648"]),
        Reply::err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    let range = Reply::err("ERR DB index is out of range");
    assert_eq!(h.run(&["COPY", "a", "b", "db", "-1"]), range);
    assert_eq!(h.run(&["COPY", "a", "b", "db", "16"]), range);
    // Another database is a real copy now (16 databases).
    assert_eq!(h.run(&["COPY", "a", "b", "db", "1"]), int(1));
    assert_eq!(
        h.run(&["COPY", "a", "b", "db"]),
        Reply::err("ERR syntax error")
    );
    assert_eq!(
        h.run(&["COPY", "a", "b", "foo"]),
        Reply::err("ERR syntax error")
    );
    assert_eq!(h.run(&["COPY", "a", "b", "DB", "0", "replace"]), int(1));
    assert_eq!(h.run(&["TTL", "b"]), int(100));
    h.run(&["SET", "a", "2"]);
    assert_eq!(h.run(&["COPY", "a", "b"]), int(0));
    assert_eq!(h.run(&["GET", "b"]), Reply::bulk("1"));
    assert_eq!(h.run(&["COPY", "a", "b", "REPLACE"]), int(1));
    assert_eq!(h.run(&["GET", "b"]), Reply::bulk("2"));
    assert_eq!(h.run(&["TTL", "b"]), int(-1));
}

#[test]
fn touch_counts_and_refreshes_idle_time() {
    // Guards TOUCH's count and that it, unlike EXISTS, resets the idle time.
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    h.advance_ms(5_000);
    assert_eq!(h.run(&["EXISTS", "k"]), int(1));
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "k"]), int(5));
    assert_eq!(h.run(&["TOUCH", "k", "k", "nope"]), int(2));
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "k"]), int(0));
}

#[test]
fn keys_matches_glob_and_skips_expired() {
    // Guards KEYS filtering, "*", and that expired keys are not listed.
    let mut h = Harness::new();
    for k in ["hello", "hallo", "hxllo", "other"] {
        h.run(&["SET", k, "v"]);
    }
    h.run(&["PEXPIRE", "hxllo", "10"]);
    h.advance_ms(11);
    assert_eq!(
        sorted(bulks(&h.run(&["KEYS", "h[ae]llo"]))),
        vec!["hallo", "hello"]
    );
    assert_eq!(bulks(&h.run(&["KEYS", "*"])).len(), 3);
    assert_eq!(bulks(&h.run(&["KEYS", "zz*"])).len(), 0);
    assert_eq!(
        h.run(&["KEYS"]),
        Reply::err("ERR wrong number of arguments for 'keys' command")
    );
}

#[test]
fn scan_returns_every_key_once() {
    // Guards the slot cursor: a full walk with a small COUNT sees each key exactly once.
    let mut h = Harness::new();
    for i in 0..500 {
        h.run(&["SET", &format!("key:{i}"), "v"]);
    }
    let seen = scan_all(&mut h, &["COUNT", "7"]);
    assert_eq!(seen.len(), 500);
    let mut uniq = seen.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 500);
    assert_eq!(scan_all(&mut h, &[]).len(), 500);
    assert_eq!(scan_all(&mut h, &["COUNT", "100000000"]).len(), 500);
}

#[test]
fn scan_keeps_surviving_keys_under_churn() {
    // Guards the guarantee for keys present during the whole scan while others change.
    let mut h = Harness::new();
    for i in 0..200 {
        h.run(&["SET", &format!("stay:{i}"), "v"]);
    }
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    for round in 0..20_000 {
        h.run(&["SET", &format!("new:{round}"), "v"]);
        h.run(&["DEL", &format!("new:{}", round / 2)]);
        let r = h.run(&["SCAN", &cursor, "MATCH", "stay:*", "COUNT", "5"]);
        let Reply::Array(parts) = r else { panic!() };
        let Reply::Bulk(c) = &parts[0] else { panic!() };
        seen.extend(bulks(&parts[1]));
        cursor = String::from_utf8_lossy(c).into_owned();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0");
    assert_eq!(sorted(seen).len(), 200);
}

#[test]
fn scan_options_and_errors_match_redis() {
    // Guards cursor parsing (strtoul-like), COUNT/MATCH/TYPE parsing and their errors.
    let mut h = Harness::new();
    h.run(&["SET", "a", "1"]);
    h.run(&["SET", "b", "2"]);
    let bad = Reply::err("ERR invalid cursor");
    for c in [
        "abc",
        " 0",
        "0x1",
        "+",
        "-",
        "16384",
        "-1",
        "18446744073709551616",
    ] {
        assert_eq!(h.run(&["SCAN", c]), bad, "cursor {c:?}");
    }
    let syntax = Reply::err("ERR syntax error");
    assert_eq!(h.run(&["SCAN", "0", "COUNT", "0"]), syntax);
    assert_eq!(h.run(&["SCAN", "0", "COUNT", "-1"]), syntax);
    assert_eq!(h.run(&["SCAN", "0", "COUNT"]), syntax);
    assert_eq!(h.run(&["SCAN", "0", "MATCH"]), syntax);
    assert_eq!(h.run(&["SCAN", "0", "foo", "bar"]), syntax);
    assert_eq!(
        h.run(&["SCAN", "0", "COUNT", "x"]),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        sorted(scan_all(&mut h, &["TYPE", "STRING"])),
        vec!["a", "b"]
    );
    assert!(scan_all(&mut h, &["TYPE", "list"]).is_empty());
    assert!(scan_all(&mut h, &["TYPE", "nosuchtype"]).is_empty());
    assert_eq!(scan_all(&mut h, &["MATCH", "a", "COUNT", "1"]), vec!["a"]);
    // Empty and signed cursors are accepted like Redis' strtoul.
    assert_eq!(
        sorted(scan_all(&mut h, &["COUNT", "1", "COUNT", "99"])).len(),
        2
    );
    let Reply::Array(parts) = h.run(&["SCAN", ""]) else {
        panic!()
    };
    assert_eq!(bulks(&parts[1]).len(), 2);
    let Reply::Array(parts) = h.run(&["SCAN", "-0"]) else {
        panic!()
    };
    assert_eq!(parts[0], Reply::bulk("0"));
}

#[test]
fn scan_on_empty_keyspace_finishes_at_once() {
    // Guards the reply shape with nothing to return: cursor "0" and an empty array.
    let mut h = Harness::new();
    assert_eq!(
        h.run(&["SCAN", "0"]),
        Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
    );
    assert_eq!(
        h.run(&["SCAN", "16383", "COUNT", "1"]),
        Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
    );
}

/// Three shards of one process, with keys placed on their owners.
fn three_shards(keys: usize) -> Vec<Shard> {
    let global = Global::new(Config::default(), 3, None);
    let mut shards: Vec<Shard> = (0..3).map(|i| Shard::new(i, 3, global.clone())).collect();
    for i in 0..keys {
        let k = format!("k{i}");
        let owner = shard_of(key_hash_slot(k.as_bytes()), 3);
        let v = Value::Str(StrValue::from_slice(b"v"));
        shards[owner].db.set(k.as_bytes(), v, 0, 0);
    }
    shards
}

#[test]
fn scan_merge_covers_all_slots_over_shards() {
    // Guards the multi-shard merge: no slot is skipped when shards stop at different slots.
    let shards = three_shards(1000);
    for count in [1, 3, 10, 250] {
        let mut cursor = 0;
        let mut seen = Vec::new();
        for _ in 0..SLOT_COUNT {
            let opts = ScanOpts {
                cursor,
                count,
                pattern: None,
                type_name: None,
            };
            let per: Vec<_> = shards.iter().map(|s| scan_shard(s, 0, &opts, 0)).collect();
            let (next, keys) = scan_merge(per, count);
            assert!(next == 0 || next > cursor, "cursor must advance");
            seen.extend(keys);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(cursor, 0);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 1000, "count {count}");
    }
}

#[test]
fn rename_across_shards_keeps_ttl() {
    // Guards RENAME between two keyspaces: removed from one, inserted in the other.
    let mut shards = three_shards(0);
    let (src, dst) = pick_keys_on_different_shards();
    let (s_src, s_dst) = (owner(&src), owner(&dst));
    let v = Value::Str(StrValue::from_slice(b"val"));
    shards[s_src].db.set(src.as_bytes(), v, 5_000, 0);
    let (left, right) = shards.split_at_mut(1);
    let mut ptrs: Vec<*mut Shard> = vec![std::ptr::null_mut(); 3];
    for s in right.iter_mut() {
        ptrs[s.id] = s as *mut Shard;
    }
    let me = &mut left[0];
    let mut buf = Vec::new();
    let argv = OwnedArgs::from_slices(&[b"RENAME", src.as_bytes(), dst.as_bytes()]);
    {
        // SAFETY: single-threaded test; the other shards are only reached through `ptrs`.
        let frozen = unsafe { crate::shard::Parked::new(&ptrs) };
        let mut ex = Exec::with_frozen(me, Out::new(&mut buf, Proto::Resp2), 1_000, frozen);
        rename(&mut ex, argv.args()).expect("rename works");
    }
    assert_eq!(buf, b"+OK\r\n");
    assert_eq!(shards[s_src].db.len(), 0);
    let e = shards[s_dst]
        .db
        .lookup_write(dst.as_bytes(), 1_000)
        .expect("moved");
    assert_eq!(e.expire_at_ms(), 5_000);
}

fn owner(k: &str) -> usize {
    shard_of(key_hash_slot(k.as_bytes()), 3)
}

/// Two key names owned by different shards, the first owned by shard 0.
fn pick_keys_on_different_shards() -> (String, String) {
    let names: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    let first = names
        .iter()
        .find(|k| owner(k) == 0)
        .expect("a key on shard 0");
    let other = names
        .iter()
        .find(|k| owner(k) != 0)
        .expect("a key elsewhere");
    (first.clone(), other.clone())
}

#[test]
fn randomkey_dbsize_and_flush() {
    // Guards RANDOMKEY on empty/non-empty keyspaces, DBSIZE, and FLUSH option parsing.
    let mut h = Harness::new();
    assert_eq!(h.run(&["RANDOMKEY"]), Reply::Nil);
    h.run(&["SET", "only", "v"]);
    assert_eq!(h.run(&["RANDOMKEY"]), Reply::bulk("only"));
    h.run(&["SET", "two", "v"]);
    assert_eq!(h.run(&["DBSIZE"]), int(2));
    let syntax = Reply::err("ERR syntax error");
    assert_eq!(h.run(&["FLUSHALL", "foo"]), syntax);
    assert_eq!(h.run(&["FLUSHDB", "async", "sync"]), syntax);
    assert_eq!(h.run(&["FLUSHDB", "ASYNC"]), Reply::ok());
    assert_eq!(h.run(&["DBSIZE"]), int(0));
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["FLUSHALL", "sync"]), Reply::ok());
    assert_eq!(h.run(&["FLUSHALL"]), Reply::ok());
    assert_eq!(h.run(&["DBSIZE"]), int(0));
    assert_eq!(
        h.run(&["RANDOMKEY", "x"]),
        Reply::err("ERR wrong number of arguments for 'randomkey' command")
    );
}

#[test]
fn object_subcommands_match_redis() {
    // Guards encodings, shared-integer refcounts, the FREQ error, nil for missing keys.
    let mut h = Harness::new();
    let long = "a".repeat(45);
    for (v, enc, refs) in [
        ("0", "int", i32::MAX as i64),
        ("9999", "int", i32::MAX as i64),
        ("10000", "int", 1),
        ("-1", "int", 1),
        ("007", "embstr", 1),
        (long.as_str(), "raw", 1),
    ] {
        h.run(&["SET", "s", v]);
        assert_eq!(h.run(&["OBJECT", "ENCODING", "s"]), Reply::bulk(enc), "{v}");
        assert_eq!(h.run(&["object", "refcount", "s"]), int(refs), "{v}");
    }
    assert_eq!(
        h.run(&["OBJECT", "FREQ", "s"]),
        Reply::err(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
             Please note that when switching between policies at runtime LRU and LFU data \
             will take some time to adjust."
        )
    );
    for sub in ["ENCODING", "FREQ", "IDLETIME", "REFCOUNT"] {
        assert_eq!(h.run(&["OBJECT", sub, "nope"]), Reply::Nil, "{sub}");
    }
    h.advance_ms(3_000);
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "s"]), int(3));
}

#[test]
fn object_help_and_errors() {
    // Guards OBJECT HELP's shape and the container's arity/unknown-subcommand errors.
    let mut h = Harness::new();
    let Reply::Array(lines) = h.run(&["OBJECT", "HELP"]) else {
        panic!()
    };
    assert_eq!(lines.len(), 15);
    assert_eq!(lines[14], Reply::Simple("    Prints this help.".into()));
    assert_eq!(
        h.run(&["OBJECT", "foo"]),
        Reply::err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    );
    assert_eq!(
        h.run(&["OBJECT"]),
        Reply::err("ERR wrong number of arguments for 'object' command")
    );
    assert_eq!(
        h.run(&["OBJECT", "ENCODING", "a", "b"]),
        Reply::err("ERR wrong number of arguments for 'object|encoding' command")
    );
}

#[test]
fn resp3_nil_for_missing_object() {
    // Guards that missing keys answer RESP3's null, not a RESP2 null bulk.
    let mut h = Harness::new();
    h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
    assert_eq!(h.raw(&["OBJECT", "ENCODING", "nope"]), b"_\r\n");
    assert_eq!(h.raw(&["RANDOMKEY"]), b"_\r\n");
}

#[test]
fn table_metadata_matches_redis() {
    // Guards arity, flags, key positions and groups as COMMAND INFO/DOCS would show them.
    let check = |name: &str, arity: i32, fl: u32, group: &str| {
        let c = crate::commands::lookup(name.as_bytes()).expect(name);
        assert_eq!(c.arity, arity, "{name}");
        assert_eq!(c.flags & !MULTI_KEY, fl, "{name}");
        assert_eq!(c.group, group, "{name}");
        assert!(!c.summary.is_empty() && !c.complexity.is_empty(), "{name}");
    };
    check("del", -2, WRITE, "generic");
    check("unlink", -2, WRITE | FAST, "generic");
    check("exists", -2, READONLY | FAST, "generic");
    check("expire", -3, WRITE | FAST, "generic");
    check("ttl", 2, READONLY | FAST, "generic");
    check("rename", 3, WRITE, "generic");
    check("renamenx", 3, WRITE | FAST, "generic");
    check("copy", -3, WRITE | DENYOOM, "generic");
    check("touch", -2, READONLY | FAST, "generic");
    check("keys", 2, READONLY, "generic");
    check("scan", -2, READONLY, "generic");
    check("randomkey", 1, READONLY, "generic");
    check("dbsize", 1, READONLY | FAST, "server");
    check("flushall", -1, WRITE, "server");
    check("object", -2, 0, "generic");
    let obj = crate::commands::lookup(b"object").expect("object");
    let help = crate::commands::lookup_sub(obj, b"help").expect("help");
    assert_eq!((help.arity, help.flags), (2, LOADING | STALE));
    let enc = crate::commands::lookup_sub(obj, b"ENCODING").expect("encoding");
    assert!(matches!(
        enc.keys,
        KeySpec::Range {
            first: 2,
            last: 2,
            step: 1
        }
    ));
    assert_eq!(ARGS_SCAN.len(), 4);
    assert_eq!(EXPIRE_COND.args.len(), 4);
}

#[test]
fn databases_move_swapdb_copy_flushdb() {
    // Guards the numbered databases: MOVE (TTL kept, 0 when missing or taken), SWAPDB,
    // COPY ... DB, FLUSHDB of one database against FLUSHALL of all, INFO keyspace lines.
    let mut h = Harness::new();
    h.run(&["SET", "a", "1", "PX", "100000"]);
    assert_eq!(h.run(&["MOVE", "a", "3"]), int(1));
    assert_eq!(h.run(&["EXISTS", "a"]), int(0));
    assert_eq!(h.run(&["MOVE", "a", "3"]), int(0));
    let same = Reply::err("ERR source and destination objects are the same");
    assert_eq!(h.run(&["MOVE", "a", "0"]), same);
    let oor = Reply::err("ERR DB index is out of range");
    assert_eq!(h.run(&["MOVE", "a", "16"]), oor);
    h.run(&["SELECT", "3"]);
    assert!(matches!(h.run(&["PTTL", "a"]), Reply::Int(n) if n > 0));
    h.run(&["SET", "b", "x"]);
    h.run(&["SELECT", "0"]);
    h.run(&["SET", "b", "y"]);
    assert_eq!(h.run(&["SELECT", "3"]), Reply::ok());
    assert_eq!(h.run(&["MOVE", "b", "0"]), int(0));
    assert_eq!(h.run(&["COPY", "b", "c", "DB", "5"]), int(1));
    assert_eq!(h.run(&["COPY", "b", "b", "DB", "3"]), same);
    assert_eq!(h.run(&["COPY", "b", "b", "DB", "0"]), int(0));
    assert_eq!(h.run(&["COPY", "b", "b", "DB", "0", "REPLACE"]), int(1));
    h.run(&["SELECT", "0"]);
    assert_eq!(h.run(&["GET", "b"]), Reply::bulk("x"));
    assert_eq!(h.run(&["SWAPDB", "0", "5"]), Reply::ok());
    assert_eq!(h.run(&["GET", "c"]), Reply::bulk("x"));
    assert_eq!(h.run(&["DBSIZE"]), int(1));
    assert_eq!(
        h.run(&["SWAPDB", "x", "1"]),
        Reply::err("ERR invalid first DB index")
    );
    assert_eq!(
        h.run(&["SWAPDB", "1", "x"]),
        Reply::err("ERR invalid second DB index")
    );
    assert_eq!(h.run(&["SWAPDB", "1", "16"]), oor);
    let Reply::Bulk(info) = h.run(&["INFO", "keyspace"]) else {
        panic!("INFO is a bulk string")
    };
    let info = String::from_utf8(info).unwrap();
    assert!(info.contains("db0:keys=1,expires=0"), "{info}");
    assert!(info.contains("db3:keys=2,expires=1"), "{info}");
    assert!(info.contains("db5:keys=1,expires=0"), "{info}");
    assert_eq!(h.run(&["FLUSHDB"]), Reply::ok());
    assert_eq!(h.run(&["DBSIZE"]), int(0));
    h.run(&["SELECT", "3"]);
    assert_eq!(h.run(&["DBSIZE"]), int(2));
    assert_eq!(h.run(&["FLUSHALL"]), Reply::ok());
    assert_eq!(h.run(&["DBSIZE"]), int(0));
}
