//! Cluster mode on one node: slots assigned with CLUSTER commands, redis-cli -c and the redis
//! crate's cluster client, nodes.conf kept across restarts, CLUSTERDOWN and CROSSSLOT.

use crate::common::{cli, Server};

fn node(extra: &[&str]) -> Server {
    let mut args = vec![
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn info_field(s: &Server, field: &str) -> String {
    let info = s.cli(&["cluster", "info"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

#[test]
fn single_node_serves_all_slots_with_redis_cli() {
    // Guards the quick path a user takes: one node, all slots, redis-cli -c.
    let s = node(&[]);
    assert_eq!(info_field(&s, "cluster_state"), "fail");
    assert_eq!(
        s.cli(&["cluster", "addslotsrange", "0", "16383"]).trim(),
        "OK"
    );
    assert_eq!(info_field(&s, "cluster_state"), "ok");
    assert_eq!(info_field(&s, "cluster_slots_assigned"), "16384");
    let p = s.port.to_string();
    let out = cli(s.port, &["-c", "set", "foo", "bar"]);
    assert_eq!(out.trim(), "OK");
    assert_eq!(cli(s.port, &["-c", "get", "foo"]).trim(), "bar");
    let nodes = s.cli(&["cluster", "nodes"]);
    let fields: Vec<&str> = nodes.split_whitespace().collect();
    assert_eq!(fields[0].len(), 40, "{nodes}");
    assert!(
        fields[1].ends_with(&format!(":{p}@{}", s.port + 10000)),
        "{nodes}"
    );
    assert_eq!(fields[2], "myself,master");
    assert_eq!(fields.last().copied(), Some("0-16383"));
    let err = s.cli(&["mset", "a", "1", "b", "2"]);
    assert!(err.contains("CROSSSLOT"), "{err}");
}

#[test]
fn unbound_slot_is_clusterdown_and_restart_keeps_config() {
    // Guards nodes.conf persistence and the unbound-slot error.
    let mut s = node(&[]);
    let id = s.cli(&["cluster", "myid"]).trim().to_string();
    assert_eq!(
        s.cli(&["cluster", "addslotsrange", "0", "8000"]).trim(),
        "OK"
    );
    // "foo" is in slot 12182, not served.
    let e = s.cli(&["get", "foo"]);
    assert!(e.contains("CLUSTERDOWN Hash slot not served"), "{e}");
    let (port, dir) = (s.port, s.dir.clone());
    assert_eq!(s.stop(), Some(0));
    let s2 = Server::start_in(
        port,
        dir,
        &[
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ],
    )
    .unwrap();
    assert_eq!(s2.cli(&["cluster", "myid"]).trim(), id);
    assert_eq!(info_field(&s2, "cluster_slots_assigned"), "8001");
    std::mem::forget(s); // its process is gone; s2 cleans the directory
}

#[test]
fn cluster_client_reads_and_writes_through_a_multi_shard_node() {
    // Guards routing with several shards in cluster mode, driven by the redis crate's
    // cluster client.
    let s = node(&["--server-threads", "3"]);
    assert_eq!(
        s.cli(&["cluster", "addslotsrange", "0", "16383"]).trim(),
        "OK"
    );
    let client =
        redis::cluster::ClusterClient::new(vec![format!("redis://{}/", s.addr())]).unwrap();
    let mut c = client.get_connection().unwrap();
    for i in 0..2000 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    for i in (0..2000).step_by(7) {
        let v: i64 = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query(&mut c)
            .unwrap();
        assert_eq!(v, i);
    }
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 2000);
    let slot: i64 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg("k1")
        .query(&mut c)
        .unwrap();
    let cnt = s.cli(&["cluster", "countkeysinslot", &slot.to_string()]);
    assert!(cnt.trim().parse::<i64>().unwrap() >= 1);
}

#[test]
fn transactions_are_confined_to_one_slot() {
    // Guards cluster-mode MULTI: keys of another slot are refused at queue time and EXEC then
    // aborts; a one-slot transaction runs, also when its slot lives on another core.
    let s = node(&["--server-threads", "2"]);
    assert_eq!(
        s.cli(&["cluster", "addslotsrange", "0", "16383"]).trim(),
        "OK"
    );
    let mut r = s.raw();
    r.send(b"MULTI\r\nSET {t}a 1\r\nSET other 2\r\nEXEC\r\n");
    let got = r.read_until(b"previous errors.\r\n");
    let text = String::from_utf8_lossy(&got).to_string();
    assert!(text.contains("-CROSSSLOT"), "{text}");
    assert!(
        text.ends_with("-EXECABORT Transaction discarded because of previous errors.\r\n"),
        "{text}"
    );
    r.send(b"MULTI\r\nSET {t}a 1\r\nINCR {t}b\r\nGET {t}a\r\nEXEC\r\n");
    let got = r.read_until(b"$1\r\n1\r\n");
    let text = String::from_utf8_lossy(&got).to_string();
    assert!(text.ends_with("*3\r\n+OK\r\n:1\r\n$1\r\n1\r\n"), "{text}");
}
