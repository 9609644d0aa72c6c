//! INFO: the server's state and counters as Redis 7.0's `field:value` text, by section. Counts
//! are summed over every shard; process figures come from the kernel and the allocator.

use super::{CmdResult, ConnCtx};
use crate::resp::Args;
use crate::shard::{CmdStats, Shard};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// Sections in output order; the flag says whether "default" (and a bare INFO) includes it.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// Totals over all shards.
#[derive(Default)]
struct Totals {
    commands: u64,
    connections_received: u64,
    rejected_connections: u64,
    net_input_bytes: u64,
    net_output_bytes: u64,
    error_replies: u64,
    reads: u64,
    writes: u64,
    /// Instantaneous rates summed over shards: commands, input and output bytes per second.
    instant: [u64; 3],
    /// Clients blocked on keys (anywhere in the node), and those of them with a timeout.
    blocked: u64,
    blocked_with_timeout: u64,
    keys: u64,
    expires: u64,
    /// (keys, keys with a TTL, avg_ttl estimate times keys with a TTL) per database number.
    per_db: Vec<(u64, u64, u128)>,
    hits: u64,
    misses: u64,
    expired_keys: u64,
    evicted_keys: u64,
    dirty: u64,
    clients: u64,
    max_qbuf_bytes: u64,
    max_obuf_bytes: u64,
    cmd: CmdStats,
    errors: BTreeMap<String, u64>,
    aof: AofTotals,
    /// Full syncs, accepted and refused partial resyncs served.
    sync: (u64, u64, u64),
    /// Gathered only when the memory section is asked for.
    memory: Option<super::memory::Overview>,
    /// The latencystats lines, gathered only when asked for (`latency::info_section`).
    latencystats: String,
}

/// The AOF of every shard summed up for INFO persistence.
#[derive(Default)]
struct AofTotals {
    seen: bool,
    rewriting: bool,
    /// appendonly is yes but the shard has not started writing its first files yet (Redis'
    /// AOF_WAIT_REWRITE before the rewrite child starts).
    scheduled: bool,
    rewrite_secs: i64,
    last_rewrite_ok: bool,
    last_rewrite_secs: i64,
    rewrites: u64,
    write_ok: bool,
    current_bytes: u64,
    base_bytes: u64,
    buffer_bytes: u64,
    fsync_inflight: u64,
}

impl Totals {
    fn add_shard(&mut self, sh: &Shard) {
        let s = &sh.stats;
        self.connections_received += s.connections_received;
        self.rejected_connections += s.rejected_connections;
        self.net_input_bytes += s.net_input_bytes;
        self.net_output_bytes += s.net_output_bytes;
        self.error_replies += s.error_replies;
        self.reads += s.reads_processed;
        self.writes += s.writes_processed;
        use crate::shard::metrics::Metric;
        let rates = [
            Metric::Commands,
            Metric::NetInputBytes,
            Metric::NetOutputBytes,
        ];
        for (sum, m) in self.instant.iter_mut().zip(rates) {
            *sum += s.instant.per_sec(m);
        }
        self.blocked += sh.blocked.len() as u64;
        self.blocked_with_timeout += sh.blocked.with_deadline() as u64;
        self.aof = AofTotals::of(sh);
        for (i, db) in sh.each_db() {
            let (keys, expires) = (db.len() as u64, db.volatile_len() as u64);
            self.keys += keys;
            self.expires += expires;
            if self.per_db.len() <= i as usize {
                self.per_db.resize(i as usize + 1, (0, 0, 0));
            }
            let ttl = if expires > 0 { db.stats.avg_ttl_ms } else { 0 };
            self.per_db[i as usize].0 += keys;
            self.per_db[i as usize].1 += expires;
            self.per_db[i as usize].2 += u128::from(ttl) * u128::from(expires);
            self.hits += db.stats.hits;
            self.misses += db.stats.misses;
            self.expired_keys += db.stats.expired_keys;
        }
        self.evicted_keys += sh.evict.evicted_keys;
        self.dirty += sh.dirty;
        for (_, c) in sh.clients.iter() {
            // As Redis: connected_clients does not count replicas.
            self.clients += u64::from(!c.replica);
            self.max_qbuf_bytes = self.max_qbuf_bytes.max(c.mem.qbuf as u64);
            self.max_obuf_bytes = self.max_obuf_bytes.max(c.mem.omem as u64);
        }
        self.cmd.add(&s.cmd);
        self.commands += s.cmd.iter().map(|(_, st)| st.calls).sum::<u64>();
        for (code, n) in &s.errors {
            *self.errors.entry(code.clone()).or_default() += n;
        }
    }
}

/// Which sections an INFO call asked for.
fn wanted_sections(args: Args<'_>) -> Vec<&'static str> {
    let mut want = vec![false; SECTIONS.len()];
    if args.len() == 1 {
        for (w, (_, dflt)) in want.iter_mut().zip(SECTIONS) {
            *w = *dflt;
        }
    }
    for a in args.iter().skip(1) {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        for (w, (name, dflt)) in want.iter_mut().zip(SECTIONS) {
            *w |= match a.as_str() {
                "all" | "everything" => true,
                "default" => *dflt,
                other => other == *name,
            };
        }
    }
    SECTIONS
        .iter()
        .zip(want)
        .filter(|(_, w)| *w)
        .map(|((n, _), _)| *n)
        .collect()
}

pub fn info(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let sections = wanted_sections(args);
    let mut t = Totals::default();
    for part in ctx.shard.try_call_all(|sh| {
        let mut one = Totals::default();
        one.add_shard(sh);
        one
    })? {
        merge(&mut t, part);
    }
    let r = &ctx.shard.global.repl;
    t.sync = (
        r.sync_full.load(Ordering::Relaxed),
        r.sync_partial_ok.load(Ordering::Relaxed),
        r.sync_partial_err.load(Ordering::Relaxed),
    );
    if sections.contains(&"memory") {
        t.memory = Some(super::memory::Overview::gather(ctx)?);
    }
    if sections.contains(&"latencystats") {
        t.latencystats = super::latency::info_section(ctx.shard)?;
    }
    let mut text = String::new();
    for (i, name) in sections.iter().enumerate() {
        if i > 0 {
            text.push_str("\r\n");
        }
        write_section(&mut text, name, ctx, &t);
    }
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

impl AofTotals {
    fn of(sh: &Shard) -> Self {
        let a = &sh.aof;
        let rewrite_secs = a
            .rewrite
            .as_ref()
            .map(|r| r.started.elapsed().as_secs() as i64);
        AofTotals {
            seen: true,
            rewriting: a.rewrite.is_some(),
            scheduled: !a.active() && a.rewrite.is_none() && sh.global.cfg(|c| c.appendonly),
            rewrite_secs: rewrite_secs.unwrap_or(-1),
            last_rewrite_ok: a.last_rewrite_ok,
            last_rewrite_secs: a.last_rewrite_secs,
            rewrites: a.rewrites,
            write_ok: a.write_error.is_none(),
            current_bytes: a.base_bytes + a.incr_bytes,
            base_bytes: a.base_bytes,
            buffer_bytes: sh.journal.len() as u64,
            fsync_inflight: a.fsync_inflight as u64,
        }
    }

    fn merge(&mut self, o: AofTotals) {
        if !self.seen {
            *self = o;
            return;
        }
        self.rewriting |= o.rewriting;
        self.scheduled |= o.scheduled;
        self.rewrite_secs = self.rewrite_secs.max(o.rewrite_secs);
        self.last_rewrite_ok &= o.last_rewrite_ok;
        self.last_rewrite_secs = self.last_rewrite_secs.max(o.last_rewrite_secs);
        self.rewrites = self.rewrites.max(o.rewrites);
        self.write_ok &= o.write_ok;
        self.current_bytes += o.current_bytes;
        self.base_bytes += o.base_bytes;
        self.buffer_bytes += o.buffer_bytes;
        self.fsync_inflight += o.fsync_inflight;
    }
}

fn merge(t: &mut Totals, p: Totals) {
    t.aof.merge(p.aof);
    t.commands += p.commands;
    t.connections_received += p.connections_received;
    t.rejected_connections += p.rejected_connections;
    t.net_input_bytes += p.net_input_bytes;
    t.net_output_bytes += p.net_output_bytes;
    t.error_replies += p.error_replies;
    t.reads += p.reads;
    t.writes += p.writes;
    for (sum, v) in t.instant.iter_mut().zip(p.instant) {
        *sum += v;
    }
    t.blocked += p.blocked;
    t.blocked_with_timeout += p.blocked_with_timeout;
    t.keys += p.keys;
    t.expires += p.expires;
    if t.per_db.len() < p.per_db.len() {
        t.per_db.resize(p.per_db.len(), (0, 0, 0));
    }
    for (i, (k, e, ttl)) in p.per_db.iter().enumerate() {
        t.per_db[i].0 += k;
        t.per_db[i].1 += e;
        t.per_db[i].2 += ttl;
    }
    t.hits += p.hits;
    t.misses += p.misses;
    t.expired_keys += p.expired_keys;
    t.evicted_keys += p.evicted_keys;
    t.dirty += p.dirty;
    t.clients += p.clients;
    t.max_qbuf_bytes = t.max_qbuf_bytes.max(p.max_qbuf_bytes);
    t.max_obuf_bytes = t.max_obuf_bytes.max(p.max_obuf_bytes);
    t.cmd.add(&p.cmd);
    for (code, n) in p.errors {
        *t.errors.entry(code).or_default() += n;
    }
}

/// Appends `name:value\r\n` lines.
struct Lines<'a>(&'a mut String);

impl Lines<'_> {
    fn kv(&mut self, k: &str, v: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.0, "{k}:{v}\r\n");
        self
    }
}

fn write_section(s: &mut String, name: &str, ctx: &ConnCtx<'_>, t: &Totals) {
    let title = match name {
        "cpu" => "CPU".to_string(),
        "commandstats" => "Commandstats".into(),
        "errorstats" => "Errorstats".into(),
        n => {
            let mut c = n.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    };
    let _ = write!(s, "# {title}\r\n");
    let mut l = Lines(s);
    match name {
        "server" => server(&mut l, ctx),
        "clients" => clients(&mut l, ctx, t),
        "memory" => {
            if let Some(o) = &t.memory {
                super::memory::write_info(o, l.0);
            }
        }
        "persistence" => persistence(&mut l, ctx, t),
        "stats" => stats(&mut l, ctx, t),
        "replication" => replication(&mut l, ctx),
        "cpu" => cpu(&mut l),
        "commandstats" => commandstats(&mut l, t),
        "errorstats" => {
            for (code, n) in &t.errors {
                l.kv(&format!("errorstat_{code}"), format_args!("count={n}"));
            }
        }
        "latencystats" => l.0.push_str(&t.latencystats),
        "cluster" => {
            let on = ctx.shard.slot_map.cluster_enabled as u8;
            l.kv("cluster_enabled", on);
        }
        "keyspace" => {
            for (i, &(keys, expires, ttl)) in t.per_db.iter().enumerate() {
                if keys > 0 {
                    // Each shard's estimate weighted by its keys with a TTL.
                    let avg_ttl = ttl.checked_div(u128::from(expires)).unwrap_or(0);
                    let v = format!("keys={keys},expires={expires},avg_ttl={avg_ttl}");
                    l.kv(&format!("db{i}"), v);
                }
            }
        }
        _ => {} // modules (slotd loads none) and an empty keyspace
    }
}

/// Redis prints a hash of its build; slotd's identifies the release.
const BUILD_ID: &str = concat!("slotd-", env!("CARGO_PKG_VERSION"));

fn uname() -> String {
    match crate::sys::uname() {
        Ok(u) => format!("{} {} {}", u.sysname, u.release, u.machine),
        Err(_) => String::new(),
    }
}

fn server(l: &mut Lines<'_>, ctx: &ConnCtx<'_>) {
    let g = &ctx.shard.global;
    let (port, hz) = g.cfg(|c| (c.port, c.hz));
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let mode = if ctx.shard.slot_map.cluster_enabled {
        "cluster"
    } else {
        "standalone"
    };
    let config_file = g
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let uptime = g.uptime_s();
    l.kv("redis_version", super::server::REDIS_VERSION)
        .kv("slotd_version", env!("CARGO_PKG_VERSION"))
        .kv("redis_git_sha1", "00000000")
        .kv("redis_git_dirty", 0)
        .kv("redis_build_id", BUILD_ID)
        .kv("redis_mode", mode)
        .kv("os", uname())
        .kv("arch_bits", usize::BITS)
        // Rust's Instant reads CLOCK_MONOTONIC through clock_gettime, as Redis' POSIX clock.
        .kv("monotonic_clock", "POSIX clock_gettime")
        .kv("multiplexing_api", "io_uring")
        // Rust's atomics are the C11 memory model's, which this value names in Redis.
        .kv("atomicvar_api", "c11-builtin")
        // Not built by gcc: Redis prints 0.0.0 then.
        .kv("gcc_version", "0.0.0")
        .kv("process_id", std::process::id())
        .kv(
            "process_supervised",
            crate::sys::notify::supervisor().name(),
        )
        .kv("run_id", &g.run_id)
        .kv("tcp_port", port)
        .kv("server_time_usec", now_us)
        .kv("uptime_in_seconds", uptime)
        .kv("uptime_in_days", uptime / 86400)
        .kv("hz", hz)
        .kv("configured_hz", hz)
        .kv("lru_clock", (now_us / 1_000_000) & ((1 << 24) - 1))
        .kv("executable", &g.executable)
        .kv("config_file", config_file)
        .kv("io_threads_active", 0)
        .kv("server_threads", g.shards);
}

fn clients(l: &mut Lines<'_>, ctx: &ConnCtx<'_>, t: &Totals) {
    let maxclients = ctx.shard.global.cfg(|c| c.maxclients);
    l.kv("connected_clients", t.clients)
        .kv("cluster_connections", 0)
        .kv("maxclients", maxclients)
        .kv("client_recent_max_input_buffer", t.max_qbuf_bytes)
        .kv("client_recent_max_output_buffer", t.max_obuf_bytes)
        .kv("blocked_clients", t.blocked)
        .kv(
            "tracking_clients",
            crate::commands::tracking::tracking_clients(&ctx.shard.global),
        )
        .kv("clients_in_timeout_table", t.blocked_with_timeout);
}

/// Redis' human-readable byte counts: `512B`, `1.50K`, `2.00M`, ...
pub fn bytes_human(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2}{}", UNITS[unit])
}

fn persistence(l: &mut Lines<'_>, ctx: &ConnCtx<'_>, t: &Totals) {
    let g = &ctx.shard.global;
    let aof = g.cfg(|c| c.appendonly) as u8;
    let a = &t.aof;
    let r = &g.rdb;
    let bgsave_secs = r
        .running()
        .as_ref()
        .map(|run| run.started.elapsed().as_secs() as i64);
    use std::sync::atomic::Ordering::Relaxed;
    l.kv("loading", 0)
        .kv("async_loading", 0)
        .kv("current_cow_peak", 0)
        .kv("current_cow_size", 0)
        .kv("current_cow_size_age", 0)
        .kv("current_fork_perc", "0.00")
        .kv("current_save_keys_processed", 0)
        .kv("current_save_keys_total", 0)
        .kv(
            "rdb_changes_since_last_save",
            t.dirty.saturating_sub(r.dirty_at_save.load(Relaxed)),
        )
        .kv("rdb_bgsave_in_progress", bgsave_secs.is_some() as u8)
        .kv(
            "rdb_last_save_time",
            g.lastsave_unix.load(Ordering::Relaxed),
        )
        .kv(
            "rdb_last_bgsave_status",
            ok_err(r.last_bgsave_ok.load(Relaxed)),
        )
        .kv(
            "rdb_last_bgsave_time_sec",
            r.last_bgsave_time_s.load(Relaxed),
        )
        .kv("rdb_current_bgsave_time_sec", bgsave_secs.unwrap_or(-1))
        .kv("rdb_saves", r.saves.load(Relaxed))
        // No fork: the memory a BGSAVE costs is its queue of serialized chunks (peak).
        .kv("rdb_last_cow_size", r.last_peak_bytes.load(Relaxed))
        .kv(
            "rdb_last_load_keys_expired",
            r.last_load_keys_expired.load(Relaxed),
        )
        .kv(
            "rdb_last_load_keys_loaded",
            r.last_load_keys_loaded.load(Relaxed),
        )
        .kv("aof_enabled", aof)
        .kv("aof_rewrite_in_progress", a.rewriting as u8)
        .kv("aof_rewrite_scheduled", a.scheduled as u8)
        .kv("aof_last_rewrite_time_sec", a.last_rewrite_secs)
        .kv("aof_current_rewrite_time_sec", a.rewrite_secs)
        .kv("aof_last_bgrewrite_status", ok_err(a.last_rewrite_ok))
        .kv("aof_rewrites", a.rewrites)
        .kv(
            "aof_rewrites_consecutive_failures",
            (!a.last_rewrite_ok) as u8,
        )
        .kv("aof_last_write_status", ok_err(a.write_ok))
        .kv("aof_last_cow_size", 0)
        .kv("module_fork_in_progress", 0)
        .kv("module_fork_last_cow_size", 0);
    if aof == 1 {
        l.kv("aof_current_size", a.current_bytes)
            .kv("aof_base_size", a.base_bytes)
            .kv("aof_pending_rewrite", 0)
            .kv("aof_buffer_length", a.buffer_bytes)
            .kv("aof_pending_bio_fsync", a.fsync_inflight)
            .kv("aof_delayed_fsync", 0);
    }
}

fn ok_err(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "err"
    }
}

/// A kbps figure as Redis prints it: bytes per second / 1024, two decimals.
fn kbps(bytes_per_sec: u64) -> String {
    format!("{:.2}", bytes_per_sec as f64 / 1024.0)
}

/// Redis 7.0's stats section, field for field and in its order. Fields of mechanisms slotd
/// does not have (fork, active defrag, I/O threads, a MIGRATE socket cache, writable-replica
/// expiry, reply buffer resizing, payload sanitization) are 0, which is what Redis shows
/// while it does not use them.
fn stats(l: &mut Lines<'_>, ctx: &ConnCtx<'_>, t: &Totals) {
    let (channels, patterns, shard_channels) = {
        let p = ctx
            .shard
            .global
            .pubsub
            .read()
            .unwrap_or_else(|e| e.into_inner());
        (p.channels.len(), p.patterns.len(), p.shard_channels.len())
    };
    let [ops, input, output] = t.instant;
    l.kv("total_connections_received", t.connections_received)
        .kv("total_commands_processed", t.commands)
        .kv("instantaneous_ops_per_sec", ops)
        .kv("total_net_input_bytes", t.net_input_bytes)
        .kv("total_net_output_bytes", t.net_output_bytes)
        .kv("total_net_repl_input_bytes", 0)
        .kv("total_net_repl_output_bytes", 0)
        .kv("instantaneous_input_kbps", kbps(input))
        .kv("instantaneous_output_kbps", kbps(output))
        .kv("instantaneous_input_repl_kbps", "0.00")
        .kv("instantaneous_output_repl_kbps", "0.00")
        .kv("rejected_connections", t.rejected_connections)
        .kv("sync_full", t.sync.0)
        .kv("sync_partial_ok", t.sync.1)
        .kv("sync_partial_err", t.sync.2)
        .kv("expired_keys", t.expired_keys)
        .kv("expired_stale_perc", "0.00")
        .kv("expired_time_cap_reached_count", 0)
        .kv("expire_cycle_cpu_milliseconds", 0)
        .kv("evicted_keys", t.evicted_keys)
        .kv("evicted_clients", 0)
        .kv("total_eviction_exceeded_time", 0)
        .kv("current_eviction_exceeded_time", 0)
        .kv("keyspace_hits", t.hits)
        .kv("keyspace_misses", t.misses)
        .kv("pubsub_channels", channels)
        .kv("pubsub_patterns", patterns)
        .kv("pubsubshard_channels", shard_channels)
        .kv("latest_fork_usec", 0)
        .kv("total_forks", 0)
        .kv("migrate_cached_sockets", 0)
        .kv("slave_expires_tracked_keys", 0)
        .kv("active_defrag_hits", 0)
        .kv("active_defrag_misses", 0)
        .kv("active_defrag_key_hits", 0)
        .kv("active_defrag_key_misses", 0)
        .kv("total_active_defrag_time", 0)
        .kv("current_active_defrag_time", 0);
    for (k, v) in crate::commands::tracking::info_stats(&ctx.shard.global) {
        l.kv(k, v);
    }
    l.kv("unexpected_error_replies", 0)
        .kv("total_error_replies", t.error_replies)
        .kv("dump_payload_sanitizations", 0)
        .kv("total_reads_processed", t.reads)
        .kv("total_writes_processed", t.writes)
        .kv("io_threaded_reads_processed", 0)
        .kv("io_threaded_writes_processed", 0)
        .kv("reply_buffer_shrinks", 0)
        .kv("reply_buffer_expands", 0);
}

/// Redis' replication section: the replica part (when replicating), the connected
/// replicas, then the ids, offsets and backlog.
fn replication(l: &mut Lines<'_>, ctx: &ConnCtx<'_>) {
    let g = &ctx.shard.global;
    let now = crate::clock::unix_ms();
    let (prio, ro, announced) = g.cfg(|c| {
        let get = |k: &str, d: &str| c.unimplemented.get(k).cloned().unwrap_or(d.to_string());
        (
            get("replica-priority", "100"),
            (get("replica-read-only", "yes") != "no") as u8,
            (get("replica-announced", "yes") != "no") as u8,
        )
    });
    let min_replicas = crate::replication::min_replicas::enabled(g);
    let st = g.repl.state();
    match st.link.as_ref() {
        None => {
            l.kv("role", "master");
        }
        Some(link) => {
            use crate::replication::LinkState;
            let up = link.state == LinkState::Connected;
            let io_ago = if up {
                (now.saturating_sub(link.last_io_ms) / 1000) as i64
            } else {
                -1
            };
            l.kv("role", "slave")
                .kv("master_host", &link.host)
                .kv("master_port", link.port)
                .kv("master_link_status", if up { "up" } else { "down" })
                .kv("master_last_io_seconds_ago", io_ago)
                .kv(
                    "master_sync_in_progress",
                    (link.state == LinkState::Sync) as u8,
                )
                .kv("slave_read_repl_offset", link.read_offset)
                .kv("slave_repl_offset", link.processed_offset);
            if link.state == LinkState::Sync {
                // A streamed snapshot has no size known in advance (Redis shows 0 then).
                let read = link.sync_read_bytes as i64;
                let io_s = now.saturating_sub(link.last_io_ms) / 1000;
                l.kv("master_sync_total_bytes", 0)
                    .kv("master_sync_read_bytes", read)
                    .kv("master_sync_left_bytes", -read)
                    .kv("master_sync_perc", "0.00")
                    .kv("master_sync_last_io_seconds_ago", io_s);
            }
            if !up {
                let down_s = now.saturating_sub(link.down_since_ms) / 1000;
                l.kv("master_link_down_since_seconds", down_s);
            }
            l.kv("slave_priority", prio)
                .kv("slave_read_only", ro)
                .kv("replica_announced", announced);
        }
    }
    l.kv("connected_slaves", st.replicas.len());
    if min_replicas {
        let good = g
            .repl
            .good_replicas
            .load(std::sync::atomic::Ordering::Relaxed);
        l.kv("min_slaves_good_slaves", good);
    }
    for (i, r) in st.replicas.iter().enumerate() {
        let state = if r.online { "online" } else { "send_bulk" };
        let lag = now.saturating_sub(r.ack_time_ms) / 1000;
        l.kv(
            &format!("slave{i}"),
            format_args!(
                "ip={},port={},state={state},offset={},lag={lag}",
                r.ip, r.listening_port, r.ack_offset
            ),
        );
    }
    let (active, size, first, hist) = match st.backlog.as_ref() {
        Some(b) => (1, b.size(), b.first_offset(), b.histlen()),
        None => (0, crate::replication::backlog_size(g), 0, 0),
    };
    l.kv("master_failover_state", "no-failover")
        .kv("master_replid", &st.replid)
        .kv("master_replid2", &st.replid2)
        .kv("master_repl_offset", st.offset)
        .kv("second_repl_offset", st.second_offset)
        .kv("repl_backlog_active", active)
        .kv("repl_backlog_size", size)
        .kv("repl_backlog_first_byte_offset", first)
        .kv("repl_backlog_histlen", hist);
}

/// (system, user) CPU time of `who` as Redis prints it: seconds with 6 decimals.
fn rusage(who: libc::c_int) -> (String, String) {
    let t = crate::sys::getrusage(who).unwrap_or_default();
    (
        format!("{}.{:06}", t.system_secs, t.system_micros),
        format!("{}.{:06}", t.user_secs, t.user_micros),
    )
}

fn cpu(l: &mut Lines<'_>) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    // Redis' main thread: here the shard thread that answers INFO.
    let (tsys, tuser) = rusage(libc::RUSAGE_THREAD);
    l.kv("used_cpu_sys", sys)
        .kv("used_cpu_user", user)
        .kv("used_cpu_sys_children", csys)
        .kv("used_cpu_user_children", cuser)
        .kv("used_cpu_sys_main_thread", tsys)
        .kv("used_cpu_user_main_thread", tuser);
}

fn commandstats(l: &mut Lines<'_>, t: &Totals) {
    let counted = super::ids_by_name()
        .iter()
        .filter_map(|&id| Some((super::name_of(id), t.cmd.get(id)?)));
    for (name, st) in counted {
        let per_call = if st.calls > 0 {
            st.nsec as f64 / 1000.0 / st.calls as f64
        } else {
            0.0
        };
        let v = format!(
            "calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
            st.calls,
            st.nsec / 1000,
            st.rejected_calls,
            st.failed_calls
        );
        l.kv(&format!("cmdstat_{name}"), v);
    }
}

#[cfg(test)]
mod tests {
    use super::bytes_human;
    use crate::resp::Proto;
    use crate::testkit::{Harness, Reply};

    fn text(r: Reply) -> String {
        match r {
            Reply::Bulk(b) => String::from_utf8(b).unwrap(),
            Reply::Verbatim(s) => s,
            other => panic!("{other:?}"),
        }
    }

    fn headers(s: &str) -> Vec<&str> {
        s.lines().filter(|l| l.starts_with("# ")).collect()
    }

    #[test]
    fn default_all_and_unknown_sections() {
        // Section sets and order for bare INFO, all/everything, named and unknown sections.
        let mut h = Harness::new();
        let d = text(h.run(&["INFO"]));
        let want = [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace",
        ];
        assert_eq!(headers(&d), want);
        assert_eq!(headers(&text(h.run(&["INFO", "default"]))), want);
        let all = text(h.run(&["INFO", "everything"]));
        assert_eq!(headers(&all)[8], "# Commandstats");
        assert_eq!(headers(&all)[10], "# Latencystats");
        assert_eq!(headers(&all).len(), 13);
        assert_eq!(text(h.run(&["INFO", "foo"])), "");
        let two = text(h.run(&["INFO", "CLUSTER", "cpu"]));
        assert_eq!(headers(&two), ["# CPU", "# Cluster"]);
        assert!(two.contains("\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n"));
        assert!(two.ends_with("cluster_enabled:0\r\n"));
    }

    #[test]
    fn server_fields() {
        // Version, slotd extras and config-derived fields of the server section.
        let mut h = Harness::new();
        let s = text(h.run(&["INFO", "server"]));
        assert!(s.starts_with("# Server\r\nredis_version:7.0.15\r\nslotd_version:"));
        assert!(s.contains("\r\nredis_mode:standalone\r\n"));
        assert!(s.contains("\r\ntcp_port:6379\r\n"));
        assert!(s.contains(&format!("\r\nprocess_id:{}\r\n", std::process::id())));
        assert!(s.contains(&format!("\r\nrun_id:{}\r\n", h.shard.global.run_id)));
        assert!(s.contains("\r\nserver_threads:1\r\n"));
        for l in s.lines().skip(1) {
            assert!(l.contains(':'), "{l}");
        }
    }

    #[test]
    fn keyspace_stats_and_errors() {
        // Keys, hits/misses, commandstats and errorstats reflect the commands run.
        let mut h = Harness::new();
        assert_eq!(text(h.run(&["INFO", "keyspace"])), "# Keyspace\r\n");
        h.run(&["SET", "a", "1"]);
        h.run(&["GET", "a"]);
        h.run(&["GET", "b"]);
        h.run(&["GET"]);
        h.run(&["NOPE"]);
        let k = text(h.run(&["INFO", "keyspace"]));
        assert_eq!(k, "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
        let st = text(h.run(&["INFO", "stats"]));
        assert!(
            st.contains("\r\nkeyspace_hits:1\r\nkeyspace_misses:1\r\n"),
            "{st}"
        );
        assert!(st.contains("\r\ntotal_error_replies:2\r\n"));
        let c = text(h.run(&["INFO", "commandstats"]));
        let get = c.lines().find(|l| l.starts_with("cmdstat_get:")).unwrap();
        assert!(get.starts_with("cmdstat_get:calls=2,usec="));
        assert!(get.ends_with(",rejected_calls=0,failed_calls=0"));
        assert!(c.contains("cmdstat_set:calls=1,"));
        let e = text(h.run(&["INFO", "errorstats"]));
        assert_eq!(e, "# Errorstats\r\nerrorstat_ERR:count=2\r\n");
        let p = text(h.run(&["INFO", "persistence"]));
        assert!(p.contains("\r\nrdb_changes_since_last_save:1\r\n"));
        assert!(p.contains("\r\naof_enabled:0\r\n"));
    }

    #[test]
    fn memory_cpu_replication() {
        // Process figures are present and well-formed; replication ids are stable.
        let mut h = Harness::new();
        let m = text(h.run(&["INFO", "memory"]));
        let used: u64 = m
            .lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .unwrap()
            .parse()
            .unwrap();
        assert!(used > 0);
        assert!(m.contains("\r\nused_memory_rss:"));
        let c = text(h.run(&["INFO", "cpu"]));
        assert!(c.lines().nth(1).unwrap().starts_with("used_cpu_sys:"));
        let r1 = text(h.run(&["INFO", "replication"]));
        let r2 = text(h.run(&["INFO", "replication"]));
        assert_eq!(r1, r2);
        let id = r1
            .lines()
            .find_map(|l| l.strip_prefix("master_replid:"))
            .unwrap();
        assert_eq!(id.len(), 40);
        assert!(r1.contains(&format!("master_replid2:{}\r\n", "0".repeat(40))));
    }

    #[test]
    fn resp3_is_verbatim() {
        // RESP3 sends INFO as a verbatim string, RESP2 as a bulk string.
        let mut h = Harness::new();
        assert!(h.raw(&["INFO", "cluster"]).starts_with(b"$"));
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        let raw = h.raw(&["INFO", "cluster"]);
        assert!(raw.starts_with(b"=") && raw.windows(4).any(|w| w == b"txt:"));
    }

    #[test]
    fn human_bytes() {
        // Byte counts formatted as Redis does.
        assert_eq!(bytes_human(0), "0B");
        assert_eq!(bytes_human(1023), "1023B");
        assert_eq!(bytes_human(916408), "894.93K");
        assert_eq!(bytes_human(6828032), "6.51M");
        assert_eq!(bytes_human(25276502016), "23.54G");
    }
}
