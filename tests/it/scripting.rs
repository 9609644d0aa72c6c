//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT side by side with redis-server 7.0 (issue 14):
//! replies byte for byte on one and two shards (keys on both shards, undeclared keys), in
//! cluster mode (slot checks inside scripts), inside MULTI/EXEC; scripts' writes touch WATCHed
//! keys and wake blocked clients; their effects reach the AOF as Redis 7 writes them and
//! survive kill -9 under `appendfsync always`.

use crate::common::{cmd, free_port, Raw, RedisServer, Server};
use crate::compare::read_reply;
use std::time::{Duration, Instant};

/// Sends each command line to both servers and asserts byte-equal replies.
pub(crate) fn same(redis: &mut Raw, slotd: &mut Raw, lines: &[Vec<String>], what: &str) {
    for line in lines {
        let refs: Vec<&[u8]> = line.iter().map(|p| p.as_bytes()).collect();
        let req = cmd(&refs);
        redis.send(&req);
        slotd.send(&req);
        let ra = read_reply(redis);
        let rb = read_reply(slotd);
        assert_eq!(
            String::from_utf8_lossy(&rb),
            String::from_utf8_lossy(&ra),
            "slotd vs redis ({what}) for {line:?}"
        );
    }
}

pub(crate) fn line(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The cases every standalone layout must answer as Redis does. With two shards, "a" lives on
/// shard 1 and "b" on shard 0.
fn standalone_cases() -> Vec<Vec<String>> {
    vec![
        line(&["EVAL", "return 1", "0"]),
        line(&["EVAL", "return {1,2,{3,'x'},false,'s'}", "0"]),
        line(&["EVAL", "return redis.call('set',KEYS[1],ARGV[1])", "1", "a", "v"]),
        line(&["EVAL", "return redis.call('get',KEYS[1])", "1", "a"]),
        // Declared keys on both shards.
        line(&[
            "EVAL",
            "redis.call('set',KEYS[1],ARGV[1]) redis.call('set',KEYS[2],ARGV[1]) return redis.call('mget',KEYS[1],KEYS[2])",
            "2",
            "a",
            "b",
            "w",
        ]),
        // Keys it did not declare, on both shards, read before any write: the run starts again
        // holding every shard.
        line(&["EVAL", "local v = redis.call('mget','c1','c2','a','b') redis.call('incr','c1') redis.call('incr','c2') return v", "0"]),
        line(&["EVAL", "local v = redis.call('mget','c1','c2','a','b') redis.call('incr','c1') redis.call('incr','c2') return v", "0"]),
        line(&["EVAL", "return redis.call('get','a')", "1", "b"]),
        line(&["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"]),
        line(&["EVALSHA_RO", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"]),
        line(&["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]),
        line(&["EVALSHA", "short", "0"]),
        line(&["SCRIPT", "LOAD", "return 'loaded'"]),
        line(&["SCRIPT", "LOAD", "retur 1"]),
        line(&["SCRIPT", "LOAD", "#!lua flags=foo\nreturn 1"]),
        line(&["SCRIPT", "LOAD", "#!lua name=x\nreturn 1"]),
        line(&["EVAL", "retur 1", "0"]),
        // Neither compile error left the script cached.
        line(&["SCRIPT", "EXISTS", "bd8a38c8c92a9e7c822671136e91e991e5980660", "b534286061d4b9e4026607613b95c06c06015ae8"]),
        line(&["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "nope"]),
        line(&["EVAL", "return 1", "x"]),
        line(&["EVAL", "return 1", "3", "a"]),
        line(&["EVAL", "return 1", "-1"]),
        line(&["EVAL_RO", "return redis.call('set','a','1')", "1", "a"]),
        line(&["EVAL", "return redis.call('nosuch')", "0"]),
        line(&["EVAL", "return redis.call('get')", "0"]),
        line(&["EVAL", "return redis.call('multi')", "0"]),
        line(&["EVAL", "return redis.call('blpop','q','0')", "0"]),
        line(&["EVAL", "return redis.pcall('incr',KEYS[1])", "1", "a"]),
        line(&["EVAL", "return redis.call('incr',KEYS[1])", "1", "a"]),
        // SELECT inside a script is the script's own.
        line(&["EVAL", "redis.call('select','3') redis.call('set','d3','x') return redis.call('get','d3')", "0"]),
        line(&["GET", "d3"]),
        line(&["SELECT", "3"]),
        line(&["GET", "d3"]),
        line(&["EVAL", "return redis.call('get','d3')", "0"]),
        line(&["SELECT", "0"]),
        line(&["EVAL", "return redis.call('lpop','nolist')", "0"]),
        line(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('set','a','1')", "1", "a"]),
        line(&["EVAL_RO", "#!lua\nreturn 1", "0"]),
        line(&["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get',KEYS[1])", "1", "a"]),
        line(&["EVAL", "#!lua flags=bogus\nreturn 1", "0"]),
        line(&["EVAL", "#!lua\nreturn redis.call('incr','c1')", "0"]),
        line(&["EVAL", "return redis.call('ping')", "0"]),
        line(&["EVAL", "return redis.call('echo','hi')", "0"]),
        line(&["EVAL", "return redis.call('dbsize')", "0"]),
        line(&["EVAL", "return redis.call('exists','a','b','c1','c2','zz')", "0"]),
        line(&["MULTI"]),
        line(&["EVAL", "return redis.call('incr',KEYS[1])", "1", "n"]),
        line(&["EVAL", "redis.call('incr','n2') return redis.call('incr','b2')", "0"]),
        line(&["EXEC"]),
        line(&["MGET", "n", "n2", "b2"]),
        line(&["SCRIPT", "FLUSH"]),
        line(&["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"]),
        line(&["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"]),
        line(&["SCRIPT", "FLUSH", "ASYNC"]),
        line(&["SCRIPT", "FLUSH", "SYNC"]),
        line(&["SCRIPT", "FLUSH", "BOGUS"]),
        line(&["SCRIPT", "KILL"]),
        line(&["SCRIPT", "HELP"]),
        line(&["SCRIPT", "DEBUG", "BOGUS"]),
        line(&["SCRIPT", "DEBUG", "NO"]),
        line(&["SCRIPT"]),
    ]
}

#[test]
fn eval_family_answers_as_redis_on_one_and_two_shards() {
    for threads in ["1", "2"] {
        let Some(redis) = RedisServer::start("redis-eval") else {
            eprintln!("redis-server not installed: comparison skipped");
            return;
        };
        let slotd = Server::start(&["--server-threads", threads]);
        let mut a = Raw::connect(redis.port);
        let mut b = slotd.raw();
        same(
            &mut a,
            &mut b,
            &standalone_cases(),
            &format!("server-threads {threads}"),
        );
    }
}

fn wait_cluster_ok(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let info = crate::common::cli(port, &["cluster", "info"]);
        if info.contains("cluster_state:ok") {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("cluster on port {port} not ok");
}

#[test]
fn scripts_in_cluster_mode_meet_redis_slot_checks() {
    let Some(redis) = RedisServer::start_with(
        "redis-eval-cluster",
        &[
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ],
    ) else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--server-threads",
        "2",
    ]);
    for port in [redis.port, slotd.port] {
        crate::common::cli(port, &["cluster", "addslotsrange", "0", "16383"]);
        wait_cluster_ok(port);
    }
    let cases = vec![
        line(&["EVAL", "return 1", "2", "b", "c"]),
        line(&["EVAL", "return redis.call('set',KEYS[1],'1')", "1", "b"]),
        line(&["EVAL", "return redis.call('set',KEYS[1],'2')", "1", "c"]),
        line(&["EVAL", "return redis.call('get','b')", "1", "c"]),
        line(&["EVAL", "return redis.call('mget','b','c')", "0"]),
        line(&[
            "EVAL",
            "#!lua\nredis.call('get','b') return redis.call('get','c')",
            "0",
        ]),
        line(&["EVAL", "#!lua\nreturn redis.call('get','b')", "1", "c"]),
        line(&["EVAL", "#!lua\nreturn redis.call('get','b')", "1", "b"]),
        line(&[
            "EVAL",
            "#!lua flags=allow-cross-slot-keys\nreturn redis.call('get','b')",
            "1",
            "c",
        ]),
        line(&["EVAL", "#!lua\nreturn redis.call('mget','b','c')", "0"]),
        line(&["EVAL", "#!lua flags=no-cluster\nreturn 1", "0"]),
        line(&["EVAL", "return redis.call('incr','b{b}')", "1", "b"]),
    ];
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    same(&mut a, &mut b, &cases, "cluster mode");
}

#[test]
fn script_writes_touch_watched_keys_wake_blocked_clients_and_count_in_commandstats() {
    let s = Server::start(&["--server-threads", "2"]);
    let mut w = s.client();
    let mut c = s.client();
    let _: () = redis::cmd("WATCH").arg("a").query(&mut w).expect("WATCH");
    let _: () = redis::cmd("EVAL")
        .arg("redis.call('set',KEYS[1],'x')")
        .arg(1)
        .arg("a")
        .query(&mut c)
        .expect("EVAL");
    let r: Option<Vec<String>> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("a")
        .arg("y")
        .query(&mut w)
        .expect("EXEC");
    assert_eq!(r, None, "a script's write breaks the WATCH");
    let port = s.port;
    let waiter = std::thread::spawn(move || {
        let mut b = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        let got: Option<(String, String)> =
            redis::cmd("BLPOP").arg("q").arg(5).query(&mut b).unwrap();
        got
    });
    std::thread::sleep(Duration::from_millis(200));
    let _: () = redis::cmd("EVAL")
        .arg("redis.call('rpush','q','job')")
        .arg(0)
        .query(&mut c)
        .expect("EVAL");
    let got = waiter.join().unwrap();
    assert_eq!(got, Some(("q".into(), "job".into())));
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut c)
        .unwrap();
    assert!(info.contains("cmdstat_eval:calls=2"), "{info}");
    assert!(info.contains("cmdstat_rpush:calls=1"), "{info}");
}

fn incr_records(dir: &std::path::Path) -> Vec<Vec<String>> {
    let aof = dir.join("appendonlydir");
    let text = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).expect("manifest");
    text.lines()
        .filter(|l| l.contains("type i"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|f| crate::scripting_aof::records(&std::fs::read(aof.join(f)).unwrap_or_default()))
        .collect()
}

#[test]
fn script_effects_reach_the_aof_as_redis_7_writes_them_and_survive_kill_9() {
    let aof = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--server-threads",
        "2",
    ];
    let mut s = Server::start(&aof);
    let mut c = s.client();
    // One write stays bare; two are a MULTI/EXEC block (redis-server 7.0.15's AOF), with
    // the SELECT of the first write in front of the MULTI. (slotd's SET journals its own
    // upper-case form.)
    let _: () = redis::cmd("EVAL")
        .arg("redis.call('set','a','1')")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("EVAL")
        .arg("redis.call('select','2') redis.call('set','a','2') redis.call('set','{a}x','3')")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let files = incr_records(&s.dir);
    let all: Vec<String> = files.concat();
    let at = all
        .iter()
        .position(|r| r == "SET a 1")
        .unwrap_or_else(|| panic!("bare write in {files:?}"));
    assert_eq!(
        &all[at..at + 6],
        &[
            "SET a 1",
            "SELECT 2",
            "MULTI",
            "SET a 2",
            "SET {a}x 3",
            "EXEC"
        ],
        "{all:?}"
    );
    // redis.set_repl(redis.REPL_NONE) keeps a write out of the AOF (and the stream).
    let _: () = redis::cmd("EVAL")
        .arg("redis.set_repl(redis.REPL_NONE) redis.call('set','n','1') redis.set_repl(redis.REPL_ALL) redis.call('set','n2','1')")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let all: Vec<String> = incr_records(&s.dir).concat();
    assert!(all.iter().any(|r| r == "SET n2 1"), "{all:?}");
    assert!(!all.iter().any(|r| r == "SET n 1"), "{all:?}");
    // REPL_AOF and REPL_REPLICA alone cannot be honoured (one journal feeds both): refused,
    // and the script stops there.
    for flag in ["REPL_AOF", "REPL_REPLICA", "REPL_SLAVE"] {
        let r: redis::RedisResult<()> = redis::cmd("EVAL")
            .arg(format!(
                "redis.set_repl(redis.{flag}) redis.call('set','one_side','1')"
            ))
            .arg(0)
            .query(&mut c);
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("redis.set_repl takes REPL_ALL or REPL_NONE"),
            "{e}"
        );
        let v: Option<String> = redis::cmd("GET").arg("one_side").query(&mut c).unwrap();
        assert_eq!(v, None);
    }
    // Acknowledged writes of scripts over both shards survive kill -9.
    let mut last = 0i64;
    for _ in 0..100 {
        let v: i64 = redis::cmd("EVAL")
            .arg("redis.call('incr',KEYS[2]) return redis.call('incr',KEYS[1])")
            .arg(2)
            .arg("a")
            .arg("b")
            .query(&mut c)
            .unwrap();
        last = v;
    }
    if let Some(mut ch) = s.child.take() {
        let _ = ch.kill();
        let _ = ch.wait();
    }
    let dir = std::mem::take(&mut s.dir);
    let s2 = Server::start_in(free_port(), dir, &aof).expect("restart");
    let mut c = s2.client();
    let (a, b): (i64, i64) = redis::cmd("MGET").arg("a").arg("b").query(&mut c).unwrap();
    assert_eq!((a, b), (last, 100));
    let _: () = redis::cmd("SELECT").arg(2).query(&mut c).unwrap();
    let in_db2: Vec<Option<String>> = redis::cmd("MGET")
        .arg("a")
        .arg("{a}x")
        .query(&mut c)
        .unwrap();
    assert_eq!(in_db2, [Some("2".to_string()), Some("3".to_string())]);
}

/// INFO errorstats, commandstats (calls and error counts) and the error total, as lines.
fn error_figures(c: &mut redis::Connection) -> Vec<String> {
    let mut lines = Vec::new();
    for section in ["errorstats", "commandstats", "stats"] {
        let info: String = redis::cmd("INFO").arg(section).query(c).unwrap();
        for l in info.lines() {
            if l.starts_with("errorstat_") || l.starts_with("total_error_replies") {
                lines.push(l.to_string());
            }
            if let Some(rest) = l.strip_prefix("cmdstat_") {
                let f: Vec<&str> = rest.split(',').collect();
                // name=calls, rejected_calls, failed_calls (times differ).
                lines.push(format!("{} {} {}", f[0], f[3], f[4]));
            }
        }
    }
    lines.sort();
    lines
}

#[test]
fn errors_inside_scripts_count_in_info_as_redis_counts_them() {
    let Some(redis) = RedisServer::start("redis-eval-stats") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", "2"]);
    let mut figures = Vec::new();
    for mut c in [redis.client(), slotd.client()] {
        let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
        for script in [
            "return redis.call('set','a','x')",
            "return redis.call('incr','a')",
            "return redis.pcall('incr','a')",
            "return redis.call('nosuch')",
            "return redis.call('get')",
            "return redis.pcall('multi')",
            "return redis.error_reply('MY err')",
            "return {err='XX bad'}",
        ] {
            let _: redis::RedisResult<redis::Value> =
                redis::cmd("EVAL").arg(script).arg(0).query(&mut c);
        }
        let _: redis::RedisResult<redis::Value> = redis::cmd("EVAL_RO")
            .arg("return redis.call('set','a','1')")
            .arg(0)
            .query(&mut c);
        let _: redis::RedisResult<redis::Value> = redis::cmd("EVALSHA")
            .arg("ffffffffffffffffffffffffffffffffffffffff")
            .arg(0)
            .query(&mut c);
        figures.push(error_figures(&mut c));
    }
    assert_eq!(figures[1], figures[0], "slotd vs redis");
}

#[test]
fn scripts_answer_in_resp3_as_redis_on_the_owner_core() {
    let Some(redis) = RedisServer::start("redis-eval-resp3") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", "2"]);
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    // HELLO's own reply names the server: switch both, then compare what follows.
    for r in [&mut a, &mut b] {
        r.send(&cmd(&[b"HELLO", b"3"]));
        let _ = read_reply(r);
    }
    let cases = vec![
        line(&["HSET", "a", "f", "v"]),
        line(&["HSET", "b", "g", "w"]),
        line(&["EVAL", "return redis.call('hgetall',KEYS[1])", "1", "a"]),
        line(&[
            "EVAL",
            "redis.setresp(3) return redis.call('hgetall',KEYS[1])",
            "1",
            "b",
        ]),
        line(&[
            "EVAL",
            "redis.setresp(3) return redis.call('hgetall',KEYS[1])",
            "1",
            "a",
        ]),
        line(&["EVAL", "return redis.call('get',KEYS[1])", "1", "nosuch"]),
        line(&[
            "EVAL",
            "redis.setresp(3) return redis.call('get',KEYS[1])",
            "1",
            "nosuch",
        ]),
        line(&["EVAL", "return {double=3.5}", "0"]),
        line(&[
            "EVAL",
            "return redis.call('hget',KEYS[1],'f')",
            "2",
            "a",
            "b",
        ]),
    ];
    same(&mut a, &mut b, &cases, "RESP3, two shards");
}

#[test]
fn a_replica_applies_the_effects_of_scripts() {
    let m = Server::start(&["--server-threads", "2"]);
    let r = Server::start(&["--replicaof", "127.0.0.1", &m.port.to_string()]);
    let mut c = m.client();
    let _: () = redis::cmd("EVAL")
        .arg("redis.call('set',KEYS[1],'1') redis.call('incr',KEYS[1]) redis.call('set',KEYS[2],'x')")
        .arg(2)
        .arg("a")
        .arg("b")
        .query(&mut c)
        .unwrap();
    let mut rc = r.client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got: (Option<String>, Option<String>) =
            redis::cmd("MGET").arg("a").arg("b").query(&mut rc).unwrap();
        if got == (Some("2".into()), Some("x".into())) {
            break;
        }
        assert!(Instant::now() < deadline, "replica has {got:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn scripts_under_maxmemory_meet_redis_oom_rules() {
    let Some(redis) = RedisServer::start("redis-eval-oom") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", "2"]);
    let cases = vec![
        line(&["SET", "k", "v"]),
        line(&["CONFIG", "SET", "maxmemory", "1"]),
        line(&["EVAL", "return redis.call('set','a','1')", "0"]),
        line(&["EVAL", "return redis.call('get',KEYS[1])", "1", "k"]),
        line(&["EVAL", "#!lua\nreturn 1", "0"]),
        line(&[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('get','k')",
            "0",
        ]),
        line(&[
            "EVAL",
            "#!lua flags=allow-oom\nreturn redis.call('set','a','1')",
            "0",
        ]),
        line(&["EVAL_RO", "#!lua flags=allow-oom\nreturn 1", "0"]),
        line(&[
            "EVAL",
            "redis.call('del','a') return redis.call('set','a','2')",
            "0",
        ]),
        line(&["CONFIG", "SET", "maxmemory", "0"]),
        line(&["EVAL", "return redis.call('set','a','3')", "0"]),
    ];
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    same(&mut a, &mut b, &cases, "maxmemory 1");
}

#[test]
fn scripts_on_a_read_only_replica_meet_redis_rules() {
    let Some(rm) = RedisServer::start("redis-eval-master") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let Some(rr) = RedisServer::start_with(
        "redis-eval-replica",
        &["--replicaof", "127.0.0.1", &rm.port.to_string()],
    ) else {
        return;
    };
    let sm = Server::start(&[]);
    let sr = Server::start(&["--replicaof", "127.0.0.1", &sm.port.to_string()]);
    for port in [rr.port, sr.port] {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !crate::common::cli(port, &["info", "replication"]).contains("master_link_status:up")
        {
            assert!(Instant::now() < deadline, "replica on {port} not linked");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let cases = vec![
        line(&["EVAL", "return redis.call('set','a','1')", "0"]),
        line(&["EVAL", "#!lua\nreturn 1", "0"]),
        line(&[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('get','a')",
            "0",
        ]),
        line(&["EVAL_RO", "return redis.call('get','a')", "0"]),
        line(&["EVAL", "return redis.call('get','a')", "0"]),
    ];
    let mut a = Raw::connect(rr.port);
    let mut b = sr.raw();
    same(&mut a, &mut b, &cases, "read-only replica");
}

#[test]
fn a_script_that_writes_then_reaches_an_undeclared_core_takes_it_mid_run() {
    // Standalone, two shards: "a" lives on shard 1, "b" on shard 0. The first run wrote "a"
    // before it reached "b": it parks shard 0 there and then (its own shard was frozen since
    // it started, so the script stays serializable) and answers as Redis; so do later runs,
    // which hold every shard from the start.
    let s = Server::start(&["--server-threads", "2"]);
    let mut c = s.client();
    let _: () = redis::cmd("SET").arg("b").arg("w").query(&mut c).unwrap();
    let script = "redis.call('set',KEYS[1],'z') return redis.call('get','b')";
    for run in 0..2 {
        let got: String = redis::cmd("EVAL")
            .arg(script)
            .arg(1)
            .arg("a")
            .query(&mut c)
            .unwrap();
        assert_eq!(got, "w", "run {run}");
    }
    let a: String = redis::cmd("GET").arg("a").query(&mut c).unwrap();
    assert_eq!(a, "z");
}

#[test]
fn script_status_and_error_texts_pass_through_byte_for_byte() {
    let Some(redis) = RedisServer::start("redis-eval-bytes") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    let bodies: [&[u8]; 7] = [
        b"return {ok='\xc3\xa9 ok'}",
        b"return {err='\xc3\xa9 bad'}",
        b"return {err='ERR \xff\xfe'}",
        b"return redis.status_reply('\xff')",
        b"return redis.error_reply('\xc3\xa9')",
        b"return {ok='a\\r\\nb'}",
        b"return 'x' .. \"\xc3\xa9",
    ];
    for body in bodies {
        let req = cmd(&[b"EVAL", body, b"0"]);
        a.send(&req);
        b.send(&req);
        let (ra, rb) = (read_reply(&mut a), read_reply(&mut b));
        assert_eq!(
            rb,
            ra,
            "slotd vs redis for {}",
            String::from_utf8_lossy(body)
        );
    }
}
