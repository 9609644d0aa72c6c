//! Replicas and automatic failover with real processes: the seed's 3 masters + 3 replicas,
//! a master killed (SIGKILL) or frozen (SIGSTOP), its replica promoted, the old master back
//! as a replica of the winner.

use crate::cluster::{info_field, line_port, line_ranges, nodes_lines, Cluster};
use crate::common::cli;
use std::time::{Duration, Instant};

/// (id, port) of the master serving `slot`, as node `port` sees it.
fn master_of_slot(port: u16, slot: u16) -> (String, u16) {
    nodes_lines(port)
        .into_iter()
        .find(|l| serves(l, slot) && l[2].contains("master"))
        .map(|l| (l[0].clone(), line_port(&l)))
        .unwrap_or_else(|| panic!("nobody serves slot {slot} according to {port}"))
}

fn serves(l: &[String], slot: u16) -> bool {
    line_ranges(l).iter().any(|&(a, b)| (a..=b).contains(&slot))
}

/// The replica of `master_id`, as node `port` sees it (roles spread by gossip: waits a bit).
fn replica_of(port: u16, master_id: &str) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let found = nodes_lines(port)
            .into_iter()
            .find(|l| l[2].contains("slave") && l[3] == master_id);
        if let Some(l) = found {
            return line_port(&l);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no replica of {master_id}");
}

/// Waits until every node in `ports` reports cluster_state:ok and `port_new` serves `slot`.
fn wait_promoted(ports: &[u16], slot: u16, new_port: u16, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let done = ports.iter().all(|&p| {
            info_field(&cli(p, &["cluster", "info"]), "cluster_state") == "ok"
                && master_of_slot(p, slot).1 == new_port
        });
        if done {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "no failover within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes `{t}:0..n` on the master serving tag `t` and waits until one replica acked them.
fn write_acked(port: u16, n: usize) {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
    let mut conn = c.get_connection().expect("connect");
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET").arg(format!("{{t}}:{i}")).arg(i).ignore();
    }
    let () = pipe.query(&mut conn).expect("writes");
    let acked: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(10_000)
        .query(&mut conn)
        .expect("wait");
    assert_eq!(acked, 1, "the replica acknowledged the writes");
}

/// Polls `port` (with READONLY: it may be a replica) until `{t}:i` reads `i` for the last key.
fn wait_data(port: u16, n: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    let last = format!("{{t}}:{}", n - 1);
    loop {
        let out = cli(port, &["-c", "get", &last]);
        if out.trim() == (n - 1).to_string() {
            let keys = cli(port, &["dbsize"]).trim().parse::<usize>().unwrap_or(0);
            assert!(keys >= n, "{port} holds {keys} keys");
            return;
        }
        assert!(Instant::now() < deadline, "{port} lacks {last}: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A cluster replica redirects reads and writes to its master, and serves reads once the
/// connection sent READONLY (writes still go to the master).
fn replica_reads_after_readonly(replica_port: u16, slot: u16) {
    let c = redis::Client::open(format!("redis://127.0.0.1:{replica_port}/")).expect("url");
    let mut conn = c.get_connection().expect("connect");
    let moved = redis::cmd("GET").arg("{t}:7").query::<String>(&mut conn);
    let err = moved.expect_err("a replica redirects").to_string();
    assert!(err.contains(&slot.to_string()), "{err}");
    let () = redis::cmd("READONLY").query(&mut conn).expect("readonly");
    let v: String = redis::cmd("GET")
        .arg("{t}:7")
        .query(&mut conn)
        .expect("read");
    assert_eq!(v, "7");
    let w = redis::cmd("SET")
        .arg("{t}:7")
        .arg("x")
        .query::<()>(&mut conn);
    assert!(w.is_err(), "writes stay with the master");
    let () = redis::cmd("READWRITE").query(&mut conn).expect("readwrite");
    let again = redis::cmd("GET").arg("{t}:7").query::<String>(&mut conn);
    assert!(again.is_err(), "READWRITE ends replica reads");
}

fn failover_case(stop_signal: bool) {
    const KEYS: usize = 2000;
    let mut c = Cluster::create(6, 1, &["--appendonly", "yes"]);
    let p0 = c.nodes[0].port;
    let slot: u16 = cli(p0, &["cluster", "keyslot", "{t}"])
        .trim()
        .parse()
        .expect("slot");
    let (master_id, master_port) = master_of_slot(p0, slot);
    let replica_port = replica_of(p0, &master_id);
    write_acked(master_port, KEYS);
    replica_reads_after_readonly(replica_port, slot);
    let idx = c
        .nodes
        .iter()
        .position(|s| s.port == master_port)
        .expect("master");
    let survivors: Vec<u16> = c
        .ports()
        .into_iter()
        .filter(|&p| p != master_port)
        .collect();
    let pid = c.nodes[idx].child.as_ref().expect("child").id() as i32;
    let sig = if stop_signal {
        libc::SIGSTOP
    } else {
        libc::SIGKILL
    };
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, sig) };
    let took = wait_promoted(&survivors, slot, replica_port, Duration::from_secs(30));
    eprintln!(
        "failover ({}) took {took:?}",
        if stop_signal { "SIGSTOP" } else { "SIGKILL" }
    );
    let old = nodes_lines(survivors[0])
        .into_iter()
        .find(|l| l[0] == master_id)
        .expect("old master still known");
    assert!(
        old[2].contains("master") && old[2].contains("fail"),
        "{old:?}"
    );
    // The old master comes back and follows the winner.
    if stop_signal {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    } else {
        c.restart(idx);
    }
    let replica_id = cli(replica_port, &["cluster", "myid"]).trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let me = nodes_lines(master_port)
            .into_iter()
            .find(|l| l[2].contains("myself"))
            .expect("myself");
        if me[2].contains("slave") && me[3] == replica_id {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old master did not follow: {me:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    c.wait_ok(Duration::from_secs(30));
    c.check(survivors[0]);
    // No acknowledged write was lost, and the old master resynced from the winner.
    wait_data(replica_port, KEYS, Duration::from_secs(5));
    let out = cli(master_port, &["readonly"]);
    assert_eq!(out.trim(), "OK");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let keys = cli(master_port, &["dbsize"])
            .trim()
            .parse::<usize>()
            .unwrap_or(0);
        if keys
            == cli(replica_port, &["dbsize"])
                .trim()
                .parse::<usize>()
                .unwrap_or(1)
        {
            break;
        }
        assert!(Instant::now() < deadline, "old master holds {keys} keys");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn killed_master_is_replaced_by_its_replica() {
    // Guards automatic failover after SIGKILL and the old master rejoining as a replica.
    failover_case(false);
}

#[test]
fn frozen_master_is_replaced_by_its_replica() {
    // Guards automatic failover after SIGSTOP (links stay open, nothing answers) and SIGCONT.
    failover_case(true);
}

/// A writer that SETs `{w}:i` on whichever node serves tag `w`, following the cluster through
/// a failover by asking the surviving nodes; `wait` adds `WAIT 1 0` to each write. Returns the
/// acknowledged indexes.
fn tagged_writer(
    ports: Vec<u16>,
    wait: bool,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<usize>> {
    std::thread::spawn(move || {
        let mut acked = Vec::new();
        let mut conn: Option<redis::Connection> = None;
        let mut i = 0usize;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let c = match conn.as_mut() {
                Some(c) => c,
                None => {
                    let Some(port) = owner_of_tag(&ports, "{w}") else {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    };
                    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"));
                    match client.and_then(|c| c.get_connection_with_timeout(Duration::from_secs(1)))
                    {
                        Ok(c) => {
                            let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
                            conn.insert(c)
                        }
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(50));
                            continue;
                        }
                    }
                }
            };
            let set: redis::RedisResult<()> =
                redis::cmd("SET").arg(format!("{{w}}:{i}")).arg(i).query(c);
            let ok = set.is_ok()
                && (!wait
                    || redis::cmd("WAIT")
                        .arg(1)
                        .arg(0)
                        .query::<i64>(c)
                        .is_ok_and(|n| n >= 1));
            if ok {
                acked.push(i);
            } else {
                conn = None;
            }
            i += 1;
        }
        acked
    })
}

/// The client port of the master serving `tag`, asked of the first node that answers.
fn owner_of_tag(ports: &[u16], tag: &str) -> Option<u16> {
    for &p in ports {
        let slot: u16 = cli(p, &["cluster", "keyslot", tag]).trim().parse().ok()?;
        let owner = nodes_lines(p)
            .into_iter()
            .find(|l| serves(l, slot) && l[2].contains("master") && !l[2].contains("fail"));
        if let Some(l) = owner {
            return Some(line_port(&l));
        }
    }
    None
}

/// Indexes in `acked` whose key does not read back on the current owner.
fn lost_writes(ports: &[u16], acked: &[usize]) -> usize {
    let port = owner_of_tag(ports, "{w}").expect("an owner");
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
    let mut conn = c.get_connection().expect("connect");
    let mut pipe = redis::pipe();
    for i in acked {
        pipe.cmd("GET").arg(format!("{{w}}:{i}"));
    }
    let vals: Vec<Option<usize>> = pipe.query(&mut conn).expect("reads");
    acked
        .iter()
        .zip(vals)
        .filter(|(i, v)| *v != Some(**i))
        .count()
}

fn failover_under_writer(manual: bool, wait: bool) -> (usize, usize) {
    let c = Cluster::create(6, 1, &[]);
    let ports = c.ports();
    let (master_port, replica_port) = {
        let p0 = ports[0];
        let slot: u16 = cli(p0, &["cluster", "keyslot", "{w}"])
            .trim()
            .parse()
            .expect("slot");
        let (id, port) = master_of_slot(p0, slot);
        (port, replica_of(p0, &id))
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let survivors: Vec<u16> = ports
        .iter()
        .copied()
        .filter(|&p| p != master_port)
        .collect();
    let writer = tagged_writer(survivors.clone(), wait, stop.clone());
    std::thread::sleep(Duration::from_millis(500));
    if manual {
        assert_eq!(cli(replica_port, &["cluster", "failover"]).trim(), "OK");
    } else {
        let idx = c
            .nodes
            .iter()
            .position(|s| s.port == master_port)
            .expect("master");
        let pid = c.nodes[idx].child.as_ref().expect("child").id() as i32;
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let slot: u16 = cli(replica_port, &["cluster", "keyslot", "{w}"])
        .trim()
        .parse()
        .expect("slot");
    let check: Vec<u16> = if manual {
        ports.clone()
    } else {
        survivors.clone()
    };
    wait_promoted(&check, slot, replica_port, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let acked = writer.join().expect("writer");
    let lost = lost_writes(&survivors, &acked);
    eprintln!(
        "failover (manual {manual}, WAIT {wait}): {} acknowledged writes, {lost} lost",
        acked.len()
    );
    (acked.len(), lost)
}

#[test]
fn manual_failover_loses_no_acknowledged_write() {
    // Guards CLUSTER FAILOVER: the master pauses writes until its replica caught up.
    let (acked, lost) = failover_under_writer(true, false);
    assert!(acked > 100, "the writer made progress ({acked})");
    assert_eq!(lost, 0);
}

#[test]
fn automatic_failover_with_wait_loses_no_acknowledged_write() {
    // Guards WAIT 1 0 after each write: what a replica acknowledged survives a SIGKILL failover.
    let (acked, lost) = failover_under_writer(false, true);
    assert!(acked > 100, "the writer made progress ({acked})");
    assert_eq!(lost, 0);
}

#[test]
fn automatic_failover_without_wait_counts_lost_writes() {
    // Measures (and bounds) what asynchronous replication may lose on a SIGKILL failover.
    let (acked, lost) = failover_under_writer(false, false);
    assert!(acked > 100, "the writer made progress ({acked})");
    assert!(
        lost * 10 <= acked,
        "{lost} of {acked} acknowledged writes lost"
    );
}

#[test]
fn replica_migrates_to_an_orphaned_master() {
    // Guards cluster-migration-barrier: a master left without replicas gets one from the master
    // that has two.
    let c = Cluster::create(7, 1, &[]);
    let p0 = c.nodes[0].port;
    let lines = nodes_lines(p0);
    let replicas_of = |id: &str| -> Vec<String> {
        nodes_lines(p0)
            .into_iter()
            .filter(|l| l[2].contains("slave") && !l[2].contains("fail") && l[3] == id)
            .map(|l| l[0].clone())
            .collect()
    };
    let masters: Vec<String> = lines
        .iter()
        .filter(|l| l[2].contains("master"))
        .map(|l| l[0].clone())
        .collect();
    // Roles spread by gossip: wait until one master shows two replicas.
    let deadline = Instant::now() + Duration::from_secs(15);
    while masters.iter().all(|m| replicas_of(m).len() < 2) {
        assert!(Instant::now() < deadline, "no master with two replicas");
        std::thread::sleep(Duration::from_millis(100));
    }
    let lonely = masters
        .iter()
        .find(|m| replicas_of(m).len() == 1)
        .expect("a master with one replica")
        .clone();
    let victim = replicas_of(&lonely).remove(0);
    let victim_port = replica_of_port(p0, &victim);
    let idx = c
        .nodes
        .iter()
        .position(|s| s.port == victim_port)
        .expect("victim");
    let pid = c.nodes[idx].child.as_ref().expect("child").id() as i32;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let now = replicas_of(&lonely);
        if now.iter().any(|r| *r != victim) {
            break;
        }
        if Instant::now() > deadline {
            let views: Vec<String> = c
                .nodes
                .iter()
                .filter(|s| s.port != victim_port)
                .map(|s| format!("{}:\n{}", s.port, cli(s.port, &["cluster", "nodes"])))
                .collect();
            panic!("no replica migrated to {lonely}:\n{}", views.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The client port of node `id` as node `port` sees it.
fn replica_of_port(port: u16, id: &str) -> u16 {
    nodes_lines(port)
        .into_iter()
        .find(|l| l[0] == id)
        .map(|l| line_port(&l))
        .expect("known node")
}
