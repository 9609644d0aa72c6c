//! Master/replica replication (between slotd nodes, and with redis-server 7.0): the operations on the replication state
//! (feeding shard journals to the stream, role changes) and the API the cluster bus and the
//! commands use (the replica link thread itself is the `repl_link` driver, started through
//! the hook `server` installs), over the state itself, which lives below the shard
//! (`global::repl`, `global::backlog`, `shard::repl`, `shard::snapshot`; re-exported here).
//! Design and wire format: docs/replication.md.
//!
//! Never runs on a shard's per-command path: shards touch it once per loop turn (feeding their
//! journal to the backlog) and only when a backlog exists.

pub mod master;
pub mod min_replicas;

use crate::global::Global;
use crate::shard::Shard;
// The replication state types live below the shard (the process-wide part in `Global.repl`,
// the per-shard part in `Shard.repl`); this module keeps the operations on them.
pub use crate::global::repl::{lock, Feed, LinkInfo, LinkState, ReplState, ReplicaInfo, NO_REPLID};
pub use crate::shard::snapshot;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

/// `repl-backlog-size` in bytes (Redis' minimum is 16 KB).
pub fn backlog_size(global: &Global) -> usize {
    let v = global.cfg(|c| {
        c.unimplemented
            .get("repl-backlog-size")
            .and_then(|v| v.parse::<u64>().ok())
    });
    v.unwrap_or(1 << 20).max(16 * 1024) as usize
}

/// Appends the journal records this shard did not feed yet to the stream (end of each loop
/// turn, and before anything else takes the journal).
pub fn feed_journal(sh: &mut Shard) {
    let (epoch, feeding) = {
        let g = &sh.global.repl;
        (
            g.epoch.load(Ordering::Acquire),
            g.feeding.load(Ordering::Relaxed),
        )
    };
    if epoch != sh.repl.seen_epoch {
        // Role changed: what was journaled before is not this node's own stream.
        sh.repl.seen_epoch = epoch;
        sh.journal.mark_repl_sent();
        return;
    }
    if !feeding {
        return;
    }
    let (bytes, marks) = sh.journal.repl_unsent();
    if bytes.is_empty() {
        return;
    }
    let data = if marks.is_empty() || sh.shards == 1 {
        std::borrow::Cow::Borrowed(bytes)
    } else {
        std::borrow::Cow::Owned(drop_fanned_records(bytes, &marks))
    };
    let (start_db, end_db) = sh.journal.repl_dbs();
    let g = &sh.global.repl;
    let mut st = g.state();
    // Shards' chunks interleave in the stream: each says its database if the stream's
    // reader is in another one.
    if st.stream_db != start_db {
        let mut sel = Vec::new();
        crate::aof_store::journal::encode_select(&mut sel, start_db);
        st.append(&sel, &g.offset);
    }
    st.append(&data, &g.offset);
    st.stream_db = end_db;
    drop(st);
    sh.journal.mark_repl_sent();
}

/// With several shards, a FLUSHALL, FLUSHDB or SWAPDB every shard journaled (for its AOF) goes
/// to the stream once, as the plain Redis command: the coordinator calls this on each shard
/// inside the section that parks them all, after the shard's own change; the shard's records
/// so far are fed, and the last shard appends the one record (in database `db` when given),
/// so every record of any shard from before the change precedes it and every later one
/// follows it. A replica of any layout (or a redis-server) applies it to all its keys.
pub fn stream_once(sh: &mut Shard, seen: &mut usize, db: Option<u32>, args: &[&[u8]]) {
    feed_journal(sh);
    *seen += 1;
    if *seen < sh.shards || sh.shards == 1 {
        return;
    }
    let g = &sh.global.repl;
    if !g.feeding.load(Ordering::Relaxed) || g.epoch.load(Ordering::Acquire) != sh.repl.seen_epoch {
        return;
    }
    let mut rec = Vec::new();
    let mut st = g.state();
    if let Some(db) = db.filter(|&d| d != st.stream_db) {
        crate::aof_store::journal::encode_select(&mut rec, db);
        st.stream_db = db;
    }
    crate::aof_store::journal::encode(&mut rec, args);
    st.append(&rec, &g.offset);
}

/// With several shards, the FLUSHALL, FLUSHDB and SWAPDB records every shard journaled (for
/// its AOF) are left out of the stream: `stream_once` puts each in once, at the point where
/// every shard's earlier records are in.
fn drop_fanned_records(bytes: &[u8], marks: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for &m in marks {
        if m < at {
            continue;
        }
        let mut p = crate::resp::Parser::new();
        if let crate::resp::ParseOutcome::Command { consumed } = p.parse(&bytes[m..], u64::MAX) {
            out.extend_from_slice(&bytes[at..m]);
            at = m + consumed;
        }
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

/// Once per loop turn, before commands run: role changes and the journal switch.
pub fn turn_start(sh: &mut Shard) {
    let g = &sh.global.repl;
    if g.epoch.load(Ordering::Acquire) != sh.repl.seen_epoch {
        let replica = g.is_replica.load(Ordering::Acquire);
        // Drops what the old role journaled.
        feed_journal(sh);
        // In cluster mode the slot map sends writes to the master (MOVED) instead.
        let cluster = sh.slot_map.cluster_enabled;
        sh.repl.readonly = replica && !cluster && sh.global.cfg(replica_read_only);
        for (_, db) in sh.each_db_mut() {
            db.keep_expired = replica;
        }
        return;
    }
    let feeding = g.feeding.load(Ordering::Relaxed);
    // Keyspace notifications of class `x` read the same log of expired keys.
    let logging = feeding || crate::shard::notify::enabled(sh, crate::shard::notify::EXPIRED);
    if logging != sh.db.expired_log.is_some() {
        for (_, db) in sh.each_db_mut() {
            db.expired_log = logging.then(Vec::new);
        }
    }
    if feeding && !sh.journal.enabled {
        sh.journal.enabled = true;
    }
}

pub use crate::shard::repl::journal_expired;

/// Before a write runs on a master with replicas: its keys that expired are deleted now (and
/// journaled as DEL before the write's own record), so the replica sees the same sequence.
pub fn expire_before_write(sh: &mut Shard, keys: &[&[u8]], now_ms: u64) {
    let db = sh.sel_db();
    if db.volatile_len() == 0 {
        return;
    }
    for k in keys {
        let slot = crate::cluster::hash_slot::key_hash_slot(k);
        if db.owns_slot(slot) {
            db.contains(k, now_ms);
        }
    }
    journal_expired(sh);
}

fn replica_read_only(c: &crate::config::Config) -> bool {
    c.unimplemented
        .get("replica-read-only")
        .is_none_or(|v| v != "no")
}

/// Whether shard journals must record (AOF on, or a stream to feed).
pub fn journal_needed(global: &Global) -> bool {
    global.repl.feeding.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// The API the cluster bus (and REPLICAOF) calls.
// ---------------------------------------------------------------------------------------------

/// Starts (or re-points) replication from `host:port`. Returns false when already replicating
/// exactly that master.
pub fn start_replica_of(global: &Arc<Global>, host: &str, port: u16) -> bool {
    let mut st = global.repl.state();
    if st
        .link
        .as_ref()
        .is_some_and(|l| l.host == host && l.port == port)
    {
        return false;
    }
    let gen = st.next_link_gen;
    st.next_link_gen += 1;
    let now = crate::clock::unix_ms();
    let offset = st.offset;
    st.link = Some(LinkInfo {
        host: host.to_string(),
        port,
        gen,
        state: LinkState::Connect,
        last_io_ms: 0,
        down_since_ms: now,
        last_up_ms: 0,
        read_offset: offset,
        processed_offset: offset,
        sync_read_bytes: 0,
    });
    // Our own replicas must resync against the new history.
    for r in &st.replicas {
        r.feed.kill();
    }
    drop(st);
    global.repl.feeding.store(false, Ordering::Release);
    global.repl.is_replica.store(true, Ordering::Release);
    crate::log::set_replica_role(true);
    min_replicas::refresh(global);
    global.repl.epoch.fetch_add(1, Ordering::AcqRel);
    crate::log::notice(&format!("Connecting to MASTER {host}:{port}"));
    match LINK_SPAWNER.get() {
        Some(spawn) => spawn(global.clone(), gen),
        None => crate::log::warning("Can't start the replication link: no link driver"),
    }
    true
}

/// Starts the replica link thread for a link generation: the `repl_link` driver's, installed
/// by `server` at boot (this module is below the drivers and does not name them).
pub type LinkSpawner = fn(Arc<Global>, u64);

static LINK_SPAWNER: OnceLock<LinkSpawner> = OnceLock::new();

/// Installs the link spawner (once, at boot).
pub fn install_link_spawner(spawn: LinkSpawner) {
    let _ = LINK_SPAWNER.set(spawn);
}

/// Stops replicating and accepts writes: a new history id, the old one kept as replid2 so
/// other replicas of the old master can continue from us.
pub fn become_master(global: &Arc<Global>) {
    let mut st = global.repl.state();
    if st.link.take().is_none() {
        return;
    }
    st.next_link_gen += 1;
    st.replid2 = std::mem::replace(&mut st.replid, crate::clock::random_hex40());
    st.second_offset = st.offset as i64 + 1;
    let size = backlog_size(global);
    st.ensure_backlog(size, false);
    // Sub-replicas reconnect and continue through replid2.
    for r in &st.replicas {
        r.feed.kill();
    }
    drop(st);
    global.repl.is_replica.store(false, Ordering::Release);
    crate::log::set_replica_role(false);
    min_replicas::refresh(global);
    global.repl.feeding.store(true, Ordering::Release);
    global.repl.epoch.fetch_add(1, Ordering::AcqRel);
    crate::log::notice("MASTER MODE enabled (user request from 'REPLICAOF NO ONE')");
}

/// REPLCONF GETACK from our master's stream or a client: ACK at the next chance.
pub fn request_ack(global: &Global) {
    global.repl.state().ack_requested = true;
}

/// The offset the bus advertises: master_repl_offset on a master, the processed offset on a
/// replica.
pub fn repl_offset(global: &Global) -> u64 {
    let st = global.repl.state();
    match &st.link {
        Some(l) => l.processed_offset,
        None => st.offset,
    }
}

/// Replica side: the link state (None on a master).
pub fn link_status(global: &Global) -> Option<LinkState> {
    global.repl.state().link.as_ref().map(|l| l.state)
}

/// Replica side: milliseconds since the master link was last up (0 while it is up; None on a
/// master). The bus uses it for the data-age check of elections.
pub fn link_down_ms(global: &Global, now_ms: u64) -> Option<u64> {
    let st = global.repl.state();
    let l = st.link.as_ref()?;
    if l.state == LinkState::Connected {
        return Some(0);
    }
    Some(now_ms.saturating_sub(l.last_up_ms.max(l.down_since_ms)))
}

/// Current replid and offset (the bus header; PSYNC).
pub fn replid_and_offset(global: &Global) -> (String, u64) {
    let st = global.repl.state();
    (st.replid.clone(), st.offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fanned_records_leave_the_stream() {
        // Guards the multi-shard stream: FLUSHALL/FLUSHDB/SWAPDB records go (stream_once puts
        // each in once), every other record stays verbatim.
        let mut j = crate::aof_store::journal::Journal::default();
        j.enabled = true;
        j.record(&[b"SET", b"a", b"1"]);
        j.record(&[b"FLUSHALL"]);
        j.record(&[b"SET", b"b", b"2"]);
        j.record(&[b"SWAPDB", b"0", b"1"]);
        j.record(&[b"FLUSHDB"]);
        let (bytes, marks) = j.repl_unsent();
        let out = drop_fanned_records(bytes, &marks);
        let mut want = Vec::new();
        crate::aof_store::journal::encode(&mut want, &[b"SET", b"a", b"1"]);
        crate::aof_store::journal::encode(&mut want, &[b"SET", b"b", b"2"]);
        assert_eq!(out, want);
    }
}
