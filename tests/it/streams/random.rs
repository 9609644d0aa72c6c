//! Random sequences of stream commands (seeded, so a failure replays) on redis-server and on
//! slotd, one shard and three: every reply byte-equal. The generator favours small ID spaces,
//! so that IDs collide, groups meet deleted entries, claims move entries back and forth, and
//! explicit IDs are as often wrong as right.

use crate::common::{cmd, Raw, RedisServer as Redis, Server};
use crate::compare::read_reply;

/// xorshift64*: enough randomness, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One command line; `ms` is the clock the explicit IDs follow.
fn command(r: &mut Rng, ms: &mut u64) -> Vec<String> {
    let key = r.pick(&["s", "t"]).to_string();
    let group = r.pick(&["g", "h"]).to_string();
    let consumer = r.pick(&["c1", "c2", "c3"]).to_string();
    let top = *ms + 2;
    let id = |r: &mut Rng| -> String {
        match r.below(10) {
            0..=5 => format!("{}-{}", r.below(top + 1), r.below(4)),
            6 => r.below(top + 1).to_string(),
            7 => r.pick(&["-", "+", "0", "0-0"]).to_string(),
            _ => format!("({}-{}", r.below(top + 1), r.below(4)),
        }
    };
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut line = match r.below(21) {
        0..=4 => {
            *ms += r.below(2);
            let mut l = v(&["XADD", &key]);
            if r.chance(20) {
                l.extend(v(&["MAXLEN", r.pick(&["~", "="]), &r.below(6).to_string()]));
            } else if r.chance(10) {
                let t = id(r);
                l.extend(v(&["MINID", r.pick(&["~", "="]), &t]));
            }
            l.push(match r.below(3) {
                0 => format!("{}-*", ms),
                1 => format!("{}-{}", ms, r.below(6)),
                _ => id(r),
            });
            for _ in 0..1 + r.below(2) {
                l.extend(v(&["f", &r.below(10).to_string()]));
            }
            l
        }
        5 => {
            let mut l = v(&["XDEL", &key]);
            for _ in 0..1 + r.below(3) {
                l.push(id(r));
            }
            l
        }
        6 => {
            let start = if r.chance(50) {
                r.pick(&["0", "$"]).to_string()
            } else {
                id(r)
            };
            let mut l = v(&["XGROUP", "CREATE", &key, &group, &start]);
            if r.chance(50) {
                l.push("MKSTREAM".into());
            }
            l
        }
        7 => {
            let count = r.below(4).to_string();
            let mut l = v(&["XREADGROUP", "GROUP", &group, &consumer, "COUNT", &count]);
            if r.chance(20) {
                l.push("NOACK".into());
            }
            let from = if r.chance(60) { ">".to_string() } else { id(r) };
            l.extend(v(&["STREAMS", &key, &from]));
            l
        }
        8 => {
            let mut l = v(&["XACK", &key, &group]);
            for _ in 0..1 + r.below(3) {
                l.push(id(r));
            }
            l
        }
        9 => {
            let (a, b) = (id(r), id(r));
            let mut l = v(&["XCLAIM", &key, &group, &consumer, "0", &a, &b]);
            let last = id(r);
            l.extend(match r.below(6) {
                0 => v(&["JUSTID"]),
                1 => v(&["FORCE"]),
                2 => v(&["RETRYCOUNT", "7"]),
                3 => v(&["LASTID", &last]),
                4 => v(&["FORCE", "JUSTID"]),
                _ => vec![],
            });
            l
        }
        10 => {
            let (start, count) = (id(r), (1 + r.below(3)).to_string());
            let mut l = v(&[
                "XAUTOCLAIM",
                &key,
                &group,
                &consumer,
                "0",
                &start,
                "COUNT",
                &count,
            ]);
            if r.chance(50) {
                l.push("JUSTID".into());
            }
            l
        }
        11 => v(&["XPENDING", &key, &group]),
        12 => {
            let (a, b) = (id(r), id(r));
            let mut l = v(&["XRANGE", &key, &a, &b]);
            if r.chance(50) {
                l.extend(v(&["COUNT", &(r.below(5) as i64 - 1).to_string()]));
            }
            l
        }
        13 => {
            let (a, b) = (id(r), id(r));
            v(&["XREVRANGE", &key, &a, &b])
        }
        14 => v(&["XINFO", "STREAM", &key]),
        15 => v(&["XINFO", "GROUPS", &key]),
        16 => {
            let how = r.pick(&["MAXLEN", "MINID"]);
            let op = r.pick(&["=", "~"]);
            v(&["XTRIM", &key, how, op, &r.below(6).to_string()])
        }
        17 => {
            let sub = r.pick(&["SETID", "DESTROY", "DELCONSUMER", "CREATECONSUMER"]);
            let last = if r.chance(50) {
                id(r)
            } else {
                consumer.clone()
            };
            v(&["XGROUP", sub, &key, &group, &last])
        }
        18 => {
            let from = id(r);
            v(&[
                "XREAD",
                "COUNT",
                &r.below(4).to_string(),
                "STREAMS",
                &key,
                &from,
            ])
        }
        19 => {
            let to = id(r);
            v(&["XSETID", &key, &to])
        }
        _ => v(&["XLEN", &key]),
    };
    // XGROUP DESTROY takes no fifth argument.
    if line[0] == "XGROUP" && line[1] == "DESTROY" {
        line.pop();
    }
    line
}

fn run(extra: &[&str], seed: u64, commands: usize, hello3: bool) {
    let Some(redis) = Redis::start("streams-random") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(extra);
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    let mut both = |line: &[String]| {
        let refs: Vec<&[u8]> = line.iter().map(|s| s.as_bytes()).collect();
        let req = cmd(&refs);
        a.send(&req);
        b.send(&req);
        (read_reply(&mut a), read_reply(&mut b))
    };
    if hello3 {
        both(&["HELLO".to_string(), "3".to_string()]);
    }
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut ms = 1;
    for i in 0..commands {
        let line = command(&mut r, &mut ms);
        let (want, got) = both(&line);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "seed {seed}, command {i}: {}",
            line.join(" ")
        );
    }
}

#[test]
fn random_stream_commands_match_redis() {
    // Guards the interplay of every stream command (groups, PELs, deletes, trims, claims)
    // beyond the hand-written scripts.
    run(&[], 1, 2500, false);
    run(&[], 2, 2500, true);
    run(&["--server-threads", "3"], 3, 2500, false);
}
