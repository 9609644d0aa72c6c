//! Issue 17: client control side by side with redis-server 7.0: CLIENT PAUSE WRITE|ALL and
//! UNPAUSE across cores (held commands wait, they are not refused) and their errors.

use crate::common::{cmd, Raw, RedisServer, Server};
use std::time::{Duration, Instant};

fn port_of(s: &Server) -> u16 {
    s.addr().rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn pause_errors_match_redis() {
    let Some(redis) = RedisServer::start("pause-errors") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let s = Server::start(&["--server-threads", "2"]);
    let cases: &[&[&[u8]]] = &[
        &[b"CLIENT", b"PAUSE"],
        &[b"CLIENT", b"PAUSE", b"x"],
        &[b"CLIENT", b"PAUSE", b"-1"],
        &[b"CLIENT", b"PAUSE", b"10", b"foo"],
        &[b"CLIENT", b"PAUSE", b"10", b"write", b"x"],
        &[b"CLIENT", b"UNPAUSE", b"x"],
        &[b"CLIENT", b"PAUSE", b"0", b"write"],
        &[b"CLIENT", b"UNPAUSE"],
    ];
    let mut r = Raw::connect(redis.port);
    let mut m = Raw::connect(port_of(&s));
    for c in cases {
        r.send(&cmd(c));
        m.send(&cmd(c));
        let want = r.read_until(b"\r\n");
        assert_eq!(
            String::from_utf8_lossy(&m.read_until(b"\r\n")),
            String::from_utf8_lossy(&want),
            "{c:?}"
        );
    }
}

/// Sends `c` on `conn` and returns how long its reply took.
fn timed(conn: &mut Raw, c: &[&[u8]], expect: &[u8]) -> Duration {
    let t = Instant::now();
    conn.roundtrip(&cmd(c), expect);
    t.elapsed()
}

#[test]
fn pause_holds_commands_on_every_core() {
    let s = Server::start(&["--server-threads", "2"]);
    let port = port_of(&s);
    let mut admin = Raw::connect(port);
    // Two more connections: with two cores, at least one is on another core than admin.
    let mut others = [Raw::connect(port), Raw::connect(port)];
    // WRITE: reads run, writes wait for the end of the pause.
    admin.roundtrip(&cmd(&[b"CLIENT", b"PAUSE", b"400", b"WRITE"]), b"+OK\r\n");
    for o in &mut others {
        assert!(timed(o, &[b"GET", b"k"], b"$-1\r\n") < Duration::from_millis(300));
    }
    for o in &mut others {
        o.send(&cmd(&[b"SET", b"k", b"v"]));
    }
    let t = Instant::now();
    for o in &mut others {
        assert_eq!(o.read_n(5), b"+OK\r\n");
    }
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    // UNPAUSE releases the held writes well before the timeout.
    admin.roundtrip(&cmd(&[b"CLIENT", b"PAUSE", b"20000", b"WRITE"]), b"+OK\r\n");
    for o in &mut others {
        o.send(&cmd(&[b"SET", b"k", b"w"]));
    }
    std::thread::sleep(Duration::from_millis(150));
    admin.roundtrip(&cmd(&[b"CLIENT", b"UNPAUSE"]), b"+OK\r\n");
    let t = Instant::now();
    for o in &mut others {
        assert_eq!(o.read_n(5), b"+OK\r\n");
    }
    assert!(t.elapsed() < Duration::from_secs(5));
    // ALL (the default mode): reads wait too.
    admin.roundtrip(&cmd(&[b"CLIENT", b"PAUSE", b"400"]), b"+OK\r\n");
    for o in &mut others {
        o.send(&cmd(&[b"GET", b"k"]));
    }
    let t = Instant::now();
    for o in &mut others {
        assert_eq!(o.read_n(7), b"$1\r\nw\r\n");
    }
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
}
