//! The in-process shard harness for family tests: one shard, one client, commands in, RESP
//! replies out, with a settable clock. Also a small RESP reply decoder for assertions.

use crate::commands::AfterReply;
use crate::config::Config;
use crate::dispatch::{plan, run_line, Plan};
use crate::global::Global;
use crate::resp::Proto;
use crate::shard::{Client, Shard};

pub struct Harness {
    pub shard: Shard,
    pub client: usize,
    pub now_ms: u64,
    pub proto: Proto,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A standalone one-shard server with default configuration.
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    /// `new` with `enable-debug-command yes`, for tests that drive DEBUG.
    pub fn with_debug() -> Self {
        let mut cfg = Config::default();
        cfg.unimplemented
            .insert("enable-debug-command".into(), "yes".into());
        Self::with_config(cfg)
    }

    pub fn with_config(cfg: Config) -> Self {
        let global = Global::new(cfg, 1, None);
        let mut shard = Shard::new(0, 1, global);
        let client = shard.clients.insert(Client {
            id: 1,
            addr: "127.0.0.1:40000".into(),
            laddr: "127.0.0.1:6379".into(),
            authenticated: true,
            ..Default::default()
        });
        Harness {
            shard,
            client,
            now_ms: 1_700_000_000_000,
            proto: Proto::Resp2,
        }
    }

    /// Runs one command and returns the raw reply bytes.
    pub fn raw(&mut self, argv: &[&str]) -> Vec<u8> {
        let v: Vec<&[u8]> = argv.iter().map(|s| s.as_bytes()).collect();
        let proto = self.shard.clients.get_mut(self.client).proto;
        run_line(&mut self.shard, self.client, &v, proto, self.now_ms)
    }

    /// Runs one command line (binary arguments) as client `client` in `proto` and returns the
    /// raw reply bytes.
    pub fn raw_line(&mut self, client: usize, argv: &[&[u8]], proto: Proto) -> Vec<u8> {
        run_line(&mut self.shard, client, argv, proto, self.now_ms)
    }

    /// Runs a connection-level command and returns what the connection must do afterwards.
    pub fn after(&mut self, argv: &[&str]) -> AfterReply {
        let owned = crate::resp::OwnedArgs::from_slices(
            &argv.iter().map(|s| s.as_bytes()).collect::<Vec<_>>(),
        );
        let mut buf = Vec::new();
        let mut out = crate::resp::Out::new(&mut buf, Proto::Resp2);
        match plan(
            &mut self.shard,
            self.client,
            owned.args(),
            &mut out,
            self.now_ms,
        ) {
            Plan::Done(a) => a,
            _ => panic!("conn command"),
        }
    }

    /// Runs one command and decodes its reply.
    pub fn run(&mut self, argv: &[&str]) -> Reply {
        let raw = self.raw(argv);
        let (r, used) = Reply::decode(&raw).expect("a whole reply");
        assert_eq!(used, raw.len(), "exactly one reply for {argv:?}");
        r
    }

    pub fn advance_ms(&mut self, ms: u64) {
        self.now_ms += ms;
    }
}

/// A decoded RESP2/RESP3 reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(String),
    Bool(bool),
    Verbatim(String),
    Push(Vec<Reply>),
}

impl Reply {
    pub fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }
    pub fn err(s: &str) -> Reply {
        Reply::Error(s.into())
    }

    /// Decodes one reply; returns it and the bytes used, or None when incomplete/invalid.
    pub fn decode(b: &[u8]) -> Option<(Reply, usize)> {
        let line_end = memchr::memmem::find(b, b"\r\n")?;
        let line = std::str::from_utf8(&b[1..line_end]).ok()?;
        let next = line_end + 2;
        let tag = *b.first()?;
        let n = || line.parse::<i64>().ok();
        let many = |count: i64, mut pos: usize| -> Option<(Vec<Reply>, usize)> {
            let mut v = Vec::new();
            for _ in 0..count {
                let (r, used) = Reply::decode(&b[pos..])?;
                v.push(r);
                pos += used;
            }
            Some((v, pos))
        };
        Some(match tag {
            b'+' => (Reply::Simple(line.into()), next),
            b'-' => (Reply::Error(line.into()), next),
            b':' => (Reply::Int(n()?), next),
            b'_' => (Reply::Nil, next),
            b',' => (Reply::Double(line.into()), next),
            b'#' => (Reply::Bool(line == "t"), next),
            b'$' | b'=' => {
                let len = n()?;
                if len < 0 {
                    return Some((Reply::Nil, next));
                }
                let end = next + len as usize;
                if b.len() < end + 2 {
                    return None;
                }
                let data = b[next..end].to_vec();
                if tag == b'=' {
                    (
                        Reply::Verbatim(String::from_utf8_lossy(&data[4..]).into()),
                        end + 2,
                    )
                } else {
                    (Reply::Bulk(data), end + 2)
                }
            }
            b'*' | b'~' | b'>' => {
                let count = n()?;
                if count < 0 {
                    return Some((Reply::Nil, next));
                }
                let (v, pos) = many(count, next)?;
                let r = match tag {
                    b'*' => Reply::Array(v),
                    b'~' => Reply::Set(v),
                    _ => Reply::Push(v),
                };
                (r, pos)
            }
            b'%' => {
                let (v, pos) = many(n()? * 2, next)?;
                let mut it = v.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                (Reply::Map(pairs), pos)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_runs_set_get() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["SET", "k", "v"]), Reply::ok());
        assert_eq!(h.run(&["get", "k"]), Reply::bulk("v"));
        assert_eq!(h.run(&["GET", "nope"]), Reply::Nil);
        assert_eq!(
            h.run(&["GET"]),
            Reply::err("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            h.run(&["FOO", "a", "b"]),
            Reply::err("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")
        );
    }
}
