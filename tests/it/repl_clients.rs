//! A replica's connection on its master is a replica client, as in Redis 7.0: flag `S`,
//! `CLIENT LIST TYPE replica|slave`, spared by `CLIENT KILL TYPE normal`, closed by
//! `CLIENT KILL TYPE replica`, and not counted in `connected_clients`.

use crate::common::{cli, RedisServer, Server};
use std::time::{Duration, Instant};

/// The lines of `CLIENT LIST TYPE <t>` on `port`.
fn listed(port: u16, t: &str) -> Vec<String> {
    cli(port, &["CLIENT", "LIST", "TYPE", t])
        .lines()
        .filter(|l| l.starts_with("id="))
        .map(str::to_string)
        .collect()
}

/// The `id=N` fields of `CLIENT LIST TYPE <t>` (the other fields change between calls).
fn listed_ids(port: u16, t: &str) -> Vec<String> {
    listed(port, t)
        .iter()
        .filter_map(|l| l.split(' ').next().map(str::to_string))
        .collect()
}

/// The one replica line on `port`'s list, waiting (bounded) for a different id than `not`.
fn replica_line(port: u16, not: Option<&str>) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let lines = listed(port, "replica");
        if let [one] = lines.as_slice() {
            if not.is_none_or(|n| !one.starts_with(n)) {
                return one.clone();
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("port {port}: no replica client");
}

fn field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_string())
}

#[test]
fn replica_clients_are_typed_and_killed_like_redis() {
    // Guards that a replica is never a normal client: KILL TYPE normal used to drop replicas.
    let Some(redis) = RedisServer::start_with("rc-m", &["--repl-diskless-sync-delay", "0"]) else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let rp = redis.port.to_string();
    let _redis_replica =
        RedisServer::start_with("rc-r", &["--replicaof", "127.0.0.1", &rp]).expect("replica");
    let m = Server::start(&[]);
    let mp = m.port.to_string();
    let _r = Server::start(&["--replicaof", "127.0.0.1", &mp]);
    for port in [redis.port, m.port] {
        let line = replica_line(port, None);
        assert!(line.contains(" flags=S db=0 "), "port {port}: {line}");
        let id = line.split(' ').next().unwrap_or_default().to_string();
        assert_eq!(listed_ids(port, "slave"), [id.as_str()], "port {port}");
        assert!(listed(port, "normal")
            .iter()
            .all(|l| !l.contains(" flags=S ")));
        let clients = cli(port, &["INFO", "clients"]);
        assert_eq!(field(&clients, "connected_clients").as_deref(), Some("1"));
        // Only the asking client is normal, and SKIPME spares it.
        let killed = cli(port, &["CLIENT", "KILL", "TYPE", "normal"]);
        assert_eq!(killed.trim(), "0", "port {port}");
        assert_eq!(listed_ids(port, "replica"), [id.as_str()], "port {port}");
        let repl = cli(port, &["INFO", "replication"]);
        assert_eq!(field(&repl, "connected_slaves").as_deref(), Some("1"));
        let killed = cli(port, &["CLIENT", "KILL", "TYPE", "replica"]);
        assert_eq!(killed.trim(), "1", "port {port}");
        // The replica reconnects as a new client.
        let again = replica_line(port, Some(&format!("{id} ")));
        assert!(again.contains(" flags=S "), "port {port}: {again}");
    }
}
