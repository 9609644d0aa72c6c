//! Files compared with a live redis-server 7.0 (Debian's, which CI installs): what it saves
//! reads back with the same DEBUG DIGEST-VALUE, TTL and groups per key, and what `write`
//! builds passes `redis-check-rdb` and loads into redis-server with the same digests and TTLs.
//! These live beside the reader (not in tests/it) because the integration crate cannot reach
//! crate-private code.

use super::{every_type, keys, libs, read_all};
use crate::keyspace::value::Value;
use crate::rdb::digest::{digest_value, hex};
use crate::rdb::file::read::{Item, KeyItem, Reader};
use crate::rdb::file::write::{self, Aux};
use crate::rdb::DumpOpts;
use crate::types::zset::Limits;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A private redis-server in its own temporary directory; killed and the directory removed
/// on drop.
struct Redis {
    port: u16,
    dir: PathBuf,
    child: Child,
}

fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("slotd-rdbfile-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

impl Redis {
    /// Starts redis-server in `dir` (which it then owns) with `extra` directives.
    fn start(dir: PathBuf, extra: &[&str]) -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "yes",
            ])
            .args(["--dir", &dir.display().to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (CI installs redis-server 7.0)");
        let mut r = Redis { port, dir, child };
        for _ in 0..1000 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return r;
            }
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!("redis-server exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server did not start");
    }

    fn con(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    args[1..].iter().for_each(|a| {
        c.arg(*a);
    });
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn q_bytes(con: &mut redis::Connection, args: &[&[u8]]) {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).expect("name"));
    args[1..].iter().for_each(|a| {
        c.arg(*a);
    });
    let _: redis::Value = c.query(con).expect("command");
}

/// The library codes both directions use (valid Lua: redis-server compiles them at load).
fn lib_code(name: &str) -> String {
    format!("#!lua name={name}\nredis.register_function('{name}_f', function() return 1 end)")
}

/// Fills redis-server with every type and encoding 7.0 saves, TTLs and three databases.
fn populate(con: &mut redis::Connection) {
    let many = |n: usize, f: &dyn Fn(usize) -> String| -> Vec<String> { (0..n).map(f).collect() };
    let run = |con: &mut redis::Connection, head: &[&str], rest: &[String]| {
        let mut args: Vec<&[u8]> = head.iter().map(|s| s.as_bytes()).collect();
        args.extend(rest.iter().map(|s| s.as_bytes()));
        q_bytes(con, &args);
    };
    for db in ["0", "3", "15"] {
        let _: () = q(con, &["SELECT", db]);
        let _: () = q(con, &["SET", "str", "hello"]);
        let _: () = q(con, &["SET", "int", "-123456789"]);
        let _: () = q(con, &["SET", "empty", ""]);
        q_bytes(con, &[b"SET", b"bin", &[0, 255, 13, 10, 7]]);
        let _: () = q(con, &["SET", "lzf", &"a compressible line ".repeat(50)]);
        let _: () = q(con, &["SET", "ttl", "v", "PX", "86400000"]);
        run(
            con,
            &["RPUSH", "list", "a", "1"],
            &many(5, &|i| format!("x{i}")),
        );
        run(
            con,
            &["RPUSH", "biglist"],
            &many(3000, &|i| format!("element-{i}")),
        );
        run(con, &["HSET", "hash", "f", "v", "n", "7"], &[]);
        run(
            con,
            &["HSET", "bighash"],
            &many(600, &|i| format!("{}{i}", ["f", "v"][i % 2])),
        );
        run(con, &["HSET", "longval", "f"], &["y".repeat(100)]);
        run(
            con,
            &["SADD", "intset", "1", "-2", "70000", "9999999999"],
            &[],
        );
        run(
            con,
            &["SADD", "bigintset"],
            &many(700, &|i| (i * 3).to_string()),
        );
        run(con, &["SADD", "set", "a", "b", "c"], &[]);
        run(
            con,
            &[
                "ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c", "1e300", "d",
            ],
            &[],
        );
        let zs = many(400, &|i| {
            if i % 2 == 0 {
                format!("{}.25", i / 2)
            } else {
                format!("m{i}")
            }
        });
        run(con, &["ZADD", "bigzset"], &zs);
        run(con, &["PFADD", "hll", "a", "b", "c"], &[]);
        let _: () = q(con, &["PEXPIRE", "hash", "90000000"]);
        let _: () = q(con, &["PEXPIRE", "bigzset", "90000000"]);
    }
    let _: () = q(con, &["SELECT", "0"]);
    for i in 1..=30 {
        let v = format!("value-{i}");
        let _: String = q(
            con,
            &["XADD", "stream", &format!("{i}-1"), "f", &v, "n", "5"],
        );
    }
    let _: i64 = q(con, &["XDEL", "stream", "3-1"]);
    let _: () = q(con, &["XGROUP", "CREATE", "stream", "g1", "0"]);
    let _: () = q(con, &["XGROUP", "CREATE", "stream", "g2", "$"]);
    let _: redis::Value = q(
        con,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "4",
            "STREAMS",
            "stream",
            ">",
        ],
    );
    let _: redis::Value = q(
        con,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "2",
            "STREAMS",
            "stream",
            ">",
        ],
    );
    let _: i64 = q(con, &["XACK", "stream", "g1", "2-1"]);
    let _: i64 = q(con, &["XGROUP", "CREATECONSUMER", "stream", "g2", "carol"]);
    let _: String = q(con, &["XADD", "emptystream", "5-5", "a", "b"]);
    let _: i64 = q(con, &["XDEL", "emptystream", "5-5"]);
    // A PLAIN quicklist node: an element over the packed threshold.
    let _: () = q(con, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"]);
    run(
        con,
        &["RPUSH", "plainlist", "small"],
        &["p".repeat(300), "tail".into()],
    );
    for name in ["liba", "libb"] {
        let _: String = q(con, &["FUNCTION", "LOAD", &lib_code(name)]);
    }
}

/// Redis' answer for one key: DEBUG DIGEST-VALUE and PEXPIRETIME, in database `db`.
fn redis_key(con: &mut redis::Connection, db: u32, key: &[u8]) -> (String, i64) {
    let _: () = q(con, &["SELECT", &db.to_string()]);
    let mut c = redis::cmd("DEBUG");
    c.arg("DIGEST-VALUE").arg(key);
    let d: Vec<String> = c.query(con).expect("digest");
    let mut c = redis::cmd("PEXPIRETIME");
    c.arg(key);
    let t: i64 = c.query(con).expect("pexpiretime");
    (d[0].clone(), t)
}

fn our_digest(k: &KeyItem) -> String {
    hex(&digest_value(k.value.as_ref(), k.expire_at_ms != 0))
}

/// Group name -> (consumers, pending, last delivered ID) as XINFO GROUPS reports them.
fn redis_groups(con: &mut redis::Connection, key: &[u8]) -> Vec<(String, i64, i64, String)> {
    let mut c = redis::cmd("XINFO");
    c.arg("GROUPS").arg(key);
    let groups: Vec<std::collections::HashMap<String, redis::Value>> = c.query(con).expect("xinfo");
    let text = |v: &redis::Value| -> String {
        match v {
            redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            redis::Value::SimpleString(s) => s.clone(),
            redis::Value::Int(i) => i.to_string(),
            other => format!("{other:?}"),
        }
    };
    let mut out: Vec<(String, i64, i64, String)> = groups
        .iter()
        .map(|g| {
            let n = |k: &str| text(&g[k]).parse::<i64>().expect("count");
            (
                text(&g["name"]),
                n("consumers"),
                n("pending"),
                text(&g["last-delivered-id"]),
            )
        })
        .collect();
    out.sort();
    out
}

fn our_groups(v: &Value) -> Vec<(String, i64, i64, String)> {
    let Value::Stream(st) = v else {
        return Vec::new();
    };
    let mut out: Vec<(String, i64, i64, String)> = st
        .groups()
        .map(|(name, g)| {
            let last = format!("{}-{}", g.last_id.ms, g.last_id.seq);
            let name = String::from_utf8_lossy(name).into_owned();
            (name, g.consumers_len() as i64, g.pending_len() as i64, last)
        })
        .collect();
    out.sort();
    out
}

/// Reads `path` and checks every key against the server that has the same data.
fn compare_with_server(con: &mut redis::Connection, path: &Path) -> (usize, Vec<Item>) {
    let data = std::fs::read(path).expect("dump.rdb");
    let items = read_all(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ks = keys(items.clone());
    ks.iter().for_each(|k| assert_same_key(con, k));
    (ks.len(), items)
}

/// One key as the server holds it: the same digest, expiry and stream groups.
fn assert_same_key(con: &mut redis::Connection, k: &KeyItem) {
    let (digest, pexpiretime) = redis_key(con, k.db, &k.key);
    let name = String::from_utf8_lossy(&k.key);
    assert_eq!(our_digest(k), digest, "db {} key {name}", k.db);
    let want_t = if k.expire_at_ms == 0 {
        -1
    } else {
        k.expire_at_ms as i64
    };
    assert_eq!(want_t, pexpiretime, "db {} key {name}", k.db);
    if matches!(k.value, Value::Stream(_)) {
        assert_eq!(our_groups(&k.value), redis_groups(con, &k.key), "{name}");
    }
}

#[test]
fn files_redis_saves_read_with_equal_digests() {
    // Guards reading every type and encoding redis-server 7.0 saves (with rdbcompression and
    // rdbchecksum on and off): each key's digest, TTL and stream groups equal Redis' answers.
    for (compression, checksum) in [("yes", "yes"), ("no", "yes"), ("yes", "no")] {
        let redis = Redis::start(
            temp_dir("read"),
            &["--rdbcompression", compression, "--rdbchecksum", checksum],
        );
        let mut con = redis.con();
        populate(&mut con);
        let _: () = q(&mut con, &["SAVE"]);
        let path = redis.dir.join("dump.rdb");
        let (n, items) = compare_with_server(&mut con, &path);
        let dbsize: usize = [0, 3, 15]
            .iter()
            .map(|db| {
                let _: () = q(&mut con, &["SELECT", &db.to_string()]);
                q::<usize>(&mut con, &["DBSIZE"])
            })
            .sum();
        // Redis keeps the empty stream; every key is in the file.
        assert_eq!(n, dbsize, "compression {compression} checksum {checksum}");
        // Redis writes libraries in its dictionary's order.
        let mut codes: Vec<String> = items
            .iter()
            .filter_map(|i| match i {
                Item::Function { code } => Some(String::from_utf8_lossy(code).into_owned()),
                _ => None,
            })
            .collect();
        codes.sort();
        assert_eq!(codes, vec![lib_code("liba"), lib_code("libb")]);
        let data = std::fs::read(&path).expect("file");
        let mut r = Reader::new(&data, Limits::default()).expect("header");
        while r.next().expect("reads").is_some() {}
        assert_eq!(r.checksum_skipped(), checksum == "no");
    }
}

/// Builds a file from `every_type` values: the first half in database 0, the second in
/// database 5 and again in database 0 (as chunks of two shards would), some keys with a TTL,
/// two function libraries. Returns the file and what it holds, by (db, key).
fn build_file(compress: bool, checksum: bool) -> (Vec<u8>, Vec<KeyItem>) {
    let now_ms = crate::clock::unix_ms();
    let header = Aux {
        redis_ver: "7.0.15".into(),
        ctime_s: now_ms / 1000,
        used_mem_bytes: 1 << 20,
        repl: None,
        aof_base: false,
    };
    let mut out = Vec::new();
    write::put_header(&mut out, &header);
    let codes = [lib_code("libx"), lib_code("liby")];
    let code_refs: Vec<&[u8]> = codes.iter().map(|c| c.as_bytes()).collect();
    write::put_functions(&mut out, &libs(&code_refs));
    let values = every_type();
    let (first, second) = values.split_at(values.len() / 2);
    let mut held = Vec::new();
    let opts = DumpOpts {
        compress,
        list_fill: -2,
    };
    for (db, part) in [(0u32, first), (5, second), (0, second)] {
        write::put_select_db(&mut out, db);
        for (i, (k, v)) in part.iter().enumerate() {
            let exp = if i % 3 == 0 {
                now_ms + 3_600_000 + i as u64
            } else {
                0
            };
            write::put_entry(&mut out, k.as_bytes(), v.as_ref(), exp, opts);
            held.push(KeyItem {
                db,
                key: k.as_bytes().to_vec(),
                value: v.clone(),
                expire_at_ms: exp,
                lru_idle_s: None,
                lfu_freq: None,
            });
        }
    }
    let crc = crate::rdb::crc64::crc64(0, &out);
    write::put_footer(&mut out, crc, checksum);
    (out, held)
}

#[test]
fn files_write_builds_load_into_redis() {
    // Guards the write direction: redis-check-rdb accepts the file, and redis-server loads it
    // (databases selected twice included) with equal digests, TTLs, groups and libraries.
    for (compress, checksum) in [(true, true), (false, false)] {
        let dir = temp_dir("write");
        let (file, held) = build_file(compress, checksum);
        let path = dir.join("dump.rdb");
        std::fs::write(&path, &file).expect("write file");
        let check = Command::new("redis-check-rdb")
            .arg(&path)
            .output()
            .expect("redis-check-rdb is installed (CI installs redis-tools)");
        let text = String::from_utf8_lossy(&check.stdout).into_owned();
        assert!(
            check.status.success() && text.contains("RDB looks OK"),
            "redis-check-rdb: {text}"
        );
        let redis = Redis::start(dir, &[]);
        let mut con = redis.con();
        held.iter().for_each(|k| assert_same_key(&mut con, k));
        for db in [0, 5] {
            let n = held.iter().filter(|k| k.db == db).count();
            let _: () = q(&mut con, &["SELECT", &db.to_string()]);
            assert_eq!(q::<usize>(&mut con, &["DBSIZE"]), n, "db {db}");
        }
        let libs: redis::Value = q(&mut con, &["FUNCTION", "LIST"]);
        let text = format!("{libs:?}");
        assert!(text.contains("libx") && text.contains("liby"), "{text}");
    }
}
