//! Pub/Sub with the real binary: subscribers on every core receive what is published on any
//! core, in RESP2 and RESP3 push form, patterns, counts, cleanup on disconnect.

use crate::common::{Raw, Server};
use std::time::Duration;

fn expect(r: &mut Raw, want: &[u8]) {
    let got = r.read_n(want.len());
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

#[test]
fn messages_reach_subscribers_on_every_core() {
    // Guards cross-core delivery, receiver counts and both push formats.
    let s = Server::start(&["--server-threads", "3"]);
    let mut subs: Vec<Raw> = Vec::new();
    for i in 0..6 {
        let mut r = s.raw();
        if i % 2 == 0 {
            r.send(b"HELLO 3\r\n");
            r.read_until(b"modules\r\n*0\r\n");
            r.send(b"SUBSCRIBE news\r\n");
            expect(&mut r, b">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
        } else {
            r.send(b"PSUBSCRIBE ne*\r\n");
            expect(&mut r, b"*3\r\n$10\r\npsubscribe\r\n$3\r\nne*\r\n:1\r\n");
        }
        subs.push(r);
    }
    let mut c = s.client();
    let n: i64 = redis::cmd("PUBLISH")
        .arg("news")
        .arg("hello")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 6);
    for (i, r) in subs.iter_mut().enumerate() {
        if i % 2 == 0 {
            expect(r, b">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
        } else {
            expect(
                r,
                b"*4\r\n$8\r\npmessage\r\n$3\r\nne*\r\n$4\r\nnews\r\n$5\r\nhello\r\n",
            );
        }
    }
    let numsub: Vec<redis::Value> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("news")
        .query(&mut c)
        .unwrap();
    assert_eq!(numsub[1], redis::Value::Int(3));
    let numpat: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c).unwrap();
    assert_eq!(numpat, 1);
    drop(subs);
    std::thread::sleep(Duration::from_millis(300));
    let n: i64 = redis::cmd("PUBLISH")
        .arg("news")
        .arg("again")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 0, "subscriptions of closed clients are gone");
}

#[test]
fn subscribed_resp2_clients_are_limited_like_redis() {
    // Guards the subscribed context: other commands refused, PING answered as an array.
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.send(b"SUBSCRIBE a\r\nGET x\r\nPING\r\nUNSUBSCRIBE\r\nGET x\r\n");
    let mut want = b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n".to_vec();
    want.extend_from_slice(
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    want.extend_from_slice(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    want.extend_from_slice(b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n$-1\r\n");
    expect(&mut r, &want);
}

#[test]
fn shard_channels_match_redis_in_standalone_mode() {
    // Guards SSUBSCRIBE/SUNSUBSCRIBE/SPUBLISH replies byte for byte against redis-server.
    crate::compare::same_replies(&[
        "SSUBSCRIBE a",
        "SSUBSCRIBE a",
        "SUBSCRIBE c",
        "SUNSUBSCRIBE zz",
        "GET x",
        "PING",
        "SPUBLISH a x",
        "UNSUBSCRIBE c",
        "SUNSUBSCRIBE a",
        "SUNSUBSCRIBE",
        "SPUBLISH a x",
        "SSUBSCRIBE",
        "SPUBLISH a",
        "PUBSUB SHARDNUMSUB a b",
        "PUBSUB SHARDCHANNELS",
    ]);
}

#[test]
fn smessages_reach_shard_subscribers_on_every_core() {
    // Guards SPUBLISH delivery across cores in both protocols, apart from plain channels.
    let s = Server::start(&["--server-threads", "3"]);
    let mut subs: Vec<Raw> = Vec::new();
    for i in 0..4 {
        let mut r = s.raw();
        if i % 2 == 0 {
            r.send(b"HELLO 3\r\n");
            r.read_until(b"modules\r\n*0\r\n");
            r.send(b"SSUBSCRIBE a b\r\n");
            let want = [
                &b">3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n"[..],
                b">3\r\n$10\r\nssubscribe\r\n$1\r\nb\r\n:2\r\n",
            ];
            expect(&mut r, &want.concat());
        } else {
            r.send(b"SSUBSCRIBE a\r\nSUBSCRIBE a\r\n");
            let want = [
                &b"*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n"[..],
                b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
            ];
            expect(&mut r, &want.concat());
        }
        subs.push(r);
    }
    let mut p = s.raw();
    p.send(b"SPUBLISH a hi\r\nPUBLISH a yo\r\nPUBSUB SHARDNUMSUB a b\r\n");
    expect(
        &mut p,
        b":4\r\n:2\r\n*4\r\n$1\r\na\r\n:4\r\n$1\r\nb\r\n:2\r\n",
    );
    for (i, r) in subs.iter_mut().enumerate() {
        if i % 2 == 0 {
            expect(r, b">3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
        } else {
            let want = [
                &b"*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"[..],
                b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nyo\r\n",
            ];
            expect(r, &want.concat());
        }
    }
    drop(subs);
    std::thread::sleep(Duration::from_millis(300));
    p.send(b"SPUBLISH a again\r\n");
    expect(&mut p, b":0\r\n");
}

fn cluster_node() -> Server {
    let s = Server::start(&[
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--server-threads",
        "2",
    ]);
    assert_eq!(
        s.cli(&["cluster", "addslotsrange", "0", "16383"]).trim(),
        "OK"
    );
    s
}

#[test]
fn shard_channels_in_cluster_mode() {
    // Guards slot rules for shard channels (CROSSSLOT, unserved slot) and delivery, with the
    // bytes redis-server 7.0 sends in cluster mode.
    let s = cluster_node();
    let mut a = s.raw();
    // "a" and "{a}x" share slot 15495; "b" is elsewhere.
    a.send(b"SSUBSCRIBE a b\r\nSSUBSCRIBE a {a}x\r\nSSUBSCRIBE foo\r\n");
    let mut want = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n".to_vec();
    want.extend_from_slice(b"*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n");
    want.extend_from_slice(b"*3\r\n$10\r\nssubscribe\r\n$4\r\n{a}x\r\n:2\r\n");
    want.extend_from_slice(b"*3\r\n$10\r\nssubscribe\r\n$3\r\nfoo\r\n:3\r\n");
    expect(&mut a, &want);
    let mut p = s.raw();
    p.send(b"SPUBLISH a hi\r\n");
    expect(&mut p, b":1\r\n");
    expect(&mut a, b"*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
    // Losing the slot unsubscribes its channels, sorted, with the remaining counts.
    assert_eq!(s.cli(&["cluster", "delslots", "15495"]).trim(), "OK");
    let mut want = b"*3\r\n$12\r\nsunsubscribe\r\n$1\r\na\r\n:2\r\n".to_vec();
    want.extend_from_slice(b"*3\r\n$12\r\nsunsubscribe\r\n$4\r\n{a}x\r\n:1\r\n");
    expect(&mut a, &want);
    p.send(b"SPUBLISH a hi\r\nSPUBLISH foo z\r\nPUBSUB SHARDCHANNELS\r\n");
    let mut want = b"-CLUSTERDOWN Hash slot not served\r\n:1\r\n".to_vec();
    want.extend_from_slice(b"*1\r\n$3\r\nfoo\r\n");
    expect(&mut p, &want);
    expect(&mut a, b"*3\r\n$8\r\nsmessage\r\n$3\r\nfoo\r\n$1\r\nz\r\n");
    a.send(b"SSUBSCRIBE a\r\nSUNSUBSCRIBE a\r\nSUNSUBSCRIBE\r\n");
    let mut want = b"-CLUSTERDOWN Hash slot not served\r\n".repeat(2);
    want.extend_from_slice(b"*3\r\n$12\r\nsunsubscribe\r\n$3\r\nfoo\r\n:0\r\n");
    expect(&mut a, &want);
}

#[test]
fn shard_channels_in_cluster_mode_resp3() {
    // Guards the RESP3 form of the slot-loss unsubscribe push.
    let s = cluster_node();
    let mut a = s.raw();
    a.send(b"HELLO 3\r\n");
    a.read_until(b"modules\r\n*0\r\n");
    a.send(b"SSUBSCRIBE foo\r\n");
    expect(&mut a, b">3\r\n$10\r\nssubscribe\r\n$3\r\nfoo\r\n:1\r\n");
    assert_eq!(s.cli(&["cluster", "delslots", "12182"]).trim(), "OK");
    expect(&mut a, b">3\r\n$12\r\nsunsubscribe\r\n$3\r\nfoo\r\n:0\r\n");
    a.send(b"SSUBSCRIBE foo\r\n");
    expect(&mut a, b"-CLUSTERDOWN Hash slot not served\r\n");
}
