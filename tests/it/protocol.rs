//! RESP edge cases over a raw socket: split frames, inline commands, pipelines, protocol
//! errors, size limits and many clients.

use crate::common::{cmd, Raw, Server};

#[test]
fn frames_split_byte_by_byte_are_parsed_once_whole() {
    // Guards the resumable parser against frames arriving one byte at a time.
    let s = Server::start(&[]);
    let mut r = s.raw();
    let set = cmd(&[b"SET", b"split", b"value"]);
    for b in &set {
        r.send(&[*b]);
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    assert_eq!(r.read_n(5), b"+OK\r\n");
    r.roundtrip(&cmd(&[b"GET", b"split"]), b"$5\r\nvalue\r\n");
}

#[test]
fn inline_commands_with_quotes() {
    // Guards inline parsing (telnet-style) including quoted arguments and escapes.
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
    r.roundtrip(b"set k \"a b\\n\"\r\n", b"+OK\r\n");
    r.roundtrip(b"get k\n", b"$4\r\na b\n\r\n");
    r.roundtrip(
        b"set k2 'it''s'\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    assert!(r.closed());
}

#[test]
fn pipeline_of_ten_thousand_commands_keeps_order() {
    // Guards reply ordering and batching with a deep pipeline in one write.
    let s = Server::start(&[]);
    let mut r = s.raw();
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 0..10_000 {
        let k = format!("key:{i}");
        let v = format!("val:{i}");
        req.extend(cmd(&[b"SET", k.as_bytes(), v.as_bytes()]));
        req.extend(cmd(&[b"GET", k.as_bytes()]));
        want.extend_from_slice(b"+OK\r\n");
        want.extend(format!("${}\r\n{v}\r\n", v.len()).into_bytes());
    }
    r.send(&req);
    let got = r.read_n(want.len());
    assert_eq!(got.len(), want.len());
    assert!(got == want, "replies out of order or wrong");
}

#[test]
fn protocol_errors_reply_and_close() {
    // Guards Redis' protocol error texts and the close that follows them.
    let s = Server::start(&["--proto-max-bulk-len", "1mb"]);
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*1\r\n+x\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"*1\r\n$2000000\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*x\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
    ];
    for (send, want) in cases {
        let mut r = s.raw();
        r.roundtrip(send, want);
        assert!(
            r.closed(),
            "connection closed after {:?}",
            String::from_utf8_lossy(send)
        );
    }
    let mut r = s.raw();
    r.send(&vec![b'a'; 70 * 1024]);
    assert_eq!(
        r.read_n(47),
        b"-ERR Protocol error: too big inline request\r\n".to_vec()
    );
    assert!(r.closed());
    // The server is still fine.
    s.raw().roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn unknown_command_and_arity_errors() {
    // Guards Redis' exact texts for unknown commands and wrong arity.
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.roundtrip(
        &cmd(&[b"NOPE", b"a", b"b"]),
        b"-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n",
    );
    r.roundtrip(
        &cmd(&[b"GET"]),
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    r.roundtrip(b"*0\r\nPING\r\n", b"+PONG\r\n");
}

#[test]
fn big_values_round_trip() {
    // Guards large bulks spanning many receive buffers, both directions.
    let s = Server::start(&[]);
    let mut c = s.client();
    let big: Vec<u8> = (0..8 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query(&mut c)
        .unwrap();
    let back: Vec<u8> = redis::cmd("GET").arg("big").query(&mut c).unwrap();
    assert!(back == big);
}

#[test]
fn query_buffer_limit_closes_the_client() {
    // Guards bounded memory: a client streaming past client-query-buffer-limit is dropped.
    let s = Server::start(&["--client-query-buffer-limit", "1mb"]);
    let mut r = s.raw();
    r.send(b"*2\r\n$3\r\nGET\r\n$3000000\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < 2_000_000 {
        if std::io::Write::write_all(&mut r.s, &chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    assert!(r.closed());
    s.raw().roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn maxclients_refuses_with_redis_error() {
    // Guards the maxclients limit and its error line.
    let s = Server::start(&["--maxclients", "3"]);
    // The start-up probe's connection may not be reaped yet: take the three slots one by one,
    // retrying until each is really ours.
    let mut held: Vec<Raw> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while held.len() < 3 {
        let mut r = s.raw();
        r.send(b"PING\r\n");
        if r.read_n(7) == b"+PONG\r\n" {
            held.push(r);
        } else {
            assert!(
                std::time::Instant::now() < deadline,
                "could not take 3 slots"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let mut extra = s.raw();
    assert_eq!(
        extra.read_n(37),
        b"-ERR max number of clients reached\r\n".to_vec()
    );
    drop(held);
    // The server frees the slots as it sees the hang-ups; allow it a moment under load.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut r = s.raw();
        r.send(b"PING\r\n");
        if r.read_n(7) == b"+PONG\r\n" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "slots never freed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn five_hundred_clients_at_once() {
    // Guards many concurrent connections spread over shards.
    let s = Server::start(&["--server-threads", "2"]);
    let mut conns: Vec<Raw> = (0..500).map(|_| s.raw()).collect();
    for (i, r) in conns.iter_mut().enumerate() {
        let k = format!("c{i}");
        r.send(&cmd(&[b"SET", k.as_bytes(), k.as_bytes()]));
    }
    for r in conns.iter_mut() {
        assert_eq!(r.read_n(5), b"+OK\r\n");
    }
    let mut c = s.client();
    let v: String = redis::cmd("GET").arg("c499").query(&mut c).unwrap();
    assert_eq!(v, "c499");
}

#[test]
fn quit_replies_ok_then_closes() {
    // Guards QUIT: the reply is flushed before the close.
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.send(b"PING\r\nQUIT\r\nPING\r\n");
    assert_eq!(r.read_n(12), b"+PONG\r\n+OK\r\n".to_vec());
    assert!(r.closed());
}

#[test]
fn databases_directive_bounds_select() {
    // Guards SELECT against `databases`: 0..N-1 exist, N is out of range.
    let s = Server::start(&["--databases", "4"]);
    let mut r = s.raw();
    r.roundtrip(&cmd(&[b"SELECT", b"0"]), b"+OK\r\n");
    r.roundtrip(&cmd(&[b"SELECT", b"3"]), b"+OK\r\n");
    r.roundtrip(
        &cmd(&[b"SELECT", b"4"]),
        b"-ERR DB index is out of range\r\n",
    );
}

#[test]
fn resp3_after_hello_3() {
    // Guards RESP3: HELLO 3 answers a map, then nulls and maps use RESP3 types.
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.send(&cmd(&[b"HELLO", b"3"]));
    let hello = r.read_until(b"modules\r\n*0\r\n");
    assert!(
        hello.starts_with(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{hello:?}"
    );
    r.roundtrip(&cmd(&[b"GET", b"missing"]), b"_\r\n");
    r.roundtrip(
        &cmd(&[b"CONFIG", b"GET", b"maxclients"]),
        b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n",
    );
    r.roundtrip(&cmd(&[b"HELLO", b"2", b"SETNAME", b"back"]), &[]);
    let rest = r.read_until(b"modules\r\n*0\r\n");
    assert!(rest.starts_with(b"*14\r\n"), "{rest:?}");
    r.roundtrip(&cmd(&[b"GET", b"missing"]), b"$-1\r\n");
    r.roundtrip(&cmd(&[b"CLIENT", b"GETNAME"]), b"$4\r\nback\r\n");
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    // Guards `timeout`: an idle client is disconnected; an active one is not.
    let s = Server::start(&["--timeout", "1"]);
    let mut idle = s.raw();
    idle.roundtrip(b"PING\r\n", b"+PONG\r\n");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(idle.closed(), "idle client closed");
    s.raw().roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn client_kill_reaches_clients_on_other_shards() {
    // Guards CLIENT KILL ID across cores: the victim's shard closes it.
    let s = Server::start(&["--server-threads", "3"]);
    let mut victims: Vec<Raw> = (0..6).map(|_| s.raw()).collect();
    let mut ids = Vec::new();
    for v in victims.iter_mut() {
        v.send(b"CLIENT ID\r\n");
        let line = v.read_until(b"\r\n");
        ids.push(String::from_utf8_lossy(&line[1..line.len() - 2]).to_string());
    }
    let mut admin = s.client();
    for id in &ids {
        let n: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query(&mut admin)
            .unwrap();
        assert_eq!(n, 1);
    }
    for v in victims.iter_mut() {
        assert!(v.closed(), "killed client closed");
    }
}
