//! Replica side: loading a full sync's RDB payload once it is on disk whole. The payload is
//! checked first (magic, version, checksum) while the shards keep serving their old data;
//! only a good payload replaces `dbfilename` (as a Redis replica renames its temporary file)
//! and is then loaded: shard 0 parks every other shard and, in that one section, flushes
//! every shard's keys and the function libraries and loads the payload (`rdb_load`), so no
//! client ever sees half of the new data or an empty node between the two.
//!
//! The link thread hands the payload over through `PENDING` and a `REPLLOAD` record sent to
//! shard 0 in its usual record batches (so it runs after every record sent before it); the
//! record's handler is `run`, installed into `dispatch::apply` as its payload loader.

use crate::shard::{Parked, Shard};
use std::sync::mpsc;
use std::sync::Mutex;

/// The record that makes shard 0 load the pending payload (slotd-internal, like REPLFLUSH;
/// never forwarded from a master's stream).
pub const LOAD_RECORD: &[u8] = b"*1\r\n$8\r\nREPLLOAD\r\n";

/// A payload waiting for shard 0, and where its outcome goes.
struct Job {
    /// The payload file, mapped read-only.
    data: crate::sys::FileMapping,
    done: mpsc::Sender<Result<(), String>>,
}

static PENDING: Mutex<Option<Job>> = Mutex::new(None);

/// Checks an RDB payload before anything is flushed: read whole once (every item decoded
/// and dropped, the checksum compared), so a payload the loader would stop on (a cut or
/// altered file, a module type) is refused while the old data is still there. This costs a
/// second decoding pass on the link thread; the shards keep serving meanwhile.
pub fn check(data: &[u8]) -> Result<(), String> {
    let bad = |e: crate::rdb::file::read::ReadError| {
        format!("MASTER <-> REPLICA sync: bad RDB payload: {e}")
    };
    let limits = crate::types::zset::Limits::default();
    let mut r = crate::rdb::file::read::Reader::new(data, limits).map_err(bad)?;
    while r.next().map_err(bad)?.is_some() {}
    Ok(())
}

/// Stages `data` for shard 0; the outcome arrives on the receiver once the `LOAD_RECORD` the
/// caller sends to shard 0 ran.
pub fn stage(data: crate::sys::FileMapping) -> mpsc::Receiver<Result<(), String>> {
    crate::dispatch::apply::install_payload_loader(run);
    let (done, rx) = mpsc::channel();
    *crate::replication::lock(&PENDING) = Some(Job { data, done });
    rx
}

/// Forgets a staged payload whose record was never run (the caller gave up waiting).
pub fn unstage() {
    crate::replication::lock(&PENDING).take();
}

/// `LOAD_RECORD` on shard 0: flush and load in one section holding every shard.
fn run(sh: &mut Shard, now_ms: u64) {
    let Some(job) = crate::replication::lock(&PENDING).take() else {
        return;
    };
    let ids: Vec<usize> = (0..sh.shards).collect();
    let mut out = Err("the load did not run".to_string());
    sh.with_parked(&ids, &mut |me, mut peers| {
        out = flush_and_load(me, &mut peers, job.data.bytes(), now_ms);
    });
    let _ = job.done.send(out);
}

fn flush_and_load(
    me: &mut Shard,
    peers: &mut Parked<'_>,
    data: &[u8],
    now_ms: u64,
) -> Result<(), String> {
    crate::log::notice("MASTER <-> REPLICA sync: Flushing old data");
    let lazily = crate::lazyfree::replica_flush_async();
    crate::commands::keys::flush_shard_all(me, lazily);
    for sh in peers.iter_mut() {
        crate::commands::keys::flush_shard_all(sh, lazily);
    }
    // The payload's libraries replace ours (Redis empties them with the data).
    let flush = crate::resp::OwnedArgs::from_slices(&[b"FUNCTION", b"FLUSH", b"SYNC"]);
    crate::commands::functions::replay(me, flush.args());
    crate::log::notice("MASTER <-> REPLICA sync: Loading DB in memory");
    let loaded = load(me, peers, data, now_ms);
    restart_aof(me);
    for sh in peers.iter_mut() {
        restart_aof(sh);
    }
    loaded
}

fn load(me: &mut Shard, peers: &mut Parked<'_>, data: &[u8], now_ms: u64) -> Result<(), String> {
    crate::rdb_load::load_parked(me, peers, data, now_ms).map(|_| ())
}

/// The loaded keys were not journaled: a shard with an AOF writes a new base holding them
/// (Redis restarts its AOF after a full sync the same way). The flush records journaled just
/// before go to the old files first; in the new incr file they would empty the new base.
fn restart_aof(sh: &mut Shard) {
    if !sh.aof.active() {
        return;
    }
    if let Err(e) = crate::aof::flush_now(sh, false) {
        crate::log::warning(&format!("Shard {}: {e}", sh.id));
    }
    if sh.aof.rewrite.is_some() {
        crate::log::warning(&format!(
            "Shard {}: an AOF rewrite was running during the full sync; the AOF holds the \
             loaded keys after the next rewrite",
            sh.id
        ));
        return;
    }
    if let Err(e) = crate::aof::start_rewrite(sh, false) {
        crate::log::warning(&format!("Shard {}: {e}", sh.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny RDB file: header, EOF, checksum.
    fn file(version: &str, checksum: bool) -> Vec<u8> {
        let mut f = format!("REDIS{version}").into_bytes();
        f.extend_from_slice(&[0xFE, 0x00, 0xFF]);
        let crc = if checksum {
            crate::rdb::crc64::crc64(0, &f)
        } else {
            0
        };
        f.extend_from_slice(&crc.to_le_bytes());
        f
    }

    #[test]
    fn only_a_whole_payload_with_its_checksum_passes() {
        // Guards the check that runs before anything is flushed: a cut or altered payload, an
        // unknown version or no header is refused; a checksum of 0 means none was written.
        assert!(check(&file("0010", true)).is_ok());
        assert!(check(&file("0009", false)).is_ok());
        let mut altered = file("0010", true);
        altered[10] ^= 1;
        assert!(check(&altered).is_err());
        let whole = file("0010", true);
        assert!(check(&whole[..whole.len() - 1]).is_err());
        assert!(check(&file("0099", true)).is_err());
        assert!(check(b"*1\r\n$4\r\nPING\r\n0123").is_err());
    }
}
