//! Clients blocked on keys of this shard (BLPOP, BRPOP, BLMOVE, BLMPOP, BRPOPLPUSH, BZPOPMIN,
//! BZPOPMAX, BZMPOP). A blocked command waits on the shard that owns its keys, wherever its
//! connection lives: when a write makes one of its keys ready the command is run again here
//! (FIFO per key), and its reply travels to the connection's shard like any remote reply.
//! A waiter waits on its keys in its client's database: a write to the same name in another
//! database does not wake it (the queues are keyed by `dbs::tagged` keys).

use crate::command_id::CommandId;
use crate::mesh::ConnRef;
use crate::resp::{OwnedArgs, Proto};
use crate::shard::dbs::tagged;
use crate::topology::ShardId;
use hashbrown::HashMap;
use std::collections::VecDeque;

/// What a blocking handler asks for when nothing can be served yet.
#[derive(Debug)]
pub struct BlockRequest {
    pub keys: Vec<Vec<u8>>,
    /// Absolute deadline (ms since the epoch); 0 waits forever.
    pub deadline_ms: u64,
    /// The line to run again when woken, when it is not the one given (XREAD resolves `$`
    /// to the stream's last ID when it blocks).
    pub args: Option<OwnedArgs>,
}

/// One blocked command.
pub struct Waiter {
    /// The shard of the client's connection, the connection and its reply chunk.
    pub home: ShardId,
    pub conn: ConnRef,
    pub seq: u64,
    pub cmd: CommandId,
    pub args: OwnedArgs,
    pub proto: Proto,
    pub keys: Vec<Vec<u8>>,
    /// The client's database when it blocked.
    pub db: u32,
    pub deadline_ms: u64,
    /// Standalone mode, keys on several shards: no shard can signal readiness for all of them,
    /// so the home shard retries the command every cron tick (these shards, in order).
    pub poll_shards: Option<Vec<ShardId>>,
}

#[derive(Default)]
pub struct Blocked {
    waiters: HashMap<u64, Waiter>,
    by_key: HashMap<Box<[u8]>, VecDeque<u64>>,
    next_id: u64,
    /// Keys written since the last serving pass that have waiters (`dbs::tagged`).
    pub ready: Vec<Vec<u8>>,
    /// Set while a parked command runs again (a woken or polled waiter): XREADGROUP then
    /// tells a reader whose group went away, as Redis tells a blocked one.
    pub rerun: bool,
    /// The key whose write woke the waiter being run again (not tagged). XREAD/XREADGROUP
    /// then answer for that stream only, as Redis 7.0 serves a blocked reader per ready key.
    /// None for a polled waiter (keys on several shards), which no single key woke.
    pub woken: Option<Vec<u8>>,
    tag_buf: Vec<u8>,
}

impl Blocked {
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }
    pub fn len(&self) -> usize {
        self.waiters.len()
    }
    /// Waiters with a deadline (INFO clients_in_timeout_table).
    pub fn with_deadline(&self) -> usize {
        self.waiters.values().filter(|w| w.deadline_ms != 0).count()
    }

    /// Parks a command until one of its keys is ready or its deadline passes.
    pub fn add(&mut self, w: Waiter) {
        let id = self.next_id;
        self.next_id += 1;
        for k in &w.keys {
            self.by_key
                .entry(tagged(&mut self.tag_buf, w.db, k).into())
                .or_default()
                .push_back(id);
        }
        self.waiters.insert(id, w);
    }

    /// Notes that `key` was written in database `db` (cheap when nobody waits on it).
    pub fn touch(&mut self, db: u32, key: &[u8]) {
        if self.by_key.is_empty() {
            return;
        }
        let key = tagged(&mut self.tag_buf, db, key);
        if self.by_key.contains_key(key) && !self.ready.iter().any(|k| k == key) {
            self.ready.push(key.to_vec());
        }
    }

    /// SWAPDB: every key waited on in database `db` is checked again.
    pub fn touch_db(&mut self, db: u32) {
        let tag = db.to_le_bytes();
        for k in self.by_key.keys() {
            if k.starts_with(&tag) && !self.ready.iter().any(|r| r[..] == k[..]) {
                self.ready.push(k.to_vec());
            }
        }
    }

    /// The oldest waiter on `key` (a `dbs::tagged` key, as in `ready`), taken out of every
    /// queue it is in.
    pub fn pop_first(&mut self, key: &[u8]) -> Option<Waiter> {
        let id = loop {
            let q = self.by_key.get_mut(key)?;
            let id = q.pop_front()?;
            if self.waiters.contains_key(&id) {
                break id;
            }
        };
        self.remove(id)
    }

    /// Puts a waiter that could not be served back at the head of its queues.
    pub fn push_front(&mut self, w: Waiter) {
        let id = self.next_id;
        self.next_id += 1;
        for k in &w.keys {
            self.by_key
                .entry(tagged(&mut self.tag_buf, w.db, k).into())
                .or_default()
                .push_front(id);
        }
        self.waiters.insert(id, w);
    }

    fn remove(&mut self, id: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&id)?;
        for k in &w.keys {
            let k = tagged(&mut self.tag_buf, w.db, k);
            if let Some(q) = self.by_key.get_mut(k) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
        Some(w)
    }

    /// Polling waiters (keys on several shards), taken out to be retried.
    pub fn take_polling(&mut self) -> Vec<Waiter> {
        let ids: Vec<u64> = self
            .waiters
            .iter()
            .filter(|(_, w)| w.poll_shards.is_some())
            .map(|(&id, _)| id)
            .collect();
        let mut ids = ids;
        ids.sort_unstable();
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// Waiters whose deadline has passed.
    pub fn take_expired(&mut self, now_ms: u64) -> Vec<Waiter> {
        let ids: Vec<u64> = self
            .waiters
            .iter()
            .filter(|(_, w)| w.deadline_ms != 0 && w.deadline_ms <= now_ms)
            .map(|(&id, _)| id)
            .collect();
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// Waiters of a connection that went away.
    pub fn drop_conn(&mut self, home: ShardId, conn: ConnRef) {
        let ids: Vec<u64> = self
            .waiters
            .iter()
            .filter(|(_, w)| w.home == home && w.conn == conn)
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.remove(id);
        }
    }

    /// Every waiter (slot map changes re-check them all).
    pub fn take_all(&mut self) -> Vec<Waiter> {
        let ids: Vec<u64> = self.waiters.keys().copied().collect();
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }
}
