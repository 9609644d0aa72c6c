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

/// COPY's options: REPLACE, and DB (only database 0 exists in slotd).
fn parse_copy_opts(ex: &mut Exec<'_>, args: Args<'_>) -> Result<bool, ReplyError> {
    let mut replace = false;
    let mut cur = ArgCursor::new(args, 3);
    while !cur.is_done() {
        if cur.flag("REPLACE") {
            replace = true;
        } else if let Some(db) = cur.opt_value("DB")? {
            check_copy_db(ex, db)?;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok(replace)
}

/// Redis reads the index as a C int, then checks it against `databases`; a valid index other
/// than 0 is refused in cluster mode, and is out of range in standalone slotd (one database).
fn check_copy_db(ex: &mut Exec<'_>, raw: &[u8]) -> Result<(), ReplyError> {
    let db = i64_arg(raw)?;
    if i32::try_from(db).is_err() {
        return Err(ReplyError::NotCInt);
    }
    let databases = ex.shard.global.cfg(|c| c.databases) as i64;
    if db < 0 || db >= databases.max(1) {
        return Err(ReplyError::DbIndexOutOfRange);
    }
    if db == 0 {
        return Ok(());
    }
    if ex.shard.slot_map.cluster_enabled {
        return Err(ReplyError::other(
            "ERR Copying to another database is not allowed in cluster mode",
        ));
    }
    Err(ReplyError::DbIndexOutOfRange)
}

pub(super) fn copy(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let replace = parse_copy_opts(ex, args)?;
    let (src, dst) = (args.get(1), args.get(2));
    if src == dst {
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
    if !replace && ex.db(dst).contains(dst, now) {
        ex.out.int(0);
        return Ok(());
    }
    ex.db(dst).set(dst, value, at_ms, now);
    ex.dirty(dst, 1);
    ex.journal_state(dst);
    ex.out.int(1);
    Ok(())
}
