//! DEBUG RELOAD, as Redis 7.0 does it: the data set is saved to `dir`/`dbfilename` (every
//! shard parked, `rdb_save::save_parked`), every key and function library is dropped, and the
//! file is loaded back (`load_parked`), so the data set afterwards is exactly what the RDB file
//! holds. The AOF files are left as they are (their journal written out first): they describe
//! the same data set.

use super::load_parked;
use crate::aof::ReloadError;
use crate::shard::{Parked, Shard};

/// The `aof::Reloader` that `server` installs.
///
/// # Safety
/// `all[id]` points at shard `id`; every pointer is the calling shard or a parked one, valid
/// and reached by nobody else for the whole call.
pub unsafe fn reload_for_debug(all: &[*mut Shard], now_ms: u64) -> Result<(), ReloadError> {
    let (&first, _) = all
        .split_first()
        .ok_or_else(|| ReloadError::Save("no shard".into()))?;
    let mut others = all.to_vec();
    others[0] = std::ptr::null_mut();
    // SAFETY: the caller's contract: shard 0 is valid and used by nobody else for the call;
    // it is not among `others` (its entry is null).
    let me = unsafe { &mut *first };
    // SAFETY: the caller's contract: the other entries are distinct live shards nobody else
    // reaches while the view lives, and none of them is `me`.
    let mut peers = unsafe { Parked::new(&others) };
    // The AOF keeps describing the data set: its pending records go out first.
    crate::aof::flush_now(me, false).map_err(ReloadError::Save)?;
    for sh in peers.iter_mut() {
        crate::aof::flush_now(sh, false).map_err(ReloadError::Save)?;
    }
    let path = me
        .global
        .cfg(|c| c.dir.join(c.stored("dbfilename", "dump.rdb")));
    crate::rdb_save::save_parked(me, &mut peers, &path, now_ms).map_err(ReloadError::Save)?;
    me.global.scripts.set_libraries(Default::default());
    me.flush_all_dbs(false);
    for sh in peers.iter_mut() {
        sh.flush_all_dbs(false);
    }
    let loaded = std::fs::File::open(&path)
        .and_then(|f| crate::sys::FileMapping::of(&f))
        .map_err(|e| format!("{}: {e}", path.display()))
        .and_then(|map| load_parked(me, &mut peers, map.bytes(), now_ms));
    match loaded {
        Ok(_) => {
            crate::log::warning("DB reloaded by DEBUG RELOAD");
            Ok(())
        }
        Err(e) => Err(ReloadError::Load(e)),
    }
}
