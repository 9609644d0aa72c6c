//! MEMORY (USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP) and the memory overview INFO's
//! memory section shares with MEMORY STATS: Redis' `getMemoryOverheadData` computed over
//! every shard. Figures are allocator usable sizes counted by `sys::alloc`, the process RSS,
//! and jemalloc's own statistics; ratios are computed as Redis computes them (C floats).
//!
//! Reads only: no handler here changes the keyspace (MEMORY PURGE changes the allocator).

use super::keys::peek;
use super::spec::{acl, arg, keyflag, opt, tok, K2};
use super::{client, flags::*, ArgDoc, CmdResult, CommandSpec, ConnCtx, Exec, Handler, KeySpec};
use crate::keyspace::db::{DbOverhead, Entry};
use crate::keyspace::entry::Stored;
use crate::keyspace::value::Value;
use crate::resp::{Args, Out, ReplyError};
use crate::shard::Shard;
use crate::sys::alloc::{self, jemalloc_size_class as usable};
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// The overview (Redis' struct redisMemOverhead)
// ---------------------------------------------------------------------------------------------

/// One shard's share of the overview.
#[derive(Default)]
struct ShardPart {
    clients_normal_bytes: u64,
    clients_replica_bytes: u64,
    normal_clients: u64,
    replica_clients: u64,
    aof_buffer_bytes: u64,
    /// This shard's Lua states (EVAL, FUNCTION), when it has created them.
    lua_vm_bytes: (u64, u64),
    /// (database number, keys, its structures' overhead) of every database this shard has.
    dbs: Vec<(u32, u64, DbOverhead)>,
}

impl ShardPart {
    fn of(sh: &Shard) -> ShardPart {
        let mut p = ShardPart {
            dbs: sh
                .each_db()
                .map(|(n, db)| (n, db.len() as u64, db.overhead_bytes()))
                .collect(),
            ..ShardPart::default()
        };
        if sh.global.cfg(|c| c.appendonly) {
            p.aof_buffer_bytes = sh.journal.len() as u64;
        }
        if let Some(vm) = sh.lua.as_ref() {
            let (eval, functions) = vm.memory_bytes();
            p.lua_vm_bytes = (eval as u64, functions as u64);
        }
        for (_, c) in sh.clients.iter() {
            let bytes = client::client_mem_bytes(c) as u64;
            if c.replica {
                p.clients_replica_bytes += bytes;
                p.replica_clients += 1;
            } else {
                p.clients_normal_bytes += bytes;
                p.normal_clients += 1;
            }
        }
        p
    }
}

fn add_overhead(to: &mut DbOverhead, d: &DbOverhead) {
    to.tables_bytes += d.tables_bytes;
    to.per_slot_bytes += d.per_slot_bytes;
    to.expires_bytes += d.expires_bytes;
}

/// The memory figures of the whole node at one moment.
pub struct Overview {
    pub used_bytes: u64,
    pub peak_bytes: u64,
    pub startup_bytes: u64,
    pub rss_bytes: u64,
    /// The replication backlog's ring.
    pub backlog_bytes: u64,
    /// Stream bytes buffered for replicas (their output beyond the shared backlog).
    pub replica_feed_bytes: u64,
    pub clients_replica_bytes: u64,
    pub clients_normal_bytes: u64,
    pub normal_clients: u64,
    pub replica_clients: u64,
    pub aof_buffer_bytes: u64,
    pub keys: u64,
    /// Keys and structure overhead per database number (every shard's part summed).
    pub per_db: std::collections::BTreeMap<u32, (u64, DbOverhead)>,
    /// Database 0's keyspace structures (slotd has one database per node today).
    pub db: DbOverhead,
    pub cluster_enabled: bool,
    /// allocated, active, resident as Redis' cron fills them (fallbacks without jemalloc).
    pub allocator: (u64, u64, u64),
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: String,
    /// EVAL scripts in the node-wide cache, and the bytes of their bodies.
    pub cached_scripts: u64,
    pub scripts_eval_bytes: u64,
    /// The Lua states of every shard that created them: EVAL's, FUNCTION's.
    pub lua_vm_bytes: (u64, u64),
    /// The function libraries: how many, how many functions, and their bytes.
    pub libraries: super::functions::Footprint,
}

impl Overview {
    /// Gathers the overview over every shard (one parked call when there are several).
    /// Refused when a shard runs a script past busy-reply-threshold.
    pub fn gather(ctx: &mut ConnCtx<'_>) -> Result<Overview, ReplyError> {
        let parts = ctx.shard.try_call_all(|sh| ShardPart::of(sh))?;
        let (used, peak) = alloc::sample_peak();
        let rss = rss_bytes();
        let g = &ctx.shard.global;
        let evict = g.maxmemory.load();
        let (maxmemory_bytes, maxmemory_policy) =
            (evict.maxmemory_bytes, evict.policy.name().to_string());
        let backlog_bytes = g
            .repl
            .state()
            .backlog
            .as_ref()
            .map_or(0, |b| b.size() as u64);
        let replica_feed_bytes = g.repl.replica_feed_bytes();
        let mut o = Overview {
            used_bytes: used,
            peak_bytes: peak,
            startup_bytes: alloc::startup_bytes(),
            rss_bytes: rss,
            backlog_bytes,
            replica_feed_bytes,
            clients_replica_bytes: 0,
            clients_normal_bytes: 0,
            normal_clients: 0,
            replica_clients: 0,
            aof_buffer_bytes: 0,
            keys: 0,
            per_db: Default::default(),
            db: DbOverhead::default(),
            cluster_enabled: ctx.shard.slot_map.cluster_enabled,
            allocator: allocator_figures(used, rss),
            maxmemory_bytes,
            maxmemory_policy,
            cached_scripts: g.scripts.len() as u64,
            scripts_eval_bytes: g.scripts.body_bytes() as u64,
            lua_vm_bytes: (0, 0),
            libraries: super::functions::footprint(&g.scripts.libraries()),
        };
        for p in parts {
            o.clients_normal_bytes += p.clients_normal_bytes;
            o.clients_replica_bytes += p.clients_replica_bytes;
            o.normal_clients += p.normal_clients;
            o.replica_clients += p.replica_clients;
            o.aof_buffer_bytes += p.aof_buffer_bytes;
            o.lua_vm_bytes.0 += p.lua_vm_bytes.0;
            o.lua_vm_bytes.1 += p.lua_vm_bytes.1;
            for (n, keys, d) in p.dbs {
                o.keys += keys;
                add_overhead(&mut o.db, &d);
                let e = o.per_db.entry(n).or_default();
                e.0 += keys;
                add_overhead(&mut e.1, &d);
            }
        }
        Ok(o)
    }

    /// MEMORY STATS' `clients.slaves`: replica clients and the stream buffered for them.
    fn clients_slaves(&self) -> u64 {
        self.clients_replica_bytes + self.replica_feed_bytes
    }

    /// `overhead.hashtable.main` of one database: in standalone mode the per-slot table
    /// headers count here; in cluster mode they are reported as `slot-to-keys`, where Redis
    /// counts its slot index.
    fn main_table_bytes(&self, d: &DbOverhead) -> u64 {
        let headers = if self.cluster_enabled {
            0
        } else {
            d.per_slot_bytes
        };
        (d.tables_bytes + headers) as u64
    }

    /// `overhead.hashtable.slot-to-keys` of one database (0 in standalone mode, as in Redis).
    fn slot_to_keys_bytes(&self, d: &DbOverhead) -> u64 {
        if self.cluster_enabled {
            d.per_slot_bytes as u64
        } else {
            0
        }
    }

    fn db_overhead(&self) -> u64 {
        (self.db.tables_bytes + self.db.per_slot_bytes + self.db.expires_bytes) as u64
    }

    /// `used_memory_overhead`: start-up memory plus every structure that is not data.
    pub fn overhead_bytes(&self) -> u64 {
        self.startup_bytes
            + self.backlog_bytes
            + self.clients_slaves()
            + self.clients_normal_bytes
            + self.aof_buffer_bytes
            + self.scripts_eval_bytes
            + self.libraries.bytes
            + self.db_overhead()
    }

    pub fn dataset_bytes(&self) -> i64 {
        self.used_bytes as i64 - self.overhead_bytes() as i64
    }

    /// Redis' `net_usage`: used memory beyond start-up, at least 1.
    fn net_usage(&self) -> u64 {
        if self.used_bytes > self.startup_bytes {
            self.used_bytes - self.startup_bytes
        } else {
            1
        }
    }

    fn dataset_perc(&self) -> f32 {
        self.dataset_bytes() as f32 * 100.0 / self.net_usage() as f32
    }

    fn peak_perc(&self) -> f32 {
        self.used_bytes as f32 * 100.0 / self.peak_bytes.max(1) as f32
    }

    fn bytes_per_key(&self) -> u64 {
        match self.keys {
            0 => 0,
            n => self.net_usage() / n,
        }
    }

    /// Bytes a maxmemory check leaves out (Redis' freeMemoryGetNotCountedMemory): replica
    /// output beyond the backlog and the AOF buffers.
    fn not_counted_for_evict(&self) -> u64 {
        self.replica_feed_bytes + self.aof_buffer_bytes
    }

    /// (ratio, bytes) of `a` over `b`, as Redis' float ratios.
    fn ratio(a: u64, b: u64) -> (f32, i64) {
        (a as f32 / b.max(1) as f32, a as i64 - b as i64)
    }

    fn allocator_frag(&self) -> (f32, i64) {
        Self::ratio(self.allocator.1, self.allocator.0)
    }
    fn allocator_rss(&self) -> (f32, i64) {
        Self::ratio(self.allocator.2, self.allocator.1)
    }
    fn rss_overhead(&self) -> (f32, i64) {
        Self::ratio(self.rss_bytes, self.allocator.2)
    }
    fn fragmentation(&self) -> (f32, i64) {
        Self::ratio(self.rss_bytes, self.used_bytes)
    }
}

/// jemalloc's allocated/active/resident; without jemalloc, Redis' cron fallbacks (resident is
/// the RSS, active the resident, allocated the used memory).
fn allocator_figures(used: u64, rss: u64) -> (u64, u64, u64) {
    match alloc::allocator_stats() {
        Some(s) => (s.allocated_bytes, s.active_bytes, s.resident_bytes),
        None => (used, rss, rss),
    }
}

/// Resident set size from /proc/self/statm (second field, in pages).
fn rss_bytes() -> u64 {
    let page = crate::sys::sysconf(libc::_SC_PAGESIZE).unwrap_or(1).max(1) as u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * page)
        .unwrap_or(0)
}

fn total_system_memory_bytes() -> u64 {
    let pages = crate::sys::sysconf(libc::_SC_PHYS_PAGES).unwrap_or(0);
    let page = crate::sys::sysconf(libc::_SC_PAGESIZE).unwrap_or(0);
    (pages.max(0) as u64).saturating_mul(page.max(0) as u64)
}

/// INFO's memory section body, fields in Redis 7.0's order. The EVAL script cache counts its
/// scripts and their bodies; the Lua VMs' own memory is not measured yet (0); active defrag
/// never runs; lazy free has nothing pending.
pub fn write_info(o: &Overview, s: &mut String) {
    let human = super::info::bytes_human;
    let sys = total_system_memory_bytes();
    let (a_frag, a_frag_bytes) = o.allocator_frag();
    let (a_rss, a_rss_bytes) = o.allocator_rss();
    let (rss_over, rss_over_bytes) = o.rss_overhead();
    let (frag, frag_bytes) = o.fragmentation();
    let mut kv = |k: &str, v: &dyn std::fmt::Display| {
        let _ = write!(s, "{k}:{v}\r\n");
    };
    kv("used_memory", &o.used_bytes);
    kv("used_memory_human", &human(o.used_bytes));
    kv("used_memory_rss", &o.rss_bytes);
    kv("used_memory_rss_human", &human(o.rss_bytes));
    kv("used_memory_peak", &o.peak_bytes);
    kv("used_memory_peak_human", &human(o.peak_bytes));
    kv("used_memory_peak_perc", &format!("{:.2}%", o.peak_perc()));
    kv("used_memory_overhead", &o.overhead_bytes());
    kv("used_memory_startup", &o.startup_bytes);
    kv("used_memory_dataset", &o.dataset_bytes());
    kv(
        "used_memory_dataset_perc",
        &format!("{:.2}%", o.dataset_perc()),
    );
    kv("allocator_allocated", &o.allocator.0);
    kv("allocator_active", &o.allocator.1);
    kv("allocator_resident", &o.allocator.2);
    kv("total_system_memory", &sys);
    kv("total_system_memory_human", &human(sys));
    let (vm_eval, vm_functions) = o.lua_vm_bytes;
    for k in ["used_memory_lua", "used_memory_vm_eval"] {
        kv(k, &vm_eval);
    }
    kv("used_memory_lua_human", &human(vm_eval));
    kv("used_memory_scripts_eval", &o.scripts_eval_bytes);
    kv("number_of_cached_scripts", &o.cached_scripts);
    kv("number_of_functions", &o.libraries.functions);
    kv("number_of_libraries", &o.libraries.libraries);
    kv("used_memory_vm_functions", &vm_functions);
    kv("used_memory_vm_total", &(vm_eval + vm_functions));
    kv("used_memory_vm_total_human", &human(vm_eval + vm_functions));
    kv("used_memory_functions", &o.libraries.bytes);
    let scripts = o.scripts_eval_bytes + o.libraries.bytes;
    kv("used_memory_scripts", &scripts);
    kv("used_memory_scripts_human", &human(scripts));
    kv("maxmemory", &o.maxmemory_bytes);
    kv("maxmemory_human", &human(o.maxmemory_bytes));
    kv("maxmemory_policy", &o.maxmemory_policy);
    kv("allocator_frag_ratio", &format!("{a_frag:.2}"));
    kv("allocator_frag_bytes", &a_frag_bytes);
    kv("allocator_rss_ratio", &format!("{a_rss:.2}"));
    kv("allocator_rss_bytes", &a_rss_bytes);
    kv("rss_overhead_ratio", &format!("{rss_over:.2}"));
    kv("rss_overhead_bytes", &rss_over_bytes);
    kv("mem_fragmentation_ratio", &format!("{frag:.2}"));
    kv("mem_fragmentation_bytes", &frag_bytes);
    kv("mem_not_counted_for_evict", &o.not_counted_for_evict());
    kv("mem_replication_backlog", &o.backlog_bytes);
    kv(
        "mem_total_replication_buffers",
        &(o.backlog_bytes + o.replica_feed_bytes),
    );
    kv("mem_clients_slaves", &o.clients_slaves());
    kv("mem_clients_normal", &o.clients_normal_bytes);
    kv("mem_cluster_links", &0);
    kv("mem_aof_buffer", &o.aof_buffer_bytes);
    kv("mem_allocator", &alloc::allocator_name());
    kv("active_defrag_running", &0);
    kv(
        "lazyfree_pending_objects",
        &crate::lazyfree::pending_objects(),
    );
    kv("lazyfreed_objects", &crate::lazyfree::freed_objects());
}

// ---------------------------------------------------------------------------------------------
// MEMORY USAGE
// ---------------------------------------------------------------------------------------------

/// Elements MEMORY USAGE samples in a collection unless told (Redis' default).
const USAGE_DEFAULT_SAMPLES: usize = 5;

/// Reads `[SAMPLES count]` pairs as Redis does: a negative count or any other word is a
/// syntax error, a count that is no integer is Redis' integer error, 0 means every element.
fn usage_samples(args: Args<'_>) -> Result<usize, ReplyError> {
    let mut samples = USAGE_DEFAULT_SAMPLES;
    let mut j = 3;
    while j < args.len() {
        if !args.get(j).eq_ignore_ascii_case(b"samples") || j + 1 >= args.len() {
            return Err(ReplyError::Syntax);
        }
        let n = super::kit::number::i64_arg(args.get(j + 1))?;
        samples = match n {
            n if n < 0 => return Err(ReplyError::Syntax),
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        j += 2;
    }
    Ok(samples)
}

/// The bytes one key takes, at allocator usable sizes: its table slot (one word), its block
/// (header, expiry, key and an inline string), and for a boxed value the box and the value's
/// heap (collections sampled).
pub fn entry_bytes(e: &Entry, samples: usize) -> usize {
    let own = std::mem::size_of::<Entry>() + usable(e.block_bytes());
    match e.stored() {
        Stored::Inline { .. } => own,
        Stored::Boxed(v) => own + usable(std::mem::size_of::<Value>()) + value_bytes(v, samples),
    }
}

fn value_bytes(v: &Value, samples: usize) -> usize {
    match v {
        Value::Str(s) if s.bytes.capacity() == 0 => 0,
        Value::Str(s) => usable(s.bytes.capacity()),
        Value::Hash(h) => h.heap_bytes_sampled(samples),
        Value::List(l) => l.heap_bytes(),
        Value::Set(s) => s.heap_bytes_sampled(samples),
        Value::ZSet(z) => z.heap_bytes_sampled(samples),
        Value::Stream(s) => {
            usable(std::mem::size_of::<crate::types::stream::StreamValue>())
                + s.heap_bytes_sampled(samples)
        }
    }
}

fn memory_usage(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let samples = usage_samples(args)?;
    match peek(ex, args.get(2)).map(|e| entry_bytes(e, samples)) {
        Some(bytes) => ex.out.int(bytes as i64),
        None => ex.out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// MEMORY STATS, DOCTOR, MALLOC-STATS, PURGE, HELP
// ---------------------------------------------------------------------------------------------

/// A map entry of MEMORY STATS with an integer value.
fn stat_int(out: &mut Out<'_>, name: &str, v: i64) {
    out.bulk(name.as_bytes());
    out.int(v);
}

/// A map entry whose value Redis computes as a C float and replies as a double.
fn stat_float(out: &mut Out<'_>, name: &str, v: f32) {
    out.bulk(name.as_bytes());
    out.double(f64::from(v));
}

fn memory_stats(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let o = Overview::gather(ctx)?;
    let out = &mut ctx.out;
    // As Redis: one `db.N` entry per database holding keys.
    let used_dbs: Vec<(u32, &DbOverhead)> = o
        .per_db
        .iter()
        .filter(|(_, (keys, _))| *keys > 0)
        .map(|(n, (_, d))| (*n, d))
        .collect();
    out.map(27 + used_dbs.len());
    for (name, v) in [
        ("peak.allocated", o.peak_bytes),
        ("total.allocated", o.used_bytes),
        ("startup.allocated", o.startup_bytes),
        ("replication.backlog", o.backlog_bytes),
        ("clients.slaves", o.clients_slaves()),
        ("clients.normal", o.clients_normal_bytes),
        ("cluster.links", 0),
        ("aof.buffer", o.aof_buffer_bytes),
        ("lua.caches", o.scripts_eval_bytes),
        ("functions.caches", o.libraries.bytes),
    ] {
        stat_int(out, name, v as i64);
    }
    for (n, d) in used_dbs {
        out.bulk(format!("db.{n}").as_bytes());
        out.map(3);
        stat_int(out, "overhead.hashtable.main", o.main_table_bytes(d) as i64);
        stat_int(out, "overhead.hashtable.expires", d.expires_bytes as i64);
        let slot_to_keys = o.slot_to_keys_bytes(d) as i64;
        stat_int(out, "overhead.hashtable.slot-to-keys", slot_to_keys);
    }
    stat_int(out, "overhead.total", o.overhead_bytes() as i64);
    stat_int(out, "keys.count", o.keys as i64);
    stat_int(out, "keys.bytes-per-key", o.bytes_per_key() as i64);
    stat_int(out, "dataset.bytes", o.dataset_bytes());
    stat_float(out, "dataset.percentage", o.dataset_perc());
    stat_float(out, "peak.percentage", o.peak_perc());
    stat_int(out, "allocator.allocated", o.allocator.0 as i64);
    stat_int(out, "allocator.active", o.allocator.1 as i64);
    stat_int(out, "allocator.resident", o.allocator.2 as i64);
    for (name, (ratio, bytes)) in [
        ("allocator-fragmentation", o.allocator_frag()),
        ("allocator-rss", o.allocator_rss()),
        ("rss-overhead", o.rss_overhead()),
    ] {
        stat_float(out, &format!("{name}.ratio"), ratio);
        stat_int(out, &format!("{name}.bytes"), bytes);
    }
    let (frag, frag_bytes) = o.fragmentation();
    stat_float(out, "fragmentation", frag);
    stat_int(out, "fragmentation.bytes", frag_bytes);
    Ok(())
}

/// MEMORY DOCTOR's verdict on the overview, in Redis' words (getMemoryDoctorReport).
pub fn doctor_report(o: &Overview) -> String {
    const MIB: u64 = 1024 * 1024;
    if o.used_bytes < 5 * MIB {
        return DOCTOR_EMPTY.to_string();
    }
    let over = |(ratio, bytes): (f32, i64), limit: f32| ratio > limit && bytes > 10 << 20;
    let big_peak = o.peak_bytes as f32 / o.used_bytes as f32 > 1.5;
    let high_frag = over(o.fragmentation(), 1.4);
    let high_alloc_frag = over(o.allocator_frag(), 1.1);
    let high_alloc_rss = over(o.allocator_rss(), 1.1);
    let high_proc_rss = over(o.rss_overhead(), 1.1);
    let big_client_buf =
        o.normal_clients > 0 && o.clients_normal_bytes / o.normal_clients > 200 * 1024;
    let big_replica_buf =
        o.replica_clients > 0 && o.clients_slaves() / o.replica_clients > 10 * MIB;
    let found: Vec<String> = [
        (big_peak, DOCTOR_BIG_PEAK.to_string()),
        (
            high_frag,
            DOCTOR_HIGH_FRAG.replace("{allocator}", &alloc::allocator_name()),
        ),
        (high_alloc_frag, DOCTOR_ALLOC_FRAG.to_string()),
        (high_alloc_rss, DOCTOR_ALLOC_RSS.to_string()),
        (high_proc_rss, DOCTOR_PROC_RSS.to_string()),
        (big_replica_buf, DOCTOR_REPLICA_BUF.to_string()),
        (big_client_buf, DOCTOR_CLIENT_BUF.to_string()),
    ]
    .into_iter()
    .filter_map(|(on, text)| on.then_some(text))
    .collect();
    if found.is_empty() {
        return DOCTOR_FINE.to_string();
    }
    let mut s = DOCTOR_HEAD.to_string();
    for text in found {
        s.push_str(" * ");
        s.push_str(&text);
        s.push_str("\n\n");
    }
    s.push_str(DOCTOR_TAIL);
    s
}

const DOCTOR_FINE: &str = "Hi Sam, I can't find any memory issue in your instance. I can only \
account for what occurs on this base.\n";
const DOCTOR_EMPTY: &str = "Hi Sam, this instance is empty or is using very little memory, my \
issues detector can't be used in these conditions. Please, leave for your mission on Earth and \
fill it with some data. The new Sam and I will be back to our programming as soon as I finished \
rebooting.\n";
const DOCTOR_HEAD: &str =
    "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
const DOCTOR_TAIL: &str = "I'm here to keep you safe, Sam. I want to help you.\n";
const DOCTOR_BIG_PEAK: &str = "Peak memory: In the past this instance used more than 150% the \
memory that is currently using. The allocator is normally not able to release memory after a \
peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and \
is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently \
bigger than expected, the memory will be used as soon as you fill the Redis instance with more \
data. If the memory peak was only occasional and you want to try to reclaim memory, please try \
the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the \
instance.";
const DOCTOR_HIGH_FRAG: &str = "High total RSS: This instance has a memory fragmentation and RSS \
overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much \
larger than the sum of the logical allocations Redis performed). This problem is usually due \
either to a large peak memory (check if there is a peak memory entry above in the report) or \
may result from a workload that causes the allocator to fragment memory a lot. If the problem \
is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc \
allocator and not the default libc malloc. Note: The currently used allocator is \
\"{allocator}\".";
const DOCTOR_ALLOC_FRAG: &str = "High allocator fragmentation: This instance has an allocator \
external fragmentation greater than 1.1. This problem is usually due either to a large peak \
memory (check if there is a peak memory entry above in the report) or may result from a \
workload that causes the allocator to fragment memory a lot. You can try enabling \
'activedefrag' config option.";
const DOCTOR_ALLOC_RSS: &str = "High allocator RSS overhead: This instance has an RSS memory \
overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much \
larger than the sum what the allocator actually holds). This problem is usually due to a large \
peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY \
PURGE command to reclaim it.";
const DOCTOR_PROC_RSS: &str = "High process RSS overhead: This instance has non-allocator RSS \
memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process \
is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or \
Modules.";
const DOCTOR_REPLICA_BUF: &str = "Big replica buffers: The replica output buffers in this \
instance are greater than 10MB for each replica (on average). This likely means that there is \
some replica instance that is struggling receiving data, either because it is too slow or \
because of networking issues. As a result, data piles on the master output buffers. Please try \
to identify what replica is not receiving data correctly and why. You can use the INFO output \
in order to check the replicas delays and the CLIENT LIST command to check the output buffers \
of each replica.";
const DOCTOR_CLIENT_BUF: &str = "Big client buffers: The clients output buffers in this instance \
are greater than 200K per client (on average). This may result from different causes, like \
Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles \
on the Redis instance output buffer, or clients sending commands with large replies or very \
large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order \
to investigate the issue if it causes problems in your instance, or to understand better why \
certain clients are using a big amount of memory.";

fn memory_doctor(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let o = Overview::gather(ctx)?;
    ctx.out.verbatim(doctor_report(&o).as_bytes());
    Ok(())
}

fn memory_malloc_stats(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.verbatim(alloc::malloc_stats_text().as_bytes());
    Ok(())
}

fn memory_purge(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    if !alloc::purge() {
        return Err(ReplyError::other("ERR Error purging dirty pages"));
    }
    ctx.out.simple("OK");
    Ok(())
}

/// The help lines are part of the reply format clients may show, so they match Redis'.
const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

fn memory_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(MEMORY_HELP.len());
    for line in MEMORY_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

/// Redis' tips for the node-wide reports.
const REPORT_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];

/// A MEMORY subcommand answered by the connection's shard (arity 2, @slow).
const fn report(
    name: &'static str,
    f: super::ConnFn,
    complexity: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        group: "server",
        acl: acl::SLOW,
        since: "4.0.0",
        complexity,
        summary,
        ..CommandSpec::conn(name, 2, 0, f)
    }
    .tips(REPORT_TIPS)
}

const USAGE_ARGS: &[ArgDoc] = &[
    arg("key", "key"),
    opt(tok("SAMPLES", arg("count", "integer"))),
];

/// Could be slow: Redis' own words for the allocator-wide subcommands.
const SLOW_BY_SIZE: &str = "Depends on how much memory is allocated, could be slow";

static MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    report(
        "doctor",
        memory_doctor,
        "O(1)",
        "Outputs memory problems report",
    ),
    report(
        "malloc-stats",
        memory_malloc_stats,
        SLOW_BY_SIZE,
        "Show allocator internal stats",
    ),
    CommandSpec {
        group: "server",
        acl: acl::SLOW | acl::READ,
        since: "4.0.0",
        complexity: "O(N) where N is the number of samples.",
        summary: "Estimate the memory usage of a key",
        args: USAGE_ARGS,
        tips: &[],
        key_flags: keyflag::RO,
        ..CommandSpec::keyed("usage", -3, READONLY, K2, memory_usage)
    },
    CommandSpec {
        group: "server",
        acl: acl::SLOW,
        since: "4.0.0",
        complexity: "O(1)",
        summary: "Show helpful text about the different subcommands",
        ..CommandSpec::conn("help", 2, LOADING | STALE, memory_help)
    },
    report(
        "purge",
        memory_purge,
        SLOW_BY_SIZE,
        "Ask the allocator to release memory",
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    report("stats", memory_stats, "O(1)", "Show memory usage details"),
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    group: "server",
    since: "4.0.0",
    complexity: "Depends on subcommand.",
    summary: "A container for memory diagnostics commands",
    subcommands: MEMORY_SUBCOMMANDS,
    ..CommandSpec::new("memory", -2, 0, KeySpec::None, Handler::Container)
}];

#[cfg(test)]
mod tests {
    use super::*;

    fn overview(used: u64, peak: u64) -> Overview {
        Overview {
            used_bytes: used,
            peak_bytes: peak,
            startup_bytes: 1 << 20,
            rss_bytes: used,
            backlog_bytes: 0,
            replica_feed_bytes: 0,
            clients_replica_bytes: 0,
            clients_normal_bytes: 20_000,
            normal_clients: 1,
            replica_clients: 0,
            aof_buffer_bytes: 0,
            keys: 10,
            per_db: Default::default(),
            db: DbOverhead::default(),
            cluster_enabled: false,
            allocator: (used, used, used),
            maxmemory_bytes: 0,
            maxmemory_policy: "noeviction".into(),
            cached_scripts: 0,
            scripts_eval_bytes: 0,
            lua_vm_bytes: (0, 0),
            libraries: Default::default(),
        }
    }

    #[test]
    fn the_doctor_speaks_redis_words_for_each_case() {
        // Guards the report's three shapes: too little data, all good, and an issue list.
        assert!(doctor_report(&overview(1 << 20, 1 << 20)).starts_with("Hi Sam, this instance"));
        let fine = doctor_report(&overview(64 << 20, 64 << 20));
        assert_eq!(fine, DOCTOR_FINE);
        let peaked = doctor_report(&overview(64 << 20, 200 << 20));
        assert!(peaked.starts_with(DOCTOR_HEAD), "{peaked}");
        assert!(peaked.contains(" * Peak memory: In the past"));
        assert!(peaked.ends_with("\n\nI'm here to keep you safe, Sam. I want to help you.\n"));
    }

    #[test]
    fn ratios_are_c_floats_like_redis() {
        // Guards MEMORY STATS' doubles: Redis computes them as floats, so the digits differ
        // from a double's (99.854034423828125, not 99.85403...).
        let o = overview(3 << 20, 4 << 20);
        assert_eq!(o.peak_perc(), 75.0);
        assert_eq!(f64::from(1.0877236f32), 1.0877236127853394);
        assert_eq!(o.bytes_per_key(), (2 << 20) / 10);
        assert_eq!(o.dataset_bytes(), (3 << 20) - (1 << 20) - 20_000);
    }
}
