//! Replica behaviour Sentinel and operators rely on, side by side with redis-server 7.0:
//! `replica-serve-stale-data no` answers -MASTERDOWN to commands without the `stale` flag
//! while the link to the master is down, and serves again once it is up.

use crate::common::{cli, free_port, RedisServer, Server};
use std::time::{Duration, Instant};

/// Commands with and without the `stale` flag, reads and writes.
const PROBES: &[&[&str]] = &[
    &["GET", "k"],
    &["SET", "k", "v"],
    &["PING"],
    &["ECHO", "a"],
    &["DBSIZE"],
    &["CONFIG", "GET", "replica-serve-stale-data"],
    &["ROLE"],
    &["SELECT", "1"],
    &["EXISTS", "k"],
];

/// ROLE's first lines (role, master host, port), without the changing state and offset.
fn role_head(s: &str) -> String {
    s.lines().take(3).collect::<Vec<_>>().join("\n")
}

fn answers(port: u16) -> Vec<String> {
    PROBES
        .iter()
        .map(|c| match c[0] {
            "ROLE" => role_head(&cli(port, c)),
            _ => cli(port, c).trim().to_string(),
        })
        .collect()
}

#[test]
fn stale_data_no_answers_masterdown_as_redis() {
    let dead = free_port().to_string();
    // PING itself answers -MASTERDOWN, so the option is set once the servers are up.
    let args = ["--replicaof", "127.0.0.1", &dead];
    let slotd = Server::start(&args);
    let Some(redis) = RedisServer::start_with("stale", &args) else {
        eprintln!("redis-server not available: skipped");
        return;
    };
    let no = ["CONFIG", "SET", "replica-serve-stale-data", "no"];
    assert_eq!(slotd.cli(&no).trim(), "OK");
    assert_eq!(cli(redis.port, &no).trim(), "OK");
    let (s, r) = (answers(slotd.port), answers(redis.port));
    assert_eq!(s, r);
    assert!(s[0].starts_with("MASTERDOWN"), "{s:?}");

    // CONFIG SET yes serves stale data again at once, on both.
    let set = ["CONFIG", "SET", "replica-serve-stale-data", "yes"];
    assert_eq!(slotd.cli(&set).trim(), "OK");
    assert_eq!(cli(redis.port, &set).trim(), "OK");
    assert_eq!(answers(slotd.port), answers(redis.port));
    assert_eq!(slotd.cli(&["GET", "k"]).trim(), "");

    // Back to no, then the link comes up: a connected replica serves.
    assert_eq!(slotd.cli(&no).trim(), "OK");
    assert!(slotd.cli(&["GET", "k"]).starts_with("MASTERDOWN"));
    let master = Server::start(&[]);
    assert_eq!(master.cli(&["SET", "k", "1"]).trim(), "OK");
    let port = master.port.to_string();
    assert_eq!(slotd.cli(&["REPLICAOF", "127.0.0.1", &port]).trim(), "OK");
    let deadline = Instant::now() + Duration::from_secs(20);
    while slotd.cli(&["GET", "k"]).trim() != "1" {
        assert!(
            Instant::now() < deadline,
            "the replica never served after its sync"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The master gone: MASTERDOWN again once the replica notices.
    drop(master);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !slotd.cli(&["GET", "k"]).starts_with("MASTERDOWN") {
        assert!(
            Instant::now() < deadline,
            "no MASTERDOWN after the master stopped"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `slave0:` line of a master's INFO replication up to its state field.
fn first_replica(port: u16) -> Option<String> {
    let info = cli(port, &["INFO", "replication"]);
    let line = info.lines().find(|l| l.starts_with("slave0:"))?;
    Some(line.split(",state=").next().unwrap_or("").to_string())
}

fn wait_first_replica(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(line) = first_replica(port) {
            return line;
        }
        assert!(Instant::now() < deadline, "no replica listed by the master");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn replica_announce_ip_and_port_show_on_the_master_as_redis() {
    let announce = [
        "--replica-announce-ip",
        "10.1.2.3",
        "--replica-announce-port",
        "4321",
    ];
    let master = Server::start(&[]);
    let mport = master.port.to_string();
    let replica_args = [&["--replicaof", "127.0.0.1", &mport][..], &announce[..]].concat();
    let _replica = Server::start(&replica_args);
    let slotd_line = wait_first_replica(master.port);
    assert_eq!(slotd_line, "slave0:ip=10.1.2.3,port=4321");
    // ROLE lists the same address once the replica is online.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !master.cli(&["ROLE"]).contains("10.1.2.3\n4321\n") {
        assert!(Instant::now() < deadline, "{}", master.cli(&["ROLE"]));
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(rmaster) = RedisServer::start("announce-m") else {
        return;
    };
    let rport = rmaster.port.to_string();
    let args = [&["--replicaof", "127.0.0.1", &rport][..], &announce[..]].concat();
    let Some(_rreplica) = RedisServer::start_with("announce-r", &args) else {
        return;
    };
    assert_eq!(wait_first_replica(rmaster.port), slotd_line);
}
