//! Numbered databases (`databases N`, SELECT) end to end: replies side by side with
//! redis-server 7.0, keys of several databases through AOF restarts, BGREWRITEAOF and DEBUG
//! RELOAD, through replication (full sync and stream, with FLUSHDB and SWAPDB from several
//! shards), a cluster failover, `redis://host/3` URLs and `redis-benchmark --dbnum`.

use crate::common::{free_port, Raw, Server};
use crate::compare::same_replies;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn select_move_swapdb_copy_match_redis() {
    same_replies(&[
        "SET a 1",
        "MOVE a 3",
        "MOVE a 3",
        "MOVE a 0",
        "MOVE a 16",
        "MOVE a -1",
        "MOVE a x",
        "MOVE a 4294967296",
        "MOVE nokey 0",
        "SELECT 3",
        "GET a",
        "SET b x",
        "PEXPIRE b 100000",
        "MOVE b 0",
        "MOVE a 0",
        "SELECT 0",
        "EXISTS b",
        "GET a",
        "SET c 1",
        "COPY c d DB 5",
        "COPY c d DB 5",
        "COPY c c DB 0",
        "COPY c c DB 5",
        "COPY c c DB 16",
        "COPY c c DB x",
        "SWAPDB 0 5",
        "SWAPDB 0 0",
        "SWAPDB x 1",
        "SWAPDB 1 x",
        "SWAPDB 0 16",
        "SWAPDB -1 0",
        "SWAPDB 4294967296 0",
        "SWAPDB 1",
        "DBSIZE",
        "GET d",
        "GET c",
        "SELECT 5",
        "DBSIZE",
        "GET c",
        "FLUSHDB",
        "DBSIZE",
        "SELECT 3",
        "DBSIZE",
        "SET only 1",
        "KEYS *",
        "RANDOMKEY",
        "SCAN 0",
        "FLUSHALL",
        "DBSIZE",
        "SELECT 16",
        "SELECT -1",
        "SELECT 15",
        "SET k v",
        "GET k",
    ]);
}

#[test]
fn info_keyspace_client_list_and_hello_show_databases() {
    // Guards INFO keyspace per database and the client's db= field.
    let s = Server::start(&["--server-threads", "2"]);
    let mut c = s.client();
    for (db, n) in [(0, 3), (2, 1), (9, 2)] {
        let () = redis::cmd("SELECT").arg(db).query(&mut c).unwrap();
        for i in 0..n {
            let () = redis::cmd("SET")
                .arg(format!("k{i}"))
                .arg("v")
                .query(&mut c)
                .unwrap();
        }
    }
    let () = redis::cmd("EXPIRE")
        .arg("k0")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let info: String = redis::cmd("INFO").arg("keyspace").query(&mut c).unwrap();
    assert!(info.contains("db0:keys=3,expires=0,avg_ttl=0"), "{info}");
    assert!(info.contains("db2:keys=1,expires=0,avg_ttl=0"), "{info}");
    assert!(info.contains("db9:keys=2,expires=1,avg_ttl=0"), "{info}");
    let me: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
    assert!(me.contains(" db=9 "), "{me}");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
    assert!(list.contains(" db=9 "), "{list}");
}

/// Every key of databases 0..16 with its value (strings, lists) and whether it has a TTL.
fn dump_dbs(port: u16) -> BTreeMap<String, String> {
    let url = format!("redis://127.0.0.1:{port}/");
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let mut out = BTreeMap::new();
    for db in 0..16 {
        let () = redis::cmd("SELECT").arg(db).query(&mut c).unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(&mut c).unwrap();
            let v = match t.as_str() {
                "string" => redis::cmd("GET").arg(&k).query::<String>(&mut c).unwrap(),
                "list" => redis::cmd("LRANGE")
                    .arg(&k)
                    .arg(0)
                    .arg(-1)
                    .query::<Vec<String>>(&mut c)
                    .unwrap()
                    .join(","),
                other => other.to_string(),
            };
            let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
            out.insert(format!("{db}/{k}"), format!("{v} ttl={}", ttl > 0));
        }
    }
    out
}

/// Writes in several databases, with MOVE, COPY ... DB, SWAPDB and FLUSHDB among them.
fn write_many_dbs(port: u16, tag: &str) {
    let url = format!("redis://127.0.0.1:{port}/");
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    for db in [0, 2, 7] {
        let () = redis::cmd("SELECT").arg(db).query(&mut c).unwrap();
        for i in 0..50 {
            let () = redis::cmd("SET")
                .arg(format!("{tag}s{i}"))
                .arg(format!("{db}-{i}"))
                .query(&mut c)
                .unwrap();
        }
        let _: i64 = redis::cmd("RPUSH")
            .arg(format!("{tag}list"))
            .arg(db)
            .arg("b")
            .query(&mut c)
            .unwrap();
        let () = redis::cmd("SET")
            .arg(format!("{tag}ttl"))
            .arg("x")
            .arg("EX")
            .arg(1000)
            .query(&mut c)
            .unwrap();
    }
    let () = redis::cmd("SELECT").arg(2).query(&mut c).unwrap();
    let moved: i64 = redis::cmd("MOVE")
        .arg(format!("{tag}s1"))
        .arg(4)
        .query(&mut c)
        .unwrap();
    assert_eq!(moved, 1);
    let copied: i64 = redis::cmd("COPY")
        .arg(format!("{tag}list"))
        .arg(format!("{tag}list2"))
        .arg("DB")
        .arg(5)
        .query(&mut c)
        .unwrap();
    assert_eq!(copied, 1);
    let () = redis::cmd("SWAPDB").arg(7).arg(8).query(&mut c).unwrap();
    let () = redis::cmd("SELECT").arg(0).query(&mut c).unwrap();
    let () = redis::cmd("SET")
        .arg("gone")
        .arg("1")
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let () = redis::cmd("SET")
        .arg("gone")
        .arg("1")
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("FLUSHDB").query(&mut c).unwrap();
    let () = redis::cmd("SELECT").arg(8).query(&mut c).unwrap();
    let _: i64 = redis::cmd("LPUSH")
        .arg(format!("{tag}list"))
        .arg("c")
        .query(&mut c)
        .unwrap();
}

/// Reads exactly `want` from `r`.
fn expect(r: &mut Raw, want: &[u8]) {
    let got = r.read_n(want.len());
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

/// redis-cli -p `port` -n `db` `args`: its output, trimmed.
fn cli_db(port: &str, db: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", port, "-n", db])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn restart(mut s: Server, extra: &[&str]) -> Server {
    assert_eq!(s.stop(), Some(0));
    let dir = std::mem::take(&mut s.dir);
    Server::start_in(free_port(), dir, extra).expect("restart")
}

#[test]
fn aof_restart_rewrite_and_reload_keep_every_database() {
    let args = [
        "--appendonly",
        "yes",
        "--server-threads",
        "2",
        "--enable-debug-command",
        "yes",
    ];
    let s = Server::start(&args);
    write_many_dbs(s.port, "");
    let want = dump_dbs(s.port);
    assert!(
        want.contains_key("8/list") && want.contains_key("4/s1"),
        "{want:?}"
    );
    assert!(!want.keys().any(|k| k.starts_with("3/")), "{want:?}");
    // The incr files carry SELECT.
    let s = restart(s, &args);
    assert_eq!(dump_dbs(s.port), want, "after a restart");
    // A rewrite writes every database into the base; later writes go to the new incr.
    let started = s.cli(&["BGREWRITEAOF"]);
    assert!(started.contains("rewriting"), "{started}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while s
        .cli(&["INFO", "persistence"])
        .contains("aof_rewrite_in_progress:1")
    {
        assert!(Instant::now() < deadline, "rewrite did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        cli_db(&s.port.to_string(), "6", &["SET", "late", "1"]),
        "OK"
    );
    let want = dump_dbs(s.port);
    assert!(want.contains_key("6/late"));
    let s = restart(s, &args);
    assert_eq!(dump_dbs(s.port), want, "after a rewrite and a restart");
    assert_eq!(s.cli(&["DEBUG", "RELOAD"]).trim(), "OK");
    assert_eq!(dump_dbs(s.port), want, "after DEBUG RELOAD");
    // Another shard count: each old shard's SWAPDB applies to the slots it owned.
    assert_eq!(
        cli_db(&s.port.to_string(), "1", &["SET", "swap", "me"]),
        "OK"
    );
    assert_eq!(s.cli(&["SWAPDB", "1", "12"]).trim(), "OK");
    write_many_dbs(s.port, "more");
    let want = dump_dbs(s.port);
    assert!(want.contains_key("12/swap"), "{want:?}");
    let mut three = args.to_vec();
    three[3] = "3";
    let s = restart(s, &three);
    assert_eq!(dump_dbs(s.port), want, "after a restart with 3 shards");
}

fn link_up(r: &Server) -> bool {
    r.cli(&["INFO", "replication"])
        .contains("master_link_status:up")
}

fn offset(s: &Server, field: &str) -> Option<String> {
    s.cli(&["INFO", "replication"]).lines().find_map(|l| {
        l.strip_prefix(&format!("{field}:"))
            .map(|v| v.trim().to_string())
    })
}

fn wait_caught_up(m: &Server, r: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mo = offset(m, "master_repl_offset");
        if link_up(r) && mo.is_some() && mo == offset(r, "slave_repl_offset") {
            return;
        }
        assert!(Instant::now() < deadline, "replica did not catch up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn replication_carries_every_database() {
    // A full sync of several databases, then the stream (SELECT, MOVE, COPY ... DB, SWAPDB
    // and FLUSHDB journaled by every master shard), with other shard counts on each side.
    let m = Server::start(&["--server-threads", "3"]);
    let r = Server::start(&["--server-threads", "2"]);
    write_many_dbs(m.port, "");
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_caught_up(&m, &r);
    assert_eq!(dump_dbs(r.port), dump_dbs(m.port), "after the full sync");
    write_many_dbs(m.port, "again");
    assert_eq!(
        cli_db(&m.port.to_string(), "11", &["SET", "x", "eleven"]),
        "OK"
    );
    wait_caught_up(&m, &r);
    let want = dump_dbs(m.port);
    assert!(want.contains_key("11/x"));
    assert_eq!(dump_dbs(r.port), want, "after the stream");
}

#[test]
fn database_urls_and_redis_benchmark_dbnum() {
    // redis://host/3 (clients' db=3) selects database 3; redis-benchmark --dbnum 3 writes there.
    let s = Server::start(&[]);
    let url = format!("redis://127.0.0.1:{}/3", s.port);
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let () = redis::cmd("SET").arg("u").arg("1").query(&mut c).unwrap();
    let out = Command::new("redis-benchmark")
        .args([
            "-p",
            &s.port.to_string(),
            "--dbnum",
            "4",
            "-t",
            "set",
            "-n",
            "200",
        ])
        .args(["-r", "10", "-q"])
        .output();
    let Ok(out) = out else {
        eprintln!("redis-benchmark not installed: skipped");
        return;
    };
    assert!(out.status.success());
    let info = s.cli(&["INFO", "keyspace"]);
    assert!(info.contains("db3:keys=1,"), "{info}");
    assert!(info.contains("db4:keys="), "{info}");
    assert!(!info.contains("db0:"), "{info}");
}

#[test]
fn blocked_and_watching_clients_see_only_their_database() {
    // BLPOP in database 3 is not woken by a push to the same name in database 0, only by one
    // in database 3 (and SWAPDB brings a ready list in, as in Redis); WATCH in database 1 is
    // not broken by a write in database 0.
    let s = Server::start(&["--server-threads", "2"]);
    let port = s.port.to_string();
    let mut w = s.raw();
    w.send(b"SELECT 3\r\nBLPOP q 10\r\n");
    std::thread::sleep(Duration::from_millis(200));
    s.cli(&["LPUSH", "q", "db0"]);
    std::thread::sleep(Duration::from_millis(200));
    let cli = |db: &str, args: &[&str]| cli_db(&port, db, args);
    assert_eq!(cli("3", &["LPUSH", "q", "db3"]), "1");
    let want = b"+OK\r\n*2\r\n$1\r\nq\r\n$3\r\ndb3\r\n";
    expect(&mut w, want);
    assert_eq!(cli("0", &["LLEN", "q"]), "1");
    // SWAPDB wakes a client blocked on a key the swap makes ready.
    w.send(b"SELECT 5\r\nBLPOP q 10\r\n");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(cli("0", &["SWAPDB", "0", "5"]), "OK");
    let want = b"+OK\r\n*2\r\n$1\r\nq\r\n$3\r\ndb0\r\n";
    expect(&mut w, want);
    // WATCH is per database.
    let mut t = s.raw();
    t.send(b"SELECT 1\r\nWATCH k\r\nMULTI\r\nSET k 1\r\n");
    let want = b"+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n";
    expect(&mut t, want);
    assert_eq!(cli("0", &["SET", "k", "other"]), "OK");
    t.send(b"EXEC\r\n");
    let want = b"*1\r\n+OK\r\n";
    expect(&mut t, want);
    t.send(b"WATCH k\r\nMULTI\r\nSET k 2\r\n");
    let want = b"+OK\r\n+OK\r\n+QUEUED\r\n";
    expect(&mut t, want);
    assert_eq!(cli("1", &["SET", "k", "3"]), "OK");
    t.send(b"EXEC\r\n");
    assert_eq!(t.read_n(5), b"*-1\r\n".to_vec());
    assert_eq!(cli("1", &["GET", "k"]), "3");
}

#[test]
fn migrate_to_a_destination_database() {
    // MIGRATE reads the key in the client's database and restores it in the target's.
    let a = Server::start(&[]);
    let b = Server::start(&["--server-threads", "2"]);
    let mut c = a.client();
    let () = redis::cmd("SELECT").arg(2).query(&mut c).unwrap();
    let () = redis::cmd("SET").arg("m").arg("v").query(&mut c).unwrap();
    let ok: String = redis::cmd("MIGRATE")
        .arg("127.0.0.1")
        .arg(b.port)
        .arg("m")
        .arg(6)
        .arg(5000)
        .query(&mut c)
        .unwrap();
    assert_eq!(ok, "OK");
    let url = format!("redis://127.0.0.1:{}/6", b.port);
    let mut d = redis::Client::open(url).unwrap().get_connection().unwrap();
    let v: String = redis::cmd("GET").arg("m").query(&mut d).unwrap();
    assert_eq!(v, "v");
    let none: i64 = redis::cmd("EXISTS").arg("m").query(&mut c).unwrap();
    assert_eq!(none, 0);
}

#[test]
fn cluster_failover_keeps_other_databases() {
    // A one-master cluster with one replica: keys in database 2 reach the replica, and the
    // replica promoted by CLUSTER FAILOVER TAKEOVER serves them (several databases in cluster
    // mode, as Valkey 9).
    let (m, r) = crate::cluster::master_and_spare();
    let rp = r.port.to_string();
    crate::cluster::attach_replica(&m, &r);
    let url = format!("redis://127.0.0.1:{}/2", m.port);
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    for i in 0..100 {
        let () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(10000).query(&mut c).unwrap();
    assert_eq!(acked, 1);
    crate::cluster::take_over(&r);
    assert_eq!(cli_db(&rp, "2", &["DBSIZE"]), "100");
    assert_eq!(cli_db(&rp, "2", &["GET", "k42"]), "42");
    assert_eq!(r.cli(&["DBSIZE"]).trim(), "0");
}

#[test]
fn eviction_reaches_every_database() {
    // maxmemory with the data in database 3 only: keys there are evicted (with a DEL in their
    // database), writes keep succeeding, nothing is refused with OOM.
    let s = Server::start(&["--maxmemory-policy", "allkeys-lru"]);
    let used: u64 = s
        .cli(&["INFO", "memory"])
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory");
    let limit = (used + 8 * 1024 * 1024).to_string();
    assert_eq!(s.cli(&["CONFIG", "SET", "maxmemory", &limit]).trim(), "OK");
    let url = format!("redis://127.0.0.1:{}/3", s.port);
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let value = "x".repeat(1000);
    for chunk in 0..40 {
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.cmd("SET")
                .arg(format!("k{chunk}:{i}"))
                .arg(&value)
                .ignore();
        }
        let r: redis::RedisResult<()> = pipe.query(&mut c);
        assert!(
            r.is_ok(),
            "OOM in chunk {chunk} while database 3 can be evicted"
        );
    }
    let stats = s.cli(&["INFO", "stats"]);
    let evicted: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("evicted_keys:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(evicted > 0, "{stats}");
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert!(n > 0 && (n as u64) < 40_000, "dbsize {n}");
}
