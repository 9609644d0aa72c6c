//! RENAME, RENAMENX and COPY.

use super::*;

// ---------------------------------------------------------------------------------------------
// RENAME, RENAMENX, COPY
// ---------------------------------------------------------------------------------------------

pub(super) fn rename(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ex, args, false)
}

pub(super) fn renamenx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ex, args, true)
}

/// Moves the entry between keyspaces (the two names may live on different shards), keeping
/// its TTL and last access time.
fn rename_generic(ex: &mut Exec<'_>, args: Args<'_>, nx: bool) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let now = ex.now_ms;
    if !ex.db(src).contains(src, now) {
        return Err(ReplyError::NoSuchKey);
    }
    if src == dst {
        if nx {
            ex.out.int(0);
        } else {
            ex.out.ok();
        }
        return Ok(());
    }
    if nx && ex.db(dst).contains(dst, now) {
        ex.out.int(0);
        return Ok(());
    }
    let entry = ex.db(src).remove(src, now).ok_or(ReplyError::NoSuchKey)?;
    let (at_ms, lru) = (entry.expire_at_ms(), entry.lru());
    ex.db(dst).set(dst, entry.into_value(), at_ms, now);
    if let Some(e) = ex.db(dst).lookup_write(dst, now) {
        e.set_lru(lru);
    }
    ex.notify(notify::GENERIC, "rename_from", src);
    ex.notify(notify::GENERIC, "rename_to", dst);
    ex.dirty(dst, 1);
    ex.journal(src, &[b"DEL", src]);
    ex.journal_state(dst);
    if nx {
        ex.out.int(1);
    } else {
        ex.out.ok();
    }
    Ok(())
}

/// COPY's options: REPLACE, and DB (the destination database; the selected one by default).
fn parse_copy_opts(ex: &mut Exec<'_>, args: Args<'_>) -> Result<(bool, u32), ReplyError> {
    let mut replace = false;
    let mut db = ex.db_index();
    let mut cur = ArgCursor::new(args, 3);
    while !cur.is_done() {
        if cur.flag("REPLACE") {
            replace = true;
        } else if let Some(raw) = cur.opt_value("DB")? {
            db = db_index_arg(ex.shard.databases, raw)?;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok((replace, db))
}

pub(super) fn copy(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (replace, dst_db) = parse_copy_opts(ex, args)?;
    let (src, dst) = (args.get(1), args.get(2));
    if src == dst && dst_db == ex.db_index() {
        return Err(ReplyError::other(
            "ERR source and destination objects are the same",
        ));
    }
    let now = ex.now_ms;
    let Some(e) = ex.db(src).lookup_read(src, now) else {
        ex.out.int(0);
        return Ok(());
    };
    let (value, at_ms) = (e.value().to_value(), e.expire_at_ms());
    let sh = ex.shard_for(dst);
    if !replace && sh.db_at(dst_db).contains(dst, now) {
        ex.out.int(0);
        return Ok(());
    }
    if dst_db != ex.db_index() {
        // The generic write path covers and touches `dst` in the selected database only.
        let sh = ex.shard_for(dst);
        sh.cover_for_write(dst_db, dst, now);
        sh.touch_watched(dst_db, dst);
        sh.blocked.touch(dst_db, dst);
    }
    ex.shard_for(dst).db_at(dst_db).set(dst, value, at_ms, now);
    notify::event_in(ex.shard, notify::GENERIC, "copy_to", dst_db, dst);
    ex.dirty(dst, 1);
    ex.journal_state_in(dst, dst_db);
    ex.out.int(1);
    Ok(())
}
