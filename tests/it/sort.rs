//! SORT and SORT_RO side by side with Debian's redis-server 7.0: numeric and ALPHA order,
//! BY patterns (`*`, `->field`, `nosort`), LIMIT, GET, STORE, errors, RESP2 and RESP3; BY/GET
//! keys spread over the cores of a standalone slotd; the cluster-mode refusals; STORE through
//! an AOF restart.

use crate::bitmaps::compare;
use crate::common::{free_port, RedisServer as Redis, Server};

const DATA: &[&str] = &[
    "RPUSH l 3 1 2 10 -4 1.5 0x10",
    "RPUSH words banana Apple cherry apple 10 9",
    "SADD s 5 3 9 1",
    "SADD sw pear fig kiwi",
    "ZADD z 1 c 2 b 3 a",
    "ZADD zn 3 10 2 9 1 8",
    "SET w_3 30",
    "SET w_1 10",
    "SET w_2 20",
    "SET w_10 -1",
    "SET w_-4 5",
    "SET w_1.5 5",
    "SET w_0x10 x",
    "SET o_3 three",
    "SET o_1 one",
    "HSET h_3 f c3 g 1",
    "HSET h_1 f c1 g 3",
    "HSET h_2 f c2 g 2",
    "LPUSH wrong x",
    "SET str x",
];

const SORTS: &[&str] = &[
    "SORT l",
    "SORT l DESC",
    "SORT l ASC LIMIT 1 3",
    "SORT l LIMIT 0 -1",
    "SORT l LIMIT -5 2",
    "SORT l LIMIT 7 2",
    "SORT l LIMIT 6 100",
    "SORT l LIMIT 2 0",
    "SORT l LIMIT 1 9223372036854775807",
    "SORT l LIMIT 9223372036854775807 9223372036854775807",
    "SORT l LIMIT -9223372036854775808 -9223372036854775808",
    "SORT l BY nosort LIMIT 1 9223372036854775807",
    "SORT z BY nosort DESC LIMIT 2 9223372036854775807",
    "RPUSH nums \\s1 +2 3e0 inf -inf 1e-5 0x1p3",
    "SORT nums",
    "SORT nums DESC ALPHA",
    "RPUSH bad1 1 2\\s",
    "SORT bad1",
    "RPUSH bad2 1 nan",
    "SORT bad2",
    "RPUSH empty \\0 1 \\s",
    "SORT empty",
    "RPUSH empty2 \\0 1",
    "SORT empty2",
    "SORT l ALPHA",
    "SORT l ALPHA DESC LIMIT 0 3",
    "SORT words",
    "SORT words ALPHA",
    "SORT words ALPHA DESC",
    "SORT s",
    "SORT s DESC",
    "SORT sw ALPHA",
    "SORT z",
    "SORT z ALPHA",
    "SORT zn",
    "SORT z BY nosort",
    "SORT z BY nosort DESC",
    "SORT z BY nosort LIMIT 1 5",
    "SORT z BY nosort DESC LIMIT 1 1",
    "SORT l BY nosort",
    "SORT l BY nosort DESC LIMIT 2 3",
    "SORT l BY nosort LIMIT 9 3",
    "SORT l BY w_*",
    "SORT l BY w_* DESC",
    "SORT l BY w_* ALPHA",
    "SORT l BY w_* GET # GET o_* GET nokey_*",
    "SORT l BY h_*->g GET h_*->f GET #",
    "SORT l BY h_*->g ALPHA GET h_*->f GET h_*->",
    "SORT l BY h_*-> GET h_*->nofield",
    "SORT l BY w_*->f",
    "SORT l GET w_*",
    "SORT l GET # GET w_* LIMIT 1 2",
    "SORT l GET nostar",
    "SORT l GET ## GET #",
    "SORT l BY nosort GET o_*",
    "SORT l BY nosort BY w_*",
    "SORT l BY w_* BY nosort DESC",
    "SORT nokey",
    "SORT nokey BY w_* GET #",
    "SORT nokey LIMIT 0 1 ALPHA DESC",
    "SORT str",
    "SORT str LIMIT x 1",
    "SORT l LIMIT x 1",
    "SORT l LIMIT 1 x",
    "SORT l LIMIT 1",
    "SORT l FOO",
    "SORT l GET",
    "SORT l BY",
    "SORT l STORE",
    "SORT words",
    "SORT z BY w_*",
    "SORT words BY w_*",
    "SORT words BY w_* DESC LIMIT 1 3",
    "SORT_RO l",
    "SORT_RO l BY w_* GET o_* DESC LIMIT 0 2",
    "SORT_RO l STORE d",
    "SORT_RO words ALPHA",
    "SORT_RO str",
    "SORT l STORE d",
    "LRANGE d 0 -1",
    "TYPE d",
    "SORT l BY w_* GET # GET o_* STORE d",
    "LRANGE d 0 -1",
    "SORT s BY nosort STORE d",
    "LRANGE d 0 -1",
    "SORT sw BY nosort STORE d DESC",
    "LRANGE d 0 -1",
    "SORT words ALPHA STORE d",
    "LRANGE d 0 -1",
    "SET d x EX 100",
    "SORT z BY nosort STORE d",
    "TTL d",
    "SORT nokey STORE d",
    "EXISTS d",
    "SORT nokey STORE d",
    "SORT words STORE d",
    "SORT l STORE d STORE d2",
    "EXISTS d d2",
    "SORT l LIMIT 5 5 STORE d3 GET #",
    "LRANGE d3 0 -1",
    "COMMAND GETKEYS sort l BY w_* STORE d GET # STORE d2",
    "COMMAND GETKEYSANDFLAGS sort l STORE d",
    "COMMAND GETKEYSANDFLAGS sort l LIMIT 0 1 GET store",
    "COMMAND GETKEYSANDFLAGS sort_ro l GET #",
    "COMMAND INFO sort sort_ro",
    // Last: redis-server does not clear errno before strtod, so after an ERANGE every later
    // numeric SORT of a string it reads fails until some call resets errno.
    "RPUSH bad3 1 1e400",
    "SORT bad3",
];

fn script(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = DATA.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn sort_matches_redis() {
    // Orders, options, errors and STORE results against redis-server, byte for byte.
    compare(&[], false, &script(SORTS));
}

#[test]
fn sort_matches_redis_in_resp3() {
    // RESP3: GET of a missing key is a null (`_`), COMMAND INFO sets and maps.
    compare(&[], true, &script(SORTS));
}

#[test]
fn sort_with_patterns_over_several_shards_matches_redis() {
    // BY/GET keys and the STORE destination on other cores of a standalone slotd: the line
    // holds every shard and reads them all; MULTI/EXEC with a pattern SORT too.
    let mut more = SORTS.to_vec();
    more.extend_from_slice(&[
        "MULTI",
        "SORT l BY w_* GET o_*",
        "SORT l BY w_* STORE other",
        "EXEC",
        "LRANGE other 0 -1",
        "EVAL return\\sredis.call('SORT',KEYS[1],'BY','w_*','GET','o_*','GET','#') 1 l",
        "EVAL return\\sredis.call('SORT',KEYS[1],'BY','h_*->g','GET','o_*','GET','#') 1 l",
        "EVAL return\\sredis.call('SORT',KEYS[1],'BY','h_*->g','STORE',KEYS[2]) 2 l {l}d",
        "LRANGE {l}d 0 -1",
        "EVAL return\\sredis.call('SORT',KEYS[1],'BY','nosort') 1 sw",
        "EVAL return\\sredis.call('SORT',KEYS[1],'BY','nosort','GET','#') 1 sw",
    ]);
    compare(&["--server-threads", "3"], false, &script(&more));
}

#[test]
fn cluster_mode_refuses_patterns_as_redis() {
    // Redis 7.0 refuses BY patterns and every GET in cluster mode; BY nosort is fine; a STORE
    // or BITOP destination in another slot is CROSSSLOT.
    let lines = [
        "RPUSH l 3 1 2",
        "SORT l BY w_*",
        "SORT l GET #",
        "SORT l BY nosort",
        "SORT l BY nosort DESC",
        "SORT_RO l GET o_*",
        "SORT l BY w_* LIMIT x 1",
        "SORT l LIMIT x 1 BY w_*",
        "SORT l STORE other",
        "SORT l STORE {l}x",
        "LRANGE {l}x 0 -1",
        "SETBIT b 1 1",
        "BITOP OR d b",
        "BITOP OR {b}d b nokey{b}",
        "GET {b}d",
    ];
    let Some(redis) = Redis::start_with("sort_cluster", &["--cluster-enabled", "yes"]) else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&["--cluster-enabled", "yes"]);
    for port in [redis.port, slotd.port] {
        let out = crate::common::cli(port, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
        assert!(out.contains("OK"), "{out}");
    }
    let (mut a, mut b) = (crate::common::Raw::connect(redis.port), slotd.raw());
    // Wait for both to see their slots before comparing.
    for _ in 0..200 {
        let ra = crate::common::cli(redis.port, &["CLUSTER", "INFO"]);
        let rb = crate::common::cli(slotd.port, &["CLUSTER", "INFO"]);
        if ra.contains("cluster_state:ok") && rb.contains("cluster_state:ok") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for line in lines {
        let parts: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        crate::compare::same_reply(&mut a, &mut b, &crate::common::cmd(&parts), line);
    }
}

#[test]
fn sort_store_survives_an_aof_restart() {
    // SORT ... STORE (verbatim, or with patterns as its result) rebuilds the same lists from the
    // AOF, with the shard count it was written with and another one.
    let args = ["--appendonly", "yes", "--server-threads", "3"];
    let mut s = Server::start(&args);
    let mut c = s.client();
    for line in DATA {
        let parts: Vec<&str> = line.split(' ').collect();
        let mut q = redis::cmd(parts[0]);
        for p in &parts[1..] {
            q.arg(*p);
        }
        q.query::<redis::Value>(&mut c).expect("data");
    }
    let stores: &[&[&str]] = &[
        &["SORT", "l", "STORE", "d1"],
        &[
            "SORT", "l", "BY", "h_*->g", "GET", "#", "GET", "o_*", "STORE", "d2",
        ],
        &["SORT", "sw", "BY", "nosort", "STORE", "d3"],
        &[
            "SORT", "words", "ALPHA", "DESC", "LIMIT", "1", "3", "STORE", "{d1}x",
        ],
        &["SORT", "nokey", "STORE", "d1"],
    ];
    for line in stores {
        let mut q = redis::cmd(line[0]);
        for p in &line[1..] {
            q.arg(*p);
        }
        q.query::<redis::Value>(&mut c).expect("sort store");
    }
    let keys = ["d1", "d2", "d3", "{d1}x"];
    let read = |c: &mut redis::Connection| -> Vec<Vec<String>> {
        keys.iter()
            .map(|k| {
                redis::cmd("LRANGE")
                    .arg(*k)
                    .arg(0)
                    .arg(-1)
                    .query(c)
                    .expect("LRANGE")
            })
            .collect()
    };
    let before = read(&mut c);
    assert!(before[0].is_empty() && before[1].len() == 14, "{before:?}");
    drop(c);
    assert_eq!(s.stop(), Some(0));
    let dir = std::mem::take(&mut s.dir);
    for threads in ["3", "2"] {
        let args = ["--appendonly", "yes", "--server-threads", threads];
        let mut s2 = Server::start_in(free_port(), dir.clone(), &args).expect("restart");
        let mut c = s2.client();
        assert_eq!(
            read(&mut c),
            before,
            "after a restart with {threads} threads"
        );
        drop(c);
        assert_eq!(s2.stop(), Some(0));
        std::mem::take(&mut s2.dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sort_store_wakes_a_blocked_pop_as_redis() {
    // A list stored by SORT is a list write: a client blocked on the destination gets its head.
    let Some(redis) = Redis::start("sort_blpop") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", "2"]);
    let mut got = Vec::new();
    for port in [redis.port, slotd.port] {
        let url = format!("redis://127.0.0.1:{port}/");
        let client = redis::Client::open(url).expect("url");
        let mut c = client.get_connection().expect("connect");
        let _: i64 = redis::cmd("RPUSH")
            .arg("src")
            .arg(&[3, 1, 2])
            .query(&mut c)
            .unwrap();
        let waiter = std::thread::spawn(move || {
            let mut w = client.get_connection().expect("connect");
            let r: Vec<String> = redis::cmd("BLPOP").arg("dst").arg(5).query(&mut w).unwrap();
            r
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        let n: i64 = redis::cmd("SORT")
            .arg("src")
            .arg("DESC")
            .arg("STORE")
            .arg("dst")
            .query(&mut c)
            .unwrap();
        let popped = waiter.join().expect("waiter");
        let rest: Vec<String> = redis::cmd("LRANGE")
            .arg("dst")
            .arg(0)
            .arg(-1)
            .query(&mut c)
            .unwrap();
        got.push((n, popped, rest));
    }
    assert_eq!(got[1], got[0], "slotd vs redis");
    assert_eq!(got[0].1, vec!["dst".to_string(), "3".to_string()]);
}
