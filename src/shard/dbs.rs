//! The numbered databases of one shard (`databases N`, SELECT). Database 0 is `Shard::db`
//! itself; databases 1.. live here and are created on first use, so a database nobody selects
//! costs one null pointer (a `Db` allocates one table per slot the shard owns).
//!
//! `Shard::sel` is the database the command being run uses: the dispatcher sets it from the
//! client (or from the request, the waiter, the replayed stream) before a keyed handler runs,
//! and `Exec::db` reads it for every key, on this shard and on parked peers alike.

use super::Shard;
use crate::keyspace::db::Db;

/// Databases 1.. of a shard; `more[i]` is database `i + 1`, `None` until first used.
#[derive(Default)]
pub struct Dbs {
    more: Vec<Option<Box<Db>>>,
}

impl Dbs {
    /// Database `i` (>= 1), created empty on first use with the replication flags of `first`
    /// (database 0), which every database of a shard shares.
    pub fn at(&mut self, i: u32, shard: (usize, usize), first: &Db) -> &mut Db {
        debug_assert!(i >= 1);
        let k = i as usize - 1;
        if self.more.len() <= k {
            self.more.resize_with(k + 1, || None);
        }
        self.more[k].get_or_insert_with(|| {
            let mut db = Db::new(shard.0, shard.1);
            db.keep_expired = first.keep_expired;
            db.touch_mode = first.touch_mode;
            db.expired_log = first.expired_log.as_ref().map(|_| Vec::new());
            Box::new(db)
        })
    }

    /// Database `i` (>= 1) if it was ever used.
    pub fn get(&self, i: u32) -> Option<&Db> {
        self.more.get(i as usize - 1)?.as_deref()
    }

    /// Databases 1.. created so far, with their numbers.
    pub fn each_mut(&mut self) -> impl Iterator<Item = (u32, &mut Db)> {
        let more = self.more.iter_mut().enumerate();
        more.filter_map(|(k, d)| d.as_deref_mut().map(|d| (k as u32 + 1, d)))
    }

    /// Databases 0..`count` (`first` is database 0) for a rewrite or snapshot walk.
    pub fn list<'a>(&'a self, first: &'a Db, count: u32) -> Vec<Option<&'a Db>> {
        (0..count.max(1))
            .map(|i| if i == 0 { Some(first) } else { self.get(i) })
            .collect()
    }
}

/// The journal key of a WATCHed or blocked-on key: the database number (4 bytes, little
/// endian) and the key, so one map serves every database. `buf` is reused.
pub fn tagged<'b>(buf: &'b mut Vec<u8>, db: u32, key: &[u8]) -> &'b [u8] {
    buf.clear();
    buf.extend_from_slice(&db.to_le_bytes());
    buf.extend_from_slice(key);
    buf
}

impl Shard {
    /// Database `i` of this shard, created on first use.
    #[inline]
    pub fn db_at(&mut self, i: u32) -> &mut Db {
        if i == 0 {
            return &mut self.db;
        }
        self.dbs.at(i, (self.id, self.shards), &self.db)
    }

    /// The database the running command selected.
    #[inline]
    pub fn sel_db(&mut self) -> &mut Db {
        let i = self.sel;
        self.db_at(i)
    }

    /// Database `i` if it was ever used (an unused one is empty).
    pub fn db_get(&self, i: u32) -> Option<&Db> {
        if i == 0 {
            return Some(&self.db);
        }
        self.dbs.get(i)
    }

    /// Every database created so far, with its number, 0 first.
    pub fn each_db(&self) -> impl Iterator<Item = (u32, &Db)> {
        let more = self.dbs.more.iter().enumerate();
        std::iter::once((0, &self.db))
            .chain(more.filter_map(|(k, d)| d.as_deref().map(|d| (k as u32 + 1, d))))
    }

    /// Every database created so far, mutably, with its number, 0 first.
    pub fn each_db_mut(&mut self) -> impl Iterator<Item = (u32, &mut Db)> {
        std::iter::once((0, &mut self.db)).chain(self.dbs.each_mut())
    }

    /// Tables a rewrite or snapshot of this shard walks (every database's, used or not).
    pub fn walk_tables(&self) -> usize {
        self.db.table_count() * self.databases.max(1) as usize
    }

    /// Keys of `slot` in every database of this shard.
    pub fn count_in_slot_all(&self, slot: u16) -> usize {
        self.each_db().map(|(_, d)| d.count_in_slot(slot)).sum()
    }

    /// Drops the keys of `slot` in every database (no journal: the caller's business).
    pub fn flush_slot_all(&mut self, slot: u16) -> usize {
        self.each_db_mut().map(|(_, d)| d.flush_slot(slot)).sum()
    }

    /// Drops every key of every database (on the lazy-free worker when `lazily`); returns how
    /// many went.
    pub fn flush_all_dbs(&mut self, lazily: bool) -> usize {
        let flush = |d: &mut Db| if lazily { d.flush_lazily() } else { d.flush() };
        self.each_db_mut().map(|(_, d)| flush(d)).sum()
    }

    /// The write barrier: a running AOF rewrite serializes the table of `key` in database
    /// `dbi`, and snapshots the key alone, if they did not yet (they hold it as it was before
    /// any write journaled after they started).
    pub fn cover_for_write(&mut self, dbi: u32, key: &[u8], now_ms: u64) {
        let slot = crate::cluster::hash_slot::key_hash_slot(key);
        if !self.db.owns_slot(slot) {
            return;
        }
        let idx = crate::topology::local_index(slot, self.shards);
        if self.aof.rewrite.is_none() && self.repl.snaps.is_empty() {
            return;
        }
        self.db_at(dbi);
        let db = if dbi == 0 {
            &self.db
        } else {
            self.dbs.get(dbi).expect("created")
        };
        if let Some(rw) = self.aof.rewrite.as_mut() {
            rw.cover_table(db, dbi, idx, now_ms);
        }
        for snap in self.repl.snaps.iter_mut() {
            snap.cover_key(db, dbi, idx, key, now_ms);
        }
    }

    /// Serializes table `idx` of database `dbi` into a running rewrite and snapshots if they
    /// did not yet. An unused database is created (empty) so its table counts as copied.
    pub fn cover_table_in(&mut self, dbi: u32, idx: usize, now_ms: u64) {
        self.db_at(dbi);
        let db = if dbi == 0 {
            &self.db
        } else {
            self.dbs.get(dbi).expect("created")
        };
        if let Some(rw) = self.aof.rewrite.as_mut() {
            rw.cover_table(db, dbi, idx, now_ms);
        }
        for snap in self.repl.snaps.iter_mut() {
            snap.cover_table(db, dbi, idx, now_ms);
        }
    }

    /// Serializes every table of database `dbi` into a running rewrite or snapshot (SWAPDB and
    /// FLUSHDB need the database whole, as it was, before they change it).
    pub fn cover_db(&mut self, dbi: u32, now_ms: u64) {
        if self.aof.rewrite.is_none() && self.repl.snaps.is_empty() {
            return;
        }
        for idx in 0..self.db.table_count() {
            self.cover_table_in(dbi, idx, now_ms);
        }
    }

    /// Keys in every database of this shard.
    pub fn keys_all_dbs(&self) -> usize {
        self.each_db().map(|(_, d)| d.len()).sum()
    }

    /// SWAPDB on this shard: the contents of databases `a` and `b` trade places (the
    /// replication flags are the shard's and stay as they are).
    pub fn swap_dbs(&mut self, a: u32, b: u32) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        if self.db_get(lo).is_none_or(|d| d.is_empty())
            && self.db_get(hi).is_none_or(|d| d.is_empty())
        {
            return;
        }
        self.db_at(lo);
        self.db_at(hi);
        if lo == 0 {
            let hi_db = self.dbs.more[hi as usize - 1].as_deref_mut();
            std::mem::swap(&mut self.db, hi_db.expect("created"));
        } else {
            let (left, right) = self.dbs.more.split_at_mut(hi as usize - 1);
            let l = left[lo as usize - 1].as_deref_mut().expect("created");
            let r = right[0].as_deref_mut().expect("created");
            std::mem::swap(l, r);
        }
        let (keep, log) = (self.db.keep_expired, self.db.expired_log.is_some());
        for (_, d) in self.each_db_mut() {
            d.keep_expired = keep;
            if d.expired_log.is_some() != log {
                d.expired_log = log.then(Vec::new);
            }
        }
    }

    /// The keys of `slot` in databases `a` and `b` trade places (loading a SWAPDB written by
    /// a shard of another layout, which owned only some of this shard's slots).
    pub fn swap_slot(&mut self, a: u32, b: u32, slot: u16) {
        let mut take = |i: u32| {
            let db = self.db_at(i);
            let keys = db.keys_in_slot(slot, usize::MAX);
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                if let Some(e) = db.remove(&k, 0) {
                    let at = e.expire_at_ms();
                    out.push((k, e.into_value(), at));
                }
            }
            out
        };
        let (from_a, from_b) = (take(a), take(b));
        for (k, v, at) in from_a {
            self.db_at(b).set(&k, v, at, 0);
        }
        for (k, v, at) in from_b {
            self.db_at(a).set(&k, v, at, 0);
        }
    }

    /// A write changed `key` in database `db`: every client WATCHing it will see its EXEC fail.
    /// Clients tracking it (client-side caching) get an invalidation.
    pub fn touch_watched(&mut self, db: u32, key: &[u8]) {
        if self.tracking.watching(&self.global.tracking) {
            crate::shard::tracking::key_changed(self, key);
        }
        if self.watchers.is_empty() {
            return;
        }
        let mut buf = std::mem::take(&mut self.tag_buf);
        if let Some(list) = self.watchers.remove(tagged(&mut buf, db, key)) {
            for w in list {
                if let Some(flag) = w.upgrade() {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }
        self.tag_buf = buf;
    }

    /// FLUSHDB of database `db`: every key WATCHed there is touched.
    pub fn touch_watched_db(&mut self, db: u32) {
        let tag = db.to_le_bytes();
        let hit: Vec<Box<[u8]>> = self
            .watchers
            .keys()
            .filter(|k| k.starts_with(&tag))
            .cloned()
            .collect();
        for k in hit {
            if let Some(list) = self.watchers.remove(&k) {
                for w in list {
                    if let Some(flag) = w.upgrade() {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            }
        }
    }
}
