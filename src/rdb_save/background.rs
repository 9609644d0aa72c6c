//! BGSAVE: the snapshot starts on every shard inside one parked section (one instant across
//! shards), each shard then serializes its tables a few per loop turn (a write to a table not
//! serialized yet serializes it first), and one writer thread drains the bounded queue into
//! the temp file, closes it with the checksum and renames it over `dbfilename`. Also shard 0's
//! cron duties: save points, a scheduled BGSAVE, and the save the main thread asks for at
//! SIGTERM/SIGINT.

use super::file::RdbFile;
use crate::global::rdb::{ExitSave, Running};
use crate::global::repl::lock;
use crate::global::Global;
use crate::shard::snapshot::{ShardSnap, SnapFormat, SnapSession};
use crate::shard::Shard;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A failed BGSAVE is retried by the save points only this many seconds later (Redis'
/// CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY_S: u64 = 5;

/// Starts a BGSAVE now (the caller checked that none runs). Err: the text of the reason.
pub fn start(sh: &mut Shard, now_ms: u64) -> Result<(), String> {
    let global = sh.global.clone();
    let set = super::settings(&global);
    let session = Arc::new(SnapSession::new(sh.shards));
    {
        let mut running = global.rdb.running();
        if running.is_some() {
            return Err("Background save already in progress".into());
        }
        *running = Some(Running {
            started: Instant::now(),
            session: session.clone(),
            dirty_at_start: 0,
        });
    }
    global.rdb.saves.fetch_add(1, Ordering::Relaxed);
    global
        .rdb
        .last_bgsave_try_s
        .store(now_ms / 1000, Ordering::Relaxed);
    let mut head = Vec::new();
    let mut dirty = 0u64;
    // Not while holding `running`: a shard parked here may be waiting for that lock.
    let started = sh.try_call_all(|sh| {
        if sh.id == 0 {
            head = super::head(&sh.global, now_ms);
        }
        dirty += sh.dirty;
        let snap = ShardSnap::new(session.clone(), sh.walk_tables(), SnapFormat::Rdb(set.opts));
        sh.repl.snaps.push(snap.for_file());
    });
    if started.is_err() {
        *global.rdb.running() = None;
        return Err("a shard is busy running a script".into());
    }
    if let Some(r) = global.rdb.running().as_mut() {
        r.dirty_at_start = dirty;
    }
    let g = global.clone();
    let spawned = std::thread::Builder::new()
        .name("slotd-bgsave".into())
        .spawn(move || writer(g, session, head, set));
    if let Err(e) = spawned {
        if let Some(r) = global.rdb.running().take() {
            r.session.abort();
        }
        return Err(format!("Can't save in background: {e}"));
    }
    Ok(())
}

/// The writer thread: the file, then the outcome recorded for INFO, LASTSAVE and MISCONF.
fn writer(global: Arc<Global>, session: Arc<SnapSession>, head: Vec<u8>, set: super::Settings) {
    let tid = crate::sys::thread_id();
    crate::log::notice(&format!("Background saving started by pid {tid}"));
    let mut peak = 0usize;
    let r = write_file(&global, &session, &head, &set, tid, &mut peak);
    let running = global.rdb.running().take();
    let secs = running
        .as_ref()
        .map_or(0, |r| r.started.elapsed().as_secs()) as i64;
    let rdb = &global.rdb;
    rdb.last_bgsave_time_s.store(secs, Ordering::Relaxed);
    rdb.last_peak_bytes.store(peak as u64, Ordering::Relaxed);
    match r {
        Ok(()) => {
            let dirty = running.map_or(0, |r| r.dirty_at_start);
            rdb.dirty_at_save.store(dirty, Ordering::Relaxed);
            global
                .lastsave_unix
                .store(crate::clock::unix_ms() / 1000, Ordering::Relaxed);
            rdb.last_bgsave_ok.store(true, Ordering::Relaxed);
            crate::log::notice("DB saved on disk");
            crate::log::notice("Background saving terminated with success");
        }
        Err(None) => {
            // Stopped on purpose (FLUSHALL, shutdown): the status stays as it was.
            crate::log::warning("Background saving terminated by signal 10");
        }
        Err(Some(e)) => {
            rdb.last_bgsave_ok.store(false, Ordering::Relaxed);
            crate::log::warning(&e);
            crate::log::warning("Background saving error");
        }
    }
    crate::commands::persistence::refresh_misconf(&global);
}

/// Err(None): the snapshot was aborted; Err(Some(text)): the file could not be written.
fn write_file(
    global: &Global,
    session: &SnapSession,
    head: &[u8],
    set: &super::Settings,
    tid: i32,
    peak: &mut usize,
) -> Result<(), Option<String>> {
    let temp = format!("temp-{tid}.rdb");
    let mut file = match RdbFile::create(&set.path, &temp, set.checksum) {
        Ok(f) => f,
        Err(e) => {
            session.abort();
            return Err(Some(e));
        }
    };
    let fail = |e: String| {
        session.abort();
        Some(e)
    };
    file.write(head).map_err(fail)?;
    loop {
        let (chunks, left) = {
            let mut q = lock(&session.q);
            while q.chunks.is_empty() && q.shards_left > 0 && !q.aborted {
                q = session
                    .cv
                    .wait_timeout(q, Duration::from_millis(200))
                    .map(|r| r.0)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            if q.aborted {
                return Err(None);
            }
            *peak = (*peak).max(q.bytes);
            q.bytes = 0;
            (std::mem::take(&mut q.chunks), q.shards_left)
        };
        // Room again: shards waiting for it may be asleep.
        if let Some(mesh) = global.repl.mesh.get() {
            for id in 0..mesh.inboxes.len() {
                mesh.wake(id);
            }
        }
        for c in chunks {
            file.write(&c).map_err(fail)?;
            if set.delay_us > 0 {
                std::thread::sleep(Duration::from_micros(set.delay_us));
            }
        }
        if left == 0 && lock(&session.q).chunks.is_empty() {
            break;
        }
    }
    file.finish().map(drop).map_err(Some)
}

/// Every shard's cron: publishes its change counter. Shard 0 also runs the save the main
/// thread waits for at SIGTERM/SIGINT, a scheduled BGSAVE once no AOF rewrite runs, and the
/// save points (Redis' serverCron rules, failed saves retried 5 s apart).
pub fn cron(sh: &mut Shard, now_ms: u64) {
    let global = sh.global.clone();
    global.rdb.dirty_by_shard[sh.id].store(sh.dirty, Ordering::Relaxed);
    if sh.id != 0 {
        return;
    }
    if *lock(&global.rdb.exit_save) == ExitSave::Wanted {
        let r = exit_save(sh, now_ms);
        *lock(&global.rdb.exit_save) = ExitSave::Done(r);
        return;
    }
    if global.rdb.in_progress() {
        return;
    }
    let now_s = now_ms / 1000;
    let rdb = &global.rdb;
    let retry_ok = now_s.saturating_sub(rdb.last_bgsave_try_s.load(Ordering::Relaxed))
        > BGSAVE_RETRY_DELAY_S
        || rdb.last_bgsave_ok.load(Ordering::Relaxed);
    if !retry_ok {
        return;
    }
    let scheduled = rdb.scheduled.load(Ordering::Relaxed);
    let due = if scheduled {
        None
    } else {
        due_point(&global, now_s)
    };
    if !scheduled && due.is_none() {
        return;
    }
    match crate::commands::persistence::aof_rewriting(sh) {
        Ok(false) => {}
        _ => return,
    }
    if let Some((changes, secs)) = due {
        crate::log::notice(&format!("{changes} changes in {secs} seconds. Saving..."));
    }
    rdb.scheduled.store(false, Ordering::Relaxed);
    if let Err(e) = start(sh, now_ms) {
        crate::log::warning(&format!("Can't save in background: {e}"));
    }
}

/// The first save point reached: (changes, seconds) as configured.
fn due_point(global: &Global, now_s: u64) -> Option<(u64, u64)> {
    let changes = global.rdb.published_changes();
    let since_s = now_s.saturating_sub(global.lastsave_unix.load(Ordering::Relaxed));
    let points = global.cfg(|c| c.stored("save", crate::config::DEFAULT_SAVE));
    let nums: Vec<u64> = points
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    nums.chunks_exact(2)
        .map(|p| (p[1], p[0]))
        .find(|&(want, secs)| changes >= want && since_s > secs)
        .map(|(_, secs)| (changes, secs))
}

/// The save at SIGTERM/SIGINT: a running BGSAVE is stopped first, as Redis kills its child.
fn exit_save(sh: &mut Shard, now_ms: u64) -> Result<(), String> {
    if crate::commands::persistence::kill_bgsave(&sh.global) {
        crate::log::warning("There is a child saving an .rdb. Killing it!");
    }
    crate::log::notice("Saving the final RDB snapshot before exiting.");
    crate::commands::persistence::save_all(sh, now_ms)
}

/// Called by the main thread at SIGTERM/SIGINT when save points exist: asks shard 0 for the
/// final save and waits for its outcome.
pub fn save_before_exit(global: &Global) -> Result<(), String> {
    *lock(&global.rdb.exit_save) = ExitSave::Wanted;
    loop {
        {
            let mut st = lock(&global.rdb.exit_save);
            if matches!(*st, ExitSave::Done(_)) {
                if let ExitSave::Done(r) = std::mem::take(&mut *st) {
                    return r;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// At exit: a BGSAVE still running is stopped and its temp file removed (bounded wait).
pub fn stop_at_exit(global: &Global) {
    if !crate::commands::persistence::kill_bgsave(global) {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while global.rdb.in_progress() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}
