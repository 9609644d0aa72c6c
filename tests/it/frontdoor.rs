//! The front door, side by side with redis-server where Redis has the behaviour: request limits
//! before AUTH, protected mode (inside a private network namespace), and maxclients fitted to
//! the open-file limit with an accept loop that backs off instead of spinning.

use crate::common::{cmd, Raw, RedisServer, Server};
use std::io::Read;
use std::time::Duration;

/// Everything the server sends until it closes the connection (bounded by the read timeout).
fn read_to_close(r: &mut Raw) -> Vec<u8> {
    r.s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.s.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends `req` on a fresh connection and returns what comes back before the close.
fn refused(port: u16, req: &[u8]) -> String {
    let mut r = Raw::connect(port);
    r.send(req);
    String::from_utf8_lossy(&read_to_close(&mut r)).into_owned()
}

#[test]
fn unauthenticated_request_limits_match_redis() {
    // Guards the pre-auth limits (10 arguments, 16 KiB bulks): same texts and close as Redis,
    // and an authenticated client keeps the normal limits.
    let s = Server::start(&["--loglevel", "verbose"]);
    let Some(redis) = RedisServer::start("preauth") else {
        eprintln!("SKIP: redis-server is not installed");
        return;
    };
    // Set at run time on both (the start-up probe needs an open PING).
    for port in [s.port, redis.port] {
        let mut r = Raw::connect(port);
        r.roundtrip(
            &cmd(&[b"CONFIG", b"SET", b"requirepass", b"pw"]),
            b"+OK\r\n",
        );
    }
    let mut ten: Vec<&[u8]> = vec![b"k"; 10];
    ten[0] = b"DEL";
    let big = vec![b'v'; 20_000];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"*11\r\n".to_vec(),
            "-ERR Protocol error: unauthenticated multibulk length\r\n",
        ),
        (
            b"*100000000\r\n".to_vec(),
            "-ERR Protocol error: unauthenticated multibulk length\r\n",
        ),
        (
            b"*1\r\n$16385\r\n".to_vec(),
            "-ERR Protocol error: unauthenticated bulk length\r\n",
        ),
        (
            b"*2\r\n$4\r\nECHO\r\n$536870912\r\n".to_vec(),
            "-ERR Protocol error: unauthenticated bulk length\r\n",
        ),
    ];
    for (req, want) in &cases {
        assert_eq!(
            refused(s.port, req),
            *want,
            "slotd, {:?}",
            String::from_utf8_lossy(req)
        );
        assert_eq!(
            refused(redis.port, req),
            *want,
            "redis, {:?}",
            String::from_utf8_lossy(req)
        );
    }
    // Within the limits the request is read whole and answered NOAUTH on both.
    for port in [s.port, redis.port] {
        let mut r = Raw::connect(port);
        r.roundtrip(&cmd(&ten), b"-NOAUTH Authentication required.\r\n");
        let edge = vec![b'e'; 16384];
        r.roundtrip(
            &cmd(&[b"ECHO", &edge]),
            b"-NOAUTH Authentication required.\r\n",
        );
        // AUTH in the same write lifts the limits for the commands behind it.
        let mut req = cmd(&[b"AUTH", b"pw"]);
        req.extend(cmd(&[b"ECHO", &big]));
        let mut want = b"+OK\r\n".to_vec();
        want.extend(format!("${}\r\n", big.len()).into_bytes());
        want.extend_from_slice(&big);
        want.extend_from_slice(b"\r\n");
        r.roundtrip(&req, &want);
        let mut many: Vec<&[u8]> = vec![b"MSET"];
        many.extend(std::iter::repeat_n(&b"k"[..], 20));
        r.roundtrip(&cmd(&many), b"+OK\r\n");
    }
    let log = s.log_text();
    assert!(
        log.contains("Protocol error (unauth mbulk count) from client: id=")
            && log.contains("Protocol error (unauth bulk length) from client: id=")
            && log.contains("Query buffer during protocol error: '*11..'")
            && log.contains("Query buffer during protocol error: '$16385..'"),
        "log lines missing:\n{log}"
    );
}

/// Shell run inside a private network namespace: 192.0.2.1 on its loopback device is not a
/// loopback address, so a client connecting to it is "from outside". Starts one server (slotd
/// or redis-server, `$START`) and prints what a raw client gets in each situation.
const PROTECTED_SCRIPT: &str = r#"
set -u
ip link set lo up && ip addr add 192.0.2.1/32 dev lo || { echo "SKIP: cannot set up lo"; exit 0; }
$START &
SRV=$!
cli() { timeout 5 redis-cli -p "$PORT" "$@"; }
for i in $(seq 400); do cli ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
probe() {
  echo "== $1"
  # Listen first: a refused client is answered at once and closed, and a request written
  # after that close would reset the connection and drop the answer before it is read.
  (exec 3<>"/dev/tcp/$2/$PORT" || exit; timeout 1 cat <&3; printf 'PING\r\nQUIT\r\n' >&3 &&
    timeout 5 cat <&3) 2>/dev/null
  echo
}
probe outside_default 192.0.2.1
probe loopback 127.0.0.1
echo "== stats"; cli info stats | grep -E '^rejected_connections' | tr -d '\r'
cli config set requirepass pw >/dev/null
probe outside_with_password 192.0.2.1
cli -a pw --no-auth-warning config set requirepass "" >/dev/null
cli config set protected-mode no >/dev/null
probe outside_protected_mode_no 192.0.2.1
cli config set protected-mode yes >/dev/null
probe outside_protected_mode_yes_again 192.0.2.1
kill $SRV; wait $SRV 2>/dev/null
$START --bind "192.0.2.1 127.0.0.1" &
SRV=$!
for i in $(seq 400); do cli ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
probe outside_explicit_bind 192.0.2.1
kill $SRV; wait $SRV 2>/dev/null
"#;

/// Runs `PROTECTED_SCRIPT` for one server; None (with a message) when namespaces are refused.
fn protected_mode_transcript(start: &str, port: u16) -> Option<String> {
    let out = std::process::Command::new("timeout")
        .args(["120", "unshare", "-n", "bash", "-c", PROTECTED_SCRIPT])
        .env("START", start)
        .env("PORT", port.to_string())
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || text.starts_with("SKIP") || !text.contains("== ") {
        eprintln!(
            "SKIP: unshare -n / ip not usable here ({}): {text} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(text)
}

#[test]
fn protected_mode_matches_redis_in_a_network_namespace() {
    // Guards protected mode: a client from a non-loopback address gets Redis' DENIED text
    // (byte for byte) unless a password is set or protected-mode is no; bind does not matter.
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP: redis-server is not installed");
        return;
    }
    let dir = crate::common::test_dir("protected");
    let port = 7001;
    let slotd = format!(
        "{} --port {port} --dir {d} --logfile {d}/slotd.log",
        crate::common::BIN,
        d = dir.display()
    );
    let redis = format!(
        "redis-server --port {port} --save '' --appendonly no --dir {d} --logfile {d}/redis.log",
        d = dir.display()
    );
    let Some(ours) = protected_mode_transcript(&slotd, port) else {
        return;
    };
    let Some(theirs) = protected_mode_transcript(&redis, port) else {
        return;
    };
    assert_eq!(ours, theirs, "slotd vs redis-server");
    let denied = String::from_utf8_lossy(slotd::api::DENIED_REPLY).into_owned();
    let section = |name: &str| {
        let start = ours.find(&format!("== {name}\n")).expect(name) + name.len() + 4;
        let rest = &ours[start..];
        let end = rest.find("\n==").unwrap_or(rest.len().saturating_sub(1));
        rest[..end].to_string()
    };
    assert_eq!(section("outside_default"), denied);
    assert_eq!(section("loopback"), "+PONG\r\n+OK\r\n");
    assert_eq!(section("stats"), "rejected_connections:1");
    assert!(section("outside_with_password").starts_with("-NOAUTH"));
    assert_eq!(section("outside_protected_mode_no"), "+PONG\r\n+OK\r\n");
    assert_eq!(section("outside_protected_mode_yes_again"), denied);
    assert_eq!(section("outside_explicit_bind"), denied);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A slotd started under a wrapper (prlimit, setpriv), killed on drop.
struct Wrapped {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Wrapped {
    /// Starts `wrapper... slotd --port P ... extra...`; Err(log) when it exits instead.
    fn start(wrapper: &[&str], extra: &[&str]) -> Result<Wrapped, String> {
        let port = crate::common::free_port();
        let dir = crate::common::test_dir("fdlimit");
        let log = dir.join("slotd.log");
        let (prog, pre) = wrapper.split_first().expect("a wrapper command");
        let child = std::process::Command::new(prog)
            .args(pre)
            .arg(crate::common::BIN)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", &dir.display().to_string()])
            .args(["--logfile", &log.display().to_string()])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let mut w = Wrapped { child, port, dir };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = w.child.try_wait() {
                return Err(w.log());
            }
            if crate::common::cli(port, &["ping"]).trim() == "PONG" {
                return Ok(w);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("no PONG within 30 s: {}", w.log()))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("slotd.log")).unwrap_or_default()
    }
}

impl Drop for Wrapped {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `prlimit --nofile=N:N`, plus (for a process that could raise the limit, i.e. one with
/// CAP_SYS_RESOURCE, typically root) dropping that capability, so the limit binds as it does
/// for an ordinary user.
fn low_nofile(n: u32) -> Vec<String> {
    let mut w = vec!["prlimit".to_string(), format!("--nofile={n}:{n}")];
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    const CAP_SYS_RESOURCE: u32 = 24;
    if caps & (1 << CAP_SYS_RESOURCE) != 0 {
        w.extend(["setpriv", "--bounding-set", "-sys_resource"].map(String::from));
    }
    w
}

/// The reserve slotd keeps with one shard outside cluster mode (src/constants.rs).
const RESERVE_ONE_SHARD: u32 = 40;

/// Redis' three log lines when maxclients has to shrink to fit the open-file limit.
fn fit_log_lines(want_fds: u32, limit: u32, fit: u32) -> [String; 3] {
    [
        format!(
            "You requested maxclients of 10000 requiring at least {want_fds} max file \
             descriptors."
        ),
        format!(
            "Server can't set maximum open files to {want_fds} because of OS error: Operation \
             not permitted."
        ),
        format!(
            "Current maximum open files is {limit}. maxclients has been reduced to {fit} to \
             compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
        ),
    ]
}

/// Redis' CONFIG SET error for a maxclients the open-file limit cannot take.
fn raise_refused(fit: u32) -> String {
    format!(
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating \
         system is not able to handle the specified number of clients, try with {fit}"
    )
}

#[test]
fn redis_fits_maxclients_with_the_same_texts() {
    // Guards the reference the slotd test below copies: redis-server 7.0 under the same limit
    // writes the same lines and refuses CONFIG SET the same way (its reserve is 32).
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP: redis-server is not installed");
        return;
    }
    let wrapper = low_nofile(64);
    let dir = crate::common::test_dir("redis-fd");
    let port = crate::common::free_port();
    let log = dir.join("redis.log");
    let Ok(child) = std::process::Command::new(&wrapper[0])
        .args(&wrapper[1..])
        .args([
            "redis-server",
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--dir", &dir.display().to_string()])
        .args(["--logfile", &log.display().to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
    else {
        eprintln!("SKIP: redis-server could not be started");
        return;
    };
    let mut child = child;
    for _ in 0..200 {
        if crate::common::cli(port, &["ping"]).trim() == "PONG" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let reply = crate::common::cli(port, &["config", "set", "maxclients", "40"]);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    for line in fit_log_lines(10_032, 64, 32) {
        assert!(text.contains(&line), "missing {line:?} in\n{text}");
    }
    assert_eq!(reply.trim(), raise_refused(32));
}

#[test]
fn maxclients_is_fitted_to_a_low_open_file_limit() {
    // Guards Redis' adjustOpenFilesLimit: a limit too low for maxclients lowers maxclients with
    // Redis' three log lines, CONFIG SET cannot raise it past the limit, and clients beyond it
    // are refused with Redis' text instead of hanging.
    let wrapper = low_nofile(64);
    let w: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let s = Wrapped::start(&w, &[]).expect("slotd starts under ulimit -n 64");
    let fit = 64 - RESERVE_ONE_SHARD;
    let want_fds = 10_000 + RESERVE_ONE_SHARD;
    let log = s.log();
    for line in fit_log_lines(want_fds, 64, fit) {
        assert!(log.contains(&line), "missing {line:?} in\n{log}");
    }
    let cli = |args: &[&str]| crate::common::cli(s.port, args);
    assert_eq!(
        cli(&["config", "get", "maxclients"]),
        format!("maxclients\n{fit}\n")
    );
    assert!(cli(&["info", "clients"]).contains(&format!("maxclients:{fit}\r\n")));
    assert_eq!(
        cli(&["config", "set", "maxclients", "40"]).trim(),
        raise_refused(fit)
    );
    assert_eq!(
        cli(&["config", "get", "maxclients"]),
        format!("maxclients\n{fit}\n")
    );
    assert_eq!(cli(&["config", "set", "maxclients", "10"]).trim(), "OK");
    assert_eq!(
        cli(&["config", "set", "maxclients", &fit.to_string()]).trim(),
        "OK"
    );
    // Fill every client slot, then three more: those get the error and are closed.
    let mut held = Vec::new();
    for _ in 0..fit {
        let mut r = Raw::connect(s.port);
        r.roundtrip(b"PING\r\n", b"+PONG\r\n");
        held.push(r);
    }
    for _ in 0..3 {
        let mut r = Raw::connect(s.port);
        assert_eq!(
            String::from_utf8_lossy(&read_to_close(&mut r)),
            "-ERR max number of clients reached\r\n"
        );
    }
    drop(held);
}

#[test]
fn a_limit_that_fits_no_client_refuses_to_start() {
    // Guards the refusal at start: Redis' text and a non-zero exit, never a server without
    // room for clients.
    let wrapper = low_nofile(RESERVE_ONE_SHARD);
    let w: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let log = match Wrapped::start(&w, &[]) {
        Ok(_) => panic!("slotd started with no descriptor left for clients"),
        Err(log) => log,
    };
    let want_fds = 10_000 + RESERVE_ONE_SHARD;
    assert!(
        log.contains(&format!(
            "Your current 'ulimit -n' of {RESERVE_ONE_SHARD} is not enough for the server to \
             start. Please increase your open file limit to at least {want_fds}. Exiting."
        )),
        "{log}"
    );
}

/// CPU time (user + system, in clock ticks) the process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0)
}

#[test]
fn accept_backs_off_when_descriptors_run_out() {
    // Guards the accept loop against spinning on EMFILE: once descriptors run out (here taken
    // by idle cluster bus connections, which maxclients does not count), waiting clients cost
    // almost no CPU and few log lines, and they are served once descriptors are free again.
    let wrapper = low_nofile(150);
    let w: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let s = Wrapped::start(&w, &["--cluster-enabled", "yes"]).expect("slotd starts");
    let pid = s.child.id();
    let mut bus = Vec::new();
    for _ in 0..150 {
        match std::net::TcpStream::connect(("127.0.0.1", s.port + 10000)) {
            Ok(c) => bus.push(c),
            Err(_) => break,
        }
    }
    // Let the bus take every descriptor it can.
    std::thread::sleep(Duration::from_millis(500));
    let mut waiting = Vec::new();
    for _ in 0..5 {
        let mut r = Raw::connect(s.port);
        r.send(b"PING\r\n");
        waiting.push(r);
    }
    std::thread::sleep(Duration::from_millis(300));
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks(pid) - t0;
    // A spinning accept loop burns a large part of a core (25+ ticks per second measured on a
    // busy machine); backing off costs a retry per cron tick.
    assert!(spent < 10, "slotd used {spent} ticks in 1 s");
    let log = s.log();
    let lines = log
        .matches("Accepting client connection: accept: Too many open files")
        .count();
    assert!(
        (1..=4).contains(&lines),
        "{lines} accept error lines:\n{log}"
    );
    // The lines count the errors they did not log: about one retry per 100 ms tick.
    let unlogged: Vec<u64> = log
        .lines()
        .filter_map(|l| l.strip_suffix(" more accept errors since the last report)"))
        .filter_map(|l| l.rsplit('(').next()?.parse().ok())
        .collect();
    assert!(
        !unlogged.is_empty(),
        "no second report within 1.3 s:\n{log}"
    );
    assert!(
        unlogged.iter().all(|&n| n <= 20),
        "accept errors per second: {unlogged:?}: the accept loop is spinning"
    );
    drop(bus);
    for r in waiting.iter_mut() {
        assert_eq!(r.read_n(7), b"+PONG\r\n");
    }
}

#[test]
fn a_soft_limit_below_the_hard_one_is_raised() {
    // Guards the common case: soft 64, hard higher: the soft limit is raised for maxclients
    // plus the reserve, logged as Redis does, and maxclients is kept.
    let s = Wrapped::start(&["prlimit", "--nofile=64:20000"], &[]).expect("slotd starts");
    let want_fds = 10_000 + RESERVE_ONE_SHARD;
    let line = format!(
        "Increased maximum number of open files to {want_fds} (it was originally set to 64)."
    );
    assert!(s.log().contains(&line), "{}", s.log());
    assert_eq!(
        crate::common::cli(s.port, &["config", "get", "maxclients"]),
        "maxclients\n10000\n"
    );
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", s.child.id())).unwrap();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3));
    assert_eq!(soft, Some(want_fds.to_string().as_str()));
}

/// Connects a client, waits until it is the only one, sets maxclients to 1 through it, and
/// returns what a second client gets.
fn second_client_reply(port: u16) -> String {
    let mut a = Raw::connect(port);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        a.send(b"INFO clients\r\n");
        let info = String::from_utf8_lossy(&a.read_until(b"\r\n\r\n")).into_owned();
        if info.contains("connected_clients:1\r\n") || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    a.roundtrip(&cmd(&[b"CONFIG", b"SET", b"maxclients", b"1"]), b"+OK\r\n");
    let mut b = Raw::connect(port);
    String::from_utf8_lossy(&read_to_close(&mut b)).into_owned()
}

#[test]
fn cluster_mode_maxclients_reply_matches_redis() {
    // Guards the cluster-mode refusal text (Redis counts bus links against maxclients there).
    let s = Server::start(&["--cluster-enabled", "yes"]);
    let want = "-ERR max number of clients + cluster connections reached\r\n";
    assert_eq!(second_client_reply(s.port), want);
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP: redis-server is not installed");
        return;
    }
    let dir = crate::common::test_dir("redis-cluster-max");
    let port = crate::common::free_port();
    let mut child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--cluster-enabled",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--dir", &dir.display().to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server starts");
    for _ in 0..200 {
        if crate::common::cli(port, &["ping"]).trim() == "PONG" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let theirs = second_client_reply(port);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(theirs, want);
}
