//! Several shards in one process (standalone mode): commands whose keys live on other cores,
//! multi-key commands spanning shards (atomic), fan-out commands, ordering.

use crate::common::{cmd, Server};
use redis::Commands;

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("key:{i}")).collect()
}

#[test]
fn multi_key_commands_span_shards_like_redis() {
    // Guards MSET/MGET/DEL/EXISTS results when keys hash to different shards.
    let s = Server::start(&["--server-threads", "4"]);
    let mut c = s.client();
    let ks = keys(64);
    let pairs: Vec<(String, String)> = ks.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
    let _: () = c.mset(&pairs).unwrap();
    let vals: Vec<Option<String>> = c.mget(&ks).unwrap();
    for (k, v) in ks.iter().zip(vals) {
        assert_eq!(v, Some(format!("v-{k}")));
    }
    let mut probe = ks[..10].to_vec();
    probe.push("missing".into());
    let n: usize = redis::cmd("EXISTS").arg(&probe).query(&mut c).unwrap();
    assert_eq!(n, 10);
    let n: usize = c.del(&ks[..32]).unwrap();
    assert_eq!(n, 32);
    let n: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 32);
    let ok: bool = redis::cmd("MSETNX")
        .arg("fresh1")
        .arg("1")
        .arg(&ks[40])
        .arg("x")
        .query(&mut c)
        .unwrap();
    assert!(!ok, "MSETNX fails when one key exists");
    let e: bool = c.exists("fresh1").unwrap();
    assert!(!e, "MSETNX set nothing");
}

#[test]
fn mset_is_atomic_across_shards() {
    // Guards isolation: a reader never sees half of an MSET that spans shards.
    let s = Server::start(&["--server-threads", "3"]);
    let ks = keys(12);
    let writer_keys = ks.clone();
    let port = s.port;
    let writer = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        for round in 0..300 {
            let pairs: Vec<(String, String)> = writer_keys
                .iter()
                .map(|k| (k.clone(), round.to_string()))
                .collect();
            let _: () = c.mset(&pairs).unwrap();
        }
    });
    let mut c = s.client();
    for _ in 0..300 {
        let vals: Vec<Option<String>> = c.mget(&ks).unwrap();
        let first = &vals[0];
        assert!(vals.iter().all(|v| v == first), "torn MSET seen: {vals:?}");
    }
    writer.join().unwrap();
}

#[test]
fn pipelined_replies_stay_in_order_across_shards() {
    // Guards reply order when consecutive commands run on different cores.
    let s = Server::start(&["--server-threads", "4"]);
    let mut r = s.raw();
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 0..5000 {
        let k = format!("o{i}");
        req.extend(cmd(&[b"SET", k.as_bytes(), k.as_bytes()]));
        req.extend(cmd(&[b"GET", k.as_bytes()]));
        req.extend(b"PING\r\n");
        want.extend_from_slice(b"+OK\r\n");
        want.extend(format!("${}\r\n{k}\r\n+PONG\r\n", k.len()).into_bytes());
    }
    r.send(&req);
    let got = r.read_n(want.len());
    if got != want {
        let at = got
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        let lo = at.saturating_sub(60);
        panic!(
            "order broken at byte {at} of {} (got {}): got {:?} want {:?}",
            want.len(),
            got.len(),
            String::from_utf8_lossy(&got[lo..(at + 60).min(got.len())]),
            String::from_utf8_lossy(&want[lo..(at + 60).min(want.len())])
        );
    }
}

#[test]
fn fan_out_commands_see_every_shard() {
    // Guards DBSIZE/KEYS/SCAN/FLUSHALL over all shards.
    let s = Server::start(&["--server-threads", "3"]);
    let mut c = s.client();
    for k in keys(300) {
        let _: () = c.set(&k, 1).unwrap();
    }
    let n: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 300);
    let all: Vec<String> = c.keys("key:*").unwrap();
    assert_eq!(all.len(), 300);
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(20)
            .query(&mut c)
            .unwrap();
        seen.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 300);
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    let n: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn watch_sees_writes_from_other_connections_and_shards() {
    // Guards WATCH: a write by another client (on any core) makes EXEC return nil; an
    // untouched WATCH lets EXEC run.
    let s = Server::start(&["--server-threads", "3"]);
    let mut a = s.client();
    let mut b = s.client();
    let _: () = a.set("w1", 1).unwrap();
    let _: () = redis::cmd("WATCH")
        .arg("w1")
        .arg("other")
        .query(&mut a)
        .unwrap();
    let _: () = b.set("w1", 2).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let _: () = redis::cmd("SET").arg("w1").arg(3).query(&mut a).unwrap();
    let r: redis::Value = redis::cmd("EXEC").query(&mut a).unwrap();
    assert_eq!(
        r,
        redis::Value::Nil,
        "EXEC aborted after a watched key changed"
    );
    let v: i64 = a.get("w1").unwrap();
    assert_eq!(v, 2);
    let _: () = redis::cmd("WATCH").arg("w1").query(&mut a).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let _: () = redis::cmd("SET").arg("w1").arg(4).query(&mut a).unwrap();
    let _: () = redis::cmd("INCR").arg("w1").query(&mut a).unwrap();
    let r: (String, i64) = redis::cmd("EXEC").query(&mut a).unwrap();
    assert_eq!(r, ("OK".to_string(), 5));
}

#[test]
fn exec_is_atomic_across_shards() {
    // Guards isolation: a transaction writing keys on several cores is never seen half done.
    let s = Server::start(&["--server-threads", "3"]);
    let ks = keys(9);
    let port = s.port;
    let wk = ks.clone();
    let writer = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        for round in 0..200 {
            let mut p = redis::pipe();
            p.atomic();
            for k in &wk {
                p.cmd("SET").arg(k).arg(round).ignore();
            }
            let _: () = p.query(&mut c).unwrap();
        }
    });
    let mut c = s.client();
    for _ in 0..200 {
        let mut p = redis::pipe();
        p.atomic();
        for k in &ks {
            p.cmd("GET").arg(k);
        }
        let vals: Vec<Option<String>> = p.query(&mut c).unwrap();
        assert!(
            vals.iter().all(|v| v == &vals[0]),
            "torn transaction seen: {vals:?}"
        );
    }
    writer.join().unwrap();
}

#[test]
fn watched_key_that_expires_aborts_exec() {
    // Guards WATCH and expiry: a watched key that expires counts as modified.
    let s = Server::start(&["--server-threads", "2"]);
    let mut c = s.client();
    let _: () = redis::cmd("SET")
        .arg("ttlw")
        .arg(1)
        .arg("PX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("WATCH").arg("ttlw").query(&mut c).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(250));
    let _: () = redis::cmd("MULTI").query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("x").arg(1).query(&mut c).unwrap();
    let r: redis::Value = redis::cmd("EXEC").query(&mut c).unwrap();
    assert_eq!(r, redis::Value::Nil);
}
