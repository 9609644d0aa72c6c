//! Replication that fails closed: replicas authenticate to a master with `requirepass`
//! (masterauth / masteruser, standalone and cluster), min-replicas-to-write refuses writes
//! like Redis, and SYNC/PSYNC behind pending replies is refused like Redis.

use crate::common::{cli, RedisServer, Server};
use std::time::{Duration, Instant};

const PASS: &str = "secret";

/// redis-cli with the password.
fn acli(port: u16, args: &[&str]) -> String {
    let mut all = vec!["-a", PASS, "--no-auth-warning"];
    all.extend_from_slice(args);
    cli(port, &all)
}

fn field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_string())
}

/// Waits (bounded) until `f` holds.
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

fn link_status(port: u16) -> Option<String> {
    field(&acli(port, &["INFO", "replication"]), "master_link_status")
}

/// A standalone master with `requirepass` (set after start, so the start-up check can PING).
fn password_master() -> Server {
    let m = Server::start(&[]);
    assert_eq!(m.cli(&["CONFIG", "SET", "requirepass", PASS]).trim(), "OK");
    m
}

#[test]
fn replicas_authenticate_with_masterauth_and_masteruser() {
    // Guards AUTH <masterauth> and AUTH <masteruser> <masterauth> before REPLCONF/PSYNC.
    let m = password_master();
    assert_eq!(acli(m.port, &["SET", "before", "1"]).trim(), "OK");
    let mp = m.port.to_string();
    let r1 = Server::start(&["--replicaof", "127.0.0.1", &mp, "--masterauth", PASS]);
    let r2 = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &mp,
        "--masteruser",
        "default",
        "--masterauth",
        PASS,
    ]);
    for r in [&r1, &r2] {
        wait_for("the link up", 30, || {
            link_status(r.port).as_deref() == Some("up")
        });
        wait_for("the snapshot", 10, || {
            r.cli(&["GET", "before"]).trim() == "1"
        });
    }
    assert_eq!(acli(m.port, &["SET", "after", "2"]).trim(), "OK");
    for r in [&r1, &r2] {
        wait_for("the stream", 10, || r.cli(&["GET", "after"]).trim() == "2");
    }
    let conn = field(&acli(m.port, &["INFO", "replication"]), "connected_slaves");
    assert_eq!(conn.as_deref(), Some("2"));
}

#[test]
fn wrong_masterauth_is_logged_and_retried_slowly() {
    // Guards the refused AUTH: Redis' log line, link down, one attempt a second (no spin),
    // and CONFIG SET masterauth taking effect on the next connection.
    let m = password_master();
    let mp = m.port.to_string();
    let r = Server::start(&["--replicaof", "127.0.0.1", &mp, "--masterauth", "wrong"]);
    let line = "Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is \
                disabled.";
    let count = || r.log_text().matches(line).count();
    wait_for("the AUTH error in the log", 10, || count() >= 1);
    let before = count();
    std::thread::sleep(Duration::from_millis(2500));
    let during = count() - before;
    assert!((1..=4).contains(&during), "{during} attempts in 2.5 s");
    assert_eq!(link_status(r.port).as_deref(), Some("down"));
    assert_eq!(r.cli(&["CONFIG", "SET", "masterauth", PASS]).trim(), "OK");
    wait_for("the link up", 30, || {
        link_status(r.port).as_deref() == Some("up")
    });
}

/// A cluster node with requirepass and masterauth.
fn cluster_node() -> Server {
    Server::start(&[
        "--cluster-enabled",
        "yes",
        "--cluster-node-timeout",
        "3000",
        "--requirepass",
        PASS,
        "--masterauth",
        PASS,
    ])
}

fn dbsize(port: u16) -> usize {
    acli(port, &["DBSIZE"]).trim().parse().unwrap_or(usize::MAX)
}

#[test]
fn cluster_replica_authenticates_and_fails_over() {
    // Guards masterauth on cluster replicas: the replica syncs from a password master, and
    // after a manual failover the old master syncs from the new one the same way.
    let a = cluster_node();
    let b = cluster_node();
    assert_eq!(
        acli(a.port, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).trim(),
        "OK"
    );
    let ap = a.port.to_string();
    let a_id = acli(a.port, &["CLUSTER", "MYID"]).trim().to_string();
    let b_id = acli(b.port, &["CLUSTER", "MYID"]).trim().to_string();
    let mut meets = 0;
    wait_for("b to know a", 30, || {
        // The MEET is repeated now and then: a busy machine may drop the first handshake.
        if meets % 100 == 0 {
            assert_eq!(
                acli(b.port, &["CLUSTER", "MEET", "127.0.0.1", &ap]).trim(),
                "OK"
            );
        }
        meets += 1;
        acli(b.port, &["CLUSTER", "NODES"]).contains(&a_id)
    });
    wait_for("b to replicate a", 20, || {
        acli(b.port, &["CLUSTER", "REPLICATE", &a_id]).trim() == "OK"
    });
    wait_for("b's link up", 30, || {
        link_status(b.port).as_deref() == Some("up")
    });
    for i in 0..20 {
        let k = format!("k{i}");
        assert_eq!(acli(a.port, &["-c", "SET", &k, "v"]).trim(), "OK");
    }
    wait_for("b to hold the keys", 10, || dbsize(b.port) == 20);
    // A manual failover needs the master to know b as its replica (gossip), as in Redis.
    wait_for("a to see b as its replica", 20, || {
        acli(a.port, &["CLUSTER", "NODES"])
            .lines()
            .any(|l| l.starts_with(&b_id) && l.contains("slave") && l.contains(&a_id))
    });
    let mut polls = 0;
    wait_for("b promoted", 40, || {
        // Asked again after Redis' 5 s manual failover timeout, should one time out.
        if polls % 120 == 0 {
            assert_eq!(acli(b.port, &["CLUSTER", "FAILOVER"]).trim(), "OK");
        }
        polls += 1;
        acli(b.port, &["ROLE"]).lines().next() == Some("master")
    });
    wait_for("a's link to b up", 30, || {
        link_status(a.port).as_deref() == Some("up")
    });
    assert_eq!(acli(b.port, &["-c", "SET", "after", "v"]).trim(), "OK");
    wait_for("a to follow b", 10, || dbsize(a.port) == 21);
}

/// The reply of `cmd` on a raw connection (one write, one read window).
fn raw_reply(port: u16, send: &[u8], want: usize) -> String {
    let mut r = crate::common::Raw::connect(port);
    r.send(send);
    String::from_utf8_lossy(&r.read_n(want)).into_owned()
}

#[test]
fn min_replicas_to_write_matches_redis() {
    // Guards NOREPLICAS side by side with redis-server: writes refused, reads served,
    // MULTI refused at queue time and at EXEC, INFO's good-replica count.
    let Some(redis) = RedisServer::start("minrepl") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let s = Server::start(&[]);
    for port in [redis.port, s.port] {
        let set = |k: &str, v: &str| cli(port, &["CONFIG", "SET", k, v]);
        assert_eq!(set("min-replicas-to-write", "1").trim(), "OK");
        let info = cli(port, &["INFO", "replication"]);
        assert_eq!(field(&info, "min_slaves_good_slaves").as_deref(), Some("0"));
        let set_k = cli(port, &["SET", "k", "v"]);
        assert_eq!(
            set_k.trim(),
            "NOREPLICAS Not enough good replicas to write."
        );
        assert_eq!(cli(port, &["GET", "k"]).trim(), "");
        let range = "ERR CONFIG SET failed (possibly related to argument \
                     'min-replicas-to-write') - argument must be between 0 and 2147483647 \
                     inclusive";
        assert_eq!(set("min-replicas-to-write", "-1").trim(), range);
        // A zero max-lag switches the guard off, as in Redis.
        assert_eq!(set("min-replicas-max-lag", "0").trim(), "OK");
        assert_eq!(cli(port, &["SET", "k", "v"]).trim(), "OK");
        let info = cli(port, &["INFO", "replication"]);
        assert_eq!(field(&info, "min_slaves_good_slaves"), None);
        assert_eq!(set("min-replicas-max-lag", "10").trim(), "OK");
    }
    let multi = b"MULTI\r\nSET a 1\r\nGET a\r\nEXEC\r\n";
    let want = "+OK\r\n-NOREPLICAS Not enough good replicas to write.\r\n+QUEUED\r\n\
                -EXECABORT Transaction discarded because of previous errors.\r\n";
    for port in [redis.port, s.port] {
        assert_eq!(raw_reply(port, multi, want.len()), want);
    }
    // Queued while allowed, refused at EXEC.
    for port in [redis.port, s.port] {
        assert_eq!(
            cli(port, &["CONFIG", "SET", "min-replicas-to-write", "0"]).trim(),
            "OK"
        );
        let mut r = crate::common::Raw::connect(port);
        r.roundtrip(b"MULTI\r\nSET a 1\r\n", b"+OK\r\n+QUEUED\r\n");
        assert_eq!(
            cli(port, &["CONFIG", "SET", "min-replicas-to-write", "1"]).trim(),
            "OK"
        );
        r.roundtrip(
            b"EXEC\r\nGET a\r\n",
            b"-EXECABORT Transaction discarded because of: NOREPLICAS Not enough good \
              replicas to write.\r\n$-1\r\n",
        );
    }
}

#[test]
fn min_replicas_counts_replicas_and_their_lag() {
    // Guards the good-replica count side by side with redis-server: a replica lifts the
    // refusal, a replica stopped beyond max-lag brings it back, CONFIG SET applies at once.
    let Some(redis) = RedisServer::start("minlag") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let m = Server::start(&[]);
    let nore = "NOREPLICAS Not enough good replicas to write.";
    let masters = [redis.port, m.port];
    for port in masters {
        assert_eq!(
            cli(port, &["CONFIG", "SET", "min-replicas-max-lag", "2"]).trim(),
            "OK"
        );
        assert_eq!(
            cli(port, &["CONFIG", "SET", "min-replicas-to-write", "1"]).trim(),
            "OK"
        );
        assert_eq!(cli(port, &["SET", "k", "v"]).trim(), nore);
    }
    let rp = redis.port.to_string();
    let redis_replica =
        RedisServer::start_with("minlag-r", &["--replicaof", "127.0.0.1", &rp]).expect("replica");
    let mp = m.port.to_string();
    let r = Server::start(&["--replicaof", "127.0.0.1", &mp]);
    for (port, replica_pid) in [(redis.port, redis_replica.pid()), (m.port, r.pid())] {
        let set = || cli(port, &["SET", "k", "v"]);
        wait_for("a good replica", 30, || set().trim() == "OK");
        let info = cli(port, &["INFO", "replication"]);
        assert_eq!(field(&info, "min_slaves_good_slaves").as_deref(), Some("1"));
        assert_eq!(
            cli(port, &["CONFIG", "SET", "min-replicas-to-write", "2"]).trim(),
            "OK"
        );
        assert_eq!(set().trim(), nore);
        assert_eq!(
            cli(port, &["CONFIG", "SET", "min-slaves-to-write", "1"]).trim(),
            "OK"
        );
        assert_eq!(set().trim(), "OK");
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(replica_pid as i32, libc::SIGSTOP) };
        wait_for("the stopped replica to age out", 10, || {
            set().trim() == nore
        });
        let info = cli(port, &["INFO", "replication"]);
        assert_eq!(field(&info, "min_slaves_good_slaves").as_deref(), Some("0"));
        assert_eq!(cli(port, &["GET", "k"]).trim(), "v");
        // SAFETY: as above.
        unsafe { libc::kill(replica_pid as i32, libc::SIGCONT) };
        wait_for("the replica back", 20, || set().trim() == "OK");
    }
}

#[test]
fn psync_behind_pending_replies_is_refused_like_redis() {
    // Guards the pending-output rule: a PSYNC pipelined behind PING answers the error after
    // PONG instead of starting a stream ahead of it; the connection stays usable.
    let Some(redis) = RedisServer::start("psync") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let s = Server::start(&["--server-threads", "2"]);
    let want = "+PONG\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n+PONG\r\n";
    for port in [redis.port, s.port] {
        let got = raw_reply(port, b"PING\r\nPSYNC ? -1\r\nPING\r\n", want.len());
        assert_eq!(got, want, "port {port}");
        let want = "+PONG\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n";
        assert_eq!(raw_reply(port, b"PING\r\nSYNC\r\n", want.len()), want);
    }
    // Behind a reply that comes from another shard: connections are handed to the two
    // shards in turn, so of two consecutive connections sending the same GET, one is answered
    // remotely while its PSYNC is parsed.
    let want = "$-1\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n";
    for key in ["a", "b", "c"] {
        for _ in 0..2 {
            let send = format!("GET {key}\r\nPSYNC ? -1\r\n");
            assert_eq!(
                raw_reply(s.port, send.as_bytes(), want.len()),
                want,
                "{key}"
            );
        }
    }
    // Behind a reply the kernel has not taken yet: a client that reads nothing while an 8 MB
    // GET reply is on its way, then sends PSYNC. Redis still holds part of the reply.
    let big = "x".repeat(8 << 20);
    let head = format!("${}\r\n", big.len());
    let err = "-ERR SYNC and PSYNC are invalid with pending output\r\n";
    for (port, mut c) in [(redis.port, redis.client()), (s.port, s.client())] {
        let _: () = redis::cmd("SET")
            .arg("big")
            .arg(&big)
            .query(&mut c)
            .expect("SET");
        let mut r = slow_reader(port);
        r.send(b"GET big\r\n");
        std::thread::sleep(Duration::from_millis(300));
        r.send(b"PSYNC ? -1\r\n");
        std::thread::sleep(Duration::from_millis(300));
        let got = r.read_n(head.len() + big.len() + 2 + err.len());
        assert!(got.starts_with(head.as_bytes()), "port {port}");
        let tail = String::from_utf8_lossy(&got[got.len().saturating_sub(80)..]).into_owned();
        assert!(
            tail.ends_with(&format!("x\r\n{err}")),
            "port {port}: {tail:?}"
        );
        assert_eq!(
            got.len(),
            head.len() + big.len() + 2 + err.len(),
            "port {port}"
        );
        r.roundtrip(b"PING\r\n", b"+PONG\r\n");
    }
}

/// A raw connection with a small receive buffer, so a large reply stays partly unsent.
fn slow_reader(port: u16) -> crate::common::Raw {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    sock.set_recv_buffer_size(64 * 1024).expect("SO_RCVBUF");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    sock.connect(&addr.into()).expect("connect");
    let s: std::net::TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.set_nodelay(true).expect("nodelay");
    crate::common::Raw { s }
}

#[test]
fn cluster_replica_with_min_replicas_keeps_applying() {
    // Guards the apply path: a cluster replica with min-replicas-to-write set (it has no
    // replicas of its own) applies every write of its master, including a blocked pop that
    // a later push wakes up.
    let node = || {
        Server::start(&[
            "--cluster-enabled",
            "yes",
            "--cluster-node-timeout",
            "3000",
            "--min-replicas-to-write",
            "1",
            "--server-threads",
            "2",
        ])
    };
    let (a, b) = (node(), node());
    let nore = "NOREPLICAS Not enough good replicas to write.";
    assert_eq!(
        cli(a.port, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).trim(),
        "OK"
    );
    let a_id = cli(a.port, &["CLUSTER", "MYID"]).trim().to_string();
    wait_for("a to serve its slots", 20, || {
        cli(a.port, &["SET", "probe", "0"]).trim() == nore
    });
    let ap = a.port.to_string();
    let mut meets = 0;
    wait_for("b to know a", 30, || {
        if meets % 100 == 0 {
            assert_eq!(
                cli(b.port, &["CLUSTER", "MEET", "127.0.0.1", &ap]).trim(),
                "OK"
            );
        }
        meets += 1;
        cli(b.port, &["CLUSTER", "NODES"]).contains(&a_id)
    });
    wait_for("b to replicate a", 20, || {
        cli(b.port, &["CLUSTER", "REPLICATE", &a_id]).trim() == "OK"
    });
    wait_for("a good replica on a", 30, || {
        cli(a.port, &["SET", "probe", "1"]).trim() == "OK"
    });
    let mut c = a.client();
    for i in 0..40 {
        let r: String = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(format!("v{i}"))
            .query(&mut c)
            .expect("SET");
        assert_eq!(r, "OK");
    }
    // A blocked pop on the master resumes when the push arrives; both reach the replica.
    let ap2 = a.port;
    let waiter = std::thread::spawn(move || cli(ap2, &["BLPOP", "q", "10"]));
    wait_for("the pop to block", 10, || {
        cli(a.port, &["CLIENT", "LIST"]).contains("cmd=blpop")
    });
    std::thread::sleep(Duration::from_millis(100));
    let pushed: i64 = redis::cmd("RPUSH")
        .arg("q")
        .arg("x")
        .arg("y")
        .query(&mut c)
        .expect("RPUSH");
    assert_eq!(pushed, 2);
    let popped = waiter.join().expect("BLPOP thread");
    assert_eq!(popped.split_whitespace().collect::<Vec<_>>(), ["q", "x"]);
    wait_for("b to hold every key", 20, || {
        cli(b.port, &["DBSIZE"]).trim() == "42"
    });
    assert_eq!(cli(a.port, &["DBSIZE"]).trim(), "42");
    let mut r = b.client();
    let _: () = redis::cmd("READONLY").query(&mut r).expect("READONLY");
    for i in 0..40 {
        let v: String = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query(&mut r)
            .expect("GET on the replica");
        assert_eq!(v, format!("v{i}"));
    }
    let rest: Vec<String> = redis::cmd("LRANGE")
        .arg("q")
        .arg(0)
        .arg(-1)
        .query(&mut r)
        .expect("LRANGE on the replica");
    assert_eq!(rest, ["y"]);
}
