//! The full-sync snapshot without fork: each shard serializes its slot tables a few per loop
//! turn into a bounded queue the replica's sender drains; before a write touches a table not
//! serialized yet, the key's value is serialized first (the write barrier: only that key, or
//! just the fact that it did not exist, and the table's turn later skips it), so every table
//! is captured as it was when the snapshot started, and every stream record after the
//! snapshot's offset is a change on top of it. Capturing one key instead of its whole slot
//! table keeps a write during the snapshot cheap (a table of a 10M-key node holds ~600 keys).
//!
//! Chunks of every shard interleave in one queue, so each chunk stands alone for its reader:
//! as RESP commands (`SnapFormat::Resp`) a chunk starts and ends in database 0 (it says
//! `SELECT n` before other databases and ends with `SELECT 0`); as RDB key entries
//! (`SnapFormat::Rdb`) a chunk starts with the SELECTDB of its first key and selects again
//! where the database changes. The consumer writes what goes around the chunks (an RDB file's
//! header, functions, EOF and checksum).

use crate::aof_store::rewrite::{serialize_one, serialize_table_keeping, split_table, DbList};
use crate::global::repl::lock;
use crate::keyspace::db::Db;
use crate::rdb::dump::DumpOpts;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

/// A shard stops producing while this many snapshot bytes wait for the sender (the write
/// barrier still serializes what it must, so the bound is soft by at most a few tables).
pub const SNAP_QUEUE_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Serialized bytes a shard buffers before handing them to the queue.
const SNAP_CHUNK_BYTES: usize = 256 * 1024;

/// One snapshot being produced by every shard, consumed by one sender.
pub struct SnapSession {
    pub q: Mutex<SnapQueue>,
    pub cv: Condvar,
}

#[derive(Default)]
pub struct SnapQueue {
    pub chunks: VecDeque<Vec<u8>>,
    pub bytes: usize,
    /// Shards that have not finished their tables yet.
    pub shards_left: usize,
    /// The replica went away: shards drop their part.
    pub aborted: bool,
}

impl SnapSession {
    pub fn new(shards: usize) -> SnapSession {
        SnapSession {
            q: Mutex::new(SnapQueue {
                shards_left: shards,
                ..Default::default()
            }),
            cv: Condvar::new(),
        }
    }

    pub fn push(&self, chunk: Vec<u8>, finished: bool) {
        let mut q = lock(&self.q);
        if !chunk.is_empty() && !q.aborted {
            q.bytes += chunk.len();
            q.chunks.push_back(chunk);
        }
        if finished {
            q.shards_left = q.shards_left.saturating_sub(1);
        }
        self.cv.notify_all();
    }

    pub fn abort(&self) {
        let mut q = lock(&self.q);
        q.aborted = true;
        q.chunks.clear();
        q.bytes = 0;
        self.cv.notify_all();
    }
}

impl crate::global::rdb::Abort for SnapSession {
    fn abort(&self) {
        SnapSession::abort(self);
    }
}

/// What a snapshot's chunks hold.
#[derive(Clone, Copy, Debug)]
pub enum SnapFormat {
    /// RESP commands recreating each key (the AOF rewrite's serializers).
    Resp,
    /// RDB key entries (expiry, type, key, value), with these encoding options.
    Rdb(DumpOpts),
}

/// `buf_db` when no database is selected yet for the chunk being built (RDB chunks).
const NO_DB: u32 = u32::MAX;

/// One shard's part of a snapshot.
pub struct ShardSnap {
    pub session: std::sync::Arc<SnapSession>,
    format: SnapFormat,
    done: Vec<bool>,
    done_count: usize,
    next_table: usize,
    buf: Vec<u8>,
    /// The database a reader of `buf` is in at its end.
    buf_db: u32,
    /// Tables not serialized yet (by number) with the keys a write already captured on their
    /// own (the value before the write, or nothing for a key that did not exist): the
    /// table's turn skips them.
    early: HashMap<usize, HashSet<Box<[u8]>>>,
    /// A file (BGSAVE) rather than a replica's payload: no stream follows it to replay a
    /// flush, so FLUSHDB copies the database first and FLUSHALL ends the save (as Redis
    /// kills its BGSAVE child).
    file: bool,
}

impl ShardSnap {
    pub fn new(
        session: std::sync::Arc<SnapSession>,
        tables: usize,
        format: SnapFormat,
    ) -> ShardSnap {
        ShardSnap {
            session,
            format,
            done: vec![false; tables],
            done_count: 0,
            next_table: 0,
            buf: Vec::new(),
            early: HashMap::new(),
            buf_db: match format {
                SnapFormat::Resp => 0,
                SnapFormat::Rdb(_) => NO_DB,
            },
            file: false,
        }
    }

    /// The part of a snapshot that becomes a file (BGSAVE, SAVE).
    pub fn for_file(mut self) -> ShardSnap {
        self.file = true;
        self
    }

    /// True for a file's snapshot (see `file`).
    pub fn is_file(&self) -> bool {
        self.file
    }

    /// What chunks hold: None for RESP commands, the RDB encoding options otherwise.
    fn rdb(&self) -> Option<DumpOpts> {
        match self.format {
            SnapFormat::Resp => None,
            SnapFormat::Rdb(opts) => Some(opts),
        }
    }

    /// Serializes local table `idx` of database `dbi` if it was not yet (the steps, and writes
    /// that need a whole database or slot as it was), less the keys a write captured already.
    pub fn cover_table(&mut self, db: &Db, dbi: u32, idx: usize, now_ms: u64) {
        let v = dbi as usize * db.table_count() + idx;
        if self.done.get(v).copied().unwrap_or(true) {
            return;
        }
        self.done[v] = true;
        self.done_count += 1;
        let rdb = self.rdb();
        let (cur, out) = (&mut self.buf_db, &mut self.buf);
        match self.early.remove(&v) {
            None => serialize_table_keeping(db, dbi, idx, now_ms, cur, out, rdb, |_| true),
            Some(seen) => {
                serialize_table_keeping(db, dbi, idx, now_ms, cur, out, rdb, |k| !seen.contains(k))
            }
        }
        self.push_if_full();
    }

    /// The write barrier: `key` (of local table `idx` of database `dbi`) is about to change;
    /// if its table was not serialized yet and the key not captured yet, its value now (or
    /// its absence) is what the snapshot holds for it.
    pub fn cover_key(&mut self, db: &Db, dbi: u32, idx: usize, key: &[u8], now_ms: u64) {
        let v = dbi as usize * db.table_count() + idx;
        if self.done.get(v).copied().unwrap_or(true) {
            return;
        }
        let seen = self.early.entry(v).or_default();
        if seen.contains(key) {
            return;
        }
        seen.insert(key.into());
        if let Some(e) = db.peek(key, now_ms) {
            let rdb = self.rdb();
            serialize_one(e, dbi, now_ms, &mut self.buf_db, &mut self.buf, rdb);
            self.push_if_full();
        }
    }

    /// Hands the buffer to the queue once it holds a chunk's worth.
    fn push_if_full(&mut self) {
        if self.buf.len() >= SNAP_CHUNK_BYTES {
            let chunk = self.take_chunk();
            self.session.push(chunk, false);
        }
    }

    /// The buffered chunk: ending in database 0 (RESP), or with no database selected for the
    /// next one (RDB).
    fn take_chunk(&mut self) -> Vec<u8> {
        match self.format {
            SnapFormat::Resp if self.buf_db != 0 => {
                crate::aof_store::journal::encode_select(&mut self.buf, 0);
                self.buf_db = 0;
            }
            SnapFormat::Resp => {}
            SnapFormat::Rdb(_) => self.buf_db = NO_DB,
        }
        std::mem::take(&mut self.buf)
    }

    /// Marks every table of database `dbi` done (FLUSHDB while the snapshot runs).
    pub fn cover_db_empty(&mut self, dbi: u32, tables_per_db: usize) {
        let from = dbi as usize * tables_per_db;
        for d in self.done.iter_mut().skip(from).take(tables_per_db) {
            if !*d {
                *d = true;
                self.done_count += 1;
            }
        }
        self.early
            .retain(|v, _| !(from..from + tables_per_db).contains(v));
    }

    /// One loop turn's share: tables until `deadline` while the queue has room. Returns true
    /// when this shard's part is complete (the caller drops it) or was aborted.
    pub fn step(&mut self, dbs: &DbList<'_>, now_ms: u64, deadline: Instant) -> bool {
        let (room, aborted) = {
            let q = lock(&self.session.q);
            (q.bytes < SNAP_QUEUE_BYTES_MAX, q.aborted)
        };
        if aborted {
            return true;
        }
        let per_db = dbs.first().copied().flatten().map_or(1, Db::table_count);
        while room && self.next_table < self.done.len() {
            let v = self.next_table;
            self.next_table += 1;
            let (dbi, idx) = split_table(v, per_db);
            match dbs.get(dbi as usize).copied().flatten() {
                Some(db) => self.cover_table(db, dbi, idx, now_ms),
                None if !self.done[v] => {
                    self.done[v] = true;
                    self.done_count += 1;
                }
                None => {}
            }
            if Instant::now() >= deadline || self.buf.len() >= SNAP_CHUNK_BYTES {
                break;
            }
        }
        let finished = self.done_count == self.done.len();
        if finished || !self.buf.is_empty() {
            let chunk = self.take_chunk();
            self.session.push(chunk, finished);
        }
        finished
    }

    /// True while producing more would fit in the queue (the event loop stays busy then).
    pub fn wants_turns(&self) -> bool {
        let q = lock(&self.session.q);
        !q.aborted && q.bytes < SNAP_QUEUE_BYTES_MAX
    }

    /// FLUSHALL while the snapshot runs: tables not serialized yet are empty now, and the flush
    /// is in the stream after the snapshot's offset anyway.
    pub fn cover_all_empty(&mut self) {
        if self.file {
            self.session.abort();
        }
        for d in self.done.iter_mut() {
            *d = true;
        }
        self.done_count = self.done.len();
        self.early.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::{StrValue, Value};
    use std::sync::Arc;

    #[test]
    fn barrier_then_steps_cover_each_table_once() {
        // Guards the snapshot: a table covered by the barrier is not serialized again.
        let mut db = Db::new(0, 1);
        db.set(b"a", Value::Str(StrValue::from_slice(b"1")), 0, 0);
        let s = Arc::new(SnapSession::new(1));
        let mut snap = ShardSnap::new(s.clone(), db.table_count(), SnapFormat::Resp);
        let slot = crate::cluster::hash_slot::key_hash_slot(b"a");
        let idx = crate::topology::local_index(slot, 1);
        snap.cover_table(&db, 0, idx, 0);
        db.set(b"a", Value::Str(StrValue::from_slice(b"2")), 0, 0);
        let far = Instant::now() + std::time::Duration::from_secs(60);
        while !snap.step(&[Some(&db)], 0, far) {}
        let q = lock(&s.q);
        assert_eq!(q.shards_left, 0);
        let all: Vec<u8> = q.chunks.iter().flatten().copied().collect();
        let mut want = Vec::new();
        crate::aof_store::journal::encode(&mut want, &[b"SET", b"a", b"1"]);
        assert_eq!(all, want);
    }

    #[test]
    fn key_barrier_captures_the_value_before_the_write_and_the_walk_skips_it() {
        // Guards the per-key barrier: a written key is in the snapshot once, as it was; a key
        // created after the start is not; a deleted one is; untouched keys come from the walk.
        let set = |db: &mut Db, k: &[u8], v: &[u8]| {
            db.set(k, Value::Str(StrValue::from_slice(v)), 0, 0);
        };
        let mut db = Db::new(0, 1);
        set(&mut db, b"{t}a", b"1");
        set(&mut db, b"{t}b", b"2");
        set(&mut db, b"{t}d", b"4");
        let s = Arc::new(SnapSession::new(1));
        let mut snap = ShardSnap::new(s.clone(), db.table_count(), SnapFormat::Resp);
        let idx = crate::topology::local_index(crate::cluster::hash_slot::key_hash_slot(b"{t}"), 1);
        for _ in 0..2 {
            snap.cover_key(&db, 0, idx, b"{t}a", 0);
        }
        set(&mut db, b"{t}a", b"10");
        snap.cover_key(&db, 0, idx, b"{t}c", 0);
        set(&mut db, b"{t}c", b"3");
        snap.cover_key(&db, 0, idx, b"{t}b", 0);
        db.remove(b"{t}b", 0);
        snap.cover_key(&db, 0, idx, b"{t}a", 0);
        let far = Instant::now() + std::time::Duration::from_secs(60);
        while !snap.step(&[Some(&db)], 0, far) {}
        let q = lock(&s.q);
        let all: Vec<u8> = q.chunks.iter().flatten().copied().collect();
        let mut want = Vec::new();
        crate::aof_store::journal::encode(&mut want, &[b"SET", b"{t}a", b"1"]);
        crate::aof_store::journal::encode(&mut want, &[b"SET", b"{t}b", b"2"]);
        crate::aof_store::journal::encode(&mut want, &[b"SET", b"{t}d", b"4"]);
        assert_eq!(
            String::from_utf8_lossy(&all),
            String::from_utf8_lossy(&want)
        );
        assert!(snap.early.is_empty());
    }
}
