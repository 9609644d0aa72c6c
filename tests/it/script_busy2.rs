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

/// Sends EVAL of `body` over `keys` without waiting for its reply.
fn start_eval(r: &mut Raw, body: &str, keys: &[&str]) {
    let n = keys.len().to_string();
    let mut a: Vec<&[u8]> = vec![b"EVAL", body.as_bytes(), n.as_bytes()];
    a.extend(keys.iter().map(|k| k.as_bytes()));
    r.send(&cmd(&a));
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
    start_eval(&mut a, "while true do end", &[key]);
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
    // The refusals counted as Redis counts them: rejected, not failed.
    let stats = ask(&mut b, &["INFO", "commandstats"]);
    let keys_line = stats.lines().find(|l| l.starts_with("cmdstat_keys:"));
    t.push(keys_line.unwrap_or("no cmdstat_keys").to_string());
    t
}

#[test]
fn fan_out_commands_answer_busy_at_once_as_redis() {
    let slotd = with_threads(2, &[]);
    let key = key_on(0, 2, "k");
    let ours = fan_out_while_busy(slotd.port, &key);
    let stats = ours.last().map_or("", String::as_str);
    assert!(stats.contains("rejected_calls=2,failed_calls=0"), "{stats}");
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
fn fan_out_never_waits_for_a_script_looping_in_a_gsub_callback() {
    // Inside a string.gsub callback (a C call Lua 5.1 cannot yield across) the script still
    // leaves its core past the threshold (it runs on a machine stack of its own). DBSIZE and
    // KEYS from either core answer -BUSY at once instead of waiting for the park, the script's
    // own core included, and SCRIPT KILL from either core ends the script. The script runs on
    // shard 1, so shard 0 still accepts connections.
    let s = with_threads(2, &[]);
    let key = key_on(1, 2, "k");
    let mut c1 = Raw::connect(s.port);
    let mut c2 = Raw::connect(s.port);
    let mut a = Raw::connect(s.port);
    let body = "string.gsub('x', 'x', function() while true do end end) return 1";
    start_eval(&mut a, body, &[&key]);
    wait_busy_from_any_core(s.port, &key);
    let busy = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or \
                SHUTDOWN NOSAVE.\r\n";
    for c in [&mut c1, &mut c2] {
        c.send(&cmd(&[b"DBSIZE"]));
        c.send(&cmd(&[b"KEYS", b"*"]));
        assert_eq!(replies(c, 2), vec![busy.to_string(), busy.to_string()]);
    }
    c1.send(&cmd(&[b"SCRIPT", b"KILL"]));
    assert_eq!(replies(&mut c1, 1), vec!["+OK\r\n".to_string()]);
    let killed = String::from_utf8_lossy(&read_reply(&mut a)).into_owned();
    assert!(killed.starts_with("-ERR Script killed by user"), "{killed}");
    c2.send(&cmd(&[b"SCRIPT", b"KILL"]));
    c2.send(&cmd(&[b"DBSIZE"]));
    assert_eq!(
        replies(&mut c2, 2),
        vec![
            "-NOTBUSY No scripts in execution right now.\r\n".to_string(),
            ":0\r\n".to_string()
        ]
    );
}

/// Scripts (and a function) that write a declared key and then reach keys of other cores,
/// each run for the first time (the take happens mid-run), compared with redis-server. `w`
/// are keys of shards 0, 1 and 2 of a three-shard slotd.
fn undeclared_after_write(port: u16, w: &[String]) -> Vec<String> {
    let mut r = Raw::connect(port);
    let lib = "#!lua name=reach\n\
               redis.register_function('reach', function(keys, args) \
               redis.call('incr', keys[1]) redis.call('set', 'f1', 'x') \
               return redis.call('mget', keys[1], 'f1', 'f2') end)";
    let steps: &[&[&str]] = &[
        &["SET", "u2", "there"],
        &[
            "EVAL",
            "redis.call('set', KEYS[1], 'x') redis.call('set', 'u1', 'y') \
             return redis.call('mget', KEYS[1], 'u1', 'u2', 'u3')",
            "1",
            "k",
        ],
        &[
            "EVAL",
            "redis.call('set', 'u3', '1') redis.call('incr', 'u4') \
             return redis.call('mget', 'u3', 'u4')",
            "0",
        ],
        &[
            "EVAL",
            "redis.call('del', KEYS[1]) return redis.pcall('lpush', 'u2', 'x')",
            "1",
            "k",
        ],
        &["FUNCTION", "LOAD", lib],
        &["FCALL", "reach", "1", "fk"],
        &["MGET", "k", "u1", "u2", "u3", "u4", "f1", "fk"],
        // Node-wide reads from a script alone on its core: it takes the others first.
        &[
            "EVAL",
            "redis.call('incr', KEYS[1]) return {redis.call('dbsize'), #redis.call('keys', '*')}",
            "1",
            "k",
        ],
    ];
    let mut t: Vec<String> = steps.iter().map(|s| ask(&mut r, s)).collect();
    // Declared keys on two cores: the run parks those (from whichever core the connection
    // is on), then the third mid-run: the three connections are on three cores, so two of
    // them start on one of the declared cores.
    for i in 0..3 {
        let body = format!(
            "redis.call('set', KEYS[1], '{i}') redis.call('set', KEYS[2], '{i}') \
             redis.call('set', ARGV[1], '{i}') return redis.call('dbsize') -- {i}"
        );
        let mut c = Raw::connect(port);
        t.push(ask(&mut c, &["EVAL", &body, "2", &w[0], &w[1], &w[2]]));
        t.push(ask(&mut c, &["MGET", &w[0], &w[1], &w[2]]));
    }
    t.push(ask(&mut r, &["DBSIZE"]));
    t
}

#[test]
fn undeclared_keys_after_a_write_are_reached_mid_run_as_redis() {
    let slotd = with_threads(3, &[]);
    let w: Vec<String> = (0..3).map(|i| key_on(i, 3, "w")).collect();
    let ours = undeclared_after_write(slotd.port, &w);
    let Some(redis) = RedisServer::start("busy2-undeclared") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let theirs = undeclared_after_write(redis.port, &w);
    assert_eq!(ours, theirs, "slotd vs redis-server");
}

/// What one client saw: replies that were the script's (or EXEC's) success, and refusals
/// with the documented undeclared-key error.
#[derive(Default, Debug)]
struct Tally {
    ok: u64,
    refused: u64,
}

/// `rounds` runs of `req(i)` on a fresh connection, each last reply checked: it starts with
/// `ok` or is the undeclared-key refusal.
fn drive(port: u16, rounds: u64, req: impl Fn(u64) -> (Vec<Vec<u8>>, usize), ok: &str) -> Tally {
    let mut r = Raw::connect(port);
    let mut t = Tally::default();
    for i in 0..rounds {
        let (lines, n) = req(i);
        for l in &lines {
            r.send(l);
        }
        let got = replies(&mut r, n);
        let last = got.last().expect("a reply");
        if last.starts_with(ok) {
            t.ok += 1;
        } else {
            assert!(last.contains("did not declare"), "round {i}: {last:?}");
            t.refused += 1;
        }
    }
    t
}

#[test]
fn scripts_crossing_cores_in_opposite_directions_and_execs_never_deadlock() {
    // Two scripts write their declared key and then the other core's key (each body new, so
    // each run takes the other core mid-run), while EXECs span both cores. Whoever finds the
    // park token taken falls back to the error; nobody waits in a cycle. Bounded: every read
    // fails after 10 s of silence. Each success increments both keys, a refusal only the
    // declared one, so the final difference is the refusals' difference.
    let s = with_threads(2, &[]);
    let (k0, k1) = (key_on(0, 2, "x"), key_on(1, 2, "y"));
    let rounds = 150;
    let script = |mine: String, other: String, tag: &'static str| {
        move |i: u64| {
            let body = format!(
                "redis.call('incr', KEYS[1]) redis.call('incr', ARGV[1]) return 1 -- {tag}{i}"
            );
            let line = cmd(&[
                b"EVAL",
                body.as_bytes(),
                b"1",
                mine.as_bytes(),
                other.as_bytes(),
            ]);
            (vec![line], 1)
        }
    };
    let exec = |a: String, b: String| {
        move |_: u64| {
            let lines = vec![
                cmd(&[b"MULTI"]),
                cmd(&[b"INCR", a.as_bytes()]),
                cmd(&[b"INCR", b.as_bytes()]),
                cmd(&[b"EXEC"]),
            ];
            (lines, 4)
        }
    };
    let port = s.port;
    let (f1, f2) = (
        script(k0.clone(), k1.clone(), "a"),
        script(k1.clone(), k0.clone(), "b"),
    );
    let (e1, e2) = (exec(k0.clone(), k1.clone()), exec(k1.clone(), k0.clone()));
    let t1 = std::thread::spawn(move || drive(port, rounds, f1, ":1\r\n"));
    let t2 = std::thread::spawn(move || drive(port, rounds, f2, ":1\r\n"));
    let t3 = std::thread::spawn(move || drive(port, rounds, e1, "*2\r\n"));
    let t4 = std::thread::spawn(move || drive(port, rounds, e2, "*2\r\n"));
    let (a, b) = (t1.join().expect("t1"), t2.join().expect("t2"));
    let (x, y) = (t3.join().expect("t3"), t4.join().expect("t4"));
    assert_eq!((x.refused, y.refused), (0, 0), "EXEC is never refused");
    assert!(
        a.ok + b.ok > 0,
        "some script took the other core: {a:?} {b:?}"
    );
    let mut r = Raw::connect(port);
    let (v0, v1) = (
        number(&ask(&mut r, &["GET", &k0])),
        number(&ask(&mut r, &["GET", &k1])),
    );
    let execs = 2 * rounds;
    assert_eq!(v0, execs + a.ok + a.refused + b.ok, "{a:?} {b:?}");
    assert_eq!(v1, execs + a.ok + b.ok + b.refused, "{a:?} {b:?}");
}

/// The number in a bulk reply.
fn number(bulk: &str) -> u64 {
    bulk.split("\r\n")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a number")
}

/// The replica's link reports up.
fn link_is_up(r: &Server) -> bool {
    r.cli(&["INFO", "replication"])
        .contains("master_link_status:up")
}

/// The numbers of an MGET reply (nil as 0).
fn numbers(reply: &str) -> Vec<u64> {
    let mut lines = reply.split("\r\n").skip(1);
    let mut out = Vec::new();
    while let Some(head) = lines.next() {
        match head {
            "$-1" => out.push(0),
            h if h.starts_with('$') => {
                out.push(lines.next().and_then(|v| v.parse().ok()).expect("a number"))
            }
            _ => {}
        }
    }
    out
}

#[test]
fn a_replica_applies_a_multi_exec_block_as_one_unit() {
    // A one-shard master writes each script's (and EXEC's) writes as one MULTI/EXEC block;
    // the three-shard replica holds the three keys on three shards. A reader on the replica
    // (MGET parks the three shards, so it reads one state) must always see them equal: it
    // never sees half a block. Bounded: the writer does a fixed number of rounds.
    let m = Server::start(&[]);
    let r = Server::start(&[
        "--server-threads",
        "3",
        "--replicaof",
        "127.0.0.1",
        &m.port.to_string(),
    ]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !link_is_up(&r) {
        assert!(Instant::now() < deadline, "the link never came up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let keys: Vec<String> = (0..3).map(|i| key_on(i, 3, "inv")).collect();
    let rounds = 300u64;
    let (mport, ks) = (m.port, keys.clone());
    let writer = std::thread::spawn(move || {
        let mut w = Raw::connect(mport);
        let k: Vec<&str> = ks.iter().map(String::as_str).collect();
        let script = "for _, k in ipairs(KEYS) do redis.call('incr', k) end return 1";
        for i in 0..rounds {
            if i % 2 == 0 {
                assert_eq!(
                    ask(&mut w, &["EVAL", script, "3", k[0], k[1], k[2]]),
                    ":1\r\n"
                );
            } else {
                w.send(&cmd(&[b"MULTI"]));
                for key in &k {
                    w.send(&cmd(&[b"INCR", key.as_bytes()]));
                }
                w.send(&cmd(&[b"EXEC"]));
                replies(&mut w, 5);
            }
        }
    });
    let mut reader = Raw::connect(r.port);
    let mget = ["MGET", &keys[0], &keys[1], &keys[2]];
    let (mut reads, mut midway) = (0u64, 0u64);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = numbers(&ask(&mut reader, &mget));
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(
            v[0] == v[1] && v[1] == v[2],
            "read {reads}: half a block: {v:?}"
        );
        reads += 1;
        if v[0] > 0 && v[0] < rounds {
            midway += 1;
        }
        if v[0] == rounds {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never caught up: {v:?}"
        );
    }
    writer.join().expect("the writer");
    assert!(
        midway > 0,
        "no read happened while the blocks streamed ({reads} reads)"
    );
}

/// A looping script whose declared keys live on both cores of a two-shard slotd (so it parks
/// the other core): past the threshold it leaves its core like a one-core script, so a client
/// of that core gets -BUSY and its SCRIPT KILL ends the script. Compared with redis-server.
/// `a` runs the script and `c` (two connections later: the same core on slotd) watches.
fn kill_a_script_holding_every_core(port: u16, k0: &str, k1: &str) -> Vec<String> {
    let mut t = Vec::new();
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    let mut c = Raw::connect(port);
    t.push(ask(&mut c, &["SET", k1, "v"]));
    start_eval(&mut a, "while true do end", &[k0, k1]);
    wait_busy(&mut c, k0);
    t.push(ask(&mut c, &["GET", k1]));
    t.push(ask(&mut c, &["SCRIPT", "KILL"]));
    t.push(String::from_utf8_lossy(&read_reply(&mut a)).into_owned());
    t.push(ask(&mut b, &["GET", k1]));
    t.push(ask(&mut c, &["SCRIPT", "KILL"]));
    t
}

#[test]
fn a_script_holding_every_core_leaves_its_core_and_is_killed_as_redis() {
    let slotd = with_threads(2, &[]);
    let (k0, k1) = (key_on(0, 2, "h"), key_on(1, 2, "h"));
    let ours = kill_a_script_holding_every_core(slotd.port, &k0, &k1);
    let Some(redis) =
        RedisServer::start_with("busy2-held", &["--busy-reply-threshold", THRESHOLD_MS])
    else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let theirs = kill_a_script_holding_every_core(redis.port, &k0, &k1);
    assert_eq!(ours, theirs, "slotd vs redis-server");
}

#[test]
fn shutdown_nosave_stops_a_node_whose_script_holds_every_core() {
    // The script wrote (SCRIPT KILL refuses it) and holds both cores of the node; a client of
    // its core still reaches SHUTDOWN NOSAVE, as in Redis.
    let mut s = with_threads(2, &[]);
    let (k0, k1) = (key_on(0, 2, "n"), key_on(1, 2, "n"));
    let mut a = Raw::connect(s.port);
    let _b = Raw::connect(s.port);
    let mut c = Raw::connect(s.port);
    let body = "redis.call('set', KEYS[1], 'w') while true do end";
    start_eval(&mut a, body, &[&k0, &k1]);
    wait_busy(&mut c, &k1);
    assert!(ask(&mut c, &["SCRIPT", "KILL"]).starts_with("-UNKILLABLE"));
    c.send(&cmd(&[b"SHUTDOWN", b"NOSAVE"]));
    assert!(c.closed(), "SHUTDOWN NOSAVE closes the client");
    assert_eq!(s.wait_exit(20), Some(0), "the node stops");
}

#[test]
fn around_a_suspended_script_over_two_of_three_cores_others_answer_at_once() {
    // The script holds shards 1 and 2 (shard 0 keeps accepting connections). Fresh clients
    // land on every core in turn and every one is answered, the held cores' between the
    // script's slices (lent back to their loops): -BUSY for INFO (a fan-out) and for the held
    // keys, shard 0's key served. SCRIPT KILL from one of them ends the script.
    let s = with_threads(3, &[]);
    let (k1, k2, f0) = (key_on(1, 3, "t"), key_on(2, 3, "t"), key_on(0, 3, "t"));
    let mut setup = Raw::connect(s.port);
    assert_eq!(ask(&mut setup, &["SET", &f0, "v"]), "+OK\r\n");
    let mut a = Raw::connect(s.port);
    start_eval(&mut a, "while true do end", &[&k1, &k2]);
    wait_busy_from_any_core(s.port, &k1);
    let busy = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or \
                SHUTDOWN NOSAVE.\r\n";
    let mut answered = 0;
    for _ in 0..6 {
        let mut r = Raw::connect(s.port);
        r.s.set_read_timeout(Some(Duration::from_millis(500))).ok();
        r.send(&cmd(&[b"GET", f0.as_bytes()]));
        let first = r.read_n(1);
        assert!(!first.is_empty(), "a held core answers between slices");
        assert_eq!(String::from_utf8_lossy(&first), "$1\r\nv\r\n");
        r.s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        assert_eq!(ask(&mut r, &["INFO", "keyspace"]), busy);
        assert_eq!(ask(&mut r, &["GET", &k2]), busy);
        answered += 1;
    }
    assert_eq!(answered, 6, "every core answers");
    // SCRIPT KILL from a fresh connection (any core answers it).
    let killed_by = (0..3).find_map(|_| {
        let mut r = Raw::connect(s.port);
        r.s.set_read_timeout(Some(Duration::from_millis(500))).ok();
        r.send(&cmd(&[b"SCRIPT", b"KILL"]));
        let got = r.read_n(1);
        (!got.is_empty()).then(|| String::from_utf8_lossy(&got).into_owned())
    });
    assert_eq!(killed_by.as_deref(), Some("+OK\r\n"));
    let killed = String::from_utf8_lossy(&read_reply(&mut a)).into_owned();
    assert!(killed.starts_with("-ERR Script killed by user"), "{killed}");
    assert_eq!(ask(&mut setup, &["DBSIZE"]), ":1\r\n");
}
