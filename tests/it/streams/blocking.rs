//! Blocking XREAD/XREADGROUP with real second clients: woken by XADD from another connection
//! on any core, `$` meaning "after what was there when it blocked", several streams on
//! several shards, timeouts, XGROUP DESTROY and DEL unblocking with NOGROUP, and BLOCK
//! answered at once inside MULTI and refused inside scripts; side by side with redis-server,
//! a reader woken by one of its streams answers for that stream alone.

use crate::common::{cmd, Raw, RedisServer, Server};
use crate::compare::read_reply;
use std::time::{Duration, Instant};

fn send(r: &mut Raw, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    r.send(&cmd(&a));
}

fn reply(r: &mut Raw) -> String {
    String::from_utf8_lossy(&read_reply(r)).into_owned()
}

/// Gives a command sent just now time to reach its shard and park (INFO does not count
/// blocked clients yet).
fn wait_blocked(_s: &Server, _n: usize) {
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn xread_waits_for_xadd_after_what_was_there() {
    // Guards `$` resolved when blocking, the wake-up from another connection, on one core and
    // on three (keys then live on other cores than the clients).
    for threads in ["1", "3"] {
        let s = Server::start(&["--server-threads", threads]);
        s.cli(&["XADD", "s", "1-0", "old", "1"]);
        let mut waiter = s.raw();
        send(
            &mut waiter,
            &["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"],
        );
        wait_blocked(&s, 1);
        s.cli(&["XADD", "s", "2-0", "f", "v"]);
        assert_eq!(
            reply(&mut waiter),
            "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        );
        // RESP3: a map of streams.
        send(&mut waiter, &["HELLO", "3"]);
        reply(&mut waiter);
        send(
            &mut waiter,
            &[
                "XREAD", "COUNT", "1", "BLOCK", "5000", "STREAMS", "s", "2-0",
            ],
        );
        wait_blocked(&s, 1);
        s.cli(&["XADD", "s", "3-0", "g", "w"]);
        assert_eq!(
            reply(&mut waiter),
            "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n"
        );
    }
}

#[test]
fn xread_of_streams_on_several_shards_wakes_on_any() {
    // Guards a blocked read whose keys live on different cores (standalone, three shards).
    let s = Server::start(&["--server-threads", "3"]);
    let mut waiter = s.raw();
    send(
        &mut waiter,
        &[
            "XREAD", "BLOCK", "5000", "STREAMS", "a", "b", "c", "d", "$", "$", "$", "$",
        ],
    );
    wait_blocked(&s, 1);
    s.cli(&["XADD", "c", "7-0", "x", "1"]);
    assert_eq!(
        reply(&mut waiter),
        "*1\r\n*2\r\n$1\r\nc\r\n*1\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    );
}

#[test]
fn blocked_reads_time_out_with_a_null() {
    // Guards the timeout reply (a null array, as Redis) in both protocols.
    let s = Server::start(&[]);
    let mut c = s.raw();
    let t0 = Instant::now();
    send(
        &mut c,
        &["XREAD", "BLOCK", "100", "STREAMS", "nothing", "$"],
    );
    assert_eq!(reply(&mut c), "*-1\r\n");
    assert!(t0.elapsed() >= Duration::from_millis(90));
    s.cli(&["XGROUP", "CREATE", "g", "grp", "$", "MKSTREAM"]);
    send(&mut c, &["HELLO", "3"]);
    reply(&mut c);
    send(
        &mut c,
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "c1",
            "BLOCK",
            "100",
            "STREAMS",
            "g",
            ">",
        ],
    );
    assert_eq!(reply(&mut c), "_\r\n");
}

#[test]
fn xreadgroup_waits_then_delivers_into_the_pel() {
    // Guards `>` blocking, delivery into the consumer's PEL when served later, and a
    // destroyed group or deleted key unblocking its readers with NOGROUP.
    for threads in ["1", "3"] {
        let s = Server::start(&["--server-threads", threads]);
        s.cli(&["XGROUP", "CREATE", "q", "grp", "$", "MKSTREAM"]);
        let mut w = s.raw();
        send(
            &mut w,
            &[
                "XREADGROUP",
                "GROUP",
                "grp",
                "alice",
                "BLOCK",
                "5000",
                "STREAMS",
                "q",
                ">",
            ],
        );
        wait_blocked(&s, 1);
        s.cli(&["XADD", "q", "1-0", "job", "1"]);
        assert_eq!(
            reply(&mut w),
            "*1\r\n*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$3\r\njob\r\n$1\r\n1\r\n"
        );
        let pending = s.cli(&["XPENDING", "q", "grp"]);
        assert_eq!(pending, "1\n1-0\n1-0\nalice\n1\n");

        send(
            &mut w,
            &[
                "XREADGROUP",
                "GROUP",
                "grp",
                "bob",
                "BLOCK",
                "5000",
                "STREAMS",
                "q",
                ">",
            ],
        );
        wait_blocked(&s, 1);
        s.cli(&["XGROUP", "DESTROY", "q", "grp"]);
        assert_eq!(
            reply(&mut w),
            "-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
        );

        s.cli(&["XGROUP", "CREATE", "q", "grp", "$"]);
        send(
            &mut w,
            &[
                "XREADGROUP",
                "GROUP",
                "grp",
                "bob",
                "BLOCK",
                "5000",
                "STREAMS",
                "q",
                ">",
            ],
        );
        wait_blocked(&s, 1);
        s.cli(&["DEL", "q"]);
        assert_eq!(
            reply(&mut w),
            "-NOGROUP No such key 'q' or consumer group 'grp' in XREADGROUP with GROUP option\r\n"
        );
    }
}

#[test]
fn block_inside_multi_answers_at_once_and_scripts_refuse_it() {
    // Guards Redis' answers where a client may not block.
    let s = Server::start(&[]);
    let mut c = s.raw();
    for (line, want) in [
        (&["MULTI"][..], "+OK\r\n"),
        (&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], "+QUEUED\r\n"),
        (&["EXEC"], "*1\r\n*-1\r\n"),
    ] {
        send(&mut c, line);
        assert_eq!(reply(&mut c), want);
    }
    send(
        &mut c,
        &[
            "EVAL",
            "return redis.call('xread','block','0','streams','s','$')",
            "0",
        ],
    );
    let r = reply(&mut c);
    assert!(
        r.starts_with("-ERR xread command is not allowed with BLOCK option from scripts"),
        "{r}"
    );
}

#[test]
fn cluster_mode_routes_stream_reads_by_their_keys() {
    // Guards the key specs: XREAD/XREADGROUP keys in different slots are CROSSSLOT, hash
    // tags keep them together, and a blocked reader whose slot loses its owner is answered.
    let s = Server::start(&["--cluster-enabled", "yes", "--server-threads", "2"]);
    assert_eq!(
        s.cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).trim(),
        "OK"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok") {
        assert!(Instant::now() < deadline, "cluster never became ok");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut c = s.raw();
    send(&mut c, &["XREAD", "STREAMS", "a", "b", "0", "0"]);
    assert_eq!(
        reply(&mut c),
        "-CROSSSLOT Keys in request don't hash to the same slot\r\n"
    );
    send(
        &mut c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "STREAMS",
            "a",
            "b",
            ">",
            ">",
        ],
    );
    assert_eq!(
        reply(&mut c),
        "-CROSSSLOT Keys in request don't hash to the same slot\r\n"
    );
    s.cli(&["XADD", "{t}1", "1-0", "f", "v"]);
    send(&mut c, &["XREAD", "STREAMS", "{t}1", "{t}2", "0", "0"]);
    assert_eq!(
        reply(&mut c),
        "*1\r\n*2\r\n$4\r\n{t}1\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    let slot = s.cli(&["CLUSTER", "KEYSLOT", "bs"]).trim().to_string();
    send(&mut c, &["XREAD", "BLOCK", "30000", "STREAMS", "bs", "$"]);
    wait_blocked(&s, 1);
    assert_eq!(s.cli(&["CLUSTER", "DELSLOTS", &slot]).trim(), "OK");
    assert_eq!(reply(&mut c), "-CLUSTERDOWN The cluster is down\r\n");
}

#[test]
fn a_woken_read_without_count_gets_at_most_a_thousand_entries() {
    // Guards Redis' limit for a blocked read served later (XREAD_BLOCKED_DEFAULT_COUNT).
    let s = Server::start(&[]);
    let mut w = s.raw();
    send(&mut w, &["XREAD", "BLOCK", "5000", "STREAMS", "big", "0"]);
    wait_blocked(&s, 1);
    s.cli(&[
        "EVAL",
        "for i = 1, 1500 do redis.call('xadd', 'big', '*', 'a', i) end",
        "0",
    ]);
    assert!(reply(&mut w).starts_with("*1\r\n*2\r\n$3\r\nbig\r\n*1000\r\n"));
}

/// Sends one space-separated line and reads its reply.
fn line(r: &mut Raw, l: &str) -> String {
    send(r, &l.split(' ').collect::<Vec<_>>());
    reply(r)
}

/// One scenario on redis-server and on slotd (`threads` shards): `setup` lines, then a reader
/// blocks on `reader`, another client runs `writes` in one MULTI/EXEC (so every write lands
/// before the reader is served), then the reader's reply and each `checks` line must be the
/// same bytes on both.
fn side_by_side(threads: &str, setup: &[&str], reader: &str, writes: &[&str], checks: &[&str]) {
    let Some(redis) = RedisServer::start("xwake") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", threads]);
    let run = |port: u16| -> Vec<String> {
        let mut c = Raw::connect(port);
        let mut w = Raw::connect(port);
        let mut got = Vec::new();
        for l in setup {
            got.push(line(&mut c, l));
        }
        if let Some(hello) = reader.strip_prefix("HELLO 3 ") {
            line(&mut w, "HELLO 3");
            send(&mut w, &hello.split(' ').collect::<Vec<_>>());
        } else {
            send(&mut w, &reader.split(' ').collect::<Vec<_>>());
        }
        std::thread::sleep(Duration::from_millis(300));
        got.push(line(&mut c, "MULTI"));
        for l in writes {
            got.push(line(&mut c, l));
        }
        got.push(line(&mut c, "EXEC"));
        got.push(reply(&mut w));
        for l in checks {
            got.push(line(&mut c, l));
        }
        got
    };
    let want = run(redis.port);
    let got = run(slotd.port);
    assert_eq!(got, want, "slotd ({threads} shards) vs redis for {reader}");
}

#[test]
fn a_woken_reader_answers_for_the_stream_that_woke_it() {
    // Guards Redis 7.0's serving of a blocked XREAD/XREADGROUP per ready key: a write to b then
    // to a (one EXEC) answers with b alone, COUNT applies to it, and only b's entries enter the
    // group's PEL (a's stay undelivered). Keys share a hash tag so that they live on one shard.
    let read_cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "XREAD BLOCK 0 STREAMS {t}a {t}b $ $",
            &[],
            &["XADD {t}b 1-0 f b1", "XADD {t}a 1-0 f a1"],
        ),
        (
            "XREAD COUNT 1 BLOCK 0 STREAMS {t}a {t}b 1-0 1-0",
            &["XADD {t}a 1-0 f a1", "XADD {t}b 1-0 f b1"],
            &[
                "XADD {t}b 2-0 f b2",
                "XADD {t}b 3-0 f b3",
                "XADD {t}a 2-0 f a2",
            ],
        ),
        (
            "HELLO 3 XREAD BLOCK 0 STREAMS {t}a {t}b $ $",
            &[],
            &["XADD {t}b 1-0 f b1", "XADD {t}a 1-0 f a1"],
        ),
    ];
    let groups = [
        "XGROUP CREATE {t}a g $ MKSTREAM",
        "XGROUP CREATE {t}b g $ MKSTREAM",
    ];
    let group_checks = [
        "XPENDING {t}a g",
        "XPENDING {t}b g",
        "XINFO GROUPS {t}a",
        "XINFO GROUPS {t}b",
        "XREADGROUP GROUP g other STREAMS {t}a {t}b > >",
    ];
    let group_writes = [
        "XADD {t}b 1-0 f b1",
        "XADD {t}b 2-0 f b2",
        "XADD {t}a 1-0 f a1",
    ];
    for threads in ["1", "3"] {
        for (reader, setup, writes) in read_cases {
            side_by_side(threads, setup, reader, writes, &[]);
        }
        side_by_side(
            threads,
            &groups,
            "XREADGROUP GROUP g c BLOCK 0 STREAMS {t}a {t}b > >",
            &group_writes,
            &group_checks,
        );
        side_by_side(
            threads,
            &groups,
            "XREADGROUP GROUP g c COUNT 1 BLOCK 0 STREAMS {t}a {t}b > >",
            &group_writes,
            &group_checks,
        );
        side_by_side(
            threads,
            &groups,
            "XREADGROUP GROUP g c BLOCK 0 NOACK STREAMS {t}a {t}b > >",
            &group_writes,
            &group_checks,
        );
        // The first ready key is b, whose group is gone: NOGROUP, though a has entries.
        side_by_side(
            threads,
            &groups,
            "XREADGROUP GROUP g c BLOCK 0 STREAMS {t}a {t}b > >",
            &["XGROUP DESTROY {t}b g", "XADD {t}a 1-0 f a1"],
            &["XPENDING {t}a g"],
        );
        // a's group is gone but only b became ready: served from b.
        side_by_side(
            threads,
            &groups,
            "XREADGROUP GROUP g c BLOCK 0 STREAMS {t}a {t}b > >",
            &["XADD {t}b 1-0 f b1", "XGROUP DESTROY {t}a g"],
            &["XPENDING {t}b g"],
        );
    }
}

#[test]
fn a_polled_reader_over_several_shards_answers_for_one_stream() {
    // Guards the shape when the streams live on different cores (standalone, three shards):
    // the waiter is retried at the cron, not woken by a key, and answers for the first stream
    // named that has entries, one stream as Redis answers, never both.
    let s = Server::start(&["--server-threads", "3"]);
    let mut w = s.raw();
    // bar lives on shard 0 and foo on shard 2 (slot % 3).
    send(
        &mut w,
        &["XREAD", "BLOCK", "5000", "STREAMS", "bar", "foo", "$", "$"],
    );
    wait_blocked(&s, 1);
    let mut c = s.raw();
    for l in ["MULTI", "XADD foo 1-0 f foo1", "XADD bar 1-0 f bar1"] {
        line(&mut c, l);
    }
    line(&mut c, "EXEC");
    assert_eq!(
        reply(&mut w),
        "*1\r\n*2\r\n$3\r\nbar\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$4\r\nbar1\r\n"
    );
}
