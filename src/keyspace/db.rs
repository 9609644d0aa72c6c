//! One shard's keyspace: a hash table per owned slot (so per-slot counts, slot scans and slot
//! drops are cheap, and rehashing is spread over many small tables), lazy expiry on access, and
//! an index of keys with a TTL that the active expiry cycle samples. Plain data: no I/O.

use super::table::SlotTable;
use super::value::{StrValue, Value, ValueRef};
use crate::cluster::hash_slot::key_hash_slot;
use crate::lazyfree::{self, Cause};
use crate::rng::Rng;
use crate::topology::{local_index, local_slot_count, slot_at};
use hashbrown::DefaultHashBuilder;
use std::hash::BuildHasher;

pub use super::entry::Entry;

/// Hands the collection an overwrite is about to replace to lazy free (Redis' dbSetValue under
/// `lazyfree-lazy-server-del`); strings are freed in place by the overwrite itself. The setting
/// is read first, so an overwrite costs one relaxed load while it is off.
fn release_old_collection(e: &mut Entry) {
    if lazyfree::lazy_for(Cause::ServerDel) && !matches!(e.value(), ValueRef::Str(_)) {
        // A boxed collection: `value_mut` moves nothing, and the empty string left in its
        // place allocates nothing.
        let old = std::mem::replace(e.value_mut(), Value::Str(StrValue::new(Vec::new())));
        lazyfree::free(old, Cause::ServerDel);
    }
}

/// A removed entry goes to lazy free whole (no copy of an inline string): its effort is its
/// value's, so strings are dropped in place.
impl lazyfree::FreeEffort for Entry {
    fn free_effort(&self) -> usize {
        self.value().free_effort()
    }
}

#[derive(Default, Debug, Clone, Copy)]
pub struct DbStats {
    /// Redis' running estimate of the remaining TTL of keys with one (INFO keyspace avg_ttl),
    /// kept by the active expiry cycle from the keys it samples.
    pub avg_ttl_ms: u64,
    pub hits: u64,
    pub misses: u64,
    pub expired_keys: u64,
}

pub struct Db {
    shard: usize,
    shards: usize,
    tables: Vec<SlotTable>,
    hasher: DefaultHashBuilder,
    keys: usize,
    /// (slot, hash) of every key with a TTL, for sampling by the active expiry cycle.
    volatile: Vec<(u16, u64)>,
    pub stats: DbStats,
    /// Master with replicas: keys deleted because they expired, for the stream to carry as
    /// DEL (replicas do not expire keys themselves). None when nobody consumes it.
    pub expired_log: Option<Vec<Vec<u8>>>,
    /// Replica: expired keys are hidden from lookups but kept until the master's DEL, so a
    /// write the master made just before the expiry still finds its key.
    pub keep_expired: bool,
    /// How accesses set the LRU/LFU field (the shard keeps it in line with the policy).
    pub touch_mode: super::evict::Touch,
}

/// What `Db::put` stores: string bytes (SET's path) or any value.
enum Incoming<'a> {
    Str(&'a [u8]),
    Value(Value),
}

/// See `Db::overhead_bytes`.
#[derive(Default, Debug, Clone, Copy)]
pub struct DbOverhead {
    pub tables_bytes: usize,
    pub per_slot_bytes: usize,
    pub expires_bytes: usize,
}

/// Result of one active expiry run.
#[derive(Default, Debug)]
pub struct ExpireRun {
    pub sampled: usize,
    pub expired: usize,
}

impl Db {
    pub fn new(shard: usize, shards: usize) -> Self {
        let n = local_slot_count(shard, shards);
        Db {
            shard,
            shards,
            tables: (0..n).map(|_| SlotTable::new()).collect(),
            hasher: DefaultHashBuilder::default(),
            keys: 0,
            volatile: Vec::new(),
            stats: DbStats::default(),
            expired_log: None,
            keep_expired: false,
            touch_mode: Default::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys
    }
    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }
    /// Keys with a TTL.
    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    /// What the keyspace's own structures take beside the entries (INFO memory's overhead,
    /// MEMORY STATS' `overhead.hashtable.*`): the per-slot tables' allocations, the array of
    /// per-slot table headers, and the TTL index; allocator usable sizes, O(tables).
    pub fn overhead_bytes(&self) -> DbOverhead {
        use crate::sys::alloc::jemalloc_size_class as usable;
        let tables = self
            .tables
            .iter()
            .map(|t| t.allocation_size())
            .filter(|&b| b > 0);
        DbOverhead {
            tables_bytes: tables.map(usable).sum(),
            per_slot_bytes: usable(self.tables.capacity() * std::mem::size_of::<SlotTable>()),
            expires_bytes: match self.volatile.capacity() {
                0 => 0,
                n => usable(n * std::mem::size_of::<(u16, u64)>()),
            },
        }
    }

    /// True when `slot` belongs to this shard's tables.
    pub fn owns_slot(&self, slot: u16) -> bool {
        slot as usize % self.shards == self.shard
    }

    fn table_of(&self, key: &[u8]) -> (usize, u64, u16) {
        let slot = key_hash_slot(key);
        assert!(self.owns_slot(slot), "key routed to the wrong shard");
        (
            local_index(slot, self.shards),
            self.hasher.hash_one(key),
            slot,
        )
    }

    /// Batch prefetch (`net::prefetch`): the table and hash of `key` when this shard owns it, with
    /// a prefetch hint for its home bucket.
    pub fn prefetch_bucket(&self, key: &[u8]) -> Option<(usize, u64)> {
        let slot = key_hash_slot(key);
        if !self.owns_slot(slot) {
            return None;
        }
        let (t, h) = (local_index(slot, self.shards), self.hasher.hash_one(key));
        self.tables[t].prefetch_home(h);
        Some((t, h))
    }

    /// Batch prefetch, second pass: a hint for the block the bucket points to.
    pub fn prefetch_block(&self, t: usize, h: u64) {
        self.tables[t].prefetch_block(h);
    }

    fn hash_entry(hasher: &DefaultHashBuilder) -> impl Fn(&Entry) -> u64 + '_ {
        move |e: &Entry| hasher.hash_one(e.key())
    }

    /// Finds a live key with one probe, deleting it first when it has expired.
    fn find_live(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        let (t, h, _) = self.table_of(key);
        let e: *mut Entry = self.tables[t].find_mut(h, |e| e.key() == key)?;
        // SAFETY: `e` points into `self.tables[t]`, which nothing touches between here and
        // either returning the reference (live key) or the removal below, which does not use
        // `e` again. The raw pointer only sidesteps the borrow checker's limitation on
        // conditionally returned borrows.
        if !unsafe { &*e }.expired(now_ms) {
            // SAFETY: as above; the table is untouched since `find_mut`.
            return Some(unsafe { &mut *e });
        }
        if self.keep_expired {
            return None;
        }
        let hasher = &self.hasher;
        if let Some(e) = self.tables[t].remove(h, |e| e.key() == key, Self::hash_entry(hasher)) {
            self.after_remove(&e, true);
            lazyfree::free(e, Cause::Expire);
        }
        None
    }

    /// Records an access to `e` in its LRU/LFU field (OBJECT IDLETIME / FREQ, eviction): the
    /// LRU clock, or under an LFU policy the decayed, logarithmically incremented counter.
    pub fn touch(&self, e: &mut Entry, now_ms: u64) {
        e.set_lru(self.touch_mode.accessed(e.lru(), now_ms));
    }

    /// The LRU/LFU field of a key written at `now_ms`.
    pub fn fresh_lru(&self, now_ms: u64) -> u32 {
        self.touch_mode.fresh(now_ms)
    }

    /// Looks a key up for writing: expired keys are deleted first, and the access is recorded
    /// in the LRU/LFU field (as Redis' lookupKeyWrite). No hit/miss counting.
    pub fn lookup_write(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        let e: *mut Entry = self.find_live(key, now_ms)?;
        // SAFETY: as in `find_live`; `touch` reads only the access settings.
        let e = unsafe { &mut *e };
        self.touch(e, now_ms);
        Some(e)
    }

    /// Looks a key up without recording an access (Redis' LOOKUP_NOTOUCH): expired keys are
    /// still deleted. For introspection such as DEBUG DIGEST-VALUE.
    pub fn lookup_no_touch(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        self.find_live(key, now_ms)
    }

    /// Looks a key up for reading: like `lookup_write`, and counts keyspace hits/misses.
    pub fn lookup_read(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        let e: Option<*mut Entry> = self.find_live(key, now_ms).map(|e| e as *mut Entry);
        match e {
            Some(e) => {
                self.stats.hits += 1;
                // SAFETY: as in `find_live`; only the counters are touched in between.
                let e = unsafe { &mut *e };
                self.touch(e, now_ms);
                Some(e)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// The live entry of `key`, touching and deleting nothing: a snapshot's write barrier
    /// reads the value a write is about to change.
    pub fn peek(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        let (t, h, _) = self.table_of(key);
        self.tables[t]
            .find(h, |e| e.key() == key)
            .filter(|e| !e.expired(now_ms))
    }

    /// True when the key exists (not expired). Does not count hits.
    pub fn contains(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.find_live(key, now_ms).is_some()
    }

    /// SET's fast path: stores `bytes` as a string with one probe, rewriting the key's block
    /// in place when the length is unchanged (no malloc/free on overwrite of equal sizes).
    pub fn set_str(&mut self, key: &[u8], bytes: &[u8], expire_at_ms: u64, now_ms: u64) {
        self.put(key, Incoming::Str(bytes), expire_at_ms, now_ms)
    }

    /// Inserts or overwrites a key. `expire_at_ms` 0 means no TTL; any old TTL is replaced.
    pub fn set(&mut self, key: &[u8], value: Value, expire_at_ms: u64, now_ms: u64) {
        self.put(key, Incoming::Value(value), expire_at_ms, now_ms)
    }

    /// `set` and `set_str` with one probe: an existing key is rewritten in its own block.
    fn put(&mut self, key: &[u8], v: Incoming<'_>, expire_at_ms: u64, now_ms: u64) {
        let (t, h, slot) = self.table_of(key);
        let lru = self.fresh_lru(now_ms);
        let mut stale_pos = None;
        if let Some(e) = self.tables[t].find_mut(h, |e| e.key() == key) {
            release_old_collection(e);
            match v {
                Incoming::Str(bytes) => e.set_str(bytes),
                Incoming::Value(v) => e.set_value(v),
            }
            e.set_lru(self.touch_mode.overwritten(e.lru(), lru, now_ms));
            stale_pos = Self::retime(e, expire_at_ms, &mut self.volatile, slot, h);
        } else {
            let e = match v {
                Incoming::Str(bytes) => Entry::new_str(key, bytes, expire_at_ms, lru),
                Incoming::Value(v) => Entry::new(key, v, expire_at_ms, lru),
            };
            self.insert_new(t, h, slot, e);
        }
        if let Some(pos) = stale_pos {
            self.volatile_remove(pos);
        }
    }

    /// Adds a key known to be absent, indexing its TTL.
    fn insert_new(&mut self, t: usize, h: u64, slot: u16, mut e: Entry) {
        if e.has_expire() {
            e.set_vpos(self.volatile.len() as u32);
            self.volatile.push((slot, h));
        }
        let hasher = &self.hasher;
        self.tables[t].insert_unique(h, e, Self::hash_entry(hasher));
        self.keys += 1;
    }

    /// Gives entry `e` a new expiry, adding it to the volatile index when it gains a TTL.
    /// Returns the index position to remove when it loses its TTL.
    fn retime(
        e: &mut Entry,
        at_ms: u64,
        volatile: &mut Vec<(u16, u64)>,
        slot: u16,
        h: u64,
    ) -> Option<u32> {
        match (e.has_expire(), at_ms != 0) {
            (false, false) => None,
            (true, false) => {
                let pos = e.vpos();
                e.set_expire(0, 0);
                Some(pos)
            }
            (false, true) => {
                e.set_expire(at_ms, volatile.len() as u32);
                volatile.push((slot, h));
                None
            }
            (true, true) => {
                let pos = e.vpos();
                e.set_expire(at_ms, pos);
                None
            }
        }
    }

    /// Sets the TTL of an existing key (0 removes it). Returns false when the key is absent.
    pub fn set_expire(&mut self, key: &[u8], expire_at_ms: u64, now_ms: u64) -> bool {
        if self.find_live(key, now_ms).is_none() {
            return false;
        }
        let (t, h, slot) = self.table_of(key);
        let Some(e) = self.tables[t].find_mut(h, |e| e.key() == key) else {
            return false;
        };
        if let Some(pos) = Self::retime(e, expire_at_ms, &mut self.volatile, slot, h) {
            self.volatile_remove(pos);
        }
        true
    }

    /// Removes index position `pos`, moving the last element into it.
    fn volatile_remove(&mut self, pos: u32) {
        let last = self.volatile.len() as u32 - 1;
        self.volatile.swap_remove(pos as usize);
        if pos != last {
            let (slot, h) = self.volatile[pos as usize];
            let t = local_index(slot, self.shards);
            if let Some(e) = self.tables[t].find_mut(h, |e| e.has_expire() && e.vpos() == last) {
                e.set_vpos(pos);
            }
        }
    }

    fn after_remove(&mut self, e: &Entry, expired: bool) {
        self.keys -= 1;
        if e.has_expire() {
            self.volatile_remove(e.vpos());
        }
        if expired {
            self.stats.expired_keys += 1;
            if let Some(log) = self.expired_log.as_mut() {
                log.push(e.key().to_vec());
            }
        }
    }

    /// Deletes a key; returns its entry when it existed (expired keys count as absent).
    pub fn remove(&mut self, key: &[u8], now_ms: u64) -> Option<Entry> {
        let (t, h, _) = self.table_of(key);
        let hasher = &self.hasher;
        let e = self.tables[t].remove(h, |e| e.key() == key, Self::hash_entry(hasher))?;
        let expired = e.expired(now_ms);
        self.after_remove(&e, expired);
        if expired {
            lazyfree::free(e, Cause::Expire);
            None
        } else {
            Some(e)
        }
    }

    /// Keys stored in `slot` (expired-but-not-yet-reclaimed keys included, as Redis does).
    pub fn count_in_slot(&self, slot: u16) -> usize {
        if !self.owns_slot(slot) {
            return 0;
        }
        self.tables[local_index(slot, self.shards)].len()
    }

    /// Up to `max` keys of `slot`.
    pub fn keys_in_slot(&self, slot: u16, max: usize) -> Vec<Vec<u8>> {
        if !self.owns_slot(slot) {
            return Vec::new();
        }
        let t = &self.tables[local_index(slot, self.shards)];
        t.iter().take(max).map(|e| e.key().to_vec()).collect()
    }

    /// Visits every live key of local table index `idx` (see `topology::slot_at`).
    pub fn for_each_in_table(&self, idx: usize, now_ms: u64, mut f: impl FnMut(&Entry)) {
        for e in self.tables[idx].iter() {
            if !e.expired(now_ms) {
                f(e);
            }
        }
    }

    /// The first key of local table `idx` at or after bucket `hash` (expired ones included),
    /// None when the table is empty: eviction samples with random numbers in O(1) whatever
    /// the table's size.
    pub fn entry_near(&self, idx: usize, hash: u64) -> Option<&Entry> {
        self.tables[idx].entry_from(hash as usize)
    }

    /// The key at position `pos` of the TTL index (eviction samples volatile keys from it).
    pub fn volatile_entry(&self, pos: usize) -> Option<&Entry> {
        let &(slot, h) = self.volatile.get(pos)?;
        let t = local_index(slot, self.shards);
        self.tables[t].find(h, |e| e.has_expire() && e.vpos() as usize == pos)
    }

    /// Number of per-slot tables this shard has.
    pub fn table_count(&self) -> usize {
        self.tables.len()
    }

    /// The slot of local table `idx`.
    pub fn slot_of_table(&self, idx: usize) -> u16 {
        slot_at(self.shard, self.shards, idx)
    }

    /// Deletes every key; returns how many there were.
    pub fn flush(&mut self) -> usize {
        let n = self.keys;
        for t in &mut self.tables {
            *t = SlotTable::new();
        }
        self.volatile = Vec::new();
        self.keys = 0;
        n
    }

    /// Deletes every key like `flush`, handing the old tables whole to the lazy-free worker
    /// (FLUSHALL/FLUSHDB ASYNC); returns how many keys there were.
    pub fn flush_lazily(&mut self) -> usize {
        let n = self.keys;
        let fresh = (0..self.tables.len()).map(|_| SlotTable::new()).collect();
        let tables = std::mem::replace(&mut self.tables, fresh);
        lazyfree::free_keyspace((tables, std::mem::take(&mut self.volatile)), n);
        self.keys = 0;
        n
    }

    /// Deletes every key of `slot`; returns how many there were.
    pub fn flush_slot(&mut self, slot: u16) -> usize {
        if !self.owns_slot(slot) {
            return 0;
        }
        let idx = local_index(slot, self.shards);
        // Unindex the slot's TTLs while its table is still in place (`volatile_remove` finds
        // the entry it moves through its table), highest position first, so the entry moved
        // into a freed position is never one of this slot's.
        let mut positions: Vec<u32> = self.tables[idx]
            .iter()
            .filter(|e| e.has_expire())
            .map(|e| e.vpos())
            .collect();
        positions.sort_unstable_by(|a, b| b.cmp(a));
        for pos in positions {
            self.volatile_remove(pos);
        }
        let mut table = std::mem::take(&mut self.tables[idx]);
        let n = table.len();
        self.keys -= n;
        for e in table.drain() {
            lazyfree::free(e, Cause::ServerDel);
        }
        n
    }

    /// A random live key, or None when the shard holds none; `rng` is the shard's generator.
    pub fn random_key(&mut self, rng: &mut Rng, now_ms: u64) -> Option<Vec<u8>> {
        for _ in 0..100 {
            if self.keys == 0 {
                return None;
            }
            // Pick a table weighted by size: walk from a random start to a non-empty table,
            // then a random element of it.
            let start = (rng.next_u64() % self.tables.len() as u64) as usize;
            let n = self.tables.len();
            let idx = (0..n)
                .map(|i| (start + i) % n)
                .find(|&i| !self.tables[i].is_empty())?;
            let len = self.tables[idx].len();
            let pick = (rng.next_u64() % len as u64) as usize;
            let e = self.tables[idx].iter().nth(pick)?;
            if !e.expired(now_ms) {
                return Some(e.key().to_vec());
            }
            let key = e.key().to_vec();
            self.lookup_write(&key, now_ms);
        }
        None
    }

    /// One active expiry cycle: samples keys with a TTL and deletes the expired ones, repeating
    /// while more than a quarter of a sample was expired and the time budget allows.
    pub fn active_expire(
        &mut self,
        rng: &mut Rng,
        now_ms: u64,
        sample: usize,
        deadline: std::time::Instant,
    ) -> ExpireRun {
        let mut run = ExpireRun::default();
        if self.keep_expired {
            return run; // a replica's keys expire when its master says so
        }
        loop {
            let mut expired_here = 0;
            let (mut ttl_sum_ms, mut ttl_samples) = (0u64, 0u64);
            let n = sample.min(self.volatile.len());
            for _ in 0..n {
                if self.volatile.is_empty() {
                    break;
                }
                let pos = (rng.next_u64() % self.volatile.len() as u64) as u32;
                let (slot, h) = self.volatile[pos as usize];
                let t = local_index(slot, self.shards);
                run.sampled += 1;
                let at_pos = |e: &Entry| e.has_expire() && e.vpos() == pos;
                let found = self.tables[t].find(h, at_pos);
                if let Some(e) = found.filter(|e| !e.expired(now_ms)) {
                    ttl_sum_ms += e.expire_at_ms().saturating_sub(now_ms);
                    ttl_samples += 1;
                }
                if found.is_some_and(|e| e.expired(now_ms)) {
                    let hasher = &self.hasher;
                    if let Some(e) = self.tables[t].remove(h, at_pos, Self::hash_entry(hasher)) {
                        self.after_remove(&e, true);
                        lazyfree::free(e, Cause::Expire);
                        expired_here += 1;
                    }
                }
            }
            run.expired += expired_here;
            if let Some(avg) = ttl_sum_ms.checked_div(ttl_samples) {
                // Redis' estimate: the first sample sets it, later ones move it by 1/50.
                let s = &mut self.stats;
                s.avg_ttl_ms = match s.avg_ttl_ms {
                    0 => avg,
                    old => (old / 50) * 49 + avg / 50,
                };
            }
            if n == 0 || expired_here * 4 <= n || std::time::Instant::now() >= deadline {
                return run;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::StrValue;

    fn s(v: &str) -> Value {
        Value::Str(StrValue::from_slice(v.as_bytes()))
    }

    #[test]
    fn set_get_remove_and_counts() {
        let mut db = Db::new(0, 1);
        db.set(b"a", s("1"), 0, 0);
        db.set(b"b", s("2"), 0, 0);
        assert_eq!(db.len(), 2);
        assert!(db.lookup_read(b"a", 0).is_some());
        assert!(db.remove(b"a", 0).is_some());
        assert!(db.lookup_read(b"a", 0).is_none());
        assert_eq!(db.len(), 1);
        assert_eq!(db.stats.hits, 1);
        assert_eq!(db.stats.misses, 1);
    }

    #[test]
    fn ttl_index_stays_consistent_through_churn() {
        // Guards the swap_remove bookkeeping of the volatile index.
        let mut db = Db::new(0, 1);
        for i in 0..1000u32 {
            let k = format!("k{i}");
            db.set(
                k.as_bytes(),
                s("v"),
                if i % 3 == 0 { 0 } else { 1000 + i as u64 },
                0,
            );
        }
        for i in (0..1000u32).step_by(7) {
            let k = format!("k{i}");
            db.set_expire(k.as_bytes(), 0, 0);
        }
        for i in (0..1000u32).step_by(5) {
            let k = format!("k{i}");
            db.remove(k.as_bytes(), 0);
        }
        for i in (0..1000u32).step_by(11) {
            let k = format!("k{i}");
            db.set_expire(k.as_bytes(), 500, 0);
        }
        // Every volatile position must point at a TTL'd entry carrying that position.
        for (pos, &(slot, h)) in db.volatile.iter().enumerate() {
            let t = local_index(slot, 1);
            assert!(db.tables[t]
                .find(h, |e| e.vpos() as usize == pos && e.has_expire())
                .is_some());
        }
        let live_before = db.len();
        let far = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while db
            .active_expire(&mut Rng::with_seed(1), 10_000, 20, far)
            .expired
            > 0
        {}
        assert_eq!(db.volatile_len(), 0);
        assert!(db.len() < live_before);
        assert_eq!(db.len(), db.tables.iter().map(|t| t.len()).sum::<usize>());
    }

    #[test]
    fn set_str_reuses_and_keeps_index_consistent() {
        // Guards the single-probe SET path: overwrite in place, TTL added and removed.
        let mut db = Db::new(0, 1);
        db.set_str(b"k", b"hello", 0, 0);
        db.set_str(b"k", b"world!", 500, 0);
        assert_eq!(db.volatile_len(), 1);
        db.set_str(b"k", b"x", 0, 0);
        assert_eq!(db.volatile_len(), 0);
        assert_eq!(db.len(), 1);
        assert_eq!(
            db.lookup_read(b"k", 0).unwrap().str_bytes(),
            Some(&b"x"[..])
        );
        db.set_str(b"k", b"v", 100, 0);
        assert!(db.lookup_read(b"k", 101).is_none());
        assert_eq!(db.len(), 0);
    }

    #[test]
    fn expiry_log_and_kept_expired_keys() {
        // Guards the replication hooks: expired deletions are logged; a replica keeps them.
        let mut db = Db::new(0, 1);
        db.expired_log = Some(Vec::new());
        db.set(b"a", s("1"), 50, 0);
        assert!(db.lookup_read(b"a", 101).is_none());
        assert_eq!(db.expired_log.as_ref().unwrap(), &vec![b"a".to_vec()]);
        let mut r = Db::new(0, 1);
        r.keep_expired = true;
        r.set(b"a", s("1"), 50, 0);
        assert!(r.lookup_read(b"a", 101).is_none());
        assert_eq!(r.len(), 1, "hidden, not deleted");
        let far = std::time::Instant::now() + std::time::Duration::from_secs(1);
        assert_eq!(
            r.active_expire(&mut Rng::with_seed(1), 101, 20, far)
                .expired,
            0
        );
        assert!(
            r.lookup_write(b"a", 0).is_some(),
            "the master's records still see it"
        );
    }

    #[test]
    fn lazy_expiry_on_access() {
        let mut db = Db::new(0, 1);
        db.set(b"k", s("v"), 100, 0);
        assert!(
            db.lookup_read(b"k", 100).is_some(),
            "still there in its millisecond"
        );
        assert!(db.lookup_read(b"k", 101).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.stats.expired_keys, 1);
    }

    #[test]
    fn flush_slot_keeps_the_ttl_index_of_other_slots() {
        // Guards flush_slot's unindexing: TTL keys of the dropped slot interleaved with TTL
        // keys of another slot (the dropped slot's keys last in the index) used to leave stale
        // positions behind and panic on a later removal.
        let mut db = Db::new(0, 1);
        for i in 0..10 {
            db.set(format!("{{b}}{i}").as_bytes(), s("v"), 5_000, 0);
        }
        for i in 0..50 {
            db.set(format!("{{a}}{i}").as_bytes(), s("v"), 5_000, 0);
        }
        for i in 10..20 {
            db.set(format!("{{b}}{i}").as_bytes(), s("v"), 5_000, 0);
        }
        assert_eq!(db.flush_slot(key_hash_slot(b"{a}")), 50);
        assert_eq!((db.len(), db.volatile_len()), (20, 20));
        for (pos, &(slot, h)) in db.volatile.iter().enumerate() {
            let t = local_index(slot, 1);
            assert!(db.tables[t]
                .find(h, |e| e.vpos() as usize == pos && e.has_expire())
                .is_some());
        }
        for i in 0..20 {
            assert!(db.remove(format!("{{b}}{i}").as_bytes(), 0).is_some());
        }
        assert_eq!((db.len(), db.volatile_len()), (0, 0));
    }
}
