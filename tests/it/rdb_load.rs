//! Loading Redis data (issue 16, part C; docs/aof.md "Redis data files"): redis-server 7.0.15
//! writes a `dump.rdb`, an `appendonlydir` (RDB or RESP base, incr files with SELECT and
//! MULTI/EXEC) or a Redis 6.2-layout `appendonly.aof` (with and without an RDB preamble), and
//! slotd with 1 and 3 shards starts on a copy with every key: the DEBUG DIGEST-VALUE and the
//! PEXPIRETIME of every key of every database agree with redis-server's, and so do the
//! function libraries.

use crate::common::{free_port, test_dir, RedisServer, Server};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The databases the data set uses.
const DBS: [u32; 3] = [0, 1, 5];

const LIBRARY: &str =
    "#!lua name=loadlib\nredis.register_function('answer', function() return 42 end)";

fn q(c: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Every type in its small and big encodings, TTLs, three databases and a function library.
pub fn fill_every_type(c: &mut redis::Connection) {
    q(c, &["SELECT", "0"]);
    q(c, &["SET", "s:int", "12345"]);
    q(c, &["SET", "s:raw", "hello"]);
    q(c, &["SET", "s:long", &"abc".repeat(300)]);
    q(c, &["SET", "s:ttl", "v", "PX", "3600000"]);
    q(c, &["RPUSH", "l:small", "a", "b", "c"]);
    let items: Vec<String> = (0..1000).map(|i| format!("item-{i}")).collect();
    let mut big = vec!["RPUSH", "l:big"];
    big.extend(items.iter().map(String::as_str));
    q(c, &big);
    q(c, &["PEXPIRE", "l:big", "7200000"]);
    q(c, &["HSET", "h:small", "f1", "v1", "f2", "v2"]);
    let vals: Vec<String> = (0..200).map(|i| format!("f{i}")).collect();
    let long = "x".repeat(80);
    let mut hb = vec!["HSET", "h:big"];
    for v in &vals {
        hb.push(v);
        hb.push(&long);
    }
    q(c, &hb);
    q(c, &["SADD", "set:int", "1", "2", "3", "-7"]);
    q(c, &["SADD", "set:str", "a", "b", "c"]);
    let mut sb = vec!["SADD", "set:big"];
    sb.extend(items.iter().take(600).map(String::as_str));
    q(c, &sb);
    q(c, &["ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "c"]);
    let scores: Vec<String> = (0..300).map(|i| format!("{}.25", i)).collect();
    let mut zb = vec!["ZADD", "z:big"];
    for (s, m) in scores.iter().zip(&items) {
        zb.push(s);
        zb.push(m);
    }
    q(c, &zb);
    for i in 1..=5 {
        let id = format!("{i}-1");
        q(c, &["XADD", "st", &id, "f", "v", "n", &i.to_string()]);
    }
    q(c, &["XGROUP", "CREATE", "st", "g", "0"]);
    q(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "COUNT",
            "2",
            "STREAMS",
            "st",
            ">",
        ],
    );
    q(c, &["XGROUP", "CREATECONSUMER", "st", "g", "idle"]);
    q(c, &["PFADD", "hll", "a", "b", "c"]);
    q(c, &["SELECT", "1"]);
    q(c, &["SET", "d1", "x", "EX", "9000"]);
    q(c, &["HSET", "d1h", "a", "b"]);
    q(c, &["SELECT", "5"]);
    q(c, &["ZADD", "d5z", "1", "x"]);
    q(c, &["SELECT", "0"]);
    q(c, &["FUNCTION", "LOAD", LIBRARY]);
}

/// (database, key) -> (DEBUG DIGEST-VALUE, PEXPIRETIME) of every key, and the libraries.
pub type Digests = (BTreeMap<(u32, String), (String, i64)>, Vec<String>);

pub fn digests(c: &mut redis::Connection) -> Digests {
    let mut out = BTreeMap::new();
    for db in DBS {
        q(c, &["SELECT", &db.to_string()]);
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).expect("KEYS");
        for k in keys {
            let d: Vec<String> = redis::cmd("DEBUG")
                .arg("DIGEST-VALUE")
                .arg(&k)
                .query(c)
                .expect("DIGEST-VALUE");
            let t: i64 = redis::cmd("PEXPIRETIME")
                .arg(&k)
                .query(c)
                .expect("PEXPIRETIME");
            out.insert((db, k), (d[0].clone(), t));
        }
    }
    q(c, &["SELECT", "0"]);
    let libs: redis::Value = redis::cmd("FUNCTION")
        .arg("LIST")
        .arg("WITHCODE")
        .query(c)
        .expect("FUNCTION LIST");
    let text = format!("{libs:?}");
    let mut names: Vec<String> = ["loadlib", "answer"]
        .iter()
        .filter(|n| text.contains(*n))
        .map(|n| n.to_string())
        .collect();
    if text.contains("redis.register_function") {
        names.push("code".into());
    }
    (out, names)
}

/// redis-server 7.0 with DEBUG on, writing into `dir`.
pub fn redis_in(dir: &Path, tag: &str, extra: &[&str]) -> RedisServer {
    let d = dir.display().to_string();
    let mut args = vec!["--dir", d.as_str(), "--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    RedisServer::start_with(tag, &args).expect("redis-server 7.0 is installed")
}

/// Starts slotd on `dir` with `shards` shards, checks every key against `want`, then a
/// restart (from what slotd wrote itself) has them too. Returns slotd's first log and its
/// INFO persistence after the load.
fn slotd_has(dir: &Path, shards: usize, extra: &[&str], want: &Digests) -> (String, String) {
    let n = shards.to_string();
    // No save points: stopping must not rewrite a dump.rdb whose loading is checked.
    let mut args = vec![
        "--server-threads",
        n.as_str(),
        "--enable-debug-command",
        "yes",
        "--save",
        "",
    ];
    args.extend_from_slice(extra);
    let mut s = Server::start_in(free_port(), dir.to_path_buf(), &args)
        .unwrap_or_else(|e| panic!("slotd starts on {}: {e}", dir.display()));
    let mut c = s.client();
    assert_eq!(&digests(&mut c), want, "{shards} shard(s) {extra:?}");
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert_eq!(q(&mut c, &["FCALL", "answer", "0"]), redis::Value::Int(42));
    let log = s.log_text();
    drop(c);
    assert_eq!(s.stop(), Some(0), "clean stop\n{log}");
    let dir = std::mem::take(&mut s.dir);
    let mut again = Server::start_in(free_port(), dir.clone(), &args).expect("restart");
    assert_eq!(&digests(&mut again.client()), want, "after a restart");
    assert_eq!(again.stop(), Some(0));
    std::mem::take(&mut again.dir);
    (log, info)
}

/// A copy of `from`'s files (one level of directories) into a fresh test directory.
fn copy_dir(from: &Path, tag: &str) -> PathBuf {
    let to = test_dir(tag);
    copy_into(from, &to);
    to
}

fn copy_into(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_into(&p, &dest);
        } else if p.extension().is_none_or(|x| x != "log") {
            std::fs::copy(&p, dest).unwrap();
        }
    }
}

fn has_line(log: &str, line: &str) -> bool {
    log.lines().any(|l| l.contains(line))
}

#[test]
fn slotd_loads_a_dump_rdb_of_redis_server() {
    // Guards the start-up load of dump.rdb (appendonly no): every key of every type, database
    // and TTL arrives on 1 and 3 shards, expired keys are skipped with Redis' count, and the
    // log lines are Redis'.
    let rdir = test_dir("rdbload-redis");
    let redis = redis_in(&rdir, "rdbload-redis", &[]);
    let mut r = redis.client();
    fill_every_type(&mut r);
    q(&mut r, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    q(&mut r, &["SET", "gone", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(20));
    q(&mut r, &["SAVE"]);
    let want = digests(&mut r);
    assert_eq!(want.0.len(), 18, "{want:?}");
    for shards in [1, 3] {
        let dir = copy_dir(&rdir, "rdbload");
        let file = std::fs::read(dir.join("dump.rdb")).unwrap();
        let (log, info) = slotd_has(&dir, shards, &[], &want);
        let loaded = format!("rdb_last_load_keys_loaded:{}", want.0.len());
        assert!(info.contains(&loaded), "{info}");
        assert!(info.contains("rdb_last_load_keys_expired:1"), "{info}");
        for line in [
            "Loading RDB produced by version 7.0",
            "RDB age ",
            "RDB memory usage when created ",
            &format!(
                "Done loading RDB, keys loaded: {}, keys expired: 1.",
                want.0.len()
            ),
            "DB loaded from disk: ",
        ] {
            assert!(has_line(&log, line), "{line}\n{log}");
        }
        assert!(
            std::fs::read(dir.join("dump.rdb")).unwrap() == file,
            "unchanged"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    drop(redis);
    let _ = std::fs::remove_dir_all(&rdir);
}

#[test]
fn a_damaged_dump_rdb_stops_start_up_naming_the_file_and_offset() {
    // Guards fail-closed loading: a cut or corrupted dump.rdb is not half loaded; start-up
    // exits 1 with the file, the offset and the reason, and the file is left as it was.
    let rdir = test_dir("rdbbad-redis");
    let redis = redis_in(&rdir, "rdbbad-redis", &[]);
    let mut r = redis.client();
    fill_every_type(&mut r);
    q(&mut r, &["SAVE"]);
    let good = std::fs::read(rdir.join("dump.rdb")).unwrap();
    drop(redis);
    let cut = good[..good.len() / 2].to_vec();
    let mut flipped = good.clone();
    let at = good.len() - 20;
    flipped[at] ^= 0x55;
    for (what, bytes) in [("cut", cut), ("flipped", flipped)] {
        let dir = test_dir("rdbbad");
        let file = dir.join("dump.rdb");
        std::fs::write(&file, &bytes).unwrap();
        let (code, all) = crate::aof::start_expecting_exit(&dir, &[]);
        assert_eq!(code, Some(1), "{what}: {all}");
        assert!(
            all.contains("dump.rdb") && all.contains("at offset"),
            "{what}: {all}"
        );
        assert!(std::fs::read(&file).unwrap() == bytes, "{what}: unchanged");
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&rdir);
}

/// Waits until redis-server has loaded its data (it answers -LOADING until then).
fn wait_loaded(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while redis::cmd("DBSIZE").query::<i64>(c).is_err() {
        assert!(Instant::now() < deadline, "redis-server still loading");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until redis-server has no AOF rewrite running or scheduled.
fn wait_rewrite(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            return;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes after a rewrite, as incr records: SELECTs, a MULTI/EXEC block, an expiry, a DEL.
fn writes_after(c: &mut redis::Connection) {
    q(c, &["SELECT", "1"]);
    q(c, &["SET", "after1", "1"]);
    q(c, &["SELECT", "0"]);
    redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("tx")
        .arg("1")
        .cmd("INCR")
        .arg("tx")
        .cmd("LPUSH")
        .arg("l:small")
        .arg("head")
        .query::<redis::Value>(c)
        .expect("MULTI/EXEC");
    q(c, &["EXPIRE", "s:raw", "5000"]);
    q(c, &["DEL", "set:str"]);
}

#[test]
fn slotd_loads_a_redis_7_appendonlydir() {
    // Guards loading Redis 7's multi-part AOF: a manifest without shard keys, an RDB base
    // (aof-use-rdb-preamble yes) or a RESP one (no), and incr files with SELECT and
    // MULTI/EXEC; slotd then rewrites the directory in its own layout.
    for preamble in ["yes", "no"] {
        let rdir = test_dir("aofdir-redis");
        let extra = [
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--aof-use-rdb-preamble",
            preamble,
        ];
        let redis = redis_in(&rdir, "aofdir-redis", &extra);
        let mut r = redis.client();
        fill_every_type(&mut r);
        q(&mut r, &["BGREWRITEAOF"]);
        wait_rewrite(&mut r);
        writes_after(&mut r);
        let want = digests(&mut r);
        drop(redis);
        let manifest =
            std::fs::read_to_string(rdir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
        let base_ext = if preamble == "yes" { "rdb" } else { "aof" };
        assert!(
            manifest.contains(&format!(".base.{base_ext} ")),
            "{manifest}"
        );
        for shards in [1, 3] {
            let dir = copy_dir(&rdir, "aofdir");
            let (log, _) = slotd_has(&dir, shards, &["--appendonly", "yes"], &want);
            if preamble == "yes" {
                assert!(
                    has_line(&log, "Reading RDB base file on AOF loading..."),
                    "{log}"
                );
                assert!(has_line(&log, "RDB is base AOF"), "{log}");
            }
            assert!(
                has_line(&log, "The AOF was written by redis-server"),
                "{log}"
            );
            let m =
                std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
            assert!(
                m.contains(&format!("shards {shards}")),
                "slotd's layout: {m}"
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
        let _ = std::fs::remove_dir_all(&rdir);
    }
}

/// A Redis 6.2-layout `appendonly.aof` of redis-server's data set: its BGSAVE file as the
/// RDB preamble (or, `preamble` false, a RESP rewrite of it) followed by RESP commands, and
/// the digests of the data set those make.
fn legacy_aof(preamble: bool) -> (Vec<u8>, Digests) {
    let rdir = test_dir("legacy-redis");
    let extra = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    let redis = redis_in(&rdir, "legacy-redis", if preamble { &[] } else { &extra });
    let mut r = redis.client();
    fill_every_type(&mut r);
    let mut file = if preamble {
        q(&mut r, &["BGSAVE"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let info: String = redis::cmd("INFO").arg("persistence").query(&mut r).unwrap();
            if info.contains("rdb_bgsave_in_progress:0") && rdir.join("dump.rdb").exists() {
                break;
            }
            assert!(Instant::now() < deadline, "BGSAVE");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::read(rdir.join("dump.rdb")).unwrap()
    } else {
        q(&mut r, &["BGREWRITEAOF"]);
        wait_rewrite(&mut r);
        let aof = rdir.join("appendonlydir");
        let m = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).unwrap();
        let base = m
            .lines()
            .find(|l| l.contains("type b"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap();
        std::fs::read(aof.join(base)).unwrap()
    };
    // The tail: what Redis 6.2 appended after its rewrite.
    let tail: &[&[&str]] = &[
        &["SELECT", "1"],
        &["SET", "after1", "1"],
        &["SELECT", "0"],
        &["MULTI"],
        &["SET", "tx", "1"],
        &["INCR", "tx"],
        &["EXEC"],
        &["DEL", "set:str"],
    ];
    for cmd in tail {
        let words: Vec<&[u8]> = cmd.iter().map(|w| w.as_bytes()).collect();
        file.extend_from_slice(&crate::common::cmd(&words));
        if cmd[0] != "MULTI" && cmd[0] != "EXEC" {
            q(&mut r, cmd);
        }
    }
    let want = digests(&mut r);
    drop(redis);
    let _ = std::fs::remove_dir_all(&rdir);
    (file, want)
}

#[test]
fn slotd_upgrades_a_redis_6_appendonly_aof() {
    // Guards the Redis 6.2 layout: a single appendonly.aof (RDB preamble or not) is moved into
    // appenddirname with a manifest, as Redis 7.0 does (same log line), and loaded; slotd
    // then keeps its own layout and restarts from it.
    for preamble in [true, false] {
        let (file, want) = legacy_aof(preamble);
        // redis-server 7.0 on the same file: it upgrades and loads it.
        let check = test_dir("legacy-check");
        std::fs::write(check.join("appendonly.aof"), &file).unwrap();
        let redis = redis_in(&check, "legacy-check", &["--appendonly", "yes"]);
        let mut rc = redis.client();
        wait_loaded(&mut rc);
        assert_eq!(digests(&mut rc), want, "redis-server loads it");
        drop(rc);
        drop(redis);
        assert!(!check.join("appendonly.aof").exists());
        let redis_manifest =
            std::fs::read_to_string(check.join("appendonlydir/appendonly.aof.manifest")).unwrap();
        assert!(
            redis_manifest.starts_with("file appendonly.aof seq 1 type b\n"),
            "{redis_manifest}"
        );
        let _ = std::fs::remove_dir_all(&check);
        for shards in [1, 3] {
            let dir = test_dir("legacy");
            std::fs::write(dir.join("appendonly.aof"), &file).unwrap();
            let (log, _) = slotd_has(&dir, shards, &["--appendonly", "yes"], &want);
            assert!(
                has_line(
                    &log,
                    "Successfully migrated an old-style AOF file (appendonly.aof) into the AOF \
                     directory (appendonlydir)."
                ),
                "{log}"
            );
            if preamble {
                for line in [
                    "Reading RDB preamble from AOF file...",
                    "Reading the remaining AOF tail...",
                ] {
                    assert!(has_line(&log, line), "{line}\n{log}");
                }
            }
            assert!(!dir.join("appendonly.aof").exists(), "moved");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

#[test]
fn cluster_mode_drops_keys_of_slots_another_node_serves() {
    // Guards cluster mode: a dump.rdb of a standalone server loaded by a node that serves
    // slots 0-8191 keeps the keys of those slots and drops (with one warning naming the
    // count) the keys of the slots its nodes.conf gives to another node.
    let rdir = test_dir("rdbcluster-redis");
    let redis = redis_in(&rdir, "rdbcluster-redis", &[]);
    let mut r = redis.client();
    let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
    for k in &keys {
        q(&mut r, &["SET", k, "v"]);
    }
    q(&mut r, &["SAVE"]);
    drop(redis);
    let args = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ];
    let mut s = Server::start(&args);
    assert_eq!(
        s.cli(&["cluster", "addslotsrange", "0", "8191"]).trim(),
        "OK"
    );
    let mine = keys
        .iter()
        .filter(|k| {
            s.cli(&["cluster", "keyslot", k])
                .trim()
                .parse::<u16>()
                .unwrap()
                < 8192
        })
        .count();
    assert!(mine > 50 && mine < 150, "{mine}");
    assert_eq!(s.stop(), Some(0));
    let (port, dir) = (s.port, std::mem::take(&mut s.dir));
    // Another node serves the other half.
    let conf = std::fs::read_to_string(dir.join("nodes.conf")).unwrap();
    let other = format!(
        "{} 127.0.0.1:1@10001 master - 0 0 0 connected 8192-16383\n",
        "e".repeat(40)
    );
    let at = conf.find("vars").unwrap_or(conf.len());
    std::fs::write(
        dir.join("nodes.conf"),
        format!("{}{other}{}", &conf[..at], &conf[at..]),
    )
    .unwrap();
    std::fs::copy(rdir.join("dump.rdb"), dir.join("dump.rdb")).unwrap();
    let s = Server::start_in(port, dir, &args).expect("starts");
    let n: i64 = redis::cmd("DBSIZE").query(&mut s.client()).unwrap();
    assert_eq!(n as usize, mine);
    let log = s.log_text();
    let dropped = format!(
        "Dropped {} keys of slots this node does not serve",
        keys.len() - mine
    );
    assert!(has_line(&log, &dropped), "{log}");
    let _ = std::fs::remove_dir_all(&rdir);
}

#[test]
fn debug_reload_goes_through_dump_rdb() {
    // Guards DEBUG RELOAD as Redis does it: dump.rdb is written (redis-check-rdb accepts it),
    // the data set dropped and the file loaded back with every key and library, on 1 and 3
    // shards, with and without the AOF; a restart with appendonly no then loads that file.
    let rdir = test_dir("reload-redis");
    let redis = redis_in(&rdir, "reload-redis", &[]);
    let mut r = redis.client();
    fill_every_type(&mut r);
    let want = digests(&mut r);
    drop(redis);
    for (shards, aof) in [("1", "no"), ("3", "no"), ("3", "yes")] {
        let args = [
            "--server-threads",
            shards,
            "--appendonly",
            aof,
            "--enable-debug-command",
            "yes",
        ];
        let mut s = Server::start(&args);
        let mut c = s.client();
        fill_every_type(&mut c);
        let mine = digests(&mut c);
        let values = |d: &Digests| -> Vec<String> { d.0.values().map(|v| v.0.clone()).collect() };
        assert_eq!(values(&mine), values(&want), "filled like redis-server");
        assert_eq!(q(&mut c, &["DEBUG", "RELOAD"]), redis::Value::Okay);
        assert_eq!(digests(&mut c), mine, "{shards} shard(s), appendonly {aof}");
        assert_eq!(q(&mut c, &["FCALL", "answer", "0"]), redis::Value::Int(42));
        assert!(has_line(&s.log_text(), "DB reloaded by DEBUG RELOAD"));
        let out = std::process::Command::new("redis-check-rdb")
            .arg(s.dir.join("dump.rdb"))
            .output()
            .expect("redis-check-rdb is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        drop(c);
        assert_eq!(s.stop(), Some(0));
        let (port, dir) = (s.port, std::mem::take(&mut s.dir));
        let mut again = Server::start_in(port, dir, &args).expect("restart");
        let after = digests(&mut again.client());
        assert_eq!(after, mine, "restart: {shards} shard(s), appendonly {aof}");
        again.stop();
    }
    let _ = std::fs::remove_dir_all(&rdir);
}
