//! The cluster bus fails closed: it listens only where clients may connect, advertises the
//! configured bus port, and refuses hostnames (from the config, CONFIG SET or a forged bus
//! message) that would leave a nodes.conf the node cannot read back. Side by side with
//! redis-server 7.0 where Redis has the behaviour.

use crate::common::{cli, free_port, test_dir, RedisServer, Server, BIN};
use slotd::api::{encode, Body, Gossip, Header, Message};
use slotd::api::{flag, SlotBits};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn node(extra: &[&str]) -> Server {
    let mut args = vec!["--cluster-enabled", "yes", "--cluster-node-timeout", "3000"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// A cluster-mode redis-server 7.0 on `port` in `dir` (killed on drop).
struct RedisNode {
    port: u16,
    child: Child,
}

impl RedisNode {
    fn start(port: u16, dir: &Path, extra: &[&str]) -> Option<RedisNode> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--cluster-enabled", "yes"])
            .args(["--save", "", "--dir", &dir.display().to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut n = RedisNode { port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = n.child.try_wait() {
                return None;
            }
            if cli(port, &["ping"]).trim() == "PONG" {
                return Some(n);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = n.child.kill();
        None
    }
}

impl Drop for RedisNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Local addresses (as "a.b.c.d" or "ipv6:<hex>") of the sockets listening on `port`, read
/// from /proc/net/tcp{,6} of this network namespace.
fn listening_on(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // f[1] = local "ADDR:PORT" in hex, f[3] = state (0A = LISTEN).
            let Some((addr, p)) = f.get(1).and_then(|a| a.split_once(':')) else {
                continue;
            };
            if f.get(3) != Some(&"0A") || u16::from_str_radix(p, 16) != Ok(port) {
                continue;
            }
            if v6 {
                out.push(format!("ipv6:{addr}"));
            } else {
                let n = u32::from_str_radix(addr, 16).unwrap_or(0);
                out.push(std::net::Ipv4Addr::from(n.swap_bytes()).to_string());
            }
        }
    }
    out
}

/// Polls `f` every 50 ms until it is true or `secs` pass.
fn wait_until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The CLUSTER NODES line of node `id` as seen from `port`, if any.
fn line_of(port: u16, id: &str) -> Option<String> {
    cli(port, &["cluster", "nodes"])
        .lines()
        .find(|l| l.starts_with(id))
        .map(str::to_string)
}

fn myid(port: u16) -> String {
    cli(port, &["cluster", "myid"]).trim().to_string()
}

#[test]
fn bus_listens_only_on_the_bind_addresses() {
    // Guards the unauthenticated bus against being reachable where clients are not: with
    // `bind 127.0.0.1` it must not answer on another local address (it listened on 0.0.0.0).
    let s = node(&[]);
    let bus = s.port + 10000;
    assert_eq!(listening_on(bus), vec!["127.0.0.1".to_string()]);
    assert!(TcpStream::connect(("127.0.0.1", bus)).is_ok());
    let other = TcpStream::connect(("127.0.0.2", bus));
    assert!(other.is_err(), "the bus answered on 127.0.0.2");
    // redis-server 7.0 binds its bus the same way.
    let dir = test_dir("redis-bind");
    let rp = free_port();
    if let Some(r) = RedisNode::start(rp, &dir, &["--bind", "127.0.0.1"]) {
        assert_eq!(listening_on(r.port + 10000), vec!["127.0.0.1".to_string()]);
        assert!(TcpStream::connect(("127.0.0.2", r.port + 10000)).is_err());
    }
    // An optional address that cannot be bound is skipped for the bus too.
    let s2 = node(&["--bind", "127.0.0.1 -192.0.2.77"]);
    assert_eq!(listening_on(s2.port + 10000), vec!["127.0.0.1".to_string()]);
    // cluster-port moves the bus and keeps the bind addresses.
    let cport = free_port();
    let s3 = node(&["--bind", "127.0.0.1", "--cluster-port", &cport.to_string()]);
    assert_eq!(listening_on(cport), vec!["127.0.0.1".to_string()]);
    assert!(listening_on(s3.port + 10000).is_empty());
}

#[test]
fn busy_bus_port_aborts_start_like_redis() {
    // Guards the fatal error when the bus port on a bind address is taken.
    let port = free_port();
    let _taken = TcpListener::bind(("127.0.0.1", port + 10000)).expect("bind");
    let args = ["--cluster-enabled", "yes"];
    let err = match Server::start_in(port, test_dir("busy-bus"), &args) {
        Err(e) => e,
        Ok(_) => panic!("slotd started with its bus port taken"),
    };
    let want = format!(
        "Failed listening on port {} (cluster), aborting.",
        port + 10000
    );
    assert!(err.contains(&want), "{err}");
}

#[test]
fn announced_bus_port_reaches_peers_like_redis() {
    // Guards cluster-announce-bus-port (at start and by CONFIG SET): the node shows it for
    // itself and sends it in its header, so a peer's CLUSTER NODES says ip:port@busport.
    let announced = free_port();
    let x = node(&["--cluster-announce-bus-port", &announced.to_string()]);
    let me = line_of(x.port, &myid(x.port)).expect("myself line");
    assert!(me.contains(&format!(":{}@{announced} ", x.port)), "{me}");

    let a = node(&[]);
    let b = node(&[]);
    let later = free_port();
    let got = meet_then_announce(a.port, b.port, later);
    let want = format!("127.0.0.1:{}@{later}", a.port);
    assert_eq!(got, want);
    // The same steps on redis-server 7.0.
    let (pa, pb) = (free_port(), free_port());
    let (da, db) = (test_dir("redis-ann-a"), test_dir("redis-ann-b"));
    let (Some(ra), Some(rb)) = (
        RedisNode::start(pa, &da, &["--bind", "127.0.0.1"]),
        RedisNode::start(pb, &db, &["--bind", "127.0.0.1"]),
    ) else {
        eprintln!("redis-server not available: comparison skipped");
        return;
    };
    let later = free_port();
    let got = meet_then_announce(ra.port, rb.port, later);
    assert_eq!(got, format!("127.0.0.1:{}@{later}", ra.port));
}

/// Meets `a` and `b`, then sets `a`'s announced bus port; returns `a`'s address field in
/// `b`'s CLUSTER NODES once it shows the new port (or what it shows after 10 s).
fn meet_then_announce(a: u16, b: u16, bus: u16) -> String {
    assert_eq!(
        cli(a, &["cluster", "meet", "127.0.0.1", &b.to_string()]).trim(),
        "OK"
    );
    let a_id = myid(a);
    let known = wait_until(10, || {
        line_of(b, &a_id).is_some_and(|l| !l.contains("handshake"))
            && line_of(a, &myid(b)).is_some_and(|l| l.contains(" connected"))
    });
    assert!(known, "{}", cli(b, &["cluster", "nodes"]));
    let set = cli(
        a,
        &[
            "config",
            "set",
            "cluster-announce-bus-port",
            &bus.to_string(),
        ],
    );
    assert_eq!(set.trim(), "OK");
    let field = || line_of(b, &a_id).map(|l| l.split(' ').nth(1).unwrap_or("").to_string());
    wait_until(10, || {
        field().is_some_and(|f| f.ends_with(&format!("@{bus}")))
    });
    let mine = line_of(a, &a_id).unwrap_or_default();
    assert!(mine.contains(&format!("@{bus} ")), "{mine}");
    field().unwrap_or_default()
}

#[test]
fn invalid_hostname_is_refused_at_start_like_redis() {
    // Guards the config file and argument entry points: start-up fails naming the line.
    let conf_text = |port: u16| {
        format!("port {port}\ncluster-enabled yes\ncluster-announce-hostname \"a b\"\n")
    };
    let reason = "Hostnames may only contain alphanumeric characters, hyphens or dots";
    let dir = test_dir("bad-host-conf");
    let conf = dir.join("r.conf");
    std::fs::write(&conf, conf_text(free_port())).expect("write conf");
    let out = run_bounded(Command::new(BIN).arg(&conf).current_dir(&dir));
    assert!(out.contains("at line 3"), "{out}");
    assert!(
        out.contains(">>> 'cluster-announce-hostname \"a b\"'"),
        "{out}"
    );
    assert!(out.ends_with(&format!("{reason}\n")), "{out}");
    let out = run_bounded(
        Command::new(BIN)
            .args([
                "--port",
                &free_port().to_string(),
                "--cluster-enabled",
                "yes",
            ])
            .args(["--cluster-announce-hostname", "a\nb"])
            .current_dir(&dir),
    );
    assert!(out.contains(reason), "{out}");
    let long = "h".repeat(256);
    let out = run_bounded(
        Command::new(BIN)
            .args(["--port", &free_port().to_string()])
            .args(["--cluster-announce-hostname", &long])
            .current_dir(&dir),
    );
    assert!(
        out.contains("Hostnames must be less than 256 characters"),
        "{out}"
    );
    // redis-server refuses the same file with the same reason.
    std::fs::write(&conf, conf_text(free_port())).expect("write conf");
    let out = run_bounded(Command::new("redis-server").arg(&conf).current_dir(&dir));
    if !out.is_empty() {
        assert!(out.contains("at line 3"), "{out}");
        assert!(out.contains(reason), "{out}");
    }
}

/// Runs a server that must refuse to start; returns its stdout + stderr (empty if it could
/// not be run). A server that starts after all is killed and fails the test.
fn run_bounded(cmd: &mut Command) -> String {
    let Ok(mut child) = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() else {
        return String::new();
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            assert!(!st.success(), "the server exited 0");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started with an invalid hostname");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn config_set_hostname_replies_like_redis() {
    // Guards CONFIG SET cluster-announce-hostname: same replies as redis-server 7.0.
    let s = Server::start(&[]);
    let redis = RedisServer::start("hostname-set");
    let values = [
        "a b".to_string(),
        "a_b".to_string(),
        "x\ny".to_string(),
        "h".repeat(256),
        "h".repeat(255),
        "-node-1.example-".to_string(),
        String::new(),
    ];
    for v in &values {
        let ours = cli(s.port, &["config", "set", "cluster-announce-hostname", v]);
        if let Some(r) = &redis {
            let theirs = cli(r.port, &["config", "set", "cluster-announce-hostname", v]);
            assert_eq!(ours, theirs, "{v:?}");
        }
        let allowed = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
        let ok = v.len() <= 255 && v.bytes().all(allowed);
        assert_eq!(ours.trim() == "OK", ok, "{v:?}: {ours}");
    }
    let e = cli(
        s.port,
        &["config", "set", "cluster-announce-hostname", "a b"],
    );
    assert_eq!(
        e.trim(),
        "ERR CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - \
         Hostnames may only contain alphanumeric characters, hyphens or dots"
    );
}

/// A PING as node `id` (a master at 127.0.0.1:`port`) announcing `hostname`, with `gossip`.
fn forged_ping(id: &str, port: u16, hostname: &str, gossip: Vec<Gossip>) -> Vec<u8> {
    forged_ping_from(id, "", port, hostname, gossip)
}

/// The same, with `myip` as the header's announced address.
fn forged_ping_from(id: &str, myip: &str, port: u16, host: &str, gossip: Vec<Gossip>) -> Vec<u8> {
    let hdr = Header {
        mtype: 0,
        port,
        current_epoch: 0,
        config_epoch: 0,
        offset: 0,
        sender: id.to_string(),
        myslots: SlotBits::default(),
        slaveof: None,
        myip: myip.to_string(),
        pport: 0,
        cport: port + 10000,
        flags: flag::MASTER,
        state_fail: false,
        mflags: 0,
    };
    let body = Body::Ping {
        gossip,
        hostname: host.to_string(),
    };
    encode(&Message { hdr, body })
}

/// Sends `bytes` to the node's bus; true when it answered (a PONG follows a processed PING).
fn send_bus(port: u16, bytes: &[u8], wait: Duration) -> bool {
    let mut s = TcpStream::connect(("127.0.0.1", port + 10000)).expect("bus");
    s.write_all(bytes).expect("send");
    s.set_read_timeout(Some(wait)).expect("timeout");
    let mut head = [0u8; 8];
    std::io::Read::read_exact(&mut s, &mut head).is_ok()
}

#[test]
fn forged_bad_hostname_and_address_never_reach_nodes_conf() {
    // Guards the bus entry point: a forged PING with a hostname containing a space and a
    // newline, and gossip with a malformed address, are refused and logged; the node restarts.
    let mut a = node(&[]);
    let mut b = node(&[]);
    assert_eq!(
        a.cli(&["cluster", "meet", "127.0.0.1", &b.port.to_string()])
            .trim(),
        "OK"
    );
    let b_id = myid(b.port);
    let known = wait_until(10, || {
        line_of(a.port, &b_id).is_some_and(|l| l.contains(" connected"))
    });
    assert!(known, "{}", a.cli(&["cluster", "nodes"]));
    let b_port = b.port;
    b.stop();
    // First a valid name, to show the forged PING is processed.
    let five = Duration::from_secs(5);
    let good = forged_ping(&b_id, b_port, "good-host", Vec::new());
    assert!(send_bus(a.port, &good, five));
    let shows = |want: &str| line_of(a.port, &b_id).is_some_and(|l| l.contains(want));
    assert!(
        wait_until(5, || shows(",good-host ")),
        "{:?}",
        line_of(a.port, &b_id)
    );
    let bogus = Gossip {
        id: "f".repeat(40),
        ping_sent_s: 0,
        pong_received_s: 0,
        ip: "1.2.3.4 x".into(),
        port: 7000,
        cport: 17000,
        flags: flag::MASTER,
        pport: 0,
    };
    let bad = forged_ping(&b_id, b_port, "bad host\nx", vec![bogus]);
    assert!(send_bus(a.port, &bad, five));
    let plain = format!("127.0.0.1:{b_port}@{} ", b_port + 10000);
    assert!(
        wait_until(5, || shows(&plain)),
        "{:?}",
        line_of(a.port, &b_id)
    );
    // A header whose address is not an IP: the whole message is ignored (no PONG).
    let odd = forged_ping_from(&b_id, "1.2.3.4 x", b_port, "other-host", Vec::new());
    assert!(!send_bus(a.port, &odd, Duration::from_millis(500)));
    let nodes = a.cli(&["cluster", "nodes"]);
    // The forged hostname would show as ",bad host..." (a random node id may hold "bad").
    assert!(
        !nodes.contains(",bad") && !nodes.contains(&"f".repeat(40)),
        "{nodes}"
    );
    assert!(
        !nodes.contains("other-host") && !nodes.contains("1.2.3.4"),
        "{nodes}"
    );
    assert!(
        a.log_text().contains("Ignoring the hostname"),
        "{}",
        a.log_text()
    );
    let conf = std::fs::read_to_string(a.dir.join("nodes.conf")).expect("nodes.conf");
    assert!(
        !conf.contains(",bad") && !conf.contains("1.2.3.4"),
        "{conf}"
    );
    let (port, dir) = (a.port, a.dir.clone());
    assert_eq!(a.stop(), Some(0));
    let args = ["--cluster-enabled", "yes", "--cluster-node-timeout", "3000"];
    let a2 = Server::start_in(port, dir, &args).expect("restart after forged messages");
    assert!(line_of(a2.port, &b_id).is_some());
    std::mem::forget(a); // its process is gone; a2 cleans the directory
}
