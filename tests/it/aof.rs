//! Per-shard AOF end to end (docs/aof.md): restarts under each fsync policy, kill -9 with
//! `appendfsync always`, torn and corrupt files, BGREWRITEAOF under load, restarts with another
//! shard count, and switching the AOF on at run time.

use crate::common::{free_port, test_dir, Server, BIN};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const MANIFEST: &str = "appendonly.aof.manifest";

// ---------------------------------------------------------------- server handling

/// Takes the directory away from a stopped server so dropping it does not delete the files.
fn release(mut s: Server) -> PathBuf {
    std::mem::take(&mut s.dir)
}

/// Stops `s` with SIGTERM (must exit 0) and starts a new server in the same directory.
fn restart(mut s: Server, extra: &[&str]) -> Server {
    let code = s.stop();
    assert_eq!(code, Some(0), "clean stop\n{}", log_tail(&s.dir));
    start_again(release(s), extra)
}

/// Starts a server in `dir` (which already holds an AOF); panics with the log on failure.
fn start_again(dir: PathBuf, extra: &[&str]) -> Server {
    match Server::start_in(free_port(), dir.clone(), extra) {
        Ok(s) => s,
        Err(e) => panic!(
            "restart in {} failed: {e}\n{}",
            dir.display(),
            log_tail(&dir)
        ),
    }
}

/// SIGKILL, no chance to flush anything.
fn kill9(s: &mut Server) {
    if let Some(mut c) = s.child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Stops with a SHUTDOWN command (no reply expected) and waits for exit code 0.
fn shutdown_command(s: &mut Server) {
    let mut r = s.raw();
    r.send(b"SHUTDOWN\r\n");
    assert!(r.closed(), "SHUTDOWN closes the connection");
    assert_eq!(
        s.wait_exit(20),
        Some(0),
        "SHUTDOWN exit\n{}",
        log_tail(&s.dir)
    );
}

/// The last lines of the server log and stderr, for failure messages.
fn log_tail(dir: &Path) -> String {
    let mut out = format!("--- test dir {}\n", dir.display());
    for f in ["slotd.log", "stderr.log"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(30);
        out += &format!("--- {f} (last {} lines)\n", lines.len() - from);
        out += &lines[from..].join("\n");
        out.push('\n');
    }
    out
}

fn connect(port: u16) -> redis::RedisResult<redis::Connection> {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
    let conn = c.get_connection_with_timeout(Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(20)))?;
    Ok(conn)
}

fn info_field(c: &mut redis::Connection, field: &str) -> String {
    let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("INFO persistence has no {field}:\n{info}"))
}

fn config_set(c: &mut redis::Connection, name: &str, value: &str) {
    let r: redis::RedisResult<String> = redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(c);
    assert_eq!(r.as_deref(), Ok("OK"), "CONFIG SET {name} {value}");
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Polls `cond` every 20 ms until it holds or `secs` pass; panics with `what` on time-out.
fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------- files

/// One `file ... seq ... type ... shard ...` line of the manifest.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    name: String,
    seq: u64,
    kind: String,
    shard: u64,
}

fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

fn manifest(dir: &Path) -> Vec<Entry> {
    let path = aof_dir(dir).join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}\n{}", path.display(), log_tail(dir)));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(manifest_line)
        .collect()
}

fn manifest_line(line: &str) -> Entry {
    let words: Vec<&str> = line.split_whitespace().collect();
    let get = |key: &str| {
        let at = words.chunks(2).find(|kv| kv[0] == key);
        at.and_then(|kv| kv.get(1))
            .map(|v| v.to_string())
            .unwrap_or_else(|| panic!("manifest line without {key}: {line:?}"))
    };
    let num = |key: &str| get(key).parse::<u64>().expect("manifest number");
    Entry {
        name: get("file"),
        seq: num("seq"),
        kind: get("type"),
        shard: num("shard"),
    }
}

/// The incr file of `shard` as the manifest names it.
fn incr_file(dir: &Path, shard: u64) -> PathBuf {
    let m = manifest(dir);
    let e = m.iter().find(|e| e.shard == shard && e.kind == "i");
    let e = e.unwrap_or_else(|| panic!("no incr file for shard {shard} in {m:?}"));
    aof_dir(dir).join(&e.name)
}

/// Names of the files in the AOF directory, sorted.
fn aof_files(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(aof_dir(dir)) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn aof_dir_bytes(dir: &Path) -> u64 {
    let rd = std::fs::read_dir(aof_dir(dir)).expect("aof dir");
    rd.flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Parses `<prefix><digits>\r\n`; returns the number and the bytes used.
fn header(b: &[u8], prefix: u8) -> Option<(usize, usize)> {
    if *b.first()? != prefix {
        return None;
    }
    let end = b.windows(2).position(|w| w == b"\r\n")?;
    let n = std::str::from_utf8(&b[1..end]).ok()?.parse().ok()?;
    Some((n, end + 2))
}

/// Length of the whole RESP command at the front of `b`, if it is whole and well formed.
fn record_len(b: &[u8]) -> Option<usize> {
    let (argc, mut at) = header(b, b'*')?;
    for _ in 0..argc {
        let (len, used) = header(&b[at..], b'$')?;
        at += used;
        if b.len() < at + len + 2 || &b[at + len..at + len + 2] != b"\r\n" {
            return None;
        }
        at += len + 2;
    }
    Some(at)
}

/// Start offsets of the whole records at the front of `b` and where the whole part ends.
fn records(b: &[u8]) -> (Vec<usize>, usize) {
    let (mut starts, mut at) = (Vec::new(), 0);
    while at < b.len() {
        match record_len(&b[at..]) {
            Some(n) => {
                starts.push(at);
                at += n;
            }
            None => break,
        }
    }
    (starts, at)
}

/// Every file the manifest names exists and holds only whole RESP records, after the RDB
/// part of a base in RDB format (which redis-check-rdb must accept).
fn assert_whole_files(dir: &Path) {
    for e in manifest(dir) {
        let p = aof_dir(dir).join(&e.name);
        let b = std::fs::read(&p).unwrap_or_else(|err| panic!("{}: {err}", p.display()));
        if b.starts_with(b"REDIS") {
            assert_eq!(e.kind, "b", "only a base is an RDB file: {}", p.display());
            let out = std::process::Command::new("redis-check-rdb")
                .arg(&p)
                .output()
                .expect("redis-check-rdb is installed");
            assert!(
                out.status.success(),
                "redis-check-rdb {}: {}",
                p.display(),
                String::from_utf8_lossy(&out.stdout)
            );
            continue;
        }
        let (_, whole) = records(&b);
        assert_eq!(
            whole,
            b.len(),
            "{} has a bad record at byte {whole}",
            p.display()
        );
    }
}

// ---------------------------------------------------------------- data

/// Every key's value and absolute expiry in ms (-1: none). All values in these tests are strings.
fn snapshot(c: &mut redis::Connection) -> BTreeMap<String, (String, i64)> {
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
    let mut out = BTreeMap::new();
    for k in keys {
        let v: Option<String> = redis::cmd("GET").arg(&k).query(c).unwrap();
        let at: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(c).unwrap();
        if let Some(v) = v {
            out.insert(k, (v, at));
        }
    }
    out
}

fn get(c: &mut redis::Connection, k: &str) -> Option<String> {
    redis::cmd("GET").arg(k).query(c).unwrap()
}

fn dbsize(c: &mut redis::Connection) -> usize {
    redis::cmd("DBSIZE").query(c).unwrap()
}

/// Asserts every (key, value) pair is present, reading with MGET in chunks.
fn assert_pairs(c: &mut redis::Connection, pairs: &[(String, String)], what: &str) {
    for chunk in pairs.chunks(500) {
        let keys: Vec<&String> = chunk.iter().map(|(k, _)| k).collect();
        let got: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(c).unwrap();
        for ((k, want), got) in chunk.iter().zip(got) {
            assert_eq!(got.as_deref(), Some(want.as_str()), "{what}: key {k}");
        }
    }
}

/// Writes `pairs` with pipelines of SETs.
fn set_all(c: &mut redis::Connection, pairs: &[(String, String)]) {
    for chunk in pairs.chunks(1000) {
        let mut p = redis::pipe();
        for (k, v) in chunk {
            p.cmd("SET").arg(k).arg(v).ignore();
        }
        let _: () = p.query(c).unwrap();
    }
}

fn run(c: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// A small xorshift so a crash moment can be replayed from the printed seed.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("AOF_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok());
        let seed = seed.unwrap_or_else(|| now_ms() ^ ((std::process::id() as u64) << 20)) | 1;
        eprintln!("aof test seed {seed} (set AOF_TEST_SEED to replay)");
        Rng(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

// ---------------------------------------------------------------- 1. clean restarts

/// The commands of issue 3's mix; relative TTLs, float increments, renames, deletions.
fn write_mix(c: &mut redis::Connection) {
    let script: &[&[&str]] = &[
        &["SET", "plain", "v1"],
        &["SET", "ex", "v2", "EX", "1000"],
        &["SET", "px-gone", "v3", "PX", "100"],
        &["SET", "expire-gone", "v4"],
        &["PEXPIRE", "expire-gone", "100"],
        &["SET", "neg-expire", "v5"],
        &["EXPIRE", "neg-expire", "-5"],
        &["SET", "later", "v6"],
        &["EXPIRE", "later", "1000"],
        &["SET", "ttl-cleared", "a", "EX", "1000"],
        &["SET", "ttl-cleared", "b"],
        &["SET", "persisted", "p", "EX", "1000"],
        &["PERSIST", "persisted"],
        &["SET", "float", "10.5"],
        &["INCRBYFLOAT", "float", "0.1"],
        &["INCRBYFLOAT", "float", "0.1"],
        &["INCRBYFLOAT", "float", "0.1"],
        &["SET", "float-ttl", "1", "EX", "1000"],
        &["INCRBYFLOAT", "float-ttl", "2.5"],
        &["APPEND", "app", "abc"],
        &["APPEND", "app", "def"],
        &["SET", "d1", "x"],
        &["SET", "d2", "y"],
        &["DEL", "d1", "d2", "never-there"],
        &["MSET", "m1", "a", "m2", "b", "m3", "c", "m4", "d"],
        &["SET", "r1", "moved", "EX", "1000"],
        &["RENAME", "r1", "r2"],
        &["SET", "r3", "over"],
        &["SET", "r4", "old", "EX", "1000"],
        &["RENAME", "r3", "r4"],
    ];
    for args in script {
        run(c, args);
    }
    for i in 0..5 {
        run(c, &["INCR", "counter"]);
        run(c, &["INCR", &format!("ctr{i}")]);
    }
    // Many keys, so every shard has records of its own.
    for i in 0..100 {
        let k = format!("many:{i}");
        run(
            c,
            &["SET", &k, &i.to_string(), "EX", &(1000 + i).to_string()],
        );
        run(c, &["INCR", &format!("n:{i}")]);
    }
}

/// Keys the mix leaves without a TTL / with one / gone, checked after every restart.
fn assert_mix_shape(data: &BTreeMap<String, (String, i64)>) {
    for k in [
        "px-gone",
        "expire-gone",
        "neg-expire",
        "d1",
        "d2",
        "r1",
        "r3",
        "soon",
    ] {
        assert!(!data.contains_key(k), "{k} must be gone: {:?}", data.get(k));
    }
    for k in [
        "plain",
        "ttl-cleared",
        "persisted",
        "float",
        "app",
        "m1",
        "r4",
        "counter",
    ] {
        assert_eq!(
            data.get(k).map(|v| v.1),
            Some(-1),
            "{k} exists without a TTL"
        );
    }
    for k in ["ex", "later", "float-ttl", "r2", "many:7"] {
        let at = data.get(k).map(|v| v.1).unwrap_or(-2);
        assert!(at > now_ms() as i64, "{k} keeps its TTL: {at}");
    }
    assert_eq!(data.get("app").map(|v| v.0.as_str()), Some("abcdef"));
    assert_eq!(data.get("r4").map(|v| v.0.as_str()), Some("over"));
    assert_eq!(data.get("counter").map(|v| v.0.as_str()), Some("5"));
    assert_eq!(data.len(), 220, "key count");
}

/// What changed between two snapshots, one line per key (empty when equal).
fn snapshot_diff(
    before: &BTreeMap<String, (String, i64)>,
    after: &BTreeMap<String, (String, i64)>,
) -> String {
    let mut out = String::new();
    for (k, v) in before {
        match after.get(k) {
            None => out += &format!("lost {k} = {v:?}\n"),
            Some(a) if a != v => out += &format!("changed {k}: {v:?} -> {a:?}\n"),
            Some(_) => {}
        }
    }
    for (k, a) in after {
        if !before.contains_key(k) {
            out += &format!("appeared {k} = {a:?}\n");
        }
    }
    out
}

/// Writes the mix under `policy`, stops (SHUTDOWN or SIGTERM), restarts, compares everything.
fn clean_restart_keeps_everything(policy: &str, by_command: bool) {
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        policy,
        "--server-threads",
        "2",
    ];
    let mut s = Server::start(&args);
    let mut c = s.client();
    write_mix(&mut c);
    run(&mut c, &["SET", "soon", "v", "PX", "1500"]);
    let soon_set = Instant::now();
    std::thread::sleep(Duration::from_millis(250));
    let mut before = snapshot(&mut c);
    assert!(
        before.remove("soon").is_some(),
        "soon is there before the stop"
    );
    assert_mix_shape(&before);
    drop(c);
    if by_command {
        shutdown_command(&mut s);
    } else {
        assert_eq!(s.stop(), Some(0), "SIGTERM exit\n{}", log_tail(&s.dir));
    }
    // `soon` expires while the server is down and must stay gone.
    std::thread::sleep(Duration::from_millis(1600).saturating_sub(soon_set.elapsed()));
    let s = start_again(release(s), &args);
    let after = snapshot(&mut s.client());
    let diff = snapshot_diff(&before, &after);
    assert!(
        diff.is_empty(),
        "after restart ({policy}):\n{diff}{}",
        log_tail(&s.dir)
    );
}

#[test]
fn clean_restart_keeps_everything_fsync_always() {
    // Guards replay under appendfsync always after SIGTERM: values and absolute expiries.
    clean_restart_keeps_everything("always", false);
}

#[test]
fn clean_restart_keeps_everything_fsync_everysec() {
    // Guards replay under appendfsync everysec after a SHUTDOWN command.
    clean_restart_keeps_everything("everysec", true);
}

#[test]
fn clean_restart_keeps_everything_fsync_no() {
    // Guards that a clean stop writes out everything even when fsync is left to the kernel.
    clean_restart_keeps_everything("no", false);
}

#[test]
fn appendfsync_always_set_at_run_time_makes_writes_durable() {
    // Guards CONFIG SET appendfsync: after switching to always, acknowledged writes survive
    // kill -9 (and so do the everysec writes before them, which precede them in the file).
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--server-threads",
        "2",
    ];
    let mut s = Server::start(&args);
    let mut c = s.client();
    let first: Vec<(String, String)> = (0..200)
        .map(|i| (format!("a:{i}"), format!("va{i}")))
        .collect();
    set_all(&mut c, &first);
    config_set(&mut c, "appendfsync", "always");
    let got: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendfsync")
        .query(&mut c)
        .unwrap();
    assert_eq!(got, ["appendfsync", "always"]);
    let second: Vec<(String, String)> = (0..200)
        .map(|i| (format!("b:{i}"), format!("vb{i}")))
        .collect();
    for (k, v) in &second {
        run(&mut c, &["SET", k, v]);
    }
    drop(c);
    kill9(&mut s);
    let s = start_again(release(s), &args);
    let mut c = s.client();
    assert_pairs(&mut c, &first, "everysec writes before the switch");
    assert_pairs(&mut c, &second, "always writes");
    assert_eq!(dbsize(&mut c), 400);
}

#[test]
fn first_writes_after_a_load_are_logged() {
    // Guards the journal across a load: whatever the replayed files ended with (here a SET,
    // which has its own journal form), the first writes of the next run reach the file.
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--server-threads",
        "1",
    ];
    let s = Server::start(&args);
    let mut c = s.client();
    run(&mut c, &["INCR", "c"]);
    run(&mut c, &["SET", "a", "1"]);
    drop(c);
    let s = restart(s, &args);
    let mut c = s.client();
    run(&mut c, &["INCR", "c"]);
    run(&mut c, &["APPEND", "s", "x"]);
    run(&mut c, &["SET", "b", "2"]);
    run(&mut c, &["INCR", "c"]);
    drop(c);
    let s = restart(s, &args);
    let data = snapshot(&mut s.client());
    let got: Vec<(&str, &str)> = data
        .iter()
        .map(|(k, v)| (k.as_str(), v.0.as_str()))
        .collect();
    let want = [("a", "1"), ("b", "2"), ("c", "3"), ("s", "x")];
    assert_eq!(got, want, "after two restarts\n{}", log_tail(&s.dir));
}

// ---------------------------------------------------------------- 2. kill -9

const COUNTERS: usize = 3;

/// What one writer had acknowledged (and what it had sent) when its connection broke.
#[derive(Default)]
struct Acked {
    incr_ok: [u64; COUNTERS],
    incr_sent: [u64; COUNTERS],
    keys: Vec<(String, String)>,
    /// An error reply (not a broken connection): never expected.
    server_error: Option<String>,
}

impl Acked {
    fn add(&mut self, o: Acked) {
        for k in 0..COUNTERS {
            self.incr_ok[k] += o.incr_ok[k];
            self.incr_sent[k] += o.incr_sent[k];
        }
        self.keys.extend(o.keys);
        assert!(
            o.server_error.is_none(),
            "writer got an error reply: {:?}",
            o.server_error
        );
    }
}

/// INCRs a few shared counters and SETs unique keys until the connection breaks (bounded).
fn crash_writer(port: u16, tag: String, progress: Arc<AtomicU64>) -> Acked {
    let mut a = Acked::default();
    let Ok(mut c) = connect(port) else { return a };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0u64;
    let fail = |e: redis::RedisError, a: &mut Acked| {
        if e.code().is_some() {
            a.server_error = Some(e.to_string());
        }
    };
    while Instant::now() < deadline {
        let k = (i % COUNTERS as u64) as usize;
        a.incr_sent[k] += 1;
        if let Err(e) = redis::cmd("INCR")
            .arg(format!("ctr:{k}"))
            .query::<i64>(&mut c)
        {
            fail(e, &mut a);
            break;
        }
        a.incr_ok[k] += 1;
        let (key, val) = (format!("u:{tag}:{i}"), format!("{tag}/{i}"));
        if let Err(e) = redis::cmd("SET").arg(&key).arg(&val).query::<()>(&mut c) {
            fail(e, &mut a);
            break;
        }
        a.keys.push((key, val));
        progress.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
    a
}

/// Every acknowledged write is there; counters hold no more than was ever sent.
fn assert_acked(s: &Server, total: &Acked, round: usize) {
    let mut c = s.client();
    for k in 0..COUNTERS {
        let v = get(&mut c, &format!("ctr:{k}")).map_or(0, |v| v.parse::<u64>().unwrap());
        let (ok, sent) = (total.incr_ok[k], total.incr_sent[k]);
        assert!(
            ok <= v && v <= sent,
            "round {round}: ctr:{k} = {v}, acknowledged {ok}, sent {sent}\n{}",
            log_tail(&s.dir)
        );
    }
    assert_pairs(
        &mut c,
        &total.keys,
        &format!("round {round}: acknowledged SET"),
    );
    if round > 0 {
        assert_whole_files(&s.dir);
    }
}

#[test]
fn kill_9_with_fsync_always_loses_no_acknowledged_write() {
    // Guards appendfsync always: a reply is sent only once its write is on disk, whatever
    // moment the process dies at (10 random crash moments, two concurrent writers).
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--server-threads",
        "2",
    ];
    let dir = test_dir("kill9");
    let mut rng = Rng::new();
    let mut total = Acked::default();
    for round in 0..10 {
        let mut s = start_again(dir.clone(), &args);
        assert_acked(&s, &total, round);
        let progress = Arc::new(AtomicU64::new(0));
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let (port, p, tag) = (s.port, progress.clone(), format!("{round}.{w}"));
                std::thread::spawn(move || crash_writer(port, tag, p))
            })
            .collect();
        // Writers that stopped early (an error reply) are reported by `total.add`.
        wait_for(20, "the writers' first acknowledgements", || {
            progress.load(Ordering::Relaxed) >= 20 || writers.iter().all(|w| w.is_finished())
        });
        std::thread::sleep(Duration::from_millis(rng.below(300)));
        kill9(&mut s);
        for w in writers {
            total.add(w.join().unwrap());
        }
        release(s);
    }
    let s = start_again(dir, &args);
    assert_acked(&s, &total, 10);
    eprintln!("{} acknowledged unique keys survived", total.keys.len());
}

// ---------------------------------------------------------------- 3. torn and corrupt files

/// Writes `n` keys `t:i` = `i` one command at a time (one record each) and stops cleanly.
fn fill_and_stop(threads: &str, n: usize) -> (Server, Vec<(String, String)>) {
    let args = ["--appendonly", "yes", "--server-threads", threads];
    let mut s = Server::start(&args);
    let mut c = s.client();
    let pairs: Vec<(String, String)> = (0..n).map(|i| (format!("t:{i}"), i.to_string())).collect();
    for (k, v) in &pairs {
        run(&mut c, &["SET", k, v]);
    }
    drop(c);
    assert_eq!(s.stop(), Some(0), "clean stop\n{}", log_tail(&s.dir));
    (s, pairs)
}

fn log_len(dir: &Path) -> usize {
    std::fs::read(dir.join("slotd.log")).map_or(0, |b| b.len())
}

/// The part of the log written since byte `from`.
fn log_since(dir: &Path, from: usize) -> String {
    let b = std::fs::read(dir.join("slotd.log")).unwrap_or_default();
    String::from_utf8_lossy(&b[from.min(b.len())..]).into_owned()
}

#[test]
fn torn_last_record_is_truncated_with_a_warning() {
    // Guards aof-load-truncated behaviour: a half-written last record (crash in the middle of
    // a write) is cut off, the rest loads, and later writes append after the cut.
    let args = ["--appendonly", "yes", "--server-threads", "2"];
    let (s, pairs) = fill_and_stop("2", 60);
    let dir = release(s);
    let incr = incr_file(&dir, 0);
    let whole = std::fs::read(&incr).unwrap();
    let torn = b"*3\r\n$3\r\nSET\r\n$1\r\nk";
    std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap()
        .write_all(torn)
        .unwrap();
    let from = log_len(&dir);
    let s = start_again(dir.clone(), &args);
    let log = log_since(&dir, from);
    let name = incr.file_name().unwrap().to_string_lossy().into_owned();
    let warned = log.lines().any(|l| {
        let l_low = l.to_lowercase();
        l.contains(" # ")
            && (l.contains(&name) || l_low.contains("truncat") || l_low.contains("short read"))
    });
    assert!(warned, "a warning about the torn record in {name}:\n{log}");
    let mut c = s.client();
    assert_pairs(&mut c, &pairs, "data before the torn record");
    assert_eq!(get(&mut c, "k"), None, "the torn SET did not happen");
    assert_eq!(dbsize(&mut c), pairs.len());
    assert_eq!(incr_file(&dir, 0), incr, "same incr file after the load");
    let now = std::fs::read(&incr).unwrap();
    assert!(
        now == whole,
        "{name} cut back to its {} whole bytes, has {}",
        whole.len(),
        now.len()
    );
    run(&mut c, &["SET", "after", "cut"]);
    drop(c);
    let s = restart(s, &args);
    let mut c = s.client();
    assert_eq!(
        get(&mut c, "after").as_deref(),
        Some("cut"),
        "{}",
        log_tail(&s.dir)
    );
    assert_pairs(&mut c, &pairs, "data after a second restart");
}

/// Starts slotd in `dir` expecting it to exit by itself; returns the exit code and its output
/// (stderr and what it added to the log). Kills it and panics if it is still up after 30 s.
pub fn start_expecting_exit(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let from = log_len(dir);
    let stderr = std::fs::File::create(dir.join("stderr-failed.log")).unwrap();
    let mut child = Command::new(BIN)
        .args(["--port", &free_port().to_string(), "--bind", "127.0.0.1"])
        .args(["--dir", &dir.display().to_string()])
        .args(["--logfile", &dir.join("slotd.log").display().to_string()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
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
            panic!(
                "slotd still running after 30 s on a corrupt AOF\n{}",
                log_tail(dir)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(dir.join("stderr-failed.log")).unwrap_or_default();
    (status.code(), err + &log_since(dir, from))
}

#[test]
fn corrupt_record_in_the_middle_stops_start_up() {
    // Guards that damage before the last record is not silently skipped: start-up fails with
    // exit code 1, names the file and the byte offset, and leaves the file as it was.
    let (s, _) = fill_and_stop("1", 200);
    let dir = release(s);
    let incr = incr_file(&dir, 0);
    let mut bytes = std::fs::read(&incr).unwrap();
    let (starts, whole) = records(&bytes);
    assert_eq!(whole, bytes.len(), "the written file is whole");
    assert!(starts.len() >= 200, "one record per SET: {}", starts.len());
    let rec = starts[starts.len() / 2];
    // The first argument header (`$3` of SET) of the middle record becomes `X3`.
    let at = rec + bytes[rec..].iter().position(|&b| b == b'$').unwrap();
    bytes[at] = b'X';
    std::fs::write(&incr, &bytes).unwrap();
    let (code, out) = start_expecting_exit(&dir, &["--appendonly", "yes"]);
    assert_eq!(code, Some(1), "exit code on a corrupt AOF\n{out}");
    let name = incr.file_name().unwrap().to_string_lossy().into_owned();
    let offsets = [rec.to_string(), at.to_string()];
    let named = out.lines().any(|l| {
        let numbers: Vec<&str> = l.split(|ch: char| !ch.is_ascii_digit()).collect();
        l.contains(&name) && offsets.iter().any(|o| numbers.contains(&o.as_str()))
    });
    assert!(
        named,
        "a line naming {name} and offset {rec} or {at}:\n{out}"
    );
    assert_eq!(
        std::fs::read(&incr).unwrap(),
        bytes,
        "a failed start leaves the file alone"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- 4. rewrite under load

/// Last acknowledged value of each `w:i` and the number of acknowledged INCRs of `wc`.
#[derive(Default)]
struct Written {
    last: BTreeMap<String, String>,
    incrs: u64,
}

/// SETs `w:0..1000` round robin (keys in many slots, so writes meet both serialized and
/// pending slots of a running rewrite) and INCRs `wc` until `stop`; every command must succeed.
fn steady_writer(port: u16, stop: Arc<AtomicBool>, progress: Arc<AtomicU64>) -> Written {
    let mut c = connect(port).expect("writer connects");
    let mut w = Written::default();
    let deadline = Instant::now() + Duration::from_secs(50);
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let (k, v) = (format!("w:{}", i % 1000), format!("round-{i}"));
        redis::cmd("SET")
            .arg(&k)
            .arg(&v)
            .query::<()>(&mut c)
            .expect("writer SET");
        w.last.insert(k, v);
        redis::cmd("INCR")
            .arg("wc")
            .query::<i64>(&mut c)
            .expect("writer INCR");
        w.incrs += 1;
        progress.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
    w
}

fn assert_written(c: &mut redis::Connection, w: &Written, pre: &[(String, String)], what: &str) {
    let pairs: Vec<(String, String)> = w.last.clone().into_iter().collect();
    assert_pairs(c, &pairs, what);
    assert_pairs(c, pre, what);
    assert_eq!(get(c, "wc"), Some(w.incrs.to_string()), "{what}: wc");
    assert_eq!(dbsize(c), pre.len() + pairs.len() + 1, "{what}: key count");
}

/// The base sequence of every shard.
fn base_seqs(dir: &Path) -> BTreeMap<u64, u64> {
    manifest(dir)
        .into_iter()
        .filter(|e| e.kind == "b")
        .map(|e| (e.shard, e.seq))
        .collect()
}

#[test]
fn bgrewriteaof_under_write_load_compacts_and_keeps_every_write() {
    // Guards the fork-less rewrite: it finishes while clients write, the new files are smaller
    // than the overwritten history, and nothing acknowledged during it is lost.
    let args = ["--appendonly", "yes", "--server-threads", "2"];
    let s = Server::start(&args);
    let mut c = s.client();
    let big = "x".repeat(1000);
    let mut pre = Vec::new();
    for round in 0..100 {
        pre = (0..100)
            .map(|i| (format!("p:{i}"), format!("{round}:{big}")))
            .collect();
        set_all(&mut c, &pre);
    }
    // Enough keys that serializing them takes many loop turns, with the writer running.
    let still: Vec<(String, String)> = (0..50_000)
        .map(|i| (format!("s:{i}"), i.to_string()))
        .collect();
    set_all(&mut c, &still);
    pre.extend(still);
    let (stop, progress) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let writer = {
        let (port, stop, progress) = (s.port, stop.clone(), progress.clone());
        std::thread::spawn(move || steady_writer(port, stop, progress))
    };
    wait_for(20, "the writer to start", || {
        progress.load(Ordering::Relaxed) >= 100
    });
    let (seqs_before, bytes_before) = (base_seqs(&s.dir), aof_dir_bytes(&s.dir));
    let progress_at_start = progress.load(Ordering::Relaxed);
    let reply: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(reply, "Background append only file rewriting started");
    wait_for(30, "the rewrite to finish", || {
        let seqs = base_seqs(&s.dir);
        info_field(&mut c, "aof_rewrite_in_progress") == "0"
            && seqs.len() == seqs_before.len()
            && seqs
                .iter()
                .all(|(shard, seq)| seqs_before.get(shard) < Some(seq))
    });
    let bytes_after = aof_dir_bytes(&s.dir);
    let progress_at_end = progress.load(Ordering::Relaxed);
    eprintln!(
        "AOF dir {bytes_before} bytes before the rewrite, {bytes_after} after; {} writer \
         rounds during it",
        progress_at_end - progress_at_start
    );
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(info_field(&mut c, "aof_last_write_status"), "ok");
    let base: u64 = info_field(&mut c, "aof_base_size").parse().unwrap();
    let current: u64 = info_field(&mut c, "aof_current_size").parse().unwrap();
    assert!(
        base > 0 && current >= base,
        "aof_base_size {base}, aof_current_size {current}"
    );
    assert!(
        bytes_after < bytes_before,
        "AOF dir {bytes_before} bytes before the rewrite, {bytes_after} after: {:?}",
        aof_files(&s.dir)
    );
    wait_for(20, "writes after the rewrite", || {
        progress.load(Ordering::Relaxed) >= progress_at_end + 100
    });
    stop.store(true, Ordering::Relaxed);
    let w = writer.join().unwrap();
    assert_written(&mut c, &w, &pre, "live after the rewrite");
    drop(c);
    let s = restart(s, &args);
    let mut c = s.client();
    assert_written(&mut c, &w, &pre, "after restart");
    let mut expected: Vec<String> = manifest(&s.dir).into_iter().map(|e| e.name).collect();
    expected.push(MANIFEST.into());
    expected.sort();
    assert_eq!(
        aof_files(&s.dir),
        expected,
        "only the manifest's files remain"
    );
    assert_whole_files(&s.dir);
}

// ---------------------------------------------------------------- 5. other shard counts

#[test]
fn restart_with_other_shard_counts_loads_every_key() {
    // Guards loading with another server-threads: every record lands on its key's new owner,
    // and writes made under one layout win over older records made under another.
    let threads = |n: &'static str| ["--appendonly", "yes", "--server-threads", n];
    let s = Server::start(&threads("3"));
    let mut c = s.client();
    let mut pairs: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("key:{i}"), format!("v{i}")))
        .collect();
    set_all(&mut c, &pairs);
    drop(c);
    let s = restart(s, &threads("1"));
    let mut c = s.client();
    assert_eq!(
        dbsize(&mut c),
        10_000,
        "after restart with 1 shard\n{}",
        log_tail(&s.dir)
    );
    assert_pairs(&mut c, &pairs, "3 shards -> 1");
    for p in pairs.iter_mut().take(1000) {
        p.1 = format!("new-{}", p.0);
    }
    set_all(&mut c, &pairs[..1000]);
    let gone: Vec<String> = pairs.drain(1000..1500).map(|(k, _)| k).collect();
    let n: usize = redis::cmd("DEL").arg(&gone).query(&mut c).unwrap();
    assert_eq!(n, 500);
    drop(c);
    let s = restart(s, &threads("4"));
    let mut c = s.client();
    assert_eq!(
        dbsize(&mut c),
        9_500,
        "after restart with 4 shards\n{}",
        log_tail(&s.dir)
    );
    assert_pairs(&mut c, &pairs, "1 shard -> 4 (latest values)");
    let n: usize = redis::cmd("EXISTS").arg(&gone).query(&mut c).unwrap();
    assert_eq!(n, 0, "deleted keys stay deleted");
}

// ---------------------------------------------------------------- 6. AOF switched on later

#[test]
fn appendonly_no_writes_nothing_and_config_set_yes_starts_with_a_base() {
    // Guards appendonly no (no AOF directory at all) and CONFIG SET appendonly yes at run
    // time: a base of the existing data is written first, so a restart loads everything.
    let off = ["--server-threads", "2"];
    let s = Server::start(&off);
    let mut c = s.client();
    set_all(&mut c, &[("early".into(), "v".into())]);
    drop(c);
    let s = restart(s, &off);
    assert!(
        !aof_dir(&s.dir).exists(),
        "appendonly no made {:?}",
        aof_files(&s.dir)
    );
    let mut c = s.client();
    // Only an RDB (not part of this test) could have kept `early`.
    let kept = dbsize(&mut c);
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    let before: Vec<(String, String)> = (0..300)
        .map(|i| (format!("b:{i}"), i.to_string()))
        .collect();
    set_all(&mut c, &before);
    assert!(
        !aof_dir(&s.dir).exists(),
        "no AOF files while appendonly is no"
    );
    config_set(&mut c, "appendonly", "yes");
    wait_for(30, "the first base after CONFIG SET appendonly yes", || {
        aof_dir(&s.dir).join(MANIFEST).exists()
            && info_field(&mut c, "aof_rewrite_in_progress") == "0"
            && base_seqs(&s.dir).len() == 2
    });
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    for e in manifest(&s.dir) {
        assert!(aof_dir(&s.dir).join(&e.name).exists(), "{} exists", e.name);
    }
    let after: Vec<(String, String)> = (0..300)
        .map(|i| (format!("a:{i}"), i.to_string()))
        .collect();
    set_all(&mut c, &after);
    drop(c);
    let s = restart(s, &["--appendonly", "yes", "--server-threads", "2"]);
    let mut c = s.client();
    assert_pairs(&mut c, &before, "written before the AOF was switched on");
    assert_pairs(&mut c, &after, "written after");
    assert_eq!(dbsize(&mut c), 600 + kept, "{}", log_tail(&s.dir));
}

/// A small tmpfs of our own, unmounted on drop; None when mounting is not allowed here.
struct SmallFs(std::path::PathBuf);

impl SmallFs {
    fn mount(kib: u32) -> Option<SmallFs> {
        let dir = crate::common::test_dir("fulldisk");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallFs(dir))
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_refuses_writes_with_misconf() {
    // Guards the full-disk path: writes are refused with -MISCONF, reported in INFO and the
    // log, reads keep working, and nothing is acknowledged that is not in the file.
    let Some(fs) = SmallFs::mount(512) else {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    };
    let port = crate::common::free_port();
    let args = ["--appendonly", "yes", "--appendfsync", "everysec"];
    let s = Server::start_in(port, fs.0.clone(), &args).expect("starts on the small disk");
    let mut c = s.client();
    let big = "x".repeat(30_000);
    let mut refused = None;
    for i in 0..60 {
        let r: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(&big)
            .query(&mut c);
        if let Err(e) = r {
            refused = Some(e.to_string());
            break;
        }
    }
    let refused = refused.expect("the disk fills up");
    assert!(refused.contains("MISCONF"), "{refused}");
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("aof_last_write_status:err"), "{info}");
    let v: Option<String> = redis::cmd("GET").arg("k0").query(&mut c).unwrap();
    assert_eq!(v.as_deref(), Some(big.as_str()), "reads still served");
    assert!(s.log_text().contains("Error writing to the AOF file"));
    drop(c);
    drop(s);
}

#[test]
fn debug_reload_keeps_the_data_set() {
    // Guards DEBUG RELOAD (snapshot written and loaded back) over several shards, with and
    // without the AOF switched on.
    for aof in ["yes", "no"] {
        let s = Server::start(&[
            "--server-threads",
            "3",
            "--appendonly",
            aof,
            "--enable-debug-command",
            "yes",
        ]);
        let mut c = s.client();
        for i in 0..300 {
            let _: () = redis::cmd("SET")
                .arg(format!("k{i}"))
                .arg(i)
                .query(&mut c)
                .unwrap();
        }
        let _: () = redis::cmd("SET")
            .arg("ttl")
            .arg("v")
            .arg("EX")
            .arg(1000)
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd("RPUSH")
            .arg("l")
            .arg("a")
            .arg("b")
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd("ZADD")
            .arg("z")
            .arg(1.5)
            .arg("m")
            .query(&mut c)
            .unwrap();
        let before: i64 = redis::cmd("PEXPIRETIME").arg("ttl").query(&mut c).unwrap();
        let ok: String = redis::cmd("DEBUG").arg("RELOAD").query(&mut c).unwrap();
        assert_eq!(ok, "OK");
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 303, "appendonly {aof}");
        let after: i64 = redis::cmd("PEXPIRETIME").arg("ttl").query(&mut c).unwrap();
        assert_eq!(before, after);
        let l: Vec<String> = redis::cmd("LRANGE")
            .arg("l")
            .arg(0)
            .arg(-1)
            .query(&mut c)
            .unwrap();
        assert_eq!(l, vec!["a", "b"]);
        let z: f64 = redis::cmd("ZSCORE")
            .arg("z")
            .arg("m")
            .query(&mut c)
            .unwrap();
        assert_eq!(z, 1.5);
        let v: i64 = redis::cmd("GET").arg("k299").query(&mut c).unwrap();
        assert_eq!(v, 299);
        // Writes after the reload still reach the AOF.
        let _: () = redis::cmd("SET").arg("after").arg(1).query(&mut c).unwrap();
    }
}

// ---------------------------------------------------------------- 7. manifest problems

/// Every file of the AOF directory with its bytes.
fn aof_contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    aof_files(dir)
        .into_iter()
        .map(|n| {
            let b = std::fs::read(aof_dir(dir).join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

/// Starts slotd on a damaged directory: it must exit 1, say `why` in its log or stderr, and
/// leave every file of the AOF directory byte for byte as it was.
fn refused(dir: &Path, extra: &[&str], why: &str) -> String {
    let before = aof_contents(dir);
    let (code, out) = start_expecting_exit(dir, extra);
    assert_eq!(code, Some(1), "exit code\n{out}");
    assert!(out.contains(why), "the output says {why:?}:\n{out}");
    assert_eq!(aof_contents(dir), before, "a refused start changes no file");
    out
}

/// Rewrites the manifest keeping only the lines `keep` accepts.
fn edit_manifest(dir: &Path, keep: impl Fn(&Entry) -> bool) {
    let path = aof_dir(dir).join(MANIFEST);
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && keep(&manifest_line(l)))
        .collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
}

#[test]
fn missing_or_empty_manifest_refuses_start_and_keeps_the_files() {
    // Guards against starting empty and truncating the incr files when the manifest is gone
    // or empty while data files are present.
    let args = ["--appendonly", "yes", "--server-threads", "2"];
    let (s, pairs) = fill_and_stop("2", 40);
    let dir = release(s);
    let path = aof_dir(&dir).join(MANIFEST);
    let text = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let out = refused(&dir, &args, "doesn't exist");
    assert!(out.contains(MANIFEST), "{out}");
    std::fs::write(&path, b"").unwrap();
    refused(&dir, &args, "Found an empty AOF manifest");
    std::fs::write(&path, b"# only a comment\n\n").unwrap();
    refused(&dir, &args, "Found an empty AOF manifest");
    // The manifest back: everything is still there.
    std::fs::write(&path, &text).unwrap();
    let s = start_again(dir, &args);
    let mut c = s.client();
    assert_pairs(&mut c, &pairs, "data after the refused starts");
}

#[test]
fn manifest_missing_a_shard_or_a_file_refuses_start() {
    // Guards against silently dropping a shard's keys: a manifest without one shard's lines,
    // or naming a file that is gone, stops start-up naming the file.
    let args = ["--appendonly", "yes", "--server-threads", "2"];
    let (s, pairs) = fill_and_stop("2", 40);
    let dir = release(s);
    let path = aof_dir(&dir).join(MANIFEST);
    let text = std::fs::read(&path).unwrap();
    let shard1 = incr_file(&dir, 1)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    edit_manifest(&dir, |e| e.shard != 1);
    let out = refused(&dir, &args, "does not list");
    assert!(out.contains("of shard 1"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(&shard1) || l.contains("s1.")),
        "{out}"
    );
    // The same with one thread: the files of shard 1 must not be taken for leftovers.
    refused(&dir, &["--appendonly", "yes"], "does not list");
    std::fs::write(&path, &text).unwrap();
    edit_manifest(&dir, |e| e.shard != 0);
    refused(&dir, &args, "lists no file of shard 0");
    std::fs::write(&path, &text).unwrap();
    let incr0 = incr_file(&dir, 0);
    let saved = std::fs::read(&incr0).unwrap();
    std::fs::remove_file(&incr0).unwrap();
    let out = refused(&dir, &args, "Unable to obtain the AOF file");
    let name = incr0.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        out.lines()
            .any(|l| l.contains(&name) && l.contains("No such file or directory")),
        "{out}"
    );
    std::fs::write(&incr0, saved).unwrap();
    let s = start_again(dir, &args);
    let mut c = s.client();
    assert_pairs(&mut c, &pairs, "data after the refused starts");
}

#[test]
fn aof_load_truncated_no_refuses_a_torn_tail() {
    // Guards aof-load-truncated no: a torn last record stops start-up with Redis' message and
    // the file keeps its bytes; with yes (the default) it is cut as before.
    let (s, pairs) = fill_and_stop("1", 30);
    let dir = release(s);
    let incr = incr_file(&dir, 0);
    let whole = std::fs::read(&incr).unwrap();
    let mut torn = whole.clone();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nk");
    std::fs::write(&incr, &torn).unwrap();
    let no = ["--appendonly", "yes", "--aof-load-truncated", "no"];
    let out = refused(
        &dir,
        &no,
        "Unexpected end of file reading the append only file",
    );
    assert!(
        out.contains("'aof-load-truncated' configuration option"),
        "{out}"
    );
    let s = start_again(dir.clone(), &["--appendonly", "yes"]);
    assert_eq!(std::fs::read(&incr).unwrap(), whole, "cut back with yes");
    let mut c = s.client();
    assert_pairs(&mut c, &pairs, "data after the cut");
}

#[test]
fn torn_tail_is_not_cut_when_another_shard_fails_to_load() {
    // Guards the order: a torn tail is truncated only after every file loaded, so a start
    // refused for damage elsewhere leaves the torn file as it was.
    let (s, _) = fill_and_stop("2", 200);
    let dir = release(s);
    let incr0 = incr_file(&dir, 0);
    let mut torn = std::fs::read(&incr0).unwrap();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nk");
    std::fs::write(&incr0, &torn).unwrap();
    let incr1 = incr_file(&dir, 1);
    let mut bytes = std::fs::read(&incr1).unwrap();
    let (starts, _) = records(&bytes);
    let rec = starts[starts.len() / 2];
    let at = rec + bytes[rec..].iter().position(|&b| b == b'$').unwrap();
    bytes[at] = b'X';
    std::fs::write(&incr1, &bytes).unwrap();
    let args = ["--appendonly", "yes", "--server-threads", "2"];
    refused(&dir, &args, "Bad file format reading the append only file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interrupted_relayout_is_undone_or_completed_at_start() {
    // Guards the two-phase relayout (restart with another server-threads): a crash before its
    // manifest was replaced leaves the old layout in force (the new files go), a crash after
    // it leaves the new one (the old files go); either way every key loads.
    let one = ["--appendonly", "yes"];
    let two = ["--appendonly", "yes", "--server-threads", "2"];
    let (s, pairs) = fill_and_stop("1", 40);
    let dir = release(s);
    let staging = aof_dir(&dir).join("appendonly.aof.relayout.manifest");
    // Not committed: the staging manifest lists a 2-shard layout, partly written.
    let g = manifest(&dir).iter().map(|e| e.seq).max().unwrap() + 2;
    let mut text = String::new();
    for shard in 0..2 {
        for (kind, t) in [("base", "b"), ("incr", "i")] {
            let name = format!("appendonly.aof.s{shard}.{g}.{kind}.aof");
            text += &format!("file {name} seq {g} type {t} shard {shard}\n");
            if kind == "incr" {
                std::fs::write(aof_dir(&dir).join(&name), b"*1\r\n$4\r\nPING\r\n").unwrap();
            }
        }
    }
    std::fs::write(&staging, text).unwrap();
    let before = aof_contents(&dir);
    let mut s = start_again(dir.clone(), &one);
    assert!(
        s.log_text().contains("interrupted AOF relayout"),
        "{}",
        s.log_text()
    );
    let mut c = s.client();
    assert_pairs(&mut c, &pairs, "old layout kept");
    drop(c);
    assert_eq!(s.stop(), Some(0));
    let mut left: Vec<String> = before
        .keys()
        .filter(|n| !n.contains(&format!(".{g}.")))
        .cloned()
        .collect();
    left.retain(|n| !n.contains("relayout"));
    assert_eq!(
        aof_files(&dir),
        left,
        "the new files and the staging manifest are gone"
    );
    // Committed: the relayout replaced the manifest, then stopped before deleting.
    let old = aof_contents(&dir);
    let mut s = start_again(dir.clone(), &two);
    assert_eq!(s.stop(), Some(0));
    for (name, bytes) in old.iter().filter(|(n, _)| n.as_str() != MANIFEST) {
        std::fs::write(aof_dir(&dir).join(name), bytes).unwrap();
    }
    let real = std::fs::read(aof_dir(&dir).join(MANIFEST)).unwrap();
    std::fs::write(&staging, real).unwrap();
    let s = start_again(dir.clone(), &two);
    let mut c = s.client();
    assert_pairs(&mut c, &pairs, "new layout kept");
    let mut expected: Vec<String> = manifest(&dir).into_iter().map(|e| e.name).collect();
    expected.push(MANIFEST.into());
    expected.sort();
    assert_eq!(aof_files(&dir), expected, "the old layout's files are gone");
}

// ---------------------------------------------------------------- 8. the layout as a whole

#[test]
fn manifest_records_its_shard_count_and_a_dropped_shard_is_refused() {
    // Guards the self-describing manifest: every line says how many shards wrote it, so a
    // manifest that lost one shard's lines (and whose files are gone too) is refused instead
    // of being loaded as a smaller layout and committed by a relayout.
    let args = ["--appendonly", "yes", "--server-threads", "2"];
    let (s, pairs) = fill_and_stop("2", 40);
    let dir = release(s);
    let path = aof_dir(&dir).join(MANIFEST);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.lines().all(|l| l.ends_with(" shards 2")),
        "every line says shards 2:\n{text}"
    );
    // Shard 1's lines and files gone: nothing but the count tells it is missing.
    let moved = dir.join("moved-away");
    std::fs::create_dir_all(&moved).unwrap();
    let shard1: Vec<String> = manifest(&dir)
        .into_iter()
        .filter(|e| e.shard == 1)
        .map(|e| e.name)
        .collect();
    for name in &shard1 {
        std::fs::rename(aof_dir(&dir).join(name), moved.join(name)).unwrap();
    }
    edit_manifest(&dir, |e| e.shard != 1);
    let why = "lists no file of shard 1, but says it was written by 2 shard(s)";
    refused(&dir, &args, why);
    refused(&dir, &["--appendonly", "yes"], why);
    refused(&dir, &["--appendonly", "yes", "--server-threads", "3"], why);
    // Only the incr line of shard 1 dropped (its files present): refused as well.
    for name in &shard1 {
        std::fs::rename(moved.join(name), aof_dir(&dir).join(name)).unwrap();
    }
    std::fs::write(&path, &text).unwrap();
    edit_manifest(&dir, |e| !(e.shard == 1 && e.kind == "i"));
    refused(&dir, &args, "lists no incr file of shard 1");
    // A shard the count does not cover.
    let bad: String = text
        .lines()
        .map(|l| l.replace(" shards 2", " shards 1") + "\n")
        .collect();
    std::fs::write(&path, bad).unwrap();
    refused(
        &dir,
        &args,
        "lists shard 1, but says it was written by 1 shard(s)",
    );
    // Lines that disagree on the count.
    let mixed: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 0 { l.replace(" shards 2", "") } else { l.to_string() } + "\n")
        .collect();
    std::fs::write(&path, mixed).unwrap();
    refused(&dir, &args, "disagree on the number of shards");
    // The manifest back: every key loads.
    std::fs::write(&path, &text).unwrap();
    let s = start_again(dir, &args);
    let mut c = s.client();
    assert_pairs(&mut c, &pairs, "data after the refused starts");
}

/// The data files of the AOF directory the manifest does not name (besides the manifest).
fn unlisted_files(dir: &Path) -> Vec<String> {
    let listed: Vec<String> = manifest(dir).into_iter().map(|e| e.name).collect();
    aof_files(dir)
        .into_iter()
        .filter(|n| n != MANIFEST && !listed.contains(n))
        .collect()
}

#[test]
fn crash_while_switching_the_aof_on_loads_everything_or_nothing() {
    // Guards the all-or-nothing switch to appendonly yes at run time: every shard's first
    // files are committed by one manifest rename, so a SIGKILL at any moment of CONFIG SET
    // appendonly yes leaves either no AOF (the next start deletes the uncommitted files and
    // starts empty) or every shard's keys, never a manifest of only some shards.
    let threads = ["--server-threads", "3"];
    let on = ["--appendonly", "yes", "--server-threads", "3"];
    let pairs: Vec<(String, String)> = (0..20_000)
        .map(|i| (format!("k:{i}"), i.to_string()))
        .collect();
    let mut outcomes = BTreeMap::new();
    for delay_ms in [0u64, 2, 5, 10, 20, 40, 50, 60, 70, 80, 100, 150, 1000] {
        let mut s = Server::start(&threads);
        let mut c = s.client();
        set_all(&mut c, &pairs);
        config_set(&mut c, "appendonly", "yes");
        std::thread::sleep(Duration::from_millis(delay_ms));
        if delay_ms == 1000 {
            wait_for(30, "the AOF switched on", || {
                info_field(&mut c, "aof_rewrite_in_progress") == "0"
                    && info_field(&mut c, "aof_rewrite_scheduled") == "0"
            });
        }
        kill9(&mut s);
        drop(c);
        let dir = release(s);
        let s = start_again(dir.clone(), &on);
        let mut c = s.client();
        let n = dbsize(&mut c);
        let log = s.log_text();
        if n == 0 {
            outcomes.insert("nothing", delay_ms);
        } else {
            assert_eq!(n, pairs.len(), "after {delay_ms} ms: all or nothing\n{log}");
            assert_pairs(&mut c, &pairs, "every shard's keys");
            outcomes.insert("everything", delay_ms);
        }
        let shards: Vec<u64> = manifest(&dir).iter().map(|e| e.shard).collect();
        for shard in 0..3 {
            assert!(shards.contains(&shard), "shard {shard} listed: {shards:?}");
        }
        assert_eq!(
            unlisted_files(&dir),
            Vec::<String>::new(),
            "after {delay_ms} ms: no file left that the manifest does not name\n{log}"
        );
        assert!(
            !aof_dir(&dir)
                .join("appendonly.aof.relayout.manifest")
                .exists(),
            "the staging manifest is gone"
        );
    }
    eprintln!("outcomes (last delay per outcome): {outcomes:?}");
    assert!(outcomes.contains_key("everything"), "{outcomes:?}");
}

#[test]
fn uncommitted_first_files_are_deleted_at_start() {
    // Guards the start after a crash while the AOF was being switched on (or at a first boot)
    // before its manifest was written: the staging manifest names the half-written files,
    // which go; the node starts empty with a fresh AOF instead of refusing or loading them.
    let args = ["--appendonly", "yes", "--server-threads", "2"];
    let dir = test_dir("uncommitted");
    std::fs::create_dir_all(aof_dir(&dir)).unwrap();
    let mut staging = String::new();
    for shard in 0..2 {
        for (kind, t) in [("base", "b"), ("incr", "i")] {
            let name = format!("appendonly.aof.s{shard}.1.{kind}.aof");
            staging += &format!("file {name} seq 1 type {t} shard {shard} shards 2\n");
        }
    }
    std::fs::write(
        aof_dir(&dir).join("appendonly.aof.relayout.manifest"),
        staging,
    )
    .unwrap();
    // Shard 0 had created its incr file, shard 1 nothing yet.
    std::fs::write(
        aof_dir(&dir).join("appendonly.aof.s0.1.incr.aof"),
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
    )
    .unwrap();
    let s = start_again(dir.clone(), &args);
    let log = s.log_text();
    assert!(
        log.contains("interrupted AOF relayout") && log.contains("not committed"),
        "{log}"
    );
    let mut c = s.client();
    assert_eq!(dbsize(&mut c), 0, "uncommitted files are not loaded");
    run(&mut c, &["SET", "after", "1"]);
    drop(c);
    let s = restart(s, &args);
    let mut c = s.client();
    assert_eq!(get(&mut c, "after").as_deref(), Some("1"));
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn bgrewriteaof_with_the_aof_off_and_quick_off_on_flips_commit_every_shard() {
    // Guards the other ways into the all-or-nothing switch: BGREWRITEAOF with appendonly no
    // writes every shard's files under one manifest, and CONFIG SET appendonly no then yes
    // faster than some shards notice does not leave the others waiting for them forever.
    let threads = ["--server-threads", "3"];
    let s = Server::start(&threads);
    let mut c = s.client();
    let pairs: Vec<(String, String)> = (0..3000)
        .map(|i| (format!("f:{i}"), i.to_string()))
        .collect();
    set_all(&mut c, &pairs);
    let reply: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(reply, "Background append only file rewriting started");
    wait_for(30, "BGREWRITEAOF with the AOF off", || {
        aof_dir(&s.dir).join(MANIFEST).exists()
            && info_field(&mut c, "aof_rewrite_in_progress") == "0"
    });
    let m = manifest(&s.dir);
    assert_eq!(m.len(), 6, "a base and an incr per shard: {m:?}");
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    config_set(&mut c, "appendonly", "yes");
    wait_for(30, "the AOF switched on", || {
        info_field(&mut c, "aof_rewrite_in_progress") == "0" && base_seqs(&s.dir).len() == 3
    });
    for round in 0..6u64 {
        config_set(&mut c, "appendonly", "no");
        std::thread::sleep(Duration::from_millis(round * 30));
        config_set(&mut c, "appendonly", "yes");
        run(&mut c, &["SET", &format!("flip:{round}"), "1"]);
        // A shard that saw `no` shows a scheduled rewrite until it starts its first files.
        wait_for(30, "every shard back on its files", || {
            info_field(&mut c, "aof_rewrite_in_progress") == "0"
                && info_field(&mut c, "aof_rewrite_scheduled") == "0"
        });
    }
    drop(c);
    let s = restart(s, &["--appendonly", "yes", "--server-threads", "3"]);
    let mut c = s.client();
    assert_pairs(&mut c, &pairs, "written before the AOF was on");
    for round in 0..6 {
        assert_eq!(get(&mut c, &format!("flip:{round}")).as_deref(), Some("1"));
    }
    assert_eq!(dbsize(&mut c), pairs.len() + 6);
    assert_eq!(unlisted_files(&s.dir), Vec::<String>::new());
}

// ---------------------------------------------------------------- 9. RDB bases (issue 16)

/// Runs a redis-tools checker on `file`; its output when it refuses.
fn redis_check(tool: &str, file: &Path) -> Result<(), String> {
    let out = Command::new(tool)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is installed: {e}"));
    if out.status.success() {
        return Ok(());
    }
    Err(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn rdb_bases_are_written_loaded_and_accepted_by_redis_check_tools() {
    // Guards aof-use-rdb-preamble: `yes` (the default) makes every shard's rewritten base an
    // RDB file (`.base.rdb`, aof-base 1) that redis-check-rdb and redis-check-aof accept and
    // that a restart with any shard count loads; `no` keeps RESP bases; the one-shard
    // manifest passes redis-check-aof whole.
    for (preamble, shards) in [("yes", "1"), ("yes", "3"), ("no", "1"), ("no", "3")] {
        let args = [
            "--appendonly",
            "yes",
            "--server-threads",
            shards,
            "--aof-use-rdb-preamble",
            preamble,
        ];
        let s = Server::start(&args);
        let mut c = s.client();
        write_mix(&mut c);
        // The mix's 100 ms TTLs run out first, so the snapshot below never holds a key that
        // expires between it and the restart (a fast run took it within those 100 ms).
        std::thread::sleep(std::time::Duration::from_millis(250));
        run(
            &mut c,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=rb\nredis.register_function('rbf', function() return 7 end)",
            ],
        );
        let gens = base_seqs(&s.dir);
        run(&mut c, &["BGREWRITEAOF"]);
        wait_for(30, "the rewrite", || {
            info_field(&mut c, "aof_rewrite_in_progress") == "0"
                && base_seqs(&s.dir)
                    .values()
                    .zip(gens.values())
                    .all(|(a, b)| a > b)
        });
        run(&mut c, &["SET", "after:rewrite", "1"]);
        let before = snapshot(&mut c);
        drop(c);
        let dir = release(s);
        let m = manifest(&dir);
        for e in &m {
            let p = aof_dir(&dir).join(&e.name);
            if e.kind == "b" {
                let rdb = std::fs::read(&p).unwrap().starts_with(b"REDIS0010");
                assert_eq!(rdb, preamble == "yes", "{}", e.name);
                assert_eq!(e.name.ends_with(".base.rdb"), rdb, "{}", e.name);
                if rdb {
                    redis_check("redis-check-rdb", &p).unwrap();
                }
            }
            redis_check("redis-check-aof", &p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
        if shards == "1" {
            redis_check("redis-check-aof", &aof_dir(&dir).join(MANIFEST)).unwrap();
        }
        for again in ["1", "2"] {
            let mut a = args;
            a[3] = again;
            let s = start_again(dir.clone(), &a);
            let mut c = s.client();
            assert_eq!(
                snapshot(&mut c),
                before,
                "{preamble} {shards} -> {again} shard(s)"
            );
            assert_eq!(run(&mut c, &["FCALL", "rbf", "0"]), redis::Value::Int(7));
            drop(c);
            release(s);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
