//! Loading the AOF at start: one thread per shard of the layout that wrote the files, each
//! replaying its shard's base and incr files in order. A record runs on the shard that owns its
//! keys now (locks taken in shard order), so a restart with another `server-threads` loads
//! every key. A torn tail of a shard's last file is truncated as with Redis'
//! `aof-load-truncated yes` (only once every file loaded), or refused with `no`; any other
//! damage stops start-up with the file and the offset.

use crate::aof::manifest::Manifest;
use crate::dispatch::replay::{self, Record, Replay};
use crate::resp::{Args, OwnedArgs, ParseOutcome, Parser};
use crate::shard::{Parked, Shard};
use crate::topology::shard_of;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bytes read from a file at a time.
const READ_CHUNK_BYTES: usize = 1024 * 1024;

/// A shard handed to loader threads. The shards are not running yet; each one is only ever
/// touched under its mutex.
struct Locked(Mutex<*mut Shard>);
// SAFETY: the pointer is only dereferenced while its mutex is held, so sharing a `Locked`
// between loader threads never lets two of them reach the shard at once.
unsafe impl Sync for Locked {}
// SAFETY: a `Shard` may move between threads (each shard thread receives its own); the mutex
// serialises every access through the pointer.
unsafe impl Send for Locked {}

#[derive(Default, Debug)]
pub struct LoadReport {
    pub files: usize,
    pub commands: u64,
    pub bytes: u64,
    pub truncated: Vec<String>,
    /// Torn tails found: (file, length of its whole records), truncated after the load.
    torn: Vec<(PathBuf, u64)>,
}

/// `aof-load-truncated` (Redis' default is yes).
pub fn truncated_allowed(global: &crate::global::Global) -> bool {
    global.cfg(|c| c.stored_bool("aof-load-truncated", true))
}

/// Replays every file of `manifest` into `shards` (the new layout).
pub fn load(
    dir: &Path,
    manifest: &Manifest,
    shards: &mut [Shard],
    now_ms: u64,
    truncate_torn: bool,
) -> Result<LoadReport, String> {
    let ptrs: Vec<*mut Shard> = shards.iter_mut().map(|s| s as *mut Shard).collect();
    // SAFETY: the pointers come from a unique borrow that outlives the call.
    unsafe { load_into(dir, manifest, &ptrs, now_ms, truncate_torn) }
}

/// Like `load`, into shards given by pointer (every shard, indexed by id).
///
/// # Safety
/// Each pointer must be valid and used by nobody else for the duration of the call (the
/// shards are not running, or are parked).
pub unsafe fn load_into(
    dir: &Path,
    manifest: &Manifest,
    shards: &[*mut Shard],
    now_ms: u64,
    truncate_torn: bool,
) -> Result<LoadReport, String> {
    let old_shards = manifest.shards();
    let old_count = old_shards.iter().max().map(|m| m + 1).unwrap_or(0);
    let locks: Vec<Locked> = shards.iter().map(|&s| Locked(Mutex::new(s))).collect();
    let results: Vec<Result<LoadReport, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = old_shards
            .iter()
            .map(|&old| {
                let files: Vec<PathBuf> = manifest
                    .files_of(old)
                    .iter()
                    .map(|f| dir.join(&f.name))
                    .collect();
                let locks = &locks;
                scope
                    .spawn(move || load_group(old, old_count, &files, locks, now_ms, truncate_torn))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("loader panicked".into())))
            .collect()
    });
    let mut total = LoadReport::default();
    for r in results {
        let r = r?;
        total.files += r.files;
        total.commands += r.commands;
        total.bytes += r.bytes;
        total.torn.extend(r.torn);
    }
    // Every file loaded: only now may a torn tail be cut off.
    for (path, len) in std::mem::take(&mut total.torn) {
        truncate_tail(&path, len)?;
        total.truncated.push(path.display().to_string());
    }
    Ok(total)
}

/// Cuts a torn last record off (`aof-load-truncated yes`), with Redis' warnings.
fn truncate_tail(path: &Path, len: u64) -> Result<(), String> {
    let shown = path.display();
    crate::log::warning(&format!(
        "!!! Truncating the AOF {shown} at offset {len} !!!"
    ));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("opening {shown} to truncate it: {e}"))?;
    file.set_len(len)
        .map_err(|e| format!("truncating {shown}: {e}"))?;
    file.sync_all()
        .map_err(|e| format!("fsync of {shown}: {e}"))?;
    crate::log::warning(&format!(
        "AOF {shown} loaded anyway because aof-load-truncated is enabled"
    ));
    Ok(())
}

/// Replays the files of one old shard, in order.
fn load_group(
    old: usize,
    old_count: usize,
    files: &[PathBuf],
    locks: &[Locked],
    now_ms: u64,
    truncate_torn: bool,
) -> Result<LoadReport, String> {
    let mut report = LoadReport::default();
    for (i, path) in files.iter().enumerate() {
        // A torn tail is a crash during a write: possible only in the file being appended.
        let tail = match (i + 1 == files.len(), truncate_torn) {
            (false, _) => TornTail::NotLast,
            (true, false) => TornTail::Refuse,
            (true, true) => TornTail::Truncate,
        };
        let t0 = std::time::Instant::now();
        load_file(path, tail, old, old_count, locks, now_ms, &mut report)?;
        report.files += 1;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        crate::log::notice(&format!(
            "DB loaded from {} file {name}: {:.3} seconds",
            if name.contains(".incr.") {
                "incr"
            } else {
                "base"
            },
            t0.elapsed().as_secs_f64()
        ));
    }
    Ok(report)
}

/// What a torn last record of a file means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TornTail {
    /// Damage: only the file being appended can end in the middle of a record.
    NotLast,
    /// `aof-load-truncated no`.
    Refuse,
    /// `aof-load-truncated yes`: cut off once everything loaded.
    Truncate,
}

fn load_file(
    path: &Path,
    tail: TornTail,
    old: usize,
    old_count: usize,
    locks: &[Locked],
    now_ms: u64,
    report: &mut LoadReport,
) -> Result<(), String> {
    let shown = path.display();
    let mut f = std::fs::File::open(path)
        .map_err(|e| format!("Fatal error: can't open the append only file {shown}: {e}"))?;
    // file offset of buf[0]: after the RDB part of a base or preamble, if any
    let mut base_off: u64 = load_rdb_head(path, &mut f, locks, now_ms)?.unwrap_or(0);
    f.seek(SeekFrom::Start(base_off))
        .map_err(|e| format!("Error reading the AOF file {shown}: {e}"))?;
    let mut parser = Parser::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; READ_CHUNK_BYTES];
    let mut sink = Vec::new();
    // Every file starts in database 0; SELECT records change it.
    let mut db = 0u32;
    // Inside MULTI: where it started, and the records held until its EXEC.
    let mut multi: Option<(u64, Vec<OwnedArgs>)> = None;
    loop {
        let n = f
            .read(&mut chunk)
            .map_err(|e| format!("Error reading the AOF file {shown}: {e}"))?;
        buf.extend_from_slice(&chunk[..n]);
        let mut off = 0usize;
        loop {
            match parser.parse(&buf[off..], u64::MAX) {
                ParseOutcome::Command { consumed } => {
                    let args = Args::new(&buf[off..], parser.ranges());
                    if !args.is_empty() {
                        let at = base_off + off as u64;
                        let bad = |e: String| {
                            format!(
                                "Bad command in the append only file {shown} at offset {at}: {e}"
                            )
                        };
                        let name = args.get(0);
                        if args.len() == 1 && name.eq_ignore_ascii_case(b"MULTI") {
                            if multi.is_some() {
                                return Err(bad("MULTI calls can not be nested".into()));
                            }
                            multi = Some((at, Vec::new()));
                        } else if args.len() == 1 && name.eq_ignore_ascii_case(b"EXEC") {
                            // A script's or a transaction's writes, applied once whole.
                            let (_, held) = multi
                                .take()
                                .ok_or_else(|| bad("EXEC without MULTI".into()))?;
                            for rec in &held {
                                let r = replay(
                                    rec.args(),
                                    old,
                                    old_count,
                                    locks,
                                    now_ms,
                                    &mut db,
                                    &mut sink,
                                );
                                r.map_err(bad)?;
                            }
                        } else if let Some((_, held)) = multi.as_mut() {
                            held.push(args.to_owned());
                        } else {
                            let r = replay(args, old, old_count, locks, now_ms, &mut db, &mut sink);
                            r.map_err(bad)?;
                        }
                        report.commands += 1;
                    }
                    off += consumed;
                }
                ParseOutcome::Incomplete { .. } => break,
                ParseOutcome::Error(e) => {
                    let at = base_off + off as u64;
                    return Err(format!(
                        "Bad file format reading the append only file {shown} at offset {at}: {e}"
                    ));
                }
            }
        }
        buf.drain(..off);
        base_off += off as u64;
        if n == 0 {
            break;
        }
    }
    report.bytes += base_off;
    // A file ending inside MULTI (a crash while a block was written) ends before it, as
    // Redis reverts an incomplete MULTI/EXEC.
    let mut whole_up_to = base_off;
    if let Some((at, _)) = multi {
        crate::log::warning(&format!(
            "Revert incomplete MULTI/EXEC transaction in AOF file {shown}"
        ));
        whole_up_to = at;
    }
    if !buf.is_empty() || whole_up_to != base_off {
        if tail == TornTail::NotLast {
            return Err(format!(
                "Fatal error: the truncated file is not the last file: {shown} (a torn record \
                 at offset {base_off})"
            ));
        }
        if tail == TornTail::Refuse {
            return Err(format!(
                "Unexpected end of file reading the append only file {shown}. You can: 1) Make \
                 a backup of your AOF file, then use ./redis-check-aof --fix \
                 <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' \
                 configuration option to yes and restart the server."
            ));
        }
        crate::log::warning(&format!(
            "!!! Warning: short read while loading the AOF file {shown}!!!"
        ));
        report.torn.push((path.to_path_buf(), whole_up_to));
    }
    Ok(())
}

/// The RDB part a file starts with (`REDIS`...): a base written with `aof-use-rdb-preamble
/// yes` (slotd's or Redis 7's) or a Redis 6.2 AOF's preamble. Its keys go to their owners
/// (locks taken one key at a time), with Redis' log lines; returns where the RESP tail starts.
fn load_rdb_head(
    path: &Path,
    f: &mut std::fs::File,
    locks: &[Locked],
    now_ms: u64,
) -> Result<Option<u64>, String> {
    let shown = path.display();
    let mut sig = [0u8; 5];
    let mut got = 0;
    while got < sig.len() {
        match f.read(&mut sig[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("Error reading the AOF file {shown}: {e}")),
        }
    }
    if got < sig.len() || &sig != b"REDIS" {
        return Ok(None);
    }
    // Redis' words: a 6.2 AOF (the old file name, no `.base.`) has a preamble.
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let old_style = !name.contains(".base.");
    crate::log::notice(if old_style {
        "Reading RDB preamble from AOF file..."
    } else {
        "Reading RDB base file on AOF loading..."
    });
    let map = crate::sys::FileMapping::of(f)
        .map_err(|e| format!("Error reading the AOF file {shown}: {e}"))?;
    let mut place = |id: usize, g: &mut dyn FnMut(&mut Shard)| -> Result<(), String> {
        let lock = locks
            .get(id)
            .ok_or("a key of a shard that does not exist")?;
        let guard = lock.0.lock().unwrap_or_else(|e| e.into_inner());
        let p: *mut Shard = *guard;
        // SAFETY: the shard's mutex is held (`guard`) for as long as the shard is used.
        g(unsafe { &mut *p });
        Ok(())
    };
    let opts = crate::rdb_load::LoadOpts { aof_preamble: true };
    let stats =
        crate::rdb_load::load_placed(map.bytes(), now_ms, opts, &mut place).map_err(|e| {
            crate::log::warning(&format!(
                "Error reading the {} {shown}, AOF loading aborted",
                if old_style {
                    "RDB preamble of the AOF file"
                } else {
                    "RDB base file"
                }
            ));
            format!("Bad RDB data in the append only file {shown}: {e}")
        })?;
    if old_style {
        crate::log::notice("Reading the remaining AOF tail...");
    }
    Ok(Some(stats.end_offset as u64))
}

/// Runs one record on the shard(s) owning its keys, with their locks held.
fn replay(
    args: Args<'_>,
    old: usize,
    old_count: usize,
    locks: &[Locked],
    now_ms: u64,
    db: &mut u32,
    sink: &mut Vec<u8>,
) -> Result<(), String> {
    let n = locks.len();
    let spec = match replay::classify(args).map_err(|e| e.text())? {
        Record::Keyed(spec) => spec,
        Record::Flush => {
            let all = args.get(0).eq_ignore_ascii_case(b"flushall");
            flush_group(old, old_count, locks, (!all).then_some(*db));
            return Ok(());
        }
        Record::Other(spec) if spec.name == "select" => {
            *db = replay::select_arg(args, databases(locks))?;
            return Ok(());
        }
        Record::Other(spec) if spec.name == "swapdb" => {
            return swap_group(args, old, old_count, locks);
        }
        Record::Other(spec) if crate::commands::functions::is_change(spec) => {
            // Libraries are node-wide: shard 0 holds their changes, as when they were made.
            let g = locks[0].0.lock().unwrap_or_else(|e| e.into_inner());
            let p: *mut Shard = *g;
            // SAFETY: shard 0's mutex is held (`g`) for as long as the shard is used.
            crate::commands::functions::replay(unsafe { &mut *p }, args);
            return Ok(());
        }
        Record::Other(spec) => {
            return Err(format!("unexpected command '{}' in the AOF", spec.name))
        }
    };
    let ids = replay::record_shards(spec, args, n).map_err(|e| e.text())?;
    let first = *ids
        .first()
        .ok_or_else(|| "a keyed command without keys".to_string())?;
    let guards: Vec<_> = ids
        .iter()
        .map(|&i| locks[i].0.lock().unwrap_or_else(|e| e.into_inner()))
        .collect();
    let mut ptrs = vec![std::ptr::null_mut(); n];
    for (g, &i) in guards.iter().zip(&ids) {
        if i != first {
            ptrs[i] = **g;
        }
    }
    let me_ptr: *mut Shard = *guards[0];
    // SAFETY: every shard the command touches is locked by this thread for the call.
    let me = unsafe { &mut *me_ptr };
    me.sel = *db;
    sink.clear();
    // SAFETY: the peers in `ptrs` are distinct shards locked by this thread (held in `guards`)
    // for the whole life of the view, and none of them is `me` (its entry is left null above).
    let mut peers = unsafe { Parked::new(&ptrs) };
    replay::run_record(me, &mut peers, spec, args, sink, now_ms, Replay::Load);
    Ok(())
}

/// `databases` of the shards being loaded.
fn databases(locks: &[Locked]) -> u32 {
    let g = locks[0].0.lock().unwrap_or_else(|e| e.into_inner());
    let p: *mut Shard = *g;
    // SAFETY: the shard's mutex is held (`g`) while the field is read.
    unsafe { (*p).databases }
}

/// FLUSHALL (`db` None) or FLUSHDB of database `db` in the files of old shard `old`: drop the
/// keys of the slots that shard owned.
fn flush_group(old: usize, old_count: usize, locks: &[Locked], db: Option<u32>) {
    let n = locks.len();
    for (i, l) in locks.iter().enumerate() {
        let g = l.0.lock().unwrap_or_else(|e| e.into_inner());
        let p: *mut Shard = *g;
        // SAFETY: the shard's mutex is held (`g`) for as long as `sh` is used.
        let sh = unsafe { &mut *p };
        if n == old_count && i == old {
            match db {
                None => {
                    sh.flush_all_dbs(false);
                }
                Some(d) => {
                    sh.db_at(d).flush();
                }
            }
            continue;
        }
        for slot in (old..crate::constants::SLOT_COUNT).step_by(old_count.max(1)) {
            if shard_of(slot as u16, n) == i {
                match db {
                    None => {
                        sh.flush_slot_all(slot as u16);
                    }
                    Some(d) => {
                        sh.db_at(d).flush_slot(slot as u16);
                    }
                }
            }
        }
    }
}

/// SWAPDB in the files of old shard `old`: the two databases trade the keys of the slots
/// that shard owned (the whole databases when the layout is the running one).
fn swap_group(
    args: Args<'_>,
    old: usize,
    old_count: usize,
    locks: &[Locked],
) -> Result<(), String> {
    let dbs = databases(locks);
    let a = replay::select_arg(args, dbs)?;
    let b = replay::db_arg(args.get(2), dbs)?;
    let n = locks.len();
    for (i, l) in locks.iter().enumerate() {
        let g = l.0.lock().unwrap_or_else(|e| e.into_inner());
        let p: *mut Shard = *g;
        // SAFETY: the shard's mutex is held (`g`) for as long as `sh` is used.
        let sh = unsafe { &mut *p };
        if n == old_count {
            if i == old {
                sh.swap_dbs(a, b);
            }
            continue;
        }
        for slot in (old..crate::constants::SLOT_COUNT).step_by(old_count.max(1)) {
            if shard_of(slot as u16, n) == i {
                sh.swap_slot(a, b, slot as u16);
            }
        }
    }
    Ok(())
}
