//! List edits in place: LSET, LINSERT, LREM, LTRIM.

use super::*;

// ---------------------------------------------------------------------------------------------
// Edits: LSET, LINSERT, LREM, LTRIM
// ---------------------------------------------------------------------------------------------

/// The key and its type are checked before the index, as in Redis.
pub(super) fn lset(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let list = list_mut(db, key, now)?.ok_or(ReplyError::NoSuchKey)?;
        let index = i64_arg(args.get(2))?;
        let pos = list.resolve(index).ok_or(ReplyError::OutOfRange)?;
        list.set(pos, args.get(3));
        out.ok();
        Ok(())
    })?;
    ex.notify(notify::LIST, "lset", key);
    ex.dirty(key, 1);
    Ok(())
}

pub(super) fn linsert(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let w = args.get(2);
    let after = if w.eq_ignore_ascii_case(b"after") {
        true
    } else if w.eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(ReplyError::Syntax);
    };
    let (key, now) = (args.get(1), ex.now_ms);
    let inserted = ex.with_db(key, |db, out| {
        let Some(list) = list_mut(db, key, now)? else {
            out.int(0);
            return Ok(false);
        };
        let Some(pos) = list.find(args.get(3)) else {
            out.int(-1);
            return Ok(false);
        };
        list.insert(pos + after as usize, args.get(4));
        out.int(list.len() as i64);
        Ok(true)
    })?;
    if inserted {
        ex.notify(notify::LIST, "linsert", key);
        ex.dirty(key, 1);
    }
    Ok(())
}

pub(super) fn lrem(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let count = i64_arg(args.get(2))?;
    let (key, now) = (args.get(1), ex.now_ms);
    let removed = ex.with_db(key, |db, out| {
        let Some(list) = list_mut(db, key, now)? else {
            out.int(0);
            return Ok(0);
        };
        let n = list.remove_matching(args.get(3), count);
        if list.is_empty() {
            db.remove(key, now);
        }
        out.int(n as i64);
        Ok(n)
    })?;
    if removed > 0 {
        ex.notify(notify::LIST, "lrem", key);
        ex.notify_if_gone(key);
        ex.dirty(key, removed as u64);
    }
    Ok(())
}

pub(super) fn ltrim(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (start, stop) = (i64_arg(args.get(2))?, i64_arg(args.get(3))?);
    let (key, now) = (args.get(1), ex.now_ms);
    let (existed, removed) = ex.with_db(key, |db, out| {
        let n = match list_mut(db, key, now)? {
            None => None,
            Some(list) => {
                let n = list.trim(start, stop);
                if list.is_empty() {
                    db.remove(key, now);
                }
                Some(n)
            }
        };
        out.ok();
        Ok((n.is_some(), n.unwrap_or(0)))
    })?;
    // Redis raises `ltrim` whenever the list exists, trimmed or not.
    if existed {
        ex.notify(notify::LIST, "ltrim", key);
        ex.notify_if_gone(key);
    }
    if removed > 0 {
        ex.dirty(key, removed as u64);
    }
    Ok(())
}
