//! maxmemory eviction as plain logic (Redis 7.0's evict.c, rewritten): the eight policies and
//! their settings, the 24-bit LRU clock, the LFU log counter with its decay, the idle score a
//! key is ranked by, the 16-entry eviction pool filled by sampling a `Db`, the eviction time
//! limit from `maxmemory-eviction-tenacity`, and a shard's estimate of the process' memory
//! between two reads of the real total. No I/O and no allocator calls: the shard
//! (`shard::evict`) feeds in the measured bytes and deletes the victims.

use super::db::Db;
use crate::config::Config;
use crate::rng::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bits of an entry's LRU/LFU field (Redis' LRU_BITS).
pub const LRU_BITS: u32 = 24;
/// Largest LRU clock value; the clock wraps to 0 after it (about 194 days of seconds).
pub const LRU_CLOCK_MAX: u32 = super::entry::LRU_MAX;
const _: () = assert!(LRU_CLOCK_MAX == (1 << LRU_BITS) - 1);
/// Milliseconds per LRU clock tick (Redis' LRU_CLOCK_RESOLUTION).
pub const LRU_CLOCK_RESOLUTION_MS: u64 = 1000;
/// The LFU counter of a new key, so it is not evicted before it had a chance to be read.
pub const LFU_INIT_VAL: u8 = 5;
/// Candidates the eviction pool keeps (Redis' EVPOOL_SIZE).
pub const EVPOOL_SIZE: usize = 16;
/// Keys deleted between two looks at the clock while evicting (Redis checks every 16).
pub const EVICT_CLOCK_CHECK_KEYS: usize = 16;
/// A shard whose own estimate is within this share of the limit (1/64, about 1.6%) reads the
/// process total again once its own allocations moved by `REREAD_STEP_BYTES`.
pub const NEAR_LIMIT_SHIFT: u32 = 6;
/// Own allocation movement (bytes) after which a shard near the limit re-reads the total.
pub const REREAD_STEP_BYTES: i64 = 64 * 1024;

/// `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    NoEviction,
}

/// How a policy ranks candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rank {
    Lru,
    Lfu,
    Ttl,
    Random,
    /// noeviction: nothing is ever deleted.
    Never,
}

impl Policy {
    /// The policy named `name` (CONFIG's spelling, any case).
    pub fn parse(name: &str) -> Option<Policy> {
        Some(match name.to_ascii_lowercase().as_str() {
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            "noeviction" => Policy::NoEviction,
            _ => return None,
        })
    }

    /// The name CONFIG GET and INFO show.
    pub fn name(self) -> &'static str {
        match self {
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
            Policy::AllkeysLru => "allkeys-lru",
            Policy::AllkeysLfu => "allkeys-lfu",
            Policy::AllkeysRandom => "allkeys-random",
            Policy::NoEviction => "noeviction",
        }
    }

    pub fn rank(self) -> Rank {
        match self {
            Policy::VolatileLru | Policy::AllkeysLru => Rank::Lru,
            Policy::VolatileLfu | Policy::AllkeysLfu => Rank::Lfu,
            Policy::VolatileRandom | Policy::AllkeysRandom => Rank::Random,
            Policy::VolatileTtl => Rank::Ttl,
            Policy::NoEviction => Rank::Never,
        }
    }

    /// True when any key may be evicted, false when only keys with a TTL may.
    pub fn allkeys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
        )
    }

    /// True for the LFU policies: the entry field holds minutes and a log counter.
    pub fn is_lfu(self) -> bool {
        self.rank() == Rank::Lfu
    }
}

/// The eviction settings in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `maxmemory`; 0 means no limit.
    pub maxmemory_bytes: u64,
    pub policy: Policy,
    /// `maxmemory-samples`: keys sampled per database per pool refill.
    pub samples: u32,
    /// `maxmemory-eviction-tenacity` (0..100): how long one call may evict.
    pub tenacity: u32,
    /// `lfu-log-factor`: how many hits it takes to grow the counter.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`: minutes for the counter to lose one (0: never decays).
    pub lfu_decay_min: u32,
    /// `replica-ignore-maxmemory`: a replica leaves eviction to its master.
    pub replica_ignore: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            maxmemory_bytes: 0,
            policy: Policy::NoEviction,
            samples: 5,
            tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_min: 1,
            replica_ignore: true,
        }
    }
}

impl Settings {
    /// The settings a configuration holds (its values were checked when they were set).
    pub fn from_config(cfg: &Config) -> Settings {
        let d = Settings::default();
        let int =
            |name: &str, def: u32| u32::try_from(cfg.stored_i64(name, def as i64)).unwrap_or(def);
        Settings {
            maxmemory_bytes: cfg.stored("maxmemory", "0").parse().unwrap_or(0),
            policy: Policy::parse(&cfg.stored("maxmemory-policy", "noeviction"))
                .unwrap_or(d.policy),
            samples: int("maxmemory-samples", d.samples).max(1),
            tenacity: int("maxmemory-eviction-tenacity", d.tenacity).min(100),
            lfu_log_factor: int("lfu-log-factor", d.lfu_log_factor),
            lfu_decay_min: int("lfu-decay-time", d.lfu_decay_min),
            replica_ignore: cfg.stored_bool("replica-ignore-maxmemory", d.replica_ignore),
        }
    }

    /// How long one eviction call may run before it hands the rest to later loop turns
    /// (Redis' evictionTimeLimitUs): 50 us per tenacity step up to 10, then 15% more per step,
    /// and no limit at 100.
    pub fn time_limit_us(&self) -> u64 {
        match self.tenacity {
            t if t <= 10 => 50 * t as u64,
            t if t < 100 => (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
            _ => u64::MAX,
        }
    }
}

/// The settings in force, shared by every shard: one relaxed load tells a shard whether a
/// limit exists; the rest is read when it does. Written by CONFIG SET and at boot. Also what
/// each shard last found it could evict, so a shard with nothing of its own knows whether
/// the others can pay (read and written at cron and on the eviction path only).
#[derive(Default, Debug)]
pub struct Shared {
    maxmemory_bytes: AtomicU64,
    /// policy index | samples << 8 | tenacity << 40 | replica_ignore << 48.
    packed: AtomicU64,
    /// lfu_log_factor | lfu_decay_min << 32.
    lfu: AtomicU64,
    /// Per shard: keys its policy may evict, as of its last cron or eviction.
    candidates: Box<[AtomicU64]>,
}

const POLICIES: [Policy; 8] = [
    Policy::VolatileLru,
    Policy::VolatileLfu,
    Policy::VolatileRandom,
    Policy::VolatileTtl,
    Policy::AllkeysLru,
    Policy::AllkeysLfu,
    Policy::AllkeysRandom,
    Policy::NoEviction,
];

impl Shared {
    pub fn new(s: Settings, shards: usize) -> Shared {
        let shared = Shared {
            candidates: (0..shards).map(|_| AtomicU64::new(0)).collect(),
            ..Shared::default()
        };
        shared.store(s);
        shared
    }

    /// Shard `id` may evict `n` keys.
    pub fn set_candidates(&self, id: usize, n: u64) {
        if let Some(c) = self.candidates.get(id) {
            if c.load(Ordering::Relaxed) != n {
                c.store(n, Ordering::Relaxed);
            }
        }
    }

    /// Shards other than `id` that reported keys they may evict.
    pub fn others_with_candidates(&self, id: usize) -> usize {
        self.candidates
            .iter()
            .enumerate()
            .filter(|&(i, c)| i != id && c.load(Ordering::Relaxed) > 0)
            .count()
    }

    pub fn store(&self, s: Settings) {
        let policy = POLICIES.iter().position(|&p| p == s.policy).unwrap_or(7) as u64;
        let packed = policy
            | (s.samples as u64) << 8
            | (s.tenacity.min(100) as u64) << 40
            | (s.replica_ignore as u64) << 48;
        self.packed.store(packed, Ordering::Relaxed);
        self.lfu.store(
            s.lfu_log_factor as u64 | (s.lfu_decay_min as u64) << 32,
            Ordering::Relaxed,
        );
        self.maxmemory_bytes
            .store(s.maxmemory_bytes, Ordering::Release);
    }

    /// The limit alone (0: none): the per-command check.
    pub fn maxmemory_bytes(&self) -> u64 {
        self.maxmemory_bytes.load(Ordering::Relaxed)
    }

    pub fn load(&self) -> Settings {
        let maxmemory_bytes = self.maxmemory_bytes.load(Ordering::Acquire);
        let packed = self.packed.load(Ordering::Relaxed);
        let lfu = self.lfu.load(Ordering::Relaxed);
        Settings {
            maxmemory_bytes,
            policy: POLICIES[(packed & 7) as usize],
            samples: (packed >> 8) as u32,
            tenacity: ((packed >> 40) & 0xff) as u32,
            replica_ignore: (packed >> 48) & 1 == 1,
            lfu_log_factor: lfu as u32,
            lfu_decay_min: (lfu >> 32) as u32,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The LRU clock and the LFU counter
// ---------------------------------------------------------------------------------------------

/// The LRU clock at `now_ms`: seconds, 24 bits, wrapping.
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / LRU_CLOCK_RESOLUTION_MS) & LRU_CLOCK_MAX as u64) as u32
}

/// Milliseconds since a key with LRU field `lru` was last touched (Redis'
/// estimateObjectIdleTime, including its off-by-one across the wrap).
pub fn idle_ms(lru: u32, now_ms: u64) -> u64 {
    let clock = lru_clock(now_ms) as u64;
    let lru = (lru & LRU_CLOCK_MAX) as u64;
    let ticks = if clock >= lru {
        clock - lru
    } else {
        clock + (LRU_CLOCK_MAX as u64 - lru)
    };
    ticks * LRU_CLOCK_RESOLUTION_MS
}

/// Minutes since the epoch, 16 bits (the LFU field's time part).
pub fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 1000 / 60) & 0xffff) as u32
}

/// Minutes from `ldt` to now, across the 16-bit wrap as Redis counts it.
fn lfu_elapsed_min(ldt: u32, now_ms: u64) -> u32 {
    let now = lfu_minutes(now_ms);
    if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    }
}

/// The LFU counter of field `lru` after its decay (one per `decay_min` minutes elapsed), without
/// storing it (Redis' LFUDecrAndReturn).
pub fn lfu_decayed(lru: u32, decay_min: u32, now_ms: u64) -> u8 {
    let ldt = lru >> 8;
    let counter = lru & 0xff;
    let periods = lfu_elapsed_min(ldt, now_ms)
        .checked_div(decay_min)
        .unwrap_or(0);
    counter.saturating_sub(periods) as u8
}

/// The counter after one access: it grows with probability 1/((counter - LFU_INIT_VAL) *
/// log_factor + 1), so it takes about a million hits to reach 255 at factor 10. `r` is a
/// uniform random number in [0, 1].
pub fn lfu_log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = (counter as f64 - LFU_INIT_VAL as f64).max(0.0);
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// A uniform number in [0, 1] from the shard's generator.
#[cfg(test)]
pub fn unit_random(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

thread_local! {
    /// The LFU counter's coin (xorshift64): per thread, so `Db::touch` stays `&self`.
    static LFU_COIN: std::cell::Cell<u64> = const { std::cell::Cell::new(0x9E37_79B9_7F4A_7C15) };
}

/// A uniform number in [0, 1) for the LFU increment (Redis uses rand()).
fn lfu_random() -> f64 {
    LFU_COIN.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// How the keyspace sets an entry's LRU/LFU field on creation and access (kept in sync with
/// the policy in force).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Touch {
    pub lfu: bool,
    pub lfu_log_factor: u32,
    pub lfu_decay_min: u32,
}

impl Default for Touch {
    fn default() -> Self {
        Touch::from_settings(&Settings::default())
    }
}

impl Touch {
    pub fn from_settings(s: &Settings) -> Touch {
        Touch {
            lfu: s.policy.is_lfu(),
            lfu_log_factor: s.lfu_log_factor,
            lfu_decay_min: s.lfu_decay_min,
        }
    }

    /// The field of a new key: the LRU clock, or (LFU) now in minutes and LFU_INIT_VAL.
    pub fn fresh(&self, now_ms: u64) -> u32 {
        if self.lfu {
            lfu_minutes(now_ms) << 8 | LFU_INIT_VAL as u32
        } else {
            lru_clock(now_ms)
        }
    }

    /// The field after an access: the LRU clock, or (LFU) the decayed counter incremented
    /// logarithmically and stamped with now (Redis' updateLFU).
    #[inline]
    pub fn accessed(&self, lru: u32, now_ms: u64) -> u32 {
        if !self.lfu {
            return lru_clock(now_ms);
        }
        self.lfu_accessed(lru, now_ms, lfu_random())
    }

    /// `accessed` under LFU with the random number `r` in [0, 1] given.
    pub fn lfu_accessed(&self, lru: u32, now_ms: u64, r: f64) -> u32 {
        let counter = lfu_decayed(lru, self.lfu_decay_min, now_ms);
        let counter = lfu_log_incr(counter, self.lfu_log_factor, r);
        lfu_minutes(now_ms) << 8 | counter as u32
    }

    /// The field of a key whose value was replaced: `fresh` under LRU; under LFU the old
    /// counter, touched (Redis' lookupKeyWrite then dbSetValue keeping `lru`).
    #[inline]
    pub fn overwritten(&self, old: u32, fresh: u32, now_ms: u64) -> u32 {
        if self.lfu {
            self.accessed(old, now_ms)
        } else {
            fresh
        }
    }
}

/// The score a candidate is ranked by: the higher, the better to evict (Redis' "idle").
pub fn score(rank: Rank, lru: u32, expire_at_ms: u64, decay_min: u32, now_ms: u64) -> u64 {
    match rank {
        Rank::Lru => idle_ms(lru, now_ms),
        Rank::Lfu => 255 - lfu_decayed(lru, decay_min, now_ms) as u64,
        // The sooner it expires, the better to evict.
        Rank::Ttl => u64::MAX - expire_at_ms,
        Rank::Random | Rank::Never => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// The eviction pool
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct PoolEntry {
    score: u64,
    db: usize,
    /// The key (the empty string is a valid key, so `used` marks a taken position).
    key: Vec<u8>,
    used: bool,
}

/// The best candidates seen so far, sorted by score ascending (the best last). It survives
/// between evictions, so each refill only has to beat what is already known. Key buffers are
/// reused, so a warm pool allocates nothing.
#[derive(Debug, Default)]
pub struct Pool {
    entries: [PoolEntry; EVPOOL_SIZE],
}

impl Pool {
    /// Offers a candidate; it is kept when the pool has room or it beats the worst one
    /// (Redis' evictionPoolPopulate insertion: ties go left of an equal score).
    pub fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        let e = &self.entries;
        let mut k = 0;
        while k < EVPOOL_SIZE && e[k].used && e[k].score < score {
            k += 1;
        }
        if k == 0 && e[EVPOOL_SIZE - 1].used {
            return; // worse than everything in a full pool
        }
        if k < EVPOOL_SIZE && !e[k].used {
            // a free position: take it
        } else if !e[EVPOOL_SIZE - 1].used {
            // room on the right: shift [k..] one right (the last free slot moves to k)
            self.entries[k..].rotate_right(1);
        } else {
            // full: drop the worst (leftmost) by shifting [..k] one left
            k -= 1;
            self.entries[..=k].rotate_left(1);
        }
        let slot = &mut self.entries[k];
        slot.score = score;
        slot.db = db;
        slot.key.clear();
        slot.key.extend_from_slice(key);
        slot.used = true;
    }

    /// Takes the best candidate out: (database, key) into `key` (reused buffer).
    pub fn pop_best(&mut self, key: &mut Vec<u8>) -> Option<usize> {
        let slot = self.entries.iter_mut().rev().find(|e| e.used)?;
        slot.used = false;
        slot.score = 0;
        std::mem::swap(key, &mut slot.key);
        Some(slot.db)
    }

    /// Candidates held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.used).count()
    }

    /// Forgets every candidate (after FLUSHALL or a policy change).
    pub fn clear(&mut self) {
        for e in &mut self.entries {
            e.used = false;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sampling a Db
// ---------------------------------------------------------------------------------------------

/// Probes per wanted key before a sample gives up (a probe from a random bucket finds the
/// next key; only expired keys make it miss).
const SAMPLE_PROBES: usize = 64;
/// Probes that find nothing in a row before sampling moves to another table.
const SAMPLE_TABLE_MISSES: usize = 16;
/// Tables up to this many keys are sampled by walking them (cheaper than probing, where
/// few keys make a probe rarely hit).
const SAMPLE_WALK_MAX_KEYS: usize = 64;

/// Visits up to `want` live keys of `db` from a random table (only keys with a TTL when
/// `volatile`), calling `f(key, lru, expire_at_ms)`. A small table gives a run of keys from
/// a random offset (as Redis samples a run of buckets); a large one is probed from random
/// buckets (`Db::entry_near`), so the cost does not grow with the table (a slot holding every
/// key under one hash tag samples as fast as a spread keyspace). A key may come twice; the
/// pool keeps one copy worth evicting.
pub fn sample(
    db: &Db,
    rng: &mut Rng,
    want: usize,
    volatile: bool,
    now_ms: u64,
    mut f: impl FnMut(&[u8], u32, u64),
) -> usize {
    let tables = db.table_count();
    if tables == 0 || want == 0 || db.is_empty() {
        return 0;
    }
    if volatile {
        return sample_volatile(db, rng, want, now_ms, f);
    }
    let mut got = 0;
    let mut misses = SAMPLE_TABLE_MISSES;
    let mut idx = 0;
    let mut probes = 0;
    while got < want && probes < want * SAMPLE_PROBES {
        if misses >= SAMPLE_TABLE_MISSES {
            // A non-empty table from a random start.
            let start = rng.below(tables);
            let found = (0..tables)
                .map(|i| (start + i) % tables)
                .map(|i| (i, db.count_in_slot(db.slot_of_table(i))))
                .find(|&(_, n)| n > 0);
            let Some((i, n)) = found else {
                return got;
            };
            (idx, misses) = (i, 0);
            let len = n;
            if len <= SAMPLE_WALK_MAX_KEYS {
                probes += len;
                let skip = rng.below(len);
                let mut pos = 0;
                db.for_each_in_table(idx, now_ms, |e| {
                    let p = pos;
                    pos += 1;
                    let exp = e.expire_at_ms();
                    if got >= want || (p + len - skip) % len >= want {
                        return;
                    }
                    got += 1;
                    f(e.key(), e.lru(), exp);
                });
                misses = SAMPLE_TABLE_MISSES;
                continue;
            }
        }
        probes += 1;
        let Some(e) = db.entry_near(idx, rng.next_u64()) else {
            misses += 1;
            continue;
        };
        let exp = e.expire_at_ms();
        if exp != 0 && exp <= now_ms {
            misses += 1;
            continue;
        }
        got += 1;
        f(e.key(), e.lru(), exp);
    }
    got
}

/// `sample` of keys with a TTL: uniform picks from the TTL index (Redis samples its expires
/// dictionary the same way).
fn sample_volatile(
    db: &Db,
    rng: &mut Rng,
    want: usize,
    now_ms: u64,
    mut f: impl FnMut(&[u8], u32, u64),
) -> usize {
    let n = db.volatile_len();
    let mut got = 0;
    for _ in 0..want * 2 {
        if n == 0 || got == want {
            break;
        }
        let Some(e) = db.volatile_entry(rng.below(n)) else {
            continue;
        };
        let exp = e.expire_at_ms();
        if exp > now_ms {
            got += 1;
            f(e.key(), e.lru(), exp);
        }
    }
    got
}

/// Refills `pool` with `samples` keys of database `db_index` ranked by `rank`.
pub fn populate(
    pool: &mut Pool,
    db: &Db,
    db_index: usize,
    s: &Settings,
    rng: &mut Rng,
    now_ms: u64,
) {
    let rank = s.policy.rank();
    let volatile = !s.policy.allkeys();
    sample(
        db,
        rng,
        s.samples as usize,
        volatile,
        now_ms,
        |key, lru, exp| {
            let sc = score(rank, lru, exp, s.lfu_decay_min, now_ms);
            pool.offer(sc, db_index, key);
        },
    );
}

// ---------------------------------------------------------------------------------------------
// A shard's share of the memory
// ---------------------------------------------------------------------------------------------

/// A shard's view of the process' memory: the total it last read and its own allocation
/// counter at that moment. Between reads it estimates the total as that reading plus what
/// it allocated since (other shards' changes show at the next read).
#[derive(Debug, Default, Clone, Copy)]
pub struct MemShare {
    total_at_read: u64,
    own_at_read: i64,
}

/// What the shard should do after `MemShare::check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Under the limit by the estimate: nothing to do.
    Under,
    /// Read the real total now (`MemShare::reread`).
    Reread,
}

impl MemShare {
    /// The estimated process total given this shard's counter now.
    pub fn estimate(&self, own_now: i64) -> u64 {
        let delta = own_now.saturating_sub(self.own_at_read);
        if delta >= 0 {
            self.total_at_read.saturating_add(delta as u64)
        } else {
            self.total_at_read.saturating_sub(delta.unsigned_abs())
        }
    }

    /// The per-command check: reread when over the limit by the estimate, or near it after
    /// the shard's own allocations moved by `REREAD_STEP_BYTES` since the last read.
    pub fn check(&self, limit: u64, own_now: i64) -> Need {
        let est = self.estimate(own_now);
        if est > limit {
            return Need::Reread;
        }
        let near = limit - (limit >> NEAR_LIMIT_SHIFT);
        let moved = own_now.saturating_sub(self.own_at_read).abs();
        if est > near && moved >= REREAD_STEP_BYTES {
            return Need::Reread;
        }
        Need::Under
    }

    /// Records a fresh reading of the process total.
    pub fn reread(&mut self, total: u64, own_now: i64) {
        self.total_at_read = total;
        self.own_at_read = own_now;
    }

    /// Bytes to free so the estimated total is back at `limit` (0 when under it).
    pub fn excess(&self, limit: u64, own_now: i64) -> u64 {
        self.estimate(own_now).saturating_sub(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_clock_and_idle_time_as_redis() {
        assert_eq!(lru_clock(1_999), 1);
        assert_eq!(lru_clock((LRU_CLOCK_MAX as u64 + 5) * 1000), 4);
        let now = 1_700_000_000_000u64;
        let lru = lru_clock(now - 42_000);
        assert_eq!(idle_ms(lru, now), 42_000);
        // Across the wrap, Redis counts one tick less (its formula, kept as is).
        let now = (LRU_CLOCK_MAX as u64 + 3) * 1000; // clock 2
        let lru = LRU_CLOCK_MAX - 1;
        assert_eq!(idle_ms(lru, now), (2 + 1) * 1000);
    }

    #[test]
    fn lfu_counter_increment_and_decay_as_redis() {
        // At or below LFU_INIT_VAL every hit counts.
        assert_eq!(lfu_log_incr(0, 10, 0.99), 1);
        assert_eq!(lfu_log_incr(5, 10, 0.99), 6);
        // Above it the chance is 1/((c-5)*factor+1): c = 6, factor 10 -> 1/11.
        assert_eq!(lfu_log_incr(6, 10, 0.08), 7);
        assert_eq!(lfu_log_incr(6, 10, 0.10), 6);
        assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
        // Decay: one per decay period elapsed, floor 0, none with decay time 0.
        let now = 1_700_000_000_000u64;
        let m = lfu_minutes(now);
        let field = |minutes_ago: u32, c: u32| (m - minutes_ago) << 8 | c;
        assert_eq!(lfu_decayed(field(0, 20), 1, now), 20);
        assert_eq!(lfu_decayed(field(3, 20), 1, now), 17);
        assert_eq!(lfu_decayed(field(3, 20), 2, now), 19);
        assert_eq!(lfu_decayed(field(30, 20), 1, now), 0);
        assert_eq!(lfu_decayed(field(30, 20), 0, now), 20);
        // A key created now starts at LFU_INIT_VAL, stamped with the minute.
        let t = Touch {
            lfu: true,
            lfu_log_factor: 10,
            lfu_decay_min: 1,
        };
        assert_eq!(t.fresh(now), m << 8 | 5);
        assert_eq!(t.lfu_accessed(field(2, 5), now, 0.5), m << 8 | 4);
        // At LFU_INIT_VAL the first hit always counts.
        assert_eq!(t.accessed(field(0, 5), now), m << 8 | 6);
        assert_eq!(t.overwritten(field(0, 5), 0, now), m << 8 | 6);
        let lru = Touch { lfu: false, ..t };
        assert_eq!(lru.accessed(123, now), lru_clock(now));
        assert_eq!(lru.overwritten(123, 77, now), 77);
    }

    #[test]
    fn million_hits_take_the_counter_near_255_at_factor_10() {
        // Redis' documented table: factor 10 reaches 255 around 1M hits, ~ 100 at 1K.
        let mut rng = Rng::with_seed(7);
        let mut c = LFU_INIT_VAL;
        for i in 1..=1_000_000u32 {
            c = lfu_log_incr(c, 10, unit_random(&mut rng));
            if i == 1_000 {
                assert!((12..=25).contains(&c), "1K hits: {c}");
            }
        }
        assert!(c >= 200, "1M hits: {c}");
    }

    #[test]
    fn scores_rank_as_redis() {
        let now = 1_700_000_000_000u64;
        let old = lru_clock(now - 100_000);
        let new = lru_clock(now);
        assert!(score(Rank::Lru, old, 0, 1, now) > score(Rank::Lru, new, 0, 1, now));
        let m = lfu_minutes(now);
        assert!(score(Rank::Lfu, m << 8 | 2, 0, 1, now) > score(Rank::Lfu, m << 8 | 9, 0, 1, now));
        assert!(score(Rank::Ttl, 0, now + 10, 1, now) > score(Rank::Ttl, 0, now + 99, 1, now));
    }

    #[test]
    fn pool_keeps_the_sixteen_best_and_pops_the_best_first() {
        let mut p = Pool::default();
        for i in 0..40u64 {
            // scores 0..40 in a scrambled order
            let s = (i * 17) % 40;
            p.offer(s, 0, format!("k{s}").as_bytes());
        }
        assert_eq!(p.len(), EVPOOL_SIZE);
        let mut key = Vec::new();
        let mut popped = Vec::new();
        while p.pop_best(&mut key).is_some() {
            popped.push(String::from_utf8(key.clone()).unwrap());
        }
        let want: Vec<String> = (24..40).rev().map(|s| format!("k{s}")).collect();
        assert_eq!(popped, want);
        // A candidate worse than a full pool's worst is not kept.
        for s in 10..26u64 {
            p.offer(s, 1, b"x");
        }
        p.offer(3, 1, b"worse");
        assert_eq!(p.len(), EVPOOL_SIZE);
        assert!(p.entries.iter().all(|e| e.key != b"worse"));
    }

    #[test]
    fn sampling_costs_the_same_for_one_huge_slot_and_a_spread_keyspace() {
        // Every key under one hash tag lands in one table: probing finds keys there in a
        // bounded number of steps, and only keys with a TTL under a volatile policy.
        use crate::keyspace::value::{StrValue, Value};
        let mut db = Db::new(0, 1);
        for i in 0..20_000u64 {
            let key = format!("{{tag}}k{i}");
            let exp = if i % 10 == 0 { 2_000_000_000_000 } else { 0 };
            db.set(
                key.as_bytes(),
                Value::Str(StrValue::from_slice(b"v")),
                exp,
                0,
            );
        }
        let mut rng = Rng::with_seed(5);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let n = sample(&db, &mut rng, 5, false, 1, |k, _, _| {
                seen.insert(k.to_vec());
            });
            assert_eq!(n, 5);
        }
        assert!(
            seen.len() > 90,
            "{} distinct keys in 100 samples",
            seen.len()
        );
        let mut ttl = 0;
        let n = sample(&db, &mut rng, 5, true, 1, |_, _, exp| {
            ttl += (exp != 0) as usize;
        });
        assert_eq!((n, ttl), (5, 5));
        // A spread keyspace: small tables are walked.
        let mut db = Db::new(0, 1);
        for i in 0..2_000u64 {
            let key = format!("k{i}");
            db.set(key.as_bytes(), Value::Str(StrValue::from_slice(b"v")), 0, 0);
        }
        assert_eq!(sample(&db, &mut rng, 5, false, 1, |_, _, _| {}), 5);
        assert_eq!(sample(&db, &mut rng, 5, true, 1, |_, _, _| {}), 0);
    }

    #[test]
    fn tenacity_time_limits_as_redis() {
        let at = |t| Settings {
            tenacity: t,
            ..Settings::default()
        };
        assert_eq!(at(0).time_limit_us(), 0);
        assert_eq!(at(10).time_limit_us(), 500);
        assert_eq!(at(11).time_limit_us(), 575);
        assert_eq!(at(100).time_limit_us(), u64::MAX);
    }

    #[test]
    fn shared_settings_round_trip() {
        let s = Settings {
            maxmemory_bytes: 64 << 20,
            policy: Policy::VolatileTtl,
            samples: 10,
            tenacity: 77,
            lfu_log_factor: 3,
            lfu_decay_min: 9,
            replica_ignore: false,
        };
        let sh = Shared::new(s, 3);
        assert_eq!(sh.load(), s);
        sh.set_candidates(1, 10);
        sh.set_candidates(7, 10); // no such shard: ignored
        assert_eq!(sh.others_with_candidates(0), 1);
        assert_eq!(sh.others_with_candidates(1), 0);
        assert_eq!(sh.maxmemory_bytes(), 64 << 20);
        for p in POLICIES {
            assert_eq!(Policy::parse(p.name()), Some(p));
        }
    }

    #[test]
    fn settings_come_from_the_configuration() {
        let mut cfg = Config::default();
        crate::config::set_params(
            &mut cfg,
            &[
                (b"maxmemory", b"1gb"),
                (b"maxmemory-policy", b"allkeys-LFU"),
                (b"maxmemory-samples", b"10"),
                (b"maxmemory-eviction-tenacity", b"20"),
                (b"lfu-log-factor", b"3"),
                (b"lfu-decay-time", b"0"),
                (b"replica-ignore-maxmemory", b"no"),
            ],
        )
        .unwrap();
        let s = Settings::from_config(&cfg);
        assert_eq!(s.maxmemory_bytes, 1 << 30);
        assert_eq!(s.policy, Policy::AllkeysLfu);
        assert_eq!((s.samples, s.tenacity), (10, 20));
        assert_eq!((s.lfu_log_factor, s.lfu_decay_min), (3, 0));
        assert!(!s.replica_ignore);
        assert_eq!(
            Settings::from_config(&Config::default()),
            Settings::default()
        );
    }

    #[test]
    fn mem_share_estimates_and_rereads() {
        let mut m = MemShare::default();
        m.reread(1000, 50);
        assert_eq!(m.estimate(80), 1030);
        assert_eq!(m.estimate(0), 950);
        assert_eq!(m.check(2000, 80), Need::Under);
        assert_eq!(m.check(1020, 80), Need::Reread);
        assert_eq!(m.excess(1020, 80), 10);
        // Near the limit, a move of REREAD_STEP_BYTES asks for a fresh total.
        let limit = 10 << 20;
        m.reread(limit - 1000, 0);
        assert_eq!(m.check(limit, 10), Need::Under);
        m.reread(limit - REREAD_STEP_BYTES as u64 - 10, 0);
        assert_eq!(m.check(limit, REREAD_STEP_BYTES), Need::Reread);
    }
}
