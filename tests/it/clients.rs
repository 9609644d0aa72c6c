//! Real clients whose features are Lua scripts, unchanged, against slotd: redis-cli --eval,
//! the `redis` crate's `Script` (EVALSHA, falling back on NOSCRIPT), and redis-py's Lock,
//! register_script, pipelines and FCALL (tests/clients/redis_py_scripts.py) on one and two
//! shards and on a 3-master cluster. Where redis-server 7.0 is installed the same checks run against it
//! first, so a failure on slotd is never a wrong expectation. The Python checks are skipped
//! (with a message) only when python3 cannot import redis (.ci/run installs it).

use crate::cluster::Cluster;
use crate::common::{test_dir, RedisServer as Redis, Server};
use std::path::PathBuf;
use std::process::Command;

// ---------------------------------------------------------------------------------------------
// redis-cli --eval
// ---------------------------------------------------------------------------------------------

/// Runs `redis-cli -p port <args>`, returning stdout and stderr together.
fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn lua_file(dir: &std::path::Path, name: &str, body: &str) -> String {
    let p: PathBuf = dir.join(name);
    std::fs::write(&p, body).expect("write the script");
    p.display().to_string()
}

#[test]
fn redis_cli_eval_answers_as_redis() {
    // `redis-cli --eval file k1 k2 , a1 a2` splits keys from arguments at the comma and sends
    // EVAL with the file's text: every output (replies, errors, nested arrays) as Redis'.
    let dir = test_dir("cli_eval");
    let set_get = lua_file(
        &dir,
        "setget.lua",
        "redis.call('SET', KEYS[1], ARGV[1])\nredis.call('SET', KEYS[2], ARGV[2])\n\
         return {KEYS[1], KEYS[2], redis.call('MGET', KEYS[1], KEYS[2]), #ARGV}\n",
    );
    let status = lua_file(&dir, "status.lua", "return redis.status_reply('FINE')\n");
    let err = lua_file(&dir, "err.lua", "return redis.call('INCR', KEYS[1])\n");
    let syntax = lua_file(&dir, "syntax.lua", "return (\n");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--eval", &set_get, "{t}a", "{t}b", ",", "one", "two"],
        vec!["--eval", &set_get, "{t}a", "{t}b", ",", "x", "y"],
        vec!["--eval", &status],
        vec!["--eval", &err, "{t}a"],
        vec!["--eval", &syntax],
        vec!["--eval", &set_get, "{t}a", ",", "only-one"],
        vec![
            "--no-raw", "--eval", &set_get, "{t}a", "{t}b", ",", "1", "2",
        ],
    ];
    let slotd = Server::start(&["--server-threads", "2"]);
    let redis = Redis::start("cli_eval");
    for case in &cases {
        let got = redis_cli(slotd.port, case);
        if let Some(r) = &redis {
            let want = redis_cli(r.port, case);
            // The syntax error names the script's SHA1-derived function: the same on both.
            assert_eq!(got, want, "redis-cli {case:?}");
        }
    }
    // What the first case prints, so that the test means something without redis-server.
    let got = redis_cli(slotd.port, &cases[0]);
    assert_eq!(got, "{t}a\n{t}b\none\ntwo\n2\n", "{got}");
}

// ---------------------------------------------------------------------------------------------
// The redis crate's Script
// ---------------------------------------------------------------------------------------------

/// The `redis` crate's Script over one connection: EVALSHA, NOSCRIPT, SCRIPT LOAD, EVALSHA.
fn redis_crate_script_checks(c: &mut redis::Connection, tag: &str) {
    let incr = redis::Script::new(
        "local v = redis.call('INCRBY', KEYS[1], ARGV[1]) return {v, ARGV[2], #KEYS}",
    );
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(c).expect("flush");
    let key = format!("{tag}:n");
    let _: () = redis::cmd("DEL").arg(&key).query(c).expect("del");
    let r: (i64, String, i64) = incr
        .key(&key)
        .arg(5)
        .arg("x")
        .invoke(c)
        .expect("first call");
    assert_eq!(r, (5, "x".to_string(), 1));
    let cached: Vec<bool> = redis::cmd("SCRIPT")
        .arg("EXISTS")
        .arg(incr.get_hash())
        .query(c)
        .expect("exists");
    assert_eq!(cached, vec![true], "the fallback loaded the script");
    let r: (i64, String, i64) = incr
        .key(&key)
        .arg(2)
        .arg("y")
        .invoke(c)
        .expect("cached call");
    assert_eq!(r, (7, "y".to_string(), 1));
    // Keys that (with several shards) live on different cores, in one script.
    let both = redis::Script::new(
        "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', KEYS[2], ARGV[1]) \
         return redis.call('MGET', KEYS[1], KEYS[2])",
    );
    for i in 0..8 {
        let (a, b) = (format!("{tag}:a{i}"), format!("{tag}:b{i}"));
        let v: Vec<String> = both.key(&a).key(&b).arg(i).invoke(c).expect("two keys");
        assert_eq!(v, vec![i.to_string(), i.to_string()], "{a} {b}");
    }
    // A script error reaches the client as the server's error.
    let bad = redis::Script::new("return redis.call('INCR', KEYS[1], 'extra')");
    let e = bad.key(&key).invoke::<i64>(c).expect_err("wrong arity");
    assert!(
        e.to_string()
            .contains("Wrong number of args calling Redis command from script"),
        "{e}"
    );
}

#[test]
fn redis_crate_script_invokes_with_noscript_fallback() {
    // The crate sends EVALSHA and, on NOSCRIPT, SCRIPT LOAD then EVALSHA again.
    if let Some(r) = Redis::start("crate_script") {
        redis_crate_script_checks(&mut r.client(), "redis");
    }
    for threads in ["1", "2"] {
        let s = Server::start(&["--server-threads", threads]);
        redis_crate_script_checks(&mut s.client(), "slotd");
    }
}

// ---------------------------------------------------------------------------------------------
// redis-py
// ---------------------------------------------------------------------------------------------

fn python_has_redis() -> bool {
    Command::new("python3")
        .args(["-c", "import redis"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs tests/clients/redis_py_scripts.py against `port`; panics with its output on failure.
fn redis_py(port: u16, what: &str, extra: &[&str]) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/redis_py_scripts.py"
    );
    let out = Command::new("timeout")
        .args(["120", "python3", script, &port.to_string()])
        .args(extra)
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "redis-py against {what}:\n{text}");
    assert!(text.contains(" passed, 0 failed"), "{what}: {text}");
}

#[test]
fn redis_py_lock_and_scripts_standalone() {
    // Lock (acquire, extend, release, a second client's blocking acquire, timeouts),
    // register_script with the NOSCRIPT fallback, scripts in pipelines and MULTI.
    if !python_has_redis() {
        eprintln!("python3 cannot import redis (pip install redis): redis-py checks skipped");
        return;
    }
    if let Some(r) = Redis::start("redis_py") {
        redis_py(r.port, "redis-server", &[]);
        redis_py(r.port, "redis-server, RESP3", &["--resp3"]);
    }
    for threads in ["1", "2"] {
        let s = Server::start(&["--server-threads", threads]);
        redis_py(s.port, &format!("slotd --server-threads {threads}"), &[]);
        // The same through RESP3 (HELLO 3): script replies converted for that protocol.
        redis_py(
            s.port,
            &format!("slotd --server-threads {threads}, RESP3"),
            &["--resp3"],
        );
    }
}

#[test]
fn scripts_through_cluster_clients() {
    // A 3-master cluster: the `redis` crate's cluster connection routes each Script call by its
    // first key to the master owning it (EVALSHA, NOSCRIPT on a master that never saw the
    // script, SCRIPT LOAD there, EVALSHA); then redis-py's RedisCluster with locks and
    // register_script on every master, and the server's CROSSSLOT for keys of two slots.
    let c = Cluster::create(3, 0, &["--server-threads", "2"]);
    let client =
        redis::cluster::ClusterClient::new(vec![format!("redis://{}/", c.nodes[0].addr())])
            .expect("cluster client");
    let mut conn = client.get_connection().expect("cluster connection");
    let script = redis::Script::new(
        "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', KEYS[2], ARGV[1]) \
         return redis.call('MGET', KEYS[1], KEYS[2])",
    );
    for i in 0..24 {
        let (a, b) = (format!("{{cs{i}}}:a"), format!("{{cs{i}}}:b"));
        let v: Vec<String> = script
            .key(&a)
            .key(&b)
            .arg(i)
            .invoke(&mut conn)
            .expect("script");
        assert_eq!(v, vec![i.to_string(), i.to_string()], "{a}");
    }
    let e = script
        .key("cs-x")
        .key("cs-y")
        .arg(1)
        .invoke::<Vec<String>>(&mut conn)
        .expect_err("two slots");
    // The crate sends it to the first key's master, whose CROSSSLOT it reports by kind.
    assert_eq!(
        e.to_string(),
        "CrossSlot: Keys in request don't hash to the same slot"
    );
    if !python_has_redis() {
        eprintln!("python3 cannot import redis (pip install redis): redis-py checks skipped");
        return;
    }
    redis_py(c.nodes[0].port, "a 3-master slotd cluster", &["--cluster"]);
}
