//! Keyspace notifications (`notify-keyspace-events`): the event a handler raises, queued as a
//! Pub/Sub message on `__keyspace@<db>__:<key>` (message: the event) and/or
//! `__keyevent@<db>__:<event>` (message: the key), in that order, as Redis 7.0 does. The
//! messages leave with the shard's other published messages at the end of the turn
//! (`net::pubsub_loop`), reaching subscribers (pattern subscribers too) on every core of this
//! node, and never the cluster bus: Redis keeps notifications local to the node.
//!
//! Cost when off: one relaxed load and a failed bit test per event site; the work is in the
//! cold `raise`. Never touches the keyspace.

use super::pubsub::Outgoing;
use super::Shard;
use crate::resp::Args;
use std::sync::atomic::Ordering;

pub use crate::config::keyspace_events::{
    EVICTED, EXPIRED, GENERIC, HASH, KEY_MISS, LIST, SET, STREAM, STRING, ZSET,
};
use crate::config::keyspace_events::{KEYEVENT, KEYSPACE};

/// Raises `event` of `class` for `key` in the database the command selected.
#[inline]
pub fn event(sh: &mut Shard, class: u32, event: &str, key: &[u8]) {
    let db = sh.sel;
    event_in(sh, class, event, db, key);
}

/// Raises `event` of `class` for `key` in database `db` (MOVE, COPY ... DB, expiry and
/// eviction, which name their own database).
#[inline]
pub fn event_in(sh: &mut Shard, class: u32, event: &str, db: u32, key: &[u8]) {
    let flags = sh.global.keyspace_events.load(Ordering::Relaxed);
    if flags & class != 0 {
        raise(sh, flags, event, db, key);
    }
}

/// True when events of `class` are published (for sites that must compute something first,
/// such as the keys an expiry deleted).
#[inline]
pub fn enabled(sh: &Shard, class: u32) -> bool {
    sh.global.keyspace_events.load(Ordering::Relaxed) & class != 0
}

#[cold]
fn raise(sh: &mut Shard, flags: u32, event: &str, db: u32, key: &[u8]) {
    if flags & KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        queue(sh, channel, event.as_bytes().to_vec());
    }
    if flags & KEYEVENT != 0 {
        let channel = format!("__keyevent@{db}__:{event}").into_bytes();
        queue(sh, channel, key.to_vec());
    }
}

fn queue(sh: &mut Shard, channel: Vec<u8>, message: Vec<u8>) {
    sh.subs.outgoing.push(Outgoing {
        sharded: false,
        node_local: true,
        channel,
        message,
    });
}

/// Class `m`: the selected database's miss count before a keyed command runs, when key-miss
/// events are on (None otherwise: one relaxed load is the dispatcher's whole cost).
#[inline]
pub fn misses_before(sh: &Shard) -> Option<u64> {
    if enabled(sh, KEY_MISS) {
        let db = sh.sel;
        Some(
            sh.each_db()
                .find(|(i, _)| *i == db)
                .map_or(0, |(_, d)| d.stats.misses),
        )
    } else {
        None
    }
}

/// After a keyed command that counted misses: each of its keys held by this shard that does
/// not exist raises `keymiss` (Redis raises it in the read lookup that missed).
pub fn key_misses(sh: &mut Shard, before: u64, args: Args<'_>, keys: &[usize], now_ms: u64) {
    let db = sh.sel;
    if sh.db_at(db).stats.misses == before {
        return;
    }
    for &k in keys {
        let key = args.get(k);
        let slot = crate::cluster::hash_slot::key_hash_slot(key);
        if crate::topology::shard_of(slot, sh.shards) != sh.id {
            continue;
        }
        if !sh.db_at(db).contains(key, now_ms) {
            event_in(sh, KEY_MISS, "keymiss", db, key);
        }
    }
}

/// The keys the keyspace deleted because they expired (`Db::expired_log`), as `expired`
/// events in their databases. Called where the log is drained, before the log is cleared.
pub fn expired_from_log(sh: &mut Shard) {
    if !enabled(sh, EXPIRED) {
        return;
    }
    let mut found: Vec<(u32, Vec<u8>)> = Vec::new();
    for (i, db) in sh.each_db() {
        if let Some(log) = db.expired_log.as_ref() {
            found.extend(log.iter().map(|k| (i, k.clone())));
        }
    }
    for (db, key) in found {
        event_in(sh, EXPIRED, "expired", db, &key);
    }
}
