//! Family tests for DUMP/RESTORE/MIGRATE/DEBUG DIGEST-VALUE through the in-process harness.

use crate::resp::Proto;
use crate::testkit::{Harness, Reply};

/// Runs a command with binary arguments.
fn run_bin(h: &mut Harness, argv: &[&[u8]]) -> Reply {
    let raw = h.raw_line(h.client, argv, Proto::Resp2);
    Reply::decode(&raw).expect("a reply").0
}

fn dump_of(h: &mut Harness, key: &str) -> Vec<u8> {
    match h.run(&["DUMP", key]) {
        Reply::Bulk(b) => b,
        other => panic!("DUMP {key}: {other:?}"),
    }
}

#[test]
fn dump_restore_every_type() {
    // Guards the DUMP -> RESTORE roundtrip for each type through the command layer.
    let mut h = Harness::with_debug();
    h.run(&["SET", "s", "hello"]);
    h.run(&["RPUSH", "l", "a", "1", "b"]);
    h.run(&["HSET", "h", "f", "v"]);
    h.run(&["SADD", "st", "x", "y"]);
    h.run(&["ZADD", "z", "1.5", "m"]);
    for k in ["s", "l", "h", "st", "z"] {
        let p = dump_of(&mut h, k);
        let target = format!("{k}-copy");
        assert_eq!(
            run_bin(&mut h, &[b"RESTORE", target.as_bytes(), b"0", &p]),
            Reply::ok()
        );
        // A hash set's DUMP follows its iteration order, which a rebuilt set need not share:
        // compare the order-independent digests, and the bytes where order is fixed.
        let digests = h.run(&["DEBUG", "DIGEST-VALUE", k, &target]);
        let Reply::Array(d) = digests else {
            panic!("digests: {digests:?}")
        };
        assert_eq!(d[0], d[1], "{k}");
        if k != "st" {
            assert_eq!(dump_of(&mut h, &target), p, "{k}");
        }
    }
    assert_eq!(h.run(&["DUMP", "missing"]), Reply::Nil);
}

#[test]
fn restore_errors_and_options() {
    // Guards Redis' error texts and their order (options, BUSYKEY, TTL, payload).
    let mut h = Harness::new();
    h.run(&["SET", "s", "v"]);
    let p = dump_of(&mut h, "s");
    let busy = Reply::err("BUSYKEY Target key name already exists.");
    assert_eq!(run_bin(&mut h, &[b"RESTORE", b"s", b"0", &p]), busy);
    assert_eq!(run_bin(&mut h, &[b"RESTORE", b"s", b"-1", b"x"]), busy);
    let ttl = Reply::err("ERR Invalid TTL value, must be >= 0");
    assert_eq!(run_bin(&mut h, &[b"RESTORE", b"n", b"-1", &p]), ttl);
    let nan = Reply::err("ERR value is not an integer or out of range");
    assert_eq!(run_bin(&mut h, &[b"RESTORE", b"n", b"x", &p]), nan);
    let syntax = Reply::err("ERR syntax error");
    assert_eq!(
        run_bin(&mut h, &[b"RESTORE", b"s", b"0", &p, b"foo"]),
        syntax
    );
    let both = [
        &b"RESTORE"[..],
        b"n",
        b"0",
        &p,
        b"IDLETIME",
        b"1",
        b"FREQ",
        b"1",
    ];
    assert_eq!(run_bin(&mut h, &both), syntax);
    let idle = Reply::err("ERR Invalid IDLETIME value, must be >= 0");
    assert_eq!(
        run_bin(&mut h, &[b"RESTORE", b"s", b"0", &p, b"IDLETIME", b"-1"]),
        idle
    );
    let freq = Reply::err("ERR Invalid FREQ value, must be >= 0 and <= 255");
    assert_eq!(
        run_bin(&mut h, &[b"RESTORE", b"s", b"0", &p, b"FREQ", b"256"]),
        freq
    );
    let wrong = Reply::err("ERR DUMP payload version or checksum are wrong");
    assert_eq!(
        run_bin(&mut h, &[b"RESTORE", b"n", b"0", b"garbage"]),
        wrong
    );
    assert_eq!(run_bin(&mut h, &[b"RESTORE", b"n", b"0", b""]), wrong);
    assert_eq!(
        h.run(&["RESTORE", "n", "0"]),
        Reply::err("ERR wrong number of arguments for 'restore' command")
    );
}

#[test]
fn restore_ttl_replace_and_absttl() {
    // Guards TTL handling: relative, absolute, already expired (deletes with REPLACE).
    let mut h = Harness::new();
    h.run(&["SET", "s", "v"]);
    let p = dump_of(&mut h, "s");
    assert_eq!(
        run_bin(&mut h, &[b"RESTORE", b"a", b"5000", &p]),
        Reply::ok()
    );
    assert_eq!(h.run(&["PTTL", "a"]), Reply::Int(5000));
    let at = (h.now_ms + 9000).to_string();
    let args = [&b"RESTORE"[..], b"b", at.as_bytes(), &p, b"ABSTTL"];
    assert_eq!(run_bin(&mut h, &args), Reply::ok());
    assert_eq!(h.run(&["PTTL", "b"]), Reply::Int(9000));
    let past = (h.now_ms - 1).to_string();
    let args = [
        &b"RESTORE"[..],
        b"s",
        past.as_bytes(),
        &p,
        b"ABSTTL",
        b"REPLACE",
    ];
    assert_eq!(run_bin(&mut h, &args), Reply::ok());
    assert_eq!(h.run(&["EXISTS", "s"]), Reply::Int(0));
    let args = [
        &b"RESTORE"[..],
        b"c",
        b"0",
        &p,
        b"REPLACE",
        b"IDLETIME",
        b"100",
    ];
    assert_eq!(run_bin(&mut h, &args), Reply::ok());
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "c"]), Reply::Int(100));
}

#[test]
fn migrate_argument_errors() {
    // Guards MIGRATE's local checks: NOKEY, KEYS misuse, syntax, bad numbers, IOERR on connect.
    let mut h = Harness::new();
    let nokey = h.run(&["MIGRATE", "127.0.0.1", "1", "nokey", "0", "100"]);
    assert_eq!(nokey, Reply::Simple("NOKEY".into()));
    let keys = h.run(&["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "KEYS", "a"]);
    assert_eq!(
        keys,
        Reply::err(
            "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
        )
    );
    let syn = h.run(&["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "bogus"]);
    assert_eq!(syn, Reply::err("ERR syntax error"));
    let nan = h.run(&["MIGRATE", "127.0.0.1", "1", "k", "0", "x"]);
    assert_eq!(
        nan,
        Reply::err("ERR value is not an integer or out of range")
    );
    h.run(&["SET", "k", "v"]);
    // Port 1 on localhost is closed: refused, which Redis 7.0 reports as a failed write.
    let writing = Reply::err("IOERR error or timeout writing to target instance");
    let io = h.run(&["MIGRATE", "127.0.0.1", "1", "", "0", "200", "KEYS", "k"]);
    assert_eq!(io, writing);
    // Junk ports and unknown hosts cannot even start a connect.
    let io = h.run(&[
        "MIGRATE",
        "127.0.0.1",
        "notaport",
        "",
        "0",
        "200",
        "KEYS",
        "k",
    ]);
    assert_eq!(
        io,
        Reply::err("IOERR error or timeout connecting to the client")
    );
    assert_eq!(h.run(&["EXISTS", "k"]), Reply::Int(1));
}

#[test]
fn migrate_key_positions() {
    // Guards routing's view of MIGRATE keys: argument 3, or everything after KEYS.
    use crate::resp::OwnedArgs;
    let spec = crate::commands::lookup(b"migrate").expect("registered");
    let pos = |v: &[&[u8]]| {
        spec.key_positions(OwnedArgs::from_slices(v).args())
            .expect("ok")
    };
    assert_eq!(pos(&[b"MIGRATE", b"h", b"1", b"k", b"0", b"5"]), vec![3]);
    let v: &[&[u8]] = &[
        b"MIGRATE", b"h", b"1", b"", b"0", b"5", b"AUTH", b"keys", b"KEYS", b"a", b"b",
    ];
    assert_eq!(pos(v), vec![9, 10]);
}

#[test]
fn digest_value() {
    // Guards DEBUG DIGEST-VALUE: zeros for missing keys, equal values give equal digests.
    let mut h = Harness::with_debug();
    h.run(&["SADD", "a", "x", "y", "z"]);
    h.run(&["SADD", "b", "z", "y", "x"]);
    let r = h.run(&["DEBUG", "DIGEST-VALUE", "a", "b", "nope"]);
    let Reply::Array(v) = r else { panic!("{r:?}") };
    assert_eq!(v[0], v[1]);
    assert_eq!(v[2], Reply::Simple("0".repeat(40)));
    assert_ne!(v[0], v[2]);
    assert_eq!(h.run(&["DEBUG", "DIGEST-VALUE"]), Reply::Array(vec![]));
}
