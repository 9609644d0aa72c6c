//! Redis data files in `dir` (docs/aof.md, "Redis data files"): a `dump.rdb` is loaded with
//! `appendonly no` and ignored (with a warning) with `appendonly yes`; a Redis 6.2
//! `appendonly.aof` is upgraded into `appenddirname` with `appendonly yes` and ignored
//! otherwise, exactly where redis-server 7.0 does the same. Each premise is checked with
//! redis-server on a copy of the same directory.

use crate::common::{free_port, test_dir, RedisServer, Server};
use std::path::Path;

/// A Redis 6.2 AOF: the SELECT it starts with, then one SET.
const LEGACY_AOF: &[u8] =
    b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$1\r\n1\r\n";

/// Starts slotd in `dir` (it must start), runs `cmds` with redis-cli, stops it (exit 0) and
/// keeps the directory; returns the replies and the log.
fn start_stop(dir: &Path, extra: &[&str], cmds: &[&[&str]]) -> (Vec<String>, String) {
    let mut s = Server::start_in(free_port(), dir.to_path_buf(), extra)
        .unwrap_or_else(|e| panic!("{extra:?} must start: {e}"));
    let replies = cmds
        .iter()
        .map(|c| s.cli(c).trim_end().to_string())
        .collect();
    let log = s.log_text();
    assert_eq!(s.stop(), Some(0), "clean stop\n{log}");
    std::mem::take(&mut s.dir);
    (replies, log)
}

/// Keys redis-server 7.0 finds at start in a copy of `files` (name, bytes), with `extra`.
fn redis_dbsize(files: &[(&str, &[u8])], extra: &[&str]) -> Option<i64> {
    let dir = test_dir("redis-copy");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let d = dir.display().to_string();
    let mut args = vec!["--dir", d.as_str()];
    args.extend_from_slice(extra);
    let r = RedisServer::start_with("redis-copy", &args)?;
    let mut c = r.client();
    // Loading is done before Redis accepts commands other than PING-like ones.
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).ok()?;
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
    Some(n)
}

/// A real RDB file with one key, written by redis-server (None without redis-server).
fn real_rdb() -> Option<Vec<u8>> {
    let dir = test_dir("rdb-maker");
    let d = dir.display().to_string();
    let r = RedisServer::start_with("rdb-maker", &["--dir", &d])?;
    let mut c = r.client();
    let _: () = redis::cmd("SET").arg("old").arg("1").query(&mut c).ok()?;
    let _: () = redis::cmd("SAVE").query(&mut c).ok()?;
    drop(r);
    let bytes = std::fs::read(dir.join("dump.rdb")).ok();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

#[test]
fn rdb_file_in_dir_is_loaded_with_appendonly_no_and_left_unchanged() {
    // Guards Redis' rule for dump.rdb: loaded with appendonly no (any shard count, the
    // dbfilename that is set), ignored with a warning when the AOF is the data set; the file
    // itself is never changed.
    let Some(rdb) = real_rdb() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    assert_eq!(
        redis_dbsize(&[("dump.rdb", &rdb)], &[]),
        Some(1),
        "Redis loads it"
    );
    assert_eq!(
        redis_dbsize(&[("dump.rdb", &rdb)], &["--appendonly", "yes"]),
        Some(0),
        "Redis 7.0 starts empty beside it with appendonly yes"
    );
    let dir = test_dir("rdb");
    let file = dir.join("dump.rdb");
    std::fs::write(&file, &rdb).unwrap();
    for extra in [&[][..], &["--server-threads", "2"][..]] {
        let (r, log) = start_stop(&dir, extra, &[&["get", "old"], &["dbsize"]]);
        assert_eq!(r, ["1", "1"], "{extra:?}");
        assert!(
            log.contains("Done loading RDB, keys loaded: 1, keys expired: 0."),
            "{log}"
        );
    }
    // Another dbfilename: that file is the one that counts.
    let other = dir.join("other.rdb");
    std::fs::rename(&file, &other).unwrap();
    let (r, _) = start_stop(&dir, &[], &[&["dbsize"]]);
    assert_eq!(r, ["0"], "dump.rdb is gone");
    let (r, _) = start_stop(&dir, &["--dbfilename", "other.rdb"], &[&["get", "old"]]);
    assert_eq!(r, ["1"]);
    // With appendonly yes the AOF is the data set: the RDB file is ignored, as Redis 7.0
    // does, with a warning (first start: empty; then the AOF's own keys).
    let args = ["--appendonly", "yes", "--dbfilename", "other.rdb"];
    let (r, log) = start_stop(&dir, &args, &[&["dbsize"], &["set", "new", "1"]]);
    assert_eq!(r, ["0", "OK"]);
    assert!(
        log.contains("Ignoring the RDB file") && log.contains("other.rdb"),
        "{log}"
    );
    let (r, _) = start_stop(&dir, &args, &[&["get", "new"], &["dbsize"]]);
    assert_eq!(r, ["1", "1"], "the AOF's keys, not the RDB's");
    assert_eq!(std::fs::read(&other).unwrap(), rdb, "unchanged");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_6_aof_in_dir_is_upgraded_with_appendonly_yes() {
    // Guards Redis 7.0's upgrade of a Redis 6.2 appendonly.aof: with appendonly yes and no
    // manifest it moves into appenddirname as the base of a manifest and is loaded (then
    // kept in slotd's layout); with appendonly no, or once a manifest exists, it is ignored.
    if let Some(n) = redis_dbsize(&[("appendonly.aof", LEGACY_AOF)], &["--appendonly", "yes"]) {
        assert_eq!(n, 1, "Redis 7.0 loads a Redis 6.2 AOF");
    }
    if let Some(n) = redis_dbsize(&[("appendonly.aof", LEGACY_AOF)], &[]) {
        assert_eq!(n, 0, "Redis ignores it with appendonly no");
    }
    let dir = test_dir("legacy-aof");
    let file = dir.join("appendonly.aof");
    std::fs::write(&file, LEGACY_AOF).unwrap();
    // appendonly no: Redis ignores the file too, so slotd starts empty and leaves it alone.
    let (r, _) = start_stop(&dir, &[], &[&["dbsize"]]);
    assert_eq!(r, ["0"]);
    assert_eq!(std::fs::read(&file).unwrap(), LEGACY_AOF);
    // Another appendfilename: that file is the one that counts.
    let mine = ["--appendonly", "yes", "--appendfilename", "mine.aof"];
    let (r, _) = start_stop(&dir, &mine, &[&["dbsize"]]);
    assert_eq!(r, ["0"]);
    assert_eq!(std::fs::read(&file).unwrap(), LEGACY_AOF, "not mine.aof");
    let _ = std::fs::remove_dir_all(dir.join("appendonlydir"));
    let yes = ["--appendonly", "yes", "--server-threads", "2"];
    let (r, log) = start_stop(&dir, &yes, &[&["get", "old"], &["set", "new", "1"]]);
    assert_eq!(r, ["1", "OK"]);
    assert!(
        log.contains(
            "Successfully migrated an old-style AOF file (appendonly.aof) into the AOF \
             directory (appendonlydir)."
        ),
        "{log}"
    );
    assert!(!file.exists(), "moved into the AOF directory");
    let (r, _) = start_stop(&dir, &yes, &[&["get", "old"], &["dbsize"]]);
    assert_eq!(r, ["1", "2"], "restart from slotd's own layout");
    // Once a manifest exists an old file is ignored, as Redis 7.0 ignores it.
    std::fs::write(&file, LEGACY_AOF).unwrap();
    let (r, _) = start_stop(&dir, &yes, &[&["dbsize"]]);
    assert_eq!(r, ["2"]);
    assert_eq!(std::fs::read(&file).unwrap(), LEGACY_AOF);
    let _ = std::fs::remove_dir_all(&dir);
}
