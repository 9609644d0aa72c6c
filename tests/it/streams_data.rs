//! Streams as stored values: DUMP/RESTORE/MIGRATE against a real redis-server 7.0 (payloads
//! made on either side restore on the other, and slotd's DUMP equals Redis' byte for byte),
//! TYPE, OBJECT ENCODING, SCAN TYPE, COPY, RENAME, DEBUG DIGEST-VALUE, MEMORY USAGE,
//! `redis-cli --cluster reshard` of a stream key between slotd nodes, and the node-size
//! configuration. Tests needing redis-server skip (with a message) when it is not installed.

use crate::cluster::{cluster_cli, Cluster};
use crate::common::{cli, RedisServer as Redis, Server};
use redis::{Connection, Value};

/// Runs one command (binary-safe arguments), turning an error reply into a comparable value.
fn call(c: &mut Connection, args: &[&[u8]]) -> Value {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).expect("name"));
    args[1..].iter().for_each(|a| {
        cmd.arg(*a);
    });
    match cmd.query::<Value>(c) {
        Ok(v) => v,
        Err(e) => Value::SimpleString(format!("ERR:{e}")),
    }
}

/// `call` with text arguments split on spaces.
fn run(c: &mut Connection, line: &str) -> Value {
    let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    call(c, &args)
}

fn bytes(c: &mut Connection, line: &str) -> Vec<u8> {
    match run(c, line) {
        Value::BulkString(b) => b,
        other => panic!("{line}: {other:?}"),
    }
}

/// Stream keys built on redis-server by plain commands: entries over several nodes with
/// deletions and both trims, integer and long values, an empty stream with history, groups
/// with pending entries, consumers with and without them, an unknown read counter.
const STREAM_KEYS: &[&str] = &["plain", "nodes", "empty", "groups", "big"];

fn fill_streams(r: &mut Connection) {
    run(r, "XADD plain 1-1 a 1 b 2");
    run(r, "XADD plain 1-2 a 3 b 4");
    run(r, "XADD plain 2-0 c x");
    let long = "L".repeat(300);
    call(
        r,
        &[
            b"XADD",
            b"plain",
            b"3-0",
            b"a",
            b"-70000",
            b"b",
            long.as_bytes(),
        ],
    );
    for i in 1..=260 {
        run(r, &format!("XADD nodes {i}-{} f v{i} n {i}", i % 4));
    }
    for i in [3, 101, 150, 260] {
        run(r, &format!("XDEL nodes {i}-{}", i % 4));
    }
    run(r, "XTRIM nodes MAXLEN ~ 200");
    run(r, "XTRIM nodes MINID 130-0");
    run(r, "XADD empty 5-5 a b");
    run(r, "XDEL empty 5-5");
    run(r, "XGROUP CREATE empty g $");
    for i in 1..=9 {
        run(r, &format!("XADD groups {i}-0 f {i}"));
    }
    run(r, "XGROUP CREATE groups grp 0");
    run(r, "XREADGROUP GROUP grp alice COUNT 3 STREAMS groups >");
    run(r, "XREADGROUP GROUP grp bob COUNT 2 STREAMS groups >");
    run(r, "XACK groups grp 2-0");
    run(r, "XCLAIM groups grp bob 0 3-0");
    run(r, "XGROUP CREATECONSUMER groups grp carol");
    run(r, "XGROUP CREATE groups 42 3-0 ENTRIESREAD 3");
    run(r, "XGROUP CREATE groups late $");
    run(r, "XDEL groups 4-0");
    let mut pipe = redis::pipe();
    for i in 1..=3000 {
        pipe.cmd("XADD")
            .arg("big")
            .arg("*")
            .arg("sensor")
            .arg(i % 7)
            .arg("reading")
            .arg(format!("{}.{}", i * 3, i % 10))
            .ignore();
    }
    let () = pipe.query(r).expect("big stream");
}

/// Copies every stream key from `from` to `to` with DUMP and RESTORE.
fn copy_streams(from: &mut Connection, to: &mut Connection) {
    for k in STREAM_KEYS {
        let p = bytes(from, &format!("DUMP {k}"));
        assert_eq!(
            call(to, &[b"RESTORE", k.as_bytes(), b"0", &p]),
            Value::Okay,
            "{k}"
        );
    }
}

/// What Redis says about a stream, for comparing two keys on the same redis-server.
fn info_full(c: &mut Connection, key: &str) -> String {
    format!("{:?}", run(c, &format!("XINFO STREAM {key} FULL")))
}

#[test]
fn redis_payloads_restore_on_slotd_and_dump_back_identical() {
    // Guards RDB type 19 both ways: Redis' DUMP restores on slotd, slotd's DUMP is the same
    // bytes, and restored back on Redis gives the same XINFO STREAM FULL as the original.
    let debug = ["--enable-debug-command", "yes"];
    let Some(redis) = Redis::start_with("sdata-dump", &debug) else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&debug);
    let (mut r, mut s) = (redis.client(), slotd.client());
    fill_streams(&mut r);
    for k in STREAM_KEYS {
        let p = bytes(&mut r, &format!("DUMP {k}"));
        let ok = call(&mut s, &[b"RESTORE", k.as_bytes(), b"0", &p]);
        assert_eq!(ok, Value::Okay, "RESTORE {k}");
        assert_eq!(
            run(&mut s, &format!("TYPE {k}")),
            Value::SimpleString("stream".into())
        );
        assert_eq!(
            run(&mut s, &format!("OBJECT ENCODING {k}")),
            run(&mut r, &format!("OBJECT ENCODING {k}")),
            "{k}"
        );
        // Every XINFO STREAM FULL field, seen times and delivery times included.
        let full = format!("XINFO STREAM {k} FULL COUNT 0");
        assert_eq!(run(&mut s, &full), run(&mut r, &full), "{full}");
        let back = bytes(&mut s, &format!("DUMP {k}"));
        assert_eq!(back, p, "DUMP {k} differs from Redis'");
        let copy = format!("{k}:back");
        let ok = call(&mut r, &[b"RESTORE", copy.as_bytes(), b"0", &back]);
        assert_eq!(ok, Value::Okay, "RESTORE {copy} on redis");
        assert_eq!(info_full(&mut r, k), info_full(&mut r, &copy), "{k}");
        let digest = format!("DEBUG DIGEST-VALUE {k}");
        let want = run(&mut r, &digest);
        assert!(matches!(want, Value::Array(_)), "{want:?}");
        assert_eq!(run(&mut s, &digest), want, "digest {k}");
    }
    // RDB compression off changes the bytes the same way on both.
    run(&mut r, "CONFIG SET rdbcompression no");
    run(&mut s, "CONFIG SET rdbcompression no");
    assert_eq!(bytes(&mut s, "DUMP plain"), bytes(&mut r, "DUMP plain"));
}

#[test]
fn keyspace_commands_treat_streams_as_redis_does() {
    // Guards TYPE/SCAN TYPE/COPY/RENAME/WRONGTYPE/MEMORY USAGE/UNLINK on stream keys.
    let Some(redis) = Redis::start("sdata-keys") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", "3"]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    fill_streams(&mut r);
    copy_streams(&mut r, &mut s);
    run(&mut s, "SET str v");
    run(&mut r, "SET str v");
    let scan = |c: &mut Connection| {
        let mut keys: Vec<String> = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let v = run(c, &format!("SCAN {cursor} TYPE stream COUNT 100"));
            let Value::Array(parts) = v else {
                panic!("{v:?}")
            };
            let (Value::BulkString(next), Value::Array(ks)) = (&parts[0], &parts[1]) else {
                panic!("{parts:?}")
            };
            keys.extend(ks.iter().map(|k| format!("{k:?}")));
            cursor = String::from_utf8_lossy(next).to_string();
            if cursor == "0" {
                break;
            }
        }
        keys.sort();
        keys
    };
    assert_eq!(scan(&mut s), scan(&mut r));
    // Another type's command on a stream: WRONGTYPE, the same text.
    for line in [
        "GET plain",
        "LPUSH plain x",
        "HGET groups f",
        "SADD nodes m",
    ] {
        assert_eq!(run(&mut s, line), run(&mut r, line), "{line}");
    }
    // COPY (to another shard's key too) and RENAME keep the value whole.
    let orig = bytes(&mut s, "DUMP groups");
    for (line, key, db) in [
        ("COPY groups groups2", "groups2", 0),
        ("COPY groups {x}copy", "{x}copy", 0),
        ("RENAME groups2 renamed", "renamed", 0),
        ("COPY renamed {x}other DB 3", "{x}other", 3),
        ("MOVE renamed 3", "renamed", 3),
    ] {
        assert_eq!(run(&mut s, line), run(&mut r, line), "{line}");
        run(&mut s, &format!("SELECT {db}"));
        assert_eq!(bytes(&mut s, &format!("DUMP {key}")), orig, "{line}");
        run(&mut s, "SELECT 0");
    }
    // MEMORY USAGE answers an integer in Redis' neighbourhood.
    for k in ["plain", "big"] {
        let (Value::Int(mine), Value::Int(theirs)) = (
            run(&mut s, &format!("MEMORY USAGE {k}")),
            run(&mut r, &format!("MEMORY USAGE {k}")),
        ) else {
            panic!("MEMORY USAGE {k}")
        };
        assert!(
            mine > 0 && mine < theirs * 2,
            "{k}: slotd {mine}, redis {theirs}"
        );
    }
    assert_eq!(run(&mut s, "UNLINK big nodes"), Value::Int(2));
    assert_eq!(run(&mut s, "EXISTS big nodes plain"), Value::Int(1));
}

#[test]
fn corrupt_stream_payloads_answer_bad_data_format() {
    // Guards the error text on structurally broken stream payloads (checksum intact).
    let slotd = Server::start(&[]);
    let mut s = slotd.client();
    let mut body = vec![19u8, 1, 16];
    body.extend_from_slice(&[0; 16]);
    body.extend_from_slice(&[3, 1, 2, 3]); // a listpack that is not one
    body.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 1, 0]);
    body.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64_jones(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    let r = call(&mut s, &[b"RESTORE", b"k", b"0", &body]);
    assert!(format!("{r:?}").contains("Bad data format"), "{r:?}");
    assert_eq!(run(&mut s, "EXISTS k"), Value::Int(0));
}

/// Redis' CRC-64 (Jones polynomial, reflected), bit by bit: enough for a test payload.
fn crc64_jones(data: &[u8]) -> u64 {
    const POLY: u64 = 0x95AC_9329_AC4B_C9B5;
    let mut crc = 0u64;
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// MIGRATE of every stream key to the server on `port`.
fn migrate_all(from: &mut Connection, port: u16) {
    let mut args: Vec<String> = [
        "MIGRATE",
        "127.0.0.1",
        &port.to_string(),
        "",
        "0",
        "5000",
        "KEYS",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(STREAM_KEYS.iter().map(|k| k.to_string()));
    let parts: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    assert_eq!(call(from, &parts), Value::Okay);
}

#[test]
fn migrate_streams_between_redis_and_slotd() {
    // Guards MIGRATE of stream keys both ways over the real wire exchange.
    let Some(redis) = Redis::start("sdata-migrate") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    fill_streams(&mut r);
    let before: Vec<Vec<u8>> = STREAM_KEYS
        .iter()
        .map(|k| bytes(&mut r, &format!("DUMP {k}")))
        .collect();
    migrate_all(&mut r, slotd.port);
    for (k, p) in STREAM_KEYS.iter().zip(&before) {
        assert_eq!(&bytes(&mut s, &format!("DUMP {k}")), p, "{k} on slotd");
    }
    migrate_all(&mut s, redis.port);
    for (k, p) in STREAM_KEYS.iter().zip(&before) {
        assert_eq!(&bytes(&mut r, &format!("DUMP {k}")), p, "{k} back on redis");
        assert_eq!(run(&mut s, &format!("EXISTS {k}")), Value::Int(0));
    }
}

#[test]
fn reshard_moves_a_stream_with_its_groups() {
    // Guards `redis-cli --cluster reshard` of a slot holding a stream (with a group, PEL and
    // consumers) between slotd nodes: the value arrives whole and the old owner redirects.
    let Some(redis) = Redis::start("sdata-reshard") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let mut r = redis.client();
    fill_streams(&mut r);
    let payload = bytes(&mut r, "DUMP groups");
    // redis-cli wants three masters; the first owns slots 0-5460.
    let c = Cluster::create(3, 0, &[]);
    let p = c.ports();
    // "s{06S}" hashes to slot 0, the first slot of the first node.
    let key = "s{06S}";
    let mut first = c.nodes[0].client();
    assert_eq!(
        call(&mut first, &[b"RESTORE", key.as_bytes(), b"0", &payload]),
        Value::Okay
    );
    let target = cli(p[1], &["cluster", "myid"]).trim().to_string();
    let source = cli(p[0], &["cluster", "myid"]).trim().to_string();
    let (ok, out) = cluster_cli(&[
        "reshard",
        &format!("127.0.0.1:{}", p[0]),
        "--cluster-from",
        &source,
        "--cluster-to",
        &target,
        "--cluster-slots",
        "1",
    ]);
    assert!(
        ok,
        "reshard failed:\n{}",
        &out[out.len().saturating_sub(3000)..]
    );
    let mut second = c.nodes[1].client();
    assert_eq!(bytes(&mut second, &format!("DUMP {key}")), payload);
    let moved = format!("{:?}", run(&mut first, &format!("EXISTS {key}")));
    assert!(moved.contains(&format!("0 127.0.0.1:{}", p[1])), "{moved}");
}

#[test]
fn node_size_settings_follow_redis() {
    // Guards stream-node-max-bytes / -entries: defaults, bounds and unit parsing as Redis,
    // and that RESTORE keeps whatever node layout the payload has.
    let Some(redis) = Redis::start("sdata-config") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&["--stream-node-max-entries", "7"]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    run(&mut r, "CONFIG SET stream-node-max-entries 7");
    for line in [
        "CONFIG GET stream-node-max-entries",
        "CONFIG GET stream-node-max-bytes",
        "CONFIG SET stream-node-max-bytes 1kb",
        "CONFIG GET stream-node-max-bytes",
        "CONFIG SET stream-node-max-bytes -1",
        "CONFIG SET stream-node-max-entries -5",
        "CONFIG SET stream-node-max-entries 0",
        "CONFIG GET stream-node-max-entries",
        "CONFIG SET stream-node-max-bytes 4096",
        "CONFIG SET stream-node-max-entries 100",
        "CONFIG GET stream-node-max-entries",
    ] {
        assert_eq!(run(&mut s, line), run(&mut r, line), "{line}");
    }
    // A payload's nodes are kept as they are, whatever the settings here.
    run(&mut r, "CONFIG SET stream-node-max-entries 3");
    for i in 1..=10 {
        run(&mut r, &format!("XADD small {i}-0 f v"));
    }
    let p = bytes(&mut r, "DUMP small");
    assert_eq!(call(&mut s, &[b"RESTORE", b"small", b"0", &p]), Value::Okay);
    assert_eq!(bytes(&mut s, "DUMP small"), p);
}

/// The commands of a RESP command file (AOF base or incr), each as its arguments.
fn resp_commands(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
    fn line(d: &[u8], pos: &mut usize) -> Option<usize> {
        let end = d[*pos..].windows(2).position(|w| w == b"\r\n")? + *pos;
        let n = std::str::from_utf8(&d[*pos + 1..end]).ok()?.parse().ok()?;
        *pos = end + 2;
        Some(n)
    }
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() && data[pos] == b'*' {
        let Some(n) = line(data, &mut pos) else { break };
        let mut args = Vec::with_capacity(n);
        for _ in 0..n {
            let len = line(data, &mut pos).expect("bulk header");
            args.push(data[pos..pos + len].to_vec());
            pos += len + 2;
        }
        out.push(args);
    }
    out
}

/// The commands of every base file under `dir`'s appendonlydir that touch `key`, in order.
fn base_commands_for(dir: &std::path::Path, key: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("appendonlydir"))
        .expect("appendonlydir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".base.aof"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for args in resp_commands(&std::fs::read(&f).expect("base")) {
            let at = if args[0] == b"XGROUP" { 2 } else { 1 };
            if args.get(at).map(Vec::as_slice) == Some(key.as_bytes()) {
                let text: Vec<String> = args
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                out.push(text.join(" "));
            }
        }
    }
    out
}

/// BGREWRITEAOF, then waits until a base under `dir` mentions XSETID and no rewrite runs.
fn rewrite_and_wait(c: &mut Connection, dir: &std::path::Path) {
    run(c, "BGREWRITEAOF");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let info = match run(c, "INFO persistence") {
            Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::VerbatimString { text, .. } => text,
            other => format!("{other:?}"),
        };
        let done = crate::cluster::info_field(&info, "aof_rewrite_in_progress") == "0"
            && crate::cluster::info_field(&info, "aof_rewrite_scheduled") != "1";
        let has = std::fs::read_dir(dir.join("appendonlydir"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.path().to_string_lossy().ends_with(".base.aof"))
                    .any(|e| {
                        std::fs::read(e.path()).is_ok_and(|b| b.windows(6).any(|w| w == b"XSETID"))
                    })
            })
            .unwrap_or(false);
        if done && has {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rewrite did not finish"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A redis-server writing its AOF in command form (no RDB preamble), DEBUG enabled, and the
/// directory it writes to.
fn redis_with_aof(tag: &str) -> Option<(Redis, std::path::PathBuf)> {
    let dir = crate::common::test_dir(&format!("{tag}-redis"));
    let d = dir.display().to_string();
    let aof = [
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--dir",
        &d,
    ];
    let redis = Redis::start_with(
        tag,
        &[&aof[..], &["--enable-debug-command", "yes"]].concat(),
    )?;
    Some((redis, dir))
}

#[test]
fn aof_rewrite_writes_streams_in_redis_form() {
    // Guards the rewrite form against redis-server 7.0's own (aof-use-rdb-preamble no): the
    // same XADD, XSETID, XGROUP CREATE ... ENTRIESREAD, XCLAIM ... JUSTID FORCE and XGROUP
    // CREATECONSUMER commands, argument for argument, for the same stream.
    let Some((redis, rdir)) = redis_with_aof("sdata-aof") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    // Both servers write RESP bases (aof-use-rdb-preamble no), the form compared here.
    let slotd = Server::start(&[
        "--appendonly",
        "yes",
        "--server-threads",
        "2",
        "--aof-use-rdb-preamble",
        "no",
    ]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    fill_streams(&mut r);
    copy_streams(&mut r, &mut s);
    rewrite_and_wait(&mut r, &rdir);
    rewrite_and_wait(&mut s, &slotd.dir);
    for k in STREAM_KEYS {
        let want = base_commands_for(&rdir, k);
        assert!(!want.is_empty(), "{k}");
        assert_eq!(base_commands_for(&slotd.dir, k), want, "{k}");
    }
}

/// XINFO STREAM FULL (every entry and pending entry) without the consumers' seen times,
/// which a reload in command form restarts (in Redis too).
fn info_full_portable(c: &mut Connection, key: &str) -> String {
    fn strip(v: Value) -> Value {
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut it = items.into_iter();
                while let Some(x) = it.next() {
                    if x == Value::BulkString(b"seen-time".to_vec()) {
                        it.next();
                    } else {
                        out.push(strip(x));
                    }
                }
                Value::Array(out)
            }
            other => other,
        }
    }
    format!(
        "{:?}",
        strip(run(c, &format!("XINFO STREAM {key} FULL COUNT 0")))
    )
}

fn same_streams(r: &mut Connection, s: &mut Connection, stage: &str) {
    for k in STREAM_KEYS {
        let (mine, theirs) = (info_full_portable(s, k), info_full_portable(r, k));
        assert_eq!(mine, theirs, "{k} {stage}");
    }
}

#[test]
fn streams_survive_rewrite_restart_reload_and_full_sync() {
    // Guards the command form end to end: after BGREWRITEAOF and a restart, after DEBUG
    // RELOAD, and on a replica after a full sync, XINFO STREAM FULL on slotd equals redis-server
    // after its own rewrite and DEBUG LOADAOF (seen times aside): entries, node layout, groups,
    // read counters, PEL with delivery times and counts, consumers.
    let Some((redis, rdir)) = redis_with_aof("sdata-reload") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    // The command form on both sides: RESP bases (aof-use-rdb-preamble no), as redis-server's.
    let args = [
        "--appendonly",
        "yes",
        "--server-threads",
        "3",
        "--enable-debug-command",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
    ];
    let mut slotd = Server::start(&args);
    let (mut r, mut s) = (redis.client(), slotd.client());
    fill_streams(&mut r);
    copy_streams(&mut r, &mut s);
    same_streams(&mut r, &mut s, "after RESTORE");
    rewrite_and_wait(&mut r, &rdir);
    assert_eq!(run(&mut r, "DEBUG LOADAOF"), Value::Okay);
    rewrite_and_wait(&mut s, &slotd.dir);
    let (port, dir) = (slotd.port, slotd.dir.clone());
    slotd.stop();
    slotd = Server::start_in(port, dir, &args).expect("restart");
    let mut s = slotd.client();
    same_streams(&mut r, &mut s, "after rewrite and restart");
    assert_eq!(run(&mut s, "DEBUG RELOAD"), Value::Okay);
    same_streams(&mut r, &mut s, "after DEBUG RELOAD");
    let replica = Server::start(&["--server-threads", "2"]);
    replica.cli(&["REPLICAOF", "127.0.0.1", &slotd.port.to_string()]);
    let mut rc = replica.client();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let link_up = || {
        let info = replica.cli(&["INFO", "replication"]);
        crate::cluster::info_field(&info, "master_link_status") == "up"
    };
    while !link_up() || run(&mut rc, "DBSIZE") != run(&mut s, "DBSIZE") {
        assert!(std::time::Instant::now() < deadline, "replica never synced");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    same_streams(&mut r, &mut rc, "on a replica after a full sync");
}

#[test]
fn same_history_same_bytes_as_redis() {
    // Guards the node layout under the commands themselves: a seeded random history of XADD
    // (explicit IDs, repeated and new field sets, integers, long values, MAXLEN/MINID with and
    // without ~ and LIMIT), XDEL, XTRIM and node-size changes gives the same replies, XLEN,
    // XINFO STREAM and DUMP bytes on slotd as on redis-server.
    let debug = ["--enable-debug-command", "yes"];
    let Some(redis) = Redis::start_with("sdata-history", &debug) else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&debug);
    let (mut r, mut s) = (redis.client(), slotd.client());
    let mut x: u64 = 0x005E_ED0F_5EED;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n.max(1)
    };
    for round in 0..6 {
        let key = format!("h{round}");
        let mut ms = 1 + rnd(1000);
        let mut ids: Vec<String> = Vec::new();
        for step in 0..700 {
            let line = match rnd(20) {
                0..=11 => {
                    ms += [0, 1, 1, 2, 50, 100_000][rnd(6) as usize];
                    let id = format!("{ms}-{step}");
                    ids.push(id.clone());
                    let fields = match rnd(4) {
                        0 => format!("a {} b x", rnd(300)),
                        1 => format!("a {} b {}", rnd(100_000), "v".repeat(rnd(120) as usize)),
                        2 => format!("c{} -{}", rnd(3), rnd(5000)),
                        _ => "a 1 b 2".to_string(),
                    };
                    let trim = match rnd(8) {
                        0 => format!("MAXLEN ~ {} ", rnd(400)),
                        1 => format!("MAXLEN {} ", rnd(400) + 50),
                        2 => format!("MINID ~ {}-0 ", ms.saturating_sub(rnd(3000))),
                        3 => format!("MAXLEN ~ {} LIMIT {} ", rnd(300), rnd(250)),
                        _ => String::new(),
                    };
                    format!("XADD {key} {trim}{id} {fields}")
                }
                12..=15 if !ids.is_empty() => {
                    let id = ids[rnd(ids.len() as u64) as usize].clone();
                    format!("XDEL {key} {id}")
                }
                16 => format!("XTRIM {key} MAXLEN ~ {}", rnd(500)),
                17 => format!("XTRIM {key} MINID {}-0", ms.saturating_sub(rnd(5000))),
                18 => format!(
                    "CONFIG SET stream-node-max-entries {}",
                    [0, 1, 3, 10, 100][rnd(5) as usize]
                ),
                _ => format!(
                    "CONFIG SET stream-node-max-bytes {}",
                    [0, 64, 300, 4096][rnd(4) as usize]
                ),
            };
            assert_eq!(run(&mut s, &line), run(&mut r, &line), "{line}");
        }
        let k = key.as_str();
        for line in [
            format!("XLEN {k}"),
            format!("XINFO STREAM {k}"),
            format!("DEBUG DIGEST-VALUE {k}"),
        ] {
            assert_eq!(run(&mut s, &line), run(&mut r, &line), "{line}");
        }
        assert_eq!(
            bytes(&mut s, &format!("DUMP {k}")),
            bytes(&mut r, &format!("DUMP {k}")),
            "DUMP {k}"
        );
    }
}

/// INFO memory's `lazyfreed_objects` once nothing is pending.
fn lazyfreed(c: &mut Connection) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let info = match run(c, "INFO memory") {
            Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::VerbatimString { text, .. } => text,
            other => format!("{other:?}"),
        };
        if crate::cluster::info_field(&info, "lazyfree_pending_objects") == "0" {
            return crate::cluster::info_field(&info, "lazyfreed_objects");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lazy free never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn unlink_of_streams_goes_lazy_as_in_redis() {
    // Guards the free effort of a stream (radix tree nodes, groups times the first group's
    // PEL) around Redis' threshold: the same UNLINKs are freed lazily on both servers.
    let Some(redis) = Redis::start("sdata-lazy") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    for c in [&mut r, &mut s] {
        run(c, "CONFIG SET stream-node-max-entries 1");
    }
    for (n, groups) in [
        (20, 0),
        (30, 0),
        (33, 0),
        (40, 0),
        (70, 0),
        (10, 3),
        (25, 2),
    ] {
        for c in [&mut r, &mut s] {
            for i in 1..=n {
                run(c, &format!("XADD z {i}-0 f v"));
            }
            for g in 0..groups {
                run(c, &format!("XGROUP CREATE z g{g} 0"));
                run(c, &format!("XREADGROUP GROUP g{g} c STREAMS z >"));
            }
            run(c, "UNLINK z");
        }
        assert_eq!(
            lazyfreed(&mut s),
            lazyfreed(&mut r),
            "{n} entries, {groups} groups"
        );
    }
}
