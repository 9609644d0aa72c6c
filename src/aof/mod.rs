//! Append-only persistence of one shard: flushing its journal, starting its rewrite. The files
//! themselves (journal, segments, manifest, checks, rewrite serialization) are `aof_store`,
//! below the shard, re-exported here; loading (boot, DEBUG RELOAD) is the `aof_load` driver.
//! Format: docs/aof.md.

pub use crate::aof_store::{check, foreign, journal, manifest, rewrite, segment};

use crate::aof_store::rewrite::BaseFormat;
use crate::shard::parked::Parked;
use crate::shard::Shard;
use std::sync::OnceLock;

/// Writes a shard's journal to its files now (blocking). With `sync`, fdatasync as well.
pub fn flush_now(sh: &mut Shard, sync: bool) -> Result<(), String> {
    // The stream gets the records before the journal is taken.
    crate::replication::feed_journal(sh);
    if !sh.journal.is_empty() {
        let data = sh.journal.take();
        if let Err(e) = sh.aof.write(&data) {
            sh.journal.unwrite(data);
            return Err(e);
        }
        sh.journal.give_back(data);
    }
    if sync {
        sh.aof.sync_blocking()?;
    }
    Ok(())
}

/// Starts a rewrite of one shard's AOF (BGREWRITEAOF, the automatic rewrite, or switching the
/// AOF on). `enabling`: the shard has no incr file yet.
pub fn start_rewrite(sh: &mut Shard, enabling: bool) -> Result<(), String> {
    std::fs::create_dir_all(&sh.aof.dir)
        .map_err(|e| format!("Can't create the AOF directory: {e}"))?;
    let tables = sh.walk_tables();
    sh.aof.base_format = base_format(&sh.global);
    let started = if enabling {
        // Committed together with every other shard's first files (`segment::Enabling`).
        let global = sh.global.clone();
        sh.aof.start_enabling(tables, &global.aof)
    } else {
        sh.aof
            .start_rewrite(tables, false)
            .map_err(|e| e.to_string())
    };
    match started {
        Ok(()) => {
            let head = base_head(sh);
            if let Some(rw) = sh.aof.rewrite.as_mut() {
                rw.put_head(&head);
            }
            sh.journal.enabled = true;
            // The records not written yet go to the new incr file too, which starts in db 0.
            sh.journal.new_file();
            crate::log::notice(&format!(
                "Background append only file rewriting started (shard {})",
                sh.id
            ));
            Ok(())
        }
        Err(e) => {
            sh.aof.last_rewrite_ok = false;
            Err(format!("Can't start an AOF rewrite: {e}"))
        }
    }
}

/// What a new base of this shard starts with: on shard 0, the function libraries (which are
/// node-wide and journaled by shard 0 only); an RDB base starts with its header on every
/// shard.
pub fn base_head(sh: &Shard) -> Vec<u8> {
    let mut head = Vec::new();
    let libs = (sh.id == 0).then(|| sh.global.scripts.libraries());
    match sh.aof.base_format {
        BaseFormat::Resp => {
            if let Some(libs) = libs {
                crate::aof_store::rewrite::serialize_libraries(&libs, &mut head);
            }
        }
        BaseFormat::Rdb { .. } => {
            crate::aof_store::rewrite::rdb_base_head(libs.as_deref(), &mut head)
        }
    }
    head
}

/// The format of a new base now: an RDB file with `aof-use-rdb-preamble yes` (Redis'
/// default; `rdbcompression` and `rdbchecksum` shape its bytes), RESP commands with `no`.
pub fn base_format(global: &crate::global::Global) -> BaseFormat {
    global.cfg(|c| {
        if !c.stored_bool("aof-use-rdb-preamble", true) {
            return BaseFormat::Resp;
        }
        let d = crate::rdb::DumpOpts::default();
        BaseFormat::Rdb {
            opts: crate::rdb::DumpOpts {
                compress: c.stored_bool("rdbcompression", d.compress),
                list_fill: c.stored_i64("list-max-listpack-size", d.list_fill),
            },
            checksum: c.stored_bool("rdbchecksum", true),
        }
    })
}

/// DEBUG RELOAD's work on every parked shard (write each base, drop the keyspaces, load them
/// back): the `aof_load` driver's, installed by `server` at boot (loading replays through the
/// dispatcher, above this module).
///
/// # Safety
/// As `reload_all`.
pub type Reloader = unsafe fn(&[*mut Shard], u64) -> Result<(), String>;

static RELOADER: OnceLock<Reloader> = OnceLock::new();

/// Installs the reloader (once, at boot).
pub fn install_reloader(reload: Reloader) {
    let _ = RELOADER.set(reload);
}

/// DEBUG RELOAD on this shard and every other one, parked in `peers` (none when the process
/// has one shard): write each shard's base, drop the keyspaces and load them back from the
/// files, through the installed reloader. Refuses when a shard is missing from the section.
pub fn reload_parked(me: &mut Shard, peers: &mut Parked<'_>, now: u64) -> Result<(), String> {
    let Some(reload) = RELOADER.get() else {
        return Err("no AOF loader".into());
    };
    let mut all: Vec<*mut Shard> = vec![std::ptr::null_mut(); me.shards];
    for sh in peers.iter_mut() {
        let id = sh.id;
        all[id] = sh;
    }
    let id = me.id;
    all[id] = me;
    if all.iter().any(|p| p.is_null()) {
        return Err("not every shard is parked".into());
    }
    // SAFETY: the reloader's contract: each entry comes from a unique borrow held for this
    // whole call (`me`, and the parked peers through `peers`, which `Parked` guarantees nothing
    // else reaches), the entries are distinct shards (indexed by their own ids), and neither
    // borrow is used again until the reloader returns.
    unsafe { reload(&all, now) }
}
