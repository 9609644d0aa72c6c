//! What stream writes journal, checked by its effect: a stream with groups, pending entries
//! and consumers built by XADD (`*`, `ms-*`, `~` trims), XREADGROUP (with and without NOACK),
//! XCLAIM, XAUTOCLAIM, XACK, XDEL, XTRIM, XSETID and XGROUP reads back the same after a
//! restart from the AOF and on a replica (XINFO STREAM FULL, consumers' seen-time aside: Redis
//! refreshes it when it replays the propagated XCLAIMs too).

use crate::common::{free_port, Server};
use std::time::{Duration, Instant};

/// The writes, on streams `s` (groups), `t` (trims) and `u` (from a script and MULTI).
fn build(s: &Server) {
    let run = |args: &[&str]| s.cli(args);
    for i in 0..6 {
        run(&["XADD", "s", "*", "n", &i.to_string()]);
    }
    run(&["XADD", "s", "99999999999999-*", "n", "big"]);
    run(&["XGROUP", "CREATE", "s", "g", "0"]);
    run(&["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "7"]);
    run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "2",
        "STREAMS",
        "s",
        ">",
    ]);
    run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "NOACK",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ]);
    run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "carol",
        "COUNT",
        "3",
        "STREAMS",
        "s",
        ">",
    ]);
    run(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]);
    let first = s.cli(&["XRANGE", "s", "-", "+", "COUNT", "1"]);
    let first = first.lines().next().unwrap_or_default().to_string();
    run(&["XCLAIM", "s", "g", "dave", "0", &first, "RETRYCOUNT", "5"]);
    let third = s.cli(&["XRANGE", "s", "-", "+", "COUNT", "4"]);
    let ids: Vec<&str> = third.lines().filter(|l| l.contains('-')).collect();
    run(&["XDEL", "s", ids[2]]);
    run(&["XAUTOCLAIM", "s", "g", "erin", "0", "0", "COUNT", "2"]);
    run(&["XACK", "s", "g", ids[3]]);
    run(&[
        "XCLAIM",
        "s",
        "g",
        "dave",
        "0",
        "0-1",
        "LASTID",
        "99999999999999-5",
    ]);
    run(&["XGROUP", "CREATECONSUMER", "s", "g", "zed"]);
    run(&["XGROUP", "DELCONSUMER", "s", "g", "carol"]);
    run(&["XGROUP", "SETID", "s", "g2", "0"]);
    for i in 0..250 {
        run(&["XADD", "t", "MAXLEN", "~", "120", "*", "i", &i.to_string()]);
    }
    run(&["XTRIM", "t", "MINID", "~", "0"]);
    run(&[
        "XADD",
        "t",
        "MINID",
        "~",
        "99999999999999",
        "*",
        "last",
        "1",
    ]);
    run(&[
        "XSETID",
        "t",
        "99999999999999-9",
        "ENTRIESADDED",
        "999",
        "MAXDELETEDID",
        "1-1",
    ]);
    // Inside a script and a transaction, the same forms (in one MULTI/EXEC block).
    run(&["XGROUP", "CREATE", "u", "g", "$", "MKSTREAM"]);
    run(&[
        "EVAL",
        "redis.call('xadd', KEYS[1], '*', 'from', 'lua'); \
         return redis.call('xadd', KEYS[1], 'MAXLEN', '~', '1', '*', 'again', 'lua')",
        "1",
        "u",
    ]);
    let mut c = s.client();
    let _: redis::Value = redis::pipe()
        .atomic()
        .cmd("XREADGROUP")
        .arg(&["GROUP", "g", "frank", "STREAMS", "u", ">"])
        .cmd("XAUTOCLAIM")
        .arg(&["u", "g", "gina", "0", "0", "COUNT", "1", "JUSTID"])
        .query(&mut c)
        .expect("MULTI/EXEC");
}

/// XINFO STREAM FULL of the streams (and XLEN), each consumer's seen-time blanked. For `u`
/// the groups' read counter and lag are blanked too: Redis propagates XREADGROUP as XCLAIMs
/// whose LASTID moves the group but not its counter, so a replay (its own too) ends with the
/// counter unknown where the node had one.
fn state(s: &Server) -> String {
    let mut out = String::new();
    for key in ["s", "t", "u"] {
        out.push_str(&s.cli(&["XLEN", key]));
        let full = s.cli(&["XINFO", "STREAM", key, "FULL", "COUNT", "0"]);
        let mut blank = false;
        for line in full.lines() {
            out.push_str(if blank { "-" } else { line });
            out.push('\n');
            blank =
                line == "seen-time" || (key == "u" && (line == "entries-read" || line == "lag"));
        }
    }
    out
}

#[test]
fn streams_read_back_the_same_after_an_aof_restart() {
    // Guards the journaled forms: replaying them rebuilds the same stream and groups.
    for threads in ["1", "3"] {
        let args = ["--appendonly", "yes", "--server-threads", threads];
        let mut s = Server::start(&args);
        build(&s);
        let before = state(&s);
        for who in ["erin", "frank", "gina", "lua"] {
            assert!(before.contains(who), "{who}: {before}");
        }
        assert_eq!(s.stop(), Some(0));
        let dir = std::mem::take(&mut s.dir);
        let again = Server::start_in(free_port(), dir, &args).expect("restart");
        assert_eq!(
            state(&again),
            before,
            "after the restart ({threads} threads)"
        );
    }
}

#[test]
fn a_replica_holds_the_same_streams() {
    // Guards the replication stream of stream writes (the same journal feeds it).
    let m = Server::start(&["--server-threads", "3"]);
    let r = Server::start(&["--server-threads", "2"]);
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    build(&m);
    let want = state(&m);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = state(&r);
        if got == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replica differs:\n{got}\nmaster:\n{want}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The records of every `*.incr.aof` file under `dir/appendonlydir`, SELECTs left out and
/// the argument after TIME (a clock reading) blanked.
fn incr_records(dir: &std::path::Path) -> Vec<Vec<String>> {
    let mut names: Vec<_> = std::fs::read_dir(dir.join("appendonlydir"))
        .expect("AOF directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let b = std::fs::read(&p).expect("incr file");
        let mut lines = b
            .split(|&c| c == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        while let Some(head) = lines.next() {
            let Some(n) = head.strip_prefix(b"*") else {
                continue;
            };
            let n: usize = String::from_utf8_lossy(n).parse().expect("array length");
            let mut rec: Vec<String> = (0..n)
                .map(|_| {
                    lines.next();
                    String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned()
                })
                .collect();
            for i in 1..rec.len() {
                if rec[i - 1] == "TIME" {
                    rec[i] = "T".into();
                }
            }
            if !rec[0].eq_ignore_ascii_case("select") {
                out.push(rec);
            }
        }
    }
    out
}

#[test]
fn the_journal_holds_what_redis_writes_to_its_aof() {
    // Guards the propagated forms themselves: the same commands leave the same AOF records
    // (clock readings aside) in redis-server 7.0 and in slotd.
    let rdir = crate::common::test_dir("streams-redis-aof");
    let rdir_s = rdir.display().to_string();
    let Some(redis) = crate::common::RedisServer::start_with(
        "streams-redis-aof",
        &[
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
            "--dir",
            &rdir_s,
        ],
    ) else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let mut s = Server::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let script: &[&str] = &[
        "XADD s 1-0 a 1",
        "XADD s 1-* b 2",
        "XADD s 5-* c 3",
        "XADD s MAXLEN ~ 2 LIMIT 10 6-0 d 4",
        "XADD s MINID ~ 0 7-0 e 5",
        "XADD s MAXLEN 100 8-0 f 6",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
        "XREADGROUP GROUP g bob NOACK COUNT 1 STREAMS s >",
        "XREADGROUP GROUP g alice STREAMS s 0",
        "XREADGROUP GROUP g carol STREAMS s >",
        "XDEL s 1-1",
        "XCLAIM s g dave 0 1-0 RETRYCOUNT 3",
        "XCLAIM s g dave 0 1-1",
        "XAUTOCLAIM s g erin 0 0 COUNT 2",
        "XCLAIM s g dave 0 0-1 LASTID 9-0",
        "XACK s g 5-0",
        "XTRIM s MAXLEN ~ 0",
        "XTRIM s MAXLEN = 100",
        "XTRIM s MINID 6",
        "XGROUP CREATECONSUMER s g zed",
        "XGROUP DELCONSUMER s g zed",
        "XSETID s 10-0",
        "XGROUP SETID s g 0 ENTRIESREAD 1",
        "XGROUP DESTROY s g",
        "XGROUP CREATE s2 g $ MKSTREAM",
        "XADD s2 NOMKSTREAM 1-0 a 1",
        "XADD nokey NOMKSTREAM 1-0 a 1",
    ];
    for line in script {
        let args: Vec<&str> = line.split(' ').collect();
        let want = crate::common::cli(redis.port, &args);
        let got = s.cli(&args);
        assert_eq!(got, want, "{line}");
    }
    // Both have written (appendfsync always here; redis-server's default is everysec).
    std::thread::sleep(Duration::from_millis(1500));
    let want = incr_records(&rdir);
    assert_eq!(s.stop(), Some(0));
    let got = incr_records(&s.dir);
    let xclaims = want.iter().filter(|r| r[0] == "XCLAIM").count();
    assert!(want.len() > 25 && xclaims >= 6, "{want:?}");
    assert_eq!(got, want);
}
