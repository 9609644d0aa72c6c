//! Issue 17: MONITOR side by side with redis-server 7.0 (line format, what is hidden or
//! redacted, MULTI/EXEC order, databases), every core's commands reaching a monitor in order
//! per connection, and RESET / LOLWUT.

use crate::common::{cmd, Raw, RedisServer, Server};
use std::time::{Duration, Instant};

/// Starts monitoring on a new connection of `port`.
fn monitor(port: u16) -> Raw {
    let mut m = Raw::connect(port);
    m.roundtrip(&cmd(&[b"MONITOR"]), b"+OK\r\n");
    m
}

/// The monitor's lines up to and including the one that contains `last`, with the
/// timestamp and the client's port taken out (`[db addr]` becomes `[db ADDR]`).
fn lines_until(m: &mut Raw, last: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while !text.contains(last) && Instant::now() < deadline {
        let got = m.read_until(b"\r\n");
        if got.is_empty() {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&got));
    }
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            let l = l.strip_prefix('+').unwrap_or(l);
            let (stamp, rest) = l.split_once(' ').unwrap_or(("", l));
            assert!(
                stamp.len() > 11 && stamp.as_bytes()[stamp.len() - 7] == b'.',
                "{l}"
            );
            let (origin, args) = rest.split_once("] ").unwrap_or((rest, ""));
            let origin = match origin.split_once(" 127.0.0.1:") {
                Some((db, _)) => format!("{db} ADDR"),
                None => origin.to_string(),
            };
            format!("{origin}] {args}")
        })
        .collect()
}

/// Sends each command on one connection and reads its reply (any reply) before the next.
fn run_all(port: u16, lines: &[Vec<&[u8]>]) {
    let mut c = Raw::connect(port);
    for l in lines {
        c.send(&cmd(l));
        let got = c.read_until(b"\r\n");
        assert!(!got.is_empty(), "no reply to {l:?}");
        // Arrays (EXEC) and bulks end in more than one line: drain what the reply announced.
        if got.starts_with(b"*") || got.starts_with(b"$") {
            std::thread::sleep(Duration::from_millis(20));
            c.s.set_nonblocking(true).ok();
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut c.s, &mut buf) {
                if n == 0 {
                    break;
                }
            }
            c.s.set_nonblocking(false).ok();
        }
    }
}

fn script() -> Vec<Vec<&'static [u8]>> {
    vec![
        vec![b"SET", b"k", b"1"],
        vec![b"set", b"{b}k", b"2"],
        vec![b"AUTH", b"foo"],
        vec![b"hello", b"3", b"auth", b"default", b"x"],
        vec![b"CONFIG", b"GET", b"maxmemory"],
        vec![b"CLIENT", b"ID"],
        vec![b"client", b"list"],
        vec![b"MULTI"],
        vec![b"SET", b"a", b"x\ny"],
        vec![b"GET", b"a"],
        vec![b"EXEC"],
        vec![b"nosuchcmd"],
        vec![b"GET", b"a", b"b"],
        vec![b"SELECT", b"3"],
        vec![b"INCR", b"5"],
        vec![b"SET", b"e", b"a\x01\"\\b\t\xff"],
        vec![
            b"MIGRATE",
            b"127.0.0.1",
            b"1",
            b"",
            b"0",
            b"10",
            b"AUTH2",
            b"u",
            b"p",
            b"KEYS",
        ],
        vec![b"LOLWUT"],
        vec![
            b"EVAL",
            b"redis.call('set', KEYS[1], 1) return 1",
            b"1",
            b"z",
        ],
        vec![b"PING", b"end"],
    ]
}

#[test]
fn monitor_lines_match_redis() {
    let Some(redis) = RedisServer::start("monitor-lines") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let s = Server::start(&["--server-threads", "3"]);
    let mut want = monitor(redis.port);
    run_all(redis.port, &script());
    let want = lines_until(&mut want, "\"end\"");
    let port = s.addr().rsplit(':').next().unwrap().parse().unwrap();
    // A monitor on each core: every one sees the same lines.
    let mut mons: Vec<Raw> = (0..3).map(|_| monitor(port)).collect();
    run_all(port, &script());
    for m in &mut mons {
        assert_eq!(lines_until(m, "\"end\""), want);
    }
}

#[test]
fn every_core_reaches_a_monitor_in_order_per_connection() {
    let s = Server::start(&["--server-threads", "3"]);
    let port: u16 = s.addr().rsplit(':').next().unwrap().parse().unwrap();
    let mut m = monitor(port);
    let writers: Vec<_> = (0..3)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut batch = Vec::new();
                for i in 0..50 {
                    batch.extend(cmd(&[b"SET", format!("w{w}:{i}").as_bytes(), b"v"]));
                }
                c.send(&batch);
                c.read_n(50 * 5);
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut seen = 0;
    let mut next = [0usize; 3];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while seen < 150 && Instant::now() < deadline {
        text.push_str(&String::from_utf8_lossy(&m.read_until(b"\r\n")));
        seen = text.matches("\"SET\"").count();
    }
    for l in text.split("\r\n").filter(|l| l.contains("\"SET\"")) {
        let key = l.split('"').nth(3).unwrap();
        let (w, i) = key[1..].split_once(':').unwrap();
        let (w, i): (usize, usize) = (w.parse().unwrap(), i.parse().unwrap());
        assert_eq!(i, next[w], "{text}");
        next[w] += 1;
    }
    assert_eq!(next, [50, 50, 50]);
}

#[test]
fn monitor_state_reset_and_lolwut_match_redis() {
    let Some(redis) = RedisServer::start("monitor-reset") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let s = Server::start(&["--server-threads", "2"]);
    let port: u16 = s.addr().rsplit(':').next().unwrap().parse().unwrap();
    for p in [redis.port, port] {
        let mut c = Raw::connect(p);
        // MONITOR queued in MULTI is refused at EXEC; a monitor may not touch keys; a second
        // MONITOR is answered by nothing; RESET leaves monitor mode.
        c.roundtrip(&cmd(&[b"MULTI"]), b"+OK\r\n");
        c.roundtrip(&cmd(&[b"MONITOR"]), b"+QUEUED\r\n");
        c.roundtrip(
            &cmd(&[b"EXEC"]),
            b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n",
        );
        c.roundtrip(&cmd(&[b"SELECT", b"2"]), b"+OK\r\n");
        c.roundtrip(&cmd(&[b"CLIENT", b"SETNAME", b"n"]), b"+OK\r\n");
        c.roundtrip(&cmd(&[b"MONITOR"]), b"+OK\r\n");
        c.send(&cmd(&[b"MONITOR"]));
        c.roundtrip(
            &cmd(&[b"GET", b"x"]),
            b"-ERR Replica can't interact with the keyspace\r\n",
        );
        c.roundtrip(&cmd(&[b"RESET"]), b"+RESET\r\n");
        c.send(&cmd(&[b"CLIENT", b"INFO"]));
        let info = String::from_utf8_lossy(&c.read_until(b"\n\r\n")).to_string();
        assert!(
            info.contains(" name= ") && info.contains(" db=0 "),
            "{info}"
        );
        assert!(info.contains(" flags=N "), "{info}");
        c.roundtrip(&cmd(&[b"GET", b"x"]), b"$-1\r\n");
        let v = b"$18\r\nRedis ver. 7.0.15\n\r\n";
        c.roundtrip(&cmd(&[b"LOLWUT"]), v);
        c.roundtrip(&cmd(&[b"LOLWUT", b"VERSION", b"9"]), v);
        c.roundtrip(
            &cmd(&[b"LOLWUT", b"VERSION", b"x"]),
            b"-ERR value is not an integer or out of range\r\n",
        );
    }
}
