//! A script inside MULTI/EXEC past busy-reply-threshold (issue 14): the whole EXEC leaves the
//! core at that command, other clients get -BUSY, SCRIPT KILL ends the script and the EXEC
//! goes on with the rest of its queue (the killed script's slot holds Redis' error), SHUTDOWN
//! NOSAVE stops the node, and the EXEC's writes still reach the AOF as one MULTI/EXEC block.
//! Side by side with redis-server 7.0 where Redis has the behaviour.

use crate::common::{cmd, Raw, RedisServer, Server};
use crate::compare::read_reply;
use std::path::Path;
use std::time::{Duration, Instant};

/// The threshold every scenario runs with (small, so each test stays short).
const THRESHOLD_MS: &str = "100";

const BUSY: &str =
    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";

/// Sends one command and reads its whole reply, as text.
fn ask(r: &mut Raw, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    r.send(&cmd(&a));
    String::from_utf8_lossy(&read_reply(r)).into_owned()
}

/// The next reply on `r`, as text.
fn next(r: &mut Raw) -> String {
    String::from_utf8_lossy(&read_reply(r)).into_owned()
}

/// Asks GET `key` on `r` until the reply is -BUSY; returns how long that took. Bounded.
fn wait_busy(r: &mut Raw, key: &str) -> Duration {
    let t0 = Instant::now();
    while ask(r, &["GET", key]) != BUSY {
        assert!(t0.elapsed() < Duration::from_secs(5), "never busy");
        std::thread::sleep(Duration::from_millis(5));
    }
    t0.elapsed()
}

/// Queues `queued` inside MULTI on `a` (each answers +QUEUED) and sends EXEC without waiting.
fn start_exec(a: &mut Raw, queued: &[&[&str]]) -> Vec<String> {
    let mut t = vec![ask(a, &["MULTI"])];
    for q in queued {
        t.push(ask(a, q));
    }
    a.send(&cmd(&[b"EXEC"]));
    t
}

/// Runs `scenario` on slotd (started with `slotd_args` and the small threshold) and on
/// redis-server 7.0, and asserts the same transcript.
fn side_by_side(slotd_args: &[&str], scenario: &dyn Fn(u16) -> Vec<String>) {
    let mut args = vec!["--busy-reply-threshold", THRESHOLD_MS];
    args.extend_from_slice(slotd_args);
    let slotd = Server::start(&args);
    let ours = scenario(slotd.port);
    let redis = RedisServer::start_with("busy3", &["--busy-reply-threshold", THRESHOLD_MS])
        .expect("redis-server 7.0 is installed");
    let theirs = scenario(redis.port);
    assert_eq!(ours, theirs, "slotd vs redis-server");
}

const LOOP: &str = "local i = 0 while true do i = i + 1 end";

/// EXEC of a write, an endless script and a read: another client gets -BUSY, SCRIPT KILL
/// ends the script and the EXEC answers every slot, the killed script's with Redis' error.
fn kill_inside_exec(port: u16, k: &str) -> Vec<String> {
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    let eval: &[&str] = &["EVAL", LOOP, "0"];
    let mut t = start_exec(&mut a, &[&["SET", k, "1"], eval, &["INCR", k], &["GET", k]]);
    wait_busy(&mut b, k);
    t.push(ask(&mut b, &["PING"]));
    t.push(ask(&mut b, &["EXEC"]));
    t.push(ask(&mut b, &["SCRIPT", "KILL"]));
    t.push(next(&mut a));
    t.push(ask(&mut b, &["GET", k]));
    t.push(ask(&mut b, &["SCRIPT", "KILL"]));
    t.push(ask(&mut a, &["PING"]));
    t.extend(call_stats(&mut b, &["eval", "exec"]));
    t
}

/// INFO commandstats of `names`: calls, rejected and failed as they are, the time as whether
/// it covers the threshold (the script ran at least that long inside the call).
fn call_stats(r: &mut Raw, names: &[&str]) -> Vec<String> {
    let info = ask(r, &["INFO", "commandstats"]);
    let threshold_us: u64 = THRESHOLD_MS.parse::<u64>().expect("ms") * 1000;
    names
        .iter()
        .map(|name| {
            let prefix = format!("cmdstat_{name}:");
            let line = info
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_default();
            let fields: Vec<&str> = line[prefix.len().min(line.len())..].split(',').collect();
            let usec: u64 = fields
                .iter()
                .find_map(|f| f.strip_prefix("usec="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let counts: Vec<&str> = fields
                .iter()
                .copied()
                .filter(|f| !f.starts_with("usec"))
                .collect();
            format!(
                "{name} {} covers threshold: {}",
                counts.join(","),
                usec >= threshold_us
            )
        })
        .collect()
}

#[test]
fn script_kill_inside_exec_ends_the_script_and_exec_goes_on_as_redis() {
    side_by_side(&[], &|port| kill_inside_exec(port, "k"));
}

/// A script inside EXEC that wrote cannot be killed; SHUTDOWN NOSAVE stops the server.
fn shutdown_nosave_inside_exec(port: u16) -> Vec<String> {
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    let body = "redis.call('set', KEYS[1], '1') while true do end";
    let mut t = start_exec(&mut a, &[&["GET", "w"], &["EVAL", body, "1", "w"]]);
    wait_busy(&mut b, "w");
    t.push(ask(&mut b, &["SCRIPT", "KILL"]));
    b.send(&cmd(&[b"SHUTDOWN", b"NOSAVE"]));
    t.push(format!("shutdown closes the client: {}", b.closed()));
    t.push(format!("exec client closed: {}", a.closed()));
    t
}

#[test]
fn shutdown_nosave_stops_a_one_shard_node_whose_exec_runs_a_script_as_redis() {
    // Replaces the old limit where only SIGTERM stopped a node stuck in a script inside EXEC.
    side_by_side(&[], &shutdown_nosave_inside_exec);
}

/// A key that shard `id` of `n` owns.
fn key_on(id: u16, n: u16, prefix: &str) -> String {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .find(|k| crate::types::shard(k, n) == id)
        .expect("a key")
}

/// EXEC over both cores of a two-shard node (a script makes it park every core): the EXEC's
/// core and the core it holds answer -BUSY, the held one reads SCRIPT KILL; the EXEC then
/// writes on both cores. `a` runs the EXEC, `c` (two connections later: the same core on
/// slotd) watches, and `b` is a client of the held core.
fn kill_inside_exec_over_two_cores(port: u16, k0: &str, k1: &str) -> Vec<String> {
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    let mut c = Raw::connect(port);
    let eval: &[&str] = &["EVAL", LOOP, "0"];
    let queued: &[&[&str]] = &[
        &["SET", k0, "1"],
        eval,
        &["SET", k1, "2"],
        &["MGET", k0, k1],
    ];
    let mut t = start_exec(&mut a, queued);
    wait_busy(&mut c, k0);
    t.push(ask(&mut c, &["GET", k1]));
    t.push(ask(&mut b, &["GET", k0]));
    t.push(ask(&mut b, &["SET", k1, "b"]));
    t.push(ask(&mut b, &["SCRIPT", "KILL"]));
    t.push(next(&mut a));
    t.push(ask(&mut c, &["MGET", k0, k1]));
    t
}

#[test]
fn script_kill_inside_exec_over_two_cores_as_redis() {
    let (k0, k1) = (key_on(0, 2, "e"), key_on(1, 2, "e"));
    side_by_side(&["--server-threads", "2"], &|port| {
        kill_inside_exec_over_two_cores(port, &k0, &k1)
    });
}

/// The incr files' records of a node's AOF (one per shard), each as its words.
fn aof_records(dir: &Path) -> Vec<String> {
    let aof = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).expect("manifest");
    manifest
        .lines()
        .filter(|l| l.contains("type i"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .flat_map(|f| crate::scripting_aof::records(&std::fs::read(aof.join(f)).expect("incr")))
        .filter(|r| !r.starts_with("SELECT"))
        .collect()
}

#[test]
fn an_exec_suspended_by_a_slow_script_is_one_multi_exec_block_in_the_aof() {
    // The script writes and then runs past the threshold on its own (no kill): the EXEC's
    // writes before, inside and after it are journaled as one block, and a restart has them.
    let aof = ["--appendonly", "yes", "--appendfsync", "always"];
    let mut s = Server::start(&[&aof[..], &["--busy-reply-threshold", THRESHOLD_MS]].concat());
    let mut a = Raw::connect(s.port);
    let mut b = Raw::connect(s.port);
    let body = "redis.call('set', KEYS[1], 'in') for i = 1, tonumber(ARGV[1]) do end return 7";
    let eval: &[&str] = &["EVAL", body, "1", "y", "40000000"];
    let t = start_exec(&mut a, &[&["SET", "x", "1"], eval, &["SET", "z", "3"]]);
    assert_eq!(t, ["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "+QUEUED\r\n"]);
    wait_busy(&mut b, "x");
    assert_eq!(next(&mut a), "*3\r\n+OK\r\n:7\r\n+OK\r\n");
    assert_eq!(
        aof_records(&s.dir),
        ["MULTI", "SET x 1", "SET y in", "SET z 3", "EXEC"]
    );
    let (port, dir) = (s.port, s.dir.clone());
    assert_eq!(s.stop(), Some(0));
    let s = Server::start_in(port, dir, &aof).expect("restart");
    let mut r = Raw::connect(s.port);
    assert_eq!(
        ask(&mut r, &["MGET", "x", "y", "z"]),
        "*3\r\n$1\r\n1\r\n$2\r\nin\r\n$1\r\n3\r\n"
    );
}

#[test]
fn a_killed_script_leaves_the_rest_of_the_exec_one_block_in_the_aof() {
    let aof = ["--appendonly", "yes", "--appendfsync", "always"];
    let s = Server::start(&[&aof[..], &["--busy-reply-threshold", THRESHOLD_MS]].concat());
    let mut a = Raw::connect(s.port);
    let mut b = Raw::connect(s.port);
    let eval: &[&str] = &["EVAL", LOOP, "0"];
    start_exec(&mut a, &[&["SET", "p", "1"], eval, &["SET", "q", "2"]]);
    wait_busy(&mut b, "p");
    assert_eq!(ask(&mut b, &["SCRIPT", "KILL"]), "+OK\r\n");
    let got = next(&mut a);
    assert!(
        got.starts_with("*3\r\n+OK\r\n-ERR Script killed by user"),
        "{got}"
    );
    assert!(got.ends_with("+OK\r\n"), "{got}");
    assert_eq!(aof_records(&s.dir), ["MULTI", "SET p 1", "SET q 2", "EXEC"]);
}

/// The cores of a script holding both cores of a two-shard node: a client of the held core
/// gets -BUSY for everything Redis refuses then (keys of either core, PING, a transaction),
/// MULTI/DISCARD and SCRIPT KILL still run there, and nothing it asked changed a key.
/// `a` runs the script, `b` is on the held core, `c` on the script's core.
fn held_core_answers_busy(port: u16, k0: &str, k1: &str) -> Vec<String> {
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    let mut c = Raw::connect(port);
    let mut t = vec![ask(&mut c, &["MSET", k0, "old0", k1, "old1"])];
    send_eval(&mut a, LOOP, &[k0, k1], &[]);
    wait_busy(&mut c, k0);
    for q in [
        &["SET", k1, "new"][..],
        &["DEL", k1],
        &["INCR", k0],
        &["GET", k1],
        &["PING"],
        &["MULTI"],
        &["SET", k1, "queued"],
        &["EXEC"],
        &["MULTI"],
        &["DISCARD"],
        &["EXPIRE", k1, "1"],
    ] {
        t.push(ask(&mut b, q));
    }
    // WATCH runs while busy in Redis: from the script's core too, on a key of the held core
    // (one of the two: a section between two slices, under the script's own park token).
    t.push(ask(&mut c, &["WATCH", k0, k1]));
    t.push(ask(&mut c, &["UNWATCH"]));
    t.push(ask(&mut b, &["SCRIPT", "KILL"]));
    t.push(next(&mut a));
    t.push(ask(&mut b, &["MGET", k0, k1]));
    t.push(ask(&mut b, &["TTL", k1]));
    t
}

#[test]
fn a_core_held_by_a_suspended_script_answers_its_clients_busy_as_redis() {
    let (k0, k1) = (key_on(0, 2, "h"), key_on(1, 2, "h"));
    side_by_side(&["--server-threads", "2"], &|port| {
        held_core_answers_busy(port, &k0, &k1)
    });
}

/// Sends EVAL of `body` over `keys` and `argv` on `a`, without waiting for its reply.
fn send_eval(a: &mut Raw, body: &str, keys: &[&str], argv: &[&str]) {
    let n = keys.len().to_string();
    let mut args: Vec<&[u8]> = vec![b"EVAL", body.as_bytes(), n.as_bytes()];
    args.extend(keys.iter().chain(argv).map(|s| s.as_bytes()));
    a.send(&cmd(&args));
}

/// slotd with two shards and the small threshold, plus `extra`.
fn two_shards(extra: &[&str]) -> Server {
    let mut args = vec![
        "--server-threads",
        "2",
        "--busy-reply-threshold",
        THRESHOLD_MS,
    ];
    args.extend_from_slice(extra);
    Server::start(&args)
}

#[test]
fn a_client_of_a_held_core_gets_busy_within_the_threshold() {
    // Before, a held core slept until the script ended and its clients waited that long.
    let s = two_shards(&[]);
    let (k0, k1) = (key_on(0, 2, "l"), key_on(1, 2, "l"));
    let mut a = Raw::connect(s.port);
    let mut b = Raw::connect(s.port);
    let mut c = Raw::connect(s.port);
    send_eval(&mut a, LOOP, &[&k0, &k1], &[]);
    wait_busy(&mut c, &k0);
    let mut took: Vec<Duration> = (0..20)
        .map(|_| {
            let t0 = Instant::now();
            assert_eq!(ask(&mut b, &["GET", &k1]), BUSY);
            t0.elapsed()
        })
        .collect();
    took.sort();
    let threshold = Duration::from_millis(THRESHOLD_MS.parse().expect("ms"));
    assert!(took[10] < threshold, "median {:?} ({took:?})", took[10]);
    assert!(took[19] < Duration::from_secs(2), "slowest {:?}", took[19]);
    // Fresh connections (shard 0 accepts for both cores, held or not) are answered too.
    for _ in 0..4 {
        let mut r = Raw::connect(s.port);
        assert_eq!(ask(&mut r, &["PING"]), BUSY);
    }
    assert_eq!(ask(&mut b, &["SCRIPT", "KILL"]), "+OK\r\n");
    assert!(next(&mut a).starts_with("-ERR Script killed by user"));
}

#[test]
fn shutdown_nosave_from_a_held_core_stops_the_node() {
    // The script wrote (SCRIPT KILL refuses it) and holds both cores; a client of the core it
    // holds (not the script's own) reaches SHUTDOWN NOSAVE, as any client does in Redis.
    let mut s = two_shards(&[]);
    let (k0, k1) = (key_on(0, 2, "s"), key_on(1, 2, "s"));
    let mut a = Raw::connect(s.port);
    let mut b = Raw::connect(s.port);
    let mut c = Raw::connect(s.port);
    let body = "redis.call('set', KEYS[1], 'w') while true do end";
    send_eval(&mut a, body, &[&k0, &k1], &[]);
    wait_busy(&mut c, &k0);
    assert!(ask(&mut b, &["FUNCTION", "KILL"]).starts_with("-UNKILLABLE"));
    b.send(&cmd(&[b"SHUTDOWN", b"NOSAVE"]));
    assert!(b.closed(), "SHUTDOWN NOSAVE closes the client");
    assert_eq!(s.wait_exit(20), Some(0), "the node stops");
}

#[test]
fn a_suspended_script_over_two_cores_keeps_its_writes_one_block_per_core() {
    // Lent between slices, the held core writes none of the script's records before it ends.
    let s = two_shards(&["--appendonly", "yes", "--appendfsync", "always"]);
    let (k0, k1) = (key_on(0, 2, "j"), key_on(1, 2, "j"));
    let mut a = Raw::connect(s.port);
    let mut b = Raw::connect(s.port);
    let mut c = Raw::connect(s.port);
    let body = "redis.call('set', KEYS[1], 'a') redis.call('set', KEYS[2], 'b') \
                redis.call('set', KEYS[2], 'c') for i = 1, tonumber(ARGV[1]) do end return 1";
    send_eval(&mut a, body, &[&k0, &k1], &["40000000"]);
    wait_busy(&mut c, &k0);
    assert_eq!(ask(&mut b, &["GET", &k1]), BUSY);
    assert!(!aof_records(&s.dir).contains(&format!("SET {k1} b")));
    assert_eq!(next(&mut a), ":1\r\n");
    let records = aof_records(&s.dir);
    let block = [
        "MULTI".to_string(),
        format!("SET {k1} b"),
        format!("SET {k1} c"),
        "EXEC".into(),
    ];
    assert!(records.windows(4).any(|w| w == block), "{records:?}");
}

/// A killed script's call counts once, failed, with its whole time, as in Redis (the call
/// is counted as it leaves the core, and its end adds the rest).
fn killed_script_stats(port: u16) -> Vec<String> {
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    send_eval(&mut a, LOOP, &[], &[]);
    wait_busy(&mut b, "k");
    let mut t = vec![ask(&mut b, &["SCRIPT", "KILL"]), next(&mut a)];
    t.extend(call_stats(&mut b, &["eval"]));
    t
}

#[test]
fn a_killed_script_counts_as_one_failed_call_as_redis() {
    side_by_side(&[], &killed_script_stats);
}

#[test]
fn clients_of_every_core_hammering_a_script_over_held_cores_lose_nothing() {
    // Three cores; scripts that hold two of them run past the threshold again and again
    // (lent and recalled every slice) while clients on every core INCR keys of every core.
    // Every INCR answers a number or -BUSY, and each counter ends equal to the numbers
    // answered for it: nothing ran twice, was lost, or saw a half-run script.
    let s = Server::start(&["--server-threads", "3", "--busy-reply-threshold", "20"]);
    let keys: Vec<String> = (0..3).map(|i| key_on(i, 3, "c")).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammers: Vec<_> = (0..4)
        .map(|h| {
            let (port, keys, stop) = (s.port, keys.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut r = Raw::connect(port);
                // One slot per key, and one more for the -BUSY answers.
                let mut counted = vec![0u64; keys.len() + 1];
                let mut i = h;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let k = i % keys.len();
                    i += 1;
                    let got = ask(&mut r, &["INCR", &keys[k]]);
                    if got.starts_with(':') {
                        counted[k] += 1;
                    } else {
                        assert_eq!(got, BUSY);
                        counted[keys.len()] += 1;
                    }
                }
                counted
            })
        })
        .collect();
    let body = "redis.call('incr', KEYS[1]) for i = 1, tonumber(ARGV[1]) do end \
                redis.call('incr', KEYS[2]) return 1";
    let mut by_script = vec![0u64; keys.len()];
    for round in 0..6 {
        let (x, y) = (1 + round % 2, 2 - round % 2);
        let mut a = Raw::connect(s.port);
        send_eval(&mut a, body, &[&keys[x], &keys[y]], &["10000000"]);
        assert_eq!(next(&mut a), ":1\r\n", "round {round}");
        by_script[x] += 1;
        by_script[y] += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = by_script;
    total.push(0);
    for h in hammers {
        for (t, n) in total.iter_mut().zip(h.join().expect("hammer")) {
            *t += n;
        }
    }
    let busy = total.pop().unwrap_or_default();
    assert!(busy > 0, "the scripts never passed the threshold");
    let mut r = Raw::connect(s.port);
    for (k, want) in keys.iter().zip(total) {
        assert_eq!(
            ask(&mut r, &["GET", k]),
            format!("${}\r\n{want}\r\n", want.to_string().len())
        );
    }
}

/// slotd with three shards and the small threshold.
fn three_shards() -> Server {
    Server::start(&[
        "--server-threads",
        "3",
        "--busy-reply-threshold",
        THRESHOLD_MS,
    ])
}

/// Three clients of a three-shard node: `a` (core 0) runs a script over cores 0 and 1 that
/// loops past the threshold, `w` is a client of core 1 (held, lent back between slices) and
/// `c` one of core 2 (free; it first sends `setup`, answers in `t`). `w` sends WATCH of
/// `watched` without reading its reply.
fn lent_core_watching(
    port: u16,
    k0: &str,
    k1: &str,
    watched: &str,
    setup: &[&[&str]],
    t: &mut Vec<String>,
) -> (Raw, Raw, Raw) {
    // Connections land on the cores in turn, from core 0 on a fresh node.
    let mut a = Raw::connect(port);
    let mut w = Raw::connect(port);
    let mut c = Raw::connect(port);
    for q in setup {
        t.push(ask(&mut c, q));
    }
    send_eval(&mut a, LOOP, &[k0, k1], &[]);
    wait_busy(&mut c, k0);
    assert_eq!(
        ask(&mut w, &["GET", k1]),
        BUSY,
        "w is a client of the held core"
    );
    w.send(&cmd(&[b"WATCH", watched.as_bytes()]));
    // Long enough for the WATCH to reach its handler on a lent core.
    std::thread::sleep(Duration::from_millis(200));
    (a, w, c)
}

#[test]
fn shutdown_nosave_stops_a_node_while_a_lent_core_watches_a_key_of_another_core() {
    // The WATCH on the lent core waits for the script (it parks the key's core); SHUTDOWN
    // NOSAVE from a free core ends the script, and the node must exit, WATCH or not.
    for watched_core in [0, 2] {
        let mut s = three_shards();
        let (k0, k1) = (key_on(0, 3, "w"), key_on(1, 3, "w"));
        let watched = key_on(watched_core, 3, "x");
        let (_a, _w, mut c) = lent_core_watching(s.port, &k0, &k1, &watched, &[], &mut vec![]);
        c.send(&cmd(&[b"SHUTDOWN", b"NOSAVE"]));
        assert!(c.closed(), "SHUTDOWN NOSAVE closes the client");
        assert_eq!(
            s.wait_exit(5),
            Some(0),
            "the node stops (WATCH of a key of core {watched_core})"
        );
    }
}

/// The WATCH of a lent core's client over a script that SCRIPT KILL ends: it answers +OK,
/// and the EXEC after it runs (the killed script wrote nothing), as in Redis.
fn watch_on_lent_core_then_kill(port: u16, k0: &str, k1: &str, watched: &str) -> Vec<String> {
    let mut t = Vec::new();
    let set: &[&str] = &["SET", watched, "1"];
    let (mut a, mut w, mut c) = lent_core_watching(port, k0, k1, watched, &[set], &mut t);
    t.push(ask(&mut c, &["SCRIPT", "KILL"]));
    t.push(next(&mut a));
    t.push(next(&mut w));
    t.push(ask(&mut w, &["MULTI"]));
    t.push(ask(&mut w, &["INCR", watched]));
    t.push(ask(&mut w, &["EXEC"]));
    // A second round: a write by another client between WATCH and EXEC dooms the EXEC.
    t.push(ask(&mut w, &["WATCH", watched]));
    t.push(ask(&mut c, &["SET", watched, "9"]));
    t.push(ask(&mut w, &["MULTI"]));
    t.push(ask(&mut w, &["INCR", watched]));
    t.push(ask(&mut w, &["EXEC"]));
    t.push(ask(&mut w, &["GET", watched]));
    t
}

#[test]
fn a_lent_core_watching_a_key_of_another_core_answers_once_the_script_is_killed_as_redis() {
    let (k0, k1) = (key_on(0, 3, "v"), key_on(1, 3, "v"));
    for watched_core in [0, 2] {
        let watched = key_on(watched_core, 3, "y");
        side_by_side(&["--server-threads", "3"], &|port| {
            watch_on_lent_core_then_kill(port, &k0, &k1, &watched)
        });
    }
}
