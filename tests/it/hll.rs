//! HyperLogLog side by side with Debian's redis-server 7.0: replies, value bytes (GET after the
//! same PFADDs), counts at several sizes in both encodings, errors for bad input, RESP3,
//! DUMP/RESTORE both ways, AOF restarts, and multi-key forms across shards. Skipped (with a
//! message) only when redis-server is not installed.

use crate::common::{cmd, free_port, Raw, RedisServer as Redis, Server};
use crate::compare::read_reply;

/// One connection to each server; every request goes to both.
struct Pair {
    redis: Raw,
    slotd: Raw,
}

impl Pair {
    fn new(redis: &Redis, slotd: &Server) -> Pair {
        Pair {
            redis: Raw::connect(redis.port),
            slotd: slotd.raw(),
        }
    }

    /// Sends `args` to both and asserts byte-equal replies; returns the reply.
    fn same(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let req = cmd(args);
        self.redis.send(&req);
        self.slotd.send(&req);
        let want = read_reply(&mut self.redis);
        let got = read_reply(&mut self.slotd);
        let show = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned();
        assert_eq!(
            show(&got),
            show(&want),
            "slotd vs redis for {:?}",
            args.iter()
                .take(4)
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        );
        assert_eq!(got, want, "full reply");
        want
    }

    /// Sends `args` to both and ignores the replies (HELLO: client ids differ).
    fn both(&mut self, args: &[&[u8]]) {
        let req = cmd(args);
        self.redis.send(&req);
        self.slotd.send(&req);
        read_reply(&mut self.redis);
        read_reply(&mut self.slotd);
    }

    fn line(&mut self, line: &str) -> Vec<u8> {
        let parts: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        self.same(&parts)
    }

    /// PFADDs `n` elements named `<tag>-<i>` to `key`, 1000 per command.
    fn add_many(&mut self, key: &str, tag: &str, n: usize) {
        let names: Vec<String> = (0..n).map(|i| format!("{tag}-{i}")).collect();
        for chunk in names.chunks(1000) {
            let mut args: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
            args.extend(chunk.iter().map(|s| s.as_bytes()));
            self.same(&args);
        }
    }
}

fn start(extra: &[&str]) -> Option<(Redis, Server)> {
    let Some(redis) = Redis::start("hll") else {
        eprintln!("redis-server not installed: comparison skipped");
        return None;
    };
    Some((redis, Server::start(extra)))
}

/// The bulk payload of a `$n\r\n...\r\n` reply.
fn bulk(reply: &[u8]) -> Vec<u8> {
    let nl = reply.iter().position(|&b| b == b'\n').expect("bulk header");
    reply[nl + 1..reply.len() - 2].to_vec()
}

#[test]
fn values_and_counts_match_redis() {
    // Same bytes and counts as redis-server after the same additions, sparse and dense.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    for n in [1usize, 100, 10_000, 200_000] {
        let key = format!("k{n}");
        p.add_many(&key, &key, n);
        for line in [
            "GET {k}",
            "PFCOUNT {k}",
            "GET {k}",
            "PFCOUNT {k}",
            "PFDEBUG ENCODING {k}",
            "PFDEBUG DECODE {k}",
            "PFCOUNT {k} k1 nosuch",
            "OBJECT ENCODING {k}",
            "STRLEN {k}",
        ] {
            p.line(&line.replace("{k}", &key));
        }
    }
    // One element per command: every in-place split and merge of the sparse runs.
    for i in 0..2500 {
        p.line(&format!("PFADD one e{i}"));
        if i % 50 == 0 {
            p.line("GET one");
        }
    }
    for line in [
        "GET one",
        "PFCOUNT one",
        "PFDEBUG ENCODING one",
        "PFADD none",
        "PFADD none",
        "GET none",
        "PFCOUNT none",
        "GET none",
        "PFDEBUG GETREG k100",
        "GET k100",
        "PFDEBUG TODENSE k1",
        "PFDEBUG TODENSE k1",
        "GET k1",
        "PFDEBUG GETREG k10000",
    ] {
        p.line(line);
    }
}

#[test]
fn pfmerge_matches_redis() {
    // Destination encoding and bytes as Redis: sparse inputs stay sparse, a dense input makes
    // the destination dense, the destination is a source too, missing sources are empty.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    p.add_many("a", "a", 50);
    p.add_many("b", "b", 300);
    p.add_many("big", "big", 20_000);
    for line in [
        "PFMERGE m a b",
        "GET m",
        "PFDEBUG ENCODING m",
        "PFCOUNT m",
        "PFMERGE m nosuch",
        "GET m",
        "PFMERGE a b",
        "GET a",
        "PFMERGE d a big",
        "GET d",
        "PFDEBUG ENCODING d",
        "PFCOUNT d",
        "PFMERGE b big",
        "GET b",
        "PFMERGE empty",
        "GET empty",
        "PFMERGE empty2 nosuch1 nosuch2",
        "GET empty2",
        "PFCOUNT a b big nosuch",
        "PFCOUNT a a",
    ] {
        p.line(line);
    }
}

#[test]
fn bad_input_matches_redis() {
    // Wrong types, non-HLL strings, corrupt HLLs, arity, PFDEBUG's errors, and the sparse
    // size limit from CONFIG SET.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    let hdr = |enc: u8, stale: u8| {
        let mut v = b"HYLL".to_vec();
        v.extend_from_slice(&[enc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, stale]);
        v
    };
    let short_runs = [hdr(1, 0x80), vec![0x7f, 0xfe]].concat(); // 16383 registers
    let long_runs = [hdr(1, 0x80), vec![0x7f, 0xff, 0x00]].concat(); // 16385 registers
    let val_past_end = [hdr(1, 0x80), vec![0x7f, 0xfe, 0x83]].concat();
    let no_runs = hdr(1, 0x80);
    let cached = [hdr(1, 0), vec![0x7f, 0xfe]].concat(); // corrupt, but the cache is valid
    let dense_short = [hdr(0, 0x80), vec![0; 100]].concat();
    let bad_enc = [hdr(2, 0), vec![0x7f, 0xff]].concat();
    for (k, v) in [
        (&b"short"[..], &short_runs),
        (b"long", &long_runs),
        (b"valpast", &val_past_end),
        (b"noruns", &no_runs),
        (b"cached", &cached),
        (b"denseshort", &dense_short),
        (b"badenc", &bad_enc),
    ] {
        p.same(&[b"SET", k, v]);
        p.same(&[b"PFCOUNT", k]);
        p.same(&[b"PFCOUNT", k, b"nosuch"]);
        p.same(&[b"PFADD", k, b"a", b"b"]);
        p.same(&[b"GET", k]);
        p.same(&[b"PFMERGE", b"dst", k]);
        p.same(&[b"PFMERGE", k]);
        p.same(&[b"PFDEBUG", b"DECODE", k]);
        p.same(&[b"PFDEBUG", b"TODENSE", k]);
        p.same(&[b"PFDEBUG", b"GETREG", k]);
        p.same(&[b"PFDEBUG", b"ENCODING", k]);
    }
    // A valid HLL stored by SET is "embstr" until a PF command touches it.
    let empty = [hdr(1, 0), vec![0x7f, 0xff]].concat();
    for args in [
        &[&b"SET"[..], b"e", &empty][..],
        &[b"OBJECT", b"ENCODING", b"e"],
        &[b"PFCOUNT", b"e"],
        &[b"OBJECT", b"ENCODING", b"e"],
        &[b"SET", b"e2", &empty],
        &[b"PFADD", b"e2"],
        &[b"OBJECT", b"ENCODING", b"e2"],
    ] {
        p.same(args);
    }
    for line in [
        "SET s hello",
        "PFADD s a",
        "PFCOUNT s",
        "PFCOUNT k1 s",
        "PFMERGE s",
        "PFMERGE x s",
        "PFDEBUG GETREG s",
        "LPUSH l a",
        "PFADD l a",
        "PFCOUNT l",
        "PFMERGE l",
        "PFMERGE x l",
        "PFDEBUG ENCODING l",
        "SET n 12345678901234567",
        "PFADD n a",
        "PFADD",
        "PFCOUNT",
        "PFMERGE",
        "PFDEBUG x",
        "PFDEBUG x y z",
        "PFDEBUG GETREG nosuch",
        "PFADD h a",
        "PFDEBUG nope h",
        "PFDEBUG DECODE h",
        "PFDEBUG TODENSE h",
        "PFDEBUG DECODE h",
        "PFSELFTEST x",
        "CONFIG SET hll-sparse-max-bytes -1",
        "CONFIG SET hll-sparse-max-bytes 200",
        "CONFIG GET hll-sparse-max-bytes",
    ] {
        p.line(line);
    }
    for i in 0..300 {
        p.line(&format!("PFADD small e{i}"));
    }
    p.line("GET small");
    p.line("PFDEBUG ENCODING small");
    p.line("CONFIG SET hll-sparse-max-bytes 0");
    p.line("PFADD zero a");
    p.line("GET zero");
    p.line("CONFIG SET hll-sparse-max-bytes 1kb");
    p.line("CONFIG GET hll-sparse-max-bytes");
}

#[test]
fn scripts_and_key_flags_match_redis() {
    // PFCOUNT may write (the cached count): read-only scripts refuse it as Redis does, other
    // scripts run it; GETKEYSANDFLAGS reports each command's key flags as Redis.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    let count = b"return redis.call('pfcount', KEYS[1])";
    let add = b"redis.call('pfadd', KEYS[1], 'z') return redis.call('pfcount', KEYS[1])";
    let no_writes = b"#!lua flags=no-writes\nreturn redis.call('pfcount', KEYS[1])";
    p.same(&[b"PFADD", b"q", b"a", b"b"]);
    p.same(&[b"EVAL_RO", count, b"1", b"q"]);
    p.same(&[b"EVAL_RO", count, b"1", b"nosuch"]);
    p.same(&[b"EVAL", no_writes, b"1", b"q"]);
    p.same(&[b"EVAL", add, b"1", b"q"]);
    p.same(&[b"EVAL", count, b"1", b"q"]);
    p.same(&[b"GET", b"q"]);
    for line in [
        "COMMAND GETKEYSANDFLAGS pfadd a x",
        "COMMAND GETKEYSANDFLAGS pfcount a b",
        "COMMAND GETKEYSANDFLAGS pfmerge d a b",
        "COMMAND GETKEYSANDFLAGS pfdebug getreg a",
        "COMMAND INFO pfcount",
        "MULTI",
        "PFADD q c",
        "PFCOUNT q",
        "PFMERGE q",
        "EXEC",
        "GET q",
    ] {
        p.line(line);
    }
}

#[test]
fn resp3_matches_redis() {
    // RESP3 shapes: integers, arrays, statuses and errors.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    p.add_many("k", "k", 300);
    p.both(&[b"HELLO", b"3"]);
    for line in [
        "PFADD k x",
        "PFCOUNT k",
        "PFCOUNT k nosuch",
        "PFDEBUG ENCODING k",
        "PFDEBUG DECODE k",
        "PFDEBUG GETREG k",
        "PFMERGE k",
        "PFDEBUG nope k",
    ] {
        p.line(line);
    }
}

#[test]
fn dump_restore_both_ways() {
    // A value DUMPed by Redis RESTOREs on slotd with the same bytes and count, and back.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    p.add_many("sparse", "s", 200);
    p.add_many("dense", "d", 5000);
    for key in ["sparse", "dense"] {
        // PFCOUNT first: it writes the cached count into the value.
        let count = p.same(&[b"PFCOUNT", key.as_bytes()]);
        let payload = bulk(&p.same(&[b"DUMP", key.as_bytes()]));
        let value = p.same(&[b"GET", key.as_bytes()]);
        for (from, to) in [(0, 1), (1, 0)] {
            let (src, dst) = if from == 0 {
                (&mut p.redis, &mut p.slotd)
            } else {
                (&mut p.slotd, &mut p.redis)
            };
            src.send(&cmd(&[b"DUMP", key.as_bytes()]));
            let payload_src = bulk(&read_reply(src));
            assert_eq!(payload_src, payload, "{key}: DUMP payloads (server {from})");
            dst.send(&cmd(&[b"RESTORE", b"copy", b"0", &payload_src, b"REPLACE"]));
            assert_eq!(read_reply(dst), b"+OK\r\n", "RESTORE on server {to}");
            dst.send(&cmd(&[b"PFCOUNT", b"copy"]));
            assert_eq!(read_reply(dst), count, "{key}: count after RESTORE");
            dst.send(&cmd(&[b"GET", b"copy"]));
            assert_eq!(read_reply(dst), value, "{key}: bytes after RESTORE");
        }
        p.line("PFADD copy more elements");
        p.line("GET copy");
    }
}

/// SIGTERM, then a new slotd in the same directory with `extra`.
fn restart(mut s: Server, extra: &[&str]) -> Server {
    assert_eq!(s.stop(), Some(0), "clean stop");
    let dir = std::mem::take(&mut s.dir);
    Server::start_in(free_port(), dir, extra).expect("restart")
}

fn get(s: &Server, key: &str) -> Vec<u8> {
    let mut r = s.raw();
    r.send(&cmd(&[b"GET", key.as_bytes()]));
    read_reply(&mut r)
}

#[test]
fn aof_restart_keeps_values() {
    // Every HLL write (PFADD, PFCOUNT's cache, PFMERGE, PFDEBUG's conversions) is journaled
    // so a restart from the AOF gives the same bytes; with three shards too, keys spread.
    let Some(redis) = Redis::start("hll-aof") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    for threads in ["1", "3"] {
        let extra = ["--appendonly", "yes", "--server-threads", threads];
        let slotd = Server::start(&extra);
        let mut p = Pair::new(&redis, &slotd);
        p.line("FLUSHALL");
        let keys = ["a", "b", "c", "d", "e", "f"];
        for (i, k) in keys.iter().enumerate() {
            p.add_many(k, k, 40 * (i + 1) * (i + 1));
        }
        for line in [
            "PFCOUNT a",
            "PFMERGE m a b c",
            "PFMERGE n d e f",
            "PFCOUNT m",
            "PFDEBUG TODENSE b",
            "PFDEBUG GETREG c",
            "PFADD a x y z",
            "PFCOUNT a b c d e f",
        ] {
            p.line(line);
        }
        let all: Vec<&str> = keys.iter().copied().chain(["m", "n"]).collect();
        let before: Vec<Vec<u8>> = all.iter().map(|k| get(&slotd, k)).collect();
        drop(p);
        let slotd = restart(slotd, &extra);
        for (k, want) in all.iter().zip(&before) {
            assert_eq!(
                &get(&slotd, k),
                want,
                "{k} after restart ({threads} shards)"
            );
        }
    }
}

#[test]
fn multi_key_forms_across_shards() {
    // PFCOUNT of several keys and PFMERGE with keys on different shards answer as Redis.
    let Some((redis, slotd)) = start(&["--server-threads", "3"]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    let keys = ["x1", "x2", "x3", "x4", "x5", "x6"];
    for (i, k) in keys.iter().enumerate() {
        p.add_many(k, k, 100 * (i + 1) * (i + 1));
    }
    for line in [
        "PFCOUNT x1 x2 x3 x4 x5 x6",
        "PFMERGE x1 x2 x3",
        "GET x1",
        "PFMERGE y x4 x5 x6 nosuch",
        "GET y",
        "PFCOUNT y x1",
        "SET s notanhll",
        "PFMERGE z x1 s",
        "EXISTS z",
        "PFCOUNT x1 s",
    ] {
        p.line(line);
    }
}

/// `rdb_changes_since_last_save` from INFO persistence.
fn changes(r: &mut Raw) -> String {
    r.send(&cmd(&[b"INFO", b"persistence"]));
    let info = String::from_utf8_lossy(&read_reply(r)).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn change_counter_matches_redis() {
    // Each command adds to the change counter what Redis adds (registers raised, key created,
    // cache updated, encoding converted), and reads add nothing.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    for line in [
        "PFADD a x y z",
        "PFADD a x",
        "PFADD a w",
        "PFCOUNT a",
        "PFCOUNT a",
        "PFCOUNT a nosuch",
        "PFMERGE m a",
        "PFDEBUG TODENSE m",
        "PFDEBUG TODENSE m",
        "PFDEBUG GETREG a",
        "PFADD b",
        "PFADD b",
    ] {
        p.line(line);
        let (want, got) = (changes(&mut p.redis), changes(&mut p.slotd));
        assert_eq!(got, want, "change counter after `{line}`");
    }
}

#[test]
fn cluster_mode_routes_by_key_specs() {
    // In cluster mode keys of different slots are refused with CROSSSLOT; one slot works.
    let s = Server::start(&[
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ]);
    s.cli(&["cluster", "addslotsrange", "0", "16383"]);
    for _ in 0..200 {
        if s.cli(&["cluster", "info"]).contains("cluster_state:ok") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let mut r = s.raw();
    let mut ask = |args: &[&[u8]]| {
        r.send(&cmd(args));
        String::from_utf8_lossy(&read_reply(&mut r)).into_owned()
    };
    assert_eq!(ask(&[b"PFADD", b"{t}a", b"x"]), ":1\r\n");
    assert_eq!(ask(&[b"PFADD", b"{t}b", b"y"]), ":1\r\n");
    assert_eq!(ask(&[b"PFMERGE", b"{t}c", b"{t}a", b"{t}b"]), "+OK\r\n");
    assert_eq!(ask(&[b"PFCOUNT", b"{t}c", b"{t}a"]), ":2\r\n");
    for args in [
        &[&b"PFMERGE"[..], b"{t}c", b"other"][..],
        &[b"PFCOUNT", b"{t}a", b"other"],
    ] {
        let e = ask(args);
        assert!(e.starts_with("-CROSSSLOT"), "{e}");
    }
}

/// A field of INFO `section` from redis-cli's text.
fn info_field(s: &Server, section: &str, field: &str) -> Option<String> {
    let text = s.cli(&["INFO", section]);
    text.lines().find_map(|l| {
        l.strip_prefix(&format!("{field}:"))
            .map(|v| v.trim().to_string())
    })
}

/// Waits (bounded) until the replica is linked and has processed all the master streamed.
fn wait_caught_up(m: &Server, r: &Server) {
    for _ in 0..600 {
        let up = info_field(r, "replication", "master_link_status").as_deref() == Some("up");
        let mo = info_field(m, "replication", "master_repl_offset");
        if up && mo.is_some() && mo == info_field(r, "replication", "slave_repl_offset") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the replica did not catch up");
}

#[test]
fn replica_gets_the_same_values() {
    // The stream carries every HLL change (PFCOUNT's cache included), so the replica holds the
    // master's bytes; a PFCOUNT on the replica changes its copy only, not the offsets.
    let m = Server::start(&["--server-threads", "3"]);
    let r = Server::start(&["--server-threads", "2"]);
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    let keys = ["h1", "h2", "h3", "h4"];
    let mut mc = m.raw();
    for (i, k) in keys.iter().enumerate() {
        for j in 0..(i + 1) * 500 {
            let e = format!("{k}-{j}");
            mc.send(&cmd(&[b"PFADD", k.as_bytes(), e.as_bytes()]));
            read_reply(&mut mc);
        }
    }
    for args in [
        &[&b"PFCOUNT"[..], b"h1"][..],
        &[b"PFMERGE", b"all", b"h1", b"h2", b"h3", b"h4"],
        &[b"PFDEBUG", b"TODENSE", b"h2"],
        &[b"PFADD", b"h3", b"late"],
    ] {
        mc.send(&cmd(args));
        read_reply(&mut mc);
    }
    wait_caught_up(&m, &r);
    for k in keys.iter().chain(&["all"]) {
        assert_eq!(get(&r, k), get(&m, k), "{k} on the replica");
    }
    assert_eq!(r.cli(&["PFCOUNT", "h3"]), m.cli(&["PFCOUNT", "h3"]));
    m.cli(&["PFADD", "h4", "after"]);
    wait_caught_up(&m, &r);
    assert_eq!(get(&r, "h4"), get(&m, "h4"));
}

#[test]
fn pfselftest_passes() {
    // Redis' self-test (registers, ten million additions in both encodings) passes.
    let s = Server::start(&[]);
    assert_eq!(s.cli(&["PFSELFTEST"]).trim(), "OK");
}

/// A small deterministic generator (xorshift64) for the fuzz cases.
struct Gen(u64);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
    /// 1..=max
    fn run(&mut self, max: u64) -> usize {
        (1 + self.below(max)) as usize
    }
}

/// A sparse value with a stale cache whose runs cover about every register: exactly, a few
/// short, a few past the end, or cut inside its last opcode.
fn near_valid_sparse(g: &mut Gen) -> Vec<u8> {
    let mut v = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    let target = [16384usize, 16384, 16384, 16383, 16385, 16379, 16448][g.below(7) as usize];
    let mut covered = 0;
    while covered < target {
        let left = (target - covered) as u64;
        let n = match g.below(10) {
            0..=2 => {
                let n = g.run(left.min(64));
                v.push((n - 1) as u8);
                n
            }
            3..=5 => {
                let n = g.run(left.min(16384));
                v.extend_from_slice(&[0x40 | ((n - 1) >> 8) as u8, ((n - 1) & 0xff) as u8]);
                n
            }
            _ => {
                let (n, val) = (g.run(left.min(4)), g.run(32));
                v.push(0x80 | (((val - 1) << 2) as u8) | (n - 1) as u8);
                n
            }
        };
        covered += n;
    }
    if g.below(20) == 0 {
        v.pop();
    }
    v
}

#[test]
fn near_valid_sparse_values_match_redis() {
    // Sparse values whose runs miss, overshoot or cut the register count: every command
    // answers (INVALIDOBJ or a result) and leaves the bytes exactly as redis-server does,
    // including promotions forced by a small hll-sparse-max-bytes.
    let Some((redis, slotd)) = start(&[]) else {
        return;
    };
    let mut p = Pair::new(&redis, &slotd);
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    for i in 0..400 {
        let v = near_valid_sparse(&mut g);
        p.same(&[b"SET", b"f", &v]);
        match g.below(7) {
            0 | 1 => {
                let limit = if g.below(3) == 0 { "60" } else { "3000" };
                p.line(&format!("CONFIG SET hll-sparse-max-bytes {limit}"));
                p.line(&format!("PFADD f a{i} b{i} c{i}"));
            }
            2 => {
                p.line("PFCOUNT f");
            }
            3 => {
                p.line("PFMERGE f g");
            }
            4 => {
                p.line("PFMERGE h f");
            }
            5 => {
                p.line("PFDEBUG TODENSE f");
            }
            _ => {
                p.line("PFDEBUG DECODE f");
            }
        }
        p.line("GET f");
        p.line("PFCOUNT f g");
        p.same(&[b"SET", b"g", &v]);
    }
}
