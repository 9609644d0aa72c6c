//! INFO node-wide and complete, side by side with redis-server 7.0: the same fields in the same
//! order in every section, counts that add up over every core (blocked clients, Pub/Sub),
//! the instantaneous rates, read/write counters, a real avg_ttl, and the redis-cli modes that
//! read them (--latency, --bigkeys, --memkeys, --hotkeys).

use crate::common::{cli, RedisServer, Server};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Section title -> field names in order.
fn fields(info: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut cur = String::new();
    for l in info.lines() {
        if let Some(t) = l.strip_prefix("# ") {
            cur = t.trim().to_string();
            out.insert(cur.clone(), Vec::new());
        } else if let Some((k, _)) = l.split_once(':') {
            out.get_mut(&cur).expect("a section").push(k.to_string());
        }
    }
    out
}

/// One field of an INFO text.
fn value(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} missing"))
        .trim()
        .to_string()
}

#[test]
fn every_redis_field_in_redis_order() {
    // Guards issue 17's INFO point: each section has every field redis-server 7.0 prints, in
    // its order; slotd's own fields (named slotd_version and server_threads) come on top.
    let Some(r) = RedisServer::start("info-ref") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let s = Server::start(&["--server-threads", "2"]);
    for port in [s.port, r.port] {
        cli(port, &["set", "k", "v"]);
        cli(port, &["expire", "k", "100"]);
    }
    let ours = fields(&s.cli(&["info", "everything"]));
    let theirs = fields(&cli(r.port, &["info", "everything"]));
    for (section, names) in &theirs {
        // Latency histograms are per command run: their own test compares them.
        if section == "Latencystats" {
            continue;
        }
        let mine: Vec<&String> = ours
            .get(section)
            .unwrap_or_else(|| panic!("section {section} missing"))
            .iter()
            .filter(|f| *f != "slotd_version" && *f != "server_threads")
            .collect();
        let want: Vec<&String> = names
            .iter()
            // Per-command and per-error lines depend on what ran (compared elsewhere).
            .filter(|f| !f.starts_with("cmdstat_") && !f.starts_with("errorstat_"))
            .collect();
        let mine: Vec<&String> = mine
            .into_iter()
            .filter(|f| !f.starts_with("cmdstat_") && !f.starts_with("errorstat_"))
            .collect();
        assert_eq!(mine, want, "section {section}");
    }
}

/// A connection that sends `line` and does not wait for the reply (a blocked command).
fn send_only(port: u16, line: &str) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    c
}

/// Polls INFO until `f` holds for it (10 s), returning the last text.
fn info_until(port: u16, section: &str, f: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = cli(port, &["info", section]);
        if f(&info) || Instant::now() > deadline {
            return info;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// (blocked_clients, clients_in_timeout_table, pubsub_channels, pubsub_patterns,
/// pubsubshard_channels) after blocking 4 clients (2 with a timeout) on keys spread over the
/// cores and subscribing on several connections.
fn node_wide_counts(port: u16) -> (String, String, String, String, String) {
    let mut held = Vec::new();
    for (i, t) in ["0", "0", "30", "30"].iter().enumerate() {
        held.push(send_only(port, &format!("BLPOP list{i} {t}")));
    }
    for line in [
        "SUBSCRIBE a b",
        "SUBSCRIBE b c",
        "PSUBSCRIBE p*",
        "PSUBSCRIBE p* q*",
        "SSUBSCRIBE s1",
    ] {
        held.push(send_only(port, line));
    }
    let clients = info_until(port, "clients", |i| value(i, "blocked_clients") == "4");
    let stats = info_until(port, "stats", |i| value(i, "pubsubshard_channels") == "1");
    (
        value(&clients, "blocked_clients"),
        value(&clients, "clients_in_timeout_table"),
        value(&stats, "pubsub_channels"),
        value(&stats, "pubsub_patterns"),
        value(&stats, "pubsubshard_channels"),
    )
}

#[test]
fn blocked_and_pubsub_counts_are_node_wide() {
    // Guards issue 17's point that blocked_clients showed 0 while clients were blocked on
    // another core: with four cores, every blocked client and every distinct channel and
    // pattern counts once, as in redis-server.
    let s = Server::start(&["--server-threads", "4"]);
    let ours = node_wide_counts(s.port);
    let want = (
        "4".to_string(),
        "2".to_string(),
        "3".to_string(),
        "2".to_string(),
        "1".to_string(),
    );
    assert_eq!(ours, want);
    if let Some(r) = RedisServer::start("info-counts") {
        assert_eq!(node_wide_counts(r.port), want);
    }
}

/// Sends `n` PINGs one at a time on a fresh connection between two INFO stats calls on it;
/// returns the growth of total_reads_processed and total_writes_processed.
fn read_write_growth(port: u16, n: usize) -> (i64, i64) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut info = || -> String {
        c.write_all(b"INFO stats\r\n").unwrap();
        let mut text = Vec::new();
        let mut buf = [0u8; 8192];
        while !text.ends_with(b"\r\n\r\n") {
            let k = c.read(&mut buf).unwrap();
            assert!(k > 0);
            text.extend_from_slice(&buf[..k]);
        }
        String::from_utf8_lossy(&text).into_owned()
    };
    let before = info();
    let mut c2 = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c2.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for _ in 0..n {
        c2.write_all(b"PING\r\n").unwrap();
        let mut buf = [0u8; 7];
        c2.read_exact(&mut buf).unwrap();
    }
    let after = info();
    let num = |t: &str, f: &str| value(t, f).parse::<i64>().unwrap();
    (
        num(&after, "total_reads_processed") - num(&before, "total_reads_processed"),
        num(&after, "total_writes_processed") - num(&before, "total_writes_processed"),
    )
}

#[test]
fn reads_writes_rates_and_avg_ttl() {
    // Guards the stats Redis' exporters read: each request read and each reply written counts
    // (as redis-server counts them), instantaneous_ops_per_sec and the kbps figures move
    // under load and come back to 0, and avg_ttl estimates the keys' remaining TTL.
    let s = Server::start(&["--server-threads", "2"]);
    let ours = read_write_growth(s.port, 10);
    if let Some(r) = RedisServer::start("info-rw") {
        assert_eq!(ours, read_write_growth(r.port, 10));
    } else {
        assert!(ours.0 >= 11 && ours.1 >= 11, "{ours:?}");
    }
    // Load for a moment: the rates become positive.
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let until = Instant::now() + Duration::from_millis(600);
    let mut buf = [0u8; 7];
    while Instant::now() < until {
        c.write_all(b"PING\r\n").unwrap();
        c.read_exact(&mut buf).unwrap();
    }
    let busy = cli(s.port, &["info", "stats"]);
    let ops = |i: &str| -> u64 { value(i, "instantaneous_ops_per_sec").parse().unwrap() };
    assert!(ops(&busy) > 100, "{busy}");
    assert!(
        value(&busy, "instantaneous_input_kbps")
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
    assert!(
        value(&busy, "instantaneous_output_kbps")
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
    // Idle: 16 samples of 100 ms later the means fall back to the polling INFO's own few.
    let idle = info_until(s.port, "stats", |i| ops(i) <= 30);
    assert!(ops(&idle) <= 30, "{idle}");
    // avg_ttl: keys expiring in 100 s, estimated by the expiry cycle's samples.
    for i in 0..20 {
        s.cli(&["set", &format!("t{i}"), "v", "ex", "100"]);
    }
    let ks = info_until(s.port, "keyspace", |i| !i.contains("avg_ttl=0"));
    let db0 = value(&ks, "db0");
    let ttl: u64 = db0.rsplit("avg_ttl=").next().unwrap().parse().unwrap();
    assert!(db0.starts_with("keys=20,expires=20,avg_ttl="), "{db0}");
    assert!(ttl > 80_000 && ttl <= 100_000, "{db0}");
}

#[test]
fn redis_cli_tool_modes_work() {
    // Guards issue 17's "done when": redis-cli --latency, --bigkeys, --memkeys and (with an
    // LFU policy) --hotkeys run against slotd to the end and report what they found.
    let s = Server::start(&["--server-threads", "2", "--maxmemory-policy", "allkeys-lfu"]);
    s.cli(&["set", "str", "hello"]);
    s.cli(&["rpush", "list", "a", "b", "c"]);
    s.cli(&["hset", "hash", "f", "v"]);
    for _ in 0..5 {
        s.cli(&["get", "str"]);
    }
    let lat = s.cli(&["--latency", "--raw"]);
    assert_eq!(lat.split_whitespace().count(), 4, "{lat}");
    let big = s.cli(&["--bigkeys"]);
    assert!(
        big.contains("Biggest   list found '\"list\"' has 3 items"),
        "{big}"
    );
    assert!(big.contains("1 strings with 5 bytes"), "{big}");
    let mem = s.cli(&["--memkeys"]);
    assert!(mem.contains("1 lists with"), "{mem}");
    let hot = s.cli(&["--hotkeys"]);
    assert!(hot.contains("keyname: \"str\""), "{hot}");
}
