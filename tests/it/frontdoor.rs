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
