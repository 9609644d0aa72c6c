//! A shard's side of maxmemory: it keeps its estimate of the process' memory (`MemShare`),
//! re-reads the real total when the estimate says it is near the limit (and at every cron),
//! and when the total is over the limit deletes keys of its own databases, chosen by the
//! policy (`keyspace::evict`), until its own frees pay for the excess or the time limit of
//! `maxmemory-eviction-tenacity` runs out (the rest continues in later loop turns). Evicted
//! keys go to the journal as DEL (AOF and replicas), touch WATCHed keys and count as
//! `evicted_keys`. No cross-core work: only the relaxed loads of the memory counters.
//!
//! The caller decides what a failure means: commands flagged deny-oom get Redis' -OOM error
//! (`dispatch`); the replication stream and the AOF loader never come here.

use super::Shard;
use crate::keyspace::evict::{self, MemShare, Need, Pool, Rank, Settings, Touch};
use std::time::Instant;

/// What an eviction attempt achieved (Redis' EVICT_OK / EVICT_RUNNING / EVICT_FAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or no limit, or a replica ignoring it).
    Under,
    /// Over the limit, still evicting in later turns: commands are accepted meanwhile.
    Running,
    /// Over the limit with nothing this shard may evict: deny-oom commands are refused.
    Fail,
}

/// Where the memory figures come from: the allocator in the server, a model in tests.
pub trait Meter {
    /// The process' allocated bytes (Redis' used_memory).
    fn total(&self, sh: &Shard) -> u64;
    /// This thread's allocated minus freed bytes (any origin; only differences are used).
    fn own(&self, sh: &Shard) -> i64;
}

/// The allocator's counters (`sys::alloc`).
pub struct AllocMeter;

impl Meter for AllocMeter {
    fn total(&self, sh: &Shard) -> u64 {
        // As Redis' freeMemoryGetNotCountedMemory, replica output buffers and the AOF buffer
        // do not count toward the limit (this shard's journal; the other shards' journals
        // stay counted, a slight overestimate rather than a cross-core read).
        let repl = &sh.global.repl;
        let feeds = if repl.feeding.load(std::sync::atomic::Ordering::Relaxed) {
            repl.replica_feed_bytes()
        } else {
            0
        };
        crate::sys::alloc::used_bytes().saturating_sub(feeds + sh.journal.len() as u64)
    }
    fn own(&self, _: &Shard) -> i64 {
        // With what the lazy-free worker freed for this shard: its frees count on its own
        // thread, and a shard that unlinked a big value would otherwise not see it go.
        crate::lazyfree::thread_net_bytes()
    }
}

/// The shard's eviction state.
#[derive(Debug, Default)]
pub struct ShardEvict {
    pub share: MemShare,
    pool: Pool,
    /// The victim's key (a reused buffer).
    victim: Vec<u8>,
    /// Random policies: the database to start the next pick at (Redis' static next_db).
    next_db: usize,
    /// Over the limit when time ran out: later loop turns continue.
    pub behind: bool,
    /// Keys evicted since start (INFO evicted_keys).
    pub evicted_keys: u64,
    /// The LRU/LFU setting the keyspace was last given.
    pub touch: Touch,
}

/// The per-command check, before a client's command runs (Redis' performEvictions call in
/// processCommand): returns at once when no limit is set.
#[inline]
pub fn before_command(sh: &mut Shard, now_ms: u64) -> Outcome {
    perform(sh, &AllocMeter, now_ms, Pace::Command)
}

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// A client's command: re-read only when the estimate is near the limit; evict the whole
    /// excess (what this shard just added, as a rule).
    Command,
    /// The cron and the catch-up turns: always re-read; evict this shard's part of the
    /// excess (shared with the other shards that have keys to evict), so shards that add
    /// nothing still help when another's keys cannot pay.
    Cron,
}

/// Checks the memory and evicts if over the limit.
pub fn perform(sh: &mut Shard, meter: &impl Meter, now_ms: u64, pace: Pace) -> Outcome {
    if pace == Pace::Command {
        // The per-command path: the limit and this thread's counter, nothing else.
        let limit = sh.global.maxmemory.maxmemory_bytes();
        if limit == 0 || sh.evict.share.check(limit, meter.own(sh)) == Need::Under {
            return Outcome::Under;
        }
    }
    let s = sh.global.maxmemory.load();
    sync_touch(sh, &s);
    if pace == Pace::Cron {
        let n = candidates(sh, &s) as u64;
        sh.global.maxmemory.set_candidates(sh.id, n);
    }
    if s.maxmemory_bytes == 0 || replica_ignores(sh, &s) {
        sh.evict.behind = false;
        return Outcome::Under;
    }
    let limit = s.maxmemory_bytes;
    let own = meter.own(sh);
    sh.evict.share.reread(meter.total(sh), own);
    let mut excess = sh.evict.share.excess(limit, own);
    if excess == 0 {
        sh.evict.behind = false;
        return Outcome::Under;
    }
    if s.policy.rank() == Rank::Never {
        sh.evict.behind = false;
        return Outcome::Fail;
    }
    let others = sh.global.maxmemory.others_with_candidates(sh.id);
    if pace == Pace::Cron {
        excess = excess.div_ceil(1 + others as u64);
    }
    let started = Instant::now();
    let time_limit_us = s.time_limit_us();
    let mut keys = 0usize;
    loop {
        let freed = own.saturating_sub(meter.own(sh)).max(0) as u64;
        if freed >= excess {
            sh.evict.behind = false;
            return Outcome::Under;
        }
        if !evict_one(sh, &s, now_ms) {
            sh.evict.behind = false;
            sh.global.maxmemory.set_candidates(sh.id, 0);
            // Nothing here to evict: when other shards have keys they pay at their next
            // cron, and this command goes on; only when no shard has any is it refused.
            return if others > 0 {
                Outcome::Running
            } else if lazy_victims_suffice(sh, meter, own, excess, time_limit_us) {
                Outcome::Under
            } else {
                Outcome::Fail
            };
        }
        keys += 1;
        if keys.is_multiple_of(evict::EVICT_CLOCK_CHECK_KEYS)
            && started.elapsed().as_micros() as u64 > time_limit_us
        {
            sh.evict.behind = true;
            return Outcome::Running;
        }
    }
}

/// Out of keys with `lazyfree-lazy-eviction`: the victims may still be on the lazy-free
/// worker. Wait for it briefly (the eviction time limit, capped) and see whether what it freed
/// for this shard covers the excess, as Redis does before it answers -OOM.
fn lazy_victims_suffice(
    sh: &Shard,
    meter: &impl Meter,
    own: i64,
    excess: u64,
    time_limit_us: u64,
) -> bool {
    if crate::lazyfree::pending_objects() == 0 {
        return false;
    }
    let wait_us = time_limit_us.min(crate::constants::LAZYFREE_EVICTION_WAIT_MAX_US);
    crate::lazyfree::wait_idle(std::time::Duration::from_micros(wait_us));
    own.saturating_sub(meter.own(sh)).max(0) as u64 >= excess
}

/// Keys of this shard the policy may evict.
fn candidates(sh: &Shard, s: &Settings) -> usize {
    match s.policy.rank() {
        Rank::Never => 0,
        _ if s.policy.allkeys() => sh.each_db().map(|(_, d)| d.len()).sum(),
        _ => sh.each_db().map(|(_, d)| d.volatile_len()).sum(),
    }
}

/// `replica-ignore-maxmemory yes` on a replica: its master decides what is evicted.
fn replica_ignores(sh: &Shard, s: &Settings) -> bool {
    s.replica_ignore
        && sh
            .global
            .repl
            .is_replica
            .load(std::sync::atomic::Ordering::Relaxed)
}

/// After CONFIG SET: the shard that ran it applies the new LRU/LFU mode at once (the others
/// at their next cron, within 100 ms).
pub fn settings_changed(sh: &mut Shard) {
    let s = sh.global.maxmemory.load();
    sync_touch(sh, &s);
}

/// Keeps the keyspace's LRU/LFU bookkeeping in line with the policy in force; a switch
/// between LRU and LFU forgets the pool (its scores meant the other thing).
fn sync_touch(sh: &mut Shard, s: &Settings) {
    let t = Touch::from_settings(s);
    if t != sh.evict.touch {
        if t.lfu != sh.evict.touch.lfu {
            sh.evict.pool.clear();
        }
        sh.evict.touch = t;
        for (_, db) in sh.each_db_mut() {
            db.touch_mode = t;
        }
    }
}

/// Picks and deletes one key; false when this shard has none the policy may evict.
fn evict_one(sh: &mut Shard, s: &Settings, now_ms: u64) -> bool {
    let Some(found) = pick(sh, s, now_ms) else {
        return false;
    };
    let d = found as u32;
    let key = std::mem::take(&mut sh.evict.victim);
    if let Some(e) = sh.db_at(d).remove(&key, now_ms) {
        crate::lazyfree::free(e, crate::lazyfree::Cause::Eviction);
        // The DEL is for the victim's database, whatever the running command selected.
        let cmd_db = sh.journal.selected();
        sh.journal.select(d);
        sh.journal.record(&[b"DEL", &key]);
        sh.journal.select(cmd_db);
        sh.touch_watched(d, &key);
        sh.evict.evicted_keys += 1;
        super::notify::event_in(sh, super::notify::EVICTED, "evicted", d, &key);
    }
    super::repl::journal_expired(sh);
    sh.evict.victim = key;
    true
}

/// Finds the next victim: its database index, its key in `sh.evict.victim`.
fn pick(sh: &mut Shard, s: &Settings, now_ms: u64) -> Option<usize> {
    let volatile = !s.policy.allkeys();
    let candidates = |db: &crate::keyspace::db::Db| {
        if volatile {
            db.volatile_len()
        } else {
            db.len()
        }
    };
    if s.policy.rank() == Rank::Random {
        let dbs = sh.databases.max(1) as usize;
        for i in 0..dbs {
            let d = (sh.evict.next_db + i) % dbs;
            let db = if d == 0 {
                Some(&sh.db)
            } else {
                sh.dbs.get(d as u32)
            };
            let Some(db) = db.filter(|db| candidates(db) > 0) else {
                continue;
            };
            sh.evict.next_db = d + 1;
            let victim = &mut sh.evict.victim;
            victim.clear();
            let n = evict::sample(db, &mut sh.rng, 1, volatile, now_ms, |k, _, _| {
                victim.extend_from_slice(k)
            });
            if n == 1 {
                return Some(d);
            }
        }
        return None;
    }
    for _ in 0..PICK_REFILLS {
        let mut total = 0;
        // Every database in use feeds the one pool (Redis samples each database in turn).
        let (first, more) = (&sh.db, &sh.dbs);
        let all = std::iter::once((0, first))
            .chain((1..sh.databases).filter_map(|i| more.get(i).map(|d| (i as usize, d))));
        for (i, db) in all {
            if candidates(db) > 0 {
                total += candidates(db);
                evict::populate(&mut sh.evict.pool, db, i, s, &mut sh.rng, now_ms);
            }
        }
        if total == 0 {
            return None;
        }
        let mut key = std::mem::take(&mut sh.evict.victim);
        while let Some(d) = sh.evict.pool.pop_best(&mut key) {
            // A candidate may have gone since it was sampled (deleted, or its TTL removed).
            let live = match sh.db_at(d as u32).lookup_write(&key, now_ms) {
                Some(e) => !volatile || e.expire_at_ms() != 0,
                None => false,
            };
            if live {
                sh.evict.victim = key;
                return Some(d);
            }
        }
        sh.evict.victim = key;
    }
    None
}

/// Pool refills one pick tries before it gives up (only a keyspace whose every sampled
/// candidate vanished or expired meanwhile gets there).
const PICK_REFILLS: usize = 32;

/// The cron's part (every 100 ms): a fresh reading of the total, this shard's share of any
/// excess, and the keyspace's LRU/LFU mode brought in line with the policy.
pub fn cron(sh: &mut Shard, now_ms: u64) {
    perform(sh, &AllocMeter, now_ms, Pace::Cron);
}

/// A later loop turn while `behind` (the last call ran out of time over the limit).
pub fn catch_up(sh: &mut Shard, now_ms: u64) {
    perform(sh, &AllocMeter, now_ms, Pace::Cron);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::{StrValue, Value};
    use crate::testkit::{Harness, Reply};

    /// Memory modelled as `BYTES_PER_KEY` per key of the shard.
    struct PerKey;
    const BYTES_PER_KEY: u64 = 1000;
    impl Meter for PerKey {
        fn total(&self, sh: &Shard) -> u64 {
            sh.keys_all_dbs() as u64 * BYTES_PER_KEY
        }
        fn own(&self, sh: &Shard) -> i64 {
            self.total(sh) as i64
        }
    }

    fn harness(policy: &str, limit: u64) -> Harness {
        let mut h = Harness::new();
        h.shard.rng = crate::rng::Rng::with_seed(3);
        let limit = limit.to_string();
        let r = h.run(&[
            "config",
            "set",
            "maxmemory",
            &limit,
            "maxmemory-policy",
            policy,
            "maxmemory-samples",
            "10",
            // no time limit: a debug build is slow
            "maxmemory-eviction-tenacity",
            "100",
        ]);
        assert_eq!(r, Reply::ok());
        h
    }

    fn put(h: &mut Harness, key: &str, at_ms: u64, ttl_ms: u64) {
        let v = Value::Str(StrValue::from_slice(b"v"));
        let exp = if ttl_ms == 0 { 0 } else { at_ms + ttl_ms };
        h.shard.db.set(key.as_bytes(), v, exp, at_ms);
    }

    #[test]
    fn allkeys_lru_evicts_down_to_the_limit_oldest_first() {
        let mut h = harness("allkeys-lru", 60 * BYTES_PER_KEY);
        h.shard.journal.enabled = true;
        let now = h.now_ms;
        for i in 0..50 {
            put(&mut h, &format!("old{i}"), now - 600_000, 0);
            put(&mut h, &format!("new{i}"), now, 0);
        }
        let out = perform(&mut h.shard, &PerKey, now, Pace::Command);
        assert_eq!(out, Outcome::Under);
        assert_eq!(h.shard.db.len(), 60);
        assert_eq!(h.shard.evict.evicted_keys, 40);
        // The pool ranks by idle time: nearly every victim is one of the old keys.
        let new_left = (0..50)
            .filter(|i| h.shard.db.contains(format!("new{i}").as_bytes(), now))
            .count();
        assert!(new_left >= 45, "{new_left} of 50 recent keys left");
        // Each victim went to the journal as DEL (AOF and replicas).
        let j = String::from_utf8_lossy(&h.shard.journal.take()).into_owned();
        assert_eq!(j.matches("$3\r\nDEL\r\n").count(), 40, "{j}");
    }

    #[test]
    fn volatile_policies_touch_only_keys_with_a_ttl() {
        for policy in [
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ] {
            let mut h = harness(policy, 5 * BYTES_PER_KEY);
            let now = h.now_ms;
            for i in 0..10 {
                put(&mut h, &format!("keep{i}"), now, 0);
                put(&mut h, &format!("ttl{i}"), now, 1_000_000 + i * 1000);
            }
            let out = perform(&mut h.shard, &PerKey, now, Pace::Command);
            assert_eq!(
                out,
                Outcome::Fail,
                "{policy}: the TTL keys cannot pay for it all"
            );
            assert_eq!(h.shard.db.len(), 10, "{policy}");
            assert_eq!(h.shard.db.volatile_len(), 0, "{policy}");
        }
        // volatile-ttl takes the soonest expiry first.
        let mut h = harness("volatile-ttl", 15 * BYTES_PER_KEY);
        let now = h.now_ms;
        for i in 0..20 {
            put(&mut h, &format!("ttl{i}"), now, 1_000_000 + i * 1000);
        }
        perform(&mut h.shard, &PerKey, now, Pace::Command);
        assert_eq!(h.shard.db.len(), 15);
        let early_gone = (0..5)
            .filter(|i| !h.shard.db.contains(format!("ttl{i}").as_bytes(), now))
            .count();
        assert!(
            early_gone >= 4,
            "{early_gone} of the 5 soonest expiries evicted"
        );
    }

    #[test]
    fn cron_pays_one_share_and_noeviction_fails() {
        let mut h = harness("allkeys-random", 10 * BYTES_PER_KEY);
        let now = h.now_ms;
        for i in 0..30 {
            put(&mut h, &format!("k{i}"), now, 0);
        }
        assert_eq!(
            perform(&mut h.shard, &PerKey, now, Pace::Cron),
            Outcome::Under
        );
        assert_eq!(h.shard.db.len(), 10, "one shard: its share is all of it");
        let mut h = harness("noeviction", 10 * BYTES_PER_KEY);
        for i in 0..30 {
            put(&mut h, &format!("k{i}"), now, 0);
        }
        assert_eq!(
            perform(&mut h.shard, &PerKey, now, Pace::Command),
            Outcome::Fail
        );
        assert_eq!(h.shard.db.len(), 30);
        assert_eq!(
            perform(&mut h.shard, &PerKey, now, Pace::Cron),
            Outcome::Fail
        );
    }

    #[test]
    fn a_shard_without_keys_leaves_the_excess_to_shards_with_some() {
        // Shard 0 of 2 holds nothing: over the limit it refuses only when no shard can pay.
        let global = crate::global::Global::new(crate::config::Config::default(), 2, None);
        global.maxmemory.store(Settings {
            maxmemory_bytes: 1,
            policy: crate::keyspace::evict::Policy::AllkeysLru,
            ..Settings::default()
        });
        struct Over;
        impl Meter for Over {
            fn total(&self, _: &Shard) -> u64 {
                1000
            }
            fn own(&self, _: &Shard) -> i64 {
                1000
            }
        }
        let mut sh = Shard::new(0, 2, global.clone());
        let now = 1_700_000_000_000;
        assert_eq!(perform(&mut sh, &Over, now, Pace::Command), Outcome::Fail);
        global.maxmemory.set_candidates(1, 5);
        assert_eq!(
            perform(&mut sh, &Over, now, Pace::Command),
            Outcome::Running
        );
        // Its cron publishes that it has nothing itself.
        global.maxmemory.set_candidates(0, 9);
        perform(&mut sh, &Over, now, Pace::Cron);
        assert_eq!(global.maxmemory.others_with_candidates(1), 0);
    }

    #[test]
    fn deny_oom_commands_get_redis_error_when_nothing_can_go() {
        // A 1-byte limit is always exceeded: noeviction refuses deny-oom commands only.
        let oom = Reply::err("OOM command not allowed when used memory > 'maxmemory'.");
        let mut h = harness("noeviction", 1);
        assert_eq!(h.run(&["set", "a", "1"]), oom);
        assert_eq!(h.run(&["get", "a"]), Reply::Nil);
        assert_eq!(h.run(&["del", "a"]), Reply::Int(0));
        // Inside MULTI every command but EXEC/DISCARD is refused and dooms the EXEC.
        assert_eq!(h.run(&["multi"]), Reply::ok());
        assert_eq!(h.run(&["get", "a"]), oom);
        assert_eq!(
            h.run(&["exec"]),
            Reply::err("EXECABORT Transaction discarded because of previous errors.")
        );
        // EXEC of a queue holding a deny-oom command, queued before the limit was set.
        assert_eq!(h.run(&["config", "set", "maxmemory", "0"]), Reply::ok());
        assert_eq!(h.run(&["multi"]), Reply::ok());
        assert_eq!(h.run(&["set", "a", "1"]), Reply::Simple("QUEUED".into()));
        h.shard.global.maxmemory.store(Settings {
            maxmemory_bytes: 1,
            ..h.shard.global.maxmemory.load()
        });
        assert_eq!(
            h.run(&["exec"]),
            Reply::err(
                "EXECABORT Transaction discarded because of: OOM command not allowed when \
                 used memory > 'maxmemory'."
            )
        );
        assert_eq!(h.run(&["get", "a"]), Reply::Nil);
        // allkeys-lru evicts everything it can first, then refuses.
        let mut h = harness("allkeys-lru", 0);
        assert_eq!(h.run(&["set", "a", "1"]), Reply::ok());
        assert_eq!(h.run(&["config", "set", "maxmemory", "1"]), Reply::ok());
        assert_eq!(h.run(&["set", "b", "1"]), oom);
        assert_eq!(h.run(&["exists", "a"]), Reply::Int(0));
        assert_eq!(h.shard.evict.evicted_keys, 1);
    }
}
