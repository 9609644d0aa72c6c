//! Client output buffer limits and CLIENT LIST's buffer fields, slotd side by side with
//! redis-server 7.0 where Redis has the behaviour: subscribers that never read (hard and soft
//! limits, RESP2 and RESP3), the normal class with big replies, CONFIG SET/GET and config file
//! syntax, the memory fields of clients with pending input or unread output, and a replica
//! that falls behind.

use crate::common::{cli, cmd, free_port, signal, test_dir, RedisServer, Server, BIN};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const LOG_LINE: &str = "scheduled to be closed ASAP for overcoming of output buffer limits.";

/// A client socket with a small receive buffer, so unread output stays on the server.
fn slow_reader(port: u16) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    s.connect_timeout(&addr.into(), Duration::from_secs(5))
        .unwrap();
    let t: TcpStream = s.into();
    t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    t
}

fn read_some(s: &mut TcpStream, want: &[u8]) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(want.len()).any(|w| w == want) {
        let n = s.read(&mut buf).expect("reply");
        assert!(n > 0, "connection closed early");
        got.extend_from_slice(&buf[..n]);
    }
}

/// A subscriber on `port` that reads nothing after its subscription is confirmed.
fn subscriber(port: u16, resp3: bool) -> TcpStream {
    let mut s = slow_reader(port);
    if resp3 {
        s.write_all(b"HELLO 3\r\n").unwrap();
        read_some(&mut s, b"proto");
    }
    s.write_all(&cmd(&[b"SUBSCRIBE", b"ch"])).unwrap();
    read_some(&mut s, b"subscribe");
    s
}

/// Publishes `msg` to "ch" until no subscriber receives it (or `max` messages); returns how
/// many reached the subscriber, after waiting `gap` between messages.
fn publish_until_dropped(port: u16, msg: &[u8], max: usize, gap: Duration) -> Option<usize> {
    let mut p = TcpStream::connect(("127.0.0.1", port)).unwrap();
    p.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = cmd(&[b"PUBLISH", b"ch", msg]);
    let mut buf = [0u8; 16];
    for i in 0..max {
        p.write_all(&req).unwrap();
        let n = p.read(&mut buf).unwrap();
        match &buf[..n] {
            b":1\r\n" => {}
            b":0\r\n" => return Some(i),
            other => panic!("PUBLISH answered {:?}", String::from_utf8_lossy(other)),
        }
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
    None
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// True when the peer closed the socket (EOF or reset) within a few seconds.
fn closed(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
    false
}

#[test]
fn subscriber_that_never_reads_is_dropped_at_the_pubsub_hard_limit() {
    // Guards the default `pubsub 32mb 8mb 60` hard limit: slotd's memory stays bounded and the
    // subscriber is dropped about where Redis drops it, with Redis' log line. One shard: with
    // two, the publisher's core hands each message to the subscriber's core through the mesh
    // and counts it delivered at once, so when the subscriber's core is starved of CPU (a full
    // test run on 2 cores) the drop came 10-70% late (555 messages seen). That lag is a known
    // bug, noted on issue 13 for a fix in the cross-core Pub/Sub path; until then this test
    // pins the limit itself, which the lag does not change.
    let s = Server::start(&["--server-threads", "1"]);
    let msg = vec![b'x'; 100_000];
    let mut sub = subscriber(s.port, false);
    let sent = publish_until_dropped(s.port, &msg, 1000, Duration::ZERO);
    let rss = rss_kb(s.pid());
    let sent = sent.expect("slotd drops the subscriber before 100 MB");
    assert!(rss < 150 * 1024, "VmRSS {rss} kB");
    // 32 MB counted, plus what the kernel buffers took.
    assert!((320..=500).contains(&sent), "dropped after {sent} messages");
    assert!(closed(&mut sub));
    let log = s.log_text();
    let line = log
        .lines()
        .find(|l| l.contains(LOG_LINE))
        .expect("log line");
    assert!(line.contains("flags=P") && line.contains("sub=1"), "{line}");
    if let Some(r) = RedisServer::start("obuf-hard") {
        let mut rsub = subscriber(r.port, false);
        let rsent = publish_until_dropped(r.port, &msg, 1000, Duration::ZERO);
        let rsent = rsent.expect("redis drops the subscriber");
        assert!((320..=500).contains(&rsent), "redis dropped after {rsent}");
        assert!(closed(&mut rsub));
    }
}

#[test]
fn resp3_subscriber_is_pubsub_class_too() {
    // Guards the class choice: a RESP3 client with a subscription is a pubsub client (as in
    // Redis 7.0), and the limit changed by CONFIG SET applies at once.
    let s = Server::start(&[]);
    let set = [
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "pubsub 1mb 0 0",
    ];
    assert_eq!(s.cli(&set).trim(), "OK");
    let msg = vec![b'y'; 50_000];
    let mut sub = subscriber(s.port, true);
    let sent = publish_until_dropped(s.port, &msg, 2000, Duration::ZERO);
    let sent = sent.expect("slotd drops the RESP3 subscriber");
    assert!(closed(&mut sub));
    if let Some(r) = RedisServer::start("obuf-resp3") {
        assert_eq!(cli(r.port, &set).trim(), "OK");
        let mut rsub = subscriber(r.port, true);
        let rsent = publish_until_dropped(r.port, &msg, 2000, Duration::ZERO);
        let rsent = rsent.expect("redis drops the RESP3 subscriber");
        assert!(closed(&mut rsub));
        // Both: 1 MB counted plus the kernel's buffers (a few MB on loopback).
        assert!(sent.abs_diff(rsent) < 200, "slotd {sent}, redis {rsent}");
    }
}

/// Seconds from the moment CLIENT LIST first shows the subscriber over `soft` bytes of omem
/// until it is dropped, publishing one message every 100 ms.
fn soft_limit_delay(port: u16, soft: u64) -> f64 {
    let set = [
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "pubsub 0 1mb 2",
    ];
    assert_eq!(cli(port, &set).trim(), "OK");
    let mut sub = subscriber(port, false);
    let msg = vec![b'z'; 200_000];
    let mut p = TcpStream::connect(("127.0.0.1", port)).unwrap();
    p.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = cmd(&[b"PUBLISH", b"ch", &msg]);
    let mut over_at: Option<Instant> = None;
    let mut buf = [0u8; 16];
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        p.write_all(&req).unwrap();
        let n = p.read(&mut buf).unwrap();
        if &buf[..n] == b":0\r\n" {
            let at = over_at.expect("the soft limit was seen passed first");
            assert!(closed(&mut sub));
            return at.elapsed().as_secs_f64();
        }
        if over_at.is_none() {
            let list = cli(port, &["CLIENT", "LIST"]);
            let omem = list
                .lines()
                .filter(|l| l.contains("sub=1"))
                .find_map(|l| l.split(' ').find_map(|f| f.strip_prefix("omem=")))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            if omem >= soft {
                over_at = Some(Instant::now());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the subscriber was never dropped");
}

#[test]
fn pubsub_soft_limit_waits_its_seconds() {
    // Guards the soft limit: over it, the subscriber survives until it stayed over for more
    // than the configured seconds (2), then goes, as with redis-server.
    let s = Server::start(&[]);
    let delay = soft_limit_delay(s.port, 1 << 20);
    assert!(
        (1.5..=6.0).contains(&delay),
        "slotd dropped after {delay:.2}s"
    );
    assert!(s.log_text().contains(LOG_LINE));
    if let Some(r) = RedisServer::start("obuf-soft") {
        let rdelay = soft_limit_delay(r.port, 1 << 20);
        assert!(
            (1.5..=6.0).contains(&rdelay),
            "redis dropped after {rdelay:.2}s"
        );
    }
}

/// Pipelines `n` GETs of the 300 KB key "big" without reading; true when the server closed.
fn pipelined_gets_closed(port: u16, n: usize) -> bool {
    let mut c = slow_reader(port);
    let mut req = Vec::new();
    for _ in 0..n {
        req.extend_from_slice(&cmd(&[b"GET", b"big"]));
    }
    c.write_all(&req).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    closed(&mut c)
}

fn normal_class_on(port: u16) {
    let big = vec![b'v'; 300_000];
    let mut setter = TcpStream::connect(("127.0.0.1", port)).unwrap();
    setter.write_all(&cmd(&[b"SET", b"big", &big])).unwrap();
    read_some(&mut setter, b"+OK");
    let set = |v: &str| cli(port, &["CONFIG", "SET", "client-output-buffer-limit", v]);
    assert_eq!(set("normal 1mb 0 0").trim(), "OK");
    assert!(
        pipelined_gets_closed(port, 10),
        "10 x 300 KB unread passes 1 MB"
    );
    // A small reply is never dropped: the first 16 KiB are not counted (Redis' reply buffer).
    assert_eq!(set("normal 1 0 0").trim(), "OK");
    assert_eq!(cli(port, &["PING"]).trim(), "PONG");
    assert_eq!(set("normal 0 0 0").trim(), "OK");
    // Without a limit the same client gets every reply.
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = Vec::new();
    for _ in 0..10 {
        req.extend_from_slice(&cmd(&[b"GET", b"big"]));
    }
    c.write_all(&req).unwrap();
    let want = 10 * (big.len() + "$300000\r\n\r\n".len());
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    while got < want {
        let n = c.read(&mut buf).expect("replies");
        assert!(n > 0, "closed after {got} bytes");
        got += n;
    }
}

#[test]
fn normal_class_limit_drops_a_client_with_big_unread_replies() {
    // Guards the normal class: a CONFIG SET limit closes a client whose unread replies pass
    // it (the other clients are served on), and 0 means no limit, as with redis-server.
    let s = Server::start(&["--server-threads", "2"]);
    normal_class_on(s.port);
    let log = s.log_text();
    let line = log
        .lines()
        .find(|l| l.contains(LOG_LINE))
        .expect("log line");
    assert!(
        line.contains("flags=N") && line.contains("cmd=get"),
        "{line}"
    );
    if let Some(r) = RedisServer::start("obuf-normal") {
        normal_class_on(r.port);
    }
}

#[test]
fn config_set_and_get_match_redis() {
    // Guards the directive's syntax: every value gets the same reply and leaves the same
    // CONFIG GET as on redis-server 7.0.
    let Some(r) = RedisServer::start("obuf-config") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let s = Server::start(&[]);
    let values = [
        "",
        "normal 1 2",
        "foo 1 2 3",
        "master 1 2 3",
        "normal 1x 2 3",
        "normal 1 2 -1",
        "normal -1 2 3",
        "normal 1 2 3x",
        "replica 1mb 2kb 3",
        "NORMAL 1k 2K 3",
        "normal 1 2 +5",
        "pubsub 99999999999999999999 1 1",
        "normal 1 2 99999999999",
        "normal 010 2 3",
        "normal 1  2 3",
        "normal 1 2 ",
        "normal 1 2 4294967295",
        "normal mb kb 4",
        "normal 1.5mb 1 1",
        "slave 1 2 3 slave 4 5 6",
        "normal 1 2 3 foo 1 2 3",
        "normal 99999999999999999999mb 1 1",
        "normal 1gb 1GB 1 pubsub 32mb 8mb 60 replica 256mb 64mb 60",
    ];
    for v in values {
        let args = ["CONFIG", "SET", "client-output-buffer-limit", v];
        assert_eq!(s.cli(&args), cli(r.port, &args), "CONFIG SET {v:?}");
        let get = ["CONFIG", "GET", "client-output-buffer-limit"];
        assert_eq!(s.cli(&get), cli(r.port, &get), "CONFIG GET after {v:?}");
    }
}

/// Starts `bin` with a config file and returns CONFIG GET's answer, or the start error.
fn start_with_file(bin: &str, text: &str) -> Result<String, String> {
    let dir = test_dir("obuf-conf");
    let file = dir.join("node.conf");
    std::fs::write(&file, text).unwrap();
    let port = free_port();
    let mut child = std::process::Command::new(bin)
        .arg(&file)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--dir", &dir.display().to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let result = loop {
        if let Ok(Some(_)) = child.try_wait() {
            let out = child.wait_with_output().unwrap();
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let _ = std::fs::remove_dir_all(&dir);
            return Err(text);
        }
        let got = cli(port, &["CONFIG", "GET", "client-output-buffer-limit"]);
        if got.contains("normal") {
            break Ok(got);
        }
        assert!(Instant::now() < deadline, "{bin} did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[test]
fn config_file_lines_match_redis() {
    // Guards the config file form: several classes on one line, repeated lines per class,
    // an empty line, and a bad line refused with Redis' reason.
    let good = "client-output-buffer-limit normal 1 2 3 pubsub 4mb 5mb 6\n\
                client-output-buffer-limit replica 7 8 9\n\
                client-output-buffer-limit\n";
    let want = "client-output-buffer-limit\nnormal 1 2 3 slave 7 8 9 pubsub 4194304 5242880 6\n";
    assert_eq!(start_with_file(BIN, good).as_deref(), Ok(want));
    let bad = "client-output-buffer-limit normal 1 2\n";
    let err = start_with_file(BIN, bad).expect_err("refused");
    assert!(
        err.contains("Wrong number of arguments in buffer limit configuration."),
        "{err}"
    );
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok()
    {
        assert_eq!(start_with_file("redis-server", good).as_deref(), Ok(want));
        let rerr = start_with_file("redis-server", bad).expect_err("refused");
        assert!(rerr.contains("Wrong number of arguments in buffer limit configuration."));
    }
}

/// The CLIENT LIST line of the client named `name`, as `field=value` pairs.
fn fields_of(port: u16, name: &str) -> Vec<(String, String)> {
    let list = cli(port, &["CLIENT", "LIST"]);
    let line = list
        .lines()
        .find(|l| l.contains(&format!(" name={name} ")))
        .unwrap_or_else(|| panic!("{name} in {list}"))
        .to_string();
    line.split(' ')
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn num(fields: &[(String, String)], key: &str) -> u64 {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {fields:?}"))
}

fn memory_fields_on(port: u16) {
    // A partial command: 100 KB of a 200 KB argument sent.
    let mut partial = TcpStream::connect(("127.0.0.1", port)).unwrap();
    partial
        .write_all(&cmd(&[b"CLIENT", b"SETNAME", b"partial"]))
        .unwrap();
    read_some(&mut partial, b"+OK");
    partial
        .write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200000\r\n")
        .unwrap();
    partial.write_all(&vec![b'p'; 100_000]).unwrap();
    // Unread output: 50 x 300 KB replies to a client that reads nothing.
    let big = vec![b'v'; 300_000];
    let mut setter = TcpStream::connect(("127.0.0.1", port)).unwrap();
    setter.write_all(&cmd(&[b"SET", b"big", &big])).unwrap();
    read_some(&mut setter, b"+OK");
    let mut unread = slow_reader(port);
    unread
        .write_all(&cmd(&[b"CLIENT", b"SETNAME", b"unread"]))
        .unwrap();
    read_some(&mut unread, b"+OK");
    let mut req = Vec::new();
    for _ in 0..50 {
        req.extend_from_slice(&cmd(&[b"GET", b"big"]));
    }
    unread.write_all(&req).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p = fields_of(port, "partial");
        let u = fields_of(port, "unread");
        let ready = num(&p, "qbuf") >= 100_000 && num(&u, "omem") >= 4_000_000;
        if ready {
            assert!(num(&p, "qbuf") < 200_100, "{p:?}");
            assert!(num(&p, "tot-mem") > num(&p, "qbuf"), "{p:?}");
            assert_eq!(num(&p, "omem"), 0, "{p:?}");
            assert!(num(&u, "omem") <= 15_000_000, "{u:?}");
            assert!(num(&u, "oll") > 0, "{u:?}");
            assert!(num(&u, "tot-mem") > num(&u, "omem"), "{u:?}");
            let events = u
                .iter()
                .find(|(k, _)| k == "events")
                .map(|(_, v)| v.as_str());
            assert_eq!(events, Some("rw"), "{u:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "fields never showed: {p:?} {u:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The asking client's own line: its command's arguments are argv-mem.
    let me = cli(port, &["CLIENT", "INFO"]);
    assert!(me.contains(" argv-mem=10 "), "{me}");
    drop(partial);
    drop(unread);
}

#[test]
fn client_list_memory_fields_are_real() {
    // Guards qbuf/omem/obl/oll/tot-mem/argv-mem: non-zero and plausible for a client with a
    // partial command and one with unread output, on slotd as on redis-server.
    let s = Server::start(&["--server-threads", "2"]);
    memory_fields_on(s.port);
    if let Some(r) = RedisServer::start("obuf-fields") {
        memory_fields_on(r.port);
    }
}

fn info_field(port: u16, section: &str, field: &str) -> Option<String> {
    let text = cli(port, &["INFO", section]);
    text.lines().find_map(|l| {
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

/// A redis-server with extra arguments and a log file, killed on drop.
struct RedisProc {
    port: u16,
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl RedisProc {
    fn start(tag: &str, extra: &[&str]) -> Option<RedisProc> {
        let port = free_port();
        let dir = test_dir(tag);
        let log = dir.join("redis.log");
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--dir", &dir.display().to_string()])
            .args(["--logfile", &log.display().to_string()])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let p = RedisProc { port, child, log };
        for _ in 0..500 {
            if cli(port, &["PING"]).trim() == "PONG" {
                return Some(p);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stops the replica, writes 30 MB to the master (more than the kernel buffers of both sides
/// absorb), expects the master's log line for a replica, resumes the replica and waits for it
/// to have everything. Returns the log line.
fn stopped_replica_dropped(
    m_port: u16,
    m_log: &dyn Fn() -> String,
    r_port: u16,
    r_pid: u32,
) -> String {
    cli(r_port, &["REPLICAOF", "127.0.0.1", &m_port.to_string()]);
    let up = || info_field(r_port, "replication", "master_link_status").as_deref() == Some("up");
    wait_for("the link", 30, up);
    signal(r_pid, libc::SIGSTOP);
    let value = vec![b'w'; 100_000];
    let mut c = TcpStream::connect(("127.0.0.1", m_port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for i in 0..300 {
        let key = format!("k{i}");
        c.write_all(&cmd(&[b"SET", key.as_bytes(), &value]))
            .unwrap();
        read_some(&mut c, b"+OK");
    }
    wait_for("the log line", 20, || m_log().contains(LOG_LINE));
    signal(r_pid, libc::SIGCONT);
    wait_for("the replica to resync", 60, || {
        up() && cli(r_port, &["EXISTS", "k299"]).trim() == "1"
    });
    let log = m_log();
    log.lines()
        .find(|l| l.contains(LOG_LINE))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn replica_that_falls_behind_is_dropped_at_the_replica_limit() {
    // Guards the replica class: a stopped replica's unsent stream passes `replica 2mb 0 0`,
    // the master drops the link with Redis' log line (memory bounded), and the replica
    // resyncs once resumed, as a redis-server pair does.
    let limit = ["--client-output-buffer-limit", "replica 2mb 0 0"];
    let m = Server::start(&limit);
    let r = Server::start(&[]);
    let line = stopped_replica_dropped(m.port, &|| m.log_text(), r.port, r.pid());
    assert!(
        line.contains("flags=S") && line.contains("cmd=psync"),
        "{line}"
    );
    let rss = rss_kb(m.pid());
    assert!(rss < 150 * 1024, "master VmRSS {rss} kB");
    let Some(rm) = RedisProc::start("obuf-rmaster", &limit) else {
        return;
    };
    let Some(rr) = RedisProc::start("obuf-rreplica", &[]) else {
        return;
    };
    let log = || std::fs::read_to_string(&rm.log).unwrap_or_default();
    let rline = stopped_replica_dropped(rm.port, &log, rr.port, rr.child.id());
    assert!(rline.contains("flags=S"), "{rline}");
}

fn types_on(port: u16) {
    let mut sub = subscriber(port, true);
    let pubsub = cli(port, &["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert_eq!(pubsub.lines().count(), 1, "{pubsub}");
    assert!(
        pubsub.contains(" flags=P ") && pubsub.contains(" resp=3"),
        "{pubsub}"
    );
    let normal = cli(port, &["CLIENT", "LIST", "TYPE", "normal"]);
    assert!(!normal.contains(" sub=1 "), "{normal}");
    assert_eq!(cli(port, &["CLIENT", "LIST", "TYPE", "slave"]).trim(), "");
    assert_eq!(cli(port, &["CLIENT", "KILL", "TYPE", "pubsub"]).trim(), "1");
    assert!(closed(&mut sub));
}

#[test]
fn client_types_follow_subscriptions() {
    // Guards CLIENT LIST/KILL TYPE: a subscribed client (RESP3 too) is of type pubsub, the
    // same class its output limit uses, as on redis-server.
    let s = Server::start(&[]);
    types_on(s.port);
    if let Some(r) = RedisServer::start("obuf-types") {
        types_on(r.port);
    }
}

#[test]
fn replies_queued_behind_a_waiting_reply_count() {
    // Guards the count of reply chunks waiting behind a reply not computed yet: slotd keeps
    // answering pipelined commands behind a blocked BLPOP (sent in order, later); those
    // queued replies show in omem while they wait and count toward the limit (Redis would
    // not run them while blocked, so there is no redis-server counterpart).
    let s = Server::start(&["--server-threads", "2"]);
    let mut setter = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    setter
        .write_all(&cmd(&[b"SET", b"big", &[b'v'; 300_000]]))
        .unwrap();
    read_some(&mut setter, b"+OK");
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(&cmd(&[b"CLIENT", b"SETNAME", b"blk"])).unwrap();
    read_some(&mut c, b"+OK");
    let mut req = cmd(&[b"BLPOP", b"nokey", b"0"]);
    for _ in 0..10 {
        req.extend_from_slice(&cmd(&[b"GET", b"big"]));
    }
    c.write_all(&req).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while num(&fields_of(s.port, "blk"), "omem") < 2_500_000 {
        assert!(Instant::now() < deadline, "{:?}", fields_of(s.port, "blk"));
        std::thread::sleep(Duration::from_millis(20));
    }
    let set = [
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 1mb 0 0",
    ];
    assert_eq!(s.cli(&set).trim(), "OK");
    // The next append (the BLPOP answered) finds the queued replies over the limit.
    assert_eq!(s.cli(&["RPUSH", "nokey", "x"]).trim(), "1");
    assert!(closed(&mut c));
    assert!(s.log_text().contains(LOG_LINE));
}
