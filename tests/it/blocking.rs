//! Blocking list and sorted-set commands with the real binary: woken by a push from another
//! connection on any core, timeouts, FIFO order, no element lost when a waiter disconnects,
//! and no blocking inside MULTI.

use crate::common::{Raw, Server};
use std::time::{Duration, Instant};

/// Reads exactly the expected reply and compares.
fn expect(r: &mut Raw, want: &[u8]) {
    let got = r.read_n(want.len());
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

fn blocked_client(s: &Server, cmd: &[u8]) -> Raw {
    let mut r = s.raw();
    r.send(cmd);
    // Give the command time to reach its shard and park.
    std::thread::sleep(Duration::from_millis(150));
    r
}

#[test]
fn pushes_from_other_connections_wake_waiters_on_any_shard() {
    // Guards the wake-up path across cores and FIFO order between two waiters.
    for threads in ["1", "3"] {
        let s = Server::start(&["--server-threads", threads]);
        let mut first = blocked_client(&s, b"BLPOP q 10\r\n");
        let mut second = blocked_client(&s, b"BLPOP q 10\r\n");
        let mut c = s.client();
        let _: () = redis::cmd("RPUSH")
            .arg("q")
            .arg("a")
            .arg("b")
            .query(&mut c)
            .unwrap();
        expect(&mut first, b"*2\r\n$1\r\nq\r\n$1\r\na\r\n");
        expect(&mut second, b"*2\r\n$1\r\nq\r\n$1\r\nb\r\n");
        let mut z = blocked_client(&s, b"BZPOPMAX zz 10\r\n");
        let _: () = redis::cmd("ZADD")
            .arg("zz")
            .arg(2)
            .arg("m")
            .query(&mut c)
            .unwrap();
        expect(&mut z, b"*3\r\n$2\r\nzz\r\n$1\r\nm\r\n$1\r\n2\r\n");
        let mut mv = blocked_client(&s, b"BLMOVE src dst LEFT RIGHT 10\r\n");
        let _: () = redis::cmd("LPUSH")
            .arg("src")
            .arg("x")
            .query(&mut c)
            .unwrap();
        expect(&mut mv, b"$1\r\nx\r\n");
        let dst: Vec<String> = redis::cmd("LRANGE")
            .arg("dst")
            .arg(0)
            .arg(-1)
            .query(&mut c)
            .unwrap();
        assert_eq!(dst, vec!["x"]);
    }
}

#[test]
fn timeouts_answer_null_and_zero_waits() {
    // Guards timeouts (a null array after roughly the time asked) and that a pipelined
    // command after a blocked one waits its turn.
    let s = Server::start(&["--server-threads", "2"]);
    let mut r = s.raw();
    let t0 = Instant::now();
    r.send(b"BLPOP nothing 0.3\r\nPING\r\n");
    expect(&mut r, b"*-1\r\n+PONG\r\n");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(280) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    r.send(b"BLPOP nothing -1\r\n");
    expect(&mut r, b"-ERR timeout is negative\r\n");
}

#[test]
fn a_waiter_that_disconnects_takes_nothing() {
    // Guards that a closed client's wait is forgotten: the element goes to the next reader.
    let s = Server::start(&["--server-threads", "3"]);
    let gone = blocked_client(&s, b"BLPOP q2 0\r\n");
    drop(gone);
    std::thread::sleep(Duration::from_millis(300));
    let mut c = s.client();
    let _: () = redis::cmd("RPUSH")
        .arg("q2")
        .arg("kept")
        .query(&mut c)
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let v: Vec<String> = redis::cmd("LRANGE")
        .arg("q2")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec!["kept"]);
}

#[test]
fn blocking_commands_do_not_block_inside_multi() {
    // Guards Redis' rule: inside a transaction a blocking pop answers at once.
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.send(b"MULTI\r\nBLPOP empty 10\r\nBZPOPMIN emptyz 10\r\nEXEC\r\n");
    expect(&mut r, b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n*-1\r\n*-1\r\n");
}

#[test]
fn a_waiter_whose_slot_stops_being_served_gets_the_error() {
    // Guards cluster mode: when the slot of a blocked key loses its owner, the waiter is
    // answered instead of waiting forever; the node's state turns fail (full coverage), and
    // Redis 7.0 then answers "The cluster is down" (checked against redis-server).
    let s = Server::start(&["--cluster-enabled", "yes", "--server-threads", "2"]);
    assert_eq!(
        s.cli(&["cluster", "addslotsrange", "0", "16383"]).trim(),
        "OK"
    );
    let slot = s.cli(&["cluster", "keyslot", "bq"]).trim().to_string();
    let mut w = blocked_client(&s, b"BLPOP bq 30\r\n");
    assert_eq!(s.cli(&["cluster", "delslots", &slot]).trim(), "OK");
    expect(&mut w, b"-CLUSTERDOWN The cluster is down\r\n");
}
