//! FUNCTION and FCALL side by side with Debian's redis-server 7.0: the same command lines get
//! byte-identical replies (RESP2 and RESP3), DUMP payloads restore in both directions, and the
//! libraries survive restarts, AOF rewrites and failovers. Skipped with a message when
//! redis-server is not installed.

use crate::common::{cmd, Raw, RedisServer as Redis, Server};
use crate::compare::{read_reply, reply_len};

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

    /// Like `same` for FUNCTION LIST, whose libraries (and each library's functions) Redis
    /// lists in its hash tables' order, which changes from run to run: compared sorted.
    fn same_listing(&mut self, args: &[&[u8]]) {
        let req = cmd(args);
        self.redis.send(&req);
        self.slotd.send(&req);
        let a = sorted_listing(&read_reply(&mut self.redis));
        let b = sorted_listing(&read_reply(&mut self.slotd));
        assert_eq!(
            String::from_utf8_lossy(&b),
            String::from_utf8_lossy(&a),
            "slotd vs redis for {:?}",
            String::from_utf8_lossy(&req)
        );
    }

    /// Sends `args` to both, replies unchecked (HELLO: client ids differ).
    fn both(&mut self, args: &[&[u8]]) {
        let req = cmd(args);
        self.redis.send(&req);
        self.slotd.send(&req);
        read_reply(&mut self.redis);
        read_reply(&mut self.slotd);
    }

    /// `line`, compared sorted when it is a FUNCTION LIST.
    fn list_or_line(&mut self, line: &str) {
        if line.starts_with("FUNCTION LIST") {
            let parts: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            self.same_listing(&parts);
        } else {
            self.line(line);
        }
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

/// An aggregate reply split into its header line and its elements (each whole RESP).
fn split(b: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let nl = b.iter().position(|&c| c == b'\n').expect("header") + 1;
    let mut n: usize = std::str::from_utf8(&b[1..nl - 2]).unwrap().parse().unwrap();
    if b[0] == b'%' {
        n *= 2;
    }
    let mut at = nl;
    let mut items = Vec::new();
    for _ in 0..n {
        let len = reply_len(&b[at..]).expect("whole element");
        items.push(b[at..at + len].to_vec());
        at += len;
    }
    (b[..nl].to_vec(), items)
}

/// A FUNCTION LIST reply with its libraries, and each library's functions, sorted.
fn sorted_listing(reply: &[u8]) -> Vec<u8> {
    if !matches!(reply[0], b'*' | b'%') {
        return reply.to_vec();
    }
    let (head, libs) = split(reply);
    let mut libs: Vec<Vec<u8>> = libs
        .into_iter()
        .map(|lib| {
            let (lib_head, mut fields) = split(&lib);
            if let Some(i) = fields.iter().position(|f| f == b"$9\r\nfunctions\r\n") {
                let (fh, mut functions) = split(&fields[i + 1]);
                functions.sort();
                fields[i + 1] = [fh, functions.concat()].concat();
            }
            [lib_head, fields.concat()].concat()
        })
        .collect();
    libs.sort();
    [head, libs.concat()].concat()
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

// ---------------------------------------------------------------------------------------------
// With libraries (the engine compiles them)
// ---------------------------------------------------------------------------------------------

/// A library with one writing and one read-only function (with a description).
const LIB1: &str = "#!lua name=lib1\n\
    redis.register_function('f1', function(keys, args) \
    return redis.call('SET', keys[1], args[1]) end)\n\
    redis.register_function{function_name='f1ro', callback=function(keys, args) \
    return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads one key'}";
/// A library with one function.
const LIB2: &str = "#!lua name=lib2\nredis.register_function('f2', function() return 2 end)";
/// LIB2's name with other code.
const LIB2B: &str = "#!lua name=lib2\nredis.register_function('f2b', function() return 3 end)";
/// A library whose function clashes (without case) with LIB2's.
const CLASH: &str = "#!lua name=lib3\nredis.register_function('F2', function() return 4 end)";

fn load(p: &mut Pair, code: &str) -> Vec<u8> {
    p.same(&[b"FUNCTION", b"LOAD", code.as_bytes()])
}

#[test]
fn load_list_delete_match_redis() {
    // Guards LOAD (reply, name clashes, REPLACE, errors raised while loading, empty
    // libraries), LIST (shape in RESP2 and RESP3, LIBRARYNAME, WITHCODE), DELETE and STATS.
    let Some((redis, slotd)) = start(&["--server-threads", "2"]) else {
        return;
    };
    let mut p = pair(&redis, &slotd);
    load(&mut p, LIB2);
    load(&mut p, LIB2);
    load(&mut p, LIB2B);
    p.same(&[b"FUNCTION", b"LOAD", b"REPLACE", LIB2B.as_bytes()]);
    load(&mut p, CLASH);
    p.same(&[b"FUNCTION", b"LOAD", b"REPLACE", LIB2.as_bytes()]);
    load(&mut p, CLASH);
    load(&mut p, "#!lua name=empty\nreturn 1");
    load(&mut p, "#!lua name=bad\nerror('boom')");
    load(&mut p, "#!lua name=bad\nthis is not lua");
    load(&mut p, "#!lua name=lib2\nthis is not lua");
    load(
        &mut p,
        "#!lua name=badf\nredis.register_function('a-b', function() return 1 end)",
    );
    load(&mut p, LIB1);
    for field in ["number_of_functions", "number_of_libraries"] {
        let mem = |port| {
            let info = crate::common::cli(port, &["INFO", "memory"]);
            info.lines()
                .find(|l| l.starts_with(field))
                .map(str::to_string)
        };
        assert_eq!(mem(slotd.port), mem(redis.port));
    }
    for line in [
        "FUNCTION LIST LIBRARYNAME lib2",
        "FUNCTION LIST LIBRARYNAME lib2 WITHCODE",
        "FUNCTION LIST LIBRARYNAME LIB*",
        "FUNCTION LIST LIBRARYNAME nomatch*",
        "FUNCTION STATS",
        "FUNCTION DELETE LIB2",
        "FUNCTION DELETE lib2",
        "FUNCTION LIST LIBRARYNAME lib2",
        "FUNCTION LIST",
        "FUNCTION LIST WITHCODE",
        "FUNCTION STATS",
    ] {
        p.list_or_line(line);
    }
    p.both(&[b"HELLO", b"3"]);
    for line in [
        "FUNCTION LIST",
        "FUNCTION LIST WITHCODE",
        "FUNCTION STATS",
        "FUNCTION FLUSH",
        "FUNCTION LIST",
        "FUNCTION STATS",
    ] {
        p.list_or_line(line);
    }
}

#[test]
fn dump_restore_cross_with_redis() {
    // Guards DUMP/RESTORE both ways: a payload of redis-server restores into slotd and the
    // reverse, the bytes are equal for the same library, and the policies' errors match.
    let Some((redis, slotd)) = start(&["--server-threads", "2"]) else {
        return;
    };
    let mut p = pair(&redis, &slotd);
    load(&mut p, LIB1);
    p.line("CONFIG SET rdbcompression no");
    p.line("FUNCTION DUMP");
    p.line("CONFIG SET rdbcompression yes");
    let from_both = p.line("FUNCTION DUMP");
    let payload = bulk_body(&from_both);
    p.line("FUNCTION FLUSH");
    p.same(&[b"FUNCTION", b"RESTORE", &payload]);
    p.same(&[b"FUNCTION", b"RESTORE", &payload]);
    p.same(&[b"FUNCTION", b"RESTORE", &payload, b"APPEND"]);
    p.same(&[b"FUNCTION", b"RESTORE", &payload, b"REPLACE"]);
    load(&mut p, LIB2);
    p.same(&[b"FUNCTION", b"RESTORE", &payload, b"FLUSH"]);
    p.list_or_line("FUNCTION LIST WITHCODE");
    // The other way round: each server restores the other's dump of two libraries.
    load(&mut p, LIB2);
    let mut r = Raw::connect(redis.port);
    let mut s = slotd.raw();
    let from_redis = bulk_body(&call(&mut r, &[b"FUNCTION", b"DUMP"]));
    let from_slotd = bulk_body(&call(&mut s, &[b"FUNCTION", b"DUMP"]));
    for (conn, payload) in [(&mut r, &from_slotd), (&mut s, &from_redis)] {
        assert_eq!(call(conn, &[b"FUNCTION", b"FLUSH"]), b"+OK\r\n");
        assert_eq!(call(conn, &[b"FUNCTION", b"RESTORE", payload]), b"+OK\r\n");
    }
    p.list_or_line("FUNCTION LIST LIBRARYNAME lib1 WITHCODE");
    p.line("FUNCTION LIST LIBRARYNAME lib2 WITHCODE");
    p.line("FUNCTION STATS");
}

/// Sends one command on a raw connection and reads its reply.
fn call(r: &mut Raw, args: &[&[u8]]) -> Vec<u8> {
    r.send(&cmd(args));
    read_reply(r)
}

/// FUNCTION LIST WITHCODE of a server (name order in slotd).
fn listing(port: u16) -> Vec<u8> {
    call(
        &mut Raw::connect(port),
        &[b"FUNCTION", b"LIST", b"WITHCODE"],
    )
}

fn persistence_field(port: u16, field: &str) -> String {
    let info = crate::common::cli(port, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

#[test]
fn libraries_survive_restarts_and_rewrites() {
    // Guards durability: FUNCTION changes are in the AOF once (shard 0's), a restart with any
    // shard count loads the same libraries, and BGREWRITEAOF writes them into the new base
    // (the old incr files are gone after it, so a restart then reads them from there), as
    // does DEBUG RELOAD.
    let args = [
        "--appendonly",
        "yes",
        "--server-threads",
        "2",
        "--enable-debug-command",
        "yes",
    ];
    let mut s = Server::start(&args);
    let mut c = s.raw();
    for code in [LIB1, LIB2, CLASH] {
        call(&mut c, &[b"FUNCTION", b"LOAD", code.as_bytes()]);
    }
    assert_eq!(call(&mut c, &[b"FUNCTION", b"DELETE", b"lib2"]), b"+OK\r\n");
    // A change inside a transaction is journaled inside its MULTI/EXEC block.
    call(&mut c, &[b"MULTI"]);
    call(&mut c, &[b"SET", b"k", b"v"]);
    call(&mut c, &[b"FUNCTION", b"LOAD", CLASH.as_bytes()]);
    assert_eq!(call(&mut c, &[b"EXEC"]), b"*2\r\n+OK\r\n$4\r\nlib3\r\n");
    let want = listing(s.port);
    assert!(
        want.starts_with(b"*2\r\n"),
        "{}",
        String::from_utf8_lossy(&want)
    );
    assert_eq!(s.cli(&["DEBUG", "RELOAD"]).trim(), "OK");
    assert_eq!(listing(s.port), want, "after DEBUG RELOAD");
    for threads in ["2", "1", "3"] {
        let mut a = args.to_vec();
        a[3] = threads;
        s = restart(s, &a);
        assert_eq!(
            listing(s.port),
            want,
            "after a restart with {threads} shards"
        );
    }
    let rewrites = persistence_field(s.port, "aof_rewrites");
    assert_eq!(
        s.cli(&["BGREWRITEAOF"]).trim(),
        "Background append only file rewriting started"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while persistence_field(s.port, "aof_rewrites") == rewrites
        || persistence_field(s.port, "aof_rewrite_in_progress") != "0"
    {
        assert!(std::time::Instant::now() < deadline, "rewrite not done");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    s = restart(s, &args);
    assert_eq!(listing(s.port), want, "after BGREWRITEAOF and a restart");
    let mut c = s.raw();
    let payload = bulk_body(&call(&mut c, &[b"FUNCTION", b"DUMP"]));
    call(&mut c, &[b"FUNCTION", b"FLUSH"]);
    call(&mut c, &[b"FUNCTION", b"RESTORE", &payload]);
    s = restart(s, &args);
    assert_eq!(listing(s.port), want, "after FLUSH, RESTORE and a restart");
    call(&mut s.raw(), &[b"FUNCTION", b"FLUSH"]);
    s = restart(s, &args);
    assert_eq!(listing(s.port), b"*0\r\n");
}

/// Stops `s` and starts a new server on its directory (and AOF) with `args`.
fn restart(mut s: Server, args: &[&str]) -> Server {
    assert_eq!(s.stop(), Some(0), "clean stop");
    let dir = std::mem::take(&mut s.dir);
    drop(s);
    Server::start_in(crate::common::free_port(), dir, args).expect("restart")
}

#[test]
fn replicas_get_libraries_by_full_sync_and_stream() {
    // Guards replication: libraries loaded before a replica attaches reach it with the full
    // sync (replacing what it had), later changes with the stream, whatever the shard counts.
    let m = Server::start(&["--server-threads", "2"]);
    let mut mc = m.raw();
    call(&mut mc, &[b"FUNCTION", b"LOAD", LIB1.as_bytes()]);
    let r = Server::start(&["--server-threads", "3"]);
    let mut rc = r.raw();
    call(&mut rc, &[b"FUNCTION", b"LOAD", LIB2B.as_bytes()]);
    let mp = m.port.to_string();
    assert_eq!(r.cli(&["REPLICAOF", "127.0.0.1", &mp]).trim(), "OK");
    let wait_same = |what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while listing(r.port) != listing(m.port) {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    wait_same("the full sync carries the libraries");
    call(&mut mc, &[b"FUNCTION", b"LOAD", LIB2.as_bytes()]);
    call(&mut mc, &[b"FUNCTION", b"DELETE", b"lib1"]);
    wait_same("the stream carries LOAD and DELETE");
    let p = bulk_body(&call(&mut mc, &[b"FUNCTION", b"DUMP"]));
    call(&mut mc, &[b"FUNCTION", b"FLUSH"]);
    call(&mut mc, &[b"FUNCTION", b"RESTORE", &p]);
    wait_same("the stream carries FLUSH and RESTORE");
    assert!(listing(r.port).starts_with(b"*1\r\n"));
    let refused = call(&mut rc, &[b"FUNCTION", b"LOAD", LIB1.as_bytes()]);
    assert!(
        refused.starts_with(b"-READONLY"),
        "{}",
        String::from_utf8_lossy(&refused)
    );
}

/// A library exercising FCALL: keys and args, writes, read-only and flagged functions.
const CALLS: &str = "#!lua name=calls\n\
    redis.register_function('echo', function(keys, args) return {keys, args} end)\n\
    redis.register_function('setk', function(keys, args) \
    return redis.call('SET', keys[1], args[1]) end)\n\
    redis.register_function{function_name='getk', callback=function(keys, args) \
    return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n\
    redis.register_function{function_name='sneaky', callback=function(keys, args) \
    return redis.call('SET', keys[1], 'x') end, flags={'no-writes'}}\n\
    redis.register_function{function_name='nocl', callback=function() return 'ok' end, \
    flags={'no-writes', 'no-cluster'}}\n\
    redis.register_function('oops', function() return redis.error_reply('MY err') end)\n\
    redis.register_function('boom', function() error('bad thing') end)";

#[test]
fn fcall_matches_redis() {
    // Guards FCALL / FCALL_RO: lookup without case, numkeys errors, keys and args, writes,
    // FCALL_RO refusing a function without no-writes, no-writes enforced inside the function,
    // errors raised by the function, RESP3, with several shards (keys on any of them).
    let Some((redis, slotd)) = start(&["--server-threads", "3"]) else {
        return;
    };
    let mut p = pair(&redis, &slotd);
    load(&mut p, CALLS);
    for line in [
        "FCALL nosuch 0",
        "FCALL nosuch x",
        "FCALL nosuch 5",
        "FCALL nosuch -1",
        "FCALL_RO nosuch 2 a",
        "COMMAND GETKEYS FCALL nosuch x",
        "COMMAND GETKEYS FCALL echo 0",
        "COMMAND GETKEYS EVAL s 0",
        "COMMAND GETKEYS EVAL s 5 a",
        "COMMAND GETKEYSANDFLAGS FCALL echo -1",
        "FCALL echo",
        "FCALL echo x",
        "FCALL echo 3 a",
        "FCALL echo -1",
        "FCALL echo 0",
        "FCALL ECHO 2 k1 k2 a1 a2",
        "FCALL setk 1 k1 v1",
        "FCALL setk 1 k2 v2",
        "FCALL getk 1 k1",
        "FCALL_RO getk 1 k2",
        "FCALL_RO setk 1 k3 v3",
        "FCALL sneaky 1 k1",
        "FCALL_RO sneaky 1 k1",
        "FCALL nocl 0",
        "FCALL oops 0",
        "FCALL boom 0",
        "GET k1",
        "GET k3",
    ] {
        p.line(line);
    }
    // Inside MULTI: a library loaded by the transaction is callable later in it.
    let multi = "#!lua name=m1\nredis.register_function('mf', function(k) \
                 return redis.call('INCR', k[1]) end)";
    p.line("MULTI");
    p.same(&[b"FUNCTION", b"LOAD", multi.as_bytes()]);
    for line in [
        "FCALL mf 1 cnt",
        "FUNCTION LIST LIBRARYNAME m1",
        "EXEC",
        "FCALL mf 1 cnt",
        "MULTI",
        "FUNCTION DELETE nosuch",
        "FUNCTION LOAD bad",
        "EXEC",
    ] {
        p.line(line);
    }
    p.both(&[b"HELLO", b"3"]);
    p.line("FCALL echo 1 k a");
    p.line("FCALL getk 1 k1");
}

#[test]
fn fcall_in_cluster_mode_refuses_no_cluster_and_redirects() {
    // Guards FCALL in cluster mode: a no-cluster function is refused with Redis' text, keys of
    // two slots are CROSSSLOT, and a function runs where its key's slot is served.
    let s = Server::start(&["--cluster-enabled", "yes", "--server-threads", "2"]);
    assert_eq!(
        s.cli(&["cluster", "addslotsrange", "0", "16383"]).trim(),
        "OK"
    );
    let mut c = s.raw();
    call(&mut c, &[b"FUNCTION", b"LOAD", CALLS.as_bytes()]);
    let nocl = call(&mut c, &[b"FCALL", b"nocl", b"0"]);
    assert_eq!(
        nocl,
        b"-ERR Can not run script on cluster, 'no-cluster' flag is set.\r\n".to_vec()
    );
    let cross = call(&mut c, &[b"FCALL", b"echo", b"2", b"a", b"b"]);
    assert!(
        cross.starts_with(b"-CROSSSLOT"),
        "{}",
        String::from_utf8_lossy(&cross)
    );
    for key in ["a", "b", "{x}1"] {
        let set = call(&mut c, &[b"FCALL", b"setk", b"1", key.as_bytes(), b"v"]);
        assert_eq!(set, b"+OK\r\n");
        let get = call(&mut c, &[b"FCALL_RO", b"getk", b"1", key.as_bytes()]);
        assert_eq!(get, b"$1\r\nv\r\n");
    }
}

#[test]
fn promoted_replica_runs_the_libraries() {
    // Guards failover: a one-master cluster with one replica; a library loaded on the master
    // (and one loaded before the replica attached) reaches the replica, and once promoted by
    // CLUSTER FAILOVER TAKEOVER it runs them with FCALL.
    let (m, r) = crate::cluster::master_and_spare();
    let mut mc = m.raw();
    call(&mut mc, &[b"FUNCTION", b"LOAD", LIB2.as_bytes()]);
    crate::cluster::attach_replica(&m, &r);
    call(&mut mc, &[b"FUNCTION", b"LOAD", CALLS.as_bytes()]);
    let set = call(&mut mc, &[b"FCALL", b"setk", b"1", b"k", b"before"]);
    assert_eq!(set, b"+OK\r\n");
    let acked = call(&mut mc, &[b"WAIT", b"1", b"10000"]);
    assert_eq!(acked, b":1\r\n");
    crate::cluster::take_over(&r);
    let mut rc = r.raw();
    assert_eq!(call(&mut rc, &[b"FCALL", b"f2", b"0"]), b":2\r\n");
    assert_eq!(
        call(&mut rc, &[b"FCALL_RO", b"getk", b"1", b"k"]),
        b"$6\r\nbefore\r\n"
    );
    assert_eq!(
        call(&mut rc, &[b"FCALL", b"setk", b"1", b"k", b"after"]),
        b"+OK\r\n"
    );
    assert_eq!(listing(r.port), listing(m.port));
}

/// Functions with each flag, for the checks before and during a run.
const FLAGGED: &str = "#!lua name=fl\n\
    redis.register_function('w', function(keys) return redis.call('SET', keys[1], 'v') end)\n\
    redis.register_function{function_name='r', callback=function(keys) \
    return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n\
    redis.register_function{function_name='woom', callback=function(keys) \
    return redis.call('SET', keys[1], 'v') end, flags={'allow-oom'}}\n\
    redis.register_function{function_name='rstale', callback=function() return 'ok' end, \
    flags={'no-writes','allow-stale'}}\n\
    redis.register_function{function_name='cross', callback=function() \
    return redis.call('GET', 'zzz') end, flags={'no-writes'}}\n\
    redis.register_function{function_name='crossok', callback=function() \
    return redis.call('GET', 'zzz') end, flags={'no-writes','allow-cross-slot-keys'}}";

#[test]
fn function_flags_match_redis() {
    // Guards the flags FCALL enforces as Redis: over maxmemory only no-writes and allow-oom
    // functions run, an undeclared key is read in standalone mode, and on a replica writing
    // functions (and FUNCTION changes) are READONLY while no-writes ones run.
    let Some((redis, slotd)) = start(&["--server-threads", "2"]) else {
        return;
    };
    let mut p = pair(&redis, &slotd);
    load(&mut p, FLAGGED);
    for line in [
        "CONFIG SET maxmemory 1",
        "FCALL w 1 k",
        "FCALL woom 1 k",
        "FCALL r 1 k",
        "FCALL_RO r 1 k",
        "CONFIG SET maxmemory 0",
        "FCALL cross 1 k",
        "FCALL crossok 1 k",
        "FCALL cross 0",
        "REPLICAOF 127.0.0.1 1",
        "FCALL w 1 k",
        "FCALL rstale 0",
        "FCALL_RO rstale 0",
        "FUNCTION DELETE fl",
        "FUNCTION FLUSH",
        "REPLICAOF NO ONE",
    ] {
        p.line(line);
    }
    p.same(&[b"FUNCTION", b"LOAD", b"REPLACE", FLAGGED.as_bytes()]);
}

/// A read-only function that spins for `ARGV[1]` milliseconds (by the server's clock).
const SPIN: &str = "#!lua name=busy\n\
    redis.register_function{function_name='spin', callback=function(keys, args) \
    local t = redis.call('TIME') local i = 0 \
    while true do i = i + 1 if i % 10000 == 0 then local n = redis.call('TIME') \
    if (n[1] - t[1]) * 1000 + (n[2] - t[2]) / 1000 > tonumber(args[1]) then break end end end \
    return 'done' end, flags={'no-writes'}}";

/// `reply` with the number after `duration_ms` replaced by 0.
fn mask_duration(reply: &[u8]) -> Vec<u8> {
    let key = b"$11\r\nduration_ms\r\n:";
    let Some(at) = reply.windows(key.len()).position(|w| w == key) else {
        return reply.to_vec();
    };
    let from = at + key.len();
    let to = from
        + reply[from..]
            .iter()
            .position(|&c| c == b'\r')
            .expect("number");
    [&reply[..from], b"0", &reply[to..]].concat()
}

#[test]
fn function_stats_and_kill_while_busy_match_redis() {
    // Guards FUNCTION STATS while a function runs past busy-reply-threshold (its name, the
    // FCALL line and a duration, in RESP2 and RESP3), SCRIPT KILL's refusal of a function,
    // FUNCTION KILL, and the killed function's error.
    let Some((redis, slotd)) = start(&["--server-threads", "2"]) else {
        return;
    };
    let mut runner = pair(&redis, &slotd);
    let mut other = pair(&redis, &slotd);
    runner.line("CONFIG SET busy-reply-threshold 50");
    load(&mut runner, SPIN);
    let req = cmd(&[b"FCALL", b"spin", b"1", b"somekey", b"3000"]);
    runner.redis.send(&req);
    runner.slotd.send(&req);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stats = |p: &mut Pair| {
        let req = cmd(&[b"FUNCTION", b"STATS"]);
        p.redis.send(&req);
        p.slotd.send(&req);
        let a = mask_duration(&read_reply(&mut p.redis));
        let b = mask_duration(&read_reply(&mut p.slotd));
        assert_eq!(String::from_utf8_lossy(&b), String::from_utf8_lossy(&a));
        assert!(
            b.windows(4).any(|w| w == b"spin"),
            "{}",
            String::from_utf8_lossy(&b)
        );
    };
    stats(&mut other);
    other.both(&[b"HELLO", b"3"]);
    stats(&mut other);
    other.line("SCRIPT KILL");
    other.line("FUNCTION KILL");
    let a = read_reply(&mut runner.redis);
    let b = read_reply(&mut runner.slotd);
    assert_eq!(String::from_utf8_lossy(&b), String::from_utf8_lossy(&a));
    other.line("FUNCTION STATS");
}
