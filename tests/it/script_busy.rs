//! A script past busy-reply-threshold (alias lua-time-limit): the setting as Redis shows and
//! checks it, -BUSY for the script's shard, SCRIPT KILL / FUNCTION KILL, SHUTDOWN NOSAVE, and
//! other shards serving their clients meanwhile. Side by side with redis-server 7.0 where
//! Redis has the behaviour; every test uses a small threshold and stays bounded.

use crate::compare::same_replies;

#[test]
fn busy_reply_threshold_and_its_alias_match_redis() {
    same_replies(&[
        "CONFIG GET busy-reply-threshold",
        "CONFIG GET lua-time-limit",
        "CONFIG SET lua-time-limit 250",
        "CONFIG GET busy-reply-threshold",
        "CONFIG GET lua-time-limit",
        "CONFIG SET busy-reply-threshold 0",
        "CONFIG GET lua-time-limit",
        "CONFIG SET lua-time-limit -1",
        "CONFIG SET busy-reply-threshold abc",
        "CONFIG SET busy-reply-threshold 5000",
        "CONFIG GET busy-reply-threshold",
    ]);
}

use crate::common::{cmd, Raw, RedisServer, Server};
use std::io::Read;
use std::time::{Duration, Instant};

/// The threshold every scenario runs with (small, so each test stays short).
const THRESHOLD_MS: &str = "100";

/// One line, CRLF included (read a byte at a time: nothing after it is consumed).
fn line(r: &mut Raw) -> Vec<u8> {
    let mut l = Vec::new();
    let mut b = [0u8; 1];
    while !l.ends_with(b"\r\n") {
        match r.s.read(&mut b) {
            Ok(1) => l.push(b[0]),
            _ => break,
        }
    }
    l
}

/// One whole reply as text (the replies here are simple lines, short bulks, or arrays of them).
pub(crate) fn reply(r: &mut Raw) -> String {
    let head = line(r);
    let text = String::from_utf8_lossy(&head).into_owned();
    let n = || -> i64 { text[1..text.len() - 2].parse().expect("a length") };
    match head.first() {
        Some(b'$') if n() >= 0 => {
            let mut body = vec![0u8; n() as usize + 2];
            r.s.read_exact(&mut body).expect("the bulk");
            format!("{text}{}", String::from_utf8_lossy(&body))
        }
        Some(b'*') if n() > 0 => {
            let mut all = text.clone();
            for _ in 0..n() {
                all.push_str(&reply(r));
            }
            all
        }
        _ => text,
    }
}

pub(crate) fn call(r: &mut Raw, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    r.send(&cmd(&a));
    reply(r)
}

/// Sends `args` on `r` until the reply starts with "-BUSY" (the script passed the threshold);
/// returns that reply. Bounded: fails after 5 s.
pub(crate) fn until_busy(r: &mut Raw, args: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = call(r, args);
        if got.starts_with("-BUSY") {
            return got;
        }
        assert!(Instant::now() < deadline, "never busy: last reply {got:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `scenario` on redis-server 7.0 and on slotd (one shard), each with the small
/// threshold, and asserts the same transcript.
pub(crate) fn side_by_side(scenario: fn(u16) -> Vec<String>) {
    let slotd = Server::start(&["--busy-reply-threshold", THRESHOLD_MS]);
    let ours = scenario(slotd.port);
    let Some(redis) = RedisServer::start_with("busy", &["--busy-reply-threshold", THRESHOLD_MS])
    else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let theirs = scenario(redis.port);
    assert_eq!(ours, theirs, "slotd vs redis-server");
}

/// An endless read-only script: another client gets -BUSY (even PING; HELLO still runs),
/// SCRIPT KILL ends it, and its client gets Redis' kill error; then service resumes.
fn kill_a_looping_script(port: u16) -> Vec<String> {
    let mut t = Vec::new();
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    t.push(call(&mut b, &["SET", "k", "v"]));
    a.send(&cmd(&[b"EVAL", b"while true do end", b"0"]));
    t.push(until_busy(&mut b, &["GET", "k"]));
    t.push(call(&mut b, &["PING"]));
    t.push(call(&mut b, &["FUNCTION", "KILL"]));
    t.push(call(&mut b, &["SHUTDOWN"]));
    t.push(call(&mut b, &["MULTI"]));
    t.push(call(&mut b, &["GET", "k"]));
    t.push(call(&mut b, &["EXEC"]));
    t.push(call(&mut b, &["SCRIPT", "KILL"]));
    t.push(reply(&mut a));
    t.push(call(&mut a, &["GET", "k"]));
    t.push(call(&mut b, &["SCRIPT", "KILL"]));
    t
}

#[test]
fn script_kill_ends_a_busy_script_as_redis() {
    side_by_side(kill_a_looping_script);
}

/// A script that wrote cannot be killed; SHUTDOWN NOSAVE stops the server anyway.
fn unkillable_then_shutdown_nosave(port: u16) -> Vec<String> {
    let mut t = Vec::new();
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    a.send(&cmd(&[
        b"EVAL",
        b"redis.call('set', KEYS[1], '1') while true do end",
        b"1",
        b"w",
    ]));
    t.push(until_busy(&mut b, &["GET", "w"]));
    t.push(call(&mut b, &["SCRIPT", "KILL"]));
    t.push(call(&mut b, &["FUNCTION", "KILL"]));
    b.send(&cmd(&[b"SHUTDOWN", b"NOSAVE"]));
    t.push(format!("shutdown closes the client: {}", b.closed()));
    t.push(format!("script client closed: {}", a.closed()));
    t
}

#[test]
fn unkillable_after_a_write_and_shutdown_nosave_as_redis() {
    side_by_side(unkillable_then_shutdown_nosave);
}

/// Commands pipelined behind the script on its own connection wait for it (no -BUSY), and
/// run once it is killed.
fn pipelined_behind_a_script(port: u16) -> Vec<String> {
    let mut t = Vec::new();
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    t.push(call(&mut b, &["SET", "p", "1"]));
    let mut req = cmd(&[b"EVAL", b"while true do end", b"1", b"p"]);
    req.extend(cmd(&[b"GET", b"p"]));
    req.extend(cmd(&[b"INCR", b"p"]));
    a.send(&req);
    t.push(until_busy(&mut b, &["GET", "p"]));
    t.push(call(&mut b, &["SCRIPT", "KILL"]));
    for _ in 0..3 {
        t.push(reply(&mut a));
    }
    t
}

#[test]
fn commands_behind_a_busy_script_wait_for_it_as_redis() {
    side_by_side(pipelined_behind_a_script);
}

#[test]
fn a_script_client_on_another_shard_waits_for_its_script() {
    // Two shards: connections go round-robin, so among four clients some send their script
    // to the other shard and their pipelined commands follow it there.
    let s = two_shards();
    let key = key_on(0);
    let mut watcher = Raw::connect(s.port);
    for round in 0..4 {
        let mut a = Raw::connect(s.port);
        let mut req = cmd(&[b"EVAL", b"while true do end", b"1", key.as_bytes()]);
        req.extend(cmd(&[b"SET", key.as_bytes(), b"after"]));
        req.extend(cmd(&[b"GET", key.as_bytes()]));
        a.send(&req);
        until_busy(&mut watcher, &["GET", &key]);
        assert_eq!(
            call(&mut watcher, &["SCRIPT", "KILL"]),
            "+OK\r\n",
            "round {round}"
        );
        assert!(
            reply(&mut a).starts_with("-ERR Script killed by user"),
            "round {round}"
        );
        assert_eq!(reply(&mut a), "+OK\r\n", "round {round}");
        assert_eq!(reply(&mut a), "$5\r\nafter\r\n", "round {round}");
    }
}

/// A function: FUNCTION KILL stops it, SCRIPT KILL names FUNCTION KILL, FUNCTION STATS runs.
fn kill_a_looping_function(port: u16) -> Vec<String> {
    let mut t = Vec::new();
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    let lib = "#!lua name=busylib\n\
               redis.register_function('spin', function() while true do end end)";
    t.push(call(&mut b, &["FUNCTION", "LOAD", lib]));
    a.send(&cmd(&[b"FCALL", b"spin", b"0"]));
    t.push(until_busy(&mut b, &["GET", "k"]));
    t.push(call(&mut b, &["SCRIPT", "KILL"]));
    t.push(call(&mut b, &["FUNCTION", "KILL"]));
    t.push(reply(&mut a));
    t.push(call(&mut b, &["FUNCTION", "KILL"]));
    t
}

#[test]
fn function_kill_ends_a_busy_function_as_redis() {
    side_by_side(kill_a_looping_function);
}

/// A key owned by shard `id` of two.
fn key_on(id: u16) -> String {
    (0..)
        .map(|i| format!("k{i}"))
        .find(|k| crate::types::shard(k, 2) == id)
        .expect("a key")
}

/// slotd with two shards and the small threshold.
fn two_shards() -> Server {
    Server::start(&[
        "--server-threads",
        "2",
        "--busy-reply-threshold",
        THRESHOLD_MS,
    ])
}

#[test]
fn other_shards_keep_serving_while_one_is_busy() {
    let s = two_shards();
    let (busy_key, free_key) = (key_on(0), key_on(1));
    let mut a = Raw::connect(s.port);
    let mut b = Raw::connect(s.port);
    let mut c = Raw::connect(s.port);
    assert_eq!(call(&mut b, &["SET", &free_key, "v"]), "+OK\r\n");
    // The script holds shard 0 (its key lives there).
    a.send(&cmd(&[
        b"EVAL",
        b"while true do end",
        b"1",
        busy_key.as_bytes(),
    ]));
    let busy = until_busy(&mut b, &["GET", &busy_key]);
    assert_eq!(
        busy,
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN \
         NOSAVE.\r\n"
    );
    // Clients of both shards are served for shard 1's keys, every time (counted, not timed).
    let mut served = 0;
    for _ in 0..200 {
        for r in [&mut b, &mut c] {
            if call(r, &["GET", &free_key]) == "$1\r\nv\r\n" {
                served += 1;
            }
        }
    }
    assert_eq!(served, 400);
    assert!(call(&mut c, &["GET", &busy_key]).starts_with("-BUSY"));
    assert_eq!(call(&mut c, &["SCRIPT", "KILL"]), "+OK\r\n");
    assert!(reply(&mut a).starts_with("-ERR Script killed by user with SCRIPT KILL..."));
    assert_eq!(call(&mut b, &["GET", &busy_key]), "$-1\r\n");
    assert_eq!(
        call(&mut b, &["SCRIPT", "KILL"]),
        "-NOTBUSY No scripts in execution right now.\r\n"
    );
}

#[test]
fn a_script_looping_in_a_gsub_callback_is_killed_from_either_shard() {
    // Inside a string.gsub callback (a C call Lua 5.1 cannot yield across) the script still
    // leaves its core past the threshold: scripts run on a machine stack of their own. So the
    // clients of both shards are served: shard 0's key answers -BUSY, shard 1's key its value,
    // and SCRIPT KILL from either stops it. (Before the machine stack this script held shard 0
    // to the end, and only shard 1 could read SCRIPT KILL.)
    let s = two_shards();
    let (busy_key, free_key) = (key_on(0), key_on(1));
    let mut a = Raw::connect(s.port);
    // Consecutive connections go to different shards: one of these two is on shard 0.
    let mut c1 = Raw::connect(s.port);
    let mut c2 = Raw::connect(s.port);
    a.send(&cmd(&[
        b"EVAL",
        b"pcall(string.gsub, 'x', 'x', function() while true do end end) return 1",
        b"1",
        busy_key.as_bytes(),
    ]));
    std::thread::sleep(Duration::from_millis(300));
    for c in [&mut c1, &mut c2] {
        assert_eq!(call(c, &["GET", &free_key]), "$-1\r\n");
        assert!(call(c, &["GET", &busy_key]).starts_with("-BUSY"));
    }
    assert_eq!(call(&mut c1, &["SCRIPT", "KILL"]), "+OK\r\n");
    // As in Redis 7.0, the pcall around the loop catches the kill error and the script ends.
    assert_eq!(reply(&mut a), ":1\r\n");
    assert_eq!(
        call(&mut c2, &["SCRIPT", "KILL"]),
        "-NOTBUSY No scripts in execution right now.\r\n"
    );
}
