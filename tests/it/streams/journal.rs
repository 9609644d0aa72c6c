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
