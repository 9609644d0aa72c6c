//! One shard's AOF files: the incr file it appends to, and while a rewrite runs, the new base
//! being built slot by slot and the new incr that takes the writes from the rewrite's start.
//! The only AOF file I/O of a running shard (fsyncs are submitted by the event loop).

use crate::aof_store::manifest::{
    file_name, rdb_base_name, write_atomically, FileEntry, FileKind, Manifest,
};
use crate::aof_store::rewrite::{
    serialize_table, serialize_table_rdb, split_table, BaseFormat, DbList,
};
use crate::keyspace::db::Db;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

/// Bytes of serialized keys buffered before they are written to the new base.
const REWRITE_BUF_BYTES: usize = 256 * 1024;

/// Process-wide AOF state: where the files are and the manifest every shard updates.
pub struct AofGlobal {
    pub dir: PathBuf,
    pub prefix: String,
    /// The number of shards: recorded in every manifest written.
    pub shards: usize,
    pub manifest: Mutex<Manifest>,
    /// Incremented by BGREWRITEAOF; each shard rewrites when it sees a new value.
    pub rewrite_requests: std::sync::atomic::AtomicU64,
    /// The AOF being switched on at run time: the shards' first files, committed together.
    pub enabling: Mutex<Enabling>,
}

/// Switching the AOF on at run time (CONFIG SET appendonly yes, or BGREWRITEAOF with the AOF
/// off): each shard writes its first base and incr in the background, but the manifest is
/// replaced once, when every shard's files are durable, so it never lists only some shards.
/// Each shard lists its planned files in the staging manifest before creating them, so the
/// next start deletes the files of a round a crash interrupted (`check::finish_relayout`).
#[derive(Default)]
pub struct Enabling {
    /// The current round; a committed or cancelled round is followed by the next.
    pub round: u64,
    /// The files the shards of this round write (the staging manifest's content).
    pub planned: Manifest,
    /// Per shard: its files of this round are durable; it waits for the commit.
    pub ready: Vec<bool>,
    /// The last round committed.
    pub committed: Option<u64>,
}

impl AofGlobal {
    pub fn new(dir: PathBuf, prefix: String, shards: usize) -> Self {
        AofGlobal {
            dir,
            prefix,
            shards,
            manifest: Mutex::new(Manifest::default()),
            rewrite_requests: Default::default(),
            enabling: Mutex::new(Enabling::default()),
        }
    }

    /// Replaces shard `shard`'s entries and saves the manifest atomically.
    pub fn commit(&self, shard: usize, entries: Vec<FileEntry>) -> std::io::Result<()> {
        let mut m = self.manifest.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = m.clone();
        next.replace_shard(shard, entries);
        next.shards = Some(self.shards);
        let name = crate::aof_store::manifest::manifest_name(&self.prefix);
        write_atomically(&self.dir, &name, next.format().as_bytes())?;
        *m = next;
        Ok(())
    }

    /// A round of switching the AOF on is open and `shard` is not part of it.
    pub fn round_open_without(&self, shard: usize) -> bool {
        let en = self.enabling.lock().unwrap_or_else(|e| e.into_inner());
        !en.planned.files.is_empty() && en.planned.files_of(shard).is_empty()
    }

    /// Shard `shard` joins the open round with `entries`: they are listed in the staging
    /// manifest before any of them is created. Returns the round.
    fn join(&self, shard: usize, entries: Vec<FileEntry>) -> Result<u64, String> {
        let mut en = self.enabling.lock().unwrap_or_else(|e| e.into_inner());
        let mut planned = en.planned.clone();
        planned.replace_shard(shard, entries);
        planned.shards = Some(self.shards);
        let name = crate::aof_store::check::relayout_name(&self.prefix);
        if let Err(e) = write_atomically(&self.dir, &name, planned.format().as_bytes()) {
            // The shards that joined already must not wait for this one: cancel the round.
            en.round += 1;
            en.planned = Manifest::default();
            en.ready.clear();
            return Err(format!("staging manifest: {e}"));
        }
        en.planned = planned;
        en.ready.resize(self.shards, false);
        en.ready[shard] = false;
        Ok(en.round)
    }

    /// Cancels `round` if it is still open (a shard of it failed): every shard of it drops its
    /// files, and switching on starts over.
    fn cancel(&self, round: u64) {
        let mut en = self.enabling.lock().unwrap_or_else(|e| e.into_inner());
        if en.round == round {
            en.round += 1;
            en.planned = Manifest::default();
            en.ready.clear();
        }
    }

    /// Shard `shard`'s files of `round` are durable. The last shard to get there replaces the
    /// manifest (one rename), deletes every data file it does not list, then the staging
    /// manifest. Ok(true): committed (now or before); Ok(false): wait.
    fn ready(&self, shard: usize, round: u64) -> Result<bool, String> {
        let mut en = self.enabling.lock().unwrap_or_else(|e| e.into_inner());
        if en.committed == Some(round) {
            return Ok(true);
        }
        if en.round != round {
            return Err("switching the AOF on was cancelled by another shard".into());
        }
        en.ready[shard] = true;
        if en.ready.iter().any(|r| !r) {
            return Ok(false);
        }
        let planned = en.planned.clone();
        let name = crate::aof_store::manifest::manifest_name(&self.prefix);
        write_atomically(&self.dir, &name, planned.format().as_bytes())
            .map_err(|e| format!("manifest: {e}"))?;
        *self.manifest.lock().unwrap_or_else(|e| e.into_inner()) = planned.clone();
        let listed: Vec<&str> = planned.files.iter().map(|f| f.name.as_str()).collect();
        for (name, _) in crate::aof_store::check::data_files(&self.dir, &self.prefix)? {
            if !listed.contains(&name.as_str()) {
                let _ = std::fs::remove_file(self.dir.join(&name));
            }
        }
        let staging = crate::aof_store::check::relayout_name(&self.prefix);
        let _ = std::fs::remove_file(self.dir.join(staging));
        en.committed = Some(round);
        en.round += 1;
        en.planned = Manifest::default();
        en.ready.clear();
        Ok(true)
    }

    /// Whether `round` was committed (Some(true)), is still open (Some(false)), or was
    /// cancelled (None).
    fn round_state(&self, round: u64) -> Option<bool> {
        let en = self.enabling.lock().unwrap_or_else(|e| e.into_inner());
        if en.committed == Some(round) {
            Some(true)
        } else if en.round == round {
            Some(false)
        } else {
            None
        }
    }
}

/// A rewrite in progress on one shard.
pub struct Rewrite {
    pub gen: u64,
    base_tmp: PathBuf,
    base: File,
    pub base_bytes: u64,
    new_incr: File,
    new_incr_bytes: u64,
    /// Per local slot table: already serialized into the new base.
    done: Vec<bool>,
    done_count: usize,
    next_table: usize,
    buf: Vec<u8>,
    /// The database a reader of the new base is in at its end so far.
    base_db: u32,
    /// The new base's format, and (RDB) the CRC-64 of every byte written to it so far.
    format: BaseFormat,
    crc: u64,
    pub started: Instant,
    /// The AOF is being switched on: there is no old incr to keep writing.
    pub enabling: bool,
    /// Every slot is serialized and the new files' fsyncs were submitted.
    pub finishing: bool,
    pub failed: Option<String>,
    /// Switching the AOF on at run time: the round this rewrite's files belong to
    /// (`AofGlobal::enabling`), committed with every other shard's.
    pub round: Option<u64>,
    /// The files are durable and the base renamed; waiting for the round's commit.
    pub waiting: bool,
}

impl Rewrite {
    pub fn all_done(&self) -> bool {
        self.done_count == self.done.len()
    }
    pub fn base_fd(&self) -> i32 {
        self.base.as_raw_fd()
    }
    pub fn new_incr_fd(&self) -> i32 {
        self.new_incr.as_raw_fd()
    }

    /// Serializes local table `idx` of database `dbi` into the new base if it was not yet.
    pub fn cover_table(&mut self, db: &Db, dbi: u32, idx: usize, now_ms: u64) {
        let v = dbi as usize * db.table_count() + idx;
        if self.done.get(v).copied().unwrap_or(true) {
            return;
        }
        self.done[v] = true;
        self.done_count += 1;
        match self.format {
            BaseFormat::Resp => {
                serialize_table(db, dbi, idx, now_ms, &mut self.base_db, &mut self.buf)
            }
            BaseFormat::Rdb { opts, .. } => {
                let cur = &mut self.base_db;
                serialize_table_rdb(db, dbi, idx, now_ms, cur, &mut self.buf, opts)
            }
        }
        if self.buf.len() >= REWRITE_BUF_BYTES {
            self.flush_buf();
        }
    }

    /// Marks every table of database `dbi` done without serializing (FLUSHDB during a
    /// rewrite: the flush itself is in the new incr).
    pub fn cover_db_empty(&mut self, dbi: u32, tables_per_db: usize) {
        let from = dbi as usize * tables_per_db;
        for d in self.done.iter_mut().skip(from).take(tables_per_db) {
            if !*d {
                *d = true;
                self.done_count += 1;
            }
        }
    }

    /// Marks every table done without serializing (FLUSHALL during a rewrite: their content
    /// is gone, and the flush itself is in the new incr).
    pub fn cover_all_empty(&mut self) {
        for d in self.done.iter_mut() {
            *d = true;
        }
        self.done_count = self.done.len();
    }

    /// Puts records at the front of the new base (before any table): shard 0's libraries.
    pub fn put_head(&mut self, records: &[u8]) {
        assert_eq!(self.done_count, 0, "the head goes before every table");
        self.buf.extend_from_slice(records);
    }

    fn flush_buf(&mut self) {
        if self.buf.is_empty() || self.failed.is_some() {
            self.buf.clear();
            return;
        }
        if matches!(self.format, BaseFormat::Rdb { .. }) {
            self.crc = crate::rdb::crc64::crc64(self.crc, &self.buf);
        }
        match self.base.write_all(&self.buf) {
            Ok(()) => self.base_bytes += self.buf.len() as u64,
            Err(e) => self.failed = Some(format!("writing the new base: {e}")),
        }
        self.buf.clear();
    }

    /// Everything is serialized: the buffered bytes, then (RDB) the EOF opcode and checksum.
    fn finish_base(&mut self) {
        self.flush_buf();
        if let BaseFormat::Rdb { checksum, .. } = self.format {
            self.buf.clear();
            crate::rdb::file::write::put_footer(&mut self.buf, self.crc, checksum);
            self.flush_buf();
        }
    }

    /// The file name the new base gets when it is renamed into place.
    fn base_path(&self, dir: &std::path::Path, prefix: &str, shard: usize) -> PathBuf {
        dir.join(base_name(prefix, shard, self.gen, self.format))
    }
}

/// The name of a base of generation `gen` in `format`.
fn base_name(prefix: &str, shard: usize, gen: u64, format: BaseFormat) -> String {
    match format {
        BaseFormat::Resp => file_name(prefix, shard, gen, FileKind::Base),
        BaseFormat::Rdb { .. } => rdb_base_name(prefix, shard, gen),
    }
}

/// One shard's AOF.
pub struct AofShard {
    pub shard: usize,
    pub dir: PathBuf,
    pub prefix: String,
    pub gen: u64,
    incr: Option<File>,
    pub incr_bytes: u64,
    pub base_bytes: u64,
    /// Bytes were written that no started fsync covers yet.
    pub unsynced: bool,
    pub fsync_inflight: bool,
    /// The incr file an in-flight fsync was submitted for, after the shard stopped writing to
    /// it: kept open until the fsync completes, so its descriptor is neither closed under the
    /// ring (EBADF, taken for a write error) nor reused by another file.
    pub retired: Option<File>,
    pub last_fsync_ms: u64,
    /// The last write failed (full disk, I/O error): writes are refused with -MISCONF.
    pub write_error: Option<String>,
    pub rewrite: Option<Rewrite>,
    pub rewrites: u64,
    pub last_rewrite_ok: bool,
    pub last_rewrite_secs: i64,
    /// The last BGREWRITEAOF request this shard acted on.
    pub seen_request: u64,
    /// The format of the next base written (`aof-use-rdb-preamble`), set by whoever starts a
    /// new generation before it asks for `entries`.
    pub base_format: BaseFormat,
}

/// The name of a base while a rewrite builds it.
pub fn temp_base_name(shard: usize, gen: u64) -> String {
    format!("temp-rewrite-s{shard}-{gen}.aof")
}

fn open_append(path: &PathBuf) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o644)
        .open(path)
}

impl AofShard {
    pub fn new(shard: usize, dir: PathBuf, prefix: String) -> Self {
        AofShard {
            shard,
            dir,
            prefix,
            gen: 0,
            base_format: BaseFormat::Resp,
            incr: None,
            incr_bytes: 0,
            base_bytes: 0,
            unsynced: false,
            fsync_inflight: false,
            retired: None,
            last_fsync_ms: 0,
            write_error: None,
            rewrite: None,
            rewrites: 0,
            last_rewrite_ok: true,
            last_rewrite_secs: -1,
            seen_request: 0,
        }
    }

    /// True while an incr file is open (the AOF is on for this shard).
    pub fn active(&self) -> bool {
        self.incr.is_some()
    }

    pub fn incr_fd(&self) -> Option<i32> {
        self.incr.as_ref().map(|f| f.as_raw_fd())
    }

    fn path(&self, gen: u64, kind: FileKind) -> PathBuf {
        self.dir
            .join(file_name(&self.prefix, self.shard, gen, kind))
    }

    /// Manifest entries of generation `gen`.
    /// (Its base in `base_format`.)
    pub fn entries(&self, gen: u64) -> Vec<FileEntry> {
        [FileKind::Base, FileKind::Incr]
            .into_iter()
            .map(|kind| FileEntry {
                name: match kind {
                    FileKind::Base => base_name(&self.prefix, self.shard, gen, self.base_format),
                    FileKind::Incr => file_name(&self.prefix, self.shard, gen, kind),
                },
                seq: gen,
                kind,
                shard: self.shard,
            })
            .collect()
    }

    /// Deletes generation `gen`'s base, whichever its format.
    fn remove_base(&self, gen: u64) {
        let _ = std::fs::remove_file(self.path(gen, FileKind::Base));
        let _ = std::fs::remove_file(self.dir.join(rdb_base_name(&self.prefix, self.shard, gen)));
    }

    /// Continues appending to generation `gen`'s incr file (after a load).
    pub fn open_existing(&mut self, gen: u64) -> std::io::Result<()> {
        let incr = open_append(&self.path(gen, FileKind::Incr))?;
        self.incr_bytes = incr.metadata()?.len();
        self.base_bytes = std::fs::metadata(self.path(gen, FileKind::Base))
            .or_else(|_| {
                std::fs::metadata(self.dir.join(rdb_base_name(&self.prefix, self.shard, gen)))
            })
            .map(|m| m.len())
            .unwrap_or(0);
        self.incr = Some(incr);
        self.gen = gen;
        Ok(())
    }

    /// Closes the files (CONFIG SET appendonly no). Any rewrite is abandoned.
    pub fn close(&mut self) {
        self.retire_incr();
        self.rewrite = None;
        self.unsynced = false;
    }

    /// Stops writing to the incr file (kept open while an fsync of it is in flight).
    fn retire_incr(&mut self) {
        if let Some(old) = self.incr.take() {
            if self.fsync_inflight {
                self.retired = Some(old);
            }
        }
    }

    /// Appends `data` to the incr file (and to the new incr during a rewrite). On failure the
    /// file is truncated back so no partial record stays, and the error is returned.
    pub fn write(&mut self, data: &[u8]) -> Result<(), String> {
        if let Some(f) = self.incr.as_mut() {
            if let Err(e) = f.write_all(data) {
                // ftruncate back to the last good size.
                let _ = f.set_len(self.incr_bytes);
                let msg = e.to_string();
                self.write_error = Some(msg.clone());
                return Err(msg);
            }
            self.incr_bytes += data.len() as u64;
            self.unsynced = true;
        }
        if let Some(rw) = self.rewrite.as_mut() {
            if rw.failed.is_none() {
                match rw.new_incr.write_all(data) {
                    Ok(()) => rw.new_incr_bytes += data.len() as u64,
                    Err(e) => rw.failed = Some(format!("writing the new incr file: {e}")),
                }
            }
        }
        self.write_error = None;
        Ok(())
    }

    /// Starts a rewrite into generation gen+1. `enabling`: there is no current incr (the AOF
    /// is being switched on, or BGREWRITEAOF with the AOF off).
    pub fn start_rewrite(&mut self, tables: usize, enabling: bool) -> std::io::Result<()> {
        let gen = self.gen + 1;
        let base_tmp = self.dir.join(temp_base_name(self.shard, gen));
        let base = File::create(&base_tmp)?;
        let new_incr = File::create(self.path(gen, FileKind::Incr))?;
        self.rewrite = Some(Rewrite {
            gen,
            base_tmp,
            base,
            base_bytes: 0,
            new_incr,
            new_incr_bytes: 0,
            done: vec![false; tables],
            done_count: 0,
            next_table: 0,
            buf: Vec::new(),
            base_db: match self.base_format {
                BaseFormat::Resp => 0,
                BaseFormat::Rdb { .. } => u32::MAX,
            },
            format: self.base_format,
            crc: 0,
            started: Instant::now(),
            enabling,
            finishing: false,
            failed: None,
            round: None,
            waiting: false,
        });
        Ok(())
    }

    /// Serializes tables in order (database by database) until `deadline`; returns true once
    /// every table is done.
    pub fn rewrite_step(&mut self, dbs: &DbList<'_>, now_ms: u64, deadline: Instant) -> bool {
        let Some(rw) = self.rewrite.as_mut() else {
            return false;
        };
        let per_db = dbs.first().copied().flatten().map_or(1, Db::table_count);
        while rw.next_table < rw.done.len() {
            let v = rw.next_table;
            rw.next_table += 1;
            let (dbi, idx) = split_table(v, per_db);
            match dbs.get(dbi as usize).copied().flatten() {
                Some(db) => rw.cover_table(db, dbi, idx, now_ms),
                None if !rw.done[v] => {
                    rw.done[v] = true;
                    rw.done_count += 1;
                }
                None => {}
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        rw.all_done()
    }

    /// Every table is serialized: write what is buffered. The caller fsyncs the base and the
    /// new incr, then calls `commit_rewrite`.
    pub fn finish_rewrite_files(&mut self) {
        if let Some(rw) = self.rewrite.as_mut() {
            rw.finish_base();
            rw.finishing = true;
        }
    }

    /// Switches to the new generation: base renamed into place, new incr made durable, the
    /// manifest replaced, the old files deleted.
    pub fn commit_rewrite(&mut self, global: &AofGlobal) -> Result<(), String> {
        let Some(rw) = self.rewrite.take() else {
            return Ok(());
        };
        let result = self.commit_inner(&rw, global);
        self.rewrites += 1;
        self.last_rewrite_secs = rw.started.elapsed().as_secs() as i64;
        self.last_rewrite_ok = result.is_ok();
        if result.is_err() {
            let _ = std::fs::remove_file(&rw.base_tmp);
            let _ = std::fs::remove_file(self.path(rw.gen, FileKind::Incr));
        }
        result
    }

    fn commit_inner(&mut self, rw: &Rewrite, global: &AofGlobal) -> Result<(), String> {
        if let Some(e) = &rw.failed {
            return Err(e.clone());
        }
        rw.new_incr
            .sync_data()
            .map_err(|e| format!("fsync of the new incr: {e}"))?;
        std::fs::rename(
            &rw.base_tmp,
            rw.base_path(&self.dir, &self.prefix, self.shard),
        )
        .map_err(|e| format!("renaming the new base: {e}"))?;
        let mut entries = self.entries(rw.gen);
        entries[0].name = base_name(&self.prefix, self.shard, rw.gen, rw.format);
        global
            .commit(self.shard, entries)
            .map_err(|e| format!("manifest: {e}"))?;
        let old = self.gen;
        if old > 0 {
            self.remove_base(old);
            let _ = std::fs::remove_file(self.path(old, FileKind::Incr));
        }
        let incr = open_append(&self.path(rw.gen, FileKind::Incr)).map_err(|e| e.to_string())?;
        self.retire_incr();
        self.incr = Some(incr);
        self.gen = rw.gen;
        self.incr_bytes = rw.new_incr_bytes;
        self.base_bytes = rw.base_bytes;
        self.unsynced = false;
        Ok(())
    }

    /// Abandons a rewrite (its files are deleted). A rewrite of a round of switching the AOF
    /// on cancels the round; if the round was committed already, its files are in the manifest
    /// and the shard switches to them instead.
    pub fn abort_rewrite(&mut self, why: &str, global: &AofGlobal) {
        let Some(round) = self.rewrite.as_ref().map(|rw| rw.round) else {
            return;
        };
        if let Some(r) = round {
            if global.round_state(r) == Some(true) {
                if let Err(e) = self.switch_round() {
                    crate::log::warning(&format!("AOF of shard {}: {e}", self.shard));
                }
                return;
            }
            global.cancel(r);
        }
        if let Some(rw) = self.rewrite.take() {
            let _ = std::fs::remove_file(&rw.base_tmp);
            let _ = std::fs::remove_file(self.path(rw.gen, FileKind::Incr));
            if rw.round.is_some() {
                // Renamed into place when the shard became ready; listed in no manifest.
                self.remove_base(rw.gen);
            }
            crate::log::warning(&format!(
                "AOF rewrite of shard {} failed: {why}",
                self.shard
            ));
            self.last_rewrite_ok = false;
        }
    }

    /// Starts switching the AOF on at run time: a generation above every data file of this
    /// shard in the directory (an old manifest's, say), listed in the round's staging manifest before its files are created.
    pub fn start_enabling(&mut self, tables: usize, global: &AofGlobal) -> Result<(), String> {
        let top = crate::aof_store::check::data_files(&self.dir, &self.prefix)?
            .iter()
            .filter(|(_, shard)| *shard == self.shard)
            .filter_map(|(n, _)| crate::aof_store::check::parse_file_name(&self.prefix, n))
            .map(|(_, seq, _)| seq)
            .max()
            .unwrap_or(0);
        self.gen = self.gen.max(top);
        let round = global.join(self.shard, self.entries(self.gen + 1))?;
        if let Err(e) = self.start_rewrite(tables, true) {
            global.cancel(round);
            return Err(e.to_string());
        }
        if let Some(rw) = self.rewrite.as_mut() {
            rw.round = Some(round);
        }
        Ok(())
    }

    /// A round's rewrite whose files were fsynced: make the new incr durable, rename the base
    /// into place and report ready. Ok(true): the round is committed and the shard now writes
    /// to its new files; Ok(false): other shards are not ready yet (`poll_round` later).
    pub fn round_ready(&mut self, global: &AofGlobal) -> Result<bool, String> {
        let Some(rw) = self.rewrite.as_ref() else {
            return Ok(false);
        };
        let Some(round) = rw.round else {
            return Ok(false);
        };
        let prepared = match &rw.failed {
            Some(e) => Err(e.clone()),
            None => rw
                .new_incr
                .sync_data()
                .map_err(|e| format!("fsync of the new incr: {e}"))
                .and_then(|()| {
                    std::fs::rename(
                        &rw.base_tmp,
                        rw.base_path(&self.dir, &self.prefix, self.shard),
                    )
                    .map_err(|e| format!("renaming the new base: {e}"))
                }),
        };
        match prepared.and_then(|()| global.ready(self.shard, round)) {
            Ok(true) => self.switch_round().map(|()| true),
            Ok(false) => {
                if let Some(rw) = self.rewrite.as_mut() {
                    rw.waiting = true;
                }
                Ok(false)
            }
            Err(e) => {
                self.abort_rewrite(&e, global);
                Err(e)
            }
        }
    }

    /// A shard waiting for its round: switch once it is committed, drop the files if it was
    /// cancelled. Ok(true) when the shard switched.
    pub fn poll_round(&mut self, global: &AofGlobal) -> Result<bool, String> {
        let Some(round) = self
            .rewrite
            .as_ref()
            .filter(|rw| rw.waiting)
            .and_then(|rw| rw.round)
        else {
            return Ok(false);
        };
        match global.round_state(round) {
            Some(true) => self.switch_round().map(|()| true),
            Some(false) => Ok(false),
            None => {
                let why = "switching the AOF on was cancelled by another shard";
                self.abort_rewrite(why, global);
                Err(why.into())
            }
        }
    }

    /// The round is committed: append to its incr file from now on.
    fn switch_round(&mut self) -> Result<(), String> {
        let Some(rw) = self.rewrite.take() else {
            return Ok(());
        };
        self.rewrites += 1;
        self.last_rewrite_secs = rw.started.elapsed().as_secs() as i64;
        let incr = open_append(&self.path(rw.gen, FileKind::Incr));
        self.last_rewrite_ok = incr.is_ok();
        self.retire_incr();
        self.incr = Some(incr.map_err(|e| format!("opening the new incr file: {e}"))?);
        self.gen = rw.gen;
        self.incr_bytes = rw.new_incr_bytes;
        self.base_bytes = rw.base_bytes;
        // Writes made while waiting for the other shards are not fsynced yet.
        self.unsynced = true;
        Ok(())
    }

    /// A synchronous full rewrite (used at start-up when the shard layout changed).
    pub fn rewrite_now(
        &mut self,
        dbs: &DbList<'_>,
        now_ms: u64,
        global: &AofGlobal,
        head: &[u8],
    ) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("creating {}: {e}", self.dir.display()))?;
        let per_db = dbs.first().copied().flatten().map_or(1, Db::table_count);
        self.start_rewrite(per_db * dbs.len().max(1), true)
            .map_err(|e| e.to_string())?;
        if let Some(rw) = self.rewrite.as_mut() {
            rw.put_head(head);
        }
        let far = Instant::now() + std::time::Duration::from_secs(3600 * 24);
        self.rewrite_step(dbs, now_ms, far);
        self.finish_rewrite_files();
        if let Some(rw) = self.rewrite.as_ref() {
            rw.base
                .sync_data()
                .map_err(|e| format!("fsync of the new base: {e}"))?;
        }
        self.commit_rewrite(global)
    }

    /// Blocking write and fdatasync (used by a shard that wrote into a parked peer's journal
    /// under `appendfsync always`).
    pub fn sync_blocking(&mut self) -> Result<(), String> {
        if let Some(f) = self.incr.as_ref() {
            f.sync_data().map_err(|e| e.to_string())?;
            self.unsynced = false;
        }
        Ok(())
    }
}
