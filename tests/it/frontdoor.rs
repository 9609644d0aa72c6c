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
            && log.contains("Protocol error (unauth bulk length) from client: id="),
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
    let denied = String::from_utf8_lossy(slotd::net::protected::DENIED_REPLY).into_owned();
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
