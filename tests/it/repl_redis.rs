//! Issue 16 (see /work/notes/i16/api.md for the owner of this file).

/// redis-server 7.0 replicating a slotd master (part D1): the RDB payload of a full sync, the
/// command stream after it, a partial resync after a dropped link, and `redis-cli --rdb`.
mod master_side {
    use crate::common::{cli, test_dir, Raw, RedisServer, Server};
    use std::collections::BTreeMap;
    use std::io::{Read, Write};
    use std::path::Path;
    use std::process::Command;
    use std::time::{Duration, Instant};

    fn info(port: u16, section: &str, field: &str) -> Option<String> {
        cli(port, &["INFO", section]).lines().find_map(|l| {
            l.strip_prefix(&format!("{field}:"))
                .map(|v| v.trim().to_string())
        })
    }

    fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}");
    }

    /// The redis-server replica's link is up and it processed the whole stream so far.
    fn wait_caught_up(m: &Server, r: &RedisServer) {
        wait_for("the redis-server replica to catch up", 60, || {
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
        for batch in 0..30 {
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
            run(&mut c, &["SET", &format!("k{}:{i}", i % 30), "changed"]);
            run(&mut c, &["DEL", &format!("k{}:{}", i % 30, 500 + i)]);
        }
        assert_same_data(&m, &r, "after the full sync of 30 MB");
        assert_eq!(cli(r.port, &["DBSIZE"]).trim(), "29800");
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
        let files = dir_files(&m.dir);
        assert!(
            !files.iter().any(|f| f.starts_with("temp-sync")),
            "{files:?}"
        );
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
