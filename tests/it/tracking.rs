//! Issue 17, client-side caching: CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO and the
//! invalidation messages, side by side with redis-server 7.0 byte for byte. slotd runs with
//! several shards so readers, writers and keys sit on different cores.

use crate::common::{cmd, RedisServer, Server};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Several named connections to one server; every step's output is what the connections
/// received up to a PING that follows it.
struct Session {
    port: u16,
    conns: HashMap<String, TcpStream>,
    ids: HashMap<String, String>,
}

impl Session {
    fn new(port: u16) -> Session {
        Session {
            port,
            conns: HashMap::new(),
            ids: HashMap::new(),
        }
    }

    fn conn(&mut self, name: &str) -> &mut TcpStream {
        if !self.conns.contains_key(name) {
            let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.set_nodelay(true).unwrap();
            s.write_all(&cmd(&[b"CLIENT", b"ID"])).unwrap();
            let id = read_until_any(&mut s, &[b"\r\n"]);
            let id = String::from_utf8_lossy(&id[1..id.len() - 2]).into_owned();
            self.ids.insert(name.to_string(), id);
            self.conns.insert(name.to_string(), s);
        }
        self.conns.get_mut(name).expect("inserted")
    }

    /// Runs `line` ("name: ARGS..."; `{id:x}` is connection x's id; ` | ` separates commands
    /// sent as one pipeline) and returns what every connection received since, ids written
    /// back as `{id:x}`.
    fn step(&mut self, line: &str) -> String {
        let (name, rest) = line.split_once(": ").expect("name: command");
        self.conn(name);
        if rest == "CLOSE" {
            self.conns.remove(name);
            // Let the server notice the close (bounded, short).
            std::thread::sleep(Duration::from_millis(50));
            return String::new();
        }
        let mut wire = Vec::new();
        for one in rest.split(" | ") {
            let mut args: Vec<String> = one.split(' ').map(str::to_string).collect();
            for a in args.iter_mut() {
                for (n, id) in &self.ids {
                    *a = a.replace(&format!("{{id:{n}}}"), id);
                }
            }
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            wire.extend_from_slice(&cmd(&argv));
        }
        self.conn(name).write_all(&wire).unwrap();
        // Let other cores deliver what the command caused (bounded, short).
        std::thread::sleep(Duration::from_millis(15));
        let mut names: Vec<String> = self.conns.keys().cloned().collect();
        names.sort();
        // The sender's replies first: its core queued any invalidation for another core
        // before it wrote them, and a core drains those messages before it reads its next
        // command, so the PINGs below come after them even on a loaded machine.
        let mut got_by_name = HashMap::new();
        let s = self.conns.get_mut(name).unwrap();
        s.write_all(&cmd(&[b"PING", b"sync"])).unwrap();
        got_by_name.insert(name.to_string(), read_until_any(s, &[b"$4\r\nsync\r\n"]));
        let mut out = String::new();
        for n in names {
            let got = match got_by_name.remove(&n) {
                Some(got) => got,
                None => {
                    let s = self.conns.get_mut(&n).unwrap();
                    s.write_all(&cmd(&[b"PING", b"sync"])).unwrap();
                    read_until_any(s, &[b"$4\r\nsync\r\n"])
                }
            };
            let got = &got[..got.len() - b"$4\r\nsync\r\n".len()];
            // The PING reply's header: a bulk (or a pong array when subscribed in RESP2).
            let got = got.strip_suffix(b"*2\r\n$4\r\npong\r\n").unwrap_or(got);
            if !got.is_empty() {
                out.push_str(&format!("[{n}] {}\n", String::from_utf8_lossy(got)));
            }
        }
        for (n, id) in &self.ids {
            for lead in ["\r\n", "] "] {
                let from = format!("{lead}:{id}\r\n");
                out = out.replace(&from, &format!("{lead}:{{id:{n}}}\r\n"));
            }
        }
        out
    }
}

fn read_until_any(s: &mut TcpStream, ends: &[&[u8]]) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !ends.iter().any(|e| out.ends_with(e)) && Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Runs `steps` on slotd (4 shards) and on redis-server and compares every step's output.
fn compare(steps: &[&str]) {
    let Some(redis) = RedisServer::start("tracking") else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", "4"]);
    let mut a = Session::new(redis.port);
    let mut b = Session::new(slotd.port);
    for line in steps {
        // `!`: run on both, output not compared (HELLO shows each server's own identity).
        let (line, checked) = match line.strip_prefix('!') {
            Some(l) => (l, false),
            None => (*line, true),
        };
        let (want, got) = (a.step(line), b.step(line));
        if checked {
            assert_eq!(got, want, "step `{line}`: slotd vs redis-server");
        }
    }
}

// Guards the default mode: reads remembered on any core, writes on any core invalidate them,
// the writer's own invalidation follows its reply, FLUSHALL sends the null.
#[test]
fn default_mode_invalidations_match_redis() {
    compare(&[
        "!a: HELLO 3",
        "a: CLIENT TRACKING ON",
        "b: MSET k1 v k2 v k3 v k4 v",
        "a: GET k1",
        "a: MGET k2 k3",
        "a: STRLEN k4",
        "b: SET k1 x",
        "b: DEL k2",
        "b: SET k4 y",
        "b: SET k4 z",
        "a: GET k1",
        "a: SET k1 y",
        "a: CLIENT TRACKINGINFO",
        "a: CLIENT GETREDIR",
        "a: GET k3",
        "b: FLUSHALL",
        "b: SET k3 1",
        // A script's reads count for its caller.
        "a: EVAL return(redis.call('GET',KEYS[1])) 1 k3",
        "b: SET k3 5",
        "a: CLIENT TRACKING OFF",
        "a: CLIENT TRACKINGINFO",
        "a: GET k3",
        "b: SET k3 2",
    ]);
}

// Guards OPTIN/OPTOUT with CLIENT CACHING, rueidis' start-up (HELLO 3 and CLIENT TRACKING ON
// OPTIN in one pipeline is the same bytes) and its cached read: CACHING YES, MULTI, PTTL, GET,
// EXEC; and NOLOOP.
#[test]
fn optin_optout_noloop_match_redis() {
    compare(&[
        // rueidis' start-up: both in one pipeline (HELLO shows each server's identity).
        "!a: HELLO 3 | CLIENT TRACKING ON OPTIN",
        "a: CLIENT TRACKINGINFO",
        "b: SET k1 v",
        "a: GET k1",
        "b: SET k1 w",
        "a: CLIENT CACHING YES",
        "a: CLIENT TRACKINGINFO",
        "a: GET k1",
        "a: GET k1",
        "b: SET k1 x",
        "a: CLIENT CACHING YES | MULTI | PTTL k1 | GET k1 | EXEC",
        "b: SET k1 y",
        "a: CLIENT TRACKING OFF",
        "a: CLIENT TRACKING ON OPTOUT",
        "a: CLIENT CACHING NO",
        "a: GET k1",
        "b: SET k1 z",
        "a: GET k1",
        "b: SET k1 z2",
        "a: CLIENT TRACKING OFF",
        "a: CLIENT TRACKING ON NOLOOP",
        "a: GET k1",
        "a: SET k1 1",
        "b: SET k1 2",
        "a: GET k1",
        "b: SET k1 3",
        "a: CLIENT TRACKINGINFO",
    ]);
}

// Guards BCAST with prefixes (the empty prefix included) and the RESP2 redirection through
// `__redis__:invalidate`, FLUSHALL's null there, and a broken redirect.
#[test]
fn bcast_and_redirect_match_redis() {
    compare(&[
        "!a: HELLO 3",
        "a: CLIENT TRACKING ON BCAST PREFIX user: PREFIX obj:",
        "a: CLIENT TRACKINGINFO",
        "b: SET user:1 a",
        "b: SET obj:2 b",
        "b: SET other c",
        "a: SET user:2 self",
        "a: CLIENT TRACKING ON BCAST",
        "a: CLIENT TRACKINGINFO",
        "b: SET other d",
        "a: CLIENT TRACKING OFF",
        "a: CLIENT TRACKING ON BCAST NOLOOP PREFIX x",
        "a: SET x1 1",
        "b: SET x2 1",
        "a: CLIENT TRACKING OFF",
        "r: SUBSCRIBE __redis__:invalidate",
        "c: CLIENT TRACKING ON REDIRECT {id:r}",
        "c: CLIENT GETREDIR",
        "c: GET k9",
        "b: SET k9 1",
        "b: FLUSHALL",
        "!d: HELLO 3",
        "e: CLIENT ID",
        "d: CLIENT TRACKING ON REDIRECT {id:e}",
        "d: GET k8",
        "e: CLOSE",
        "b: SET k8 1",
        "d: CLIENT TRACKINGINFO",
    ]);
}

// Guards every refusal text and the argument checks against Redis'.
#[test]
fn errors_match_redis() {
    compare(&[
        "!a: HELLO 3",
        "a: CLIENT TRACKING",
        "a: CLIENT TRACKING MAYBE",
        "a: CLIENT TRACKING ON FOO",
        "a: CLIENT TRACKING ON PREFIX a",
        "a: CLIENT TRACKING ON REDIRECT x",
        "a: CLIENT TRACKING ON REDIRECT 99999",
        "a: CLIENT TRACKING ON OPTIN OPTOUT",
        "a: CLIENT TRACKING ON BCAST OPTIN",
        "a: CLIENT TRACKING ON BCAST PREFIX c PREFIX cd",
        "a: CLIENT CACHING YES",
        "a: CLIENT CACHING MAYBE",
        "a: CLIENT GETREDIR",
        "a: CLIENT TRACKINGINFO",
        "a: CLIENT TRACKING ON OPTIN",
        "a: CLIENT CACHING NO",
        "a: CLIENT CACHING MAYBE",
        "a: CLIENT CACHING YES X",
        "a: CLIENT TRACKING ON OPTOUT",
        "a: CLIENT TRACKING ON BCAST",
        "a: CLIENT TRACKING OFF",
        "a: CLIENT TRACKING ON BCAST PREFIX a",
        "a: CLIENT TRACKING ON BCAST PREFIX ab",
        "a: CLIENT TRACKING ON BCAST PREFIX b",
        "a: CLIENT TRACKINGINFO",
    ]);
}

/// One INFO field of `port`.
fn info_field(port: u16, section: &str, field: &str) -> String {
    let text = crate::common::cli(port, &["INFO", section]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

// Guards the INFO counters and `tracking-table-max-keys`: past the limit a tracked key is
// invalidated (which one is random, as in Redis).
#[test]
fn info_counters_and_table_limit() {
    let slotd = Server::start(&["--server-threads", "4"]);
    let mut s = Session::new(slotd.port);
    s.step("a: HELLO 3");
    s.step("a: CLIENT TRACKING ON");
    s.step("p: CLIENT TRACKING ON BCAST PREFIX x PREFIX y");
    s.step("b: MSET k1 1 k2 2 k3 3");
    s.step("a: MGET k1 k2 k3");
    s.step("b: GET k1");
    let f = |sec: &str, name: &str| info_field(slotd.port, sec, name);
    assert_eq!(f("clients", "tracking_clients"), "2");
    assert_eq!(f("stats", "tracking_total_keys"), "3");
    assert_eq!(f("stats", "tracking_total_items"), "3");
    assert_eq!(f("stats", "tracking_total_prefixes"), "2");
    // CLIENT LIST shows the tracking flags and the redirect as Redis does.
    let list = crate::common::cli(slotd.port, &["CLIENT", "LIST"]);
    assert!(
        list.contains(" flags=t db=") && list.contains(" flags=tB db="),
        "{list}"
    );
    assert!(
        list.contains(" redir=0 ") && list.contains(" redir=-1 "),
        "{list}"
    );
    // The cron may run while this step syncs the connections: what `a` got then counts too.
    let during = s.step("b: CONFIG SET tracking-table-max-keys 1");
    // The shards' cron enforces the new limit: two of the three keys are invalidated. They
    // come when the cron runs, so `a` is read as a plain stream here.
    let sa = s.conns.get_mut("a").expect("a");
    sa.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = during.into_bytes();
    let mut buf = [0u8; 4096];
    let count = |b: &[u8]| String::from_utf8_lossy(b).matches("invalidate").count();
    // Past two, a little longer: a third would be one too many.
    let mut quiet_until = None;
    while Instant::now() < deadline && quiet_until.is_none_or(|q| Instant::now() < q) {
        if let Ok(n) = sa.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
        }
        if count(&seen) >= 2 && quiet_until.is_none() {
            quiet_until = Some(Instant::now() + Duration::from_millis(300));
        }
    }
    assert_eq!(count(&seen), 2, "{}", String::from_utf8_lossy(&seen));
    assert_eq!(f("stats", "tracking_total_keys"), "1");
    s.step("a: CLOSE");
    s.step("p: CLOSE");
    let deadline = Instant::now() + Duration::from_secs(5);
    while f("clients", "tracking_clients") != "0" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(f("clients", "tracking_clients"), "0");
    assert_eq!(f("stats", "tracking_total_prefixes"), "0");
}
