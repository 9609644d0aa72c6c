//! SLOWLOG GET/LEN/RESET/HELP side by side with redis-server 7.0 (every command logged with
//! `slowlog-log-slower-than 0`, so the entries are deterministic), and node-wide ordering with
//! the client's address and name when commands run on other cores.

use crate::common::{RedisServer as Redis, Server};

/// One SLOWLOG entry with its time and duration checked and dropped: (id, args, ip, name).
type Entry = (i64, Vec<String>, String, String);

fn text(v: &redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("not a string: {other:?}"),
    }
}

/// Runs one command; an error reply becomes a status string holding its text.
pub fn run(c: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| redis::Value::SimpleString(format!("ERR {e}")))
}

fn entries(c: &mut redis::Connection, count: &str) -> Vec<Entry> {
    let redis::Value::Array(list) = run(c, &["SLOWLOG", "GET", count]) else {
        panic!("SLOWLOG GET")
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    list.iter()
        .map(|e| {
            let redis::Value::Array(f) = e else {
                panic!("{e:?}")
            };
            assert_eq!(f.len(), 6, "{f:?}");
            let (redis::Value::Int(id), redis::Value::Int(t), redis::Value::Int(us)) =
                (&f[0], &f[1], &f[2])
            else {
                panic!("{f:?}")
            };
            assert!((now - 60..=now + 1).contains(t), "{t}");
            assert!(*us >= 0 && *us < 10_000_000, "{us}");
            let redis::Value::Array(args) = &f[3] else {
                panic!("{f:?}")
            };
            let addr = text(&f[4]);
            let ip = addr.rsplit_once(':').map(|(ip, _)| ip.to_string()).unwrap();
            (*id, args.iter().map(text).collect(), ip, text(&f[5]))
        })
        .collect()
}

/// The lines both servers run; SLOWLOG GET and errors are compared by the caller.
fn script(c: &mut redis::Connection) -> Vec<String> {
    let mut seen = Vec::new();
    let long = "x".repeat(200);
    let many: Vec<String> = (0..40).map(|i| format!("e{i}")).collect();
    let mut rpush = vec!["RPUSH", "list"];
    rpush.extend(many.iter().map(String::as_str));
    for line in [
        vec!["CLIENT", "SETNAME", "tester"],
        vec!["CONFIG", "SET", "slowlog-log-slower-than", "0"],
        vec!["SET", "k", long.as_str()],
        vec!["GET", "k"],
        // Passwords are logged as `(redacted)`.
        vec!["AUTH", "not-a-password"],
        vec!["AUTH", "someone", "not-a-password"],
        vec!["HELLO", "2", "AUTH", "someone", "not-a-password"],
        vec![
            "CONFIG",
            "SET",
            "masterauth",
            "sekrit",
            "maxmemory-samples",
            "5",
        ],
        vec!["CONFIG", "SET", "masteruser", "who"],
        rpush,
        vec!["SLOWLOG", "LEN"],
        vec!["SLOWLOG", "GET", "-2"],
        vec!["SLOWLOG", "GET", "x"],
        vec!["SLOWLOG", "LEN", "x"],
        vec!["SLOWLOG", "NOPE"],
        vec!["SLOWLOG", "HELP"],
    ] {
        seen.push(format!("{:?}", run(c, &line)));
    }
    seen
}

#[test]
fn slowlog_matches_redis() {
    // Guards SLOWLOG's replies, ids, argument shortening, client name and errors against
    // redis-server 7.0, and RESET and slowlog-max-len trimming.
    let Some(redis) = Redis::start("slowlog") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    assert_eq!(script(&mut s), script(&mut r));
    let (want, got) = (entries(&mut r, "-1"), entries(&mut s, "-1"));
    assert_eq!(got, want);
    assert_eq!(got[0].3, "tester");
    assert_eq!(got[0].2, "127.0.0.1");
    let shortened = got.iter().find(|e| e.1[0] == "RPUSH").unwrap();
    assert_eq!(shortened.1.len(), 32);
    assert_eq!(shortened.1[31], "... (11 more arguments)");
    let set = got.iter().find(|e| e.1[0] == "SET").unwrap();
    assert!(set.1[2].ends_with("... (72 more bytes)"), "{:?}", set.1[2]);
    assert_eq!(entries(&mut s, "2"), entries(&mut r, "2"));
    assert_eq!(entries(&mut s, "0"), entries(&mut r, "0"));
    for c in [&mut r, &mut s] {
        assert_eq!(run(c, &["SLOWLOG", "RESET"]), redis::Value::Okay);
        run(c, &["CONFIG", "SET", "slowlog-max-len", "3"]);
        for i in 0..5 {
            run(c, &["SET", &format!("k{i}"), "v"]);
        }
    }
    assert_eq!(
        run(&mut s, &["SLOWLOG", "LEN"]),
        run(&mut r, &["SLOWLOG", "LEN"])
    );
    assert_eq!(entries(&mut s, "10"), entries(&mut r, "10"));
    for c in [&mut r, &mut s] {
        run(c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
        run(c, &["SLOWLOG", "RESET"]);
        run(c, &["SET", "quiet", "v"]);
    }
    assert_eq!(run(&mut s, &["SLOWLOG", "LEN"]), redis::Value::Int(0));
    assert_eq!(run(&mut r, &["SLOWLOG", "LEN"]), redis::Value::Int(0));
}

#[test]
fn slowlog_orders_every_core_and_names_the_client() {
    // Guards the node-wide log: commands that run on another core than their client's are
    // logged with that client's address and name, ids in the order they ran.
    let slotd = Server::start(&["--server-threads", "2"]);
    let mut c = slotd.client();
    run(&mut c, &["CLIENT", "SETNAME", "far"]);
    run(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    for i in 0..8 {
        run(&mut c, &["SET", &format!("key{i}"), "v"]);
    }
    let got = entries(&mut c, "-1");
    let sets: Vec<&Entry> = got.iter().filter(|e| e.1[0] == "SET").collect();
    assert_eq!(sets.len(), 8, "{got:?}");
    for (n, e) in sets.iter().enumerate() {
        assert_eq!(e.1[1], format!("key{}", 7 - n), "newest first: {got:?}");
        assert_eq!((e.2.as_str(), e.3.as_str()), ("127.0.0.1", "far"), "{e:?}");
    }
    let ids: Vec<i64> = got.iter().map(|e| e.0).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1] + 1), "{ids:?}");
}
