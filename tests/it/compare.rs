//! The same command scripts against Debian's redis-server 7.0 and slotd: replies must be
//! byte-identical. Skipped (with a message) only when redis-server is not installed.

use crate::common::{cmd, free_port, test_dir, Raw, Server};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start() -> Option<Redis> {
        let port = free_port();
        let dir = test_dir("redis");
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir", &dir.display().to_string()])
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Redis { port, child });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one whole RESP reply from a raw connection.
fn read_reply(r: &mut Raw) -> Vec<u8> {
    let mut buf = Vec::new();
    loop {
        if let Some(n) = reply_len(&buf) {
            assert_eq!(n, buf.len(), "one reply at a time");
            return buf;
        }
        let more = r.read_n(1);
        if more.is_empty() {
            return buf;
        }
        buf.extend(more);
    }
}

fn reply_len(b: &[u8]) -> Option<usize> {
    let end = b.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&b[1..end]).ok()?;
    let next = end + 2;
    match b.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' => Some(next),
        b'$' | b'=' => {
            let n: i64 = line.parse().ok()?;
            if n < 0 {
                return Some(next);
            }
            let total = next + n as usize + 2;
            (b.len() >= total).then_some(total)
        }
        b'*' | b'~' | b'%' | b'>' => {
            let mut n: i64 = line.parse().ok()?;
            if b[0] == b'%' {
                n *= 2;
            }
            let mut pos = next;
            for _ in 0..n.max(0) {
                pos += reply_len(&b[pos..])?;
            }
            Some(pos)
        }
        _ => None,
    }
}

/// Runs each line (split on spaces; `\s` stands for a space inside an argument) on both
/// servers and asserts equal replies.
pub fn same_replies(script: &[&str]) {
    let Some(redis) = Redis::start() else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    for line in script {
        let parts: Vec<Vec<u8>> = line
            .split(' ')
            .map(|p| p.replace("\\s", " ").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
        let req = cmd(&refs);
        a.send(&req);
        b.send(&req);
        let ra = read_reply(&mut a);
        let rb = read_reply(&mut b);
        assert_eq!(
            String::from_utf8_lossy(&rb),
            String::from_utf8_lossy(&ra),
            "slotd vs redis for `{line}`"
        );
    }
}

#[test]
fn strings_match_redis() {
    // Guards string replies and error texts against the real thing.
    same_replies(&[
        "SET k v",
        "GET k",
        "GET nokey",
        "SET k v NX",
        "SET k v2 XX GET",
        "SET k v EX 0",
        "SET k v EX -1",
        "SET k v PX 100 EX 10",
        "SET k v KEEPTTL EX 10",
        "SET n 10",
        "INCR n",
        "INCRBY n -20",
        "DECRBY n 9223372036854775807",
        "INCR k",
        "INCRBYFLOAT f 10.5",
        "INCRBYFLOAT f 0.1",
        "INCRBYFLOAT f abc",
        "APPEND k 123",
        "STRLEN k",
        "GETRANGE k 0 -2",
        "GETRANGE k -100 100",
        "SETRANGE k 10 xyz",
        "GET k",
        "SETRANGE k -1 x",
        "MSET a 1 b 2 c 3",
        "MGET a b c nokey",
        "MSETNX a 1 z 2",
        "MSET a",
        "GETDEL a",
        "GETDEL a",
        "GETEX b PERSIST",
        "GETEX b EX 100 PX 100",
        "SETNX b 3",
        "SETEX b 0 v",
        "PSETEX b 1000 v",
        "GETSET b new",
        "LCS nokey1 nokey2",
        "SET l1 ohmytext",
        "SET l2 mynewtext",
        "LCS l1 l2",
        "LCS l1 l2 LEN",
        "LCS l1 l2 IDX MINMATCHLEN 2 WITHMATCHLEN",
        "SUBSTR l1 0 3",
    ]);
}

#[test]
fn keys_match_redis() {
    // Guards generic key command replies and error texts against the real thing.
    same_replies(&[
        "SET a 1",
        "SET b 2",
        "EXISTS a b nokey a",
        "TYPE a",
        "TYPE nokey",
        "EXPIRE a 100",
        "TTL a",
        "EXPIRE a 100 NX",
        "EXPIRE a 50 GT",
        "EXPIRE a 200 GT",
        "EXPIRE a 100 NX XX",
        "EXPIRE a abc",
        "EXPIRE a 9223372036854775807",
        "PERSIST a",
        "TTL a",
        "PTTL nokey",
        "EXPIRETIME b",
        "RENAME a c",
        "RENAME nokey d",
        "RENAMENX b c",
        "COPY c d",
        "COPY c d",
        "COPY c d REPLACE",
        "TOUCH c d nokey",
        "DEL c d nokey",
        "UNLINK b",
        "DBSIZE",
        "OBJECT ENCODING nokey",
        "SET i 12345",
        "OBJECT ENCODING i",
        "SET s hello",
        "OBJECT ENCODING s",
        "OBJECT FREQ s",
        "OBJECT nosuch",
        "FLUSHALL",
        "DBSIZE",
        "RANDOMKEY",
        "KEYS *",
    ]);
}

#[test]
fn server_commands_match_redis() {
    // Guards connection/server command replies that have no volatile fields.
    same_replies(&[
        "PING",
        "PING hello",
        "PING a b",
        "ECHO hi",
        "ECHO",
        "SELECT 0",
        "SELECT x",
        "CLIENT SETNAME my\\sname",
        "CLIENT SETNAME myname",
        "CLIENT GETNAME",
        "CLIENT NO-EVICT on",
        "CLIENT NO-EVICT maybe",
        "CLIENT nosuch",
        "CONFIG GET maxclients",
        "CONFIG GET nosuchparam",
        "CONFIG SET maxclients abc",
        "CONFIG SET nosuch 1",
        "CONFIG GET timeout",
        "COMMAND COUNTX",
        "AUTH foo",
        "HELLO 4",
    ]);
}

#[test]
fn transactions_match_redis() {
    // Guards MULTI/EXEC/DISCARD replies, queued errors and EXECABORT against the real thing.
    same_replies(&[
        "EXEC",
        "DISCARD",
        "MULTI",
        "MULTI",
        "SET a 1",
        "INCR a",
        "GET a",
        "LPUSH a x",
        "EXEC",
        "MULTI",
        "SET b 2",
        "DISCARD",
        "GET b",
        "MULTI",
        "SET c 3",
        "NOSUCHCMD",
        "GET",
        "EXEC",
        "GET c",
        "WATCH w",
        "MULTI",
        "WATCH x",
        "SET w 1",
        "EXEC",
        "UNWATCH",
        "MULTI",
        "PING",
        "ECHO hi",
        "EXEC",
    ]);
}
