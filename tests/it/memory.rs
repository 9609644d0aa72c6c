//! Memory accounting through the real binary: INFO memory's fields and MEMORY STATS' keys in
//! Redis 7.0's order, MEMORY's errors and help byte for byte against redis-server, sizes that
//! follow the data (used_memory, MEMORY USAGE), and redis-cli --memkeys / --bigkeys.

use crate::common::{RedisServer as Redis, Server};

/// The `name` of every `name:value` line of an INFO section.
fn info_names(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains(':'))
        .map(|l| l.split(':').next().unwrap_or("").to_string())
        .collect()
}

fn info_field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn used_memory(s: &Server) -> u64 {
    info_field(&s.cli(&["INFO", "memory"]), "used_memory")
        .parse()
        .expect("used_memory is a number")
}

#[test]
fn memory_errors_help_and_misses_match_redis() {
    // Guards MEMORY's arity, option parsing order (syntax before lookup) and help text.
    crate::compare::same_replies(&[
        "MEMORY HELP",
        "MEMORY",
        "MEMORY FOO",
        "MEMORY STATS x",
        "MEMORY DOCTOR x",
        "MEMORY USAGE",
        "MEMORY USAGE nokey",
        "SET foo bar",
        "MEMORY USAGE foo samples",
        "MEMORY USAGE foo samples -1",
        "MEMORY USAGE foo bar 1",
        "MEMORY USAGE foo samples x",
        "MEMORY USAGE foo samples 0 x",
        "MEMORY USAGE nokey samples x",
        "MEMORY USAGE nokey SAMPLES 0",
        "MEMORY PURGE",
        "MEMORY PURGE x",
    ]);
}

#[test]
fn info_memory_and_memory_stats_have_redis_fields_in_order() {
    // Guards the field names and their order (monitoring tools parse them).
    let Some(redis) = Redis::start("memory_fields") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let r = |args: &[&str]| crate::common::cli(redis.port, args);
    assert_eq!(
        info_names(&slotd.cli(&["INFO", "memory"])),
        info_names(&r(&["INFO", "memory"]))
    );
    for port in [redis.port, slotd.port] {
        crate::common::cli(port, &["SET", "k", "v"]);
        crate::common::cli(port, &["SET", "t", "v", "EX", "100"]);
        crate::common::cli(port, &["-n", "3", "SET", "k3", "v"]);
    }
    let keys = |text: String| -> Vec<String> {
        let lines: Vec<String> = text.lines().map(String::from).collect();
        // Flat RESP2 map: names at even positions; each db.N's own map is one nested group.
        let mut names = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            names.push(lines[i].clone());
            i += if lines[i].starts_with("db.") { 5 } else { 2 };
        }
        names
    };
    let ours = keys(slotd.cli(&["MEMORY", "STATS"]));
    assert_eq!(ours, keys(r(&["MEMORY", "STATS"])));
    assert!(ours.contains(&"db.0".to_string()), "{ours:?}");
    assert!(
        ours.contains(&"db.3".to_string()),
        "one entry per database with keys: {ours:?}"
    );
    // RESP3: a map, with doubles where Redis has them.
    let resp3 = slotd.cli(&["-3", "MEMORY", "STATS"]);
    assert!(resp3.contains("dataset.percentage"), "{resp3}");
}

#[test]
fn used_memory_and_memory_usage_follow_the_data() {
    // Guards the counting allocator end to end: 10k values of 1000 bytes add about 10 MB to
    // used_memory, MEMORY USAGE reports a value's size, and INFO's derived fields are sane.
    let slotd = Server::start(&[]);
    let before = used_memory(&slotd);
    let mut c = slotd.client();
    let value = "x".repeat(1000);
    let mut pipe = redis::pipe();
    for i in 0..10_000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(&value).ignore();
    }
    let () = pipe.query(&mut c).expect("load");
    let grown = used_memory(&slotd) - before;
    assert!(
        (10_000_000..16_000_000).contains(&grown),
        "used_memory grew by {grown}"
    );
    let usage: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("key:1")
        .query(&mut c)
        .expect("usage");
    assert!((1000..1200).contains(&usage), "{usage}");
    // A short string lives inside the key's one block: a table word plus one small block.
    let () = redis::cmd("SET")
        .arg("s")
        .arg("bar")
        .query(&mut c)
        .expect("set");
    let small: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("s")
        .query(&mut c)
        .expect("usage");
    assert!((16..=64).contains(&small), "{small}");
    // A hash of 1000 fields: the sampled and the exact sizes agree roughly.
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("HSET")
            .arg("h")
            .arg(format!("field:{i}"))
            .arg(&value[..100])
            .ignore();
    }
    let () = pipe.query(&mut c).expect("hash");
    let q = |c: &mut redis::Connection, extra: &[&str]| -> i64 {
        redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("h")
            .arg(extra)
            .query(c)
            .expect("usage")
    };
    let (sampled, exact) = (q(&mut c, &[]), q(&mut c, &["SAMPLES", "0"]));
    assert!(exact > 100_000, "{exact}");
    assert!((sampled - exact).abs() < exact / 5, "{sampled} vs {exact}");
    let info = slotd.cli(&["INFO", "memory"]);
    assert!(
        info_field(&info, "mem_allocator").starts_with("jemalloc-5."),
        "{info}"
    );
    let peak: u64 = info_field(&info, "used_memory_peak").parse().expect("peak");
    let used: u64 = info_field(&info, "used_memory").parse().expect("used");
    assert!(peak >= used);
    let startup: u64 = info_field(&info, "used_memory_startup")
        .parse()
        .expect("startup");
    assert!(startup > 0 && startup < used, "{info}");
    let dataset: i64 = info_field(&info, "used_memory_dataset")
        .parse()
        .expect("dataset");
    assert!(dataset > 10_000_000, "{info}");
    let stats = slotd.cli(&["MEMORY", "MALLOC-STATS"]);
    assert!(stats.contains("Begin jemalloc statistics"), "{stats}");
    assert_eq!(slotd.cli(&["MEMORY", "PURGE"]).trim(), "OK");
    assert!(slotd.cli(&["MEMORY", "DOCTOR"]).contains("Sam"));
}

#[test]
fn redis_cli_memkeys_and_bigkeys_find_the_same_biggest_keys() {
    // Guards the sizes redis-cli reads through MEMORY USAGE and the type commands: the same
    // data yields the same biggest keys, with nonzero sizes, on both servers.
    let Some(redis) = Redis::start("memkeys") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let big = "x".repeat(3000);
    for port in [redis.port, slotd.port] {
        let cli = |args: &[&str]| crate::common::cli(port, args);
        for i in 0..50 {
            cli(&["SET", &format!("key:{i}"), "small"]);
        }
        cli(&["SET", "big", &big]);
        cli(&["RPUSH", "mylist", "a", "b", "c"]);
        cli(&["HSET", "myhash", "f", &big]);
    }
    let biggest = |text: &str| -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("Biggest") && l.contains(" found '"))
            .map(|l| l.split(" has ").next().unwrap_or("").to_string())
            .collect();
        v.sort();
        v
    };
    for mode in ["--memkeys", "--bigkeys"] {
        let ours = slotd.cli(&[mode]);
        let theirs = crate::common::cli(redis.port, &[mode]);
        assert_eq!(
            biggest(&ours),
            biggest(&theirs),
            "{mode}:\n{ours}\n{theirs}"
        );
        assert!(ours.contains("Sampled 53 keys"), "{ours}");
    }
    let mem = slotd.cli(&["--memkeys"]);
    let line = mem
        .lines()
        .find(|l| l.starts_with("Biggest string found '\"big\"' has "))
        .expect("big string line");
    let bytes: u64 = line
        .rsplit(" has ")
        .next()
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("bytes");
    assert!((3000..3500).contains(&bytes), "{line}");
}

/// Threads of `pid` named as jemalloc names its background purging threads.
fn jemalloc_bg_threads(pid: u32) -> usize {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "jemalloc_bg_thd")
        .count()
}

#[test]
fn jemalloc_bg_thread_starts_and_stops_the_purging_thread() {
    // Guards jemalloc-bg-thread as Redis applies it: on by default, and CONFIG SET turns
    // jemalloc's background thread off and on at once.
    let slotd = Server::start(&[]);
    let wait_for = |want_some: bool| {
        for _ in 0..100 {
            if (jemalloc_bg_threads(slotd.pid()) > 0) == want_some {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    };
    assert!(wait_for(true), "no background thread by default");
    assert_eq!(
        slotd
            .cli(&["CONFIG", "SET", "jemalloc-bg-thread", "no"])
            .trim(),
        "OK"
    );
    assert!(wait_for(false), "still running after CONFIG SET no");
    assert_eq!(
        slotd
            .cli(&["CONFIG", "SET", "jemalloc-bg-thread", "yes"])
            .trim(),
        "OK"
    );
    assert!(wait_for(true), "not back after CONFIG SET yes");
    let off = Server::start(&["--jemalloc-bg-thread", "no"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(jemalloc_bg_threads(off.pid()), 0);
}
