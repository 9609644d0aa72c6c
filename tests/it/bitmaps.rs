//! Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO) side by
//! side with Debian's redis-server 7.0: replies byte for byte in RESP2 and RESP3, good and bad
//! input; BITOP over keys on several shards; the AOF restores what the bit commands wrote.

use crate::common::{cmd, Raw, RedisServer as Redis, Server};
use crate::compare::read_reply;

/// Runs each line (split on spaces; `\s` is a space inside an argument, `\0` an empty
/// argument) on redis-server and on a slotd started with `slotd_args`, in RESP3 when `resp3`,
/// and asserts byte-equal replies. Skipped when redis-server is not installed.
pub fn compare(slotd_args: &[&str], resp3: bool, script: &[&str]) {
    let Some(redis) = Redis::start("bitsort") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(slotd_args);
    let (mut a, mut b) = (Raw::connect(redis.port), slotd.raw());
    if resp3 {
        // HELLO names each server: only switch the protocol.
        let hello = cmd(&[b"HELLO", b"3"]);
        a.send(&hello);
        b.send(&hello);
        read_reply(&mut a);
        read_reply(&mut b);
    }
    for line in script {
        let parts: Vec<Vec<u8>> = line
            .split(' ')
            .map(|p| match p {
                "\\0" => Vec::new(),
                p => p.replace("\\s", " ").into_bytes(),
            })
            .collect();
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
        let req = cmd(&refs);
        a.send(&req);
        b.send(&req);
        let (ra, rb) = (read_reply(&mut a), read_reply(&mut b));
        assert_eq!(
            String::from_utf8_lossy(&rb),
            String::from_utf8_lossy(&ra),
            "slotd vs redis for `{line}` (resp3: {resp3})"
        );
    }
}

const SINGLE_BITS: &[&str] = &[
    "SETBIT b 7 1",
    "SETBIT b 7 1",
    "SETBIT b 7 0",
    "GET b",
    "OBJECT ENCODING b",
    "SETBIT b 100 1",
    "STRLEN b",
    "GETBIT b 100",
    "GETBIT b 99",
    "GETBIT b 100000",
    "GETBIT nokey 5",
    "SETBIT b 1 1x",
    "SETBIT b 1 2",
    "SETBIT b 1 -1",
    "SETBIT b 1 \\0",
    "SETBIT b -1 1",
    "SETBIT b x 1",
    "SETBIT b 4294967296 1",
    "SETBIT b 4294967295x 1",
    "GETBIT b 4294967296",
    "GETBIT b -1",
    "SET n 12",
    "OBJECT ENCODING n",
    "SETBIT n 0 0",
    "OBJECT ENCODING n",
    "GET n",
    "SET small abc",
    "SETBIT small 2 1",
    "OBJECT ENCODING small",
    "GET small",
    "SETBIT small 2000 1",
    "STRLEN small",
    "LPUSH l a",
    "SETBIT l 0 1",
    "GETBIT l 0",
    "SETBIT l x 1",
    "SETBIT l 0 5",
    "SETBIT",
    "GETBIT b",
];

const COUNTS: &[&str] = &[
    "SET s foobar",
    "BITCOUNT s",
    "BITCOUNT s 0 0",
    "BITCOUNT s 1 1",
    "BITCOUNT s 1 -2",
    "BITCOUNT s -100 100",
    "BITCOUNT s 5 1",
    "BITCOUNT s -1 -2",
    "BITCOUNT s -1 -2 FOO",
    "BITCOUNT s 1 5 BYTE",
    "BITCOUNT s 5 30 BIT",
    "BITCOUNT s 5 30 bit",
    "BITCOUNT s -7 -3 BIT",
    "BITCOUNT s 0 -1 BIT",
    "BITCOUNT s 47 47 BIT",
    "BITCOUNT s 1 5 FOO",
    "BITCOUNT s 1",
    "BITCOUNT s 1 2 BIT x",
    "BITCOUNT s a b",
    "BITCOUNT s 1 b",
    "BITCOUNT nokey",
    "BITCOUNT nokey a b c d",
    "SET e \\0",
    "BITCOUNT e",
    "BITCOUNT e 0 -1",
    "BITCOUNT e 0 -1 BIT",
    "BITCOUNT e a b c",
    "LPUSH l a",
    "BITCOUNT l",
    "BITCOUNT l a b",
    "BITCOUNT s 9223372036854775807 -9223372036854775808 BIT",
    "BITCOUNT s -9223372036854775808 9223372036854775807 BIT",
    "SETBIT big 9000 1",
    "SETBIT big 3 1",
    "BITCOUNT big",
    "BITCOUNT big 0 1124",
    "BITCOUNT big 4 9000 BIT",
];

const POSITIONS: &[&str] = &[
    "SET p \\xff\\xf0\\x00",
    "SETRANGE p 0 \u{ff}",
    "SET z \\0",
    "SETBIT z 20 1",
    "BITPOS z 1",
    "BITPOS z 0",
    "BITPOS z 1 2",
    "BITPOS z 1 3",
    "BITPOS z 0 1 1",
    "BITPOS z 1 0 -1 BIT",
    "BITPOS z 1 21 -1 BIT",
    "BITPOS z 0 20 20 BIT",
    "BITPOS z 0 20 BIT",
    "BITPOS z 1 -4 -1 BIT",
    "BITPOS z 1 1 1 byte",
    "BITPOS z 1 1 1 FOO",
    "BITPOS z 1 x 1 FOO",
    "BITPOS z 1 1 x",
    "BITPOS z 1 1 x FOO",
    "BITPOS z 1 1 2 BIT extra",
    "BITPOS z 2",
    "BITPOS z x",
    "BITPOS z -1",
    "BITPOS nokey 0",
    "BITPOS nokey 1",
    "BITPOS nokey 0 a b c d e",
    "BITPOS nokey 2",
    "SET ones \\xff\\xff\\xff",
    "SETBIT ones 0 1",
    "SET ff x",
    "SETBIT ff 0 1",
    "SETBIT ff 1 1",
    "SETBIT ff 2 1",
    "SETBIT ff 3 1",
    "SETBIT ff 4 1",
    "SETBIT ff 5 1",
    "SETBIT ff 6 1",
    "SETBIT ff 7 1",
    "BITPOS ff 0",
    "BITPOS ff 0 0",
    "BITPOS ff 0 0 -1",
    "BITPOS ff 0 0 7 BIT",
    "BITPOS ff 0 3 BIT",
    "BITPOS ff 1 8 BIT",
    "SET e \\0",
    "BITPOS e 0",
    "BITPOS e 1",
    "BITPOS e 0 0 -1 BIT",
    "LPUSH l a",
    "BITPOS l 1",
    "BITPOS l 7",
    "SETBIT w 1000 1",
    "BITPOS w 1",
    "BITPOS w 1 3",
    "BITPOS w 1 3 124",
    "BITPOS w 1 3 900 BIT",
    "BITPOS w 0 3 900 BIT",
    "BITPOS w 1 -1 -1",
];

const BITOPS: &[&str] = &[
    "SET a foobar",
    "SET b abcdefghijk",
    "BITOP AND d a b",
    "GET d",
    "OBJECT ENCODING d",
    "BITOP or d a b",
    "GET d",
    "BITOP XOR d a b nokey",
    "GET d",
    "BITOP NOT d a",
    "GET d",
    "BITOP NOT d a b",
    "BITOP NOT d",
    "BITOP FOO d a",
    "BITOP AND d nokey nokey2",
    "EXISTS d",
    "BITOP AND d nokey nokey2",
    "LPUSH l x",
    "BITOP AND d a l",
    "BITOP AND l a",
    "TYPE l",
    "SET n 123",
    "BITOP AND n2 n n",
    "GET n2",
    "SET ttl x EX 100",
    "BITOP OR ttl a",
    "TTL ttl",
    "BITOP AND d",
];

const FIELDS: &[&str] = &[
    "BITFIELD f SET i8 0 100 GET i8 0 INCRBY i8 0 100 GET u8 0",
    "BITFIELD f OVERFLOW SAT INCRBY i8 0 100 OVERFLOW WRAP INCRBY i8 0 100",
    "BITFIELD f OVERFLOW FAIL INCRBY i8 0 200",
    "BITFIELD f SET u4 #2 15 GET u4 #2 GET u16 0 GET i16 0",
    "BITFIELD f INCRBY u2 100 1 OVERFLOW SAT incrby u2 102 1",
    "BITFIELD f overflow fail INCRBY u2 104 5 INCRBY u2 104 -1",
    "BITFIELD f SET i64 0 -1 GET i64 0 GET u63 0 GET u63 1 INCRBY i64 0 -9223372036854775807",
    "BITFIELD f OVERFLOW SAT INCRBY i64 0 -9223372036854775807 INCRBY i64 0 -1",
    "BITFIELD f OVERFLOW WRAP SET i64 0 9223372036854775807 INCRBY i64 0 1",
    "BITFIELD f OVERFLOW SAT SET u8 0 -1 SET u8 0 300 GET u8 0 SET i8 0 -300 GET i8 0",
    "BITFIELD f OVERFLOW WRAP SET u8 0 -1 SET u8 0 300 GET u8 0 SET i8 0 -300 GET i8 0",
    "BITFIELD f OVERFLOW FAIL SET u8 0 -1 SET i1 0 1 SET i1 0 -1 GET i1 0",
    "BITFIELD f GET u8 1000 GET i64 999 GET i5 3",
    "GET f",
    "OBJECT ENCODING f",
    "BITFIELD f",
    "BITFIELD nokey GET u8 0",
    "EXISTS nokey",
    "BITFIELD nk OVERFLOW FAIL INCRBY u2 0 5",
    "EXISTS nk",
    "GET nk",
    "BITFIELD f GET u64 0",
    "BITFIELD f GET i65 0",
    "BITFIELD f GET u0 0",
    "BITFIELD f GET U8 0",
    "BITFIELD f GET 8 0",
    "BITFIELD f GET u8 -1",
    "BITFIELD f GET u8 #-1",
    "BITFIELD f GET u8 x",
    "BITFIELD f GET u8 4294967296",
    "BITFIELD f GET u8 #536870912",
    "BITFIELD f GET u8 #536870911",
    "BITFIELD f SET u8 0 x",
    "BITFIELD f SET u8 0",
    "BITFIELD f GET u8",
    "BITFIELD f OVERFLOW",
    "BITFIELD f OVERFLOW FOO GET u8 0",
    "BITFIELD f FOO u8 0",
    "BITFIELD f GET u8 0 SET u8 x 1",
    "BITFIELD f get u8 0 overflow sat",
    "BITFIELD_RO f GET u8 0 GET i4 #3",
    "BITFIELD_RO f GET u8 0 SET u8 0 1",
    "BITFIELD_RO f INCRBY u8 0 1",
    "BITFIELD_RO f OVERFLOW SAT GET u8 0",
    "BITFIELD_RO f GET u8",
    "BITFIELD_RO nokey GET u8 0",
    "BITFIELD_RO f",
    "LPUSH l x",
    "BITFIELD l GET u8 0",
    "BITFIELD l SET u8 0 1",
    "BITFIELD_RO l GET u8 0",
    "BITFIELD l GET u99 0",
    "COMMAND GETKEYSANDFLAGS bitfield k get u8 0",
    "COMMAND GETKEYSANDFLAGS bitfield k get u8 0 overflow sat",
    "COMMAND GETKEYSANDFLAGS bitfield k get u8 0 set u8 0 1",
    "COMMAND GETKEYSANDFLAGS bitfield k",
    "COMMAND GETKEYSANDFLAGS bitfield k foo",
    "COMMAND GETKEYSANDFLAGS bitfield_ro k get u8 0",
    "COMMAND GETKEYSANDFLAGS bitop and d a b",
    "COMMAND GETKEYSANDFLAGS setbit k 1 1",
];

/// COMMAND DOCS carries slotd's own summaries: tests/it/command_table.rs compares the rest.
const INFO: &[&str] = &[
    "COMMAND INFO setbit getbit bitcount bitpos bitop bitfield bitfield_ro",
    "COMMAND GETKEYSANDFLAGS bitfield_ro k get u8 0 get u8 1",
];

#[test]
fn setbit_getbit_match_redis() {
    // Offsets, bit values (Redis reads only the first byte), limits, encodings, WRONGTYPE.
    compare(&[], false, SINGLE_BITS);
}

#[test]
fn bitcount_bitpos_match_redis() {
    // Byte and bit ranges, negative indexes, the argument order of Redis' checks.
    compare(&[], false, COUNTS);
    compare(&[], false, POSITIONS);
}

#[test]
fn bitop_matches_redis() {
    // Padding, empty results deleting the destination, TTL dropped, NOT's single source.
    compare(&[], false, BITOPS);
}

#[test]
fn bitfield_matches_redis() {
    // Every overflow rule at the type limits, `#` offsets, errors in Redis' order, _RO.
    compare(&[], false, FIELDS);
}

#[test]
fn bitmaps_match_redis_in_resp3() {
    // RESP3 shapes: BITFIELD's null for a failed write, integers, COMMAND INFO/DOCS maps.
    compare(&[], true, FIELDS);
    compare(&[], true, INFO);
    compare(&[], true, &SINGLE_BITS[..12]);
}

#[test]
fn bitmap_command_info_matches_redis() {
    // COMMAND INFO (flags, key specs, ACL categories) of every bitmap command, byte for byte.
    compare(&[], false, INFO);
}

#[test]
fn bitmaps_dump_and_limits_match_redis() {
    // Bitmaps are strings: DUMP payloads equal Redis' (short, long, compressible); a payload
    // from Redis restores here. Offsets follow proto-max-bulk-len when it is lowered.
    compare(
        &[],
        false,
        &[
            "SETBIT d1 7 1",
            "DUMP d1",
            "SETBIT d2 1000 1",
            "DUMP d2",
            "BITFIELD d3 SET u8 #40 255 SET i16 #3 -2",
            "DUMP d3",
            "SET d4 \0",
            "SETBIT d4 100000 1",
            "DUMP d4",
            "CONFIG SET proto-max-bulk-len 1mb",
            "SETBIT lim 8388607 1",
            "SETBIT lim 8388608 1",
            "GETBIT lim 8388608",
            "BITFIELD lim SET u8 8388600 1",
            "BITFIELD lim GET u8 8388608",
            "BITFIELD lim SET u8 #1048575 1",
            "BITFIELD lim SET u8 #1048576 1",
            "STRLEN lim",
            "CONFIG SET proto-max-bulk-len 512mb",
        ],
    );
    let Some(redis) = Redis::start("bitmaps_dump") else {
        return;
    };
    let slotd = Server::start(&[]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    let _: i64 = redis::cmd("SETBIT")
        .arg("x")
        .arg(5000)
        .arg(1)
        .query(&mut r)
        .unwrap();
    let payload: Vec<u8> = redis::cmd("DUMP").arg("x").query(&mut r).unwrap();
    let _: () = redis::cmd("RESTORE")
        .arg("x")
        .arg(0)
        .arg(&payload)
        .query(&mut s)
        .unwrap();
    let count: i64 = redis::cmd("BITCOUNT").arg("x").query(&mut s).unwrap();
    let pos: i64 = redis::cmd("BITPOS").arg("x").arg(1).query(&mut s).unwrap();
    assert_eq!((count, pos), (1, 5000));
    let back: Vec<u8> = redis::cmd("DUMP").arg("x").query(&mut s).unwrap();
    assert_eq!(back, payload, "slotd's DUMP of the restored bitmap");
}

#[test]
fn bitop_across_shards_matches_redis() {
    // Sources and destination on different cores of a standalone slotd: one atomic section.
    let mut script = vec![
        "SET k1 \u{1}abc",
        "SET k2 zzzzzzzzzz",
        "SET k3 q",
        "SET k4 A",
    ];
    script.extend_from_slice(&[
        "BITOP AND d k1 k2 k3 k4",
        "GET d",
        "BITOP OR k9 k1 k2 k3 k4",
        "GET k9",
        "BITOP XOR k4 k4 k2",
        "GET k4",
        "BITOP NOT k5 k2",
        "GET k5",
        "BITOP AND k1 nokey nokey2 nokey3",
        "EXISTS k1",
        "LPUSH k7 x",
        "BITOP OR k8 k2 k7",
        "EXISTS k8",
    ]);
    compare(&["--server-threads", "3"], false, &script);
}

#[test]
fn bit_writes_survive_an_aof_restart() {
    // SETBIT, BITFIELD (not its GET-only or failed forms), BITOP on one and several shards
    // are journaled so that a restart rebuilds the same strings.
    let args = ["--appendonly", "yes", "--server-threads", "3"];
    let mut s = Server::start(&args);
    let mut c = s.client();
    let run = |c: &mut redis::Connection, a: &[&str]| {
        let mut q = redis::cmd(a[0]);
        for x in &a[1..] {
            q.arg(*x);
        }
        q.query::<redis::Value>(c).expect("reply");
    };
    for (k, off) in [("b1", "3"), ("b2", "700"), ("b1", "9000"), ("b3", "12")] {
        run(&mut c, &["SETBIT", k, off, "1"]);
    }
    run(&mut c, &["SETBIT", "b1", "3", "0"]);
    run(
        &mut c,
        &[
            "BITFIELD", "f1", "SET", "i16", "#3", "-1234", "INCRBY", "u8", "0", "7",
        ],
    );
    run(
        &mut c,
        &[
            "BITFIELD", "f1", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9",
        ],
    );
    run(&mut c, &["BITOP", "OR", "o1", "b1", "b2", "b3"]);
    run(&mut c, &["BITOP", "NOT", "o2", "f1"]);
    let keys = ["b1", "b2", "b3", "f1", "o1", "o2"];
    let before: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| redis::cmd("GET").arg(*k).query(&mut c).expect("GET"))
        .collect();
    drop(c);
    assert_eq!(s.stop(), Some(0));
    let dir = std::mem::take(&mut s.dir);
    for threads in ["3", "1"] {
        let args = ["--appendonly", "yes", "--server-threads", threads];
        let s2 = Server::start_in(crate::common::free_port(), dir.clone(), &args).expect("restart");
        let mut c = s2.client();
        let after: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| redis::cmd("GET").arg(*k).query(&mut c).expect("GET"))
            .collect();
        assert_eq!(after, before, "after a restart with {threads} threads");
        drop(c);
        let mut s2 = s2;
        assert_eq!(s2.stop(), Some(0));
        std::mem::take(&mut s2.dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
