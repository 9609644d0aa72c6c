//! Master/replica replication between two real slotd processes: full sync under writes, any
//! mix of server-threads, the continuous stream, partial resync after a dropped link or a
//! stopped replica, WAIT, READONLY, ROLE/INFO shapes and REPLICAOF NO ONE.

use crate::common::{signal, Server};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn info_field(s: &Server, section: &str, field: &str) -> Option<String> {
    field_of(&s.cli(&["INFO", section]), field)
}

/// The value of `field` in an INFO text.
pub(crate) fn field_of(info: &str, field: &str) -> Option<String> {
    info.lines().find_map(|l| {
        l.strip_prefix(&format!("{field}:"))
            .map(|v| v.trim().to_string())
    })
}

/// Waits (bounded) until `f` holds.
pub(crate) fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

fn link_up(r: &Server) -> bool {
    info_field(r, "replication", "master_link_status").as_deref() == Some("up")
}

/// Waits until the replica processed everything the master streamed so far.
fn wait_caught_up(m: &Server, r: &Server) {
    wait_for("the replica to catch up", 60, || {
        let mo = info_field(m, "replication", "master_repl_offset");
        let ro = info_field(r, "replication", "slave_repl_offset");
        link_up(r) && mo.is_some() && mo == ro
    });
}

/// Every key with its type, content (order-independent where Redis' is) and TTL presence.
fn dump_all(s: &Server) -> BTreeMap<String, String> {
    let mut c = s.client();
    let mut keys: Vec<String> = Vec::new();
    let mut cursor = 0u64;
    for _ in 0..1_000_000 {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
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
    let mut out = BTreeMap::new();
    for chunk in keys.chunks(500) {
        let mut p = redis::pipe();
        for k in chunk {
            p.cmd("TYPE").arg(k);
        }
        let types: Vec<String> = p.query(&mut c).unwrap();
        let mut p = redis::pipe();
        for (k, t) in chunk.iter().zip(&types) {
            match t.as_str() {
                "string" => p.cmd("GET").arg(k),
                "list" => p.cmd("LRANGE").arg(k).arg(0).arg(-1),
                "hash" => p.cmd("HGETALL").arg(k),
                "set" => p.cmd("SMEMBERS").arg(k),
                "zset" => p.cmd("ZRANGE").arg(k).arg(0).arg(-1).arg("WITHSCORES"),
                _ => p.cmd("TYPE").arg(k),
            };
            p.cmd("PTTL").arg(k);
        }
        let vals: Vec<redis::Value> = p.query(&mut c).unwrap();
        for (i, (k, t)) in chunk.iter().zip(&types).enumerate() {
            let mut text = format!("{t}:{}", canon(&vals[2 * i], t));
            if let redis::Value::Int(ttl) = vals[2 * i + 1] {
                text.push_str(if ttl >= 0 { " ttl" } else { "" });
            }
            out.insert(k.clone(), text);
        }
    }
    out
}

fn canon(v: &redis::Value, t: &str) -> String {
    let mut items: Vec<String> = match v {
        redis::Value::Array(a) => a.iter().map(|x| format!("{x:?}")).collect(),
        other => vec![format!("{other:?}")],
    };
    if t == "set" {
        items.sort();
    }
    if t == "hash" {
        let mut pairs: Vec<String> = items.chunks(2).map(|p| p.join("=")).collect();
        pairs.sort();
        items = pairs;
    }
    items.join(",")
}

/// Loads `n` keys spread over every type (a tenth with a TTL).
fn populate(s: &Server, n: usize) {
    let mut c = s.client();
    for start in (0..n).step_by(1000) {
        let mut p = redis::pipe();
        for i in start..(start + 1000).min(n) {
            match i % 5 {
                0 => p
                    .cmd("SET")
                    .arg(format!("s:{i}"))
                    .arg(format!("v{i}"))
                    .ignore(),
                1 => p
                    .cmd("RPUSH")
                    .arg(format!("l:{i}"))
                    .arg(i)
                    .arg("x")
                    .arg(i * 2)
                    .ignore(),
                2 => p
                    .cmd("HSET")
                    .arg(format!("h:{i}"))
                    .arg("a")
                    .arg(i)
                    .arg("b")
                    .arg("y")
                    .ignore(),
                3 => p
                    .cmd("SADD")
                    .arg(format!("t:{i}"))
                    .arg(i)
                    .arg("m")
                    .arg("n")
                    .ignore(),
                _ => p
                    .cmd("ZADD")
                    .arg(format!("z:{i}"))
                    .arg(1.5)
                    .arg("a")
                    .arg(i)
                    .arg("b")
                    .ignore(),
            };
            if i % 10 == 0 {
                p.cmd("EXPIRE").arg(format!("s:{i}")).arg(3600).ignore();
            }
        }
        p.query::<()>(&mut c).unwrap();
    }
}

/// Keeps writing non-idempotent commands over every type until told to stop.
fn writer(
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> u64 {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut c = c.get_connection().unwrap();
    let mut n = 0u64;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) && n < 2_000_000 {
        let i = n % 5000;
        let mut p = redis::pipe();
        p.cmd("INCR").arg(format!("w:cnt:{}", i % 50)).ignore();
        p.cmd("RPUSH")
            .arg(format!("l:{}", (i * 5 + 1) % 100_000))
            .arg(n)
            .ignore();
        p.cmd("HINCRBY")
            .arg(format!("h:{}", (i * 5 + 2) % 100_000))
            .arg("a")
            .arg(1)
            .ignore();
        p.cmd("SADD")
            .arg(format!("t:{}", (i * 5 + 3) % 100_000))
            .arg(n)
            .ignore();
        p.cmd("ZINCRBY")
            .arg(format!("z:{}", (i * 5 + 4) % 100_000))
            .arg(1)
            .arg("a")
            .ignore();
        p.cmd("APPEND")
            .arg(format!("s:{}", (i * 5) % 100_000))
            .arg("+")
            .ignore();
        p.cmd("DEL")
            .arg(format!("s:{}", (i * 35) % 100_000))
            .ignore();
        p.query::<()>(&mut c).unwrap();
        n += 1;
        count.store(n, std::sync::atomic::Ordering::SeqCst);
    }
    n
}

fn full_sync_under_writes(master_threads: &str, replica_threads: &str, keys: usize) {
    full_sync_with(
        &["--server-threads", master_threads],
        replica_threads,
        keys,
        false,
    );
}

fn full_sync_with(master_args: &[&str], replica_threads: &str, keys: usize, rewrite: bool) {
    let m = Server::start(master_args);
    let r = Server::start(&["--server-threads", replica_threads]);
    populate(&m, keys);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (port, s2, c2) = (m.port, stop.clone(), count.clone());
    let w = std::thread::spawn(move || writer(port, s2, c2));
    std::thread::sleep(Duration::from_millis(200));
    let before = count.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()])
            .trim(),
        "OK"
    );
    if rewrite {
        m.cli(&["BGREWRITEAOF"]);
    }
    wait_for("the link to come up", 60, || link_up(&r));
    let during = count.load(std::sync::atomic::Ordering::SeqCst) - before;
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let writes = w.join().unwrap();
    assert!(writes > 0);
    assert!(during > 0, "no write overlapped the full sync");
    wait_caught_up(&m, &r);
    assert_eq!(m.cli(&["DBSIZE"]), r.cli(&["DBSIZE"]));
    let (a, b) = (dump_all(&m), dump_all(&r));
    assert_eq!(a.len(), b.len());
    for (k, v) in &a {
        assert_eq!(Some(v), b.get(k), "key {k} differs");
    }
    assert_eq!(info_field(&m, "stats", "sync_full").as_deref(), Some("1"));
}

#[test]
fn full_sync_100k_keys_under_writes_same_threads() {
    // Guards the snapshot's consistency with the stream (barrier, offsets) on 2 vs 2 shards.
    full_sync_under_writes("2", "2", 100_000);
}

#[test]
fn full_sync_one_master_shard_two_replica_shards() {
    // Guards routing by slot on a replica with more shards than its master.
    full_sync_under_writes("1", "2", 20_000);
}

#[test]
fn full_sync_two_master_shards_one_replica_shard() {
    // Guards the per-shard stream interleaving (and REPLFLUSH) into a one-shard replica.
    full_sync_under_writes("2", "1", 20_000);
}

#[test]
fn full_sync_while_the_aof_is_rewritten() {
    // Guards the two barriers (AOF rewrite and snapshot) running on the same shards at once.
    let args = ["--server-threads", "2", "--appendonly", "yes"];
    full_sync_with(&args, "2", 30_000, true);
}

#[test]
fn backlog_overrun_falls_back_to_full_sync() {
    // Guards the PSYNC refusal when the missing bytes left the backlog, and the resync after.
    let m = Server::start(&["--server-threads", "2", "--repl-backlog-size", "16kb"]);
    let r = Server::start(&[]);
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_for("the link", 30, || link_up(&r));
    let list = m.cli(&["CLIENT", "LIST"]);
    let addr = list
        .lines()
        .find(|l| l.contains("cmd=replconf") || l.contains("cmd=psync"))
        .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("addr=")))
        .expect("the replica's connection")
        .to_string();
    m.cli(&["CLIENT", "KILL", &addr]);
    std::thread::sleep(Duration::from_millis(300));
    let mut c = m.client();
    let big = "x".repeat(1000);
    for i in 0..100 {
        let _: () = redis::cmd("SET")
            .arg(format!("big:{i}"))
            .arg(&big)
            .query(&mut c)
            .unwrap();
    }
    wait_for("a second full sync", 30, || {
        info_field(&m, "stats", "sync_full").as_deref() == Some("2")
    });
    // The first sync was a refused PSYNC too (the replica offered its own history, as a
    // Redis master turned replica does).
    assert_eq!(
        info_field(&m, "stats", "sync_partial_err").as_deref(),
        Some("2")
    );
    wait_caught_up(&m, &r);
    assert_eq!(dump_all(&m), dump_all(&r));
}

#[test]
fn stream_flushall_multi_key_and_expiry() {
    // Guards the continuous stream: FLUSHALL from several shards, cross-shard MSET, RENAME,
    // relative expiry turned absolute.
    let m = Server::start(&["--server-threads", "3"]);
    let r = Server::start(&["--server-threads", "2"]);
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_for("the link", 30, || link_up(&r));
    m.cli(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]);
    m.cli(&["FLUSHALL"]);
    m.cli(&["MSET", "x", "1", "y", "2", "z", "3"]);
    m.cli(&["RENAME", "x", "xx"]);
    m.cli(&["SET", "e", "v", "EX", "100"]);
    m.cli(&["LPUSH", "q", "1", "2", "3"]);
    m.cli(&["LPOP", "q"]);
    wait_caught_up(&m, &r);
    assert_eq!(dump_all(&m), dump_all(&r));
    assert_eq!(r.cli(&["DBSIZE"]).trim(), "5");
    let ttl: i64 = r.cli(&["TTL", "e"]).trim().parse().unwrap();
    assert!((90..=100).contains(&ttl), "ttl {ttl}");
}

#[test]
fn partial_resync_after_killed_link_and_stopped_replica() {
    // Guards PSYNC continuation from the backlog (sync_partial_ok) after a link drop.
    let m = Server::start(&["--server-threads", "2"]);
    let r = Server::start(&[]);
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_for("the link", 30, || link_up(&r));
    m.cli(&["SET", "k1", "v1"]);
    wait_caught_up(&m, &r);
    let list = m.cli(&["CLIENT", "LIST"]);
    let addr = list
        .lines()
        .find(|l| l.contains("cmd=replconf") || l.contains("cmd=psync"))
        .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("addr=")))
        .expect("the replica's connection")
        .to_string();
    m.cli(&["CLIENT", "KILL", &addr]);
    m.cli(&["SET", "k2", "v2"]);
    // The kill takes effect at the master's next cron; the replica then reconnects.
    wait_for("a partial resync", 30, || {
        info_field(&m, "stats", "sync_partial_ok").as_deref() == Some("1")
    });
    wait_caught_up(&m, &r);
    assert_eq!(r.cli(&["GET", "k2"]).trim(), "v2");
    assert_eq!(info_field(&m, "stats", "sync_full").as_deref(), Some("1"));
    // A stopped replica keeps its link; the stream waits in its buffer.
    signal(r.pid(), libc::SIGSTOP);
    m.cli(&["SET", "k3", "v3"]);
    std::thread::sleep(Duration::from_millis(1500));
    signal(r.pid(), libc::SIGCONT);
    wait_caught_up(&m, &r);
    assert_eq!(r.cli(&["GET", "k3"]).trim(), "v3");
    assert_eq!(info_field(&m, "stats", "sync_full").as_deref(), Some("1"));
}

#[test]
fn wait_readonly_role_info_and_promotion() {
    // Guards WAIT, the READONLY refusal, ROLE/INFO shapes and REPLICAOF NO ONE.
    let m = Server::start(&["--server-threads", "2"]);
    let r = Server::start(&[]);
    let mport = m.port.to_string();
    assert_eq!(r.cli(&["REPLICAOF", "127.0.0.1", &mport]).trim(), "OK");
    assert_eq!(
        r.cli(&["REPLICAOF", "127.0.0.1", &mport]).trim(),
        "OK Already connected to specified master"
    );
    wait_for("the link", 30, || link_up(&r));
    let mut c = m.client();
    let wait = |c: &mut redis::Connection, n: i64, ms: i64| -> i64 {
        redis::cmd("WAIT").arg(n).arg(ms).query(c).unwrap()
    };
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).unwrap();
    assert_eq!(wait(&mut c, 1, 5000), 1);
    let t0 = Instant::now();
    assert_eq!(wait(&mut c, 2, 300), 1);
    assert!(t0.elapsed() >= Duration::from_millis(250));
    // A stopped replica cannot acknowledge a new write; a client that never wrote waits for
    // nothing.
    signal(r.pid(), libc::SIGSTOP);
    let _: () = redis::cmd("SET").arg("b").arg("1").query(&mut c).unwrap();
    let t0 = Instant::now();
    assert_eq!(wait(&mut c, 1, 400), 0);
    assert!(t0.elapsed() >= Duration::from_millis(350));
    assert_eq!(m.cli(&["WAIT", "1", "0"]).trim(), "1");
    signal(r.pid(), libc::SIGCONT);
    assert_eq!(wait(&mut c, 1, 0), 1);
    assert_eq!(
        r.cli(&["SET", "a", "2"]).trim(),
        "READONLY You can't write against a read only replica."
    );
    assert_eq!(r.cli(&["GET", "a"]).trim(), "1");
    assert!(r
        .cli(&["WAIT", "0", "0"])
        .starts_with("ERR WAIT cannot be used with replica"));
    assert!(r.cli(&["HELLO", "2"]).lines().any(|l| l == "replica"));
    let role = r.cli(&["ROLE"]);
    let lines: Vec<&str> = role.lines().collect();
    assert_eq!(
        lines[..4],
        ["slave", "127.0.0.1", mport.as_str(), "connected"]
    );
    let role = m.cli(&["ROLE"]);
    let lines: Vec<&str> = role.lines().collect();
    assert_eq!(lines[0], "master");
    assert_eq!(lines[2], "127.0.0.1");
    assert_eq!(lines[3], r.port.to_string());
    let line = info_field(&m, "replication", "slave0").unwrap();
    assert!(line.starts_with(&format!(
        "ip=127.0.0.1,port={},state=online,offset=",
        r.port
    )));
    for f in [
        "master_host",
        "master_port",
        "master_last_io_seconds_ago",
        "master_sync_in_progress",
        "slave_read_repl_offset",
        "slave_priority",
        "slave_read_only",
        "replica_announced",
        "master_replid2",
        "repl_backlog_histlen",
    ] {
        assert!(info_field(&r, "replication", f).is_some(), "{f}");
    }
    let old_id = info_field(&r, "replication", "master_replid").unwrap();
    assert_eq!(r.cli(&["REPLICAOF", "NO", "ONE"]).trim(), "OK");
    assert_eq!(
        info_field(&r, "replication", "role").as_deref(),
        Some("master")
    );
    assert_eq!(
        info_field(&r, "replication", "master_replid2"),
        Some(old_id)
    );
    wait_for("writes accepted", 5, || {
        r.cli(&["SET", "a", "3"]).trim() == "OK"
    });
    assert_eq!(r.cli(&["GET", "a"]).trim(), "3");
}

#[test]
fn replicaof_refused_in_cluster_mode() {
    // Guards the cluster-mode refusal text.
    let s = Server::start(&[
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ]);
    assert_eq!(
        s.cli(&["REPLICAOF", "127.0.0.1", "1"]).trim(),
        "ERR REPLICAOF not allowed in cluster mode."
    );
}

#[test]
fn old_master_continues_from_promoted_replica() {
    // Guards replid2 after a promotion: the old master re-pointed to its promoted replica
    // resyncs partially (what a cluster failover relies on).
    let m = Server::start(&["--server-threads", "2"]);
    let r = Server::start(&["--server-threads", "2"]);
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_for("the link", 30, || link_up(&r));
    m.cli(&["MSET", "a", "1", "b", "2"]);
    wait_caught_up(&m, &r);
    assert_eq!(r.cli(&["REPLICAOF", "NO", "ONE"]).trim(), "OK");
    m.cli(&["REPLICAOF", "127.0.0.1", &r.port.to_string()]);
    wait_for("the old master's link", 30, || link_up(&m));
    assert_eq!(
        info_field(&r, "stats", "sync_partial_ok").as_deref(),
        Some("1")
    );
    assert_eq!(info_field(&r, "stats", "sync_full").as_deref(), Some("0"));
    wait_for("writes on the new master", 5, || {
        r.cli(&["SET", "c", "3"]).trim() == "OK"
    });
    wait_caught_up(&r, &m);
    assert_eq!(m.cli(&["GET", "c"]).trim(), "3");
    assert_eq!(dump_all(&m), dump_all(&r));
}

#[test]
fn expiry_is_decided_by_the_master() {
    // Guards expiry semantics: a replica applies the master's records even when their keys
    // expired meanwhile, hides expired keys from reads, and drops them on the master's DEL.
    let m = Server::start(&["--server-threads", "2"]);
    let r = Server::start(&[]);
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_for("the link", 30, || link_up(&r));
    // Late arrival: the PERSIST reaches the replica after the original expiry time.
    signal(r.pid(), libc::SIGSTOP);
    m.cli(&["SET", "k", "v", "PX", "200"]);
    m.cli(&["PERSIST", "k"]);
    std::thread::sleep(Duration::from_millis(400));
    signal(r.pid(), libc::SIGCONT);
    wait_caught_up(&m, &r);
    assert_eq!(r.cli(&["GET", "k"]).trim(), "v");
    // A stopped master cannot send DEL: the replica hides the key but keeps it.
    m.cli(&["SET", "e", "1", "PX", "100"]);
    wait_caught_up(&m, &r);
    signal(m.pid(), libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(r.cli(&["GET", "e"]).trim(), "");
    assert_eq!(r.cli(&["DBSIZE"]).trim(), "2");
    signal(m.pid(), libc::SIGCONT);
    wait_for("the master's DEL", 10, || r.cli(&["DBSIZE"]).trim() == "1");
    wait_caught_up(&m, &r);
    assert_eq!(dump_all(&m), dump_all(&r));
}

#[test]
fn replica_restarted_with_its_aof_resyncs_partially() {
    // Guards the saved replication history: a replica stopped cleanly (SIGTERM) and started
    // again from its AOF continues from its offset instead of a full sync, and loses nothing.
    let m = Server::start(&[]);
    let mut r = Server::start(&["--appendonly", "yes"]);
    let master_port = m.port.to_string();
    r.cli(&["REPLICAOF", "127.0.0.1", &master_port]);
    wait_for("the link", 30, || link_up(&r));
    populate(&m, 2000);
    m.cli(&["INCR", "counter"]);
    wait_caught_up(&m, &r);
    let (port, dir) = (r.port, r.dir.clone());
    r.stop();
    m.cli(&["INCR", "counter"]);
    m.cli(&["SET", "while-away", "yes"]);
    r = Server::start_in(
        port,
        dir,
        &[
            "--appendonly",
            "yes",
            "--replicaof",
            "127.0.0.1",
            &master_port,
        ],
    )
    .expect("restart");
    wait_caught_up(&m, &r);
    assert_eq!(info_field(&m, "stats", "sync_full").as_deref(), Some("1"));
    assert_eq!(
        info_field(&m, "stats", "sync_partial_ok").as_deref(),
        Some("1")
    );
    assert_eq!(r.cli(&["GET", "counter"]).trim(), "2");
    assert_eq!(r.cli(&["GET", "while-away"]).trim(), "yes");
    assert_eq!(dump_all(&m), dump_all(&r));
}

#[test]
fn full_sync_1m_keys_while_writes_continue() {
    // Guards a full sync at the size the issue names: 1M keys, a writer running throughout,
    // every key on the replica afterwards (counts, a sample of values, every writer key).
    const KEYS: usize = 1_000_000;
    let m = Server::start(&["--server-threads", "2"]);
    let r = Server::start(&["--server-threads", "2"]);
    let mut c = m.client();
    for start in (0..KEYS).step_by(5000) {
        let mut p = redis::pipe();
        for i in start..start + 5000 {
            p.cmd("SET").arg(format!("k:{i}")).arg(i).ignore();
        }
        let () = p.query(&mut c).expect("fill");
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (port, s2) = (m.port, stop.clone());
    let w = std::thread::spawn(move || {
        let cl = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
        let mut c = cl.get_connection().expect("connect");
        let mut n = 0usize;
        while !s2.load(std::sync::atomic::Ordering::SeqCst) {
            let () = redis::cmd("SET")
                .arg(format!("w:{n}"))
                .arg(n)
                .query(&mut c)
                .expect("set");
            n += 1;
        }
        n
    });
    let started = Instant::now();
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_for("the full sync", 240, || link_up(&r));
    eprintln!("full sync of {KEYS} keys took {:?}", started.elapsed());
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let written = w.join().expect("writer");
    wait_caught_up(&m, &r);
    assert_eq!(m.cli(&["DBSIZE"]).trim(), (KEYS + written).to_string());
    assert_eq!(m.cli(&["DBSIZE"]), r.cli(&["DBSIZE"]));
    let mut rc = r.client();
    let mut p = redis::pipe();
    for i in (0..KEYS).step_by(97) {
        p.cmd("GET").arg(format!("k:{i}"));
    }
    let vals: Vec<usize> = p.query(&mut rc).expect("sample");
    assert!(vals.iter().zip((0..KEYS).step_by(97)).all(|(v, i)| *v == i));
    let mut p = redis::pipe();
    for i in 0..written {
        p.cmd("GET").arg(format!("w:{i}"));
    }
    let vals: Vec<usize> = p.query(&mut rc).expect("writer keys");
    assert!(vals.iter().enumerate().all(|(i, v)| *v == i));
}

/// Sends SHUTDOWN (with `args`) to `m` and returns how long the process took to exit.
fn shutdown_took(m: &mut Server, args: &[&str]) -> Duration {
    let t0 = Instant::now();
    let mut cmd = vec!["SHUTDOWN"];
    cmd.extend_from_slice(args);
    let _ = m.cli(&cmd);
    assert!(m.wait_exit(20).is_some(), "the master exits");
    t0.elapsed()
}

#[test]
fn shutdown_waits_for_lagging_replicas_like_redis() {
    // Guards shutdown-timeout: a master pauses writes and waits for its replicas to take the
    // whole stream before it stops (Redis 7.0's log lines), gives up after the timeout, skips
    // the wait for SHUTDOWN NOW, and SHUTDOWN ABORT cancels it.
    let start_pair = |timeout: &str| {
        let m = Server::start(&["--shutdown-timeout", timeout]);
        let r = Server::start(&["--replicaof", "127.0.0.1", &m.port.to_string()]);
        wait_for("the link", 30, || link_up(&r));
        m.cli(&["SET", "k", "v"]);
        wait_caught_up(&m, &r);
        (m, r)
    };
    // A replica in step: the wait ends at once.
    let (mut m, r) = start_pair("10");
    m.cli(&["SET", "k2", "v2"]);
    let took = shutdown_took(&mut m, &[]);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let log = m.log_text();
    assert!(
        log.contains("Waiting for replicas before shutting down."),
        "{log}"
    );
    assert!(
        log.contains("1 of 1 replicas are in sync when shutting down."),
        "{log}"
    );
    assert_eq!(r.cli(&["GET", "k2"]).trim(), "v2");
    drop(r);
    // A stopped replica: the master waits the whole timeout, then names the lagging replica.
    let (mut m, r) = start_pair("2");
    signal(r.pid(), libc::SIGSTOP);
    m.cli(&["SET", "k3", "v3"]);
    let took = shutdown_took(&mut m, &[]);
    signal(r.pid(), libc::SIGCONT);
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    let log = m.log_text();
    assert!(
        log.contains("0 of 1 replicas are in sync when shutting down."),
        "{log}"
    );
    assert!(log.contains("Lagging replica 127.0.0.1:"), "{log}");
    drop(r);
    // SHUTDOWN NOW does not wait.
    let (mut m, r) = start_pair("10");
    signal(r.pid(), libc::SIGSTOP);
    m.cli(&["SET", "k4", "v4"]);
    let took = shutdown_took(&mut m, &["NOW"]);
    signal(r.pid(), libc::SIGCONT);
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(!m.log_text().contains("Waiting for replicas"));
    drop(r);
    // SHUTDOWN ABORT during the wait: the master keeps serving, writes again included.
    let (m, r) = start_pair("10");
    signal(r.pid(), libc::SIGSTOP);
    m.cli(&["SET", "k5", "v5"]);
    let port = m.port;
    let waiter = std::thread::spawn(move || crate::common::cli(port, &["SHUTDOWN"]));
    wait_for("the wait to start", 10, || {
        m.log_text()
            .contains("Waiting for replicas before shutting down.")
    });
    assert_eq!(m.cli(&["SHUTDOWN", "ABORT"]).trim(), "OK");
    let _ = waiter.join();
    signal(r.pid(), libc::SIGCONT);
    wait_for("the abort", 10, || {
        m.log_text().contains("Shutdown manually aborted.")
    });
    assert_eq!(m.cli(&["PING"]).trim(), "PONG");
    assert_eq!(m.cli(&["SET", "k6", "v6"]).trim(), "OK");
    assert_eq!(
        m.cli(&["SHUTDOWN", "ABORT"]).trim(),
        "ERR No shutdown in progress."
    );
}
