//! maxmemory and eviction against redis-server 7.0 side by side: the -OOM texts (noeviction,
//! volatile-* without TTL keys, MULTI and EXEC), OBJECT FREQ/IDLETIME, a 300 MB write stream
//! under a 64 MB limit with a hot set read throughout, CONFIG SET maxmemory down at run time,
//! and evicted keys reaching a replica and the AOF as DEL.

use crate::common::{cmd, RedisServer, Server};
use std::io::Read;
use std::time::{Duration, Instant};

fn info_u64(port: u16, section: &str, field: &str) -> u64 {
    let text = crate::common::cli(port, &["INFO", section]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no numeric {field}: {text}"))
}

/// One connection that sends a command and reads its one-line reply.
struct Line(crate::common::Raw);

impl Line {
    fn new(port: u16) -> Line {
        Line(crate::common::Raw::connect(port))
    }
    fn ask(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.0.send(&cmd(&a));
        String::from_utf8_lossy(&self.0.read_until(b"\r\n")).into_owned()
    }
}

/// The same script on both servers, reply by reply.
fn same_replies(ours: u16, theirs: u16, script: &[&[&str]]) {
    let (mut a, mut b) = (Line::new(ours), Line::new(theirs));
    for args in script {
        assert_eq!(a.ask(args), b.ask(args), "{args:?}");
    }
}

#[test]
fn oom_replies_match_redis() {
    let s = Server::start(&[]);
    let Some(r) = RedisServer::start("oom-ref") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let script: &[&[&str]] = &[
        &["SET", "a", "1"],
        &["MULTI"],
        &["SET", "q", "1"],
        &["CONFIG", "SET", "maxmemory", "1"],
        // EXEC of a queue holding a deny-oom command is refused and the queue dropped.
        &["EXEC"],
        &["EXISTS", "q"],
        // noeviction: deny-oom commands are refused, reads and deletes are not.
        &["SET", "b", "1"],
        &["APPEND", "a", "x"],
        &["GET", "a"],
        &["INCR", "a"],
        // Inside MULTI any command but EXEC/DISCARD is refused and dooms the EXEC.
        &["MULTI"],
        &["GET", "a"],
        &["EXEC"],
        &["MULTI"],
        &["PING"],
        &["DISCARD"],
        // volatile-lru with no TTL key: nothing may go, so the same refusal.
        &["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
        &["SET", "b", "1"],
        &["LPUSH", "l", "1"],
        &["EXPIRE", "a", "100"],
        // Now the TTL key goes, then nothing is left to evict.
        &["SET", "b", "1"],
        &["EXISTS", "a"],
        // OBJECT FREQ without an LFU policy, IDLETIME with one.
        &["CONFIG", "SET", "maxmemory", "0"],
        &["SET", "k", "v"],
        &["OBJECT", "FREQ", "k"],
        &["OBJECT", "IDLETIME", "k"],
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        &["SET", "f", "v"],
        &["OBJECT", "FREQ", "f"],
        &["GET", "f"],
        &["OBJECT", "FREQ", "f"],
        &["OBJECT", "IDLETIME", "f"],
        &["OBJECT", "FREQ", "nosuchkey"],
        &["DEL", "a"],
        &["CONFIG", "SET", "maxmemory", "1"],
        &["SET", "z", "1"],
        &["DBSIZE"],
    ];
    same_replies(s.port, r.port, script);
    assert_eq!(
        info_u64(s.port, "stats", "evicted_keys"),
        info_u64(r.port, "stats", "evicted_keys")
    );
}

/// Writes `total_bytes` of 1 KB values in pipelined batches while reading the hot keys; returns
/// how many hot keys are still there at the end.
fn write_stream(port: u16, total_bytes: usize, hot: usize) -> usize {
    let mut c = crate::common::Raw::connect(port);
    let value = vec![b'v'; 1000];
    let hot_key = |i: usize| format!("hot:{i}");
    let mut batch = Vec::new();
    for i in 0..hot {
        batch.extend(cmd(&[b"SET", hot_key(i).as_bytes(), &value]));
    }
    c.send(&batch);
    c.read_n(5 * hot);
    let per_batch = 1000;
    let batches = total_bytes / 1000 / per_batch;
    let mut n = 0usize;
    let started = Instant::now();
    for b in 0..batches {
        // At most WRITE_RATE: the LRU clock ticks once a second, so a hot key only stands out
        // from the cold ones when the keys held span several seconds of writes (as in Redis).
        let due = Duration::from_secs_f64((b * per_batch * 1000) as f64 / WRITE_RATE as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        batch.clear();
        for _ in 0..per_batch {
            batch.extend(cmd(&[b"SET", format!("cold:{n}").as_bytes(), &value]));
            n += 1;
        }
        // The hot set is read throughout: every key once per batch.
        for i in 0..hot {
            batch.extend(cmd(&[b"GET", hot_key(i).as_bytes()]));
        }
        c.send(&batch);
        // +OK\r\n per SET; a hit is $1000\r\n...\r\n (1011 bytes), a miss $-1\r\n (5).
        let mut got = Vec::new();
        let mut replies = 0;
        let mut buf = vec![0u8; 1 << 16];
        while replies < per_batch + hot {
            let k = c.s.read(&mut buf).expect("read");
            assert!(k > 0, "server closed");
            got.extend_from_slice(&buf[..k]);
            replies = count_replies(&got);
        }
        assert!(
            !String::from_utf8_lossy(&got).contains("-OOM"),
            "a write was refused"
        );
    }
    let mut alive = 0;
    for i in 0..hot {
        c.send(&cmd(&[b"EXISTS", hot_key(i).as_bytes()]));
        if c.read_until(b"\r\n") == b":1\r\n" {
            alive += 1;
        }
    }
    alive
}

/// Bytes per second `write_stream` writes at most (300 MB in 20 s): the 64 MB held then span
/// about four seconds of writes, enough for the one-second LRU clock to tell the hot keys
/// from the keys written in the same second.
const WRITE_RATE: usize = 15 << 20;

/// Complete replies in `b` (simple lines and bulk strings only).
fn count_replies(b: &[u8]) -> usize {
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        let Some(end) = b[i..].windows(2).position(|w| w == b"\r\n") else {
            break;
        };
        let line = &b[i..i + end];
        let mut next = i + end + 2;
        if line.first() == Some(&b'$') {
            let len: i64 = std::str::from_utf8(&line[1..]).unwrap().parse().unwrap();
            if len >= 0 {
                next += len as usize + 2;
                if next > b.len() {
                    break;
                }
            }
        }
        n += 1;
        i = next;
    }
    n
}

#[test]
fn allkeys_lru_holds_64mb_under_300mb_of_writes() {
    let limit: u64 = 64 << 20;
    let args = ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"];
    let s = Server::start(&args);
    let t0 = Instant::now();
    let hot = 200;
    let alive = write_stream(s.port, 300 << 20, hot);
    let took = t0.elapsed();
    let used = info_u64(s.port, "memory", "used_memory");
    let rss = info_u64(s.port, "memory", "used_memory_rss");
    let evicted = info_u64(s.port, "stats", "evicted_keys");
    eprintln!(
        "slotd: {took:?}, used_memory {used}, rss {rss}, evicted {evicted}, hot alive {alive}/{hot}"
    );
    if let Some(r) = RedisServer::start_with("evict-ref", &args) {
        let alive_r = write_stream(r.port, 300 << 20, hot);
        eprintln!(
            "redis: used_memory {}, rss {}, evicted {}, hot alive {alive_r}/{hot}",
            info_u64(r.port, "memory", "used_memory"),
            info_u64(r.port, "memory", "used_memory_rss"),
            info_u64(r.port, "stats", "evicted_keys"),
        );
    }
    assert!(evicted > 200_000, "evicted {evicted}");
    let diff = (used as f64 - limit as f64).abs() / limit as f64;
    assert!(
        diff <= 0.05,
        "used_memory {used} is not within 5% of {limit}"
    );
    assert!(rss < 2 * limit + (32 << 20), "rss {rss} not bounded");
    assert_eq!(alive, hot, "the hot set must survive");
}

#[test]
fn config_set_maxmemory_down_evicts_without_stalling() {
    let s = Server::start(&["--maxmemory-policy", "allkeys-random"]);
    let mut c = crate::common::Raw::connect(s.port);
    let value = vec![b'x'; 1000];
    for b in 0..40 {
        let mut batch = Vec::new();
        for i in 0..1000 {
            batch.extend(cmd(&[b"SET", format!("k:{b}:{i}").as_bytes(), &value]));
        }
        c.send(&batch);
        c.read_n(5 * 1000);
    }
    let before = info_u64(s.port, "memory", "used_memory");
    assert!(before > 40 << 20, "used_memory {before}");
    let target: u64 = 16 << 20;
    let mut l = Line::new(s.port);
    assert_eq!(l.ask(&["CONFIG", "SET", "maxmemory", "16mb"]), "+OK\r\n");
    // The shard keeps answering while it evicts in slices.
    let t0 = Instant::now();
    let mut worst = Duration::ZERO;
    loop {
        let p = Instant::now();
        assert_eq!(l.ask(&["PING"]), "+PONG\r\n");
        worst = worst.max(p.elapsed());
        let used = info_u64(s.port, "memory", "used_memory");
        if used <= target + target / 20 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "still {used} bytes");
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "down to the limit in {:?}, slowest PING {worst:?}",
        t0.elapsed()
    );
    assert!(
        worst < Duration::from_millis(100),
        "a PING waited {worst:?}"
    );
    assert!(info_u64(s.port, "stats", "evicted_keys") > 20_000);
}

#[test]
fn evicted_keys_reach_the_replica_and_the_aof_as_del() {
    let m = Server::start(&["--appendonly", "yes", "--maxmemory-policy", "allkeys-lru"]);
    let r = Server::start(&[]);
    r.cli(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    let up = Instant::now();
    while !r
        .cli(&["INFO", "replication"])
        .contains("master_link_status:up")
    {
        assert!(up.elapsed() < Duration::from_secs(30), "no link");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut c = crate::common::Raw::connect(m.port);
    let value = vec![b'x'; 1000];
    let mut batch = Vec::new();
    for i in 0..20_000 {
        batch.extend(cmd(&[b"SET", format!("k:{i}").as_bytes(), &value]));
    }
    c.send(&batch);
    c.read_n(5 * 20_000);
    let used = info_u64(m.port, "memory", "used_memory");
    let limit = used - (8 << 20);
    m.cli(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    let t0 = Instant::now();
    while info_u64(m.port, "memory", "used_memory") > limit + limit / 20 {
        assert!(t0.elapsed() < Duration::from_secs(20), "no eviction");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Eviction may go on a little (the cron's shares): wait until the counts settle.
    let dbsize = |s: &Server| s.cli(&["DBSIZE"]).trim().parse::<u64>().unwrap();
    let t0 = Instant::now();
    let evicted = loop {
        let evicted = info_u64(m.port, "stats", "evicted_keys");
        let (mk, rk) = (dbsize(&m), dbsize(&r));
        // The replica (replica-ignore-maxmemory yes) follows the master's DELs.
        if mk == rk
            && mk + evicted == 20_000
            && evicted == info_u64(m.port, "stats", "evicted_keys")
        {
            break evicted;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "replica {rk} keys, master {mk}, evicted {evicted}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(evicted > 1000, "evicted {evicted}");
    assert_eq!(info_u64(r.port, "stats", "evicted_keys"), 0);
    // The AOF holds one DEL per evicted key.
    let aof_dir = m.dir.join("appendonlydir");
    let mut dels = 0;
    for f in std::fs::read_dir(&aof_dir).expect("aof dir") {
        let text = std::fs::read(f.unwrap().path()).unwrap();
        dels += text.windows(9).filter(|w| w == b"$3\r\nDEL\r\n").count();
    }
    assert_eq!(dels as u64, evicted, "DEL records in the AOF");
}
