//! Persistence commands: SAVE and BGSAVE write `dir`/`dbfilename` as an RDB file (the
//! `rdb_save` driver does the writing, reached through the hooks it installs at boot);
//! BGREWRITEAOF compacts the append-only files of every shard (docs/aof.md). Also the MISCONF
//! rule of a failed BGSAVE (`refresh_misconf`), kept in one flag the write guard loads.

use super::spec::{opt, pure, since};
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, ConnCtx};
use crate::global::Global;
use crate::resp::{Args, ReplyError};
use crate::shard::{Parked, Shard};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// Redis' refusal of writes after a failed BGSAVE (stop-writes-on-bgsave-error).
pub const MISCONF_RDB_TEXT: &str = "MISCONF Redis is configured to save RDB snapshots, but it's \
     currently unable to persist to disk. Commands that may modify the data set are disabled, \
     because this instance is configured to report errors during writes if RDB snapshotting \
     fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about \
     the RDB error.";

const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::conn(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        bgrewriteaof,
    )
    .group("server", 0)
    .since("1.0.0")
    .complexity("O(1)")
    .summary("Compacts the append-only files of every shard in the background"),
    CommandSpec::conn(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        save,
    )
    .group("server", 0)
    .since("1.0.0")
    .complexity("O(N) where N is the total number of keys in all databases")
    .summary("Synchronously save the dataset to disk"),
    CommandSpec::conn("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, bgsave)
        .group("server", 0)
        .since("1.0.0")
        .complexity("O(1)")
        .summary("Asynchronously save the dataset to disk")
        .args(BGSAVE_ARGS)
        .history(&[("3.2.2", "Added the `SCHEDULE` option.")]),
];

const BGSAVE_ARGS: &[ArgDoc] = &[since("3.2.2", opt(pure("schedule", "SCHEDULE")))];

/// The saving driver's entry points (installed by `rdb_save::install` at boot).
pub struct Saver {
    /// Saves every shard (this one and the parked peers) into the path, atomically.
    pub save_parked: fn(&mut Shard, &mut Parked<'_>, &Path, u64) -> Result<(), String>,
    /// Starts a BGSAVE (none runs); Err is the reason it could not start.
    pub bgsave: fn(&mut Shard, u64) -> Result<(), String>,
    /// Writes the file of an empty data set (after FLUSHALL) given every shard's (id, change
    /// count).
    pub save_flushed: SaveFlushed,
}

/// `Saver::save_flushed`: (global, every shard's (id, change count), now in ms).
pub type SaveFlushed = fn(&Global, &[(usize, u64)], u64) -> Result<(), String>;

static SAVER: OnceLock<Saver> = OnceLock::new();

/// Installs the saver (once, at boot).
pub fn install_saver(s: Saver) {
    let _ = SAVER.set(s);
}

fn saver() -> Result<&'static Saver, String> {
    SAVER
        .get()
        .ok_or_else(|| "no RDB saver installed".to_string())
}

/// A foreground save of every shard into `dir`/`dbfilename`, from a shard outside any parked
/// section (a command, the cron): the other shards are parked for the whole save.
pub fn save_all(sh: &mut Shard, now_ms: u64) -> Result<(), String> {
    let save = saver()?.save_parked;
    let path = sh
        .global
        .cfg(|c| c.dir.join(c.stored("dbfilename", "dump.rdb")));
    if sh.peers.is_none() {
        return save(sh, &mut Parked::none(), &path, now_ms);
    }
    let ids: Vec<usize> = (0..sh.shards).collect();
    let mut r = Err("the save did not run".to_string());
    sh.with_parked(&ids, &mut |me, mut peers| {
        r = save(me, &mut peers, &path, now_ms);
    });
    r
}

/// After FLUSHALL (which stopped a running BGSAVE): with save points, the now empty data set
/// is saved at once, as Redis 7.0 does. `dirty`: every shard's (id, change count).
pub fn save_after_flushall(global: &Global, dirty: &[(usize, u64)], now_ms: u64) {
    if !global.cfg(has_save_points) {
        return;
    }
    let r = saver().and_then(|s| (s.save_flushed)(global, dirty, now_ms));
    if let Err(e) = r {
        crate::log::warning(&format!("Failed saving the DB after FLUSHALL: {e}"));
    }
}

/// Stops a running BGSAVE (its writer removes the temp file); the status stays as it was.
pub fn kill_bgsave(global: &Global) -> bool {
    match global.rdb.running().as_ref() {
        Some(r) => {
            r.session.abort();
            true
        }
        None => false,
    }
}

/// Recomputes MISCONF: writes are refused while the last BGSAVE failed, save points exist and
/// stop-writes-on-bgsave-error is yes (after a save ends and after CONFIG SET).
pub fn refresh_misconf(global: &Global) {
    let (stop, points) = global.cfg(|c| {
        (
            c.stored_bool("stop-writes-on-bgsave-error", true),
            has_save_points(c),
        )
    });
    let failed = !global.rdb.last_bgsave_ok.load(Ordering::Relaxed);
    global
        .rdb
        .writes_refused
        .store(stop && points && failed, Ordering::Relaxed);
}

/// `save` holds at least one point.
pub fn has_save_points(c: &crate::config::Config) -> bool {
    !c.stored("save", crate::config::DEFAULT_SAVE)
        .trim()
        .is_empty()
}

fn save(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let global = ctx.shard.global.clone();
    if global.rdb.in_progress() {
        return Err(ReplyError::other(BGSAVE_IN_PROGRESS));
    }
    // Every shard parked: a script past busy-reply-threshold on one of them answers -BUSY.
    if let Some(e) = crate::commands::busy::refusal_any(&global) {
        return Err(e);
    }
    global.rdb.saves.fetch_add(1, Ordering::Relaxed);
    match save_all(ctx.shard, ctx.now_ms) {
        Ok(()) => {
            ctx.out.ok();
            Ok(())
        }
        Err(e) => {
            crate::log::warning(&e);
            Err(ReplyError::other("ERR"))
        }
    }
}

fn bgsave(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if args.get(1).eq_ignore_ascii_case(b"schedule") => true,
        _ => return Err(ReplyError::Syntax),
    };
    let global = ctx.shard.global.clone();
    if global.rdb.in_progress() {
        return Err(ReplyError::other(BGSAVE_IN_PROGRESS));
    }
    // Inside EXEC (`no_block`: BGSAVE cannot run from a script) Redis 7.0 schedules it, so
    // the file holds the whole transaction.
    if ctx.shard.no_block || aof_rewriting(ctx.shard)? {
        if !schedule && !ctx.shard.no_block {
            return Err(ReplyError::other(
                "ERR Another child process is active (AOF?): can't BGSAVE right now. Use \
                 BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
            ));
        }
        global.rdb.scheduled.store(true, Ordering::Relaxed);
        ctx.out.simple("Background saving scheduled");
        return Ok(());
    }
    let start = saver()
        .map_err(|e| ReplyError::Other(format!("ERR {e}")))?
        .bgsave;
    match start(ctx.shard, ctx.now_ms) {
        Ok(()) => {
            ctx.out.simple("Background saving started");
            Ok(())
        }
        Err(e) if global.rdb.in_progress() => {
            crate::log::warning(&e);
            Err(ReplyError::other(BGSAVE_IN_PROGRESS))
        }
        Err(e) => {
            crate::log::warning(&e);
            Err(ReplyError::other("ERR"))
        }
    }
}

/// An AOF rewrite runs on some shard (Redis' "another child process is active").
pub fn aof_rewriting(sh: &mut Shard) -> Result<bool, ReplyError> {
    Ok(sh
        .try_call_all(|sh| sh.aof.rewrite.is_some())?
        .into_iter()
        .any(|b| b))
}

/// Starts the rewrite on every shard now (each then advances it a slot at a time).
fn bgrewriteaof(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    if aof_rewriting(ctx.shard)? {
        return Err(ReplyError::other(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    let results = ctx.shard.call_all(|sh| {
        let enabling = !sh.aof.active();
        crate::aof::start_rewrite(sh, enabling)
    });
    if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
        return Err(ReplyError::Other(format!("ERR {e}")));
    }
    ctx.out
        .simple("Background append only file rewriting started");
    Ok(())
}
