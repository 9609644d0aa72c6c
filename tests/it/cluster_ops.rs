//! Cluster behaviours operators and Redis' own tooling rely on, each shown with a real
//! multi-node cluster of slotd processes: the `nofailover` flag gossiped to every node, CLUSTER
//! SLOTS and SHARDS identical on every node (hostnames too), two bus links per peer,
//! `cluster-allow-replica-migration`, blocking reads on a replica and DEBUG
//! DROP-CLUSTER-PACKET-FILTER (replies compared with redis-server 7.0).

use crate::cluster::{cluster_cli, info_field, nodes_lines, Cluster};
use crate::common::{cli, RedisServer, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Polls `f` every 100 ms until it holds; panics with `what()` after `secs`.
fn wait_until(secs: u64, mut f: impl FnMut() -> bool, what: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out: {}", what());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// CLUSTER SHARDS as redis-cli prints it, without the replication offsets (each node knows
/// the others' from their last bus header, as in Redis).
fn shards_text(port: u16) -> String {
    let text = cli(port, &["cluster", "shards"]);
    let mut out = Vec::new();
    let mut skip = false;
    for l in text.lines() {
        if !skip {
            out.push(l);
        }
        skip = l == "replication-offset";
    }
    out.join("\n")
}

/// (peer id, direction) of every link in `port`'s CLUSTER LINKS.
fn links(port: u16) -> Vec<(String, String)> {
    let text = cli(port, &["cluster", "links"]);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let (mut dir, mut node) = (None, None);
    for w in lines.windows(2) {
        match w[0] {
            "direction" => dir = Some(w[1].to_string()),
            "node" => node = Some(w[1].to_string()),
            _ => {}
        }
        if let (Some(d), Some(n)) = (&dir, &node) {
            out.push((n.clone(), d.clone()));
            (dir, node) = (None, None);
        }
    }
    out
}

fn myid(port: u16) -> String {
    cli(port, &["cluster", "myid"]).trim().to_string()
}

/// Field `f` (2 flags, 3 master) of node `id`'s line in `port`'s CLUSTER NODES.
fn field_of(port: u16, id: &str, f: usize) -> String {
    nodes_lines(port)
        .into_iter()
        .find(|l| l[0] == *id)
        .map(|l| l[f].clone())
        .unwrap_or_default()
}

fn flags_of(port: u16, id: &str) -> String {
    field_of(port, id, 2)
}

fn master_of(port: u16, id: &str) -> String {
    field_of(port, id, 3)
}

#[test]
fn nofailover_hostnames_slots_shards_and_links_agree_on_every_node() {
    // Three masters and four replicas: one master has two replicas, so replica order shows.
    let c = Cluster::create(7, 1, &[]);
    let ports = c.ports();
    for &p in &ports {
        let host = format!("host-{p}.example");
        assert_eq!(
            cli(p, &["config", "set", "cluster-announce-hostname", &host]).trim(),
            "OK"
        );
    }
    let replica = nodes_lines(ports[0])
        .into_iter()
        .find(|l| l[2].contains("slave"))
        .expect("a replica");
    let (rid, rport) = (replica[0].clone(), crate::cluster::line_port(&replica));
    assert_eq!(
        cli(
            rport,
            &["config", "set", "cluster-replica-no-failover", "yes"]
        )
        .trim(),
        "OK"
    );
    // The flag is ours at once (within a cron run) and reaches every node with our pings.
    wait_until(
        20,
        || {
            ports.iter().all(|&p| {
                flags_of(p, &rid).ends_with(",nofailover")
                    && cli(p, &["cluster", "nodes"]).matches(".example ").count() == 7
            })
        },
        || cli(ports[0], &["cluster", "nodes"]),
    );
    assert_eq!(flags_of(rport, &rid), "myself,slave,nofailover");
    // Once every node knows every hostname and role, SLOTS and SHARDS read the same
    // everywhere (replicas in one order, the same endpoints and hostnames).
    // (A replica appears in SLOTS once its replication offset reached every node.)
    let view = |p: u16| (cli(p, &["cluster", "slots"]), shards_text(p));
    wait_until(
        30,
        || {
            let first = view(ports[0]);
            first.0.matches("hostname\n").count() == 7 && ports.iter().all(|&p| view(p) == first)
        },
        || {
            let v: Vec<String> = ports
                .iter()
                .map(|&p| format!("{p}:\n{}", view(p).1))
                .collect();
            v.join("\n")
        },
    );
    let (slots, shards) = view(ports[0]);
    assert_eq!(slots.matches("hostname\n").count(), 7, "{slots}");
    assert_eq!(shards.matches("\nrole\nreplica").count(), 4, "{shards}");
    assert_eq!(shards.matches("\nhealth\nonline").count(), 7, "{shards}");
    // Exactly two bus links per peer: the one we opened and the one it opened.
    for &p in &ports {
        let mut l = links(p);
        l.sort();
        assert_eq!(l.len(), 12, "{p}: {l:?}");
        for pair in l.chunks(2) {
            assert_eq!(pair[0].0, pair[1].0, "{p}: {l:?}");
            assert_eq!((pair[0].1.as_str(), pair[1].1.as_str()), ("from", "to"));
        }
    }
    // Turned off, the flag leaves every node's view.
    assert_eq!(
        cli(
            rport,
            &["config", "set", "cluster-replica-no-failover", "no"]
        )
        .trim(),
        "OK"
    );
    wait_until(
        20,
        || {
            ports
                .iter()
                .all(|&p| !flags_of(p, &rid).contains("nofailover"))
        },
        || cli(ports[0], &["cluster", "nodes"]),
    );
}

/// Masters A (slots 0-9, replica A1) and B (the rest); returns (A, B, A1).
fn small_shard_cluster(extra: &[&str]) -> Cluster {
    let c = Cluster::start(3, extra);
    let (a, b, a1) = (c.nodes[0].port, c.nodes[1].port, c.nodes[2].port);
    assert_eq!(cli(a, &["cluster", "addslotsrange", "0", "9"]).trim(), "OK");
    assert_eq!(
        cli(b, &["cluster", "addslotsrange", "10", "16383"]).trim(),
        "OK"
    );
    for p in [b, a1] {
        let ps = p.to_string();
        assert_eq!(cli(a, &["cluster", "meet", "127.0.0.1", &ps]).trim(), "OK");
    }
    crate::cluster::attach_replica(&c.nodes[0], &c.nodes[2]);
    c.wait_ok(Duration::from_secs(30));
    c.wait_roles(1, Duration::from_secs(30));
    c
}

/// Moves A's ten slots to B with `redis-cli --cluster reshard`.
fn empty_a(c: &Cluster) {
    let (a, b) = (c.nodes[0].port, c.nodes[1].port);
    let (ida, idb) = (myid(a), myid(b));
    let at = format!("127.0.0.1:{b}");
    let (ok, out) = cluster_cli(&[
        "reshard",
        &at,
        "--cluster-from",
        &ida,
        "--cluster-to",
        &idb,
        "--cluster-slots",
        "10",
    ]);
    assert!(ok, "{out}");
}

#[test]
fn allow_replica_migration_yes_moves_an_emptied_shard_to_the_new_owner() {
    let c = small_shard_cluster(&[]);
    let ports = c.ports();
    let (a, b, a1) = (ports[0], ports[1], ports[2]);
    let (ida, idb, ida1) = (myid(a), myid(b), myid(a1));
    empty_a(&c);
    // As Redis: the master left without slots becomes a replica of the node that took its
    // last slot, and its replica follows.
    wait_until(
        20,
        || {
            ports
                .iter()
                .all(|&p| master_of(p, &ida) == idb && master_of(p, &ida1) == idb)
        },
        || cli(b, &["cluster", "nodes"]),
    );
    assert!(cli(a1, &["role"]).contains(&b.to_string()));
}

#[test]
fn allow_replica_migration_no_keeps_an_emptied_masters_replica() {
    let c = small_shard_cluster(&["--cluster-allow-replica-migration", "no"]);
    let ports = c.ports();
    let (a, b, a1) = (ports[0], ports[1], ports[2]);
    let (ida, ida1) = (myid(a), myid(a1));
    empty_a(&c);
    wait_until(
        20,
        || {
            ports.iter().all(|&p| {
                nodes_lines(p)
                    .iter()
                    .any(|l| l[0] == myid(b) && l.get(8).map(String::as_str) == Some("0-16383"))
            })
        },
        || cli(a, &["cluster", "nodes"]),
    );
    // Every node has seen B's claim; give gossip a few more rounds to (wrongly) move anyone.
    std::thread::sleep(Duration::from_millis(1500));
    for &p in &ports {
        assert_eq!(master_of(p, &ida), "-", "{p}: A stays a master");
        assert!(flags_of(p, &ida).contains("master"));
        assert_eq!(master_of(p, &ida1), ida, "{p}: A1 stays A's replica");
    }
    assert!(cli(a1, &["role"]).contains(&a.to_string()));
}

/// Sends `req` on a fresh connection after READONLY and returns the stream (the reply to
/// READONLY read).
fn readonly_conn(port: u16, req: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(b"READONLY\r\n").expect("write");
    let mut ok = [0u8; 5];
    s.read_exact(&mut ok).expect("+OK");
    assert_eq!(&ok, b"+OK\r\n");
    s.write_all(req).expect("write");
    s
}

#[test]
fn blocking_read_waits_on_a_replica_and_wakes_on_the_replicated_write() {
    let c = small_shard_cluster(&[]);
    let (a, a1) = (c.nodes[0].port, c.nodes[2].port);
    // Keys of A's slots 0-9: "{k596}" hashes to slot 0.
    let key = "{k596}".to_string();
    assert_eq!(cli(a, &["cluster", "keyslot", &key]).trim(), "0");
    // XREAD is a read: with READONLY the replica serves it and blocks.
    let mut s = readonly_conn(
        a1,
        format!("XREAD BLOCK 20000 STREAMS {key} $\r\n").as_bytes(),
    );
    std::thread::sleep(Duration::from_millis(300));
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 512];
    assert!(s.read(&mut buf).is_err(), "XREAD answered before any write");
    assert!(!cli(a, &["xadd", &key, "1-1", "f", "v"]).contains("ERR"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"$1\r\nv\r\n") {
        let n = s.read(&mut buf).expect("XREAD woke");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        format!(
            "*1\r\n*2\r\n${}\r\n{key}\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
            key.len()
        )
    );
    // BLPOP writes (it pops): as in Redis, a replica redirects it even after READONLY.
    let mut s = readonly_conn(a1, format!("BLPOP {key}l 1\r\n").as_bytes());
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = s.read(&mut buf).expect("reply");
    let slot = cli(a, &["cluster", "keyslot", &format!("{key}l")]);
    assert_eq!(
        String::from_utf8_lossy(&buf[..n]),
        format!("-MOVED {} 127.0.0.1:{a}\r\n", slot.trim())
    );
}

#[test]
fn debug_drop_cluster_packet_filter_drops_that_type_like_redis() {
    let Some(r) = RedisServer::start_with("g-drop", &["--enable-debug-command", "yes"]) else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let cases: &[&[&str]] = &[
        &["debug", "drop-cluster-packet-filter", "1"],
        &["debug", "drop-cluster-packet-filter", "-1"],
        &["debug", "drop-cluster-packet-filter", "x"],
        &["debug", "drop-cluster-packet-filter"],
        &["debug", "drop-cluster-packet-filter", "1", "2"],
    ];
    for args in cases {
        assert_eq!(cli(s.port, args), cli(r.port, args), "{args:?}");
    }
    // In a cluster: a node dropping MEET (type 2) never joins; with the filter off it does.
    let c = Cluster::start(2, &["--enable-debug-command", "yes"]);
    let (x, y) = (c.nodes[0].port, c.nodes[1].port);
    let drop = |t: &str| cli(y, &["debug", "drop-cluster-packet-filter", t]);
    assert_eq!(drop("2").trim(), "OK");
    let ys = y.to_string();
    assert_eq!(cli(x, &["cluster", "meet", "127.0.0.1", &ys]).trim(), "OK");
    let info = |p: u16, f: &str| info_field(&cli(p, &["cluster", "info"]), f);
    wait_until(
        10,
        || !info(y, "cluster_stats_messages_meet_received").is_empty(),
        || cli(y, &["cluster", "info"]),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(info(y, "cluster_known_nodes"), "1", "Y dropped every MEET");
    assert_eq!(drop("-1").trim(), "OK");
    // X's handshake from the dropped MEET times out (node timeout); a new MEET then joins.
    wait_until(
        20,
        || {
            if !cli(x, &["cluster", "nodes"]).contains("handshake") {
                cli(x, &["cluster", "meet", "127.0.0.1", &ys]);
            }
            info(x, "cluster_known_nodes") == "2"
                && info(y, "cluster_known_nodes") == "2"
                && !cli(x, &["cluster", "nodes"]).contains("handshake")
        },
        || cli(x, &["cluster", "nodes"]),
    );
}
