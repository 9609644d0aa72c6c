//! Commands across numbered databases: MOVE (a key to another database) and SWAPDB (two
//! databases trade contents). Both work in cluster mode too, as in Valkey 9; Redis 7 refuses
//! them there.

use super::*;

/// A database index argument as Redis reads it (a C int, then checked against `databases`).
pub(crate) fn db_index_arg(ex_databases: u32, raw: &[u8]) -> Result<u32, ReplyError> {
    let v = i64_arg(raw)?;
    if i32::try_from(v).is_err() {
        return Err(ReplyError::NotCInt);
    }
    if v < 0 || v >= i64::from(ex_databases.max(1)) {
        return Err(ReplyError::DbIndexOutOfRange);
    }
    Ok(v as u32)
}

/// MOVE key db: 1 when moved (with its TTL), 0 when the key is missing or the name is taken in
/// the target database.
pub(super) fn move_cmd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let dst = db_index_arg(ex.shard.databases, args.get(2))?;
    let src = ex.db_index();
    if src == dst {
        return Err(ReplyError::other(
            "ERR source and destination objects are the same",
        ));
    }
    let now = ex.now_ms;
    if ex.db(key).lookup_write(key, now).is_none() {
        ex.out.int(0);
        return Ok(());
    }
    let sh = ex.shard_for(key);
    if sh.db_at(dst).lookup_write(key, now).is_some() {
        ex.out.int(0);
        return Ok(());
    }
    sh.cover_for_write(dst, key, now);
    let e = sh.db_at(src).remove(key, now).expect("looked up above");
    let at_ms = e.expire_at_ms();
    sh.db_at(dst).set(key, e.into_value(), at_ms, now);
    sh.touch_watched(dst, key);
    sh.blocked.touch(dst, key);
    notify::event_in(ex.shard, notify::GENERIC, "move_from", src, key);
    notify::event_in(ex.shard, notify::GENERIC, "move_to", dst, key);
    ex.dirty(key, 1);
    ex.out.int(1);
    Ok(())
}

/// SWAPDB index1 index2: every shard swaps the two databases; clients WATCHing keys of either
/// see their EXEC fail, and clients blocked on either get their keys checked again (as Redis).
pub(super) fn swapdb(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let databases = ctx.shard.databases;
    let index = |raw: &[u8], which: &str| -> Result<u32, ReplyError> {
        let bad = || ReplyError::Other(format!("ERR invalid {which} DB index"));
        let v = parse_i64(raw).ok_or_else(bad)?;
        let v = i32::try_from(v).map_err(|_| bad())?;
        if v < 0 || v as u32 >= databases.max(1) {
            return Err(ReplyError::DbIndexOutOfRange);
        }
        Ok(v as u32)
    };
    let a = index(args.get(1), "first")?;
    let b = index(args.get(2), "second")?;
    let now = ctx.now_ms;
    let (sa, sb) = (a.to_string(), b.to_string());
    let mut seen = 0;
    ctx.shard.try_call_all(|sh| {
        // A running rewrite or snapshot copies both databases as they were first.
        sh.cover_db(a, now);
        sh.cover_db(b, now);
        sh.swap_dbs(a, b);
        let cmd_db = sh.journal.selected();
        sh.journal
            .record(&[b"SWAPDB", sa.as_bytes(), sb.as_bytes()]);
        sh.journal.select(cmd_db);
        sh.touch_watched_db(a);
        sh.touch_watched_db(b);
        sh.blocked.touch_db(a);
        sh.blocked.touch_db(b);
        let rec: [&[u8]; 3] = [b"SWAPDB", sa.as_bytes(), sb.as_bytes()];
        crate::replication::stream_once(sh, &mut seen, None, &rec);
    })?;
    ctx.shard.dirty += 1;
    ctx.out.ok();
    Ok(())
}
