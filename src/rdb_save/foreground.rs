//! The foreground save: with every shard parked (nothing changes meanwhile), each shard's
//! tables are serialized into one RDB file written atomically. SAVE, SHUTDOWN's save, the save
//! at SIGTERM and DEBUG RELOAD use it.

use super::file::RdbFile;
use crate::global::repl::lock;
use crate::global::Global;
use crate::rdb::dump::DumpOpts;
use crate::shard::snapshot::{ShardSnap, SnapFormat, SnapSession};
use crate::shard::{Parked, Shard};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, Default)]
pub struct SaveStats {
    pub bytes: u64,
}

/// Saves this shard and every peer parked in `peers` (all shards must be there) into `path`,
/// atomically (temp file beside it, fsync, rename, fsync of the directory). On success the
/// save time and the change counter restart as after Redis' `rdbSave`.
pub fn save_parked(
    me: &mut Shard,
    peers: &mut Parked<'_>,
    path: &Path,
    now_ms: u64,
) -> Result<SaveStats, String> {
    let global = me.global.clone();
    let set = super::settings(&global);
    let mut shards: Vec<&Shard> = std::iter::once(&*me).chain(peers.iter()).collect();
    if shards.len() != me.shards {
        return Err("not every shard is parked".into());
    }
    shards.sort_by_key(|s| s.id);
    let temp = format!("temp-{}.rdb", std::process::id());
    let mut file = RdbFile::create(path, &temp, set.checksum)?;
    file.write(&super::head(&global, now_ms))?;
    for sh in &shards {
        save_shard(sh, &mut file, set.opts, now_ms)?;
    }
    let bytes = file.finish()?;
    let dirty: Vec<(usize, u64)> = shards.iter().map(|s| (s.id, s.dirty)).collect();
    saved(&global, &dirty, now_ms);
    let stats = SaveStats { bytes };
    crate::log::verbose(&format!("The RDB file holds {} bytes", stats.bytes));
    Ok(stats)
}

/// FLUSHALL's save when save points exist (Redis 7.0 saves right after the flush): every
/// shard is empty then, so the file is its head alone (aux fields and the function
/// libraries, which FLUSHALL keeps). `dirty`: every shard's (id, change count) after the flush.
pub fn save_flushed(global: &Global, dirty: &[(usize, u64)], now_ms: u64) -> Result<(), String> {
    let set = super::settings(global);
    let temp = format!("temp-{}.rdb", std::process::id());
    let mut file = RdbFile::create(&set.path, &temp, set.checksum)?;
    file.write(&super::head(global, now_ms))?;
    file.finish()?;
    saved(global, dirty, now_ms);
    Ok(())
}

/// After a good foreground save: the change counter and the save time restart as after
/// Redis' `rdbSave`, and a failed BGSAVE's status is cleared (as Redis does).
fn saved(global: &Global, dirty: &[(usize, u64)], now_ms: u64) {
    for &(id, d) in dirty {
        global.rdb.dirty_by_shard[id].store(d, Ordering::Relaxed);
    }
    let total: u64 = dirty.iter().map(|d| d.1).sum();
    global.rdb.dirty_at_save.store(total, Ordering::Relaxed);
    global.lastsave_unix.store(now_ms / 1000, Ordering::Relaxed);
    global.rdb.last_bgsave_ok.store(true, Ordering::Relaxed);
    crate::commands::persistence::refresh_misconf(global);
    crate::log::notice("DB saved on disk");
}

/// One shard's keys (every database), through the snapshot serializer with nothing racing it.
fn save_shard(sh: &Shard, file: &mut RdbFile, opts: DumpOpts, now_ms: u64) -> Result<(), String> {
    let session = Arc::new(SnapSession::new(1));
    let mut snap = ShardSnap::new(session.clone(), sh.walk_tables(), SnapFormat::Rdb(opts));
    let dbs = sh.dbs.list(&sh.db, sh.databases);
    let far = Instant::now() + Duration::from_secs(24 * 3600);
    loop {
        let done = snap.step(&dbs, now_ms, far);
        let chunks = {
            let mut q = lock(&session.q);
            q.bytes = 0;
            std::mem::take(&mut q.chunks)
        };
        for c in chunks {
            file.write(&c)?;
        }
        if done {
            return Ok(());
        }
    }
}
