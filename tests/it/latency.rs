//! LATENCY (the monitor's events, HISTOGRAM, HELP, DOCTOR) and INFO latencystats side by
//! side with redis-server 7.0. Latencies themselves differ between the two servers, so the
//! comparison is of shapes, names and texts; exact texts where they do not depend on time.
//! Also the DEBUG subcommands latency and expiry tooling uses (SET-ACTIVE-EXPIRE).

use crate::common::{cmd, Raw};
use crate::common::{RedisServer as Redis, Server};
use crate::compare::same_reply;
use crate::slowlog::run;

fn text(v: redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        redis::Value::VerbatimString { text, .. } => text,
        other => panic!("not a string: {other:?}"),
    }
}

fn both(tag: &str) -> Option<(Redis, Server)> {
    let Some(redis) = Redis::start_with(tag, &["--enable-debug-command", "yes"]) else {
        eprintln!("redis-server not installed: comparison skipped");
        return None;
    };
    Some((redis, Server::start(&["--enable-debug-command", "yes"])))
}

#[test]
fn latency_texts_match_redis() {
    // Guards the replies that do not depend on timing: HELP, errors, an empty monitor,
    // DOCTOR while the monitor is off, RESET counts, HISTOGRAM of unknown commands.
    let Some((redis, slotd)) = both("latency_texts") else {
        return;
    };
    let (mut a, mut b) = (Raw::connect(redis.port), slotd.raw());
    for line in [
        &["LATENCY", "HELP"][..],
        &["LATENCY", "DOCTOR"],
        &["LATENCY", "LATEST"],
        &["LATENCY", "HISTORY", "command"],
        &["LATENCY", "GRAPH", "command"],
        &["LATENCY", "RESET"],
        &["LATENCY", "RESET", "command", "nope"],
        &["LATENCY", "HISTORY"],
        &["LATENCY", "FOO"],
        &["LATENCY", "HISTOGRAM", "nosuchcommand"],
        &["CONFIG", "SET", "latency-monitor-threshold", "200"],
        &["LATENCY", "DOCTOR"],
        &["CONFIG", "GET", "latency-monitor-threshold"],
    ] {
        let parts: Vec<&[u8]> = line.iter().map(|s| s.as_bytes()).collect();
        same_reply(&mut a, &mut b, &cmd(&parts), &line.join(" "));
    }
}

#[test]
fn a_slow_command_is_an_event_as_in_redis() {
    // Guards the monitor: a command at or above the threshold is a `command` event in
    // LATEST, HISTORY, GRAPH and DOCTOR; a fast one is not; RESET forgets it.
    let Some((redis, slotd)) = both("latency_event") else {
        return;
    };
    let (mut r, mut s) = (redis.client(), slotd.client());
    for c in [&mut r, &mut s] {
        run(c, &["CONFIG", "SET", "latency-monitor-threshold", "40"]);
        run(c, &["SET", "k", "v"]);
        run(c, &["DEBUG", "SLEEP", "0.05"]);
        let redis::Value::Array(latest) = run(c, &["LATENCY", "LATEST"]) else {
            panic!("LATEST")
        };
        assert_eq!(latest.len(), 1, "{latest:?}");
        let redis::Value::Array(e) = &latest[0] else {
            panic!()
        };
        assert_eq!(e[0], redis::Value::BulkString(b"command".to_vec()));
        let (redis::Value::Int(ms), redis::Value::Int(max)) = (&e[2], &e[3]) else {
            panic!("{e:?}")
        };
        assert!(*ms >= 50 && max == ms, "{e:?}");
        let redis::Value::Array(h) = run(c, &["LATENCY", "HISTORY", "command"]) else {
            panic!()
        };
        assert_eq!(h.len(), 1);
        let g = text(run(c, &["LATENCY", "GRAPH", "command"]));
        let lines: Vec<&str> = g.lines().collect();
        assert!(lines[0].starts_with(&format!("command - high {ms} ms, low {ms} ms")));
        assert_eq!(lines[1], "-".repeat(80));
        assert_eq!(lines[2..7], [" ", " ", " ", "_", " "], "{g}");
        let d = text(run(c, &["LATENCY", "DOCTOR"]));
        assert!(
            d.contains("\n\n1. command: 1 latency spikes (average "),
            "{d}"
        );
        assert!(
            d.contains("\n\nI have a few advices for you:\n\n- Check your Slow Log"),
            "{d}"
        );
        assert_eq!(run(c, &["LATENCY", "RESET"]), redis::Value::Int(1));
        assert_eq!(run(c, &["LATENCY", "LATEST"]), redis::Value::Array(vec![]));
    }
}

/// LATENCY HISTOGRAM as (command, calls, bucket count > 0, buckets ascending).
fn histogram(c: &mut redis::Connection, args: &[&str]) -> Vec<(String, i64)> {
    let mut line = vec!["LATENCY", "HISTOGRAM"];
    line.extend_from_slice(args);
    let redis::Value::Array(flat) = run(c, &line) else {
        panic!("HISTOGRAM")
    };
    flat.chunks(2)
        .map(|kv| {
            let name = text(kv[0].clone());
            let redis::Value::Array(m) = &kv[1] else {
                panic!("{kv:?}")
            };
            assert_eq!(m[0], redis::Value::BulkString(b"calls".to_vec()));
            assert_eq!(m[2], redis::Value::BulkString(b"histogram_usec".to_vec()));
            let redis::Value::Int(calls) = m[1] else {
                panic!()
            };
            let redis::Value::Array(b) = &m[3] else {
                panic!()
            };
            let ints: Vec<i64> = b
                .iter()
                .map(|x| match x {
                    redis::Value::Int(i) => *i,
                    o => panic!("{o:?}"),
                })
                .collect();
            assert!(!ints.is_empty());
            let (keys, counts): (Vec<i64>, Vec<i64>) = ints.chunks(2).map(|p| (p[0], p[1])).unzip();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
            assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
            assert_eq!(*counts.last().unwrap(), calls);
            (name, calls)
        })
        .collect()
}

#[test]
fn histograms_and_latencystats_match_redis() {
    // Guards per-command histograms: names (subcommands as config|set), calls, cumulative
    // buckets, INFO latencystats' lines and percentiles, latency-tracking off, RESETSTAT.
    let Some((redis, slotd)) = both("latency_hist") else {
        return;
    };
    let (mut r, mut s) = (redis.client(), slotd.client());
    let mut seen = Vec::new();
    for c in [&mut r, &mut s] {
        run(c, &["CONFIG", "RESETSTAT"]);
        for i in 0..5 {
            run(c, &["SET", &format!("k{i}"), "v"]);
        }
        run(c, &["GET", "k1"]);
        run(
            c,
            &[
                "CONFIG",
                "SET",
                "latency-tracking-info-percentiles",
                "50 99.9 100",
            ],
        );
        let mut h = histogram(c, &["set", "get", "config", "nosuch"]);
        h.sort();
        let info = text(run(c, &["INFO", "latencystats"]));
        let mut names: Vec<String> = info
            .lines()
            .skip(1)
            .map(|l| {
                let (name, values) = l.split_once(':').unwrap();
                let keys: Vec<&str> = values
                    .split(',')
                    .map(|v| v.split('=').next().unwrap())
                    .collect();
                assert_eq!(keys, ["p50", "p99.9", "p100"], "{l}");
                for v in values.split(',') {
                    let num = v.split('=').nth(1).unwrap();
                    assert_eq!(num.split('.').nth(1).map(str::len), Some(3), "{l}");
                }
                name.to_string()
            })
            .collect();
        names.sort();
        assert!(info.starts_with("# Latencystats\r\n"), "{info}");
        run(c, &["CONFIG", "SET", "latency-tracking", "no"]);
        let off = text(run(c, &["INFO", "latencystats"]));
        run(c, &["CONFIG", "SET", "latency-tracking", "yes"]);
        run(c, &["CONFIG", "RESETSTAT"]);
        let after = histogram(c, &[]);
        seen.push((h, names, off, after));
    }
    assert_eq!(seen[1], seen[0]);
    let h = &seen[0].0;
    assert!(
        h.contains(&("get".to_string(), 1)) && h.contains(&("set".to_string(), 5)),
        "{h:?}"
    );
}

#[test]
fn debug_set_active_expire_matches_redis() {
    // Guards DEBUG SET-ACTIVE-EXPIRE: with 0 an expired key nobody reads stays counted, with 1
    // the background cycle removes it; replies and the arity error as Redis'.
    let Some((redis, slotd)) = both("active_expire") else {
        return;
    };
    let (mut a, mut b) = (Raw::connect(redis.port), slotd.raw());
    for line in [
        &["DEBUG", "SET-ACTIVE-EXPIRE", "x"][..],
        &["DEBUG", "SET-ACTIVE-EXPIRE"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "0"],
        &["SET", "gone", "v", "PX", "30"],
    ] {
        let parts: Vec<&[u8]> = line.iter().map(|s| s.as_bytes()).collect();
        same_reply(&mut a, &mut b, &cmd(&parts), &line.join(" "));
    }
    let (mut r, mut s) = (redis.client(), slotd.client());
    std::thread::sleep(std::time::Duration::from_millis(300));
    for c in [&mut r, &mut s] {
        assert_eq!(run(c, &["DBSIZE"]), redis::Value::Int(1));
        assert_eq!(
            run(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]),
            redis::Value::Okay
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while run(c, &["DBSIZE"]) != redis::Value::Int(0) {
            assert!(std::time::Instant::now() < deadline, "never expired");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
