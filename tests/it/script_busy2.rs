//! Scripts and the shards around them: node-wide (fan-out) commands while a script is past
//! busy-reply-threshold answer at once as Redis does, a standalone script reaching another
//! core's key after it wrote takes that core mid-run, and a replica applies a MULTI/EXEC block
//! of its master's stream as one unit. Side by side with redis-server 7.0 where Redis has an
//! answer; every wait is bounded.

use crate::common::{cmd, Raw, RedisServer, Server};
use crate::compare::{read_reply, reply_len};
use std::time::{Duration, Instant};

/// The threshold every scenario runs with (small, so each test stays short).
const THRESHOLD_MS: &str = "100";

/// slotd with `n` shards, the small threshold and `extra` settings.
fn with_threads(n: usize, extra: &[&str]) -> Server {
    let n = n.to_string();
    let mut args = vec![
        "--server-threads",
        &n,
        "--busy-reply-threshold",
        THRESHOLD_MS,
    ];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// Sends one command and reads its whole reply, as text.
fn ask(r: &mut Raw, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    r.send(&cmd(&a));
    String::from_utf8_lossy(&read_reply(r)).into_owned()
}

/// Reads `n` pipelined replies, as text.
fn replies(r: &mut Raw, n: usize) -> Vec<String> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while out.len() < n {
        match reply_len(&buf) {
            Some(len) => {
                out.push(String::from_utf8_lossy(&buf[..len]).into_owned());
                buf.drain(..len);
            }
            None => {
                let more = r.read_n(1);
                assert!(!more.is_empty(), "connection closed or silent for 10 s");
                buf.extend(more);
            }
        }
    }
    assert!(buf.is_empty(), "more replies than asked for");
    out
}

/// Asks GET `key` on `r` until the reply is -BUSY (the script passed the threshold). Bounded.
fn wait_busy(r: &mut Raw, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ask(r, &["GET", key]).starts_with("-BUSY") {
        assert!(Instant::now() < deadline, "the script never got busy");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A key that shard `id` of `n` owns.
fn key_on(id: u16, n: u16, prefix: &str) -> String {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .find(|k| crate::types::shard(k, n) == id)
        .expect("a key")
}

/// Node-wide commands Redis refuses while a script is busy (none is CMD_ALLOW_BUSY).
const FAN_OUT: &[&[&str]] = &[
    &["DBSIZE"],
    &["KEYS", "*"],
    &["SCAN", "0"],
    &["RANDOMKEY"],
    &["INFO", "keyspace"],
    &["CLIENT", "LIST"],
    &["CLIENT", "KILL", "ID", "999999"],
    &["CONFIG", "RESETSTAT"],
    &["MEMORY", "STATS"],
    &["SWAPDB", "0", "1"],
    &["FLUSHDB"],
    &["FLUSHALL"],
    &["FUNCTION", "FLUSH"],
];

/// A script loops on the key's core; two other clients (on both cores of a two-shard slotd)
/// send every fan-out command and a few ALLOW_BUSY ones; SCRIPT KILL ends it; the keys are
/// still there. The transcript is compared with redis-server's.
fn fan_out_while_busy(port: u16, key: &str) -> Vec<String> {
    let mut t = Vec::new();
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    let mut c = Raw::connect(port);
    t.push(ask(&mut b, &["SET", key, "v"]));
    t.push(ask(&mut b, &["SET", "other", "w"]));
    a.send(&cmd(&[b"EVAL", b"while true do end", b"1", key.as_bytes()]));
    wait_busy(&mut b, key);
    for r in [&mut b, &mut c] {
        for args in FAN_OUT {
            t.push(format!("{args:?} {}", ask(r, args)));
        }
        t.push(ask(r, &["MULTI"]));
        t.push(ask(r, &["DISCARD"]));
    }
    t.push(ask(&mut c, &["SCRIPT", "KILL"]));
    t.push(String::from_utf8_lossy(&read_reply(&mut a)).into_owned());
    t.push(ask(&mut b, &["DBSIZE"]));
    t.push(ask(&mut c, &["GET", "other"]));
    t
}

#[test]
fn fan_out_commands_answer_busy_at_once_as_redis() {
    let slotd = with_threads(2, &[]);
    let key = key_on(0, 2, "k");
    let ours = fan_out_while_busy(slotd.port, &key);
    let Some(redis) = RedisServer::start_with("busy2", &["--busy-reply-threshold", THRESHOLD_MS])
    else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let theirs = fan_out_while_busy(redis.port, &key);
    assert_eq!(ours, theirs, "slotd vs redis-server");
}

/// Waits until a core answers -BUSY for `key` while another core may be stuck in a script
/// (a stuck core reads nothing: a fresh connection that lands there is dropped after a short
/// wait and the next one tried). Bounded.
fn wait_busy_from_any_core(port: u16, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut r = Raw::connect(port);
        r.s.set_read_timeout(Some(Duration::from_millis(300))).ok();
        r.send(&cmd(&[b"GET", key.as_bytes()]));
        if r.read_n(1).starts_with(b"-BUSY") {
            return;
        }
        assert!(Instant::now() < deadline, "the script never got busy");
    }
}

#[test]
fn fan_out_never_waits_for_a_script_that_cannot_yield() {
    // Inside pcall the script keeps its core (it reads nothing); a client of the other core
    // gets -BUSY for DBSIZE and KEYS at once instead of waiting for the park, and its SCRIPT
    // KILL ends the script. The stuck core's own client is answered after the script. The
    // script runs on shard 1, so shard 0 still accepts connections.
    let s = with_threads(2, &[]);
    let key = key_on(1, 2, "k");
    let mut c1 = Raw::connect(s.port);
    let mut c2 = Raw::connect(s.port);
    let mut a = Raw::connect(s.port);
    a.send(&cmd(&[
        b"EVAL",
        b"pcall(function() while true do end end) return 1",
        b"1",
        key.as_bytes(),
    ]));
    wait_busy_from_any_core(s.port, &key);
    for c in [&mut c1, &mut c2] {
        c.send(&cmd(&[b"DBSIZE"]));
        c.send(&cmd(&[b"KEYS", b"*"]));
        c.send(&cmd(&[b"SCRIPT", b"KILL"]));
    }
    let mut got = vec![replies(&mut c1, 3), replies(&mut c2, 3)];
    got.sort();
    let busy = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or \
                SHUTDOWN NOSAVE.\r\n";
    assert_eq!(
        got,
        vec![
            vec![busy.to_string(), busy.to_string(), "+OK\r\n".to_string()],
            vec![
                ":0\r\n".to_string(),
                "*0\r\n".to_string(),
                "-NOTBUSY No scripts in execution right now.\r\n".to_string()
            ],
        ]
    );
    assert_eq!(String::from_utf8_lossy(&read_reply(&mut a)), ":1\r\n");
}
