//! Redis data files slotd cannot load yet (docs/aof.md, "Redis data files"): a `dump.rdb` or
//! a Redis 6.2 `appendonly.aof` in `dir` stops start-up with a line naming the file, and the
//! file is left byte for byte as it was. Each premise (what Redis 7.0 loads) is checked with
//! redis-server on a copy of the same directory.

use crate::common::{free_port, test_dir, RedisServer, Server, BIN};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A Redis 6.2 AOF: the SELECT it starts with, then one SET.
const LEGACY_AOF: &[u8] =
    b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$1\r\n1\r\n";

/// Runs slotd in `dir` expecting it to exit by itself within 30 s: returns the exit code and
/// what it printed or logged.
fn exit_of(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let log = dir.join("refused.log");
    let mut child = Command::new(BIN)
        .args(["--port", &free_port().to_string(), "--bind", "127.0.0.1"])
        .args(["--dir", &dir.display().to_string()])
        .args(["--logfile", &log.display().to_string()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn slotd");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("slotd still running after 30 s in {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (status.code(), err + &logged)
}

/// slotd must refuse to start in `dir` with `why` in its output, leave `file` unchanged and
/// create no AOF directory.
fn refused(dir: &Path, extra: &[&str], file: &Path, why: &str) {
    let before = std::fs::read(file).unwrap();
    let had_aof_dir = dir.join("appendonlydir").exists();
    let (code, out) = exit_of(dir, extra);
    assert_eq!(code, Some(1), "{extra:?}: exit code\n{out}");
    assert!(out.contains(why), "{extra:?}: says {why:?}\n{out}");
    assert!(
        out.contains(&file.display().to_string()),
        "{extra:?}: names the file\n{out}"
    );
    assert!(
        out.contains("move it out of"),
        "{extra:?}: says what to do\n{out}"
    );
    assert_eq!(
        std::fs::read(file).unwrap(),
        before,
        "{} unchanged",
        file.display()
    );
    assert_eq!(
        dir.join("appendonlydir").exists(),
        had_aof_dir,
        "{extra:?}: no AOF directory created"
    );
}

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
fn rdb_file_in_dir_refuses_start_and_is_left_unchanged() {
    // Guards that a dump.rdb is never silently ignored: Redis 7.0 loads it with appendonly
    // no, so slotd (which cannot read it yet) refuses to start instead of starting empty.
    let Some(rdb) = real_rdb() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    assert_eq!(
        redis_dbsize(&[("dump.rdb", &rdb)], &[]),
        Some(1),
        "Redis loads it"
    );
    // With appendonly yes and no AOF yet Redis 7.0 ignores it and starts empty: slotd refuses.
    assert_eq!(
        redis_dbsize(&[("dump.rdb", &rdb)], &["--appendonly", "yes"]),
        Some(0),
        "Redis 7.0 starts empty beside it"
    );
    let dir = test_dir("rdb");
    let file = dir.join("dump.rdb");
    std::fs::write(&file, &rdb).unwrap();
    refused(&dir, &[], &file, "Redis would load it with appendonly no");
    refused(
        &dir,
        &["--server-threads", "2"],
        &file,
        "Found the RDB file",
    );
    refused(
        &dir,
        &["--appendonly", "yes"],
        &file,
        "with appendonly yes and no AOF yet",
    );
    // Another dbfilename: that file is the one that counts.
    let other = dir.join("other.rdb");
    std::fs::rename(&file, &other).unwrap();
    refused(
        &dir,
        &["--dbfilename", "other.rdb"],
        &other,
        "Found the RDB file",
    );
    start_stop(&dir, &[], &[]);
    // With a slotd AOF in force the RDB file is ignored, as Redis 7.0 does, with a warning.
    let args = ["--appendonly", "yes", "--dbfilename", "other.rdb"];
    std::fs::rename(&other, dir.join("away.rdb")).unwrap();
    let (r, _) = start_stop(&dir, &args, &[&["set", "new", "1"]]);
    assert_eq!(r, ["OK"]);
    std::fs::rename(dir.join("away.rdb"), &other).unwrap();
    let (r, log) = start_stop(&dir, &args, &[&["get", "new"], &["dbsize"]]);
    assert_eq!(r, ["1", "1"], "the AOF's keys, not the RDB's");
    assert!(
        log.contains("Ignoring the RDB file") && log.contains("other.rdb"),
        "{log}"
    );
    assert_eq!(std::fs::read(&other).unwrap(), rdb, "unchanged");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_6_aof_in_dir_refuses_start_with_appendonly_yes() {
    // Guards that a Redis 6.2 appendonly.aof is never silently ignored: Redis 7.0 loads
    // (upgrades) it when appendonly is yes and no manifest exists; slotd refuses instead of
    // starting empty and writing a manifest beside it.
    if let Some(n) = redis_dbsize(&[("appendonly.aof", LEGACY_AOF)], &["--appendonly", "yes"]) {
        assert_eq!(n, 1, "Redis 7.0 loads a Redis 6.2 AOF");
    }
    if let Some(n) = redis_dbsize(&[("appendonly.aof", LEGACY_AOF)], &[]) {
        assert_eq!(n, 0, "Redis ignores it with appendonly no");
    }
    let dir = test_dir("legacy-aof");
    let file = dir.join("appendonly.aof");
    std::fs::write(&file, LEGACY_AOF).unwrap();
    let yes = ["--appendonly", "yes", "--server-threads", "2"];
    refused(&dir, &yes, &file, "of Redis 6.2 or older");
    // appendonly no: Redis ignores the file too, so slotd starts (and leaves it alone).
    start_stop(&dir, &[], &[]);
    assert_eq!(std::fs::read(&file).unwrap(), LEGACY_AOF);
    // Another appendfilename: that file is the one that counts.
    let mine = ["--appendonly", "yes", "--appendfilename", "mine.aof"];
    start_stop(&dir, &mine, &[]);
    std::fs::rename(&file, dir.join("mine.aof")).unwrap();
    let _ = std::fs::remove_dir_all(dir.join("appendonlydir"));
    refused(&dir, &mine, &dir.join("mine.aof"), "of Redis 6.2 or older");
    // Moved away: a normal start, which writes slotd's own AOF.
    std::fs::rename(dir.join("mine.aof"), dir.join("moved.aof")).unwrap();
    let (r, _) = start_stop(&dir, &yes, &[&["set", "new", "1"]]);
    assert_eq!(r, ["OK"]);
    assert!(dir.join("appendonlydir/appendonly.aof.manifest").exists());
    // Once slotd's manifest exists the old file is ignored, as Redis 7.0 ignores it.
    std::fs::rename(dir.join("moved.aof"), &file).unwrap();
    let (r, _) = start_stop(&dir, &yes, &[&["dbsize"]]);
    assert_eq!(r, ["1"], "slotd's own AOF loaded");
    assert_eq!(std::fs::read(&file).unwrap(), LEGACY_AOF);
    let _ = std::fs::remove_dir_all(&dir);
}
