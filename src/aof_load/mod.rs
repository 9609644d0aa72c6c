//! AOF loading, a driver: setting every shard's AOF up at start (loading what the manifest
//! names, or writing fresh files), and DEBUG RELOAD. Both replay the files' records through
//! the dispatcher (`load`). A single shard's flush and rewrite are `aof`, below.
//! Format: docs/aof.md.

pub mod load;

use crate::aof::{check, foreign, manifest, segment};
use crate::global::Global;
use crate::shard::Shard;
use load::LoadReport;
use manifest::{manifest_name, Manifest};
use std::sync::Arc;

/// Sets every shard's AOF up at start: load what the manifest names (or create fresh files),
/// and leave the shards journaling. With `appendonly no` nothing is read or written.
pub fn boot(global: &Arc<Global>, shards: &mut [Shard]) -> Result<(), String> {
    let (on, dir, prefix, data_dir, dbfilename, dirname) = global.cfg(|c| {
        (
            c.appendonly,
            c.dir.join(&c.appenddirname),
            c.appendfilename.clone(),
            c.dir.clone(),
            c.stored("dbfilename", "dump.rdb"),
            c.appenddirname.clone(),
        )
    });
    for sh in shards.iter_mut() {
        sh.aof = segment::AofShard::new(sh.id, dir.clone(), prefix.clone());
    }
    let mpath = dir.join(manifest_name(&prefix));
    // Redis' rule for its own files, before the AOF directory is created or anything read.
    match foreign::check(&data_dir, &dbfilename, &prefix, on, &dir)? {
        foreign::Found::Nothing => {}
        foreign::Found::Rdb(path) => {
            crate::rdb_load::load_file_at_start(shards, &path, crate::clock::unix_ms())?;
        }
        foreign::Found::Legacy(path) => foreign::upgrade_legacy(&path, &prefix, &dirname, &dir)?,
    }
    if !on {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "Can't create the append-only directory {}: {e}",
            dir.display()
        )
    })?;
    check::finish_relayout(&dir, &prefix, &mpath)?;
    let now = crate::clock::unix_ms();
    let n = shards.len();
    match std::fs::read_to_string(&mpath) {
        Ok(text) => {
            let m = Manifest::parse(&text).map_err(|e| format!("{e} ({})", mpath.display()))?;
            // Nothing is loaded, written or deleted unless the manifest names a whole set.
            check::manifest_against_dir(&dir, &prefix, &mpath, &m)?;
            check::remove_temp_manifests(&dir, &prefix);
            let t0 = std::time::Instant::now();
            shards.iter_mut().for_each(|sh| sh.no_block = true);
            let truncate_torn = load::truncated_allowed(global);
            let report = load::load(&dir, &m, shards, now, truncate_torn)?;
            shards.iter_mut().for_each(|sh| sh.no_block = false);
            crate::log::notice(&format!(
                "DB loaded from append only file: {:.3} seconds ({} commands, {} files)",
                t0.elapsed().as_secs_f64(),
                report.commands,
                report.files
            ));
            *global
                .aof
                .manifest
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = m.clone();
            let same_layout =
                m.shards() == (0..n).collect::<Vec<_>>() && m.shards.unwrap_or(n) == n;
            if same_layout && !m.redis_layout {
                for sh in shards.iter_mut() {
                    let gen = m.files_of(sh.id).iter().map(|f| f.seq).max().unwrap_or(1);
                    sh.aof
                        .open_existing(gen)
                        .map_err(|e| format!("opening the AOF: {e}"))?;
                }
            } else {
                let by = if m.redis_layout {
                    "redis-server".to_string()
                } else {
                    format!("{} shard(s)", m.shards.unwrap_or(m.shards().len()))
                };
                crate::log::notice(&format!(
                    "The AOF was written by {by}; rewriting it for {} shard(s)",
                    shards.len()
                ));
                let mut all: Vec<&mut Shard> = shards.iter_mut().collect();
                write_layout(global, &mut all, &m, now)?;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            check::without_manifest(&dir, &prefix, &mpath)?;
            check::remove_temp_manifests(&dir, &prefix);
            let mut all: Vec<&mut Shard> = shards.iter_mut().collect();
            write_layout(global, &mut all, &Manifest::default(), now)?;
        }
        Err(e) => {
            return Err(format!(
                "Can't read the AOF manifest {}: {e}",
                mpath.display()
            ))
        }
    }
    for sh in shards.iter_mut() {
        sh.dirty = 0;
        for (_, db) in sh.each_db_mut() {
            db.stats = Default::default();
        }
        sh.journal.enabled = true;
        sh.journal.explicit = false;
    }
    Ok(())
}

/// Writes every shard's keys into fresh files and makes them the AOF: at first boot (`old` is
/// empty), when the files were written by another number of shards (a relayout), and for
/// DEBUG RELOAD.
///
/// Two phases, so a crash at any point loses nothing and never leaves a manifest listing only
/// some shards: the new files are first listed in a staging manifest
/// (`<prefix>.relayout.manifest`) and written under a generation above every listed one, while
/// the real manifest and every old file stay untouched; then the real manifest is replaced in
/// one rename, the old files are deleted and the staging manifest last.
/// `check::finish_relayout` completes or undoes an interrupted one at the next start.
fn write_layout(
    global: &Arc<Global>,
    shards: &mut [&mut Shard],
    old: &Manifest,
    now: u64,
) -> Result<(), String> {
    // A rewrite writes generation gen + 1 and deletes its shard's files of `gen`: neither
    // is a generation the old manifest lists or a shard has open.
    let listed = old.files.iter().map(|f| f.seq + 1).max().unwrap_or(0);
    let open = shards.iter().map(|sh| sh.aof.gen + 1).max().unwrap_or(0);
    let first_gen = if old.files.is_empty() && open == 1 {
        0
    } else {
        listed.max(open)
    };
    let dir = global.aof.dir.clone();
    let prefix = global.aof.prefix.clone();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let staging =
        segment::AofGlobal::new(dir.clone(), check::relayout_prefix(&prefix), shards.len());
    {
        let mut planned = staging.manifest.lock().unwrap_or_else(|e| e.into_inner());
        let format = crate::aof::base_format(global);
        for sh in shards.iter_mut() {
            sh.aof.base_format = format;
            planned.replace_shard(sh.id, sh.aof.entries(first_gen + 1));
        }
        planned.shards = Some(shards.len());
        manifest::write_atomically(
            &dir,
            &check::relayout_name(&prefix),
            planned.format().as_bytes(),
        )
        .map_err(|e| format!("staging manifest: {e}"))?;
    }
    for sh in shards.iter_mut() {
        sh.aof.gen = first_gen;
        let head = crate::aof::base_head(sh);
        let dbs = sh.dbs.list(&sh.db, sh.databases);
        sh.aof.rewrite_now(&dbs, now, &staging, &head)?;
    }
    let planned = staging
        .manifest
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    manifest::write_atomically(&dir, &manifest_name(&prefix), planned.format().as_bytes())
        .map_err(|e| format!("manifest: {e}"))?;
    *global
        .aof
        .manifest
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = planned.clone();
    for f in old.files.iter().filter(|f| !planned.files.contains(f)) {
        let _ = std::fs::remove_file(dir.join(&f.name));
    }
    std::fs::remove_file(dir.join(check::relayout_name(&prefix)))
        .map_err(|e| format!("removing the staging manifest: {e}"))?;
    Ok(())
}

/// DEBUG RELOAD: with every shard parked (`all[id]` points at shard `id`), write each shard's
/// base, drop the keyspaces and load them back from the files.
///
/// # Safety
/// Every pointer must be a parked (or the calling) shard, used by nobody else meanwhile.
pub unsafe fn reload_all(all: &[*mut Shard], now: u64) -> Result<LoadReport, String> {
    // SAFETY: the caller guarantees every pointer in `all` is a valid, parked (or the calling)
    // shard that nobody else uses during this call.
    let global = unsafe { (*all[0]).global.clone() };
    let on = global.cfg(|c| c.appendonly);
    // Checked on every shard before any keyspace is touched.
    let rewriting = |p: *mut Shard| {
        // SAFETY: every pointer is a parked shard, as above.
        unsafe { (*p).aof.rewrite.is_some() }
    };
    if all.iter().any(|&p| rewriting(p)) {
        return Err("Background append only file rewriting already in progress".into());
    }
    for &p in all {
        // SAFETY: as above; each shard is borrowed only for this call.
        crate::aof::flush_now(unsafe { &mut *p }, false)?;
    }
    let old = global
        .aof
        .manifest
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    {
        // One manifest rename for every shard's new files, as at start.
        // SAFETY: as above: distinct parked shards, borrowed for this block only.
        let mut shards: Vec<&mut Shard> = all.iter().map(|&p| unsafe { &mut *p }).collect();
        write_layout(&global, &mut shards, &old, now)?;
    }
    // The function libraries come back from shard 0's new base, like the keys.
    global.scripts.set_libraries(Default::default());
    for &p in all {
        // SAFETY: as above; each shard is borrowed only for this iteration.
        let sh = unsafe { &mut *p };
        sh.flush_all_dbs(false);
        sh.journal.enabled = false;
        sh.no_block = true;
    }
    let manifest = global
        .aof
        .manifest
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let truncate_torn = load::truncated_allowed(&global);
    // SAFETY: our own contract is `load_into`'s: every shard is valid and used by nobody else
    // for the call (no reference from the loop above is alive any more).
    let report = unsafe { load::load_into(&global.aof.dir, &manifest, all, now, truncate_torn) }?;
    for &p in all {
        // SAFETY: as at the top: a parked shard, borrowed only for this iteration.
        let sh = unsafe { &mut *p };
        sh.journal.explicit = false;
        sh.no_block = false;
        sh.journal.enabled = on || crate::replication::journal_needed(&global);
        if !on {
            sh.aof.close();
        }
    }
    Ok(report)
}

/// `reload_all` without its report: the `aof::Reloader` that `server` installs for DEBUG
/// RELOAD.
///
/// # Safety
/// As `reload_all`.
pub unsafe fn reload_for_debug(all: &[*mut Shard], now: u64) -> Result<(), String> {
    // SAFETY: our caller's contract is `reload_all`'s.
    unsafe { reload_all(all, now) }.map(|_| ())
}
