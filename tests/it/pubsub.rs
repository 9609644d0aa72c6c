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
