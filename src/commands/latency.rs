//! LATENCY: the latency monitor's events (LATEST, HISTORY, RESET, GRAPH, DOCTOR, HELP, kept by
//! `global::latency_events`) and Redis 7's per-command histograms (LATENCY HISTOGRAM and INFO
//! latencystats, kept per shard by `shard::latency` and merged here).

use super::spec::{acl, arg, multi, opt};
use super::KeySpec;
use super::{flags::*, lookup, lookup_sub, name_of, CmdResult, CommandSpec, ConnCtx, Handler};
use crate::command_id::CommandId;
use crate::constants::{LATENCY_GRAPH_COLS, LATENCY_HISTOGRAM_FIRST_BUCKET_NS};
use crate::global::latency_events::Series;
use crate::resp::{Args, ReplyError};
use crate::shard::latency::{new_hist, Hist};
use crate::shard::Shard;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

// ---------------------------------------------------------------------------------------------
// Histograms
// ---------------------------------------------------------------------------------------------

/// Every shard's histograms merged, by command id.
fn merged_histograms(sh: &mut Shard) -> Result<BTreeMap<CommandId, Hist>, ReplyError> {
    let parts = sh.try_call_all(|sh| {
        sh.latency
            .iter()
            .map(|(id, h)| (id, h.clone()))
            .collect::<Vec<_>>()
    })?;
    let mut all: BTreeMap<CommandId, Hist> = BTreeMap::new();
    for (id, h) in parts.into_iter().flatten() {
        let m = all.entry(id).or_insert_with(new_hist);
        // Same bounds on both sides: adding cannot fail.
        let _ = m.add(&h);
    }
    Ok(all)
}

/// hdr_histogram's `hdr_value_at_percentile`: the highest value equivalent to the one at
/// which the cumulative count reaches `percentile` (rounded as the C library rounds).
fn value_at_percentile(h: &Hist, percentile: f64) -> u64 {
    let p = percentile.min(100.0);
    let wanted = (((p / 100.0) * h.len() as f64) + 0.5) as u64;
    let wanted = wanted.max(1);
    let mut seen = 0u64;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        if seen >= wanted {
            return h.highest_equivalent(v.value_iterated_to());
        }
    }
    0
}

/// Redis' `fillCommandCDF`: the cumulative count at each power-of-two bucket from 1024 ns,
/// as (microseconds, count), only where the count grew.
fn cdf(h: &Hist) -> Vec<(u64, u64)> {
    let recorded: Vec<(u64, u64)> = h
        .iter_recorded()
        .map(|v| {
            (
                h.highest_equivalent(v.value_iterated_to()),
                v.count_at_value(),
            )
        })
        .collect();
    let total = h.len();
    let mut out = Vec::new();
    let mut level = LATENCY_HISTOGRAM_FIRST_BUCKET_NS;
    let mut prev = 0u64;
    loop {
        let top = h.highest_equivalent(level);
        let cumulative: u64 = recorded
            .iter()
            .filter(|(v, _)| *v <= top)
            .map(|(_, c)| c)
            .sum();
        if cumulative > prev {
            out.push((top / 1000, cumulative));
        }
        prev = cumulative;
        if cumulative >= total || level > u64::MAX / 2 {
            break;
        }
        level *= 2;
    }
    out
}

/// C's `%f` of a percentile with trailing zeros (and a trailing point) removed, as Redis'
/// `trimDoubleString` leaves it: 50, 99.9.
fn percentile_label(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// INFO latencystats: `latency_percentiles_usec_<command>:p50=..,p99=..` per command with
/// calls (nothing while `latency-tracking` is off), as Redis 7.0 writes them.
pub fn info_section(sh: &mut Shard) -> Result<String, ReplyError> {
    let mut s = String::new();
    if !sh.global.observe.tracking.load(Ordering::Relaxed) {
        return Ok(s);
    }
    let percentiles: Vec<f64> = sh
        .global
        .cfg(|c| c.stored("latency-tracking-info-percentiles", "50 99 99.9"))
        .split_ascii_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    for (id, h) in merged_histograms(sh)? {
        let _ = write!(s, "latency_percentiles_usec_{}:", name_of(id));
        for (j, p) in percentiles.iter().enumerate() {
            let v = value_at_percentile(&h, *p) as f64 / 1000.0;
            let sep = if j + 1 == percentiles.len() { "" } else { "," };
            let _ = write!(s, "p{}={v:.3}{sep}", percentile_label(*p));
        }
        s.push_str("\r\n");
    }
    Ok(s)
}

fn write_cdf(ctx: &mut ConnCtx<'_>, name: &str, h: &Hist) {
    ctx.out.bulk(name.as_bytes());
    ctx.out.map(2);
    ctx.out.bulk(b"calls");
    ctx.out.int(h.len() as i64);
    ctx.out.bulk(b"histogram_usec");
    let buckets = cdf(h);
    ctx.out.map(buckets.len());
    for (us, n) in buckets {
        ctx.out.int(us as i64);
        ctx.out.int(n as i64);
    }
}

/// A name as LATENCY HISTOGRAM takes it: "get", "config" (the container: its subcommands),
/// or "config|set".
fn lookup_full(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        Some(i) => lookup(&name[..i]).and_then(|p| lookup_sub(p, &name[i + 1..])),
        None => lookup(name),
    }
}

fn latency_histogram(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let all = merged_histograms(ctx.shard)?;
    let mut picked: Vec<(CommandId, &Hist)> = Vec::new();
    if args.len() == 2 {
        picked.extend(all.iter().map(|(id, h)| (*id, h)));
    } else {
        for a in args.iter().skip(2) {
            let Some(spec) = lookup_full(a) else { continue };
            let ids = std::iter::once(spec.id).chain(spec.subcommands.iter().map(|s| s.id));
            for id in ids {
                if let Some(h) = all.get(&id) {
                    picked.push((id, h));
                }
            }
        }
    }
    ctx.out.map(picked.len());
    for (id, h) in picked {
        write_cdf(ctx, name_of(id), h);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The latency monitor
// ---------------------------------------------------------------------------------------------

fn now_s() -> u64 {
    crate::clock::unix_ms() / 1000
}

fn latency_latest(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let all = ctx.shard.global.observe.events.snapshot();
    ctx.out.array(all.len());
    for (name, s) in all {
        let last = s.latest();
        ctx.out.array(4);
        ctx.out.bulk(name.as_bytes());
        ctx.out.int(last.unix_s as i64);
        ctx.out.int(last.latency_ms as i64);
        ctx.out.int(s.max_ms as i64);
    }
    Ok(())
}

fn latency_history(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let Some((_, s)) = ctx.shard.global.observe.events.get(args.get(2)) else {
        ctx.out.array(0);
        return Ok(());
    };
    let samples: Vec<_> = s.history().collect();
    ctx.out.array(samples.len());
    for x in samples {
        ctx.out.array(2);
        ctx.out.int(x.unix_s as i64);
        ctx.out.int(x.latency_ms as i64);
    }
    Ok(())
}

fn latency_reset(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let ev = &ctx.shard.global.observe.events;
    let n = if args.len() == 2 {
        ev.reset_all()
    } else {
        args.iter().skip(2).filter(|a| ev.reset(a)).count()
    };
    ctx.out.int(n as i64);
    Ok(())
}

fn latency_graph(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let event = args.get(2);
    let Some((name, s)) = ctx.shard.global.observe.events.get(event) else {
        return Err(ReplyError::Other(format!(
            "ERR No samples available for event '{}'",
            String::from_utf8_lossy(event)
        )));
    };
    ctx.out.verbatim(graph(name, &s, now_s()).as_bytes());
    Ok(())
}

/// Redis' `latencyCommandGenSparkeline`: a title, a rule, and a four-row sparkline of the
/// samples with their ages as vertical labels.
fn graph(name: &str, s: &Series, now_s: u64) -> String {
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for x in s.history() {
        values.push(x.latency_ms);
        let elapsed = now_s.saturating_sub(x.unix_s);
        labels.push(match elapsed {
            e if e < 60 => format!("{e}s"),
            e if e < 3600 => format!("{}m", e / 60),
            e if e < 86400 => format!("{}h", e / 3600),
            e => format!("{}d", e / 86400),
        });
    }
    let min = values.iter().copied().min().unwrap_or(0);
    let max = values.iter().copied().max().unwrap_or(0);
    let mut g = format!(
        "{name} - high {max} ms, low {min} ms (all time high {} ms)\n",
        s.max_ms
    );
    g.push_str(&"-".repeat(LATENCY_GRAPH_COLS));
    g.push('\n');
    let mut start = 0;
    while start < values.len() {
        let end = (start + LATENCY_GRAPH_COLS).min(values.len());
        if start != 0 {
            g.push('\n');
        }
        sparkline_range(&mut g, &values, &labels, min, max, start..end);
        start = end;
    }
    g
}

/// Redis' `sparklineRenderRange` with SPARKLINE_FILL, four rows, labels under the samples.
fn sparkline_range(
    g: &mut String,
    values: &[u64],
    labels: &[String],
    min: u64,
    max: u64,
    range: std::ops::Range<usize>,
) {
    const FILL: &[u8] = b"_o#";
    const ROWS: i64 = 4;
    let charset_len = FILL.len() as i64;
    let steps = charset_len * ROWS;
    let relmax = if max == min { 1.0 } else { (max - min) as f64 };
    let mut row: i64 = 0;
    loop {
        let mut line = vec![b' '; range.len()];
        let mut more = false;
        for (j, i) in range.clone().enumerate() {
            let relval = (values[i] - min) as f64;
            let step = (((relval * steps as f64) as i64) as f64 / relmax) as i64;
            let step = step.clamp(0, steps - 1);
            if row < ROWS {
                more = true;
                let charidx = step - (ROWS - row - 1) * charset_len;
                if (0..charset_len).contains(&charidx) {
                    line[j] = FILL[charidx as usize];
                } else if charidx >= charset_len {
                    line[j] = b'|';
                }
            } else {
                // One blank row between the graph and the labels.
                if row - ROWS < 1 {
                    more = true;
                    break;
                }
                let label = labels[i].as_bytes();
                let at = (row - ROWS - 1) as usize;
                if label.len() > at {
                    more = true;
                    line[j] = label[at];
                }
            }
        }
        if !more {
            break;
        }
        row += 1;
        g.push_str(&String::from_utf8_lossy(&line));
        g.push('\n');
    }
}

/// Redis' `analyzeLatencyForEvent`: (samples, average, mean deviation, period in seconds).
fn analyze(s: &Series, now_s: u64) -> (u64, u64, u64, u64) {
    let used: Vec<_> = s.samples.iter().filter(|x| x.unix_s != 0).collect();
    let n = used.len() as u64;
    if n == 0 {
        return (0, 0, 0, 0);
    }
    let avg = used.iter().map(|x| x.latency_ms).sum::<u64>() / n;
    let oldest = used.iter().map(|x| x.unix_s).min().unwrap_or(now_s);
    let period = now_s.saturating_sub(oldest).max(1);
    let mad = used
        .iter()
        .map(|x| (avg as i64 - x.latency_ms as i64).unsigned_abs())
        .sum::<u64>()
        / n;
    (n, avg, mad, period)
}

const DOCTOR_DISABLED: &str = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
const DOCTOR_NOTHING: &str = "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
const DOCTOR_HEAD: &str = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
const DOCTOR_NO_ADVICE: &str = "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n";
const ADVICE_SLOWLOG_INSPECT: &str = "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n";
const ADVICE_SCHEDULER: &str = "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n";
const ADVICE_RELAX_FSYNC: &str = "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n";
const ADVICE_HZ: &str = "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n";
const ADVICE_LARGE_OBJECTS: &str = "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n";
const ADVICE_MASS_EVICTION: &str = "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n";

/// What DOCTOR's advice depends on besides the events.
struct DoctorSettings {
    threshold_ms: u64,
    slowlog_slower_than_us: i64,
    slowlog_max_len: u64,
    hz: u64,
}

/// Redis' `createLatencyReport` for the events slotd records: one line per event, then the
/// advice those events call for, in Redis' order and words.
fn doctor(events: &[(&str, Series)], st: &DoctorSettings, now_s: u64) -> String {
    if events.is_empty() && st.threshold_ms == 0 {
        return DOCTOR_DISABLED.into();
    }
    let (mut slowlog_enabled, mut slowlog_tuning, mut slowlog_inspect) = (false, false, false);
    let (mut scheduler, mut relax_fsync, mut hz) = (false, false, false);
    let (mut large_objects, mut mass_eviction) = (false, false);
    let mut advices = 0;
    let mut r = String::new();
    for (i, (name, s)) in events.iter().enumerate() {
        if i == 0 {
            r.push_str(DOCTOR_HEAD);
        }
        let (n, avg, mad, period) = analyze(s, now_s);
        let _ = write!(
            r,
            "{}. {name}: {n} latency spikes (average {avg}ms, mean deviation {mad}ms, period {:.2} sec). Worst all time event {}ms.",
            i + 1,
            period as f64 / n.max(1) as f64,
            s.max_ms
        );
        match *name {
            "command" => {
                if st.slowlog_slower_than_us < 0 || st.slowlog_max_len == 0 {
                    slowlog_enabled = true;
                    advices += 1;
                } else if (st.slowlog_slower_than_us / 1000) as u64 > st.threshold_ms {
                    slowlog_tuning = true;
                    advices += 1;
                }
                slowlog_inspect = true;
                large_objects = true;
                advices += 2;
            }
            "fast-command" => {
                scheduler = true;
                advices += 1;
            }
            "aof-fsync-always" => {
                relax_fsync = true;
                advices += 1;
            }
            "expire-cycle" => {
                hz = true;
                large_objects = true;
                advices += 2;
            }
            "eviction-del" => {
                large_objects = true;
                advices += 1;
            }
            "eviction-cycle" => {
                mass_eviction = true;
                advices += 1;
            }
            _ => {}
        }
        r.push('\n');
    }
    if events.is_empty() && advices == 0 {
        r.push_str(DOCTOR_NOTHING);
        return r;
    }
    if advices == 0 {
        r.push_str(DOCTOR_NO_ADVICE);
        return r;
    }
    r.push_str("\nI have a few advices for you:\n\n");
    let suggested_us = st.threshold_ms * 1000;
    if slowlog_enabled {
        let _ = writeln!(r, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {suggested_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.");
    }
    if slowlog_tuning {
        let _ = writeln!(r, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {suggested_us}'.");
    }
    if slowlog_inspect {
        r.push_str(ADVICE_SLOWLOG_INSPECT);
    }
    if scheduler {
        r.push_str(ADVICE_SCHEDULER);
    }
    if relax_fsync {
        r.push_str(ADVICE_RELAX_FSYNC);
    }
    if hz && st.hz < 100 {
        r.push_str(ADVICE_HZ);
    }
    if large_objects {
        r.push_str(ADVICE_LARGE_OBJECTS);
    }
    if mass_eviction {
        r.push_str(ADVICE_MASS_EVICTION);
    }
    r
}

fn latency_doctor(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = &ctx.shard.global;
    let o = &g.observe;
    let st = DoctorSettings {
        threshold_ms: o.monitor_threshold_ms.load(Ordering::Relaxed),
        slowlog_slower_than_us: o.slowlog_slower_than_us.load(Ordering::Relaxed),
        slowlog_max_len: o.slowlog_max_len.load(Ordering::Relaxed),
        hz: g.cfg(|c| c.stored_i64("hz", 10)).max(0) as u64,
    };
    let events = o.events.snapshot();
    ctx.out.verbatim(doctor(&events, &st, now_s()).as_bytes());
    Ok(())
}

/// The help lines are part of the reply format clients may show, so they match Redis'.
const LATENCY_HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

fn latency_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::slowlog::reply_help(ctx, LATENCY_HELP)
}

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const REPORT_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

/// A LATENCY subcommand (group server, @slow).
const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    f: super::ConnFn,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        group: "server",
        acl: acl::SLOW,
        since: "2.8.13",
        complexity: "O(1)",
        summary,
        ..CommandSpec::conn(name, arity, flags, f)
    }
}

static LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "latest",
        2,
        ADMIN_SUB,
        latency_latest,
        "Return the latest latency samples for all events.",
    )
    .tips(REPORT_TIPS),
    sub(
        "graph",
        3,
        ADMIN_SUB,
        latency_graph,
        "Return a latency graph for the event.",
    )
    .args(&[arg("event", "string")])
    .tips(REPORT_TIPS),
    sub(
        "doctor",
        2,
        ADMIN_SUB,
        latency_doctor,
        "Return a human readable latency analysis report.",
    )
    .tips(REPORT_TIPS),
    sub(
        "reset",
        -2,
        ADMIN_SUB,
        latency_reset,
        "Reset latency data for one or more events.",
    )
    .args(&[opt(multi(arg("event", "string")))])
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    sub(
        "histogram",
        -2,
        ADMIN_SUB,
        latency_histogram,
        "Return the cumulative distribution of latencies of a subset of commands or all.",
    )
    .since("7.0.0")
    .complexity("O(N) where N is the number of commands with latency information being retrieved.")
    .args(&[opt(multi(arg("command", "string")))])
    .tips(REPORT_TIPS),
    sub(
        "history",
        3,
        ADMIN_SUB,
        latency_history,
        "Return timestamp-latency samples for the event.",
    )
    .args(&[arg("event", "string")])
    .tips(REPORT_TIPS),
    sub(
        "help",
        2,
        LOADING | STALE,
        latency_help,
        "Show helpful text about the different subcommands.",
    ),
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    group: "server",
    since: "2.8.13",
    complexity: "Depends on subcommand.",
    summary: "A container for latency diagnostics commands",
    subcommands: LATENCY_SUBCOMMANDS,
    ..CommandSpec::new("latency", -2, 0, KeySpec::None, Handler::Container)
}];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::global::latency_events::Sample;

    fn series(samples: &[(u64, u64)]) -> Series {
        let mut s = Series::default();
        for (i, &(t, ms)) in samples.iter().enumerate() {
            s.samples[i] = Sample {
                unix_s: t,
                latency_ms: ms,
            };
            s.max_ms = s.max_ms.max(ms);
        }
        s.idx = samples.len();
        s
    }

    #[test]
    fn the_graph_of_one_sample_is_redis_own() {
        // Guards the sparkline: the exact text redis-server 7.0 answered for one 1 ms sample.
        let g = graph("command", &series(&[(1000, 1)]), 1000);
        let want = "command - high 1 ms, low 1 ms (all time high 1 ms)\n".to_string()
            + &"-".repeat(80)
            + "\n \n \n \n_\n \n0\ns\n";
        assert_eq!(g, want);
    }

    #[test]
    fn the_graph_scales_samples_between_low_and_high() {
        // Guards the row arithmetic: the highest sample fills the top row, the lowest the floor.
        let g = graph("x", &series(&[(990, 1), (995, 10)]), 1000);
        let rows: Vec<&str> = g.lines().skip(2).collect();
        assert_eq!(rows[..4], [" #", " |", " |", "_|"]);
        assert_eq!(rows[4..], ["  ", "15", "0s", "s "]);
    }

    #[test]
    fn percentile_labels_and_values_are_formatted_as_redis() {
        // Guards the INFO latencystats keys (p50, p99.9) and the C rounding of the rank.
        assert_eq!(percentile_label(50.0), "50");
        assert_eq!(percentile_label(99.9), "99.9");
        let mut h = new_hist();
        for v in [1000u64, 2000, 3000, 4000] {
            h.record(v).unwrap();
        }
        assert_eq!(value_at_percentile(&h, 50.0), 2007);
        assert_eq!(value_at_percentile(&h, 100.0), 4015);
        assert_eq!(cdf(&h), vec![(1, 1), (2, 2), (4, 4)]);
    }

    #[test]
    fn the_doctor_speaks_redis_words() {
        // Guards the report's shapes: disabled, nothing observed, and one event with advice.
        let st = DoctorSettings {
            threshold_ms: 0,
            slowlog_slower_than_us: 10_000,
            slowlog_max_len: 128,
            hz: 10,
        };
        assert_eq!(doctor(&[], &st, 0), DOCTOR_DISABLED);
        let on = DoctorSettings {
            threshold_ms: 1,
            ..st
        };
        assert_eq!(doctor(&[], &on, 0), DOCTOR_NOTHING);
        let r = doctor(&[("command", series(&[(1000, 50)]))], &on, 1000);
        assert!(r.starts_with(DOCTOR_HEAD), "{r}");
        assert!(r.contains("1. command: 1 latency spikes (average 50ms, mean deviation 0ms, period 1.00 sec). Worst all time event 50ms.\n\nI have a few advices for you:\n\n- Your current Slow Log configuration"), "{r}");
        assert!(r.ends_with(ADVICE_LARGE_OBJECTS), "{r}");
    }
}
