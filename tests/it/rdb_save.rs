//! Issue 16, part B: SAVE, BGSAVE, save points and the save at shutdown. Replies, errors and
//! INFO fields side by side with Debian's redis-server 7.0; slotd's dump.rdb checked by
//! `redis-check-rdb` and loaded by redis-server with equal DEBUG DIGEST-VALUE for every key.

use crate::common::{cli, test_dir, RedisServer, Server};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tr(s: String) -> String {
    s.trim().to_string()
}

/// One INFO persistence field.
fn info_field(port: u16, name: &str) -> String {
    let text = cli(port, &["info", "persistence"]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} missing in {text}"))
        .trim()
        .to_string()
}

fn wait_bgsave_done(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while info_field(port, "rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGSAVE did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `redis-check-rdb` accepts the file.
fn check_rdb(path: &Path) {
    let out = Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("redis-check-rdb is installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A redis-server loading `file` (copied into its own directory as dump.rdb).
fn redis_loading(tag: &str, file: &Path) -> (RedisServer, std::path::PathBuf) {
    let dir = test_dir(tag);
    std::fs::copy(file, dir.join("dump.rdb")).expect("copy the RDB file");
    let d = dir.display().to_string();
    let r = RedisServer::start_with(tag, &["--dir", &d, "--enable-debug-command", "yes"])
        .expect("redis-server is installed");
    // It answers once loading is done.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !tr(cli(r.port, &["ping"])).eq("PONG") {
        assert!(
            Instant::now() < deadline,
            "redis-server did not load the file"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (r, dir)
}

/// Every type and encoding slotd has, TTLs, two databases and a function library.
fn populate(port: u16) {
    let mut script = String::new();
    for i in 0..200 {
        script.push_str(&format!("SET str{i} value-{i}\nSET int{i} {i}\n"));
    }
    script.push_str("RPUSH smalllist a b c 1 2 3\nHSET smallhash f1 v1 f2 2\n");
    script.push_str("SADD intset 1 2 3 100000\nSADD smallset a b c\n");
    script.push_str("ZADD smallzset 1 a 2.5 b -3 c\nPFADD hll a b c d\n");
    for i in 0..300 {
        script.push_str(&format!(
            "RPUSH biglist item-{i}-{}\nHSET bighash f{i} {}\nSADD bigset m{i}\n\
             ZADD bigzset {i} m{i}\n",
            "x".repeat(40),
            "y".repeat(70)
        ));
    }
    for i in 0..50 {
        script.push_str(&format!("XADD stream {}-1 f {i} g v{i}\n", i + 1));
    }
    script.push_str(
        "XGROUP CREATE stream grp 0\nXREADGROUP GROUP grp alice COUNT 5 STREAMS stream >\n",
    );
    script.push_str("SET withttl v PX 500000\nHSET hashttl a b\nEXPIRE hashttl 9000\n");
    script.push_str(&format!("SET compressible {}\n", "abc".repeat(1000)));
    script.push_str("SELECT 5\nSET in5 five\nRPUSH list5 a b\nSELECT 0\n");
    run_script(port, &script);
    let lib = "#!lua name=savelib\nredis.register_function('f1', function() return 1 end)";
    assert_eq!(tr(cli(port, &["function", "load", lib])), "savelib");
}

/// Sends commands (one per line) through one redis-cli.
fn run_script(port: u16, script: &str) {
    use std::io::Write;
    let mut child = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-cli");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write");
    assert!(child.wait().expect("redis-cli exits").success());
}

/// Every key of databases 0 and 5 has the same DEBUG DIGEST-VALUE in both servers, and the
/// key counts agree.
fn assert_same_data(slotd: u16, redis: u16) {
    for db in ["0", "5"] {
        let keys = cli(redis, &["-n", db, "keys", "*"]);
        let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
        assert_eq!(
            tr(cli(slotd, &["-n", db, "dbsize"])),
            keys.len().to_string(),
            "db {db}"
        );
        for k in keys {
            let a = tr(cli(slotd, &["-n", db, "debug", "digest-value", k]));
            let b = tr(cli(redis, &["-n", db, "debug", "digest-value", k]));
            assert_eq!(a, b, "db {db} key {k}");
            let ta = tr(cli(slotd, &["-n", db, "pttl", k]))
                .parse::<i64>()
                .unwrap();
            let tb = tr(cli(redis, &["-n", db, "pttl", k]))
                .parse::<i64>()
                .unwrap();
            assert!(
                (ta == -1) == (tb == -1) && (ta - tb).abs() < 60_000,
                "{k} {ta} {tb}"
            );
        }
    }
    let lib = |p: u16| tr(cli(p, &["function", "list"]));
    assert_eq!(lib(slotd), lib(redis));
}

fn dump_round_trip(threads: &str, bg: bool) {
    let s = Server::start(&["--server-threads", threads, "--enable-debug-command", "yes"]);
    populate(s.port);
    let file = s.dir.join("dump.rdb");
    if bg {
        assert_eq!(tr(s.cli(&["bgsave"])), "Background saving started");
        wait_bgsave_done(s.port);
        assert_eq!(info_field(s.port, "rdb_last_bgsave_status"), "ok");
    } else {
        assert_eq!(tr(s.cli(&["save"])), "OK");
    }
    check_rdb(&file);
    let (r, dir) = redis_loading("rdb-save-load", &file);
    assert_same_data(s.port, r.port);
    drop(r);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn save_of_one_shard_loads_in_redis() {
    // Guards the file format: every type, TTLs, databases and functions as Redis reads them.
    dump_round_trip("1", false);
}

#[test]
fn bgsave_of_three_shards_loads_in_redis() {
    // Guards the cross-shard file: chunks of three shards interleaved in one valid file.
    dump_round_trip("3", true);
}

#[test]
fn replies_and_info_match_redis() {
    // Guards SAVE/BGSAVE replies while a BGSAVE runs and the INFO fields around it.
    let s = Server::start(&["--save", ""]);
    let r = RedisServer::start("rdb-save-replies").expect("redis-server is installed");
    for port in [s.port, r.port] {
        let mut got = vec![tr(cli(port, &["set", "a", "1"]))];
        got.push(tr(cli(port, &["bgsave", "now"])));
        got.push(tr(cli(port, &["bgsave", "schedule", "x"])));
        got.push(tr(cli(
            port,
            &["config", "set", "rdb-key-save-delay", "3000000"],
        )));
        got.push(tr(cli(port, &["bgsave"])));
        got.push(tr(cli(port, &["bgsave"])));
        got.push(tr(cli(port, &["bgsave", "schedule"])));
        got.push(tr(cli(port, &["save"])));
        got.push(info_field(port, "rdb_bgsave_in_progress"));
        got.push((info_field(port, "rdb_current_bgsave_time_sec") != "-1").to_string());
        got.push(info_field(port, "rdb_changes_since_last_save"));
        got.push(tr(cli(port, &["config", "set", "rdb-key-save-delay", "0"])));
        wait_bgsave_done(port);
        got.push(info_field(port, "rdb_last_bgsave_status"));
        got.push(info_field(port, "rdb_saves"));
        got.push(info_field(port, "rdb_changes_since_last_save"));
        got.push(info_field(port, "rdb_current_bgsave_time_sec"));
        got.push(tr(cli(port, &["set", "b", "2"])));
        got.push(info_field(port, "rdb_changes_since_last_save"));
        got.push(tr(cli(port, &["save"])));
        got.push(info_field(port, "rdb_saves"));
        got.push(info_field(port, "rdb_changes_since_last_save"));
        got.push(tr(cli(port, &["save", "x"])));
        let last: u64 = tr(cli(port, &["lastsave"])).parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(last) < 10, "{last}");
        let want = [
            "OK",
            "ERR syntax error",
            "ERR syntax error",
            "OK",
            "Background saving started",
            "ERR Background save already in progress",
            "ERR Background save already in progress",
            "ERR Background save already in progress",
            "1",
            "true",
            "1",
            "OK",
            "ok",
            "1",
            "0",
            "-1",
            "OK",
            "1",
            "OK",
            "2",
            "0",
            "ERR wrong number of arguments for 'save' command",
        ];
        assert_eq!(got, want, "port {port}");
    }
}

#[test]
fn bgsave_holds_the_instant_it_started() {
    // Guards the snapshot: writes after BGSAVE answered are not in the file, overwritten and
    // deleted keys keep their old values there, and FLUSHDB does not empty its database in it.
    let s = Server::start(&["--server-threads", "3", "--save", ""]);
    let mut script = String::new();
    let pad = "p".repeat(1000);
    for i in 0..40_000 {
        script.push_str(&format!("SET k{i} {pad}\n"));
    }
    script.push_str("SELECT 1\nSET one1 yes\nSELECT 0\n");
    run_script(s.port, &script);
    assert_eq!(tr(s.cli(&["set", "over", "old"])), "OK");
    assert_eq!(tr(s.cli(&["set", "gone", "here"])), "OK");
    // ~40 MB through an 8 MB queue, the writer slowed: the shards wait for room meanwhile.
    s.cli(&["config", "set", "rdb-key-save-delay", "2000"]);
    assert_eq!(tr(s.cli(&["bgsave"])), "Background saving started");
    assert_eq!(tr(s.cli(&["set", "over", "new"])), "OK");
    assert_eq!(tr(s.cli(&["set", "later", "x"])), "OK");
    assert_eq!(tr(s.cli(&["del", "gone"])), "1");
    assert_eq!(tr(s.cli(&["-n", "1", "flushdb"])), "OK");
    let changes: String = (0..2000).map(|i| format!("SET k{i} changed\n")).collect();
    run_script(s.port, &changes);
    assert_eq!(
        info_field(s.port, "rdb_bgsave_in_progress"),
        "1",
        "BGSAVE ended too soon"
    );
    wait_bgsave_done(s.port);
    assert_eq!(info_field(s.port, "rdb_last_bgsave_status"), "ok");
    let file = s.dir.join("dump.rdb");
    check_rdb(&file);
    let (r, dir) = redis_loading("rdb-save-instant", &file);
    assert_eq!(tr(cli(r.port, &["get", "over"])), "old");
    assert_eq!(tr(cli(r.port, &["get", "gone"])), "here");
    assert_eq!(tr(cli(r.port, &["exists", "later"])), "0");
    assert_eq!(tr(cli(r.port, &["-n", "1", "get", "one1"])), "yes");
    assert_eq!(tr(cli(r.port, &["strlen", "k0"])), "1000");
    assert_eq!(tr(cli(r.port, &["dbsize"])), "40002");
    drop(r);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sigterm_and_shutdown_save_with_save_points() {
    // Guards the save at exit: SIGTERM and plain SHUTDOWN save when save points exist (Redis'
    // default schedule), SHUTDOWN NOSAVE and `save ""` do not.
    let mut s = Server::start(&["--server-threads", "2"]);
    assert_eq!(
        tr(s.cli(&["config", "get", "save"])),
        "save\n3600 1 300 100 60 10000"
    );
    s.cli(&["set", "kept", "by-sigterm"]);
    let file = s.dir.join("dump.rdb");
    assert_eq!(s.stop(), Some(0));
    check_rdb(&file);
    assert!(s
        .log_text()
        .contains("Saving the final RDB snapshot before exiting."));
    let (r, dir) = redis_loading("rdb-save-sigterm", &file);
    assert_eq!(tr(cli(r.port, &["get", "kept"])), "by-sigterm");
    drop(r);
    let _ = std::fs::remove_dir_all(dir);

    let mut s = Server::start(&["--save", ""]);
    s.cli(&["set", "k", "v"]);
    assert_eq!(s.stop(), Some(0));
    assert!(!s.dir.join("dump.rdb").exists());

    let mut s = Server::start(&[]);
    s.cli(&["set", "k", "by-shutdown"]);
    s.cli(&["shutdown"]);
    assert_eq!(s.wait_exit(10), Some(0));
    check_rdb(&s.dir.join("dump.rdb"));

    let mut s = Server::start(&[]);
    s.cli(&["set", "k", "v"]);
    s.cli(&["shutdown", "nosave"]);
    assert_eq!(s.wait_exit(10), Some(0));
    assert!(!s.dir.join("dump.rdb").exists());
}

#[test]
fn failed_save_reports_err_and_misconf_like_redis() {
    // Guards a full disk's effects (a directory where the file goes makes the rename fail,
    // even as root): status err, MISCONF on writes and PING, SAVE and SHUTDOWN refused, and
    // SIGTERM does not stop the server; stop-writes-on-bgsave-error no lifts MISCONF.
    let mut s = Server::start(&["--save", "3600 1"]);
    let rdir = test_dir("rdb-save-fail-redis");
    let d = rdir.display().to_string();
    let r = RedisServer::start_with("rdb-save-fail", &["--dir", &d, "--save", "3600 1"])
        .expect("redis-server is installed");
    for (port, dir) in [(s.port, s.dir.clone()), (r.port, rdir.clone())] {
        std::fs::create_dir_all(dir.join("dump.rdb").join("x")).unwrap();
        let mut got = vec![tr(cli(port, &["set", "a", "1"]))];
        got.push(tr(cli(port, &["bgsave"])));
        wait_bgsave_done(port);
        got.push(info_field(port, "rdb_last_bgsave_status"));
        got.push(tr(cli(port, &["set", "a", "2"])));
        got.push(tr(cli(port, &["ping"])));
        got.push(tr(cli(port, &["get", "a"])));
        got.push(tr(cli(port, &["save"])));
        got.push(tr(cli(port, &["shutdown"])));
        got.push(tr(cli(
            port,
            &["config", "set", "stop-writes-on-bgsave-error", "no"],
        )));
        got.push(tr(cli(port, &["set", "a", "3"])));
        let misconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently \
             unable to persist to disk. Commands that may modify the data set are disabled, \
             because this instance is configured to report errors during writes if RDB \
             snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis \
             logs for details about the RDB error.";
        let want = [
            "OK",
            "Background saving started",
            "err",
            misconf,
            misconf,
            "1",
            "ERR",
            "ERR Errors trying to SHUTDOWN. Check logs.",
            "OK",
            "OK",
        ];
        assert_eq!(got, want, "port {port}");
    }
    crate::common::signal(s.pid(), libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        tr(s.cli(&["get", "a"])),
        "3",
        "SIGTERM with a failing save must not exit"
    );
    assert!(s
        .log_text()
        .contains("Error trying to save the DB, can't exit."));
    assert!(s.log_text().contains("Error moving temp DB file"));
    s.cli(&["shutdown", "nosave"]);
    assert_eq!(s.wait_exit(10), Some(0));
    drop(r);
    let _ = std::fs::remove_dir_all(rdir);
}

#[test]
fn save_points_start_a_bgsave_and_restart_loads_it() {
    // Guards the cron's save points (Redis' log line) and the whole cycle with the loader: a
    // point reached writes dump.rdb, and a restart with appendonly no serves its keys.
    let mut s = Server::start(&["--save", "1 2", "--server-threads", "2"]);
    s.cli(&["set", "a", "1"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        info_field(s.port, "rdb_saves"),
        "0",
        "one change is below the point"
    );
    s.cli(&["set", "b", "2"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(s.port, "rdb_saves") == "0"
        || info_field(s.port, "rdb_bgsave_in_progress") != "0"
    {
        assert!(Instant::now() < deadline, "the save point did not fire");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(info_field(s.port, "rdb_changes_since_last_save"), "0");
    assert!(
        s.log_text().contains("2 changes in 1 seconds. Saving..."),
        "{}",
        s.log_text()
    );
    check_rdb(&s.dir.join("dump.rdb"));
    s.cli(&["set", "c", "3"]);
    let (port, dir) = (s.port, s.dir.clone());
    assert_eq!(s.stop(), Some(0));
    let s2 = Server::start_in(port, dir, &["--save", "1 2", "--server-threads", "3"])
        .or_else(|_| Server::start_in(crate::common::free_port(), s.dir.clone(), &[]))
        .expect("restart");
    for (k, v) in [("a", "1"), ("b", "2"), ("c", "3")] {
        assert_eq!(tr(s2.cli(&["get", k])), v);
    }
    std::mem::forget(s); // s2 owns and removes the directory
}

#[test]
fn bgsave_in_multi_is_scheduled_and_flushall_saves_as_redis() {
    // Guards two of Redis 7.0's rules: BGSAVE inside EXEC is scheduled (the file then holds
    // the whole transaction), and FLUSHALL with save points saves the emptied data set at
    // once (the change counter restarts).
    let s = Server::start(&["--server-threads", "2", "--save", "3600 1"]);
    let r = RedisServer::start_with("rdb-save-multi", &["--save", "3600 1"])
        .expect("redis-server is installed");
    let mut files = Vec::new();
    for (port, dir, mut con) in [
        (s.port, s.dir.clone(), s.client()),
        (r.port, r.dir.clone(), r.client()),
    ] {
        let mut got = vec![tr(cli(port, &["set", "a", "1"]))];
        let replies: Vec<redis::Value> = redis::pipe()
            .atomic()
            .cmd("BGSAVE")
            .cmd("SET")
            .arg("b")
            .arg("2")
            .query(&mut con)
            .expect("EXEC");
        got.push(format!("{replies:?}"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while info_field(port, "rdb_saves") != "1"
            || info_field(port, "rdb_bgsave_in_progress") != "0"
        {
            assert!(
                Instant::now() < deadline,
                "the scheduled BGSAVE did not run"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        got.push(info_field(port, "rdb_last_bgsave_status"));
        got.push(info_field(port, "rdb_changes_since_last_save"));
        let saved = dir.join("dump.rdb");
        check_rdb(&saved);
        let copy = dir.join("after-exec.rdb");
        std::fs::copy(&saved, &copy).expect("copy");
        got.push(tr(cli(port, &["set", "c", "3"])));
        got.push(info_field(port, "rdb_changes_since_last_save"));
        got.push(tr(cli(port, &["flushall"])));
        got.push(info_field(port, "rdb_changes_since_last_save"));
        got.push(info_field(port, "rdb_saves"));
        check_rdb(&saved);
        files.push((copy, saved));
        assert_eq!(
            got,
            [
                "OK",
                r#"[simple-string("Background saving scheduled"), ok]"#,
                "ok",
                "0",
                "OK",
                "1",
                "OK",
                "0",
                "1"
            ],
            "port {port}"
        );
    }
    // slotd's files hold what Redis' hold: both keys after the EXEC, nothing after FLUSHALL.
    let (after_exec, after_flush) = &files[0];
    let (l, dir) = redis_loading("rdb-save-multi-exec", after_exec);
    assert_eq!(tr(cli(l.port, &["mget", "a", "b"])), "1\n2");
    drop(l);
    let _ = std::fs::remove_dir_all(dir);
    let (l, dir) = redis_loading("rdb-save-multi-flush", after_flush);
    assert_eq!(tr(cli(l.port, &["dbsize"])), "0");
    drop(l);
    let _ = std::fs::remove_dir_all(dir);
}
