//! DUMP/RESTORE/MIGRATE between the real slotd and Debian's redis-server 7.0, both ways.
//! Skipped (with a message) when redis-server is not installed.

use crate::common::{free_port, RedisServer as Redis, Server};
use redis::{Connection, Value};
use std::time::{Duration, Instant};

fn port_of(s: &Server) -> u16 {
    s.addr()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

fn q(c: &mut Connection, args: &[&[u8]]) -> Value {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).expect("name"));
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query::<Value>(c)
        .unwrap_or_else(|e| Value::SimpleString(format!("ERR:{e}")))
}

/// Loads one key of every type (small and large encodings) through plain commands.
fn fill(c: &mut Connection) {
    let big: Vec<String> = (0..1000).map(|i| format!("item-{i}")).collect();
    let _: () = redis::cmd("SET")
        .arg("str")
        .arg("hello world")
        .query(c)
        .expect("set");
    let _: () = redis::cmd("SET")
        .arg("int")
        .arg("12345")
        .query(c)
        .expect("set");
    let _: () = redis::cmd("SET")
        .arg("lzf")
        .arg("ab".repeat(200))
        .query(c)
        .expect("set");
    let _: () = redis::cmd("RPUSH")
        .arg("list")
        .arg(&big)
        .query(c)
        .expect("rpush");
    let _: () = redis::cmd("RPUSH")
        .arg("slist")
        .arg(&["a", "1", "b"])
        .query(c)
        .expect("rpush");
    let _: () = redis::cmd("HSET")
        .arg("hash")
        .arg(&["f", "v", "n", "7"])
        .query(c)
        .expect("h");
    let mut hcmd = redis::cmd("HSET");
    hcmd.arg("bighash");
    big.iter().for_each(|s| {
        hcmd.arg(s).arg(s);
    });
    let _: () = hcmd.query(c).expect("hset");
    let _: () = redis::cmd("SADD")
        .arg("iset")
        .arg(&["1", "2", "300"])
        .query(c)
        .expect("s");
    let _: () = redis::cmd("SADD")
        .arg("set")
        .arg(&big)
        .query(c)
        .expect("sadd");
    let _: () = redis::cmd("ZADD")
        .arg("zset")
        .arg(&["1", "a", "2.5", "b"])
        .query(c)
        .expect("z");
    let mut z = redis::cmd("ZADD");
    z.arg("bigz");
    big.iter().enumerate().for_each(|(i, s)| {
        z.arg(i as f64 / 3.0).arg(s);
    });
    let _: () = z.query(c).expect("zadd");
}

const KEYS: &[&str] = &[
    "str", "int", "lzf", "list", "slist", "hash", "bighash", "iset", "set", "zset", "bigz",
];

/// Every key as a comparable value: its DEBUG-free canonical read.
fn snapshot(c: &mut Connection, key: &str) -> String {
    let t: String = redis::cmd("TYPE").arg(key).query(c).expect("type");
    let v = match t.as_str() {
        "string" => q(c, &[b"GET", key.as_bytes()]),
        "list" => q(c, &[b"LRANGE", key.as_bytes(), b"0", b"-1"]),
        "hash" => q(c, &[b"HGETALL", key.as_bytes()]),
        "set" => match q(c, &[b"SMEMBERS", key.as_bytes()]) {
            Value::Array(mut v) | Value::Set(mut v) => {
                v.sort_by_key(|m| format!("{m:?}"));
                Value::Array(v)
            }
            other => other,
        },
        "zset" => q(c, &[b"ZRANGE", key.as_bytes(), b"0", b"-1", b"WITHSCORES"]),
        _ => Value::Nil,
    };
    let v = match v {
        Value::Map(pairs) => {
            let mut p: Vec<String> = pairs.iter().map(|kv| format!("{kv:?}")).collect();
            p.sort();
            p.join(",")
        }
        Value::Array(items) if t == "hash" => {
            let mut p: Vec<String> = items.chunks(2).map(|kv| format!("{kv:?}")).collect();
            p.sort();
            p.join(",")
        }
        other => format!("{other:?}"),
    };
    format!("{t}:{v}")
}

fn dump_restore(from: &mut Connection, to: &mut Connection) {
    for k in KEYS {
        let p: Vec<u8> = redis::cmd("DUMP").arg(*k).query(from).expect("dump");
        let r = q(to, &[b"RESTORE", k.as_bytes(), b"0", &p, b"REPLACE"]);
        assert_eq!(r, Value::Okay, "RESTORE {k}");
        assert_eq!(snapshot(from, k), snapshot(to, k), "{k}");
    }
}

#[test]
fn dump_restore_both_ways() {
    // Guards payload compatibility: each side restores what the other dumps, for every type.
    let Some(redis) = Redis::start("redis-migrate") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    fill(&mut r);
    dump_restore(&mut r, &mut s);
    let _: () = redis::cmd("FLUSHALL").query(&mut r).expect("flush");
    dump_restore(&mut s, &mut r);
    // Small values dump to the same bytes on both.
    for k in [
        "str", "int", "lzf", "slist", "hash", "iset", "zset", "list", "bigz",
    ] {
        let a: Vec<u8> = redis::cmd("DUMP").arg(k).query(&mut r).expect("dump");
        let b: Vec<u8> = redis::cmd("DUMP").arg(k).query(&mut s).expect("dump");
        assert_eq!(a, b, "{k}");
    }
}

fn migrate(c: &mut Connection, port: u16, extra: &[&str]) -> Value {
    let p = port.to_string();
    let mut args: Vec<&[u8]> = vec![b"MIGRATE", b"127.0.0.1", p.as_bytes(), b"", b"0", b"5000"];
    args.extend(extra.iter().map(|s| s.as_bytes()));
    q(c, &args)
}

fn exists(c: &mut Connection, k: &str) -> i64 {
    redis::cmd("EXISTS").arg(k).query(c).expect("exists")
}

#[test]
fn migrate_both_ways_with_options() {
    // Guards MIGRATE's wire exchange with a real Redis: KEYS, COPY, REPLACE, BUSYKEY text.
    let Some(redis) = Redis::start("redis-migrate") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    fill(&mut s);
    let before: Vec<String> = KEYS.iter().map(|k| snapshot(&mut s, k)).collect();
    let mut keys = vec!["COPY", "KEYS"];
    keys.extend(KEYS);
    assert_eq!(migrate(&mut s, redis.port, &keys), Value::Okay);
    assert_eq!(exists(&mut s, "str"), 1, "COPY keeps the source");
    let busy = migrate(&mut s, redis.port, &["KEYS", "str"]);
    let text = format!("{busy:?}");
    let want = "Target instance replied with error: BUSYKEY Target key name already exists.";
    assert!(text.contains(want), "{text}");
    let mut keys = vec!["REPLACE", "KEYS"];
    keys.extend(KEYS);
    assert_eq!(migrate(&mut s, redis.port, &keys), Value::Okay);
    for (k, b) in KEYS.iter().zip(&before) {
        assert_eq!(exists(&mut s, k), 0, "{k} moved away");
        assert_eq!(&snapshot(&mut r, k), b, "{k}");
    }
    // And back from redis-server to slotd.
    let mut keys = vec!["KEYS"];
    keys.extend(KEYS);
    assert_eq!(migrate(&mut r, port_of(&slotd), &keys), Value::Okay);
    for (k, b) in KEYS.iter().zip(&before) {
        assert_eq!(&snapshot(&mut s, k), b, "{k}");
    }
    let none = migrate(&mut r, port_of(&slotd), &["KEYS", "gone"]);
    assert_eq!(none, Value::SimpleString("NOKEY".into()));
}

#[test]
fn migrate_to_closed_port_fails_in_time() {
    // Guards the IOERR reply and that MIGRATE never hangs past its timeout.
    let slotd = Server::start(&[]);
    let mut s = slotd.client();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query(&mut s)
        .expect("set");
    let t0 = Instant::now();
    let r = migrate(&mut s, free_port(), &["KEYS", "k"]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    let text = format!("{r:?}");
    assert!(
        text.contains("error or timeout writing to target instance"),
        "{text}"
    );
    assert_eq!(exists(&mut s, "k"), 1);
}
