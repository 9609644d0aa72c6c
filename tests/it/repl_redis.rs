//! Issue 16 (see /work/notes/i16/api.md for the owner of this file).

/// redis-server 7.0 replicating a slotd master (part D1): the RDB payload of a full sync, the
/// command stream after it, a partial resync after a dropped link, and `redis-cli --rdb`.
mod master_side {
    use crate::common::{cli, test_dir, Raw, RedisServer, Server};
    use std::collections::BTreeMap;
    use std::io::{Read, Write};
    use std::path::Path;
    use std::process::Command;
    use std::time::Duration;

    fn info(port: u16, section: &str, field: &str) -> Option<String> {
        crate::replication::field_of(&cli(port, &["INFO", section]), field)
    }

    use crate::replication::wait_for;

    /// The redis-server replica's link is up and it processed the whole stream so far.
    fn wait_caught_up(m: &Server, r: &RedisServer) {
        wait_for("the redis-server replica to catch up", 120, || {
            let up = info(r.port, "replication", "master_link_status");
            let mo = info(m.port, "replication", "master_repl_offset");
            let ro = info(r.port, "replication", "master_repl_offset");
            up.as_deref() == Some("up") && mo.is_some() && mo == ro
        });
    }

    fn text(v: &redis::Value) -> String {
        match v {
            redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            redis::Value::SimpleString(s) => s.clone(),
            redis::Value::Int(i) => i.to_string(),
            redis::Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
            other => format!("{other:?}"),
        }
    }

    /// Every key of every database with DEBUG DIGEST-VALUE and its absolute expiry (ms).
    fn digests(port: u16) -> BTreeMap<String, String> {
        let url = format!("redis://127.0.0.1:{port}/");
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let mut out = BTreeMap::new();
        for db in 0..16 {
            redis::cmd("SELECT").arg(db).query::<()>(&mut c).unwrap();
            let mut keys: Vec<Vec<u8>> = Vec::new();
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("COUNT")
                    .arg(1000)
                    .query(&mut c)
                    .unwrap();
                keys.extend(batch);
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
            for chunk in keys.chunks(500) {
                let mut p = redis::pipe();
                for k in chunk {
                    p.cmd("DEBUG").arg("DIGEST-VALUE").arg(k);
                    p.cmd("PEXPIRETIME").arg(k);
                }
                let vals: Vec<redis::Value> = p.query(&mut c).unwrap();
                for (k, pair) in chunk.iter().zip(vals.chunks(2)) {
                    let name = format!("{db}:{}", String::from_utf8_lossy(k));
                    out.insert(name, format!("{} {}", text(&pair[0]), text(&pair[1])));
                }
            }
        }
        out
    }

    fn assert_same_data(m: &Server, r: &RedisServer, when: &str) {
        wait_caught_up(m, r);
        let (a, b) = (digests(m.port), digests(r.port));
        assert_eq!(a.len(), b.len(), "key count {when}");
        for (k, v) in &a {
            assert_eq!(Some(v), b.get(k), "key {k} {when}");
        }
    }

    fn run(c: &mut redis::Connection, args: &[&str]) -> redis::Value {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(c)
            .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
    }

    const LIB: &str = "#!lua name=d1lib\n\
        redis.register_function('d1set', function(keys, args) \
        return redis.call('SET', keys[1], args[1]) end)";

    /// Every type in small and big encodings, TTLs, several databases and a library.
    fn fill(c: &mut redis::Connection) {
        let big = "v".repeat(200);
        for db in ["0", "1", "9"] {
            run(c, &["SELECT", db]);
            run(c, &["SET", "str", "hello"]);
            run(c, &["SET", "int", "12345"]);
            run(c, &["SET", "bigstr", &"x".repeat(5000)]);
            run(c, &["RPUSH", "list", "a", "b", "1", "2"]);
            run(c, &["HSET", "hash", "f1", "v1", "f2", "2"]);
            run(c, &["SADD", "intset", "1", "2", "3"]);
            run(c, &["SADD", "set", "a", "b", "c"]);
            run(c, &["ZADD", "zset", "1", "a", "2.5", "b"]);
            run(c, &["XADD", "stream", "1-1", "f", "v"]);
            run(c, &["XADD", "stream", "2-1", "f", "w"]);
            run(c, &["XGROUP", "CREATE", "stream", "g", "0"]);
            run(
                c,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c1",
                    "COUNT",
                    "1",
                    "STREAMS",
                    "stream",
                    ">",
                ],
            );
            run(c, &["PFADD", "hll", "a", "b", "c"]);
            run(c, &["SET", "ttl", "v", "EX", "1000"]);
            run(c, &["HSET", "ttlhash", "f", "v"]);
            run(c, &["PEXPIREAT", "ttlhash", "9999999999999"]);
            for i in 0..300 {
                let n = i.to_string();
                run(c, &["RPUSH", "biglist", &big]);
                run(c, &["HSET", "bighash", &n, &big]);
                run(c, &["SADD", "bigset", &format!("m{n}")]);
                run(c, &["ZADD", "bigzset", &n, &format!("m{n}")]);
            }
        }
        run(c, &["SELECT", "0"]);
        run(c, &["FUNCTION", "LOAD", LIB]);
    }

    /// Writes of every kind after the sync: the stream must carry them as plain commands.
    fn writes_after(c: &mut redis::Connection) {
        run(c, &["SELECT", "0"]);
        run(c, &["SET", "after", "1"]);
        run(c, &["INCR", "int"]);
        run(c, &["APPEND", "str", " world"]);
        run(c, &["LPOP", "list"]);
        run(c, &["HINCRBY", "hash", "f2", "5"]);
        run(c, &["SPOP", "set"]);
        run(c, &["ZINCRBY", "zset", "3", "a"]);
        run(c, &["XADD", "stream", "*", "f", "x"]);
        run(c, &["XACK", "stream", "g", "1-1"]);
        run(c, &["EXPIRE", "str", "500"]);
        run(c, &["PERSIST", "ttl"]);
        run(c, &["SET", "short", "v", "PX", "50"]);
        run(
            c,
            &[
                "EVAL",
                "redis.call('SET', KEYS[1], 'e1'); redis.call('SET', KEYS[2], 'e2'); return 1",
                "2",
                "ev1",
                "ev2",
            ],
        );
        run(c, &["FCALL", "d1set", "1", "fk", "fv"]);
        run(c, &["MULTI"]);
        run(c, &["SET", "tx1", "a"]);
        run(c, &["RPUSH", "tx2", "b"]);
        run(c, &["INCR", "tx3"]);
        run(c, &["EXEC"]);
        run(c, &["SELECT", "1"]);
        run(c, &["FLUSHDB"]);
        run(c, &["SET", "after-flushdb", "1"]);
        run(c, &["SWAPDB", "1", "9"]);
        run(c, &["SELECT", "9"]);
        run(c, &["SET", "in9", "x"]);
        run(c, &["SELECT", "0"]);
        std::thread::sleep(Duration::from_millis(200));
        // The short key expired on the master: a read deletes it there, the DEL is streamed.
        run(c, &["GET", "short"]);
    }

    fn redis_replica(master: &Server, dir: &Path) -> RedisServer {
        let log = dir.join("replica.log").display().to_string();
        let port = master.port.to_string();
        let extra = [
            "--replicaof",
            "127.0.0.1",
            &port,
            "--enable-debug-command",
            "yes",
            "--logfile",
            &log,
        ];
        RedisServer::start_with("d1-replica", &extra).expect("redis-server 7.0 is installed")
    }

    fn full_sync_stream_and_partial_resync(shards: &str) {
        let dir = test_dir("d1-master-side");
        let m = Server::start(&["--server-threads", shards, "--enable-debug-command", "yes"]);
        let mut c = m.client();
        fill(&mut c);
        let r = redis_replica(&m, &dir);
        assert_same_data(&m, &r, "after the full sync");
        let log = || std::fs::read_to_string(dir.join("replica.log")).unwrap_or_default();
        assert!(log().contains("MASTER <-> REPLICA sync: Finished with success"));
        // Redis loaded the libraries from the payload.
        assert!(text(&run(&mut r.client(), &["FUNCTION", "LIST"])).contains("d1lib"));

        writes_after(&mut c);
        assert_same_data(&m, &r, "after the writes");
        assert_eq!(cli(r.port, &["GET", "ev2"]).trim(), "e2");
        assert_eq!(cli(r.port, &["EXISTS", "short"]).trim(), "0");

        // A dropped link: the replica continues from its offset.
        assert_eq!(
            cli(m.port, &["CLIENT", "KILL", "TYPE", "replica"]).trim(),
            "1"
        );
        run(&mut c, &["SET", "during-drop", "1"]);
        run(&mut c, &["DEL", "after"]);
        wait_for("the partial resync", 30, || {
            info(m.port, "stats", "sync_partial_ok").as_deref() == Some("1")
        });
        assert_same_data(&m, &r, "after the partial resync");
        assert!(log().contains("Successful partial resynchronization with master"));
        assert_eq!(info(m.port, "stats", "sync_full").as_deref(), Some("1"));

        // FLUSHALL reaches the replica as FLUSHALL, whatever the master's shard count.
        run(&mut c, &["FLUSHALL"]);
        run(&mut c, &["SET", "after-flushall", "1"]);
        assert_same_data(&m, &r, "after FLUSHALL");
        assert_eq!(cli(r.port, &["DBSIZE"]).trim(), "1");
        drop(r);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn redis_replica_of_a_one_shard_master() {
        // Guards the RDB payload and the plain-command stream a redis-server replica applies.
        full_sync_stream_and_partial_resync("1");
    }

    #[test]
    fn redis_replica_of_a_three_shard_master() {
        // Guards the same with chunks of three shards interleaved in one payload, and the
        // flushes every shard journals reaching the stream once.
        full_sync_stream_and_partial_resync("3");
    }

    #[test]
    fn redis_replica_of_a_data_set_bigger_than_the_snapshot_queue() {
        // Guards the bounded snapshot queue: a payload several times its size arrives whole,
        // with writes running meanwhile.
        let dir = test_dir("d1-big");
        let m = Server::start(&["--server-threads", "3", "--enable-debug-command", "yes"]);
        let mut c = m.client();
        let value = "b".repeat(1000);
        for batch in 0..20 {
            let mut p = redis::pipe();
            for i in 0..1000 {
                p.cmd("SET")
                    .arg(format!("k{batch}:{i}"))
                    .arg(&value)
                    .ignore();
            }
            p.query::<()>(&mut c).unwrap();
        }
        let r = redis_replica(&m, &dir);
        for i in 0..200 {
            run(&mut c, &["SET", &format!("k{}:{i}", i % 20), "changed"]);
            run(&mut c, &["DEL", &format!("k{}:{}", i % 20, 500 + i)]);
        }
        assert_same_data(&m, &r, "after the full sync of 20 MB");
        assert_eq!(cli(r.port, &["DBSIZE"]).trim(), "19800");
        drop(r);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn redis_replica_with_a_disk_based_payload() {
        // Guards `repl-diskless-sync no`: the payload is spooled in `dir`, sent as `$<len>`,
        // and the spool file is gone afterwards; the master logs as Redis names replicas.
        let dir = test_dir("d1-disk");
        let m = Server::start(&[
            "--server-threads",
            "2",
            "--enable-debug-command",
            "yes",
            "--repl-diskless-sync",
            "no",
        ]);
        let mut c = m.client();
        fill(&mut c);
        let r = redis_replica(&m, &dir);
        assert_same_data(&m, &r, "after a disk-based full sync");
        let log = std::fs::read_to_string(dir.join("replica.log")).unwrap_or_default();
        assert!(log.contains("MASTER <-> REPLICA sync: receiving "), "{log}");
        assert!(!log.contains("EOF"), "{log}");
        let ours = m.log_text();
        assert!(ours.contains("with target: disk"), "{ours}");
        let name = format!("127.0.0.1:{}", r.port);
        assert!(ours.contains(&format!("Synchronization with replica {name} succeeded")));
        // The sender removes its spool file once the last byte is written.
        wait_for("the spool file to go", 10, || {
            !dir_files(&m.dir).iter().any(|f| f.starts_with("temp-sync"))
        });
        writes_after(&mut c);
        assert_same_data(&m, &r, "after the writes");
        drop(r);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn check_rdb(path: &Path) -> String {
        let out = Command::new("redis-check-rdb")
            .arg(path)
            .output()
            .expect("redis-check-rdb is installed");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("RDB looks OK"), "{text}");
        text
    }

    #[test]
    fn redis_cli_rdb_and_functions_rdb() {
        // Guards `redis-cli --rdb` (rdb-only: the payload, then the connection closes) and
        // `--functions-rdb` (rdb-filter-only functions) against slotd.
        let dir = test_dir("d1-cli-rdb");
        let m = Server::start(&["--server-threads", "3"]);
        let mut c = m.client();
        fill(&mut c);
        let file = dir.join("dump.rdb");
        let st = Command::new("timeout")
            .args(["30", "redis-cli", "-p", &m.port.to_string(), "--rdb"])
            .arg(&file)
            .output()
            .expect("redis-cli");
        assert!(st.status.success(), "{st:?}");
        let text = check_rdb(&file);
        assert!(text.contains("[info] 48 keys read"), "{text}");
        assert!(text.contains("[info] 6 expires"), "{text}");
        let file = dir.join("functions.rdb");
        let st = Command::new("timeout")
            .args([
                "30",
                "redis-cli",
                "-p",
                &m.port.to_string(),
                "--functions-rdb",
            ])
            .arg(&file)
            .output()
            .expect("redis-cli");
        assert!(st.status.success(), "{st:?}");
        let text = check_rdb(&file);
        assert!(text.contains("[info] 0 keys read"), "{text}");
        assert!(std::fs::read(&file)
            .unwrap()
            .windows(5)
            .any(|w| w == b"d1lib"));
        // Both were replicas for the payload only.
        wait_for("the rdb-only replicas to leave", 10, || {
            info(m.port, "replication", "connected_slaves").as_deref() == Some("0")
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn plain_sync_gets_a_length_prefixed_payload_then_the_stream() {
        // Guards SYNC (no capa eof): no +FULLRESYNC line, `$<len>` and the RDB spooled in
        // `dir` (removed after), then the stream.
        let m = Server::start(&["--server-threads", "2"]);
        cli(m.port, &["SET", "a", "1"]);
        let mut s = std::net::TcpStream::connect(("127.0.0.1", m.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"SYNC\r\n").unwrap();
        // The first line, byte by byte (newlines before it are keepalives).
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n") {
            s.read_exact(&mut byte).unwrap();
            if !(head.is_empty() && byte[0] == b'\n') {
                head.push(byte[0]);
            }
        }
        let head = String::from_utf8_lossy(&head).trim().to_string();
        assert!(head.starts_with('$'), "{head:?}");
        let mut body = vec![0u8; head[1..].parse().unwrap()];
        s.read_exact(&mut body).unwrap();
        assert_eq!(&body[..9], b"REDIS0010");
        // The sender removes its spool file once the last byte is written.
        wait_for("the spool file to go", 10, || {
            !dir_files(&m.dir).iter().any(|f| f.starts_with("temp-sync"))
        });
        cli(m.port, &["SET", "streamed", "yes"]);
        let mut rest = Vec::new();
        let mut buf = [0u8; 4096];
        while !rest.windows(8).any(|w| w == b"streamed") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the stream ended");
            rest.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&rest).contains("SET"));
    }

    fn dir_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn replconf_payload_options_answer_as_redis() {
        // Guards the replies of rdb-only / rdb-filter-only and the filtered SYNC refusal,
        // byte for byte against redis-server 7.0.
        let m = Server::start(&[]);
        let r = RedisServer::start("d1-replconf").expect("redis-server 7.0 is installed");
        let script: &[&[&[u8]]] = &[
            &[b"REPLCONF", b"rdb-only", b"2"],
            &[b"REPLCONF", b"rdb-only", b"x"],
            &[b"REPLCONF", b"rdb-only", b"0"],
            &[b"REPLCONF", b"rdb-filter-only", b"bogus"],
            &[b"REPLCONF", b"rdb-filter-only", b"functions"],
            &[b"SYNC"],
            &[b"PING"],
        ];
        let mut got = Vec::new();
        for port in [m.port, r.port] {
            let mut raw = Raw::connect(port);
            let mut out = Vec::new();
            for args in script {
                raw.send(&crate::common::cmd(args));
                out.push(raw.read_until(b"\r\n"));
            }
            got.push(out);
        }
        assert_eq!(
            String::from_utf8_lossy(&got[0].concat()),
            String::from_utf8_lossy(&got[1].concat())
        );
    }
}

/// slotd as a replica of a real redis-server 7.0 master: the RDB payload (diskless and
/// disk-based), the command stream, partial resync after a dropped link, and what a failed
/// sync leaves (the old data, one attempt a second).
mod replica_side {
    use crate::common::{cli, free_port, RedisServer, Server};
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// A private redis-server 7.0 master that starts a diskless sync at once.
    fn master(extra: &[&str]) -> RedisServer {
        let mut args = vec!["--repl-diskless-sync-delay", "0"];
        args.extend_from_slice(extra);
        let m = RedisServer::start_with("redis-master", &args)
            .expect("redis-server 7.0 is installed (apt-get install redis-server)");
        wait_for("redis-server to answer", 10, || {
            cli(m.port, &["PING"]).trim() == "PONG"
        });
        m
    }

    use crate::replication::field_of as field;

    use crate::replication::wait_for;

    fn replica_of(m: &RedisServer, threads: &str) -> Server {
        let port = m.port.to_string();
        Server::start(&[
            "--server-threads",
            threads,
            "--replicaof",
            "127.0.0.1",
            &port,
        ])
    }

    /// Waits until the replica's link is up and it processed everything the master sent.
    fn caught_up(m: &RedisServer, r: &Server) {
        wait_for("the slotd replica to catch up", 60, || {
            let ri = r.cli(&["INFO", "replication"]);
            let mo = field(&cli(m.port, &["INFO", "replication"]), "master_repl_offset");
            field(&ri, "master_link_status").as_deref() == Some("up")
                && mo.is_some()
                && mo == field(&ri, "slave_repl_offset")
        });
    }

    fn sync_stat(m: &RedisServer, name: &str) -> u64 {
        field(&cli(m.port, &["INFO", "stats"]), name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Every type and encoding Redis 7.0 writes, TTLs, three databases and a library.
    fn populate(m: &RedisServer) {
        let mut c = m.client();
        let q = |c: &mut redis::Connection, args: &[&str]| {
            let mut cmd = redis::cmd(args[0]);
            for a in &args[1..] {
                cmd.arg(*a);
            }
            cmd.query::<redis::Value>(c).expect("master command");
        };
        for db in ["0", "1", "5"] {
            q(&mut c, &["SELECT", db]);
            q(&mut c, &["SET", "s:int", "12345"]);
            q(&mut c, &["SET", "s:raw", &format!("hello from db {db}")]);
            q(&mut c, &["SET", "s:big", &"abcd".repeat(5000)]);
            q(&mut c, &["SET", "s:ttl", "v", "PX", "100000000"]);
            q(&mut c, &["RPUSH", "l:small", "a", "b", "3"]);
            q(&mut c, &["HSET", "h:small", "f", "v", "n", "1"]);
            q(&mut c, &["SADD", "set:int", "1", "2", "300000"]);
            q(&mut c, &["SADD", "set:str", "x", "y"]);
            q(&mut c, &["ZADD", "z:small", "1", "a", "2.5", "b"]);
            q(&mut c, &["PFADD", "hll", "a", "b", "c"]);
            for i in 0..600 {
                let (i, v) = (i.to_string(), format!("value-{i}-{}", "y".repeat(i % 90)));
                q(&mut c, &["RPUSH", "l:big", &v]);
                q(&mut c, &["HSET", "h:big", &i, &v]);
                q(&mut c, &["SADD", "set:big", &v]);
                q(&mut c, &["ZADD", "z:big", &i, &v]);
                q(&mut c, &["XADD", "st", "*", "f", &i, "g", &v]);
            }
            q(&mut c, &["EXPIRE", "h:big", "500000"]);
            q(&mut c, &["XGROUP", "CREATE", "st", "grp", "0"]);
            q(
                &mut c,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "grp",
                    "alice",
                    "COUNT",
                    "7",
                    "STREAMS",
                    "st",
                    ">",
                ],
            );
            q(&mut c, &["XGROUP", "CREATECONSUMER", "st", "grp", "bob"]);
        }
        let lib = "#!lua name=mylib\nredis.register_function('myfunc', function(k) return 1 end)";
        q(&mut c, &["FUNCTION", "LOAD", lib]);
    }

    /// Keys of database `db` on `port`, sorted.
    fn keys(port: u16, db: &str) -> Vec<String> {
        let mut k: Vec<String> = cli(port, &["-n", db, "KEYS", "*"])
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect();
        k.sort();
        k
    }

    /// Both sides hold the same keys with the same DEBUG DIGEST-VALUE and close TTLs in every
    /// database, and the same libraries.
    fn same_data(m: &RedisServer, r: &Server) {
        for db in ["0", "1", "5", "9"] {
            let mk = keys(m.port, db);
            assert_eq!(mk, keys(r.port, db), "keys of db {db}");
            for k in &mk {
                let d = |p| cli(p, &["-n", db, "DEBUG", "DIGEST-VALUE", k]);
                assert_eq!(d(m.port), d(r.port), "digest of {k} in db {db}");
                let ttl = |p| -> i64 {
                    cli(p, &["-n", db, "PTTL", k])
                        .trim()
                        .parse()
                        .expect("a TTL")
                };
                let (a, b) = (ttl(m.port), ttl(r.port));
                assert!((a - b).abs() < 5000, "TTL of {k} in db {db}: {a} vs {b}");
            }
        }
        let libs = |p| cli(p, &["FUNCTION", "LIST", "WITHCODE"]);
        assert_eq!(libs(m.port), libs(r.port));
    }

    fn full_sync_every_type(threads: &str, master_extra: &[&str]) {
        let m = master(master_extra);
        populate(&m);
        let r = replica_of(&m, threads);
        caught_up(&m, &r);
        assert!(keys(r.port, "5").len() > 10);
        same_data(&m, &r);
        assert_eq!(sync_stat(&m, "sync_full"), 1);
        let log = r.log_text();
        assert!(
            log.contains("MASTER <-> REPLICA sync: Loading DB in memory"),
            "{log}"
        );
        assert!(
            log.contains("MASTER <-> REPLICA sync: Finished with success"),
            "{log}"
        );
    }

    #[test]
    fn full_sync_from_redis_diskless_one_shard() {
        // Guards loading a redis-server 7.0 EOF-marked payload (every type, TTLs, databases,
        // functions) into a one-shard slotd replica.
        full_sync_every_type("1", &[]);
    }

    #[test]
    fn full_sync_from_redis_disk_based_three_shards() {
        // Guards the `$<length>` framing of a disk-based master and keys routed by slot over
        // three shards.
        full_sync_every_type("3", &["--repl-diskless-sync", "no"]);
    }

    #[test]
    fn the_stream_of_a_redis_master_applies() {
        // Guards what Redis 7.0 propagates: SELECT, SET PXAT, expiry DELs, script effects as
        // MULTI/EXEC, SELECT inside a script, XCLAIM, SWAPDB, FLUSHALL, functions, PUBLISH.
        let m = master(&[]);
        let r = replica_of(&m, "3");
        caught_up(&m, &r);
        let mut sub = r.client();
        let mut ps = sub.as_pubsub();
        ps.subscribe("news").expect("subscribe");
        ps.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let steps: &[&[&str]] = &[
            &["SET", "a", "1", "EX", "1000"],
            &["MSET", "k1", "1", "k2", "2", "k3", "3", "k4", "4"],
            &["SET", "gone", "x", "PX", "30"],
            &[
                "EVAL",
                "redis.call('incr','a') redis.call('set','b','2') return 1",
                "0",
            ],
            &[
                "EVAL",
                "redis.call('select',4) redis.call('set','in4','v') return 1",
                "0",
            ],
            &["XADD", "s", "*", "f", "v"],
            &["XGROUP", "CREATE", "s", "g", "0"],
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
            &["XAUTOCLAIM", "s", "g", "c2", "0", "0"],
            &["SADD", "st", "1", "2", "3"],
            &["SPOP", "st"],
            &["LPUSH", "lst", "a", "b"],
            &["LMOVE", "lst", "lst2", "LEFT", "RIGHT"],
            &["INCRBYFLOAT", "fl", "1.5"],
            &["GETEX", "a", "PERSIST"],
            &["SWAPDB", "0", "2"],
            &["SWAPDB", "0", "2"],
            &["PUBLISH", "news", "hello"],
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=l2\nredis.register_function('f2', function() return 2 end)",
            ],
        ];
        let mut c = m.client();
        for s in steps {
            let mut cmd = redis::cmd(s[0]);
            for a in &s[1..] {
                cmd.arg(*a);
            }
            cmd.query::<redis::Value>(&mut c).expect("master command");
        }
        let msg = ps
            .get_message()
            .expect("the master's PUBLISH reaches a replica subscriber");
        assert_eq!(msg.get_payload::<String>().expect("payload"), "hello");
        std::thread::sleep(Duration::from_millis(100));
        cli(m.port, &["GET", "gone"]); // the master expires it and propagates DEL
        caught_up(&m, &r);
        same_data(&m, &r);
        assert_eq!(cli(r.port, &["-n", "4", "GET", "in4"]).trim(), "v");
        assert_eq!(cli(r.port, &["EXISTS", "gone"]).trim(), "0");
        cli(m.port, &["FLUSHALL"]);
        caught_up(&m, &r);
        assert_eq!(r.cli(&["DBSIZE"]).trim(), "0");
        assert_eq!(sync_stat(&m, "sync_full"), 1);
    }

    #[test]
    fn a_cut_link_continues_partially() {
        // Guards PSYNC after a dropped link: redis-server answers +CONTINUE (sync_partial_ok)
        // and the writes made meanwhile arrive; no second full sync.
        let m = master(&[]);
        cli(m.port, &["SET", "before", "1"]);
        let r = replica_of(&m, "2");
        caught_up(&m, &r);
        for round in 0..2 {
            cli(m.port, &["CLIENT", "KILL", "TYPE", "replica"]);
            cli(m.port, &["SET", &format!("during{round}"), "x"]);
            cli(m.port, &["INCR", "before"]);
            caught_up(&m, &r);
        }
        assert_eq!(sync_stat(&m, "sync_full"), 1);
        assert_eq!(sync_stat(&m, "sync_partial_ok"), 2);
        assert_eq!(r.cli(&["GET", "before"]).trim(), "3");
        assert_eq!(r.cli(&["GET", "during1"]).trim(), "x");
        assert!(r
            .log_text()
            .contains("Successful partial resynchronization with master."));
    }

    #[test]
    fn a_restarted_replica_with_its_aof_continues_partially() {
        // Guards the AOF after a full sync (the loaded keys were not journaled: a rewrite
        // writes them) and the history kept across a clean restart: redis-server answers
        // +CONTINUE and nothing is lost.
        let m = master(&[]);
        populate(&m);
        let port = m.port.to_string();
        let args = ["--appendonly", "yes", "--server-threads", "2"];
        let extra = [&args[..], &["--replicaof", "127.0.0.1", &port]].concat();
        let mut r = Server::start(&extra);
        caught_up(&m, &r);
        wait_for("the AOF rewrite after the load", 30, || {
            field(&r.cli(&["INFO", "persistence"]), "aof_rewrite_in_progress").as_deref()
                == Some("0")
        });
        r.stop(); // `r` stays alive: dropping it would remove the directory
        cli(m.port, &["SET", "while-down", "1"]);
        let r2 = Server::start_in(r.port, r.dir.clone(), &extra).expect("restart");
        caught_up(&m, &r2);
        assert_eq!(sync_stat(&m, "sync_full"), 1);
        assert_eq!(sync_stat(&m, "sync_partial_ok"), 1);
        assert_eq!(r2.cli(&["GET", "while-down"]).trim(), "1");
        same_data(&m, &r2);
    }

    fn role(port: u16) -> String {
        field(&cli(port, &["INFO", "replication"]), "role").unwrap_or_default()
    }

    fn link_is_up(port: u16) -> bool {
        field(&cli(port, &["INFO", "replication"]), "master_link_status").as_deref() == Some("up")
    }

    /// `n` keys `{prefix}:i` readable on `port` (READONLY: a replica serves its master's slots).
    fn has_keys(port: u16, prefix: &str, n: usize) -> bool {
        let Ok(mut c) = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .and_then(|c| c.get_connection())
        else {
            return false;
        };
        let _ = redis::cmd("READONLY").query::<()>(&mut c);
        (0..n).step_by(97).chain([n - 1]).all(|i| {
            let got: Option<String> = redis::cmd("GET")
                .arg(format!("{prefix}:{i}"))
                .query(&mut c)
                .unwrap_or(None);
            got == Some(i.to_string())
        })
    }

    fn write_keys(port: u16, prefix: &str, n: usize) {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .expect("url")
            .get_connection()
            .expect("connect");
        for i in 0..n {
            redis::cmd("SET")
                .arg(format!("{prefix}:{i}"))
                .arg(i)
                .query::<()>(&mut c)
                .expect("SET");
        }
    }

    #[test]
    #[ignore = "fails today on the master side (issue 16 D1): after 1000 writes the slotd \
                master lists the redis-server replica with offset=0 while that replica is at the \
                master's offset, and redis-server's CLUSTER FAILOVER times out; by hand (few \
                writes) both failovers work with +CONTINUE each way"]
    fn a_mixed_cluster_fails_over_both_ways() {
        // Guards a cluster of a slotd master and a redis-server 7.0 replica: CLUSTER FAILOVER
        // makes redis-server the master with slotd replicating it, and back; no write lost.
        let node_timeout = ["--cluster-node-timeout", "3000"];
        let s = Server::start(&[&["--cluster-enabled", "yes"][..], &node_timeout].concat());
        let r_args = [&["--cluster-enabled", "yes"][..], &node_timeout].concat();
        let r = RedisServer::start_with("mixed-cluster", &r_args).expect("redis-server");
        wait_for("redis-server", 10, || {
            cli(r.port, &["PING"]).trim() == "PONG"
        });
        assert_eq!(
            s.cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).trim(),
            "OK"
        );
        let s_id = s.cli(&["CLUSTER", "MYID"]).trim().to_string();
        cli(
            r.port,
            &["CLUSTER", "MEET", "127.0.0.1", &s.port.to_string()],
        );
        wait_for("the nodes to meet", 30, || {
            cli(r.port, &["CLUSTER", "NODES"]).contains(&s_id)
                && s.cli(&["CLUSTER", "NODES"]).lines().count() == 2
        });
        wait_for("REPLICATE to be accepted", 30, || {
            cli(r.port, &["CLUSTER", "REPLICATE", &s_id]).trim() == "OK"
        });
        write_keys(s.port, "a", 1000);
        wait_for("redis-server to replicate slotd", 30, || {
            link_is_up(r.port) && has_keys(r.port, "a", 1000)
        });
        // redis-server takes over; slotd follows it.
        assert_eq!(cli(r.port, &["CLUSTER", "FAILOVER"]).trim(), "OK");
        wait_for("redis-server promoted, slotd its replica", 30, || {
            role(r.port) == "master" && role(s.port) == "slave" && link_is_up(s.port)
        });
        write_keys(r.port, "b", 1000);
        wait_for("slotd to replicate redis-server", 30, || {
            has_keys(s.port, "a", 1000) && has_keys(s.port, "b", 1000)
        });
        // And back: slotd takes over; redis-server follows it.
        assert_eq!(s.cli(&["CLUSTER", "FAILOVER"]).trim(), "OK");
        wait_for("slotd promoted, redis-server its replica", 30, || {
            role(s.port) == "master" && role(r.port) == "slave" && link_is_up(r.port)
        });
        write_keys(s.port, "c", 1000);
        wait_for("redis-server to replicate slotd again", 30, || {
            ["a", "b", "c"].iter().all(|p| has_keys(r.port, p, 1000))
        });
        assert!(has_keys(s.port, "b", 1000));
    }

    /// A fake master: answers the handshake, then `answer` to PSYNC (and closes). Counts the
    /// PSYNCs it got.
    struct FakeMaster {
        port: u16,
        psyncs: Arc<AtomicUsize>,
        stop: Arc<AtomicBool>,
    }

    impl FakeMaster {
        fn start(answer: Vec<u8>) -> FakeMaster {
            let port = free_port();
            let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
            l.set_nonblocking(true).expect("nonblocking");
            let psyncs = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let (n, s) = (psyncs.clone(), stop.clone());
            std::thread::spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    match l.accept() {
                        Ok((sock, _)) => serve(sock, &answer, &n),
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
            FakeMaster { port, psyncs, stop }
        }
    }

    impl Drop for FakeMaster {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    /// One replica connection: +PONG / +OK to the handshake, `answer` to PSYNC, then close.
    fn serve(mut sock: TcpStream, answer: &[u8], psyncs: &AtomicUsize) {
        let _ = sock.set_nonblocking(false);
        let _ = sock.set_read_timeout(Some(Duration::from_secs(5)));
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut answered = 0;
        loop {
            let Ok(n) = sock.read(&mut buf) else { return };
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).to_uppercase();
            let cmds = text.matches("\r\n*").count() + usize::from(text.starts_with('*'));
            let complete = if text.ends_with("\r\n") {
                cmds
            } else {
                cmds.saturating_sub(1)
            };
            let psync = text.contains("PSYNC") && text.ends_with("\r\n");
            // Every command before PSYNC gets +OK (PING included: any + reply is a PONG).
            while answered + usize::from(psync) < complete {
                answered += 1;
                let _ = sock.write_all(b"+OK\r\n");
            }
            if psync {
                psyncs.fetch_add(1, Ordering::Relaxed);
                let _ = sock.write_all(answer);
                std::thread::sleep(Duration::from_millis(50));
                return;
            }
        }
    }

    /// A standalone slotd with keys, pointed at `fake` after they were written.
    fn node_with_data_replicating(fake: &FakeMaster) -> Server {
        let r = Server::start(&["--server-threads", "2"]);
        for i in 0..50 {
            r.cli(&["SET", &format!("old{i}"), "kept"]);
        }
        r.cli(&["REPLICAOF", "127.0.0.1", &fake.port.to_string()]);
        r
    }

    fn still_has_old_data(r: &Server) {
        assert_eq!(r.cli(&["DBSIZE"]).trim(), "50");
        assert_eq!(r.cli(&["GET", "old7"]).trim(), "kept");
    }

    #[test]
    fn a_corrupt_or_short_payload_keeps_the_old_data() {
        // Guards "no flush before a good payload": a payload with a wrong checksum, and one
        // cut short by the master closing, leave the replica's keys as they were; each retry
        // comes after Redis' one-second pause.
        let mut rdb = b"REDIS0010\xfe\x00\x00\x01k\x01v\xff".to_vec();
        rdb.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]); // not its CRC
        let mark = "0123456789abcdef0123456789abcdef01234567";
        let mut corrupt =
            format!("+FULLRESYNC {} 0\r\n$EOF:{mark}\r\n", "a".repeat(40)).into_bytes();
        corrupt.extend_from_slice(&rdb);
        corrupt.extend_from_slice(mark.as_bytes());
        let mut short = format!("+FULLRESYNC {} 0\r\n$1000\r\n", "b".repeat(40)).into_bytes();
        short.extend_from_slice(&rdb);
        for answer in [corrupt, short] {
            let fake = FakeMaster::start(answer);
            let r = node_with_data_replicating(&fake);
            wait_for("two attempts", 10, || {
                fake.psyncs.load(Ordering::Relaxed) >= 2
            });
            still_has_old_data(&r);
            let log = r.log_text();
            assert!(!log.contains("Flushing old data"), "{log}");
            let tmp = std::fs::read_dir(&r.dir)
                .expect("dir")
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
                .count();
            assert_eq!(tmp, 0, "temporary payload files are removed");
        }
    }

    #[test]
    fn a_refusing_master_gets_one_attempt_a_second() {
        // Guards against a sync storm: a master that refuses every PSYNC sees about one attempt
        // per second (the issue measured 1,760 in 3 seconds), and the replica keeps its data.
        let fake = FakeMaster::start(b"-ERR not now\r\n".to_vec());
        let r = node_with_data_replicating(&fake);
        wait_for("a first attempt", 10, || {
            fake.psyncs.load(Ordering::Relaxed) >= 1
        });
        let first = fake.psyncs.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(3500));
        let more = fake.psyncs.load(Ordering::Relaxed) - first;
        assert!((2..=5).contains(&more), "{more} attempts in 3.5 s");
        still_has_old_data(&r);
    }
}
